/**
 * Request and response schemas of the API (zod); the source of both validation and
 * `GET /openapi.json`. Upstream fields are kept verbatim (spec provisioner.md §4).
 */
import { z } from "zod";
import { JOB_KINDS } from "../jobs/types";
import { LEGACY_TIERS, TIERS } from "../service/plans";
import { overrideProblem } from "../service/overrides";

const MAX_INSTANCE_ID = 2_147_483_647; // instances.instance_id is a Postgres INTEGER

/** Positive integer id: the stack name and every Kubernetes name are built from it (DNS-safe). */
export const InstanceIdParam = z
  .string()
  // `abort`: "abc" gets one error, not also the range one below.
  .regex(/^[1-9][0-9]{0,9}$/, { message: "instance_id must be a positive integer such as 42", abort: true })
  .refine((s) => Number(s) <= MAX_INSTANCE_ID, `instance_id must be at most ${MAX_INSTANCE_ID}`);

export const InstancePath = z.object({ instance_id: InstanceIdParam });
export const JobPath = z.object({ job_id: z.string().regex(/^[0-9a-f-]{36}$/, "job_id must be a job id as returned by the API") });

const flag = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"], { message: "must be true or false" }))
  .transform((s) => ["true", "1", "yes", "on"].includes(s));

export const UninstallQuery = z.object({ delete_data: flag.optional() });
export const ProvisionQuery = z.object({ wait: flag.optional() });

export const ProvisionBody = z
  .strictObject({
    subscription_id: z.guid("subscription_id must be a UUID").optional(),
    account_id: z.guid("account_id must be a UUID or null").nullable().optional(),
    // Omitted: `free` for a new tenant, the tenant's own tier on a re-provision.
    // Legacy names map as upstream's migration renamed them (starter → byok, professional → pro).
    tier: z.preprocess((t) => (typeof t === "string" ? (LEGACY_TIERS[t] ?? t) : t), z.enum(TIERS, { message: `tier must be one of ${TIERS.join(", ")}` })).optional(),
    instance_id: z
      .union([z.number().int().positive().max(MAX_INSTANCE_ID), InstanceIdParam], { message: "instance_id must be a positive integer or a string of digits" })
      .nullable()
      .optional(),
    enable_credentials_encryption: z.boolean({ message: "enable_credentials_encryption must be true or false" }).optional(),
  }, { error: (issue) => (issue.code === "invalid_type" ? 'the body must be a JSON object such as {"subscription_id": "<uuid>", "tier": "free"}' : undefined) })
  .superRefine((body, ctx) => {
    if ((body.instance_id === undefined || body.instance_id === null) && body.subscription_id === undefined) {
      ctx.addIssue({ code: "invalid_type", expected: "string", input: undefined, path: ["subscription_id"], message: "Field required" });
    }
  });

const STATUSES = ["running", "stopped", "error", "provisioning", "restarting"] as const;
const image = (field: string) =>
  z
    .string({ message: `${field} must be an image reference such as ghcr.io/mindroom-ai/mindroom:v1.4.0` })
    .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, `${field} must be an image reference such as ghcr.io/mindroom-ai/mindroom:v1.4.0`)
    .max(255);

/** `all`, or `instance_ids`, narrowed by `tier` and `status` (docs/fleet.md). */
const selection = {
  all: z.boolean({ message: "all must be true or false" }).optional(),
  instance_ids: z.array(InstanceIdParam, { message: 'instance_ids must be a list of ids such as ["3", "7"]' }).min(1, "instance_ids must name at least one instance").max(10_000).optional(),
  tier: z.enum(TIERS, { message: `tier must be one of ${TIERS.join(", ")}` }).optional(),
  status: z.enum(STATUSES, { message: `status must be one of ${STATUSES.join(", ")}` }).optional(),
};
const rollout = {
  concurrency: z.number({ message: "concurrency must be a whole number from 1 to 50" }).int().min(1).max(50).optional(),
  max_failures: z.number({ message: "max_failures must be a whole number of at least 1" }).int().min(1).optional(),
};
const changes = {
  mindroom_image: image("mindroom_image").optional(),
  synapse_image: image("synapse_image").optional(),
  values: z
    .record(z.string(), z.unknown(), { message: 'values must be a map of chart values such as {"mindroomResources": {"limits": {"memory": "3Gi"}}}' })
    .superRefine((values, ctx) => {
      const problem = overrideProblem(values);
      if (problem) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
    })
    .optional(),
};
const requireSelection = (body: { all?: boolean; instance_ids?: string[] }, ctx: z.RefinementCtx) => {
  if (body.all !== true && body.instance_ids === undefined) {
    ctx.addIssue({ code: "custom", path: ["instance_ids"], message: 'name the instances: "all": true, or "instance_ids": ["3", "7"]' });
  }
  if (body.all === true && body.instance_ids !== undefined) ctx.addIssue({ code: "custom", path: ["all"], message: "all and instance_ids exclude each other" });
};
const objectBody = { error: (issue: { code: string }) => (issue.code === "invalid_type" ? 'the body must be a JSON object such as {"all": true}' : undefined) };

