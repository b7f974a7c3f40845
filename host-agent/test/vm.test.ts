/**
 * VM lifecycle tests. Most run on libvirt's built-in `test:///default` driver (no daemon; state lives
 * in this process, shared by every connection the process opens). A crash is played in-process: the
 * journal hook parks the agent forever between two steps, the test drops that manager and starts a
 * new one on the same connection, secret store and state directory, just as a restarted agent finds
 * libvirtd and the disk as its predecessor left them. The last group needs root and a running
 * libvirtd (`qemu:///system`) and boots a real (tiny) guest.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { XMLParser } from "fast-xml-parser";
import { run as execProgram } from "../src/system/exec.ts";
import { detectAccel } from "../src/vm/accel.ts";
import {
  buildDomainXml,
  type DomainResources,
  SEV_SNP_POLICY,
  TDX_POLICY,
  USER_NIC_SLOT,
} from "../src/vm/domain-xml.ts";
import { ProvisioningError, type VmError } from "../src/vm/errors.ts";
import {
  type NewRecord,
  PROVISION_STEPS,
  TEARDOWN_STEPS,
  type TeardownFacts,
  VmJournal,
} from "../src/vm/journal.ts";
import { SessionKey } from "../src/vm/key.ts";
import { findDomain, isActive, openLibvirt, type VmConnection } from "../src/vm/libvirt.ts";
import { type Timers, VmManager } from "../src/vm/manager.ts";
import {
  buildGuestIsolationFilterXml,
  GUEST_ISOLATION_FILTER,
  type NwFilterStore,
  VirshNwFilterStore,
} from "../src/vm/nwfilter.ts";
import {
  ensureBaseImage,
  fileExists,
  type OverlayRequest,
  type OverlayStore,
  QemuImgOverlayStore,
} from "../src/vm/overlay.ts";
import { type SecretStore, VirshSecretStore } from "../src/vm/secrets.ts";
import type { SeedProvider, SeedRequest, SeedResult } from "../src/vm/seed.ts";
import {
  bookingIdOfDomain,
  DOMAIN_PREFIX,
  domainName,
  PROVISIONING_FAILED,
  parseVmSpec,
  specHash,
  type VmSpecInput,
} from "../src/vm/spec.ts";
import { el, escapeXml, renderXml } from "../src/vm/xml.ts";

/* FAKES */

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

class FakeClock {
  constructor(public t: number) {}
  now = () => this.t;
}

/** Timers driven by `advance`; each manager gets its own, so a "killed" agent's timers never fire. */
class FakeTimers implements Timers {
  #next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  constructor(readonly clock: FakeClock) {}
  set(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { at: this.clock.t + Math.max(0, ms), fn });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Moves the clock, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.clock.t + ms;
    for (;;) {
      const due = [...this.pending].filter(([, p]) => p.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.clock.t = Math.max(this.clock.t, due[1].at);
      due[1].fn();
    }
    this.clock.t = target;
  }
}

/** Behaves like libvirt's secret driver: one secret per uuid and per volume, private values. */
class MemorySecrets implements SecretStore {
  readonly secrets = new Map<string, { volume: string; valueHash?: string }>();
  async define(uuid: string, volume: string): Promise<void> {
    if (this.secrets.has(uuid)) throw new Error(`secret ${uuid} exists`);
    for (const s of this.secrets.values())
      if (s.volume === volume) throw new Error(`a secret for ${volume} exists`);
    this.secrets.set(uuid, { volume });
  }
  async setValue(uuid: string, key: SessionKey): Promise<void> {
    const s = this.secrets.get(uuid);
    if (!s) throw new Error(`no secret ${uuid}`);
    s.valueHash = sha256(key.passphrase);
  }
  async undefine(uuid: string): Promise<void> {
    this.secrets.delete(uuid);
  }
  async list(): Promise<string[]> {
    return [...this.secrets.keys()];
  }
}

/** Stands in for qemu-img where test:///default has no real disks; remembers the key it was handed. */
class FakeOverlays implements OverlayStore {
  readonly created: { path: string; keyHash: string; keyRef: Buffer }[] = [];
  async create(req: OverlayRequest): Promise<void> {
    if (await fileExists(req.path)) throw new Error(`${req.path} exists`);
    await writeFile(req.path, "not really qcow2");
    this.created.push({ path: req.path, keyHash: sha256(req.key.passphrase), keyRef: req.key.passphrase });
  }
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
  async exists(path: string): Promise<boolean> {
    return fileExists(path);
  }
}

class FakeSeeds implements SeedProvider {
  readonly requests: SeedRequest[] = [];
  constructor(private readonly failWith?: Error) {}
  async create(req: SeedRequest): Promise<SeedResult> {
    this.requests.push(req);
    if (this.failWith) throw this.failWith;
    const path = join(req.dir, "seed.img");
    await writeFile(path, Buffer.alloc(4096));
    return { path, hostKeyFingerprints: [`SHA256:host-key-of-${req.bookingId}`] };
  }
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

class MemoryNwFilters implements NwFilterStore {
  readonly filters = new Map<string, string>();
  async define(xml: string): Promise<void> {
    const name = /<filter name='([^']+)'/.exec(xml)?.[1];
    assert.ok(name);
    this.filters.set(name, xml);
  }
  async list(): Promise<string[]> {
    return [...this.filters.keys()];
  }
  async undefine(name: string): Promise<void> {
    this.filters.delete(name);
  }
}

/* FIXTURES */

const T0 = Date.UTC(2030, 0, 1); // unix ms; far from the real clock on purpose
let conn: VmConnection;
let nextBooking = 7_000_000 + (process.pid % 1000) * 1000;
const newBookingId = () => String(nextBooking++);
const scratch: string[] = [];
/**
 * Every agent stays referenced: a killed one's journal is parked mid-append for good, and letting the
 * garbage collector close its file would only add warnings.
 */
const keepAlive: unknown[] = [];

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vm-test-"));
  scratch.push(dir);
  return dir;
}

function specFor(bookingId: string, nowMs: number, over: Partial<VmSpecInput> = {}): VmSpecInput {
  const now = Math.floor(nowMs / 1000);
  return {
    bookingId,
    vmUser: "borrower",
    vcpus: 2,
    memoryMiB: 1024,
    accel: "tcg",
    boot: {
      kernel: "/var/lib/computehive/guest/vmlinuz",
      initrd: "/var/lib/computehive/guest/initrd.img",
      cmdline: "console=ttyS0 quiet",
    },
    baseImage: "/var/lib/computehive/base.qcow2",
    diskGiB: 20,
    window: { start: now, end: now + 3600 },
    network: { mode: "user-restricted", sshForward: { host: "127.0.0.1", port: 22001 } },
    ...over,
  };
}

interface Env {
  stateDir: string;
  clock: FakeClock;
  timers: FakeTimers;
  secrets: MemorySecrets;
  overlays: FakeOverlays;
  seeds: SeedProvider;
  journal: VmJournal;
  manager: VmManager;
  torn: TeardownFacts[];
}

async function makeEnv(
  opts: Partial<Pick<Env, "stateDir" | "clock" | "secrets" | "overlays" | "seeds">> & {
    nwfilters?: NwFilterStore;
    hook?: (when: "before" | "after", rec: NewRecord) => void | Promise<void>;
  } = {},
): Promise<Env> {
  const stateDir = opts.stateDir ?? (await scratchDir());
  const clock = opts.clock ?? new FakeClock(T0);
  const timers = new FakeTimers(clock);
  const secrets = opts.secrets ?? new MemorySecrets();
  const overlays = opts.overlays ?? new FakeOverlays();
  const seeds = opts.seeds ?? new FakeSeeds();
  const journal = await VmJournal.open(join(stateDir, "vm-journal.jsonl"), {
    now: clock.now,
    hook: opts.hook,
  });
  const torn: TeardownFacts[] = [];
  const manager = new VmManager({
    connection: conn,
    journal,
    stateDir,
    overlays,
    secrets,
    seeds,
    nwfilters: opts.nwfilters,
    clock,
    timers,
    onTeardown: (f) => torn.push(f),
  });
  const env = { stateDir, clock, timers, secrets, overlays, seeds, journal, manager, torn };
  keepAlive.push(env);
  return env;
}

