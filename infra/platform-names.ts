/**
 * Platform object names that code outside the platform component needs (the policy pack finds the
 * platform namespace by its backend Deployment), so infra/ never imports components/.
 */

/** Deployment (and Service) of the upstream backend: a fixed name upstream's objects refer to. */
export const PLATFORM_BACKEND_NAME = "platform-backend";
