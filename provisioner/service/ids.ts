/**
 * Instance id allocation for provisions without `instance_id` (spec provisioner.md §6.1).
 *
 * Upstream took `nextval('instance_id_seq')`. Here the Pulumi backend is the truth and Supabase a
 * mirror that may be off or behind, so the next id is one above the highest id seen in ANY source:
 * tenant stacks, mirror rows (tenants still on the Helm system exist only there), the in-memory
 * registry, and a high-water mark. The choice and the new mark are made under one mutex, so two
 * requests never get the same id. An id is never reused, even if its stack was never created (like
 * a sequence, gaps are fine): the durable record of the job that got it carries it, and at boot
 * the mark is the larger of `instance-ids.json` and every provision job record's id (not an uninstall's:
 * its id is whatever the caller named, and may never have existed). The file itself is
 * therefore written without fsync; it only has to outlive the job records' retention window. It is
 * written behind, off the event loop: an allocation does not wait for it, and a burst of
 * allocations shares one write of the newest mark. Before the file has it, an id is known only to
 * this process until the request's durable writes name it (its outbox entry, which the boot's
 * mirror listing includes, and its job record), and nobody was answered about it yet; so an id
 * anyone was told about is still never handed out twice.
 *
 * The external sources are read once, not per request: `stack ls` spawns the Pulumi CLI (hundreds
 * of milliseconds) and a full `instances` select grows with the fleet, and neither belongs in the
 * < 50 ms acceptance path. That is safe because this provisioner is the only creator of tenant
 * stacks (one replica, spec §5) and every id it hands out lands in the registry and the mark. The
 * boot-time registry load usually is that one read; if it was incomplete (backend or Supabase
 * down at boot), the first allocation reads the sources itself and fails with a 500 rather than
 * guess, so an existing tenant's id is never handed out again.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonDurable } from "../atomic-file";
import type { InstanceMirror, TenantStacks } from "../ports";
import { Failure, shortReason } from "../errors";
import type { InstanceRegistry } from "./registry";

const MAX_INSTANCE_ID = 2_147_483_647; // instances.instance_id is a Postgres INTEGER

export interface IdAllocatorOptions {
  dataDir: string;
  stacks: TenantStacks;
  mirror: InstanceMirror;
  registry: InstanceRegistry;
  /** True when the registry already holds every stack and mirror row (its boot load read both). */
  sourcesLoaded: boolean;
  /** Instance ids of the provision job records on disk (durable before each 202); never uninstall jobs' ids. */
  jobInstanceIds: Iterable<string>;
}

/** How long the mark's write waits for more allocations of the same burst to share it. */
const MARK_WRITE_DELAY_MS = 25;

export class IdAllocator {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly file: string;
  private mark: number;
  /** The write of the mark scheduled or in flight, and whether the mark moved on since it last started. */
  private writing?: Promise<void>;
  private stale = false;
  private sourcesLoaded: boolean;

  constructor(private readonly o: IdAllocatorOptions) {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    this.file = join(o.dataDir, "instance-ids.json");
    this.mark = Math.max(readMark(this.file), highest(o.jobInstanceIds));
    this.sourcesLoaded = o.sourcesLoaded;
  }

  /** The persisted high-water mark (0 when none). */
  highWaterMark(): number {
    return this.mark;
  }

  allocate(): Promise<number> {
    const next = this.chain.then(() => this.allocateLocked());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async allocateLocked(): Promise<number> {
    if (!this.sourcesLoaded) await this.loadSources();
    const id = Math.max(this.mark, this.o.registry.highestId()) + 1;
    if (id > MAX_INSTANCE_ID) throw new Failure("failed", "Failed to insert instance: instance ids exhausted");
    this.mark = id;
    this.writeMark();
    return id;
  }

  /**
   * Writes the newest mark behind, {@link MARK_WRITE_DELAY_MS} after the first allocation of a
   * burst, and once more when the mark moved on during that write. Without the delay every
   * allocation wrote the file itself (its create, write and rename run on the event loop, ~0.4 ms
   * on the dev machine's disk), which was the largest share of a request's loop time at 20
   * provisions at once. A failed write (disk full) is retried by the next allocation; the job
   * records that carry the ids are what the boot relies on, and their writes fail the request loudly.
   */
  private writeMark(): void {
    this.stale = true;
    if (this.writing) return;
    this.writing = new Promise<void>((resolve) => setTimeout(resolve, MARK_WRITE_DELAY_MS).unref())
      .then(async () => {
        while (this.stale) {
          this.stale = false;
          await writeJsonDurable(this.file, { last_instance_id: this.mark }, "none").catch(() => undefined);
        }
      })
      .finally(() => (this.writing = undefined));
  }

  /** Folds every stack and mirror row id into the mark; a failure leaves the flag unset so the next call retries. */
  private async loadSources(): Promise<void> {
    const seen: string[] = [];
    try {
      seen.push(...(await this.o.stacks.list()).map((s) => s.instanceId));
    } catch (err) {
      throw new Failure("failed", `Failed to insert instance: cannot list tenant stacks (${shortReason(err)})`);
    }
    if (this.o.mirror.enabled) {
      try {
        seen.push(...(await this.o.mirror.list()).map((r) => String(r.instance_id)));
      } catch (err) {
        throw new Failure("failed", `Failed to insert instance: cannot read the instances table (${shortReason(err)})`);
      }
    }
    this.mark = Math.max(this.mark, highest(seen));
    this.sourcesLoaded = true;
  }
}

function highest(ids: Iterable<string>): number {
  let max = 0;
  for (const id of ids) if (/^\d+$/.test(id)) max = Math.max(max, Number(id));
  return max;
}

function readMark(file: string): number {
  try {
    const mark = (JSON.parse(readFileSync(file, "utf8")) as { last_instance_id?: unknown }).last_instance_id;
    return typeof mark === "number" && Number.isSafeInteger(mark) ? mark : 0;
  } catch {
    return 0;
  }
}
