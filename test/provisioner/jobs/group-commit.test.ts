/**
 * The durable writes of the accept path (issue 10 item 8): `writeFileDurable` with its fsyncs off
 * the event loop and group-committed directory fsyncs, `JobStore.saveDurable` committing new
 * records in group files, `JobRunner.submitDurable` and the provision route on top. What must
 * hold: each save resolves only once its content was fsynced before the rename and a directory
 * fsync that started after the rename has finished; concurrent saves share fsyncs; writes to one
 * path land in call order; a restart loads group files (a job's own file wins) and never brings a
 * pruned job back; an fsync error fails the affected saves (and the request: 500, not 202) and
 * leaves no record behind; a provisioner killed right after its 202s loses none of the accepted jobs.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { durableIo, writeFileAtomic, writeFileDurable } from "../../../provisioner/atomic-file";
import { JobRunner } from "../../../provisioner/jobs/runner";
import { JobStore } from "../../../provisioner/jobs/store";
import type { JobRecord } from "../../../provisioner/jobs/types";
import { Failure } from "../../../provisioner/errors";
import { IdAllocator } from "../../../provisioner/service/ids";
import { InstanceRegistry } from "../../../provisioner/service/registry";
import { FakeInstanceMirror } from "../../../provisioner/fakes/mirror";
import { FakeTenantKube } from "../../../provisioner/fakes/kube";
import { FakeTenantStacks } from "../../../provisioner/fakes/stacks";
import { call, LogRecorder, startHarness, type Harness } from "../http/harness";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const original = { ...durableIo };
const eio = () => Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });

function record(id: string, over: Partial<JobRecord> = {}): JobRecord {
  return { job_id: id, kind: "provision", instance_id: "1", status: "queued", created_at: new Date().toISOString(), started_at: null, finished_at: null, progress: [], params: {}, ...over };
}

describe("provisioner jobs: group-committed durable writes", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "group-commit-"));
  });
  afterEach(() => {
    Object.assign(durableIo, original);
    rmSync(dir, { recursive: true, force: true });
  });

  it("20 concurrent entry writes: each resolves only after its fsynced content was renamed and a later directory fsync finished; they share a few directory fsyncs", async () => {
    const syncs: Array<{ names: string[]; done: boolean }> = [];
    const fsyncedBeforeRename: boolean[] = [];
    durableIo.syncFile = async (fd, path) => {
      fsyncedBeforeRename.push(!existsSync(path));
      return original.syncFile(fd, path);
    };
    durableIo.syncDir = async (d) => {
      const sync = { names: readdirSync(d), done: false };
      syncs.push(sync);
      await sleep(20); // a slow disk: the burst's renames land while this one runs
      await original.syncDir(d);
      sync.done = true;
    };
    const paths = Array.from({ length: 20 }, (_, i) => join(dir, `${i}.json`));
    const checked = await Promise.all(
      paths.map((path, i) =>
        writeFileDurable(path, `{"n":${i}}`, "entry").then(() => ({
          content: readFileSync(path, "utf8"),
          covered: syncs.some((s) => s.done && s.names.includes(basename(path))),
        })),
      ),
    );
    expect(checked.map((c) => c.content)).to.deep.equal(paths.map((_, i) => `{"n":${i}}`));
    expect(checked.every((c) => c.covered), "a directory fsync that saw the entry had finished").to.equal(true);
    expect(fsyncedBeforeRename).to.have.length(20);
    expect(fsyncedBeforeRename.every(Boolean), "content fsynced before the rename").to.equal(true);
    expect(syncs.length, "directory fsyncs for 20 entries").to.be.within(1, 3);
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("writes to one path land in call order: an older write finishing last never replaces a newer one, sync or async", async () => {
    const path = join(dir, "record.json");
    // The first write to reach its fsync is held there until released.
    const holdFirstFsync = () => {
      let release!: () => void;
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const held = new Promise<void>((r) => (release = r));
      let first = true;
      durableIo.syncFile = async (fd, p) => {
        if (first) {
          first = false;
          entered();
          await held;
        }
        return original.syncFile(fd, p);
      };
      return { inside, release };
    };
    let hold = holdFirstFsync();
    const older = writeFileDurable(path, "v1", "content");
    await hold.inside;
    await writeFileDurable(path, "v2", "content");
    expect(readFileSync(path, "utf8")).to.equal("v2");
    hold.release();
    await older;
    expect(readFileSync(path, "utf8"), "v1 finished last but is older").to.equal("v2");

    hold = holdFirstFsync();
    const async = writeFileDurable(path, "v3", "content");
    await hold.inside;
    writeFileAtomic(path, "v4", "content"); // e.g. JobStore.save of the same record meanwhile
    hold.release();
    await async;
    expect(readFileSync(path, "utf8")).to.equal("v4");
    expect(readdirSync(dir)).to.deep.equal(["record.json"]);
  });

  it("20 concurrent saveDurable of new records: a few group files, each record on disk when its save resolves; a restart loads them, a job's own file wins over its group line", async () => {
    const store = new JobStore(dir);
    const jobs = join(dir, "jobs");
    let fsyncs = 0;
    durableIo.syncFile = async (fd, path) => {
      fsyncs++;
      await sleep(10); // a slow disk: the burst gathers while one group is written
      return original.syncFile(fd, path);
    };
    const ids = Array.from({ length: 20 }, (_, i) => `dddddddd-0000-4000-8000-${String(i).padStart(12, "0")}`);
    const onDisk = await Promise.all(
      ids.map((id) => store.saveDurable(record(id)).then(() => readdirSync(jobs).some((f) => f.startsWith("group-") && readFileSync(join(jobs, f), "utf8").includes(`"job_id":"${id}"`)))),
    );
    expect(onDisk.every(Boolean), "each record is in a group file when its save resolves").to.equal(true);
    const groups = readdirSync(jobs).filter((f) => f.startsWith("group-"));
    expect(groups.length, "group files for 20 records").to.be.within(1, 3);
    expect(fsyncs).to.equal(groups.length);
    store.save({ ...store.get(ids[0])!, status: "running", started_at: new Date().toISOString() }); // its first update: a file of its own
    const again = new JobStore(dir);
    expect(again.all().map((j) => j.job_id)).to.deep.equal(ids);
    expect(again.get(ids[0])!.status).to.equal("running");
    expect(again.get(ids[1])!.status).to.equal("queued");
  });

  it("prune: a group file loses its pruned jobs (rewritten without them, deleted once empty), so a restart never brings one back", async () => {
    const store = new JobStore(dir);
    const jobs = join(dir, "jobs");
    durableIo.syncFile = async (fd, path) => {
      await sleep(10);
      return original.syncFile(fd, path);
    };
    const ids = ["eeeeeeee-0000-4000-8000-000000000001", "eeeeeeee-0000-4000-8000-000000000002", "eeeeeeee-0000-4000-8000-000000000003"];
    await Promise.all(ids.map((id) => store.saveDurable(record(id)))); // groups: [1], [2, 3]
    expect(readdirSync(jobs).sort()).to.deep.equal(["group-0000000000000001.jsonl", "group-0000000000000002.jsonl"]);
    const old = new Date(Date.now() - 48 * 3_600_000).toISOString();
    for (const id of ids.slice(0, 2)) store.save({ ...store.get(id)!, status: "succeeded", started_at: old, finished_at: old });
    expect(store.prune(3_600_000)).to.equal(2);
    expect(readdirSync(jobs).sort()).to.deep.equal(["group-0000000000000002.jsonl"]);
    expect(new JobStore(dir).all().map((j) => j.job_id), "the pruned ones stay gone").to.deep.equal([ids[2]]);
    expect(new JobStore(dir).get(ids[2])!.status).to.equal("queued");
  });

  it("an fsync error fails the saves of its group with an error naming the file; their records are gone from memory and disk, the saves around them stay", async () => {
    const store = new JobStore(dir);
    const jobs = join(dir, "jobs");
    durableIo.syncFile = async (fd, path) => {
      await sleep(10);
      if (path.endsWith("group-0000000000000002.jsonl")) throw eio();
      return original.syncFile(fd, path);
    };
    const ids = Array.from({ length: 6 }, (_, i) => `aaaaaaaa-0000-4000-8000-00000000000${i}`);
    const results = await Promise.allSettled(ids.map((id) => store.saveDurable(record(id)))); // groups: [0], [1..5]
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "rejected", "rejected", "rejected", "rejected"]);
    const err = (results[1] as PromiseRejectedResult).reason as Error;
    expect(err.message).to.equal(`cannot write ${join(jobs, "group-0000000000000002.jsonl")}: EIO: i/o error, fsync`);
    expect((err.cause as NodeJS.ErrnoException).code).to.equal("EIO");
    for (const id of ids.slice(1)) expect(store.get(id)).to.equal(undefined);
    expect(readdirSync(jobs)).to.deep.equal(["group-0000000000000001.jsonl"]);
    Object.assign(durableIo, original);
    await store.saveDurable(record("aaaaaaaa-0000-4000-8000-000000000009"));
    expect(new JobStore(dir).all().map((j) => j.job_id), "the next save after the disk recovered works").to.deep.equal([ids[0], "aaaaaaaa-0000-4000-8000-000000000009"]);
  });

  it("a failed directory fsync fails every save of its group and removes the group file (renamed, but not durable)", async () => {
    const store = new JobStore(dir);
    durableIo.syncDir = async () => {
      await sleep(5);
      throw eio();
    };
    const ids = Array.from({ length: 4 }, (_, i) => `cccccccc-0000-4000-8000-00000000000${i}`);
    const results = await Promise.allSettled(ids.map((id) => store.saveDurable(record(id))));
    expect(results.every((r) => r.status === "rejected")).to.equal(true);
    expect(((results[0] as PromiseRejectedResult).reason as Error).message).to.match(/^cannot write .*group-0000000000000001\.jsonl durably \(directory fsync\): EIO/);
    expect(readdirSync(join(dir, "jobs"))).to.deep.equal([]);
    expect(store.all()).to.deep.equal([]);
    Object.assign(durableIo, original);
    await store.saveDurable(record(ids[0]));
    expect(new JobStore(dir).get(ids[0])!.status, "the next save after the disk recovered works").to.equal("queued");
  });

  it("submitDurable: queued only once on disk; a failed write is Failure failed (500) with a clear detail, nothing runs and no boot finds it", async () => {
    const ran: string[] = [];
    const log = new LogRecorder();
    const runner = new JobRunner({ store: new JobStore(dir), concurrency: 2, operationTimeoutMs: 60_000, retentionMs: 3_600_000, recover: async () => undefined, log });
    const queue = runner.define("provision", async (ctx) => void ran.push(ctx.job.instance_id));
    runner.boot();
    durableIo.syncFile = async () => {
      await sleep(10);
      throw eio();
    };
    const failed = await queue.submitDurable("9", {}).catch((err: unknown) => err);
    expect(failed).to.be.instanceOf(Failure);
    expect((failed as Failure).statusCode).to.equal(500);
    expect((failed as Failure).detail).to.equal("Job provision of instance 9 was not accepted: its record could not be written to disk (EIO); see the provisioner logs, then retry");
    expect(log.lines.some((l) => l.level === "error" && /could not write the job record/.test(l.msg))).to.equal(true);
    Object.assign(durableIo, original);
    const ok = await Promise.all(["1", "2", "3"].map((id) => queue.submitDurable(id, {})));
    for (const job of ok) expect(new JobStore(dir).get(job.job_id), "on disk when submitDurable resolved").to.not.equal(undefined);
    for (const job of ok) expect((await runner.wait(job.job_id, 2000))!.status).to.equal("succeeded");
    expect(ran.sort()).to.deep.equal(["1", "2", "3"]);
    expect(runner.list().map((j) => j.instance_id).sort()).to.deep.equal(["1", "2", "3"]);
    await runner.stop(0);
  });

  it("the id mark is written behind: a burst of allocations gets distinct ids without waiting for it, and the file ends with the newest mark", async () => {
    const mirror = new FakeInstanceMirror(false);
    const stacks = new FakeTenantStacks(new FakeTenantKube());
    const registry = new InstanceRegistry(stacks, mirror, new LogRecorder());
    const ids = new IdAllocator({ dataDir: dir, stacks, mirror, registry, sourcesLoaded: true, jobInstanceIds: ["7"] });
    const got = await Promise.all(Array.from({ length: 30 }, () => ids.allocate()));
    expect(got).to.deep.equal(Array.from({ length: 30 }, (_, i) => 8 + i));
    const file = join(dir, "instance-ids.json");
    const mark = () => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { last_instance_id: number }).last_instance_id : 0);
    expect(mark(), "no allocation waited for, or wrote, the file itself").to.equal(0);
    for (let i = 0; i < 200 && mark() !== 37; i++) await sleep(5);
    expect(JSON.parse(readFileSync(file, "utf8"))).to.deep.equal({ last_instance_id: 37 });
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).to.deep.equal([]);
    const next = new IdAllocator({ dataDir: dir, stacks, mirror, registry, sourcesLoaded: true, jobInstanceIds: [] });
    expect(await next.allocate(), "a restart continues above the mark").to.equal(38);
    for (let i = 0; i < 200 && mark() !== 38; i++) await sleep(5); // its own write behind
  });

  describe("over HTTP", () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it("a job record fsync error answers 500 with the reason, not 202; no job is listed or on disk, and the next request works", async () => {
      h = await startHarness();
      durableIo.syncFile = async (fd, path) => {
        if (dirname(path).endsWith("jobs")) throw eio();
        return original.syncFile(fd, path);
      };
      const res = await call(h, "POST", "/system/provision", { body: { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" } });
      expect(res.status, JSON.stringify(res.body)).to.equal(500);
      expect(res.body.detail).to.match(/^Job provision of instance 1 was not accepted: its record could not be written to disk \(EIO\)/);
      expect(h.provisioner.runner.list()).to.deep.equal([]);
      expect(readdirSync(join(h.dataDir, "jobs"))).to.deep.equal([]);
      Object.assign(durableIo, original);
      const retry = await call(h, "POST", "/system/provision", { body: { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" } });
      expect(retry.status).to.equal(202);
      expect(existsSync(join(h.dataDir, "jobs", `${retry.body.job_id}.json`))).to.equal(true);
    });

    it("a row insert that cannot be written answers 500 'Failed to insert instance'; the job record written beside it is removed again, so no restart runs it", async () => {
      h = await startHarness();
      (h.mirror as FakeInstanceMirror).writeError = new Error("cannot write mirror-outbox/0000000000000001.json: EIO");
      const res = await call(h, "POST", "/system/provision", { body: { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" } });
      expect(res.status, JSON.stringify(res.body)).to.equal(500);
      expect(res.body.detail).to.equal("Failed to insert instance: cannot write mirror-outbox/0000000000000001.json: EIO");
      expect(h.provisioner.runner.list()).to.deep.equal([]);
      expect(readdirSync(join(h.dataDir, "jobs")), "the group file that held it is gone").to.deep.equal([]);
      await h.close({ keepData: true });
      h = await startHarness({ dataDir: h.dataDir });
      expect(h.provisioner.runner.list(), "a restart finds no job").to.deep.equal([]);
      expect((h.stacks as FakeTenantStacks).calls.filter((c) => c.op === "up")).to.deep.equal([]);
    });
  });

  it("a provisioner killed (SIGKILL) right after its first 202s of a burst of 20 loses none of the accepted jobs", async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "crash-child.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += String(chunk);
        const m = /^READY (\S+)$/m.exec(out);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`child exited with ${code} before it was ready`)));
    });
    const accepted: Array<{ job_id: string; customer_id: number }> = [];
    const burst = Array.from({ length: 20 }, (_, i) =>
      fetch(`${url}/system/provision`, {
        method: "POST",
        headers: { Authorization: "Bearer test-key", "Content-Type": "application/json", "X-Real-IP": `10.77.${i}.1` },
        body: JSON.stringify({ subscription_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` }),
      })
        .then(async (res) => {
          if (res.status !== 202) throw new Error(`status ${res.status}`);
          const body = (await res.json()) as { job_id: string; customer_id: number };
          accepted.push(body);
          if (accepted.length === 3) child.kill("SIGKILL"); // mid-burst: some accepted, others in flight
        })
        .catch(() => undefined),
    );
    await Promise.all(burst);
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r)));
    expect(child.signalCode).to.equal("SIGKILL");
    expect(accepted.length).to.be.within(3, 20);
    const store = new JobStore(dir);
    for (const a of accepted) {
      const job = store.get(a.job_id);
      expect(job, `accepted job ${a.job_id}`).to.not.equal(undefined);
      expect(job!.instance_id).to.equal(String(a.customer_id));
    }
  });
});