async function ourDomains(bookingId?: string): Promise<string[]> {
  const names = await Promise.all((await conn.connectListAllDomains()).map((d) => d.getName()));
  return names.filter((n) => (bookingId ? n === domainName(bookingId) : n.startsWith(DOMAIN_PREFIX)));
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function assertCleanFacts(facts: TeardownFacts, reason: TeardownFacts["reason"]): void {
  assert.equal(facts.reason, reason);
  assert.deepEqual(
    facts.steps.map((s) => s.what),
    [...TEARDOWN_STEPS],
  );
  for (let i = 1; i < facts.steps.length; i++) {
    assert.ok((facts.steps[i]?.at ?? 0) >= (facts.steps[i - 1]?.at ?? 0), "steps in time order");
  }
  assert.equal(facts.domainGone, true);
  assert.equal(facts.overlayRemoved, true);
  assert.equal(facts.seedRemoved, true);
  assert.equal(facts.keyDiscarded, true);
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ["disk", "hostdev", "qemu:arg", "rule", "parameter", "interface"].includes(name),
});
// biome-ignore lint/suspicious/noExplicitAny: parsed XML is walked field by field and every value asserted.
type Tree = any;
const parseDomain = (text: string): Tree => xml.parse(text).domain;

before(async () => {
  conn = await openLibvirt("test:///default");
});

after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/* SPEC */

describe("VmSpec", () => {
  test("a minimal spec parses and gets its defaults", () => {
    const spec = parseVmSpec(specFor("1", T0));
    assert.deepEqual(spec.gpus, []);
    assert.equal(spec.confidential, "none");
    assert.equal(domainName("1"), "computehive-booking-1");
    assert.equal(bookingIdOfDomain("computehive-booking-1"), "1");
    assert.equal(bookingIdOfDomain("computehive-booking-01"), undefined);
    assert.equal(bookingIdOfDomain("test"), undefined);
  });

  const bad: [string, Partial<VmSpecInput>, RegExp][] = [
    ["window end before start", { window: { start: 100, end: 100 } }, /after start/],
    ["a booking id that is not a decimal uint256", { bookingId: "0x10" }, /decimal/],
    ["a booking id with a leading zero", { bookingId: "010" }, /decimal/],
    ["root as the VM user", { vmUser: "root" }, /root/],
    [
      "SEV-SNP under TCG",
      { confidential: "sev-snp", firmware: "/usr/share/ovmf/OVMF.amdsev.fd" },
      /needs kvm/,
    ],
    ["TDX without firmware", { confidential: "tdx", accel: "kvm" }, /needs its firmware/],
    [
      "a GPU missing from its own group",
      { gpus: [{ pciAddress: "0000:01:00.0", groupMembers: ["0000:01:00.1"] }] },
      /include the GPU/,
    ],
    [
      "a malformed PCI address",
      { gpus: [{ pciAddress: "01:00.0", groupMembers: ["01:00.0"] }] },
      /0000:01:00\.0/,
    ],
    ["a relative kernel path", { boot: { kernel: "vmlinuz", initrd: "/i", cmdline: "" } }, /absolute/],
    ["a path climbing out", { baseImage: "/var/lib/../../etc/shadow" }, /'\.\.'/],
    [
      "a privileged forward port",
      { network: { mode: "user-restricted", sshForward: { host: "127.0.0.1", port: 22 } } },
      /1024/,
    ],
    [
      "a forward on a public address",
      { network: { mode: "user-restricted", sshForward: { host: "0.0.0.0" as "127.0.0.1", port: 2222 } } },
      /127\.0\.0\.1/,
    ],
    [
      "a member claimed by two different groups",
      {
        gpus: [
          { pciAddress: "0000:01:00.0", groupMembers: ["0000:01:00.0", "0000:01:00.1"] },
          { pciAddress: "0000:02:00.0", groupMembers: ["0000:02:00.0", "0000:01:00.1"] },
        ],
      },
      /two different groups/,
    ],
  ];
  for (const [what, over, message] of bad) {
    test(`rejects ${what}`, () => {
      assert.throws(() => parseVmSpec(specFor("1", T0, over)), message);
    });
  }

  test("the spec hash ignores key order and changes with any value", () => {
    const a = parseVmSpec(specFor("1", T0));
    const reordered = parseVmSpec(Object.fromEntries(Object.entries(specFor("1", T0)).reverse()));
    assert.equal(specHash(a), specHash(reordered));
    assert.notEqual(specHash(a), specHash(parseVmSpec(specFor("1", T0, { vcpus: 3 }))));
  });

  test("DeclineReason.PROVISIONING_FAILED matches the contract library", async () => {
    const sol = await readFile(
      new URL("../../contracts/src/libraries/DeclineReason.sol", import.meta.url),
      "utf8",
    );
    const code = /PROVISIONING_FAILED\s*=\s*(\d+)/.exec(sol)?.[1];
    assert.equal(Number(code), PROVISIONING_FAILED);
    assert.equal(PROVISIONING_FAILED, 7);
  });

  test("detectAccel wants both /dev/kvm and vmx/svm", async () => {
    const dir = await scratchDir();
    const kvm = join(dir, "kvm");
    await writeFile(kvm, "");
    await writeFile(join(dir, "no-virt"), "flags\t: fpu sse2 avx\n");
    await writeFile(join(dir, "vmx"), "flags\t: fpu vmx sse2\n");
    assert.equal(await detectAccel({ kvm, cpuinfo: join(dir, "no-virt") }), "tcg");
    assert.equal(await detectAccel({ kvm, cpuinfo: join(dir, "vmx") }), "kvm");
    assert.equal(await detectAccel({ kvm: join(dir, "absent"), cpuinfo: join(dir, "vmx") }), "tcg");
  });
});

/* DOMAIN XML */

const RES: DomainResources = {
  uuid: "4a1b7d1e-0c5e-4d8e-9a57-0f3a4b2c1d00",
  sessionId: "9f0e8d7c-6b5a-4948-8372-615243342516",
  overlayPath: "/var/lib/computehive/sessions/42-s/overlay.qcow2",
  secretUuid: "0b2e8c5e-3a6f-4f8e-9b0c-8e0d6c1f2a3b",
  seedPath: "/var/lib/computehive/sessions/42-s/seed/seed.img",
  consoleLogPath: "/var/lib/computehive/sessions/42-s/console.log",
};

const GPU_A = { pciAddress: "0000:01:00.0", groupMembers: ["0000:01:00.0", "0000:01:00.1"] };
/** A second GPU in GPU_A's IOMMU group (a dual-GPU board behind one switch): same members. */
const GPU_A2 = { pciAddress: "0000:01:00.1", groupMembers: ["0000:01:00.1", "0000:01:00.0"] };
const GPU_B = { pciAddress: "0000:81:00.0", groupMembers: ["0000:81:00.0"] };

function domainFor(over: Partial<VmSpecInput> = {}): Tree {
  return parseDomain(buildDomainXml(parseVmSpec(specFor("42", T0, over)), RES));
}

function hostdevAddresses(d: Tree): string[] {
  return (d.devices.hostdev ?? []).map((h: Tree) => {
    assert.equal(h["@mode"], "subsystem");
    assert.equal(h["@type"], "pci");
    assert.equal(h["@managed"], "yes");
    assert.equal(h.driver["@name"], "vfio");
    const a = h.source.address;
    return `${a["@domain"]}:${a["@bus"]}:${a["@slot"]}.${a["@function"]}`;
  });
}

