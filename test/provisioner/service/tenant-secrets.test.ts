import { expect } from "chai";
import { FakeTenantKube } from "../../../provisioner/fakes/kube";
import { credentialsKey, readTenantSecret, sandboxToken, storageClassFor, storedValue } from "../../../provisioner/service/tenant-secrets";

describe("provisioner service: credentials key, sandbox token, storage class", () => {
  describe("credentials-encryption key decision table (§6.7)", () => {
    const derivedKey = "DERIVED";
    it("first provisioning of a new id → the derived key (no read needed)", () => {
      expect(credentialsKey({ isNew: true, storedKey: null, optIn: false, derivedKey })).to.equal("DERIVED");
    });
    it("re-provision with a stored key → that key, unchanged, even with the opt-in", () => {
      expect(credentialsKey({ isNew: false, storedKey: "OLD", optIn: false, derivedKey })).to.equal("OLD");
      expect(credentialsKey({ isNew: false, storedKey: "OLD", optIn: true, derivedKey })).to.equal("OLD");
    });
    it("re-provision without a stored key but with the opt-in → the derived key", () => {
      expect(credentialsKey({ isNew: false, storedKey: null, optIn: true, derivedKey })).to.equal("DERIVED");
    });
    it("re-provision without a stored key and without the opt-in → empty (encryption stays off)", () => {
      expect(credentialsKey({ isNew: false, storedKey: null, optIn: false, derivedKey })).to.equal("");
    });
    it("a blank stored value counts as none", () => {
      expect(storedValue({ credentials_encryption_key: "  \n" }, "credentials_encryption_key")).to.equal(null);
      expect(storedValue({ credentials_encryption_key: " k " }, "credentials_encryption_key")).to.equal("k");
      expect(storedValue(null, "credentials_encryption_key")).to.equal(null);
    });
    it("a failing Secret read is a 500, never a fallback", async () => {
      const kube = new FakeTenantKube();
      kube.failOn.set("readSecret:mindroom-api-keys-5", new Error("Forbidden"));
      try {
        await readTenantSecret(kube, "5", "credentials_encryption_key");
        expect.fail("should throw");
      } catch (err) {
        expect(err).to.include({ statusCode: 500, detail: "Failed to inspect existing Secret value credentials_encryption_key for instance 5: Forbidden" });
      }
    });
  });

  describe("sandbox token (Deviation 7)", () => {
    it("prefers the configured token, then the stored one, else a new 64-hex token", () => {
      expect(sandboxToken("CONF", "STORED")).to.equal("CONF");
      expect(sandboxToken("", "STORED")).to.equal("STORED");
      const a = sandboxToken("", null);
      expect(a).to.match(/^[0-9a-f]{64}$/);
      expect(sandboxToken("", null)).to.not.equal(a);
    });
  });

  describe("storage class preservation (§6.6)", () => {
    it("new tenant → the configured class, or none (component default) when empty", async () => {
      const kube = new FakeTenantKube();
      expect(await storageClassFor(kube, "1", true, "hcloud-volumes")).to.equal("hcloud-volumes");
      expect(await storageClassFor(kube, "1", true, "")).to.equal(null);
      expect(kube.calls).to.deep.equal([]);
    });
    it("re-provision keeps the one class of its PVCs over the configured one", async () => {
      const kube = new FakeTenantKube();
      kube.pvcs.set("mindroom-storage-2", "local-path");
      kube.pvcs.set("synapse-storage-2", "local-path");
      expect(await storageClassFor(kube, "2", false, "hcloud-volumes")).to.equal("local-path");
    });
    it("re-provision without PVCs (or with empty classes) → the configured class", async () => {
      const kube = new FakeTenantKube();
      kube.pvcs.set("mindroom-storage-3", "");
      expect(await storageClassFor(kube, "3", false, "hcloud-volumes")).to.equal("hcloud-volumes");
    });
    it("two different classes → 500 naming both; a failed read → 500", async () => {
      const kube = new FakeTenantKube();
      kube.pvcs.set("mindroom-storage-4", "local-path");
      kube.pvcs.set("synapse-storage-4", "hcloud-volumes");
      await storageClassFor(kube, "4", false, "").then(
        () => expect.fail("should throw"),
        (err) => expect(err.detail).to.equal("Instance 4 has PVCs with different storage classes: hcloud-volumes, local-path"),
      );
      kube.failOn.set("pvcStorageClass:mindroom-storage-4", new Error("timeout"));
      await storageClassFor(kube, "4", false, "").then(
        () => expect.fail("should throw"),
        (err) => expect(err.detail).to.equal("Failed to inspect existing PVC storage class for instance 4: timeout"),
      );
    });
  });
});
