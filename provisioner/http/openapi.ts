/** `GET /openapi.json`: OpenAPI 3.1 generated from the zod schemas the routes validate with. */
import { z } from "zod";
import { logsQueryParameters } from "./logs-route";
import * as s from "./schemas";

const json = (schema: z.ZodType, io: "input" | "output" = "output") => ({ "application/json": { schema: z.toJSONSchema(schema, { io, unrepresentable: "any" }) } });
const reply = (description: string, schema: z.ZodType) => ({ description, content: json(schema) });
const idParam = { name: "instance_id", in: "path", required: true, schema: z.toJSONSchema(s.InstanceIdParam) };
const common = {
  "401": reply("Missing or wrong bearer token", s.ErrorResponse),
  "422": reply("Schema validation failed", s.ValidationErrorResponse),
  "429": reply("Rate limit exceeded", s.RateLimitResponse),
};
const bearer = [{ bearer: [] }];

export function openApiDocument(): Record<string, unknown> {
  const action = (summary: string) => ({
    summary,
    security: bearer,
    parameters: [idParam],
    responses: { "200": reply("Done", s.ActionResult), "404": reply("Deployment not found", s.ErrorResponse), "500": reply("Kubernetes call failed", s.ErrorResponse), ...common },
  });
  return {
    openapi: "3.1.0",
    info: { title: "MindRoom provisioner", version: "1.0.0", description: "Upstream /system/* API (bearer PROVISIONER_API_KEY) plus jobs and instance status." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths: {
      "/system/provision": {
        post: {
          summary: "Provision a new tenant or re-provision an existing one (job)",
          security: bearer,
          parameters: [
            { name: "wait", in: "query", required: false, schema: { type: "boolean" }, description: "Run synchronously and answer like upstream" },
            { name: "Prefer", in: "header", required: false, schema: { type: "string", example: "wait=30" } },
          ],
          requestBody: { required: true, content: json(s.ProvisionBody, "input") },
          responses: {
            "200": reply("Finished (wait)", s.ProvisionResponse),
            "202": reply("Accepted; poll the Location", s.ProvisionAccepted),
            "404": reply("Re-provision of an unknown instance", s.ErrorResponse),
            "409": reply("Another operation holds the tenant stack", s.ErrorResponse),
            "413": reply("Request too large", s.ErrorResponse),
            "500": reply("Provisioning failed", s.ErrorResponse),
            "503": reply("Pulumi engine unavailable", s.ErrorResponse),
            ...common,
          },
        },
      },
      "/system/instances/{instance_id}/start": { post: action("Scale Synapse, then MindRoom, to 1") },
      "/system/instances/{instance_id}/stop": { post: action("Scale MindRoom, then Synapse, to 0") },
      "/system/instances/{instance_id}/restart": { post: action("Rolling restart of Synapse, then MindRoom") },
      "/system/instances/{instance_id}/uninstall": {
        delete: {
          summary: "Destroy the tenant stack; volumes are kept unless delete_data=true (job)",
          security: bearer,
          parameters: [idParam, { name: "delete_data", in: "query", required: false, schema: { type: "boolean", default: false } }],
          responses: { "200": reply("Uninstalled", s.UninstallResponse), "202": reply("Still running; poll the Location", s.UninstallAccepted), "409": reply("Stack busy", s.ErrorResponse), "500": reply("Destroy failed", s.ErrorResponse), ...common },
        },
      },
      "/system/sync-instances": {
        post: { summary: "Reconcile the instances table with Kubernetes and the stacks", security: bearer, responses: { "200": reply("Sync result", s.SyncResponse), "500": reply("Sync failed", s.ErrorResponse), ...common } },
      },
      "/system/rekey": {
        post: {
          summary: "Move every tenant stack (or instance_ids) to the provisioner's passphrase (job; docs/rekey.md)",
          security: bearer,
          parameters: [{ name: "Prefer", in: "header", required: false, schema: { type: "string", example: "wait=600" } }],
          requestBody: { required: false, content: json(s.RekeyBody, "input") },
          responses: {
            "200": reply("Finished (wait): per-tenant outcome", s.RekeySummary),
            "202": reply("Accepted (or the rekey already queued or running); poll the Location", s.RekeyAccepted),
            "503": reply("Pulumi engine unavailable, or a KMS secrets provider", s.ErrorResponse),
            ...common,
          },
        },
      },
      "/system/jobs/{job_id}": {
        get: {
          summary: "Job status with progress",
          security: bearer,
          parameters: [{ name: "job_id", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": reply("Job", s.JobResponse), "404": reply("Unknown or expired job", s.ErrorResponse), ...common },
        },
      },
      "/system/instances": { get: { summary: "Every known tenant", security: bearer, responses: { "200": reply("Instances", s.InstanceList), ...common } } },
      "/system/instances/{instance_id}": {
        get: { summary: "One tenant", security: bearer, parameters: [idParam], responses: { "200": reply("Instance", s.InstanceResponse), "404": reply("Unknown instance", s.ErrorResponse), ...common } },
      },
      "/system/instances/{instance_id}/logs": {
        get: {
          summary: "One container's log of a tenant pod as text/plain; follow=true streams",
          security: bearer,
          parameters: [idParam, ...logsQueryParameters()],
          responses: {
            "200": {
              description: "The log (streamed with follow=true)",
              headers: { "X-Pod": { description: "The pod read", schema: { type: "string" } }, "X-Container": { schema: { type: "string" } } },
              content: { "text/plain": { schema: { type: "string" } } },
            },
            "404": reply("No such Deployment, pod or container, or the container has not started", s.ErrorResponse),
            "500": reply("Kubernetes call failed", s.ErrorResponse),
            "503": reply("No Kubernetes credentials", s.ErrorResponse),
            ...common,
          },
        },
      },
      "/healthz": { get: { summary: "Liveness", responses: { "200": { description: "Alive" } } } },
      "/readyz": { get: { summary: "Readiness", responses: { "200": { description: "Ready" }, "503": { description: "Not ready" } } } },
      "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "Metrics" } } } },
    },
  };
}
