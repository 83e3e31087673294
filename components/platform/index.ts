/** The platform component: `new Platform("platform", parsePlatformValues(values), { providers: [k8sProvider] })`. */
export { Platform } from "./platform";
export { parsePlatformValues, PLATFORM_DEFAULTS } from "./values";
export { validatePlatformArgs } from "./validate";
export { INSTANCES_NAMESPACE, platformNamespace } from "./names";
export type * from "./args";
