/** Child processes of the test control plane: free ports, logs to files, readiness, shutdown. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function tail(path: string, lines: number): string {
  return existsSync(path) ? readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(no log)";
}

export function spawnLogged(bin: string, args: string[], log: string): ChildProcess {
  const fd = openSync(log, "a");
  const child = spawn(bin, args, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  return child;
}

export async function waitUntil(what: string, child: ChildProcess, log: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}); log tail:\n${tail(log, 30)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s; log tail:\n${tail(log, 30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    httpGet(`http://127.0.0.1:${port}/health`, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve(res.statusCode === 200 && text.includes('"health":"true"')));
    }).on("error", () => resolve(false));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
