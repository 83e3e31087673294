/**
 * The outbox's asynchronous appends (issue 10 item 8): on disk before they resolve, pending in
 * sequence order whatever order their writes finish in, a failed append neither pending nor left
 * on disk, delivered entries deleted behind in order, and both temp-file forms a crash leaves
 * removed at the next start.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

  it("an append resolves with its entry on disk and pending; entries become pending in sequence order even when a later write finishes first", async () => {
    const outbox = new Outbox(dir, silent);
    durableIo.syncFile = async (fd, path) => {
      if (path.endsWith(name(1))) await sleep(40); // seq 1 is slow
      return original.syncFile(fd, path);
    };
    const seen: number[][] = [];
    const first = outbox.append({ instance_id: 4, status: "provisioning" }).then(() => seen.push(outbox.list().map((e) => e.seq)));
    const second = outbox.append({ instance_id: 4, status: "running" }).then(() => {
      expect(existsSync(join(dir, name(2)))).to.equal(true);
      seen.push(outbox.list().map((e) => e.seq));
    });
    await sleep(20);
    expect(outbox.size, "seq 2 is written but waits for seq 1").to.equal(0);
    await Promise.all([first, second]);
    expect(seen).to.deep.equal([[1], [1, 2]]);
    expect(outbox.list().map((e) => e.row.status)).to.deep.equal(["provisioning", "running"]);
  });

  it("a failed append rejects and is neither pending nor on disk (no later start delivers it); the appends around it go on", async () => {
    const outbox = new Outbox(dir, silent);
    durableIo.syncFile = async (fd, path) => {
      if (path.endsWith(name(2))) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      return original.syncFile(fd, path);
    };
    const results = await Promise.allSettled([1, 2, 3].map((id) => outbox.append({ instance_id: id, status: "provisioning" })));
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).to.match(/^cannot write .*0000000000000002\.json: EIO/);
    expect(outbox.list().map((e) => e.seq)).to.deep.equal([1, 3]);
    expect(readdirSync(dir).sort()).to.deep.equal([name(1), name(3)]);
    expect(new Outbox(dir, silent).list().map((e) => e.row.instance_id)).to.deep.equal([1, 3]);
  });

  it("remove forgets entries at once and deletes their files behind, in order; settled() waits for the deletions", async () => {
    const outbox = new Outbox(dir, silent);
    await Promise.all([1, 2, 3].map((id) => outbox.append({ instance_id: id, status: "running" })));
    outbox.remove([1]);
    outbox.remove([2]);
    expect(outbox.list().map((e) => e.seq)).to.deep.equal([3]);
    await outbox.settled();
    expect(readdirSync(dir)).to.deep.equal([name(3)]);
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
