/**
 * The agent behind its HTTP API, on libvirt's `test:///default` driver (no daemon; its state lives in this
 * process). The seed is the real one (buildSeed + generateHostKeys: `tar`, no root); the overlays and
 * libvirt secrets are in-memory stand-ins (test:///default has no disks, and virsh would reach a different,
 * empty test driver in its own process); the guest's SSH banner is faked, since no guest runs here. The
 * inventory is discovered from a fixture machine (an RTX 4090 on vfio-pci, KVM usable) plus one GPU that is
 * not VFIO-ready. Also the command line's parsing and refusals.
 *
 * Run: node --import tsx --test --test-reporter=spec host-agent/test/api.test.ts
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import sshpk from "sshpk";
import { HostAgent, type ProvisionResult } from "../src/agent/agent.ts";
import type { BookingRequestInput } from "../src/agent/booking.ts";
import { AGENT_ERRORS } from "../src/agent/errors.ts";
import { waitForSshReady } from "../src/agent/ssh-ready.ts";
import { type AgentTarget, rawRequest } from "../src/api/client.ts";
import { type ApiServer, startApiServer } from "../src/api/server.ts";
import { readTokenFile, runCli } from "../src/cli.ts";
import type { CommandRunner } from "../src/inventory/exec.ts";
import { discover } from "../src/inventory/inventory.ts";
import type { Inventory } from "../src/inventory/schema.ts";
import { SshEndpointSchema } from "../src/ssh/endpoint.ts";
import { DeclineReason } from "../src/ssh/keys.ts";
import { run } from "../src/system/exec.ts";
import type { TeardownFacts } from "../src/vm/journal.ts";
import { findDomain, openLibvirt, type VmConnection } from "../src/vm/libvirt.ts";
import { domainName } from "../src/vm/spec.ts";
import { FakeOverlays, fakeSsh, MemorySecrets } from "./support/doubles.ts";

/* FAKES: test/support/doubles.ts */

const ssh = fakeSsh;

/* FIXTURES */

const FIXTURE = fileURLToPath(new URL("./fixtures/inventory/rtx4090-vfio", import.meta.url));
const READY_GPU = "0000:01:00.0";
const UNREADY_GPU = "0000:02:00.0";

/** The rtx4090-vfio fixture machine, plus a second NVIDIA GPU still on the nvidia driver. */
async function fixtureInventory(): Promise<Inventory> {
  const runner: CommandRunner = async (file) => {
    if (file === "nvidia-smi") return { code: 6, stdout: "No devices were found\n", stderr: "" };
    if (file === "virsh") return { code: 0, stdout: "Using library: libvirt 10.0.0\n", stderr: "" };
    throw new Error(`unexpected ${file}`);
  };
  const inv = await discover({
    sysRoot: join(FIXTURE, "sys"),
    procRoot: join(FIXTURE, "proc"),
    devRoot: "/dev",
    run: runner,
    probeKvm: async () => ({
      path: "/dev/kvm",
      exists: true,
      characterDevice: true,
      openable: true,
      error: null,
    }),
  });
  const ready = inv.gpus[0];
  assert.ok(ready?.vfioReady && ready.pciAddress === READY_GPU, "the fixture's GPU is ready");
  inv.gpus.push({
    ...ready,
    pciAddress: UNREADY_GPU,
    driver: "nvidia",
    vfioReady: false,
    iommuGroup: 5,
    groupMembers: [],
    blockers: [
      { code: "driver-not-vfio", detail: "0000:02:00.0 is bound to nvidia, not vfio-pci.", fix: [] },
    ],
  });
  return inv;
}

function keyLine(type: "ed25519" | "rsa2048" | "rsa3072", comment = "borrower@test"): string {
  const pem =
    type === "ed25519"
      ? generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" })
      : generateKeyPairSync("rsa", { modulusLength: type === "rsa2048" ? 2048 : 3072 }).privateKey.export({
          format: "pem",
          type: "pkcs8",
        });
  const pub = sshpk.parsePrivateKey(pem.toString(), "pkcs8").toPublic();
  pub.comment = comment;
  return pub.toString("ssh");
}

/** `ssh-dss` with a blob naming the same type: well-formed, but a type the market refuses. */
function dssLine(): string {
  const name = Buffer.from("ssh-dss");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(name.length);
  const mpint = Buffer.from([0, 0, 0, 1, 0x05]);
  return `ssh-dss ${Buffer.concat([len, name, mpint, mpint, mpint, mpint]).toString("base64")} old@test`;
}

let nextId = 9_000_000 + (process.pid % 1000) * 100;
const newId = () => String(nextId++);
const nowS = () => Math.floor(Date.now() / 1000);

