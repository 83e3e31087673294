import { expect } from "chai";
import { parse } from "yaml";
import { join } from "node:path";
import { loadValuesFiles } from "../../../infra/values/load";
import { container, K8S_RWX, renderArgs, renderValues } from "./helpers";

type R = Awaited<ReturnType<typeof renderArgs>>;
const config = (r: R) => parse(r.get("ConfigMap", "mindroom-config-t1").data["config.yaml"]);
const fixture = (name: string) => join(__dirname, "../../fixtures/instance", name);

describe("MindroomInstance: config, PVCs, Services, NetworkPolicy, Ingress (spec §17 items 65-76)", () => {
  let r: R;
  before(async () => {
    r = await renderArgs({ customer: "t1" });
  });

  it("65: config.yaml authorization.global_users equals authorizationGlobalUsers (default []), other defaults kept", async () => {
    expect(config(r).authorization).to.deep.include({ global_users: [], default_room_access: false, config_command_enabled: false });
    const x = await renderValues({ customer: "t1", authorizationGlobalUsers: ["@owner:t1.mindroom.chat"] });
    expect(config(x).authorization.global_users).to.deep.equal(["@owner:t1.mindroom.chat"]);
    expect(config(x).router.model).to.equal("gpt5luna");
    expect(config(x).timezone).to.equal("America/Los_Angeles");
  });

  it("66: config.yaml matrix_room_access has the §2 defaults and follows matrixRoomAccess", async () => {
    expect(config(r).matrix_room_access).to.deep.equal({
      mode: "single_user_private", multi_user_join_rule: "public", publish_to_room_directory: false, invite_only_rooms: [], reconcile_existing_rooms: false,
    });
    const x = await renderValues({ customer: "t1", matrixRoomAccess: { mode: "multi_user", reconcileExistingRooms: "true", inviteOnlyRooms: ["ops"] } });
    expect(config(x).matrix_room_access).to.deep.equal({
      mode: "multi_user", multi_user_join_rule: "public", publish_to_room_directory: false, invite_only_rooms: ["ops"], reconcile_existing_rooms: true,
    });
  });

  it("67: both PVCs request storage with hcloud-volumes and RWO; storageClassName \"\" stays an empty string", async () => {
    for (const [name, app] of [["mindroom-storage-t1", "mindroom"], ["synapse-storage-t1", "synapse"]]) {
      const pvc = r.get("PersistentVolumeClaim", name);
      expect(pvc.spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "hcloud-volumes", resources: { requests: { storage: "10Gi" } } });
      expect(pvc.metadata.labels).to.deep.equal({ app, customer: "t1" });
    }
    const x = await renderValues({ customer: "t1", storageClassName: "", storageAccessMode: "ReadWriteMany", synapseStorageAccessMode: "ReadWriteOncePod" });
    expect(x.get("PersistentVolumeClaim", "mindroom-storage-t1").spec).to.include({ storageClassName: "" });
    expect(x.get("PersistentVolumeClaim", "mindroom-storage-t1").spec.accessModes).to.deep.equal(["ReadWriteMany"]);
    expect(x.get("PersistentVolumeClaim", "synapse-storage-t1").spec.accessModes).to.deep.equal(["ReadWriteOncePod"]);
  });

  it("68: both Services are ClusterIP: mindroom-{c} 8765 api, synapse-{c} 8008 http", () => {
    expect(r.get("Service", "mindroom-t1").spec).to.deep.equal({ type: "ClusterIP", selector: { app: "mindroom", customer: "t1" }, ports: [{ name: "api", port: 8765, targetPort: 8765 }] });
    expect(r.get("Service", "synapse-t1").spec).to.deep.equal({ type: "ClusterIP", selector: { app: "synapse", customer: "t1" }, ports: [{ name: "http", port: 8008, targetPort: 8008 }] });
  });

  it("69: NetworkPolicy selects customer={c} with policyTypes Ingress and Egress", () => {
    const np = r.get("NetworkPolicy", "instance-traffic-controls-t1");
    expect(np.spec.podSelector).to.deep.equal({ matchLabels: { customer: "t1" } });
    expect(np.spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(np.metadata.labels).to.deep.equal({ "app.kubernetes.io/name": "mindroom-instance", customer: "t1" });
  });

  it("70: the first ingress rule opens 8765/8008 to the ingress-nginx controller and same-customer pods only", () => {
    expect(r.get("NetworkPolicy", "instance-traffic-controls-t1").spec.ingress[0]).to.deep.equal({
      from: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
          podSelector: { matchLabels: { "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "ingress-nginx" } },
        },
        { podSelector: { matchLabels: { customer: "t1" } } },
      ],
      ports: [{ port: 8765, protocol: "TCP" }, { port: 8008, protocol: "TCP" }],
    });
  });

  it("71: the second ingress rule opens the worker port to app=mindroom pods of the customer only", async () => {
    const ingress = r.get("NetworkPolicy", "instance-traffic-controls-t1").spec.ingress;
    expect(ingress).to.have.length(2);
    expect(ingress[1]).to.deep.equal({ from: [{ podSelector: { matchLabels: { app: "mindroom", customer: "t1" } } }], ports: [{ port: 8766, protocol: "TCP" }] });
    const k = await renderValues({ customer: "t1", ...K8S_RWX, kubernetesWorkerPort: "8800" });
    expect(k.get("NetworkPolicy", "instance-traffic-controls-t1").spec.ingress[1].ports).to.deep.equal([{ port: 8800, protocol: "TCP" }]);
  });

  it("72: egress is limited to same-customer pods on 8008/8765/worker port, DNS on 53 UDP+TCP, and 80/443", () => {
    const egress = r.get("NetworkPolicy", "instance-traffic-controls-t1").spec.egress;
    expect(egress).to.have.length(3);
    expect(egress[0]).to.deep.equal({ to: [{ podSelector: { matchLabels: { customer: "t1" } } }], ports: [{ port: 8008, protocol: "TCP" }, { port: 8765, protocol: "TCP" }, { port: 8766, protocol: "TCP" }] });
    expect(egress[1].ports).to.deep.equal([{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }]);
    expect(egress[2].ports).to.deep.equal([{ port: 80, protocol: "TCP" }, { port: 443, protocol: "TCP" }]);
  });

  it("(issue 9) DNS egress reaches only the cluster DNS: k3s's CoreDNS pods (k8s-app=kube-dns) in kube-system, one peer with both selectors", async () => {
    for (const values of [{ customer: "t1" }, { customer: "t1", ...K8S_RWX }]) {
      const egress = (await renderValues(values)).get("NetworkPolicy", "instance-traffic-controls-t1").spec.egress;
      // One peer holding both selectors means "those pods in that namespace"; two peers would mean either.
      expect(egress[1].to).to.deep.equal([
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } },
      ]);
      // No other rule opens 53: a rule without `to`, or with an ipBlock, would let DNS out to any server.
      const opens53 = egress.filter((rule: { ports: { port: number }[] }) => rule.ports.some((p) => p.port === 53));
      expect(opens53).to.deep.equal([egress[1]]);
      for (const rule of egress) expect(rule.to, JSON.stringify(rule)).to.have.length.greaterThan(0);
    }
  });

  it("every NetworkPolicy port names its protocol: the API server defaults TCP into the atomic ingress/egress lists, so a port without one made the stack's server-side apply conflict with a Helm-era live object (real kube-apiserver: 409 on .spec.ingress/.spec.egress)", async () => {
    for (const values of [{ customer: "t1" }, { customer: "t1", ...K8S_RWX, kubernetesWorkerPort: "8800" }]) {
      const spec = (await renderValues(values)).get("NetworkPolicy", "instance-traffic-controls-t1").spec;
      const ports = [...spec.ingress, ...spec.egress].flatMap((rule: { ports: { protocol?: string }[] }) => rule.ports);
      expect(ports.length).to.be.greaterThan(5);
      for (const port of ports) expect(port, JSON.stringify(port)).to.have.property("protocol").that.is.oneOf(["TCP", "UDP"]);
    }
  });

  it("73: (Deviation 3) the 80/443 rule's only peer is 0.0.0.0/0 except 169.254.169.254/32", () => {
    expect(r.get("NetworkPolicy", "instance-traffic-controls-t1").spec.egress[2].to).to.deep.equal([
      { ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } },
    ]);
  });

  it("74: Ingress {c}-ingress uses class nginx with the five annotations", () => {
    const ing = r.get("Ingress", "t1-ingress");
    expect(ing.spec.ingressClassName).to.equal("nginx");
    expect(ing.metadata.annotations).to.include({
      "kubernetes.io/ingress.class": "nginx",
      "cert-manager.io/cluster-issuer": "letsencrypt-prod",
      "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
      "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
    });
    expect(ing.metadata).to.not.have.property("labels");
  });

  it("75: Ingress TLS covers the three hosts with secret mindroom-{c}-tls", () => {
    expect(r.get("Ingress", "t1-ingress").spec.tls).to.deep.equal([
      { hosts: ["t1.mindroom.chat", "t1.api.mindroom.chat", "t1.matrix.mindroom.chat"], secretName: "mindroom-t1-tls" },
    ]);
  });

  it("76: Ingress routes the frontend and api hosts to mindroom-{c}:8765 and the matrix host to synapse-{c}:8008", () => {
    const routes = r.get("Ingress", "t1-ingress").spec.rules.map((rule: { host: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { number: number } } } }[] } }) => {
      const p = rule.http.paths[0];
      return `${rule.host}${p.path} ${p.pathType} -> ${p.backend.service.name}:${p.backend.service.port.number}`;
    });
    expect(routes).to.deep.equal([
      "t1.mindroom.chat/ Prefix -> mindroom-t1:8765",
      "t1.api.mindroom.chat/ Prefix -> mindroom-t1:8765",
      "t1.matrix.mindroom.chat/ Prefix -> synapse-t1:8008",
    ]);
  });
});

describe("MindroomInstance: profiles (spec §17 item 81)", () => {
  it("81: the pro profile gives 25Gi PVCs, 1Gi/500m→4Gi/2000m for mindroom and synapse, 512Mi/250m→2Gi/1000m for the sidecar", async () => {
    const r = await renderValues({ ...loadValuesFiles([fixture("pro.yaml")]), customer: "t1" });
    for (const name of ["mindroom-storage-t1", "synapse-storage-t1"]) {
      expect(r.get("PersistentVolumeClaim", name).spec.resources.requests.storage).to.equal("25Gi");
    }
    const big = { requests: { memory: "1Gi", cpu: "500m" }, limits: { memory: "4Gi", cpu: "2000m" } };
    expect(container(r.get("Deployment", "mindroom-t1"), "mindroom").resources).to.deep.equal(big);
    expect(container(r.get("Deployment", "synapse-t1"), "synapse").resources).to.deep.equal(big);
    expect(container(r.get("Deployment", "mindroom-t1"), "sandbox-runner").resources).to.deep.equal({
      requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" },
    });
  });
});