describe("domain XML", () => {
  test("CPU-only TCG guest with restricted user networking, element by element", () => {
    const d = domainFor();
    assert.equal(d["@type"], "qemu");
    assert.equal(d["@xmlns:qemu"], "http://libvirt.org/schemas/domain/qemu/1.0");
    assert.equal(d.name, "computehive-booking-42");
    assert.equal(d.uuid, RES.uuid);
    const meta = d.metadata["computehive:booking"];
    assert.equal(meta["@xmlns:computehive"], "urn:computehive:vm:1");
    assert.equal(meta["@id"], "42");
    assert.equal(meta["@session"], RES.sessionId);
    assert.equal(meta["@windowEnd"], String(Math.floor(T0 / 1000) + 3600));
    assert.deepEqual(d.memory, { "#text": "1024", "@unit": "MiB" });
    assert.deepEqual(d.currentMemory, { "#text": "1024", "@unit": "MiB" });
    assert.equal(d.vcpu["#text"], "2");
    assert.deepEqual(d.os.type, { "#text": "hvm", "@arch": "x86_64", "@machine": "q35" });
    assert.equal(d.os.kernel, "/var/lib/computehive/guest/vmlinuz");
    assert.equal(d.os.initrd, "/var/lib/computehive/guest/initrd.img");
    assert.equal(d.os.cmdline, "console=ttyS0 quiet");
    assert.equal(d.os.loader, undefined);
    assert.equal(d.cpu, undefined, "TCG keeps QEMU's default CPU model");
    assert.equal(d.launchSecurity, undefined);
    assert.equal(d.on_poweroff, "destroy");
    assert.equal(d.on_reboot, "destroy", "a guest panic (panic=-1 reboots) must not loop");
    assert.equal(d.on_crash, "destroy");

    const [overlay, seed] = d.devices.disk;
    assert.equal(d.devices.disk.length, 2);
    assert.equal(overlay.driver["@type"], "qcow2");
    assert.equal(overlay.driver["@iommu"], undefined);
    assert.equal(overlay.source["@file"], RES.overlayPath);
    assert.equal(overlay.source.encryption["@format"], "luks");
    assert.deepEqual(overlay.source.encryption.secret, { "@type": "passphrase", "@uuid": RES.secretUuid });
    assert.equal(overlay.backingStore["@type"], "file");
    assert.equal(overlay.backingStore.format["@type"], "qcow2");
    assert.equal(overlay.backingStore.source["@file"], "/var/lib/computehive/base.qcow2");
    assert.equal(overlay.backingStore.backingStore, "", "the base has no backing file of its own");
    assert.deepEqual(overlay.target, { "@dev": "vda", "@bus": "virtio" });
    assert.equal(overlay.readonly, undefined);
    assert.equal(seed.driver["@type"], "raw");
    assert.equal(seed.source["@file"], RES.seedPath);
    assert.deepEqual(seed.target, { "@dev": "vdb", "@bus": "virtio" });
    assert.equal(seed.readonly, "");
    assert.equal(
      seed.serial,
      "computehive-seed",
      "the guest finds its seed by serial, without scanning the overlay",
    );

    assert.deepEqual(d.devices.controller, { "@type": "usb", "@model": "none" });
    assert.deepEqual(d.devices.memballoon, { "@model": "none" });
    assert.equal(d.devices.serial["@type"], "file");
    assert.equal(d.devices.serial.source["@path"], RES.consoleLogPath);
    assert.equal(d.devices.rng["@model"], "virtio");
    for (const absent of [
      "hostdev",
      "interface",
      "filesystem",
      "redirdev",
      "graphics",
      "channel",
      "smartcard",
    ]) {
      assert.equal(d.devices[absent], undefined, `no <${absent}>`);
    }
    assert.deepEqual(
      d["qemu:commandline"]["qemu:arg"].map((a: Tree) => a["@value"]),
      [
        "-netdev",
        "user,id=chnet0,restrict=on,hostfwd=tcp:127.0.0.1:22001-:22",
        "-device",
        `virtio-net-pci,netdev=chnet0,bus=pcie.0,addr=${USER_NIC_SLOT}`,
      ],
    );
  });

  test("one GPU: every member of its IOMMU group becomes a managed VFIO hostdev", () => {
    assert.deepEqual(hostdevAddresses(domainFor({ gpus: [GPU_A] })), [
      "0x0000:0x01:0x00.0x0",
      "0x0000:0x01:0x00.0x1",
    ]);
  });

  test("two GPUs: a group shared by both is passed once, another group is added", () => {
    assert.deepEqual(hostdevAddresses(domainFor({ gpus: [GPU_A, GPU_A2] })), [
      "0x0000:0x01:0x00.0x0",
      "0x0000:0x01:0x00.0x1",
    ]);
    assert.deepEqual(hostdevAddresses(domainFor({ gpus: [GPU_A, GPU_B] })), [
      "0x0000:0x01:0x00.0x0",
      "0x0000:0x01:0x00.0x1",
      "0x0000:0x81:0x00.0x0",
    ]);
  });

  test("kvm makes a kvm domain with the host CPU; tcg a qemu domain", () => {
    const kvm = domainFor({ accel: "kvm" });
    assert.equal(kvm["@type"], "kvm");
    assert.deepEqual(kvm.cpu, { "@mode": "host-passthrough", "@check": "none", "@migratable": "off" });
    assert.equal(domainFor({ accel: "tcg" })["@type"], "qemu");
  });

  test("SEV-SNP: launchSecurity with policy and kernel hashes, stateless firmware, virtio through the IOMMU", () => {
    const d = domainFor({
      accel: "kvm",
      confidential: "sev-snp",
      firmware: "/usr/share/ovmf/OVMF.amdsev.fd",
    });
    assert.deepEqual(d.launchSecurity, {
      "@type": "sev-snp",
      "@kernelHashes": "yes",
      policy: SEV_SNP_POLICY,
    });
    assert.equal(Number(SEV_SNP_POLICY) & (1 << 19), 0, "debug bit clear");
    assert.equal(Number(SEV_SNP_POLICY) & (1 << 17), 1 << 17, "reserved-must-be-one bit set");
    assert.deepEqual(d.os.loader, {
      "#text": "/usr/share/ovmf/OVMF.amdsev.fd",
      "@readonly": "yes",
      "@type": "rom",
    });
    for (const disk of d.devices.disk) assert.equal(disk.driver["@iommu"], "on");
    assert.equal(d.devices.rng.driver["@iommu"], "on");
    assert.match(d["qemu:commandline"]["qemu:arg"][3]["@value"], /,iommu_platform=on$/);
    assert.equal(d.features.ioapic, undefined);
  });

  test("TDX: launchSecurity with its policy and the split irqchip", () => {
    const d = domainFor({ accel: "kvm", confidential: "tdx", firmware: "/usr/share/ovmf/OVMF.inteltdx.fd" });
    assert.deepEqual(d.launchSecurity, { "@type": "tdx", policy: TDX_POLICY });
    assert.equal(Number(TDX_POLICY) & 1, 0, "debug bit clear");
    assert.deepEqual(d.features.ioapic, { "@driver": "qemu" });
    assert.equal(d.os.loader["#text"], "/usr/share/ovmf/OVMF.inteltdx.fd");
  });

  test("isolated bridge: a libvirt network interface behind the isolation filter, no QEMU command line", () => {
    const d = domainFor({
      network: {
        mode: "isolated-bridge",
        network: "computehive",
        guestIp: "192.168.150.10",
        hostIp: "192.168.150.1",
        dnsServer: "192.168.150.1",
        mac: "52:54:00:12:34:56",
      },
    });
    assert.equal(d["@xmlns:qemu"], undefined);
    assert.equal(d["qemu:commandline"], undefined);
    const [nic] = d.devices.interface;
    assert.equal(d.devices.interface.length, 1);
    assert.equal(nic["@type"], "network");
    assert.equal(nic.source["@network"], "computehive");
    assert.equal(nic.mac["@address"], "52:54:00:12:34:56");
    assert.equal(nic.model["@type"], "virtio");
    assert.equal(nic.filterref["@filter"], GUEST_ISOLATION_FILTER);
    assert.deepEqual(
      Object.fromEntries(nic.filterref.parameter.map((p: Tree) => [p["@name"], p["@value"]])),
      { IP: "192.168.150.10", HOST_IP: "192.168.150.1", DNS_SERVER: "192.168.150.1" },
    );
  });

  test("values are escaped: a hostile command line or path stays one text value", () => {
    const cmdline = `console=ttyS0 a='1' b="2" </cmdline><kernel>/evil</kernel> & <!--`;
    const d = domainFor({ boot: { kernel: "/k'ern<el>", initrd: "/i&r", cmdline } });
    assert.equal(d.os.cmdline, cmdline);
    assert.equal(d.os.kernel, "/k'ern<el>");
    assert.equal(d.os.initrd, "/i&r");
    assert.throws(() => escapeXml("a\u0001b"), /XML cannot carry/);
    assert.equal(renderXml(el("a", { x: `'"<>&` }, "t")), "<a x='&apos;&quot;&lt;&gt;&amp;'>t</a>\n");
  });

  test("test:///default accepts every non-confidential variant and keeps what matters", async () => {
    const variants: Partial<VmSpecInput>[] = [
      {},
      { gpus: [GPU_A] },
      { gpus: [GPU_A, GPU_B], accel: "kvm" },
      {
        network: {
          mode: "isolated-bridge",
          network: "default",
          guestIp: "192.168.122.10",
          hostIp: "192.168.122.1",
          dnsServer: "192.168.122.1",
        },
      },
      { boot: { kernel: "/k", initrd: "/i", cmdline: `quote=' amp=& lt=<` } },
    ];
    for (const over of variants) {
      const id = newBookingId();
      const spec = parseVmSpec(specFor(id, T0, over));
      const dom = await conn.domainDefineXML(buildDomainXml(spec, { ...RES, uuid: crypto.randomUUID() }));
      try {
        const back = parseDomain(await dom.getXMLDesc());
        assert.equal(back.name, domainName(id));
        assert.equal(back.os.cmdline, spec.boot.cmdline);
        assert.equal(back.metadata["computehive:booking"]["@id"], id);
        assert.equal(back.devices.disk[0].source.encryption.secret["@uuid"], RES.secretUuid);
        assert.equal(back.devices.disk[1].readonly, "");
        assert.equal(
          (back.devices.hostdev ?? []).length,
          new Set(spec.gpus.flatMap((g) => g.groupMembers)).size,
        );
        if (spec.network.mode === "isolated-bridge") {
          assert.equal(back.devices.interface[0].filterref["@filter"], GUEST_ISOLATION_FILTER);
        }
      } finally {
        await dom.undefine();
      }
    }
    assert.deepEqual(await ourDomains(), []);
  });
});

