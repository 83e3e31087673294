/**
 * Instance id allocation for provisions without `instance_id` (spec provisioner.md §6.1).
 *
 * Upstream took `nextval('instance_id_seq')`. Here the Pulumi backend is the truth and Supabase a
 * mirror that may be off or behind, so the next id is one above the highest id seen in ANY source:
 * tenant stacks, mirror rows (tenants still on the Helm system exist only there), the in-memory
 * registry, and a persisted high-water mark. The choice and the new mark are made under one mutex
 * and the mark is written (atomically) before the id is used, so two requests never get the same
 * id and an id is never reused, even if its stack was never created (like a sequence, gaps are fine).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../jobs/atomic-file";
import type { InstanceMirror, TenantStacks } from "../ports";
import { HttpError, shortReason } from "./errors";
import type { InstanceRegistry } from "./registry";

export class IdAllocator {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly stacks: TenantStacks,
    private readonly mirror: InstanceMirror,
    private readonly registry: InstanceRegistry,
  ) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = join(dataDir, "instance-ids.json");
  }

  /** The persisted high-water mark (0 when none). */
  highWaterMark(): number {
    try {
      const mark = (JSON.parse(readFileSync(this.file, "utf8")) as { last_instance_id?: unknown }).last_instance_id;
      return typeof mark === "number" && Number.isSafeInteger(mark) ? mark : 0;
    } catch {
      return 0;
    }
  }

  allocate(): Promise<number> {
    const next = this.chain.then(() => this.allocateLocked());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async allocateLocked(): Promise<number> {
    const seen: string[] = [...this.registry.ids()];
    try {
      seen.push(...(await this.stacks.list()).map((s) => s.instanceId));
    } catch (err) {
      throw new HttpError(500, `Failed to insert instance: cannot list tenant stacks (${shortReason(err)})`);
    }
    if (this.mirror.enabled) {
      try {
        seen.push(...(await this.mirror.list()).map((r) => String(r.instance_id)));
      } catch (err) {
        throw new HttpError(500, `Failed to insert instance: cannot read the instances table (${shortReason(err)})`);
      }
    }
    const max = seen.filter((id) => /^\d+$/.test(id)).reduce((m, id) => Math.max(m, Number(id)), this.highWaterMark());
    const id = max + 1;
    if (id > 2_147_483_647) throw new HttpError(500, "Failed to insert instance: instance ids exhausted");
    writeJsonAtomic(this.file, { last_instance_id: id });
    return id;
  }
}
