/**
 * The outbox's group-committed appends (issue 10 item 8): on disk before they resolve, concurrent
 * appends sharing one file, pending in sequence order, a failed commit neither pending nor left on
 * disk, files deleted once delivered and in order, groups and both temp-file forms a crash leaves
 * handled at the next start.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { durableIo } from "../../../provisioner/atomic-file";
import { Outbox } from "../../../provisioner/mirror/outbox";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const original = { ...durableIo };
const name = (seq: number) => `${String(seq).padStart(16, "0")}.json`;

describe("provisioner/mirror: outbox appends", () => {
  let dir: string;
  const silent = pino({ level: "silent" });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outbox-"));
  });
  afterEach(() => {
    Object.assign(durableIo, original);
    rmSync(dir, { recursive: true, force: true });
  });

  it("group commit: the first append is written alone, the ones made meanwhile share the next file; each resolves on disk and pending, in sequence order", async () => {
    const outbox = new Outbox(dir, silent);
    const syncs: string[] = [];
    durableIo.syncFile = async (fd, path) => {
      syncs.push(path);
      await sleep(20); // a slow disk: the others arrive while the first is being written
      return original.syncFile(fd, path);
    };
    const seen: Array<{ seq: number; pending: number[]; onDisk: boolean }> = [];
    await Promise.all(
      [1, 2, 3, 4].map((id, i) =>
        outbox.append({ instance_id: id, status: "provisioning" }).then(() => {
          const file = join(dir, name(i === 0 ? 1 : 2));
          seen.push({ seq: i + 1, pending: outbox.list().map((e) => e.seq), onDisk: existsSync(file) && readFileSync(file, "utf8").includes(`"seq":${i + 1},`) });
        }),
      ),
    );
    expect(seen.map((s) => s.seq)).to.deep.equal([1, 2, 3, 4]);
    expect(seen.every((s) => s.onDisk)).to.equal(true);
    expect(seen.map((s) => s.pending.length)).to.deep.equal([1, 2, 3, 4]);
    expect(syncs.map((p) => p.slice(-21)), "two file fsyncs for four entries").to.deep.equal([name(1), name(2)]);
    expect(readdirSync(dir).sort()).to.deep.equal([name(1), name(2)]);
    expect(readFileSync(join(dir, name(2)), "utf8").trim().split("\n")).to.have.length(3);
    expect(new Outbox(dir, silent).list().map((e) => e.seq), "a restart reads the groups back").to.deep.equal([1, 2, 3, 4]);
  });

  it("a failed commit rejects every append of its group, which is neither pending nor on disk; later appends go on", async () => {
    const outbox = new Outbox(dir, silent);
    durableIo.syncFile = async (fd, path) => {
      await sleep(10);
      if (path.endsWith(name(2))) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      return original.syncFile(fd, path);
    };
    const results = await Promise.allSettled([1, 2, 3].map((id) => outbox.append({ instance_id: id, status: "provisioning" })));
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "rejected"]);
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).to.match(/^cannot write .*0000000000000002\.json: EIO/);
    expect(outbox.list().map((e) => e.seq)).to.deep.equal([1]);
    expect(readdirSync(dir)).to.deep.equal([name(1)]);
    await outbox.append({ instance_id: 4, status: "provisioning" });
    expect(new Outbox(dir, silent).list().map((e) => e.row.instance_id)).to.deep.equal([1, 4]);
  });

  it("remove forgets entries at once; a file goes once all its entries are delivered and every older file is gone", async () => {
    const outbox = new Outbox(dir, silent);
    durableIo.syncFile = async (fd, path) => {
      await sleep(10);
      return original.syncFile(fd, path);
    };
    await Promise.all([1, 2, 3].map((id) => outbox.append({ instance_id: id, status: "running" }))); // files: [1], [2, 3]
    expect(readdirSync(dir).sort()).to.deep.equal([name(1), name(2)]);
    outbox.remove([2, 3]);
    expect(outbox.list().map((e) => e.seq)).to.deep.equal([1]);
    await outbox.settled();
    expect(readdirSync(dir).sort(), "an older file still holds a pending entry").to.deep.equal([name(1), name(2)]);
    outbox.remove([1]);
    await outbox.settled();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it("a start removes temp files of both naming forms (<entry>.<pid>.tmp and <entry>.<pid>.<n>.tmp) and keeps counting after the highest entry", async () => {
    writeFileSync(join(dir, name(5)), JSON.stringify({ seq: 5, at: "2026-01-01T00:00:00.000Z", row: { instance_id: 9, status: "running" } }));
    writeFileSync(join(dir, `${name(6)}.4242.tmp`), "{");
    writeFileSync(join(dir, `${name(7)}.4242.17.tmp`), "{");
    const outbox = new Outbox(dir, silent);
    expect(readdirSync(dir)).to.deep.equal([name(5)]);
    await outbox.append({ instance_id: 9, status: "stopped" });
    expect(outbox.list().map((e) => e.seq)).to.deep.equal([5, 6]);
  });
});