function booking(id: string, over: Partial<BookingRequestInput> = {}): BookingRequestInput {
  return {
    bookingId: id,
    window: { start: nowS() - 5, end: nowS() + 3600 },
    borrowerSshKey: BORROWER_KEY,
    hardware: { vcpus: 2, memoryMiB: 1024, gpus: [] },
    ...over,
  };
}

const BORROWER_KEY = keyLine("ed25519");
const scratch: string[] = [];
let conn: VmConnection;
let stateDir: string;
let inventory: Inventory;
const secrets = new MemorySecrets();
const overlays = new FakeOverlays();
const torn: TeardownFacts[] = [];
let agent: HostAgent;
let server: ApiServer;
let target: AgentTarget;

async function startAgent(): Promise<void> {
  agent = await HostAgent.start({
    stateDir,
    connection: conn,
    libvirtUri: "test:///default",
    overlays,
    secrets,
    inventory: async () => inventory,
    guest: {
      kernel: "/var/lib/computehive/guest/vmlinuz",
      initrd: "/var/lib/computehive/guest/initrd.gz",
      cmdline: "console=ttyS0",
    },
    baseImage: "/var/lib/computehive/base.qcow2",
    portRange: { min: 41000, max: 41999 },
    waitForSsh: ssh.wait,
    sshReadyTimeoutMs: 2000,
    logger: pino({ level: "silent" }),
    onTeardown: (f) => torn.push(f),
  });
  server = await startApiServer({
    agent,
    listen: { socketPath: join(stateDir, "agent.sock") },
    logger: pino({ level: "silent" }),
  });
  target = { socketPath: join(stateDir, "agent.sock") };
}

async function stopAgent(): Promise<void> {
  await server.close();
  await agent.close();
}

const api = (method: string, path: string, body?: unknown) => rawRequest(target, method, path, { body });

// biome-ignore lint/suspicious/noExplicitAny: response bodies are walked field by field and asserted.
type Json = any;

async function provisionOk(b: BookingRequestInput): Promise<ProvisionResult> {
  const res = await api("POST", "/v1/bookings", b);
  assert.equal(res.status, 200, res.text);
  return res.body as ProvisionResult;
}

function assertError(res: { status: number; body: unknown; text: string }, code: keyof typeof AGENT_ERRORS) {
  assert.equal(res.status, AGENT_ERRORS[code], res.text);
  const err = (res.body as Json).error;
  assert.equal(err.code, code, res.text);
  assert.equal(typeof err.message, "string");
  return err;
}

const intents = (id: string) =>
  agent.journal.records.filter((r) => r.booking === id && r.type === "intent").length;
const sessionDirs = async () => (await readdir(join(stateDir, "sessions")).catch(() => [])).sort();

before(async () => {
  conn = await openLibvirt("test:///default");
  stateDir = await mkdtemp(join(tmpdir(), "api-test-"));
  scratch.push(stateDir);
  inventory = await fixtureInventory();
  await startAgent();
});

