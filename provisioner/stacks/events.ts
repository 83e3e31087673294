/**
 * Engine events → short progress lines for job records. Only the resource type and logical name
 * (from the URN) and counts are used: never diagnostic text or CLI output, which may carry values.
 */
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation";
import type { ProgressEvent } from "../ports";

const PRESENT: Partial<Record<OpType, string>> = {
  create: "creating",
  update: "updating",
  delete: "deleting",
  replace: "replacing",
  "create-replacement": "creating replacement for",
  "delete-replaced": "deleting replaced",
  read: "reading",
  refresh: "refreshing",
  import: "importing",
  "discard": "forgetting",
};

const PAST: Partial<Record<OpType, string>> = {
  create: "created",
  update: "updated",
  delete: "deleted",
  replace: "replaced",
  "create-replacement": "created replacement for",
  "delete-replaced": "deleted replaced",
  import: "imported",
  "discard": "forgot",
};

/** A preview's steps are what an up would do: "would update …", never "updating …". */
const WOULD: Partial<Record<OpType, string>> = {
  create: "would create",
  update: "would update",
  delete: "would delete",
  replace: "would replace",
  "create-replacement": "would create replacement for",
  "delete-replaced": "would delete replaced",
  import: "would import",
  "discard": "would forget",
};

/** Counts of a preview's summary: "1 to update". */
const TO: Partial<Record<OpType, string>> = {
  create: "to create",
  update: "to update",
  delete: "to delete",
  replace: "to replace",
  "create-replacement": "to create as replacement",
  "delete-replaced": "to delete as replaced",
  import: "to import",
  "discard": "to forget",
};

/** `urn:pulumi:stack::project::type$type::name` → "type name". */
function subject(urn: string, type: string): string {
  const name = urn.split("::").pop() ?? urn;
  return `${type} ${name}`;
}

function summary(changes: Record<string, number>, preview: boolean): string {
  const parts = Object.entries(changes)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op === "same" ? "unchanged" : ((preview ? TO : PAST)[op as OpType] ?? op)}`);
  return parts.length ? parts.join(", ") : "no changes";
}

/**
 * One line for an event, or undefined when the event is not worth showing (unchanged resources, output).
 * `preview`: the events of a preview, whose steps only say what an up would do ("would update …",
 * "finished preview: 1 to update"); the refresh steps it runs first are real reads ("refreshing …").
 */
export function progressLine(event: EngineEvent, preview = false): string | undefined {
  if (event.resourcePreEvent) {
    const { op, urn, type } = event.resourcePreEvent.metadata;
    if (type === "pulumi:pulumi:Stack") return undefined;
    const verb = preview && op !== "refresh" && op !== "read" ? WOULD[op] : PRESENT[op];
    return verb ? `${verb} ${subject(urn, type)}` : undefined;
  }
  // A preview's step outputs repeat its steps (nothing was done).
  if (event.resOutputsEvent && preview) return undefined;
  if (event.resOutputsEvent) {
    const { op, urn, type } = event.resOutputsEvent.metadata;
    if (type === "pulumi:pulumi:Stack") return undefined;
    const verb = PAST[op];
    return verb ? `${verb} ${subject(urn, type)}` : undefined;
  }
  if (event.resOpFailedEvent) {
    const { urn, type } = event.resOpFailedEvent.metadata;
    return `failed ${subject(urn, type)}`;
  }
  if (event.diagnosticEvent?.severity === "error" && event.diagnosticEvent.urn) {
    const urn = event.diagnosticEvent.urn;
    return `error reported for ${subject(urn, urn.split("::")[2]?.split("$").pop() ?? "resource")}`;
  }
  if (event.summaryEvent) {
    return `finished${preview ? " preview" : ""}: ${summary(event.summaryEvent.resourceChanges as Record<string, number>, preview)}`;
  }
  // No line for `cancelEvent`: the engine sends it as the last event of EVERY stream, a successful
  // run's too (a real 3.248 `up` ended its progress with "cancelled"). An aborted run is reported
  // by the job's error ("… was cancelled (timeout or shutdown)"), not by progress.
  return undefined;
}

/** Wraps a progress callback as an `onEvent` handler; a throwing callback never breaks the operation. */
export function eventForwarder(onProgress?: (event: ProgressEvent) => void, preview = false): ((event: EngineEvent) => void) | undefined {
  if (!onProgress) return undefined;
  return (event) => {
    const message = progressLine(event, preview);
    if (!message) return;
    try {
      onProgress({ at: new Date((event.timestamp || Date.now() / 1000) * 1000).toISOString(), message });
    } catch {
      // Progress is advisory; the operation must not fail because a listener did.
    }
  };
}