export const UpgradeBody = z.strictObject({ ...selection, ...changes, ...rollout }, objectBody).superRefine(requireSelection);
export const DriftBody = z.strictObject({ ...selection, concurrency: rollout.concurrency }, objectBody).superRefine(requireSelection);
export const PreviewBody = z.strictObject(changes, objectBody);
/** `POST /system/rekey` (docs/rekey.md): every tenant stack by default. */
export const RekeyBody = z.strictObject({ instance_ids: selection.instance_ids, ...rollout }, { error: (issue: { code: string }) => (issue.code === "invalid_type" ? 'the body must be a JSON object such as {} or {"instance_ids": ["3", "7"]}' : undefined) });
export const JobsQuery = z.object({
  instance_id: z.string().max(20).optional(),
  kind: z.enum(JOB_KINDS, { message: `kind must be one of ${JOB_KINDS.join(", ")}` }).optional(),
  status: z.enum(["queued", "running", "succeeded", "failed"], { message: "status must be one of queued, running, succeeded, failed" }).optional(),
  limit: z.coerce.number({ message: "limit must be a whole number from 1 to 500" }).int().min(1).max(500).default(50),
});

export const ActionResult = z.object({ success: z.boolean(), message: z.string() });
export const Urls = { frontend_url: z.string(), api_url: z.string(), matrix_url: z.string() };
export const ProvisionResponse = z.object({ customer_id: z.union([z.number(), z.string()]), ...Urls, success: z.boolean(), message: z.string() });
export const ProvisionAccepted = ProvisionResponse.extend({ job_id: z.string(), status: z.enum(["queued", "running", "succeeded", "failed"]) });
export const UninstallResponse = ActionResult.extend({ kept_volumes: z.array(z.string()) });
export const UninstallAccepted = z.object({ job_id: z.string(), status: z.enum(["queued", "running"]), success: z.boolean(), message: z.string() });
export const SyncResponse = z.object({
  total: z.number(),
  synced: z.number(),
  errors: z.number(),
  updates: z.array(z.object({ instance_id: z.union([z.number(), z.string()]), old_status: z.string(), new_status: z.string(), reason: z.string() })),
});
export const JobResponse = z.object({
  job_id: z.string(),
  kind: z.enum(JOB_KINDS),
  instance_id: z.string(),
  status: z.enum(["queued", "running", "succeeded", "failed"]),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  result: z.unknown().optional(),
  error: z.object({ status_code: z.number(), detail: z.string() }).optional(),
  progress: z.array(z.object({ at: z.string(), message: z.string() })),
  summary: z.record(z.string(), z.unknown()).optional(),
});
export const JobList = z.object({ jobs: z.array(JobResponse) });
export const RekeyAccepted = z.object({ job_id: z.string(), status: z.string(), kind: z.literal("rekey") });
export const RekeySummary = z.object({
  total: z.number(),
  moved: z.number(),
  already: z.number(),
  failed: z.number(),
  skipped: z.number(),
  stopped_early: z.boolean(),
  instances: z.array(z.object({ instance_id: z.string(), status: z.enum(["moved", "already", "failed", "skipped"]), job_id: z.string().optional(), error: z.string().optional() })),
});
export const RolloutAccepted = z.object({ job_id: z.string(), status: z.string(), kind: z.literal("rollout"), total: z.number(), instance_ids: z.array(z.string()) });
export const InstanceResponse = z.looseObject({
  instance_id: z.string(),
  status: z.string().optional(),
  stack_name: z.string().nullable().optional(),
  desired_state: z.enum(["running", "stopped"]).optional(),
  tier: z.string().nullable().optional(),
  last_job_id: z.string().nullable().optional(),
  last_error: z.string().nullable().optional(),
});
export const InstanceList = z.object({ instances: z.array(InstanceResponse) });
export const ErrorResponse = z.object({ detail: z.string() });
export const ValidationErrorResponse = z.object({
  detail: z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })),
});
export const RateLimitResponse = z.object({ error: z.string() });