/* NWFILTER */

describe("guest isolation nwfilter", () => {
  const f = xml.parse(buildGuestIsolationFilterXml()).filter;
  const rules: Tree[] = f.rule;
  const match = (r: Tree) => r.all ?? r["all-ipv6"] ?? r.udp ?? r.tcp;
  const prio = (r: Tree) => Number(r["@priority"]);
  const generalAccept = rules.filter((r) => r["@action"] === "accept" && r["@direction"] === "out" && r.all);

  test("is the named root filter and includes clean-traffic", () => {
    assert.equal(f["@name"], GUEST_ISOLATION_FILTER);
    assert.equal(f["@chain"], "root");
    assert.equal(f.filterref["@filter"], "clean-traffic");
  });

  test("drops guest traffic to the host and to every private, CGNAT, link-local and loopback range", () => {
    const drops = rules.filter((r) => r["@action"] === "drop" && r["@direction"] === "out" && r.all);
    const dropped = drops.map((r) => `${r.all["@dstipaddr"]}/${r.all["@dstipmask"] ?? ""}`);
    assert.deepEqual(dropped, [
      "$HOST_IP/",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "100.64.0.0/10",
      "169.254.0.0/16",
      "127.0.0.0/8",
    ]);
    assert.equal(generalAccept.length, 1);
    for (const d of drops)
      assert.ok(prio(d) < prio(generalAccept[0]), "drops come before the general accept");
  });

  test("drops all IPv6 both ways, before anything is accepted", () => {
    const v6 = rules.filter((r) => r["all-ipv6"] !== undefined);
    assert.equal(v6.length, 1);
    assert.equal(v6[0]["@action"], "drop");
    assert.equal(v6[0]["@direction"], "inout");
    assert.deepEqual(Object.keys(v6[0]["all-ipv6"]), [], "no narrowing attributes");
    for (const a of rules.filter((r) => r["@action"] === "accept")) assert.ok(prio(v6[0]) < prio(a));
  });

  test("DNS only to the resolver parameter", () => {
    const dns = rules.filter((r) => (r.udp || r.tcp) && match(r)["@dstportstart"] === "53");
    const accept = dns.filter((r) => r["@action"] === "accept");
    const drop = dns.filter((r) => r["@action"] === "drop");
    assert.deepEqual(
      accept.map((r) => [
        Object.keys(r)[0] === "udp" ? "udp" : "tcp",
        match(r)["@dstipaddr"],
        r["@direction"],
      ]),
      [
        ["udp", "$DNS_SERVER", "out"],
        ["tcp", "$DNS_SERVER", "out"],
      ],
    );
    assert.deepEqual(
      drop.map((r) => match(r)["@dstipaddr"]),
      [undefined, undefined],
    );
    const hostDrop = rules.find((r) => r.all?.["@dstipaddr"] === "$HOST_IP");
    for (const a of accept) {
      assert.ok(prio(a) < prio(hostDrop), "the resolver may be the host");
      for (const d of drop) assert.ok(prio(a) < prio(d) && prio(d) < prio(generalAccept[0]));
    }
  });

  test("lets replies and SSH in, nothing else", () => {
    const inbound = rules.filter((r) => r["@direction"] === "in");
    const accepts = inbound.filter((r) => r["@action"] === "accept");
    assert.deepEqual(
      accepts.map((r) => match(r)["@state"]),
      ["ESTABLISHED,RELATED", "NEW"],
    );
    assert.equal(accepts[1].tcp["@dstportstart"], "22");
    const drops = inbound.filter((r) => r["@action"] === "drop");
    assert.equal(drops.length, 1);
    assert.deepEqual(Object.keys(drops[0].all), [], "drops everything");
    for (const a of accepts) assert.ok(prio(a) < prio(drops[0]));
  });
});

/* KEY */

