/**
 * Values of the runtime chart's later features (spec §12). An operator's values file may carry
 * them switched off (a copy of upstream's values.yaml does); switching one on is an error that
 * names the key, never a silent no-op, because the deployment would lose behaviour unannounced.
 */
import { z } from "zod";

const notYet = (key: string) => `not supported yet: ${key} is a later feature of the runtime component (see docs/runtime.md)`;

/** A section with an `enabled` flag (or a scalar): fine while off or empty. */
export function laterToggle(key: string) {
  return z
    .unknown()
    .optional()
    .superRefine((v, ctx) => {
      const on = typeof v === "object" && v !== null ? (v as { enabled?: unknown }).enabled : v;
      if (on === true || on === "true" || (typeof on === "string" && on !== "" && on !== "false")) {
        const path = typeof v === "object" && v !== null ? ["enabled"] : [];
        ctx.addIssue({ code: "custom", path, message: `${notYet(`${key}${path.length ? ".enabled" : ""}`)}; remove it or switch it off` });
      }
    });
}