after(async () => {
  await stopAgent().catch(() => {});
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/* ROUTES */

describe("API on a Unix socket (test:///default)", () => {
  test("the socket is 0660 and the state directory 0711", async () => {
    assert.equal((await stat(join(stateDir, "agent.sock"))).mode & 0o777, 0o660);
    assert.equal((await stat(stateDir)).mode & 0o777, 0o711);
    assert.equal((await stat(join(stateDir, "ca", "ssh-user-ca"))).mode & 0o777, 0o600);
  });

  test("GET /v1/health", async () => {
    const res = await api("GET", "/v1/health");
    assert.equal(res.status, 200, res.text);
    const h = res.body as Json;
    assert.equal(h.status, "ok");
    assert.equal(h.accel, "kvm", "the fixture machine has usable KVM");
    assert.equal(h.mode, "gpu-passthrough");
    assert.equal(h.caFingerprint, agent.ca.fingerprint);
    assert.equal(res.headers["content-type"], "application/json; charset=utf-8");
    assert.ok(res.headers["x-request-id"]);
  });

  test("GET /v1/inventory (cached and ?refresh)", async () => {
    for (const path of ["/v1/inventory", "/v1/inventory?refresh"]) {
      const res = await api("GET", path);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        (res.body as Inventory).gpus.map((g) => [g.pciAddress, g.vfioReady]),
        [
          [READY_GPU, true],
          [UNREADY_GPU, false],
        ],
      );
    }
  });

  test("POST /v1/bookings provisions and answers with the endpoint, a certificate for exactly the window, and timings", async () => {
    const id = newId();
    const b = booking(id);
    const r = await provisionOk(b);
    const ep = SshEndpointSchema.parse(r.endpoint);
    assert.equal(ep.bookingId, id);
    assert.equal(ep.host, "127.0.0.1");
    assert.ok(ep.port >= 41000 && ep.port <= 41999, `port ${ep.port} in the range`);
    assert.equal(ep.user, "computehive");
    assert.equal(ep.validAfter, b.window.start);
    assert.equal(ep.validBefore, b.window.end);
    const cert = sshpk.parseCertificate(ep.certificate, "openssh");
    assert.ok(cert.isSignedByKey(sshpk.parseKey(agent.ca.publicKey, "ssh")), "signed by the agent's CA");
    assert.equal(
      cert.subjectKey.fingerprint("sha256").toString(),
      sshpk.parseKey(BORROWER_KEY, "ssh").fingerprint("sha256").toString(),
    );
    // The pinned host keys are the ones in the guest's seed.
    const [dir] = (await sessionDirs()).filter((d) => d.startsWith(`${id}-`));
    assert.ok(dir);
    const seedPub = await run("tar", [
      "-xOf",
      join(stateDir, "sessions", dir, "seed", "seed.img"),
      "ssh_host_ed25519_key.pub",
    ]);
    assert.equal(seedPub.trim().split(" ").slice(0, 2).join(" "), ep.hostKeys[0]);
    // Timings are in order, the domain is there and runs.
    const t = r.timing;
    assert.ok(t.receivedAt <= t.domainStartedAt && t.domainStartedAt <= t.sshReadyAt, JSON.stringify(t));
    assert.equal(r.accel, "kvm");
    const dom = await findDomain(conn, domainName(id));
    assert.ok(dom);
    assert.match(await dom.getXMLDesc(), /<domain type='kvm'/);

    const st = await api("GET", `/v1/bookings/${id}`);
    assert.equal(st.status, 200, st.text);
    assert.equal((st.body as Json).state, "running");
    assert.equal((st.body as Json).active, true);
    assert.deepEqual((st.body as Json).sshForward, { host: "127.0.0.1", port: ep.port });
    assert.deepEqual((st.body as Json).endpoint, r.endpoint);
    const list = await api("GET", "/v1/bookings");
    assert.ok((list.body as Json).bookings.some((s: Json) => s.bookingId === id && s.state === "running"));

    // Asking again returns the same answer and makes nothing new.
    const again = await provisionOk(b);
    assert.deepEqual(again, r);
    assert.equal(intents(id), 1);
  });

  test("POST /v1/bookings?wait=started answers once the domain runs, before sshd; the same endpoint follows", async () => {
    const b = booking(newId());
    const id = b.bookingId;
    ssh.delayMs = 1500;
    try {
      const t0 = Date.now();
      const early = await api("POST", "/v1/bookings?wait=started", b);
      const earlyMs = Date.now() - t0;
      assert.equal(early.status, 200, early.text);
      const e = early.body as Json;
      assert.equal(e.sshReady, false);
      assert.equal(e.timing.sshReadyAt, undefined);
      assert.ok(earlyMs < 1500, `answered in ${earlyMs} ms, before the guest's sshd (1.5 s)`);
      const dom = await findDomain(conn, domainName(id));
      assert.ok(dom, "the domain exists when the early answer comes");
      // The full answer (and a second early one) carry the very same endpoint.
      const full = await provisionOk(b);
      assert.deepEqual(full.endpoint, e.endpoint);
      const again = await api("POST", "/v1/bookings?wait=started", b);
      assert.equal((again.body as Json).sshReady, true);
      assert.deepEqual((again.body as Json).endpoint, e.endpoint);
      assert.equal(intents(id), 1, "one provisioning");
      // Refusals are the same as without `wait`.
      const bad = await api(
        "POST",
        "/v1/bookings?wait=started",
        booking(newId(), { borrowerSshKey: dssLine() }),
      );
      assert.equal(assertError(bad, "ssh-key-rejected").declineReason, 3);
    } finally {
      ssh.delayMs = 20;
    }
  });

  test("concurrent provisions of one booking share one VM and one answer", async () => {
    const id = newId();
    ssh.delayMs = 300;
    overlays.delayMs = 100;
    try {
      const before = overlays.created.length;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => api("POST", "/v1/bookings", booking(id))),
      );
      for (const a of answers) assert.equal(a.status, 200, a.text);
      for (const a of answers.slice(1)) assert.deepEqual(a.body, answers[0]?.body);
      assert.equal(overlays.created.length - before, 1, "one overlay");
      assert.equal(intents(id), 1, "one provisioning in the journal");
      const ours = await Promise.all((await conn.connectListAllDomains()).map((d) => d.getName()));
      assert.equal(ours.filter((n) => n === domainName(id)).length, 1);
      // The same booking id with another key is a conflict, not a second VM.
      const other = await api("POST", "/v1/bookings", booking(id, { borrowerSshKey: keyLine("ed25519") }));
      assertError(other, "booking-conflict");
    } finally {
      ssh.delayMs = 20;
      overlays.delayMs = 0;
    }
  });

  test("a refused borrower key gives its on-chain reason (2..5) and creates nothing", async () => {
    const cases: [string, string, number][] = [
      ["malformed", "ssh-ed25519 not-base64!", DeclineReason.SSH_KEY_MALFORMED],
      ["empty", "", DeclineReason.SSH_KEY_MALFORMED],
      ["DSA", dssLine(), DeclineReason.SSH_KEY_UNSUPPORTED_TYPE],
      ["RSA 2048", keyLine("rsa2048"), DeclineReason.SSH_KEY_TOO_WEAK],
      ["over 1024 bytes", keyLine("ed25519", "x".repeat(1100)), DeclineReason.SSH_KEY_TOO_LONG],
    ];
    const domainsBefore = (await conn.connectListAllDomains()).length;
    const dirsBefore = await sessionDirs();
    const recordsBefore = agent.journal.records.length;
    for (const [what, line, reason] of cases) {
      const id = newId();
      const res = await api("POST", "/v1/bookings", booking(id, { borrowerSshKey: line }));
      const err = assertError(res, "ssh-key-rejected");
      assert.equal(err.declineReason, reason, what);
      assert.equal(err.bookingId, id);
      assertError(await api("GET", `/v1/bookings/${id}`), "not-found");
    }
    assert.equal((await conn.connectListAllDomains()).length, domainsBefore, "no domain");
    assert.deepEqual(await sessionDirs(), dirsBefore, "no session directory");
    assert.equal(agent.journal.records.length, recordsBefore, "nothing journaled");
    // A good RSA key (3072) is accepted.
    const ok = await provisionOk(booking(newId(), { borrowerSshKey: keyLine("rsa3072") }));
    assert.match(ok.endpoint.certificate, /^ssh-rsa-cert-v01@openssh\.com /);
  });

  test("hardware: a GPU missing from the inventory, or not VFIO-ready, or too many vCPUs is reason 6; a ready one is passed through", async () => {
    for (const [gpus, vcpus, what] of [
      [["0000:09:00.0"], 2, /not in this host's inventory/],
      [[UNREADY_GPU], 2, /cannot be passed through: 0000:02:00.0 is bound to nvidia/],
      [[], 5, /5 vCPUs asked, this host has 4/],
    ] as const) {
      const id = newId();
      const res = await api(
        "POST",
        "/v1/bookings",
        booking(id, { hardware: { vcpus, memoryMiB: 1024, gpus: [...gpus] } }),
      );
      const err = assertError(res, "host-unavailable");
      assert.equal(err.declineReason, DeclineReason.HOST_UNAVAILABLE);
      assert.match(err.message, what);
      assert.equal(await findDomain(conn, domainName(id)), undefined);
    }
    const id = newId();
    await provisionOk(
      booking(id, { hardware: { vcpus: 2, memoryMiB: 1024, gpus: [READY_GPU.toUpperCase()] } }),
    );
    const xml = await (await findDomain(conn, domainName(id)))?.getXMLDesc();
    assert.ok(xml);
    // The GPU and its audio function (the group's endpoints), not the root port.
    assert.match(xml, /<hostdev mode='subsystem' type='pci' managed='yes'>/);
    assert.match(xml, /<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'\/>/);
    assert.match(xml, /<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'\/>/);
    assert.doesNotMatch(xml, /<address domain='0x0000' bus='0x00' slot='0x01' function='0x0'\/>/);
  });

  test("a provisioning failure is reason 7 with the teardown facts, and is not retried", async () => {
    const id = newId();
    overlays.failFor.add(id);
    const res = await api("POST", "/v1/bookings", booking(id));
    const err = assertError(res, "provisioning-failed");
    assert.equal(err.declineReason, DeclineReason.PROVISIONING_FAILED);
    assert.match(err.message, /No space left/);
    assert.equal(err.facts.reason, "provision-failed");
    assert.equal(err.facts.domainGone, true);
    assert.equal(await findDomain(conn, domainName(id)), undefined);
    overlays.failFor.delete(id);
    const again = await api("POST", "/v1/bookings", booking(id));
    assert.equal(assertError(again, "provisioning-failed").declineReason, 7);
    assert.equal(((await api("GET", `/v1/bookings/${id}`)).body as Json).state, "failed");
  });

  test("a guest whose sshd never answers is torn down: reason 7", async () => {
    const id = newId();
    // Every port of the range fails its banner wait for this one booking.
    for (let p = 41000; p <= 41999; p++) ssh.failPorts.add(p);
    try {
      const res = await api("POST", "/v1/bookings", booking(id));
      const err = assertError(res, "provisioning-failed");
      assert.equal(err.declineReason, 7);
      assert.match(err.message, /SSH server did not answer/);
      assert.equal(err.facts.domainGone, true);
      assert.equal(err.facts.overlayRemoved, true);
    } finally {
      ssh.failPorts.clear();
    }
    assert.equal(await findDomain(conn, domainName(id)), undefined);
  });

  test("extend: a new certificate for the longer window; earlier ends, unknown and stopped bookings refused", async () => {
    const id = newId();
    const b = booking(id);
    const first = await provisionOk(b);
    const newEnd = b.window.end + 1800;
    const res = await api("POST", `/v1/bookings/${id}/extend`, { end: newEnd });
    assert.equal(res.status, 200, res.text);
    const ext = res.body as Json;
    assert.equal(ext.windowEnd, newEnd);
    assert.equal(ext.endpoint.validAfter, b.window.start);
    assert.equal(ext.endpoint.validBefore, newEnd);
    assert.deepEqual(ext.endpoint.hostKeys, first.endpoint.hostKeys);
    assert.equal(((await api("GET", `/v1/bookings/${id}`)).body as Json).windowEnd, newEnd);
    assert.equal(((await api("GET", `/v1/bookings/${id}`)).body as Json).endpoint.validBefore, newEnd);
    assertError(await api("POST", `/v1/bookings/${id}/extend`, { end: newEnd - 1 }), "bad-extension");
    assertError(await api("POST", `/v1/bookings/${id}/extend`, { end: "soon" }), "invalid-request");
    assertError(await api("POST", `/v1/bookings/${newId()}/extend`, { end: newEnd }), "not-found");
    await api("DELETE", `/v1/bookings/${id}`);
    assertError(await api("POST", `/v1/bookings/${id}/extend`, { end: newEnd + 60 }), "not-running");
  });

  test("DELETE tears down with facts; the booking is then finished for good", async () => {
    const id = newId();
    await provisionOk(booking(id));
    const res = await api("DELETE", `/v1/bookings/${id}`);
    assert.equal(res.status, 200, res.text);
    const facts = (res.body as Json).facts as TeardownFacts;
    assert.equal(facts.reason, "requested");
    assert.deepEqual(
      [facts.domainGone, facts.overlayRemoved, facts.seedRemoved, facts.keyDiscarded],
      [true, true, true, true],
    );
    assert.equal(await findDomain(conn, domainName(id)), undefined);
    assert.ok(!(await sessionDirs()).some((d) => d.startsWith(`${id}-`)), "session directory removed");
    const st = (await api("GET", `/v1/bookings/${id}`)).body as Json;
    assert.equal(st.state, "torn-down");
    assert.equal(st.endpoint, undefined);
    assert.deepEqual(
      (await api("DELETE", `/v1/bookings/${id}`)).body,
      { facts },
      "a second DELETE gives the same facts",
    );
    const again = assertError(await api("POST", "/v1/bookings", booking(id)), "booking-finished");
    assert.equal(again.facts.reason, "requested");
    assertError(await api("DELETE", `/v1/bookings/${newId()}`), "not-found");
  });

  test("DELETE while the guest is still starting ends the provisioning request at once (booking-finished)", async () => {
    const id = newId();
    ssh.delayMs = 1500;
    try {
      const pending = api("POST", "/v1/bookings", booking(id));
      const deadline = Date.now() + 5000;
      while (((await api("GET", `/v1/bookings/${id}`)).body as Json)?.state !== "running") {
        assert.ok(Date.now() < deadline, "the domain started");
        await new Promise((r) => setTimeout(r, 10));
      }
      const del = await api("DELETE", `/v1/bookings/${id}`);
      assert.equal(del.status, 200, del.text);
      const started = Date.now();
      const res = await pending;
      assert.ok(Date.now() - started < 2000, "no wait for the SSH timeout");
      const err = assertError(res, "booking-finished");
      assert.match(err.message, /torn down while starting \(destroyed on request\)/);
      assert.equal(await findDomain(conn, domainName(id)), undefined);
    } finally {
      ssh.delayMs = 20;
    }
  });

  test("the window's end tears the VM down on its own", async () => {
    const id = newId();
    await provisionOk(booking(id, { window: { start: nowS() - 5, end: nowS() + 2 } }));
    const deadline = Date.now() + 10_000;
    let st: Json;
    do {
      await new Promise((r) => setTimeout(r, 200));
      st = (await api("GET", `/v1/bookings/${id}`)).body;
    } while (st.state !== "torn-down" && Date.now() < deadline);
    assert.equal(st.state, "torn-down");
    assert.equal(st.facts.reason, "window-ended");
    assert.equal(st.facts.domainGone, true);
    assert.ok(
      torn.some((f) => f.bookingId === id && f.reason === "window-ended"),
      "onTeardown told",
    );
    assertError(
      await api("POST", "/v1/bookings", booking(id, { window: { start: nowS() - 600, end: nowS() - 1 } })),
      "booking-finished",
    );
    assertError(
      await api(
        "POST",
        "/v1/bookings",
        booking(newId(), { window: { start: nowS() - 600, end: nowS() - 1 } }),
      ),
      "window-ended",
    );
  });

  test("POST /v1/reconcile keeps, destroys, provisions and reports refusals", async () => {
    const keep = newId();
    const drop = newId();
    await provisionOk(booking(keep));
    await provisionOk(booking(drop));
    // Everything else of ours goes too: start from a known set.
    const fresh = newId();
    const expired = newId();
    const badKey = newId();
    const res = await api("POST", "/v1/reconcile", {
      desired: [
        keep,
        booking(fresh),
        booking(expired, { window: { start: nowS() - 600, end: nowS() - 60 } }),
        booking(badKey, { borrowerSshKey: "nope" }),
      ],
    });
    assert.equal(res.status, 200, res.text);
    const r = res.body as Json;
    assert.deepEqual(r.kept, [keep]);
    assert.ok(r.destroyed.some((f: TeardownFacts) => f.bookingId === drop && f.reason === "reconcile"));
    assert.deepEqual(
      r.provisioned.map((p: Json) => p.bookingId),
      [fresh],
    );
    assert.equal(r.provisioned[0].endpoint.bookingId, fresh);
    assert.deepEqual(r.expired, [expired]);
    assert.deepEqual(r.failed, [
      {
        bookingId: badKey,
        code: "ssh-key-rejected",
        error: r.failed[0]?.error,
        declineReason: DeclineReason.SSH_KEY_MALFORMED,
      },
    ]);
    const running = ((await api("GET", "/v1/bookings")).body as Json).bookings
      .filter((s: Json) => s.state === "running")
      .map((s: Json) => s.bookingId)
      .sort();
    assert.deepEqual(running, [keep, fresh].sort());
    assert.equal(await findDomain(conn, domainName(drop)), undefined);
    assertError(await api("POST", "/v1/reconcile", { desired: "all" }), "invalid-request");
  });

  test("validation: every issue is listed, with 400", async () => {
    const res = await api("POST", "/v1/bookings", {
      bookingId: "0x10",
      window: { start: 100, end: 50 },
      borrowerSshKey: BORROWER_KEY,
      hardware: { vcpus: 0, memoryMiB: 1024, gpus: ["01:00.0"] },
      extra: true,
    });
    const err = assertError(res, "invalid-request");
    const paths = err.issues.map((i: Json) => i.path).sort();
    assert.deepEqual(
      paths,
      ["(body)", "bookingId", "hardware.gpus.0", "hardware.vcpus", "window.end"].sort(),
      res.text,
    );
    assert.match(err.message, /bookingId: must be a decimal uint256/);
    assertError(await api("POST", "/v1/bookings", {}), "invalid-request");
    assertError(await api("GET", "/v1/bookings/abc"), "invalid-request");
    assertError(await api("GET", "/v1/bookings/007"), "invalid-request");
    assertError(await rawRequest(target, "POST", "/v1/bookings", { rawBody: "{not json" }), "invalid-json");
    assertError(await rawRequest(target, "POST", "/v1/bookings", { rawBody: "" }), "invalid-json");
    assertError(
      await rawRequest(target, "POST", "/v1/bookings", {
        rawBody: "{}",
        headers: { "content-type": "text/plain" },
      }),
      "unsupported-media-type",
    );
    const big = await rawRequest(target, "POST", "/v1/reconcile", {
      rawBody: `{"desired":["${"1".repeat(1_100_000)}"]}`,
    });
    assertError(big, "payload-too-large");
    assertError(await api("GET", "/v2/health"), "not-found");
    const wrong = await api("PUT", "/v1/bookings");
    assertError(wrong, "method-not-allowed");
    assert.equal(wrong.headers.allow, "GET, POST");
  });

  test("after a restart the running VMs keep their endpoints (host keys from the session's metadata)", async () => {
    const id = newId();
    const first = await provisionOk(booking(id));
    await stopAgent();
    await startAgent();
    const st = (await api("GET", `/v1/bookings/${id}`)).body as Json;
    assert.equal(st.state, "running");
    assert.deepEqual(st.endpoint.hostKeys, first.endpoint.hostKeys);
    assert.equal(st.endpoint.port, first.endpoint.port);
    assert.equal(st.endpoint.validBefore, first.endpoint.validBefore);
    const again = await provisionOk(booking(id));
    assert.equal(again.timing.domainStartedAt, first.timing.domainStartedAt, "from the journal");
    assert.deepEqual(again.endpoint.hostKeyFingerprints, first.endpoint.hostKeyFingerprints);
    assert.equal(intents(id), 1);
  });
});

/* TCP AND AUTH */

describe("API on loopback TCP with a bearer token", () => {
  const token = "t0ken-".repeat(8);
  let tcp: ApiServer;

  before(async () => {
    tcp = await startApiServer({
      agent,
      listen: { host: "127.0.0.1", port: 0 },
      token,
      logger: pino({ level: "silent" }),
    });
  });
  after(async () => {
    await tcp.close();
  });

  test("no token, a wrong token, a token of another length: 401; the right one: 200", async () => {
    const url = tcp.url;
    const none = await rawRequest({ url, token: "" }, "GET", "/v1/health");
    assertError(none, "unauthorized");
    assert.match(String(none.headers["www-authenticate"]), /^Bearer /);
    assertError(
      await rawRequest({ url, token: `${token.slice(0, -1)}X` }, "GET", "/v1/health"),
      "unauthorized",
    );
    assertError(await rawRequest({ url, token: "short" }, "GET", "/v1/health"), "unauthorized");
    assertError(
      await rawRequest({ url, token: "" }, "GET", "/v1/health", {
        headers: { authorization: `Basic ${token}` },
      }),
      "unauthorized",
    );
    // Auth comes before routing: an unknown route says 401 too, and no provisioning happens.
    assertError(
      await rawRequest({ url, token: "" }, "POST", "/v1/bookings", { body: booking(newId()) }),
      "unauthorized",
    );
    const ok = await rawRequest({ url, token }, "GET", "/v1/health");
    assert.equal(ok.status, 200, ok.text);
  });

  test("refuses to listen off loopback, without a token, or with a short one", async () => {
    const silent = pino({ level: "silent" });
    await assert.rejects(
      startApiServer({ agent, listen: { host: "0.0.0.0", port: 0 }, token, logger: silent }),
      /loopback only/,
    );
    await assert.rejects(
      startApiServer({ agent, listen: { host: "127.0.0.1", port: 0 }, logger: silent }),
      /needs a bearer token/,
    );
    await assert.rejects(
      startApiServer({ agent, listen: { host: "127.0.0.1", port: 0 }, token: "short", logger: silent }),
      /at least 32/,
    );
  });

  test("a stale socket file is replaced; a live one or a regular file is not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "api-sock-"));
    scratch.push(dir);
    const silent = pino({ level: "silent" });
    // A live socket: another agent answers there.
    const live = await startApiServer({ agent, listen: { socketPath: join(dir, "a.sock") }, logger: silent });
    await assert.rejects(
      startApiServer({ agent, listen: { socketPath: join(dir, "a.sock") }, logger: silent }),
      /another agent/,
    );
    await live.close();
    // A stale one: bound, then its process "died" without unlinking.
    const stalePath = join(dir, "b.sock");
    const stale = createServer().listen(stalePath);
    await once(stale, "listening");
    await new Promise<void>((r) => stale.close(() => r()));
    await writeFile(join(dir, "c.sock"), "not a socket");
    const srv = await startApiServer({ agent, listen: { socketPath: stalePath }, logger: silent });
    assert.equal((await rawRequest({ socketPath: stalePath }, "GET", "/v1/health")).status, 200);
    await srv.close();
    await assert.rejects(
      startApiServer({ agent, listen: { socketPath: join(dir, "c.sock") }, logger: silent }),
      /not a socket/,
    );
  });
});

/* LOGS, SSH READINESS */

describe("request logs and the SSH readiness probe", () => {
  test("every request's log lines carry reqId, status and the bookingId (from the path or the body)", async () => {
    const lines: Json[] = [];
    const dir = await mkdtemp(join(tmpdir(), "api-log-"));
    scratch.push(dir);
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const srv = await startApiServer({ agent, listen: { socketPath: join(dir, "log.sock") }, logger });
    const t = { socketPath: join(dir, "log.sock") };
    const id = newId();
    await rawRequest(t, "POST", "/v1/bookings", { body: booking(id, { borrowerSshKey: "bad" }) });
    await rawRequest(t, "GET", `/v1/bookings/${id}`);
    await srv.close();
    const done = lines.filter((l) => l.msg === "request");
    assert.deepEqual(
      done.map((l) => [l.method, l.status, l.bookingId, typeof l.reqId, typeof l.ms]),
      [
        ["POST", 422, id, "string", "number"],
        ["GET", 404, id, "string", "number"],
      ],
    );
    const refused = lines.find((l) => l.msg === "request refused" && l.method === "POST");
    assert.equal(refused?.declineReason, DeclineReason.SSH_KEY_MALFORMED);
    assert.equal(refused?.bookingId, id);
  });

  /** A TCP server that closes the first `closeFirst` connections at once (like QEMU's forward before the guest listens). */
  async function fakeGuest(closeFirst: number, silent = false) {
    let n = 0;
    const srv = createServer((sock) => {
      n++;
      if (n <= closeFirst) sock.destroy();
      else if (!silent) sock.write("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7\r\n");
    });
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const port = (srv.address() as { port: number }).port;
    return { port, connections: () => n, close: () => new Promise<void>((r) => srv.close(() => r())) };
  }

  test("waitForSshReady: retries through closed connections, gives up on silence, stops when aborted", async () => {
    const g = await fakeGuest(3);
    const r = await waitForSshReady("127.0.0.1", g.port, { timeoutMs: 5000, pauseMs: 10 });
    assert.equal(r.banner, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7");
    assert.equal(r.probes, 4, "one probe at a time: three closed, the fourth got the banner");
    assert.equal(g.connections(), 4);
    await g.close();

    const mute = await fakeGuest(0, true);
    const started = Date.now();
    await assert.rejects(
      waitForSshReady("127.0.0.1", mute.port, { timeoutMs: 700, probeMs: 200, pauseMs: 10 }),
      /no SSH banner on 127.0.0.1:\d+ within 1 s/,
    );
    assert.ok(Date.now() - started < 1500);
    assert.ok(mute.connections() >= 3, "a silent probe is abandoned after probeMs and a fresh one made");
    const abort = new AbortController();
    setTimeout(() => abort.abort("destroyed"), 100);
    await assert.rejects(
      waitForSshReady("127.0.0.1", mute.port, { timeoutMs: 5000, signal: abort.signal }),
      /stopped waiting .*destroyed/,
    );
    await mute.close();
  });
});

/* CLI */

describe("command line", () => {
  const io = () => {
    const out = { stdout: "", stderr: "" };
    return {
      out,
      io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) },
    };
  };

  test("--help, unknown commands and options, and serve's refusals", async () => {
    let c = io();
    assert.equal(await runCli(["--help"], c.io), 0);
    assert.match(c.out.stdout, /serve/);
    c = io();
    assert.equal(await runCli(["frobnicate"], c.io), 2);
    assert.match(c.out.stderr, /unknown command frobnicate/);
    c = io();
    assert.equal(await runCli(["serve", "--listen", "127.0.0.1:7450"], c.io), 2);
    assert.match(c.out.stderr, /--listen needs --token-file/);
    c = io();
    assert.equal(await runCli(["serve", "--socket", "/tmp/x.sock", "--listen", "127.0.0.1:1"], c.io), 2);
    c = io();
    assert.equal(await runCli(["serve", "--bogus"], c.io), 2);
    assert.match(c.out.stderr, /unknown option --bogus/);
    c = io();
    assert.equal(await runCli(["inventory", "--json=yes"], c.io), 2);
    c = io();
    assert.equal(await runCli(["guest", "rebuild"], c.io), 2);
  });

  test("the token file must be private and long enough", async () => {
    const dir = await mkdtemp(join(tmpdir(), "api-token-"));
    scratch.push(dir);
    const path = join(dir, "token");
    await writeFile(path, `${"a".repeat(40)}\n`, { mode: 0o644 });
    await assert.rejects(readTokenFile(path), /group or others/);
    await writeFile(join(dir, "short"), "abc\n", { mode: 0o600 });
    await assert.rejects(readTokenFile(join(dir, "short")), /at least 32/);
    await writeFile(join(dir, "ok"), `${"a".repeat(40)}\n`, { mode: 0o600 });
    assert.equal(await readTokenFile(join(dir, "ok")), "a".repeat(40));
  });
});
