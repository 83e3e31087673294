/**
 * Validates rendered objects against the Kubernetes OpenAPI schemas shipped by `kubernetes-models`.
 * An object whose kind has no schema there fails too, unless the caller lists it as a CRD it
 * accepts, so a typo in apiVersion or kind cannot slip through unvalidated.
 *
 * The shipped schemas leave `additionalProperties` open, so on their own they accept a misspelt
 * or misplaced field that the API server would drop (or reject under strict field validation,
 * which kubectl and server-side apply use). This module adds the strict check: every field must
 * be a property the OpenAPI definition declares at that spot.
 *
 * kubernetes-models ships its definitions only as compiled ajv validators (no JSON), so the
 * declared properties are read off those validators: the object is validated through a Proxy
 * that records which property names each schema node looks up. A compiled validator looks up
 * every declared property whether or not it is present, and follows `$ref`s by handing the child
 * value (the Proxy's child) to the referenced validator, so the recorded names at each node are
 * exactly that definition's properties. An `additionalProperties` map (labels, annotations,
 * ConfigMap data, resource lists) has its validator look up each key present to check the value,
 * so any key passes there while values stay checked. A node whose validator looks up nothing
 * declares no properties (RawExtension, `x-kubernetes-preserve-unknown-fields`) and is a leaf,
 * like the string/number leaves IntOrString and Quantity.
 *
 * The schemas are Kubernetes 1.33's (kubernetes-models 4.5.1). A field added by a later release
 * needs a narrow allowance here naming the field path and the release that added it; none is
 * needed today.
 */
import type { KubeObject } from "../../infra/render/manifests";

type ModelClass = (new (data: unknown) => object) & { prototype: { validate(this: object): void } };

function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, ModelClass>;
    return mod[kind];
  } catch {
    return undefined;
  }
}

/**
 * Runs `Model`'s validator over `data` through recording proxies; returns, for every object node
 * it visited (keyed by the raw node), the property names it looked up. Throws the schema error
 * as the model would.
 */
function traceValidation(Model: ModelClass, data: object): Map<object, Set<string>> {
  const traces = new Map<object, Set<string>>();
  const proxies = new Map<object, object>();
  const wrap = (target: object): object => {
    const cached = proxies.get(target);
    if (cached) return cached;
    const looked = new Set<string>();
    if (!Array.isArray(target)) traces.set(target, looked);
    const proxy = new Proxy(target, {
      get(t, key, receiver) {
        const value: unknown = Reflect.get(t, key, receiver);
        if (typeof key !== "string") return value;
        looked.add(key);
        const own = Object.prototype.hasOwnProperty.call(t, key);
        return own && value !== null && typeof value === "object" ? wrap(value) : value;
      },
      has(t, key) {
        if (typeof key === "string") looked.add(key);
        return Reflect.has(t, key);
      },
    });
    proxies.set(target, proxy);
    return proxy;
  };
  Model.prototype.validate.call(wrap(data));
  return traces;
}

function unknownFields(value: unknown, path: string, traces: Map<object, Set<string>>, out: string[]): void {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, `${path}[${i}]`, traces, out));
    return;
  }
  const looked = traces.get(value);
  // Not visited or nothing looked up: the definition declares no properties (an opaque leaf).
  if (!looked || looked.size === 0) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (!looked.has(key)) {
      out.push(childPath);
      continue;
    }
    unknownFields(child, childPath, traces, out);
  }
}

/**
 * Throws with the object's kind/name and the schema message when `obj` is not schema-valid, or
 * with every field path the schema does not declare (`unknown field "spec.template..."`).
 */
export function validateKubeObject(obj: KubeObject, allowedCustomKinds: string[] = []): void {
  const Model = modelFor(obj.apiVersion, obj.kind);
  const id = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? "?"}`;
  if (!Model) {
    if (allowedCustomKinds.includes(`${obj.apiVersion}/${obj.kind}`)) return;
    throw new Error(`${id}: no Kubernetes schema for this apiVersion/kind`);
  }
  // The model drops undefined-valued keys, as JSON serialisation to the API server would.
  const model = new Model(obj);
  let traces: Map<object, Set<string>>;
  try {
    traces = traceValidation(Model, model);
  } catch (err) {
    throw new Error(`${id}: ${(err as Error).message}`);
  }
  const unknown: string[] = [];
  unknownFields(model, "", traces, unknown);
  if (unknown.length > 0) throw new Error(`${id}: ${unknown.map((p) => `unknown field "${p}"`).join(", ")}`);
}

export function validateKubeObjects(objects: KubeObject[], allowedCustomKinds: string[] = []): void {
  for (const obj of objects) validateKubeObject(obj, allowedCustomKinds);
}
