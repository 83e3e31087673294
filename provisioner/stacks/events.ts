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

/** `urn:pulumi:stack::project::type$type::name` → "type name". */
function subject(urn: string, type: string): string {
  const name = urn.split("::").pop() ?? urn;
  return `${type} ${name}`;
}

function summary(changes: Record<string, number>): string {
  const parts = Object.entries(changes)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op === "same" ? "unchanged" : (PAST[op as OpType] ?? op)}`);
  return parts.length ? parts.join(", ") : "no changes";
}

/** One line for an event, or undefined when the event is not worth showing (unchanged resources, output). */
export function progressLine(event: EngineEvent): string | undefined {
  if (event.resourcePreEvent) {
    const { op, urn, type } = event.resourcePreEvent.metadata;
    if (type === "pulumi:pulumi:Stack") return undefined;
    const verb = PRESENT[op];
    return verb ? `${verb} ${subject(urn, type)}` : undefined;
  }
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
  if (event.summaryEvent) return `finished: ${summary(event.summaryEvent.resourceChanges as Record<string, number>)}`;
  // No line for `cancelEvent`: the engine sends it as the last event of EVERY stream, a successful
  // run's too (a real 3.248 `up` ended its progress with "cancelled"). An aborted run is reported
  // by the job's error ("… was cancelled (timeout or shutdown)"), not by progress.
  return undefined;
}

/** Wraps a progress callback as an `onEvent` handler; a throwing callback never breaks the operation. */
export function eventForwarder(onProgress?: (event: ProgressEvent) => void): ((event: EngineEvent) => void) | undefined {
  if (!onProgress) return undefined;
  return (event) => {
    const message = progressLine(event);
    if (!message) return;
    try {
      onProgress({ at: new Date((event.timestamp || Date.now() / 1000) * 1000).toISOString(), message });
    } catch {
      // Progress is advisory; the operation must not fail because a listener did.
    }
  };
}
