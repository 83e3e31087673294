/** What every command needs: the configuration (read when a command runs, so `--help` needs none) and the client. */
import type { Command } from "commander";
import { Client } from "./client";
import { loadCliConfig, type CliConfig } from "./config";

export interface Ctx {
  config: CliConfig;
  client: Client;
  json: boolean;
}

export function context(cmd: Command): Ctx {
  const opts = cmd.optsWithGlobals<{ apiUrl?: string; json?: boolean }>();
  const config = loadCliConfig({ apiUrl: opts.apiUrl });
  return { config, client: new Client(config.apiUrl, config.apiKey), json: Boolean(opts.json) };
}

/** Instance view fields the CLI shows (GET /system/instances[/{id}]); the API may send more. */
export interface InstanceView {
  instance_id: string;
  status?: string;
  desired_state?: string;
  tier?: string | null;
  subscription_id?: string | null;
  account_id?: string | null;
  frontend_url?: string | null;
  api_url?: string | null;
  matrix_url?: string | null;
  stack_name?: string | null;
  last_job_id?: string | null;
  last_error?: string | null;
  drift?: string;
  drift_checked_at?: string;
  updated_at?: string;
  [key: string]: unknown;
}

export const byId = (a: { instance_id: string }, b: { instance_id: string }) => Number(a.instance_id) - Number(b.instance_id) || a.instance_id.localeCompare(b.instance_id);