describe("session key", () => {
  test("64 hex characters, fresh each time, zero-filled in place by discard", () => {
    const a = SessionKey.generate();
    const b = SessionKey.generate();
    assert.match(a.passphrase.toString("latin1"), /^[0-9a-f]{64}$/);
    assert.notDeepEqual(a.passphrase, b.passphrase);
    const buf = a.passphrase;
    a.discard();
    assert.ok(a.discarded);
    assert.ok(
      buf.every((x) => x === 0),
      "the very buffer is zeroed",
    );
    assert.throws(() => a.passphrase, /discarded/);
    a.discard();
  });

  test("reaches a program as /dev/stdin and never as an argument", async () => {
    const dir = await scratchDir();
    const prog = join(dir, "fake-qemu-img");
    await writeFile(
      prog,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat /proc/$$/cmdline > "${dir}/cmdline"\ncat /dev/stdin > "${dir}/stdin"\nfor a in "$@"; do case "$a" in -b) ;; *.qcow2) : > "$a" ;; esac; done\n`,
    );
    await chmod(prog, 0o755);
    const key = SessionKey.generate();
    const secret = Buffer.from(key.passphrase);
    await new QemuImgOverlayStore(prog).create({
      path: join(dir, "o.qcow2"),
      baseImage: "/b.qcow2",
      sizeGiB: 3,
      key,
    });
    assert.deepEqual(await readFile(join(dir, "stdin")), secret);
    const argv = await readFile(join(dir, "argv"), "utf8");
    assert.ok(argv.includes("secret,id=sec0,file=/dev/stdin"));
    assert.ok(argv.includes("encrypt.format=luks,encrypt.key-secret=sec0"));
    assert.ok(argv.endsWith(`${join(dir, "o.qcow2")}\n3G\n`));
    for (const f of ["argv", "cmdline"]) {
      assert.ok(!(await readFile(join(dir, f))).includes(secret), `key not in ${f}`);
    }
    assert.equal((await stat(join(dir, "o.qcow2"))).mode & 0o777, 0o600);
  });
});

const haveQemuImg = await execProgram("qemu-img", ["--version"]).then(
  () => true,
  () => false,
);

describe("overlay with qemu-img", { skip: haveQemuImg ? false : "qemu-img not installed" }, () => {
  test("the base is made once and read-only; the overlay is LUKS on it and opens only with its key", async () => {
    const dir = await scratchDir();
    const base = join(dir, "base.qcow2");
    await ensureBaseImage(base, 1);
    const first = await stat(base);
    assert.equal(first.mode & 0o777, 0o444);
    await ensureBaseImage(base, 1);
    assert.equal((await stat(base)).mtimeMs, first.mtimeMs, "not recreated");

    const key = SessionKey.generate();
    const path = join(dir, "overlay.qcow2");
    const overlays = new QemuImgOverlayStore();
    await overlays.create({ path, baseImage: base, sizeGiB: 2, key });
    const info = JSON.parse(await execProgram("qemu-img", ["info", "--output=json", path]));
    assert.equal(info.encrypted, true);
    assert.equal(info["format-specific"].data.encrypt.format, "luks");
    assert.equal(info["backing-filename"], base);
    assert.equal(info["backing-filename-format"], "qcow2");
    assert.equal(info["virtual-size"], 2 * 1024 ** 3);
    assert.ok(!(await readFile(path)).includes(key.passphrase), "the passphrase is not in the image");

    const read = (k: Buffer) =>
      execProgram(
        "qemu-io",
        [
          "--object",
          "secret,id=s0,file=/dev/stdin",
          "--image-opts",
          "-c",
          "read 0 4096",
          `driver=qcow2,file.filename=${path},encrypt.key-secret=s0`,
        ],
        { stdinFile: k },
      );
    assert.match(await read(key.passphrase), /read 4096\/4096 bytes/);
    const other = SessionKey.generate();
    await assert.rejects(read(other.passphrase), /Invalid password/);
    key.discard();
    other.discard();
    await overlays.remove(path);
    assert.equal(await overlays.exists(path), false);
    await overlays.remove(path);
  });
});

/* JOURNAL */

describe("journal", () => {
  const rec = (booking: string, session: string, type: string, extra: object = {}) =>
    ({ booking, session, type, ...extra }) as NewRecord;

  test("records survive a reopen and replay to the same state", async () => {
    const dir = await scratchDir();
    const path = join(dir, "j.jsonl");
    const spec = parseVmSpec(specFor("5", T0));
    const j = await VmJournal.open(path, { now: () => 1000 });
    await j.append(
      rec("5", "s1", "intent", {
        spec,
        specHash: specHash(spec),
        resources: { domainName: domainName("5") },
      }),
    );
    await j.append(rec("5", "s1", "overlayCreated"));
    await j.append(rec("5", "s1", "started"));
    await j.close();
    const again = await VmJournal.open(path);
    assert.deepEqual(
      again.records.map((r) => [r.seq, r.type, r.at]),
      [
        [1, "intent", 1000],
        [2, "overlayCreated", 1000],
        [3, "started", 1000],
      ],
    );
    const live = again.replay().get("5")?.live;
    assert.equal(live?.phase, "running");
    assert.equal(live?.windowEnd, spec.window.end);
    assert.deepEqual([...(live?.done.keys() ?? [])], ["intent", "overlayCreated", "started"]);
  });

  test("a line torn by a crash is dropped and cut off; damage earlier is an error", async () => {
    const dir = await scratchDir();
    const path = join(dir, "j.jsonl");
    const j = await VmJournal.open(path);
    await j.append(rec("5", "s1", "teardownStarted", { reason: "requested" }));
    await j.close();
    await appendFile(path, '{"v":1,"seq":2,"type":"domainDes');
    const reopened = await VmJournal.open(path);
    assert.equal(reopened.records.length, 1);
    assert.ok((await readFile(path, "utf8")).endsWith("}\n"));
    await reopened.append(rec("5", "s1", "domainDestroyed"));
    await reopened.close();
    assert.equal((await VmJournal.open(path)).records.length, 2);

    await writeFile(path, `not json\n${await readFile(path, "utf8")}`);
    await assert.rejects(VmJournal.open(path), /line 1 is not JSON/);
  });

  test("compaction keeps live sessions and recent tombstones, drops the rest", async () => {
    const dir = await scratchDir();
    const path = join(dir, "j.jsonl");
    const now = 10_000;
    const j = await VmJournal.open(path, { now: () => now * 1000 });
    const facts = (booking: string, windowEnd: number) =>
      ({
        bookingId: booking,
        sessionId: "s",
        reason: "requested",
        steps: [],
        windowEnd,
        at: 0,
      }) as unknown as TeardownFacts;
    await j.append(rec("1", "a", "orphan", { resources: { domainName: domainName("1") } }));
    await j.append(rec("1", "a", "domainDestroyed"));
    await j.append(rec("2", "b", "orphan", { resources: { domainName: domainName("2") } }));
    await j.append(rec("2", "b", "tornDown", { facts: facts("2", now - 10), final: true }));
    await j.append(rec("3", "c", "orphan", { resources: { domainName: domainName("3") } }));
    await j.append(rec("3", "c", "tornDown", { facts: facts("3", now - 1000), final: true }));
    await j.append(rec("4", "d", "orphan", { resources: { domainName: domainName("4") } }));
    await j.append(rec("4", "d", "tornDown", { facts: facts("4", now), final: false }));
    await j.compact(now, 100);
    const kept = (await VmJournal.open(path)).records.map((r) => `${r.booking}:${r.type}`);
    assert.deepEqual(kept, ["1:orphan", "1:domainDestroyed", "2:tornDown"]);
    const state = (await VmJournal.open(path)).replay();
    assert.equal(state.get("1")?.live?.phase, "tearing-down");
    assert.equal(state.get("2")?.final?.bookingId, "2");
    assert.equal(state.get("3"), undefined);
    await j.append(rec("1", "a", "domainUndefined"));
    await j.close();
    assert.equal(
      (await VmJournal.open(path)).records.at(-1)?.type,
      "domainUndefined",
      "appends go to the new file",
    );
  });
});

/* MANAGER */

describe("VmManager on test:///default", () => {
  test("refuses to work before recover()", async () => {
    const { manager } = await makeEnv();
    await assert.rejects(
      manager.provision(specFor(newBookingId(), T0)),
      (e: VmError) => e.code === "not-recovered",
    );
  });

  test("provision → status → extend → destroy, with the teardown facts", async () => {
    const env = await makeEnv();
    const { manager, secrets, overlays, stateDir } = env;
    await manager.recover();
    const id = newBookingId();
    const spec = specFor(id, T0);
    const st = await manager.provision(spec);
    assert.equal(st.state, "running");
    assert.equal(st.active, true);
    assert.deepEqual(st.sshForward, { host: "127.0.0.1", port: 22001 });
    assert.deepEqual(st.hostKeyFingerprints, [`SHA256:host-key-of-${id}`]);
    assert.deepEqual(await ourDomains(id), [domainName(id)]);

    const dom = await findDomain(conn, domainName(id));
    assert.ok(dom && (await isActive(dom)));
    const live = parseDomain(await dom.getXMLDesc());
    assert.equal(live.uuid, st.domainUuid);
    assert.equal(live.metadata["computehive:booking"]["@session"], st.sessionId);
    const secretUuid = live.devices.disk[0].source.encryption.secret["@uuid"];
    const overlayPath = live.devices.disk[0].source["@file"];
    assert.ok(overlayPath.startsWith(join(stateDir, "sessions", `${id}-${st.sessionId}`)));
    assert.deepEqual(await secrets.list(), [secretUuid]);
    assert.equal(secrets.secrets.get(secretUuid)?.volume, overlayPath);
    // The same key went to the overlay and to libvirt, and the agent's copy is zeroed already.
    assert.equal(secrets.secrets.get(secretUuid)?.valueHash, overlays.created[0]?.keyHash);
    assert.ok(overlays.created[0]?.keyRef.every((b) => b === 0));

    const end = spec.window?.end ?? 0;
    assert.equal(await manager.extend(id, end + 1800), end + 1800);
    assert.equal((await manager.status(id)).windowEnd, end + 1800);
    await assert.rejects(manager.extend(id, end), (e: VmError) => e.code === "bad-extension");

    const facts = await manager.destroy(id);
    assertCleanFacts(facts, "requested");
    assert.equal(facts.bookingId, id);
    assert.equal(facts.sessionId, st.sessionId);
    assert.equal(facts.windowEnd, end + 1800);
    assert.equal(typeof facts.startedAt, "number");
    assert.deepEqual(await ourDomains(id), []);
    assert.deepEqual(await secrets.list(), []);
    assert.equal(await fileExists(overlayPath), false);
    assert.deepEqual(await readdir(join(stateDir, "sessions")), []);

    const after = await manager.status(id);
    assert.equal(after.state, "torn-down");
    assert.deepEqual(after.facts, facts);
    assert.deepEqual(await manager.destroy(id), facts, "destroy again returns the same facts");
    await assert.rejects(manager.extend(id, end + 7200), (e: VmError) => e.code === "not-running");
    await assert.rejects(manager.destroy(newBookingId()), (e: VmError) => e.code === "not-found");
  });

  test("provisioning twice, at once or one after the other, makes one domain", async () => {
    const { manager, journal, overlays } = await makeEnv();
    await manager.recover();
    const id = newBookingId();
    const [a, b] = await Promise.all([
      manager.provision(specFor(id, T0)),
      manager.provision(specFor(id, T0)),
    ]);
    const c = await manager.provision(specFor(id, T0, { vcpus: 8 }));
    assert.equal(a.sessionId, b.sessionId);
    assert.equal(a.sessionId, c.sessionId);
    assert.deepEqual(await ourDomains(id), [domainName(id)]);
    assert.equal(journal.records.filter((r) => r.type === "intent").length, 1);
    assert.equal(overlays.created.length, 1);
    await manager.destroy(id);
  });

  test("a torn-down booking is never provisioned again", async () => {
    const { manager, overlays } = await makeEnv();
    await manager.recover();
    const id = newBookingId();
    await manager.provision(specFor(id, T0));
    const facts = await manager.destroy(id);
    const again = await manager.provision(specFor(id, T0));
    assert.equal(again.state, "torn-down");
    assert.deepEqual(again.facts, facts);
    assert.deepEqual(await ourDomains(id), []);
    assert.equal(overlays.created.length, 1);
  });

  test("a window that has ended is refused", async () => {
    const { manager, clock } = await makeEnv();
    await manager.recover();
    const id = newBookingId();
    const spec = specFor(id, T0);
    clock.t = T0 + 3600_000;
    await assert.rejects(manager.provision(spec), (e: VmError) => e.code === "window-ended");
    assert.deepEqual(await ourDomains(id), []);
  });

  test("the window's end tears the VM down by itself; an extension moves it", async () => {
    const { manager, timers, torn, secrets } = await makeEnv();
    await manager.recover();
    const id = newBookingId();
    const spec = specFor(id, T0, { window: { start: T0 / 1000, end: T0 / 1000 + 100 } });
    await manager.provision(spec);
    timers.advance(99_000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await manager.status(id)).state, "running");
    await manager.extend(id, T0 / 1000 + 200);
    timers.advance(50_000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await manager.status(id)).state, "running", "the old end passed harmlessly");
    timers.advance(51_000);
    await waitFor(() => torn.length === 1, "teardown at window end");
    assertCleanFacts(torn[0] as TeardownFacts, "window-ended");
    assert.equal(torn[0]?.windowEnd, T0 / 1000 + 200);
    assert.equal((await manager.status(id)).state, "torn-down");
    assert.deepEqual(await ourDomains(id), []);
    assert.deepEqual(await secrets.list(), []);
    assert.equal(timers.pending.size, 0);
  });

  test("a failed provisioning reports reason 7, removes what it made, and stays failed", async () => {
    const seeds = new FakeSeeds(new Error("seed image build failed"));
    const { manager, secrets, overlays, stateDir } = await makeEnv({ seeds });
    await manager.recover();
    const id = newBookingId();
    const err = await manager.provision(specFor(id, T0)).then(
      () => assert.fail("should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProvisioningError);
    assert.equal(err.declineReason, PROVISIONING_FAILED);
    assert.match(err.message, /seed image build failed/);
    assert.ok(err.facts);
    assertCleanFacts(err.facts, "provision-failed");
    assert.equal(err.facts.error, "seed image build failed");
    assert.deepEqual(await ourDomains(id), []);
    assert.deepEqual(await secrets.list(), []);
    assert.equal(await fileExists(overlays.created[0]?.path ?? "/"), false);
    assert.deepEqual(await readdir(join(stateDir, "sessions")), []);
    assert.equal((await manager.status(id)).state, "failed");
    await assert.rejects(manager.provision(specFor(id, T0)), ProvisioningError);
    assert.equal(overlays.created.length, 1, "not retried");
  });

  test("an invalid spec is a provisioning failure", async () => {
    const { manager } = await makeEnv();
    await manager.recover();
    await assert.rejects(
      manager.provision(specFor("12", T0, { vcpus: 0 })),
      (e: ProvisioningError) => e.declineReason === PROVISIONING_FAILED && /invalid spec/.test(e.message),
    );
  });

  test("a bridged guest gets the isolation filter, and is refused without a filter store", async () => {
    const network = {
      mode: "isolated-bridge" as const,
      network: "default",
      guestIp: "192.168.122.20",
      hostIp: "192.168.122.1",
      dnsServer: "192.168.122.1",
    };
    const bare = await makeEnv();
    await bare.manager.recover();
    const refused = newBookingId();
    await assert.rejects(bare.manager.provision(specFor(refused, T0, { network })), /nwfilter store/);
    assert.deepEqual(await ourDomains(refused), []);

    const nwfilters = new MemoryNwFilters();
    const { manager, journal } = await makeEnv({ nwfilters });
    await manager.recover();
    const id = newBookingId();
    const st = await manager.provision(specFor(id, T0, { network }));
    assert.equal(st.guestIp, "192.168.122.20");
    assert.equal(nwfilters.filters.get(GUEST_ISOLATION_FILTER), buildGuestIsolationFilterXml());
    assert.ok(journal.records.some((r) => r.type === "filterDefined"));
    const dom = await findDomain(conn, domainName(id));
    assert.equal(
      parseDomain((await dom?.getXMLDesc()) ?? "").devices.interface[0].filterref["@filter"],
      GUEST_ISOLATION_FILTER,
    );
    await manager.destroy(id);
  });

  test("a confidential guest either carries its launchSecurity or fails cleanly with reason 7", async () => {
    // Debian 12's libvirt 9.0 knows only SEV; SEV-SNP arrived in 10.5 and TDX in 11.
    for (const confidential of ["sev-snp", "tdx"] as const) {
      const { manager, secrets } = await makeEnv();
      await manager.recover();
      const id = newBookingId();
      const spec = specFor(id, T0, { accel: "kvm", confidential, firmware: "/usr/share/ovmf/OVMF.fd" });
      const outcome = await manager.provision(spec).then(
        (st) => st,
        (e: unknown) => e,
      );
      if (outcome instanceof ProvisioningError) {
        assert.equal(outcome.declineReason, PROVISIONING_FAILED);
        assert.match(outcome.message, /launchSecurity/);
        assert.deepEqual(await ourDomains(id), []);
        assert.deepEqual(await secrets.list(), []);
      } else {
        assert.ok(!(outcome instanceof Error), String(outcome));
        const dom = await findDomain(conn, domainName(id));
        assert.equal(parseDomain((await dom?.getXMLDesc()) ?? "").launchSecurity["@type"], confidential);
        await manager.destroy(id);
      }
    }
  });

  test("reconcile destroys what is not desired, provisions what is, and touches nothing else", async () => {
    const { manager, overlays } = await makeEnv();
    await manager.recover();
    const [a, b, c, d, done] = [
      newBookingId(),
      newBookingId(),
      newBookingId(),
      newBookingId(),
      newBookingId(),
    ];
    for (const id of [a, b, c, done]) await manager.provision(specFor(id, T0));
    await manager.destroy(done);
    // A domain in our namespace the journal never heard of, and one that is not ours at all.
    const orphan = newBookingId();
    const orphanSpec = parseVmSpec(specFor(orphan, T0));
    await (
      await conn.domainDefineXML(buildDomainXml(orphanSpec, { ...RES, uuid: crypto.randomUUID() }))
    ).create();
    const foreignName = `someone-else-${process.pid}`;
    await conn.domainDefineXML(
      `<domain type='qemu'><name>${foreignName}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`,
    );

    const report = await manager.reconcile([a, specFor(d, T0), specFor(done, T0)]);
    assert.deepEqual(report.kept, [a]);
    assert.deepEqual(report.provisioned, [d]);
    assert.deepEqual(report.finished, [done]);
    assert.deepEqual(report.failed, []);
    assert.deepEqual(
      report.destroyed.map((f) => [f.bookingId, f.reason]).sort(),
      [
        [b, "reconcile"],
        [c, "reconcile"],
        [orphan, "orphan"],
      ].sort(),
    );
    assert.deepEqual((await ourDomains()).sort(), [domainName(a), domainName(d)].sort());
    assert.ok((await findDomain(conn, foreignName)) !== undefined, "not ours, not touched");

    const created = overlays.created.length;
    const again = await manager.reconcile([a, specFor(d, T0), specFor(done, T0)]);
    assert.deepEqual(again.kept.sort(), [a, d].sort());
    assert.deepEqual(again.provisioned, []);
    assert.deepEqual(again.destroyed, []);
    assert.equal(overlays.created.length, created, "idempotent");

    const none = await manager.reconcile([]);
    assert.deepEqual(none.destroyed.map((f) => f.bookingId).sort(), [a, d].sort());
    assert.deepEqual(await ourDomains(), []);
    await (await findDomain(conn, foreignName))?.undefine();
  });
});

/* RECOVERY */

describe("recovery on test:///default", () => {
  test("a window that ended while the agent was down is torn down at start", async () => {
    const first = await makeEnv();
    await first.manager.recover();
    const id = newBookingId();
    await first.manager.provision(specFor(id, T0, { window: { start: T0 / 1000, end: T0 / 1000 + 60 } }));
    const clock = new FakeClock(T0 + 61_000);
    const second = await makeEnv({
      stateDir: first.stateDir,
      clock,
      secrets: first.secrets,
      overlays: first.overlays,
    });
    const report = await second.manager.recover();
    assert.deepEqual(
      report.expired.map((f) => f.bookingId),
      [id],
    );
    assertCleanFacts(report.expired[0] as TeardownFacts, "window-ended");
    assert.deepEqual(await ourDomains(id), []);
    assert.deepEqual(await first.secrets.list(), []);
  });

  test("a VM that stopped while the agent was down is torn down and not recreated", async () => {
    const first = await makeEnv();
    await first.manager.recover();
    const id = newBookingId();
    await first.manager.provision(specFor(id, T0));
    await (await findDomain(conn, domainName(id)))?.destroy();
    const second = await makeEnv({
      stateDir: first.stateDir,
      secrets: first.secrets,
      overlays: first.overlays,
    });
    const report = await second.manager.recover();
    assert.deepEqual(
      report.lost.map((f) => f.bookingId),
      [id],
    );
    assertCleanFacts(report.lost[0] as TeardownFacts, "vm-lost");
    const rec = await second.manager.reconcile([specFor(id, T0)]);
    assert.deepEqual(rec.finished, [id]);
    assert.deepEqual(await ourDomains(id), []);
  });

  test("with the journal lost, the domain's own XML says what to remove", async () => {
    const first = await makeEnv();
    await first.manager.recover();
    const id = newBookingId();
    await first.manager.provision(specFor(id, T0));
    const dir = join(first.stateDir, "sessions");
    assert.equal((await readdir(dir)).length, 1);
    await rm(join(first.stateDir, "vm-journal.jsonl"));
    const second = await makeEnv({
      stateDir: first.stateDir,
      secrets: first.secrets,
      overlays: first.overlays,
    });
    const report = await second.manager.recover();
    assert.deepEqual(
      report.orphans.map((f) => f.bookingId),
      [id],
    );
    assertCleanFacts(report.orphans[0] as TeardownFacts, "orphan");
    assert.deepEqual(await ourDomains(id), []);
    assert.deepEqual(await first.secrets.list(), []);
    assert.deepEqual(await readdir(dir), []);
  });

  /**
   * Agent 1 provisions and then destroys a booking and is killed at hook point `k` (before or after
   * each journal record). If `j` is given, agent 2 is killed at point `j` of its own recovery. The
   * last agent recovers, reconciles with the booking still desired, and destroys it. Checked: no
   * domain, secret or file left behind, never two domains, no VM again for a booking that started,
   * and every step journaled at most once per session, every teardown step exactly once.
   */
  async function crashRun(k: number, j?: number): Promise<{ crashed: boolean; crashedAgain: boolean }> {
    const stateDir = await scratchDir();
    const clock = new FakeClock(T0);
    const secrets = new MemorySecrets();
    const overlays = new FakeOverlays();
    const seeds = new FakeSeeds();
    const id = newBookingId();
    const spec = specFor(id, T0);
    const history: NewRecord[] = [];

    const killedAt = (point: number) => {
      let n = 0;
      let park: () => void = () => {};
      const parked = new Promise<"crashed">((r) => {
        park = () => r("crashed");
      });
      const hook = (when: "before" | "after", r: NewRecord) => {
        if (when === "after") history.push(r);
        if (n++ !== point) return;
        park();
        return new Promise<void>(() => {});
      };
      return { hook, parked };
    };

    const one = killedAt(k);
    const a1 = await makeEnv({ stateDir, clock, secrets, overlays, seeds, hook: one.hook });
    await a1.manager.recover();
    const work = (async () => {
      await a1.manager.provision(spec);
      await a1.manager.destroy(id);
      return "ran-through" as const;
    })();
    if ((await Promise.race([one.parked, work])) === "ran-through")
      return { crashed: false, crashedAgain: false };
    const dom = await findDomain(conn, domainName(id));
    const wasServing = !!dom && (await isActive(dom)) && !history.some((r) => r.type === "teardownStarted");
    const servingSession = history.find((r) => r.type === "intent")?.session;

    let crashedAgain = false;
    if (j !== undefined) {
      const two = killedAt(j);
      const a2 = await makeEnv({ stateDir, clock, secrets, overlays, seeds, hook: two.hook });
      crashedAgain =
        (await Promise.race([two.parked, a2.manager.recover().then(() => "ran-through")])) === "crashed";
    }

    const a3 = await makeEnv({
      stateDir,
      clock,
      secrets,
      overlays,
      seeds,
      hook: (when, r) => {
        if (when === "after") history.push(r);
      },
    });
    const report = await a3.manager.recover();
    const where = `k=${k} j=${j}`;
    assert.deepEqual(report.errors, [], where);
    assert.ok((await ourDomains(id)).length <= 1, where);
    const status = await a3.manager.status(id);
    if (wasServing) {
      // A VM that was up keeps serving its booking: adopted, not rolled back and made again.
      assert.equal(status.state, "running", where);
      assert.equal(status.sessionId, servingSession, where);
    }
    if (status.state === "running") {
      assert.equal(status.active, true, where);
      assert.equal((await secrets.list()).length, 1, where);
    } else {
      assert.deepEqual(await ourDomains(id), [], where);
      assert.deepEqual(await secrets.list(), [], where);
    }

    const rec = await a3.manager.reconcile([spec]);
    assert.deepEqual(rec.failed, [], where);
    const facts = await a3.manager.destroy(id);
    assert.equal(
      facts.domainGone && facts.overlayRemoved && facts.seedRemoved && facts.keyDiscarded,
      true,
      where,
    );

    assert.deepEqual(await ourDomains(id), [], where);
    assert.deepEqual(await secrets.list(), [], where);
    assert.deepEqual(await readdir(join(stateDir, "sessions")), [], where);
    for (const o of overlays.created) assert.equal(await fileExists(o.path), false, where);

    const sessions = [...new Set(history.map((r) => r.session))];
    let startedBefore = false;
    for (const s of sessions) {
      const types = history.filter((r) => r.session === s).map((r) => r.type);
      for (const t of new Set(types))
        assert.equal(types.filter((x) => x === t).length, 1, `${where} ${s} ${t} twice`);
      assert.ok(!startedBefore, `${where}: a VM was provisioned again after one had started`);
      if (types.includes("started")) startedBefore = true;
      assert.ok(types.includes("tornDown"), `${where}: session ${s} never finished`);
      for (const step of TEARDOWN_STEPS) assert.ok(types.includes(step), `${where}: ${s} missing ${step}`);
    }
    assert.ok(sessions.length <= 2, where);
    const finals = history.filter((r) => r.type === "tornDown" && (r as { final?: boolean }).final);
    assert.equal(finals.length, 1, `${where}: exactly one final teardown`);
    return { crashed: true, crashedAgain };
  }

  const POINTS = 2 * (1 + PROVISION_STEPS.length - 1 + 1 + TEARDOWN_STEPS.length + 1);

  test("killed between any two steps of provision and destroy, a restart leaks nothing and duplicates nothing", async () => {
    let k = 0;
    while ((await crashRun(k)).crashed) k++;
    // intent, 7 provisioning steps (no filter for user networking), teardownStarted, 7 steps, tornDown.
    assert.equal(k, POINTS);
  });

  test("killed again during the recovery, the next restart still converges", async () => {
    let doubleCrashes = 0;
    for (let k = 0; k < POINTS; k++) {
      // j counts up until agent 2's recovery runs through without reaching point j.
      for (let j = 0; (await crashRun(k, j)).crashedAgain; j++) doubleCrashes++;
    }
    // Every restart after a crash mid-provisioning or mid-teardown has recovery work to be killed in.
    assert.ok(doubleCrashes > POINTS, String(doubleCrashes));
  });

  test("nothing of ours is left on test:///default", async () => {
    assert.deepEqual(await ourDomains(), []);
  });
});

/* QEMU:///SYSTEM */

async function systemLibvirt(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const up = () =>
    execProgram("virsh", ["-c", "qemu:///system", "version"], { timeoutMs: 10_000 }).then(
      () => true,
      () => false,
    );
  if (await up()) return true;
  await execProgram("virtlogd", ["-d"]).catch(() => {});
  await execProgram("libvirtd", ["-d"]).catch(() => {});
  for (let i = 0; i < 50; i++) {
    if (await up()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const haveSystem = haveQemuImg && (await systemLibvirt());

/**
 * A Multiboot kernel of 36 bytes: the header (load it at 1 MiB, enter at +32) and `cli; hlt; jmp .-3`.
 * QEMU's `-kernel` boots it directly, so a real domain starts (and must open its encrypted disk)
 * without a guest OS.
 */
function haltingKernel(): Buffer {
  const magic = 0x1badb002;
  const flags = 0x00010000;
  const b = Buffer.alloc(36);
  [magic, flags, -(magic + flags) >>> 0, 0x100000, 0x100000, 0, 0, 0x100020].forEach((v, i) => {
    b.writeUInt32LE(v, 4 * i);
  });
  Buffer.from([0xfa, 0xf4, 0xeb, 0xfd]).copy(b, 32);
  return b;
}

describe("qemu:///system", {
  skip: haveSystem ? false : "needs root, qemu-img and a running libvirtd",
}, () => {
  const uri = "qemu:///system";
  let sys: VmConnection;
  let root: string;

  before(async () => {
    sys = await openLibvirt(uri);
    // QEMU runs as libvirt-qemu: it must be able to traverse to the files.
    root = await mkdtemp(join("/var/tmp", "computehive-vm-test-"));
    await chmod(root, 0o711);
    await writeFile(join(root, "kernel"), haltingKernel());
    await writeFile(join(root, "initrd"), Buffer.alloc(512));
    await ensureBaseImage(join(root, "base.qcow2"), 1);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const seeds: SeedProvider = {
    async create(req) {
      const path = join(req.dir, "seed.img");
      await writeFile(path, Buffer.alloc(1 << 20));
      return { path, hostKeyFingerprints: [] };
    },
    async remove(path) {
      await rm(path, { force: true });
    },
  };

  /** The real overlay store, keeping a copy of each passphrase so the test can look for it. */
  class PeekingOverlays extends QemuImgOverlayStore {
    readonly keys: Buffer[] = [];
    override async create(req: OverlayRequest): Promise<void> {
      this.keys.push(Buffer.from(req.key.passphrase));
      await super.create(req);
    }
  }

  async function systemManager(stateDir: string, overlays: OverlayStore) {
    const journal = await VmJournal.open(join(stateDir, "vm-journal.jsonl"));
    const manager = new VmManager({
      connection: sys,
      journal,
      stateDir,
      overlays,
      secrets: new VirshSecretStore(uri),
      seeds,
      startRetryMs: 200,
    });
    await manager.recover();
    keepAlive.push(journal);
    return manager;
  }

  function systemSpec(id: string, over: Partial<VmSpecInput> = {}): VmSpecInput {
    const now = Math.floor(Date.now() / 1000);
    return {
      ...specFor(id, Date.now()),
      memoryMiB: 128,
      vcpus: 1,
      diskGiB: 2,
      boot: { kernel: join(root, "kernel"), initrd: join(root, "initrd"), cmdline: "halt" },
      baseImage: join(root, "base.qcow2"),
      window: { start: now, end: now + 600 },
      ...over,
    };
  }

  test("a GPU passthrough domain fails on a host without VFIO: reason 7, nothing leaked", async () => {
    const stateDir = join(root, "state-vfio");
    await mkdir(stateDir, { mode: 0o711 });
    const manager = await systemManager(stateDir, new QemuImgOverlayStore());
    const id = newBookingId();
    const secretsBefore = await new VirshSecretStore(uri).list();
    const err = await manager.provision(systemSpec(id, { gpus: [GPU_A] })).then(
      () => assert.fail("a VFIO domain must not start here"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProvisioningError, String(err));
    assert.equal(err.declineReason, PROVISIONING_FAILED);
    assert.match(err.message, /VFIO/);
    assert.ok(err.facts);
    assertCleanFacts(err.facts, "provision-failed");
    assert.equal(await findDomain(sys, domainName(id)), undefined);
    assert.deepEqual(await new VirshSecretStore(uri).list(), secretsBefore);
    assert.deepEqual(await readdir(join(stateDir, "sessions")), []);
  });

  test("a real guest: encrypted overlay unlocked by libvirt, restricted user networking, nothing left after", async () => {
    const stateDir = join(root, "state-boot");
    await mkdir(stateDir, { mode: 0o711 });
    const overlays = new PeekingOverlays();
    const manager = await systemManager(stateDir, overlays);
    const id = newBookingId();
    const port = 20000 + (process.pid % 20000);
    const st = await manager.provision(
      systemSpec(id, { network: { mode: "user-restricted", sshForward: { host: "127.0.0.1", port } } }),
    );
    try {
      assert.equal(st.state, "running");
      assert.equal(st.active, true);
      const dom = await findDomain(sys, domainName(id));
      assert.ok(dom);
      const d = parseDomain(await dom.getXMLDesc());
      assert.equal(d.devices.disk[0].source.encryption.secret["@uuid"].length, 36);
      assert.equal(
        d["qemu:commandline"]["qemu:arg"][1]["@value"],
        `user,id=chnet0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
      );
      // QEMU listens on the forward (user networking with restrict=on is up).
      await new Promise<void>((resolve, reject) => {
        const s = connect(port, "127.0.0.1", () => {
          s.destroy();
          resolve();
        });
        s.on("error", reject);
      });
      // The passphrase is on no process's command line (libvirt passes it to QEMU AES-encrypted).
      const key = overlays.keys[0];
      assert.ok(key && key.length === 64);
      for (const pid of await readdir("/proc")) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0));
        assert.ok(!cmdline.includes(key), `passphrase on the command line of ${pid}`);
      }
      const secretUuid = d.devices.disk[0].source.encryption.secret["@uuid"];
      assert.ok((await new VirshSecretStore(uri).list()).includes(secretUuid));
      await assert.rejects(
        execProgram("virsh", ["-c", uri, "secret-get-value", secretUuid]),
        /private/,
        "libvirt will not hand the secret back",
      );

      const facts = await manager.destroy(id);
      assertCleanFacts(facts, "requested");
      assert.equal(await findDomain(sys, domainName(id)), undefined);
      assert.ok(!(await new VirshSecretStore(uri).list()).includes(secretUuid));
      assert.deepEqual(await readdir(join(stateDir, "sessions")), []);
    } finally {
      for (const k of overlays.keys) k.fill(0);
      if (await findDomain(sys, domainName(id))) await manager.destroy(id).catch(() => {});
    }
  });

  test("libvirt validates the isolation filter", async () => {
    const store = new VirshNwFilterStore(uri);
    const name = `${GUEST_ISOLATION_FILTER}-test-${process.pid}`;
    await store.define(
      buildGuestIsolationFilterXml().replace(`name='${GUEST_ISOLATION_FILTER}'`, `name='${name}'`),
    );
    try {
      assert.ok((await store.list()).includes(name));
      const back = xml.parse(await execProgram("virsh", ["-c", uri, "nwfilter-dumpxml", name])).filter;
      assert.equal(back.rule.length, xml.parse(buildGuestIsolationFilterXml()).filter.rule.length);
      assert.equal(back.filterref["@filter"], "clean-traffic");
    } finally {
      await store.undefine(name);
    }
    assert.ok(!(await store.list()).includes(name));
  });
});
