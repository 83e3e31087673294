/**
 * A throwaway PostgreSQL cluster for tests of SQL migrations: `initdb` into a temp dir, `pg_ctl start`
 * listening only on a unix socket inside that dir (no TCP, so parallel runs never collide), `psql` for
 * queries, `stop()` removes everything. Running as root (CI containers) the server runs as the Debian
 * `postgres` user through `runuser`, because PostgreSQL refuses to run as root.
 *
 * Missing binaries are an error, not a skip: CI installs them, and a silently skipped migration test
 * would hide a broken schema.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Where the server binaries live: `PG_BIN_DIR`, else the newest `/usr/lib/postgresql/<major>/bin`
 * (Debian bookworm ships 15, Ubuntu 24.04 runners 16).
 */
export const PG_BIN_DIR = process.env.PG_BIN_DIR ?? newestDebianPgBin();

function newestDebianPgBin(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb"))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  return join(root, newest ?? "15", "bin");
}

export interface PgCluster {
  /** Directory holding the unix socket (also the `host` for clients). */
  socketDir: string;
  port: number;
  /** Runs SQL through `psql` (ON_ERROR_STOP) and resolves with unaligned, tuples-only output. Rejects with psql's stderr. */
  psql(sql: string, database?: string): Promise<string>;
  /** Runs a SQL file through `psql -f`. */
  psqlFile(path: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts a fresh cluster. Rejects with a one-line message naming the fix when the binaries are missing. */
export async function startPostgres(): Promise<PgCluster> {
  const initdb = join(PG_BIN_DIR, "initdb");
  const pgCtl = join(PG_BIN_DIR, "pg_ctl");
  const psqlBin = join(PG_BIN_DIR, "psql");
  for (const bin of [initdb, pgCtl, psqlBin]) {
    if (!existsSync(bin)) {
      throw new Error(
        `PostgreSQL binaries not found (${bin}): install them (apt-get install postgresql-15) or set PG_BIN_DIR`,
      );
    }
  }
  const root = mkdtempSync(join(tmpdir(), "pgtest-"));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const postgres = await run("id", ["-u", "postgres"]).catch(() => {
      throw new Error("running as root needs the 'postgres' user (created by the postgresql package) to run the server");
    });
    const gid = await run("id", ["-g", "postgres"]);
    chownSync(root, Number(postgres.stdout.trim()), Number(gid.stdout.trim()));
  }
  const asServerUser = (cmd: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", cmd, ...args]) : run(cmd, args);

  const data = join(root, "data");
  const port = await freePort();
  try {
    await asServerUser(initdb, ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"]);
    await asServerUser(pgCtl, [
      "-D", data, "-l", join(root, "server.log"), "-w", "-t", "60",
      "-o", `-k ${root} -p ${port} -c listen_addresses=''`,
      "start",
    ]);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL test cluster did not start: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }

  const psqlArgs = (database: string) => [
    "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", root, "-p", String(port), "-U", "postgres", "-d", database,
  ];
  const wrap = async (args: string[]): Promise<string> => {
    try {
      return (await run(psqlBin, args)).stdout;
    } catch (err) {
      throw new Error((err as { stderr?: string }).stderr?.trim() || String(err));
    }
  };
  return {
    socketDir: root,
    port,
    psql: (sql, database = "postgres") => wrap([...psqlArgs(database), "-c", sql]),
    psqlFile: (path, database = "postgres") => wrap([...psqlArgs(database), "-f", path]),
    async stop() {
      await asServerUser(pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
