/** The shared values vocabulary (infra/values/fields.ts): every leaf valid and invalid, with its message. */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import type { z } from "zod";
import * as f from "../../../infra/values/fields";

/** The parsed value, or throws with the first message. */
function ok<S extends z.ZodType>(leaf: S, input: unknown): z.output<S> {
  const r = leaf.safeParse(input);
  if (!r.success) throw new Error(r.error.issues[0].message);
  return r.data;
}
/** The first issue's message for an invalid input. */
function fail(leaf: z.ZodType, input: unknown): string {
  const r = leaf.safeParse(input);
  expect(r.success, `expected ${JSON.stringify(input)} to fail`).to.equal(false);
  return r.error!.issues[0].message;
}

describe("infra/values/fields: the one values vocabulary", () => {
  describe("strings", () => {
    it("nullableString: strings; null reads empty; numbers are refused", () => {
      expect(ok(f.nullableString, "a")).to.equal("a");
      expect(ok(f.nullableString, null)).to.equal("");
      expect(fail(f.nullableString, 3)).to.match(/expected string, received number/);
    });
    it("optionalString: strings; absent and null read empty; numbers are refused", () => {
      expect(ok(f.optionalString, "a")).to.equal("a");
      expect(ok(f.optionalString, undefined)).to.equal("");
      expect(ok(f.optionalString, null)).to.equal("");
      expect(fail(f.optionalString, 1)).to.equal("must be a string");
    });
    it("nullableText: strings and numbers in string form; null reads empty; booleans are refused", () => {
      expect(ok(f.nullableText, 30)).to.equal("30");
      expect(ok(f.nullableText, "30")).to.equal("30");
      expect(ok(f.nullableText, null)).to.equal("");
      expect(fail(f.nullableText, true)).to.match(/^Invalid input/);
    });
    it("scalarText: any scalar as quote prints it; null reads empty; maps are refused", () => {
      expect(ok(f.scalarText, true)).to.equal("true");
      expect(ok(f.scalarText, 1.5)).to.equal("1.5");
      expect(ok(f.scalarText, null)).to.equal("");
      expect(fail(f.scalarText, { a: 1 })).to.equal("must be a string, number or boolean; quote it or fix the indentation");
    });
    it("text: strings and numbers in string form; null is refused naming what it got", () => {
      expect(ok(f.text, 1234)).to.equal("1234");
      expect(ok(f.text, "x")).to.equal("x");
      expect(fail(f.text, null)).to.equal("expected a string, got null; quote the value");
      expect(fail(f.text, [1])).to.equal("expected a string, got a list; quote the value");
    });
    it("textList: a list of text", () => {
      expect(ok(f.textList, ["a", 1])).to.deep.equal(["a", "1"]);
      expect(fail(f.textList, "a")).to.equal("expected a list of strings, got string");
      expect(fail(f.textList, [null])).to.equal("expected a string, got null; quote the value");
    });
    it("nullableStringList: a list of strings; null reads []", () => {
      expect(ok(f.nullableStringList, ["a"])).to.deep.equal(["a"]);
      expect(ok(f.nullableStringList, null)).to.deep.equal([]);
      expect(fail(f.nullableStringList, "a")).to.equal("must be a list of strings");
    });
    it("nullableStringMap: a map of strings; null reads {}; unquoted numbers are refused", () => {
      expect(ok(f.nullableStringMap, { a: "b" })).to.deep.equal({ a: "b" });
      expect(ok(f.nullableStringMap, null)).to.deep.equal({});
      expect(fail(f.nullableStringMap, { a: 1 })).to.equal("must be a string (quote numbers and booleans)");
      expect(fail(f.nullableStringMap, ["a"])).to.equal("must be a map of strings");
    });
  });

  describe("booleans", () => {
    it("nullableBool: YAML booleans; null reads false; strings are refused", () => {
      expect(ok(f.nullableBool, true)).to.equal(true);
      expect(ok(f.nullableBool, null)).to.equal(false);
      expect(fail(f.nullableBool, "true")).to.match(/expected boolean, received string/);
    });
    it("trueFalse: true/false and their strings; anything else is refused", () => {
      expect(ok(f.trueFalse, "true")).to.equal(true);
      expect(ok(f.trueFalse, false)).to.equal(false);
      expect(ok(f.trueFalse, "false")).to.equal(false);
      expect(fail(f.trueFalse, "yes")).to.equal("expected true or false, got string");
      expect(fail(f.trueFalse, null)).to.equal("expected true or false, got null");
    });
    it("truthyFlag: the charts' truthy test over any scalar; null reads false", () => {
      for (const v of [true, "True", 1, "yes", "on"]) expect(ok(f.truthyFlag, v), String(v)).to.equal(true);
      for (const v of [false, "false", 0, "", null, "no"]) expect(ok(f.truthyFlag, v), String(v)).to.equal(false);
      expect(fail(f.truthyFlag, [])).to.equal("must be a string, number or boolean; quote it or fix the indentation");
    });
    it("flagText: kept as written (numbers as strings); null is refused", () => {
      expect(ok(f.flagText, true)).to.equal(true);
      expect(ok(f.flagText, "yes")).to.equal("yes");
      expect(ok(f.flagText, 1)).to.equal("1");
      expect(fail(f.flagText, null)).to.equal('expected true/false (or "1", "yes", "on"), got null');
    });
  });

  describe("numbers", () => {
    it("int and count: unquoted whole numbers; count 0 or more", () => {
      expect(ok(f.int, -2)).to.equal(-2);
      expect(fail(f.int, "2")).to.equal("must be a whole number (unquoted in YAML)");
      expect(fail(f.int, 1.5)).to.equal("must be a whole number");
      expect(ok(f.count, 0)).to.equal(0);
      expect(fail(f.count, -1)).to.equal("must be 0 or more");
    });
    it("port: 1 to 65535", () => {
      expect(ok(f.port, 8080)).to.equal(8080);
      expect(fail(f.port, 0)).to.equal("must be a port number from 1 to 65535");
      expect(fail(f.port, 65536)).to.equal("must be a port number from 1 to 65535");
      expect(fail(f.port, null)).to.equal("must be a whole number (unquoted in YAML)");
    });
    it("coercedInt and coercedNumber: quoted numbers too; null reads 0", () => {
      expect(ok(f.coercedInt, "3")).to.equal(3);
      expect(ok(f.coercedInt, null)).to.equal(0);
      expect(fail(f.coercedInt, "1.5")).to.equal("must be a whole number");
      expect(fail(f.coercedInt, "x")).to.equal("must be a whole number");
      expect(ok(f.coercedNumber, "0.5")).to.equal(0.5);
      expect(fail(f.coercedNumber, "x")).to.equal("must be a number");
    });
    it("intOrPercent: a count or a percentage; null and empty mean unset", () => {
      expect(ok(f.intOrPercent, 1)).to.equal(1);
      expect(ok(f.intOrPercent, "50%")).to.equal("50%");
      expect(ok(f.intOrPercent, null)).to.equal("");
      expect(ok(f.intOrPercent, "")).to.equal("");
      expect(fail(f.intOrPercent, "half")).to.equal("must be a whole number or a percentage such as 50%");
      expect(fail(f.intOrPercent, true)).to.equal("must be a whole number or a percentage such as 50%");
    });
  });

  describe("Kubernetes formats", () => {
    it("pullPolicy: one of the three; null reads empty and is refused", () => {
      expect(ok(f.pullPolicy, "Never")).to.equal("Never");
      expect(fail(f.pullPolicy, null)).to.equal("must be Always, IfNotPresent or Never");
      expect(fail(f.pullPolicy, "always")).to.equal("must be Always, IfNotPresent or Never");
    });
    it("pullPolicyEnum: empty allowed when asked, with its meaning in the message", () => {
      expect(ok(f.pullPolicyEnum(true), "")).to.equal("");
      expect(fail(f.pullPolicyEnum(true), "x")).to.equal("must be Always, IfNotPresent, Never or empty");
      expect(fail(f.pullPolicyEnum("the tenant default"), "x")).to.equal("must be Always, IfNotPresent, Never or empty (the tenant default)");
      expect(fail(f.pullPolicyEnum(), "")).to.equal("must be Always, IfNotPresent or Never");
    });
    it("accessMode: the PVC access modes", () => {
      expect(ok(f.accessMode, "ReadWriteMany")).to.equal("ReadWriteMany");
      expect(fail(f.accessMode, "RWX")).to.equal('"RWX" is not a PVC access mode; use ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod');
    });
    it("quantity and scalarSizeToTi: sizes; only quantity takes P/Pi, only scalarSizeToTi takes numbers", () => {
      expect(ok(f.quantity, "1.5Pi")).to.equal("1.5Pi");
      expect(fail(f.quantity, "500m")).to.equal("must be a Kubernetes quantity such as 10Gi");
      expect(fail(f.quantity, 10)).to.match(/expected string, received number/);
      expect(ok(f.scalarSizeToTi, 10)).to.equal("10");
      expect(fail(f.scalarSizeToTi, "1Pi")).to.equal("must be a Kubernetes quantity such as 10Gi");
    });
    it("emptyOrQuantity: a quantity or empty, the message suggesting the example", () => {
      expect(ok(f.emptyOrQuantity("1Gi"), null)).to.equal("");
      expect(ok(f.emptyOrQuantity("1Gi"), "2Ti")).to.equal("2Ti");
      expect(fail(f.emptyOrQuantity("1Gi"), "2 GB")).to.equal("must be a Kubernetes quantity such as 1Gi");
      expect(fail(f.quantity, "")).to.equal("must be a Kubernetes quantity such as 10Gi");
    });
    it("nameValue: empty or a DNS label", () => {
      expect(ok(f.nameValue, null)).to.equal("");
      expect(ok(f.nameValue, "my-app1")).to.equal("my-app1");
      expect(fail(f.nameValue, "My_App")).to.equal("must be lower-case letters, digits and '-' (it names Kubernetes objects), or empty");
      expect(f.EMPTY_OR_DNS_LABEL.test("-a")).to.equal(false);
    });
  });

  describe("raw objects and resources", () => {
    it("rawMap and rawList: verbatim; null reads {} and []", () => {
      expect(ok(f.rawMap, { a: { b: 1 } })).to.deep.equal({ a: { b: 1 } });
      expect(ok(f.rawMap, null)).to.deep.equal({});
      expect(fail(f.rawMap, "x")).to.equal("must be a map (a Kubernetes object written as YAML keys)");
      expect(ok(f.rawList, null)).to.deep.equal([]);
      expect(fail(f.rawList, {})).to.equal("must be a list (YAML '- ' entries)");
      expect(fail(f.rawList, ["x"])).to.equal("must be a map (a Kubernetes object written as YAML keys)");
    });
    it("dropNulls: null leaves go, lists stay", () => {
      expect(f.dropNulls({ a: null, b: { c: null, d: 1 }, e: [null] })).to.deep.equal({ b: { d: 1 }, e: [null] });
    });
    it("resources: null kept, null leaves dropped, only requests/limits", () => {
      const leaf = f.resources("docs/x.md");
      expect(ok(leaf, null)).to.equal(null);
      expect(ok(leaf, { requests: { cpu: 1 }, limits: null })).to.deep.equal({ requests: { cpu: 1 } });
      expect(fail(leaf, { request: {} })).to.equal('unknown key "request"; did you mean "requests"? (every key: docs/x.md)');
      expect(fail(leaf, "1Gi")).to.equal("expected a map with requests/limits (or null for none), got string");
      // The union reports its own message for a bad quantity too (the instance chart's behaviour today).
      expect(fail(leaf, { limits: { cpu: true } })).to.equal("expected a map with requests/limits (or null for none), got object");
    });
    it("looseResources: other keys dropped, quantities as strings, null reads {}", () => {
      expect(ok(f.looseResources, { requests: { cpu: 1 }, other: 1 })).to.deep.equal({ requests: { cpu: "1" } });
      expect(ok(f.looseResources, null)).to.deep.equal({});
      expect(fail(f.looseResources, "x")).to.match(/^Invalid input/);
    });
  });

  describe("secrets", () => {
    const output = pulumi.output("s");
    it("nullableSecret: a string or an Output; null reads empty; numbers are refused with the component's way to set one", () => {
      const leaf = f.nullableSecret("set it with pulumi config set --secret");
      expect(ok(leaf, "s")).to.equal("s");
      expect(ok(leaf, output)).to.equal(output);
      expect(ok(leaf, null)).to.equal("");
      expect(fail(leaf, 1)).to.equal("must be a string (quote it) or a Pulumi Output<string>; set it with pulumi config set --secret");
    });
    it("secret: a string, a number as text or an Output; null is refused", () => {
      expect(ok(f.secret, 12)).to.equal("12");
      expect(ok(f.secret, output)).to.equal(output);
      expect(fail(f.secret, null)).to.equal("expected a string, got null; quote the value");
    });
  });

  describe("strictMap", () => {
    const map = f.strictMap({ storage: f.nullableString.optional(), mindroom_image: f.nullableString.optional() }, "docs/x.md#values-keys");
    it("names an unknown key and the closest known one, or says to remove it", () => {
      expect(ok(map, { storage: "a", mindroom_image: null })).to.deep.equal({ storage: "a", mindroom_image: "" });
      expect(fail(map, { storag: "a" })).to.equal('unknown key "storag"; did you mean "storage"? (every key: docs/x.md#values-keys)');
      expect(fail(map, { mindroom_imgae: "a" })).to.equal('unknown key "mindroom_imgae"; did you mean "mindroom_image"? (every key: docs/x.md#values-keys)');
      expect(fail(map, { zzz: 1 })).to.equal('unknown key "zzz"; remove it (every key: docs/x.md#values-keys)');
    });
    it("refuses a value that is no map", () => {
      expect(fail(map, "a")).to.equal("expected a map, got string");
      expect(fail(map, [])).to.equal("expected a map, got a list");
      // Absent is not "no map": the caller's own message for a missing key stays possible.
      expect(fail(map, undefined)).to.match(/^Invalid input: expected object, received undefined/);
    });
    it("editDistance and closestKey: case-insensitive, close enough only", () => {
      expect(f.editDistance("Storage", "storage")).to.equal(0);
      expect(f.editDistance("kitten", "sitting")).to.equal(3);
      expect(f.closestKey("replicas", ["replicaCount", "replicas2"])).to.equal("replicas2");
      expect(f.closestKey("x", ["replicaCount"])).to.equal(undefined);
      expect(f.kindOf(undefined)).to.equal("undefined");
    });
  });
});

describe("infra/values/fields: resources merged over a default", () => {
  const leaf = f.resourcesOverDefault("docs/x.md");
  it("resourcesOverDefault: returned as written, null leaves kept for the merge; null kept", () => {
    expect(ok(leaf, null)).to.equal(null);
    const given = { requests: { cpu: 1, memory: null }, limits: null };
    expect(ok(leaf, given)).to.equal(given);
    expect(ok(leaf, { limit: null })).to.deep.equal({ limit: null });
  });
  it("resourcesOverDefault: refused as resources refuses it, with its messages and paths", () => {
    for (const bad of [{ request: {} }, "x", { requests: { cpu: [] } }, { limits: "1Gi" }]) {
      expect(fail(leaf, bad), JSON.stringify(bad)).to.equal(fail(f.resources("docs/x.md"), bad));
    }
    expect(fail(leaf, "x")).to.equal("expected a map with requests/limits (or null for none), got string");
    const map = f.strictMap({ res: leaf.optional() }, "docs/x.md");
    expect(map.safeParse({ res: { request: {} } }).error?.issues.map((i) => i.path)).to.deep.equal([["res"]]);
    expect(map.safeParse({}).success).to.equal(true);
  });
});
