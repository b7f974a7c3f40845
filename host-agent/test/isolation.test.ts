/**
 * Security tests against ONE real guest, provisioned by the agent (qemu:///system, QEMU/TCG, the agent's own
 * domain XML: user-mode networking with `restrict=on` and a hostfwd to the guest's sshd):
 *
 * 1. From inside the guest (logged in with a valid certificate), nothing of the host's and nothing beyond is
 *    reachable: TCP listeners the test opens on the host (0.0.0.0 and 127.0.0.1), every TCP port the host
 *    listens on, the agent's own API on loopback TCP, the SSH forward's host side, the host's own addresses,
 *    QEMU's DNS (10.0.2.3, TCP and UDP), the link-local metadata address, private ranges (10/8, 172.16/12,
 *    192.168/16, libvirt's 192.168.122.1), IPv6 (fec0::2) and the internet (1.1.1.1, 8.8.8.8). Positive
 *    controls: the same probe reaches the guest's own sshd on 127.0.0.1:22 and 10.0.2.15:22, and the guest
 *    has its address and a default route via 10.0.2.2 (so the failures are isolation, not a dead network).
 *    The host-side listeners must have seen no connection.
 * 2. A second borrower cannot use the first one's certificate: the first borrower's certificate offered by
 *    OpenSSH's `ssh` and signed with the second borrower's key (through a forging ssh-agent,
 *    support/forging-agent.ts) is refused by the guest's sshd, while the very same path signing with the
 *    first borrower's key logs in (control); the second borrower's bare key is refused.
 * 3. After the window: a certificate valid for ~20 s logs in, and once its window has passed the same
 *    certificate is refused ("Certificate invalid: expired" in the guest's sshd log); when the booking's
 *    window ends the agent's timer tears the VM down: the domain is gone from libvirt (`virsh list --all`,
 *    `dominfo`), the overlay and the session directory are deleted, and the endpoint's certificate logs in
 *    nowhere. The booking's window is 15 minutes long (a TCG boot on a loaded machine took over 80 s, so a
 *    short real window can end before the guest is up); the agent runs on a clock that the test moves to the
 *    window's end, which fires the agent's own window timer (`AgentClock` below). realvm.test.ts waits for a
 *    real one-minute window instead.
 *
 * Root only (QEMU, libvirt): skipped loudly otherwise.
 * Run: node --import tsx --test --test-reporter=spec host-agent/test/isolation.test.ts
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { HostAgent, type ProvisionResult } from "../src/agent/agent.ts";
import { type ApiServer, startApiServer } from "../src/api/server.ts";
import { defaultGuestCacheDir } from "../src/guest/build.ts";
import { signUserCertificate } from "../src/ssh/ca.ts";
import { knownHostsText } from "../src/ssh/endpoint.ts";
import { ensureLibvirt } from "../src/system/daemons.ts";
import { which } from "../src/system/exec.ts";
import type { TeardownFacts } from "../src/vm/journal.ts";
import { openLibvirt, type VmConnection } from "../src/vm/libvirt.ts";
import { domainName } from "../src/vm/spec.ts";
import { ed25519KeyObject, startForgingAgent } from "./support/forging-agent.ts";

const say = (msg: string) => process.stderr.write(`[isolation.test] ${msg}\n`);
const isRoot = process.getuid?.() === 0;
/** The booking's window: far longer than any boot; the test moves the agent's clock to its end. */
const WINDOW_S = 900;
const SHORT_CERT_S = 20;

/**
 * The agent's clock and timers: real time plus a shift, on node's timers (unref'd). `jumpTo` moves the clock
 * and runs every pending timer at once; the manager's timer handler then reads the clock itself and tears
 * down only if the window is over (an early wake-up re-arms), so this plays "the window's end came".
 */
class AgentClock {
  #shiftMs = 0;
  readonly #pending = new Set<{ fn: () => void; t: NodeJS.Timeout }>();
  readonly clock = { now: () => Date.now() + this.#shiftMs };
  readonly timers = {
    set: (fn: () => void, ms: number) => {
      const h = {
        fn,
        t: setTimeout(
          () => {
            this.#pending.delete(h);
            fn();
          },
          Math.min(Math.max(0, ms), 2 ** 31 - 1),
        ),
      };
      h.t.unref();
      this.#pending.add(h);
      return h;
    },
    clear: (handle: unknown) => {
      const h = handle as { t: NodeJS.Timeout };
      clearTimeout(h.t);
      this.#pending.delete(h as { fn: () => void; t: NodeJS.Timeout });
    },
  };
  jumpTo(ms: number): void {
    this.#shiftMs = ms - Date.now();
    for (const h of [...this.#pending]) {
      clearTimeout(h.t);
      this.#pending.delete(h);
      h.fn();
    }
  }
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);

/** TCP ports the host listens on (IPv4 and IPv6, any address), from /proc/net/tcp{,6}. */
async function hostListeningPorts(): Promise<number[]> {
  const ports = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== "0A") continue; // TCP_LISTEN
      const port = Number.parseInt(cols[1]?.split(":")[1] ?? "", 16);
      if (Number.isInteger(port) && port > 0) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** A host-side TCP listener that records every connection and greets it (so a reached probe shows it). */
async function listener(host: string): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((s) => {
    seen.push(`${s.remoteAddress}:${s.remotePort}`);
    s.on("error", () => {});
    s.end("HOST-LISTENER\n");
  });
  server.listen(0, host);
  await once(server, "listening");
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, seen };
}

async function usable(): Promise<string | undefined> {
  if (!isRoot) return "not root (QEMU and libvirt's qemu:///system need it)";
  if (!(await which("ssh")) || !(await which("ssh-keygen")))
    return "OpenSSH's client (ssh, ssh-keygen) is not installed";
  const env = await ensureLibvirt({ log: say });
  if (!env.ok) return `libvirt is not usable: ${env.reason}`;
  return undefined;
}

const why = await usable();
if (why) {
  say(`!!! SKIPPED the isolation tests (real VM): ${why}.`);
  say("!!! Run them as root: sudo node --import tsx --test host-agent/test/isolation.test.ts");
}

describe("isolation of a real guest provisioned by the agent (QEMU/TCG, restrict=on)", {
  skip: why ?? false,
}, () => {
  const bookingId = String(9_000_000 + (process.pid % 100_000));
  const t0 = Date.now();
  const mark = (what: string) => say(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${what}`);
  let dir: string;
  let client: string;
  const agentClock = new AgentClock();
  let agent: HostAgent | undefined;
  let closeLibvirt: (() => Promise<void>) | undefined;
  let tornDownOnPurpose = false;
  let tcpApi: ApiServer | undefined;
  let result: ProvisionResult;
  let windowEnd: number;
  let sessionDir: string;
  let knownHosts: string;
  const keys: Record<"a" | "b", { path: string; pub: string }> = {
    a: { path: "", pub: "" },
    b: { path: "", pub: "" },
  };
  const closers: (() => Promise<unknown> | unknown)[] = [];

  /** OpenSSH's client, strict about the pinned host keys, with the given authentication options. */
  async function ssh(auth: string[], command: string, timeoutMs = 60_000): Promise<Result> {
    const r = await sshOnce(auth, command, timeoutMs);
    if (/Connection refused/.test(r.stderr) && !tornDownOnPurpose) {
      // Not this agent's doing (it only tears down at the window's end, the last test): say so plainly.
      const listed = await exec("virsh", ["-c", "qemu:///system", "list", "--name"]);
      if (!listed.stdout.split("\n").includes(domainName(bookingId)))
        throw new Error(
          `the guest's domain ${domainName(bookingId)} was destroyed behind this agent's back: another ComputeHive ` +
            "agent on this machine (realvm.test.ts, the dapp's e2e stack, a `serve`) tears down every " +
            "computehive-booking-* domain its journal does not know when it starts. Run this file alone.",
        );
    }
    return r;
  }
  function sshOnce(auth: string[], command: string, timeoutMs: number): Promise<Result> {
    const ep = result.endpoint;
    return exec(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "ConnectTimeout=20",
        ...auth,
        "-p",
        String(ep.port),
        `${ep.user}@${ep.host}`,
        command,
      ],
      timeoutMs,
    );
  }
  /** Key `who` with the certificate file `cert` (IdentitiesOnly: nothing else is offered). */
  const withCert = (who: "a" | "b", cert: string) => [
    "-i",
    keys[who].path,
    "-o",
    `CertificateFile=${cert}`,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
  ];
  const consoleLog = () => readFile(join(sessionDir, "console.log"), "utf8");
  async function certFile(name: string, text: string): Promise<string> {
    const path = join(client, name);
    await writeFile(path, `${text}\n`);
    return path;
  }

  before(async () => {
    dir = await mkdtemp("/var/tmp/computehive-isolation-");
    await chmod(dir, 0o711); // QEMU (libvirt-qemu) traverses it to the session files
    client = join(dir, "client");
    await mkdir(client, { mode: 0o700 });
    for (const who of ["a", "b"] as const) {
      const path = join(client, `id_${who}`);
      const kg = await exec("ssh-keygen", [
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        `borrower-${who}`,
        "-f",
        path,
      ]);
      assert.equal(kg.code, 0, kg.stderr);
      keys[who] = { path, pub: (await readFile(`${path}.pub`, "utf8")).trim() };
    }
    // The agent tears down every `computehive-booking-*` domain its journal does not know (orphans): on a
    // machine where other agents run (realvm.test.ts, the dapp's e2e stack) it would destroy their VMs, and
    // theirs ours. This agent sees only its own booking's domain.
    const real = await openLibvirt("qemu:///system");
    closeLibvirt = () => real.connectClose();
    const mine = domainName(bookingId);
    const connection: VmConnection = {
      domainDefineXML: (xml) => real.domainDefineXML(xml),
      domainLookupByName: (name) => real.domainLookupByName(name),
      connectListAllDomains: async () => {
        const all = await real.connectListAllDomains();
        const names = await Promise.all(all.map((d) => d.getName()));
        return all.filter((_, i) => names[i] === mine);
      },
    };
    agent = await HostAgent.start({
      connection,
      libvirtUri: "qemu:///system",
      stateDir: join(dir, "agent"),
      guestCacheDir: defaultGuestCacheDir(), // shared with guest.test.ts and realvm.test.ts
      logger: pino({ level: "warn" }),
      portRange: { min: 24000, max: 24999 },
      overlayPoolSize: 0,
      clock: agentClock.clock,
      timers: agentClock.timers,
    });
    // The agent's API on loopback TCP as well (as `serve --listen` runs it): the guest must not reach it.
    tcpApi = await startApiServer({
      agent,
      listen: { host: "127.0.0.1", port: 0 },
      token: randomBytes(24).toString("hex"),
      logger: pino({ level: "warn" }),
    });
    mark(
      `agent up (accel ${agent.accel}); API on 127.0.0.1:${tcpApi.port}; provisioning booking ${bookingId}`,
    );
    try {
      result = await agent.provision({
        bookingId,
        window: { start: nowS() - 5, end: nowS() + WINDOW_S },
        borrowerSshKey: keys.a.pub,
        hardware: { vcpus: 1, memoryMiB: 512, diskGiB: 2 },
      });
    } catch (err) {
      throw new Error(
        `provisioning failed: ${(err as Error).message}. If the domain vanished while booting ("process exited ` +
          `while connecting to monitor", no SSH banner), another ComputeHive agent on this machine (realvm.test.ts, ` +
          "the dapp's e2e stack, a `serve`) started meanwhile: at start an agent tears down every " +
          "computehive-booking-* domain its journal does not know.",
        { cause: err },
      );
    }
    windowEnd = result.endpoint.validBefore;
    const t = result.timing;
    mark(`provisioned: request -> SSH banner ${t.sshReadyAt - t.receivedAt} ms`);
    const sessions = await readdir(join(dir, "agent", "sessions"));
    assert.equal(sessions.length, 1);
    sessionDir = join(dir, "agent", "sessions", sessions[0] as string);
    knownHosts = join(client, "known_hosts");
    await writeFile(knownHosts, knownHostsText(result.endpoint));
    await certFile("a-cert.pub", result.endpoint.certificate);
  });

  after(async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    if (agent) {
      const st = await agent.status(bookingId).catch(() => undefined);
      if (st && st.state !== "torn-down" && st.state !== "failed")
        await agent.destroy(bookingId).catch(() => {});
      await tcpApi?.close().catch(() => {});
      await agent.close();
    }
    await closeLibvirt?.().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
    mark("cleaned up");
  });

  // Signed first so that its ~20 s run out while the other checks run.
  let shortCert = "";
  let shortCertEnd = 0;
  test("a certificate valid for the next ~20 s logs in", async () => {
    assert.ok(agent && result, "provisioned");
    const now = nowS();
    shortCertEnd = now + SHORT_CERT_S;
    shortCert = await certFile(
      "short-cert.pub",
      signUserCertificate({
        ca: agent.ca,
        borrowerKey: keys.a.pub,
        principal: result.endpoint.user,
        validAfter: now - 5,
        validBefore: shortCertEnd,
        keyId: `isolation:short:${bookingId}`,
        serial: 2,
      }),
    );
    const r = await ssh(withCert("a", shortCert), "id -un");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), result.endpoint.user);
    assert.match(await consoleLog(), /Accepted publickey for \S+ .* ED25519-CERT .* ID isolation:short:/);
  });

  test("from inside the guest: the host's services, private, link-local and outside addresses are unreachable", async (t) => {
    assert.ok(agent && tcpApi?.port, "provisioned");
    const any = await listener("0.0.0.0");
    const loop = await listener("127.0.0.1");
    closers.push(
      () => any.server.close(),
      () => loop.server.close(),
    );
    const hostAddrs = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === "IPv4" && !a.internal)
      .map((a) => a?.address as string);
    const hostPorts = (await hostListeningPorts()).filter((p) => p !== any.port && p !== loop.port);
    const probes: [label: string, host: string, port: number][] = [
      ["host-listener-any", "10.0.2.2", any.port],
      ["host-listener-loopback", "10.0.2.2", loop.port],
      ["host-listener-any-v6", "fec0::2", any.port],
      ["agent-api-tcp", "10.0.2.2", tcpApi.port as number],
      ["ssh-forward-host-side", "10.0.2.2", result.endpoint.port],
      ["qemu-dns-tcp", "10.0.2.3", 53],
      ["metadata", "169.254.169.254", 80],
      ["private-10", "10.0.0.1", 80],
      ["private-172", "172.16.0.1", 80],
      ["private-192", "192.168.0.1", 80],
      ["libvirt-bridge", "192.168.122.1", 53],
      ["libvirt-bridge-ssh", "192.168.122.1", 22],
      ["outside-1.1.1.1", "1.1.1.1", 53],
      ["outside-8.8.8.8", "8.8.8.8", 53],
      ["outside-http", "1.1.1.1", 80],
      ...hostAddrs.map((a, i): [string, string, number] => [`host-address-${i}-${a}`, a, any.port]),
      ...hostPorts.slice(0, 40).map((p): [string, string, number] => [`host-port-${p}`, "10.0.2.2", p]),
    ];
    const controls: [string, string, number][] = [
      ["control-self-loopback", "127.0.0.1", 22],
      ["control-self-address", "10.0.2.15", 22],
    ];
    // All probes at once (TCG is slow): each prints `label rc first-bytes`.
    const script = [
      `probe() { l=$1; shift; timeout 10 nc -w 4 "$@" </dev/null >/tmp/probe.$l 2>/dev/null; rc=$?; echo "$l $rc $(head -c 13 /tmp/probe.$l | tr -cd 'A-Za-z0-9.-')"; }`,
      ...[...controls, ...probes].map(([l, h, p]) => `probe ${l} ${h} ${p} &`),
      // UDP DNS through QEMU's resolver (10.0.2.3) and straight to the internet.
      `( timeout 10 nslookup example.com 10.0.2.3 >/tmp/dns1 2>&1; echo "udp-dns-qemu $? $(grep -c '^Address' /tmp/dns1)" ) &`,
      `( timeout 10 nslookup example.com 8.8.8.8 >/tmp/dns2 2>&1; echo "udp-dns-outside $? $(grep -c '^Address' /tmp/dns2)" ) &`,
      "wait",
      `echo "addr $(ip -4 -o addr show | grep -c 'inet 10.0.2.15/24')"`,
      `echo "route $(ip route | grep -c '^default via 10.0.2.2')"`,
    ].join("\n");
    const r = await ssh(withCert("a", join(client, "a-cert.pub")), script, 90_000);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const lines = new Map(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => {
          const [label = "", ...rest] = l.split(" ");
          return [label, rest] as const;
        }),
    );
    t.diagnostic(`guest probes:\n${r.stdout.trim()}`);
    // Controls: the probe method works and the guest's network is up with a route to the gateway.
    for (const [label] of controls) {
      const [rc, got] = lines.get(label) ?? [];
      assert.match(got ?? "", /^SSH-2.0-/, `${label}: the probe must reach the guest's own sshd (rc ${rc})`);
    }
    assert.deepEqual(lines.get("addr"), ["1"], "the guest has 10.0.2.15/24");
    assert.deepEqual(lines.get("route"), ["1"], "the guest has a default route via 10.0.2.2");
    // Every probe fails and reads nothing.
    for (const [label, host, port] of probes) {
      const [rc, got] = lines.get(label) ?? [];
      assert.ok(rc !== undefined, `${label}: no result`);
      assert.notEqual(rc, "0", `${label}: ${host}:${port} reached from the guest (${got})`);
      assert.equal(got ?? "", "", `${label}: ${host}:${port} answered the guest`);
    }
    for (const label of ["udp-dns-qemu", "udp-dns-outside"]) {
      const [rc, addresses] = lines.get(label) ?? [];
      assert.ok(rc !== undefined, `${label}: no result`);
      assert.notEqual(rc, "0", `${label}: a DNS answer reached the guest`);
      assert.ok(addresses === "0" || addresses === "1", `${label}: ${addresses} addresses`); // 1: the server line
    }
    assert.deepEqual(any.seen, [], "a connection from the guest reached the 0.0.0.0 listener");
    assert.deepEqual(loop.seen, [], "a connection from the guest reached the 127.0.0.1 listener");
    mark(
      `isolation: ${probes.length + 2} probes failed, ${controls.length} controls reached the guest's sshd`,
    );
  });

  test("a second borrower cannot use the first one's certificate", async () => {
    assert.ok(agent && result, "provisioned");
    const certA = result.endpoint.certificate;
    const agentKey = (who: "a" | "b") => ed25519KeyObject(readFileSync(keys[who].path, "utf8"));
    const viaAgent = async (who: "a" | "b") => {
      const sock = join(client, `agent-${who}.sock`);
      const fake = await startForgingAgent({ socketPath: sock, certificate: certA, signer: agentKey(who) });
      try {
        // Only the agent's identity (the certificate): -i names no file, so no default key is offered.
        const r = await ssh(
          ["-i", join(client, "none"), "-o", `IdentityAgent=${sock}`, "-o", "IdentitiesOnly=no"],
          "id -un",
        );
        return { r, signRequests: [...fake.signRequests] };
      } finally {
        await fake.close();
      }
    };
    // Control: the same path with the first borrower's own key logs in.
    const honest = await viaAgent("a");
    assert.equal(
      honest.r.code,
      0,
      `control: the certificate with its own key must log in\n${honest.r.stderr}`,
    );
    assert.equal(honest.r.stdout.trim(), result.endpoint.user);
    // The first borrower's certificate, signed with the second borrower's key: sshd accepted the certificate
    // itself (ssh only asks for a signature after the server's PK_OK) and refused the signature.
    const forged = await viaAgent("b");
    assert.notEqual(forged.r.code, 0, `the forged login got in: ${forged.r.stdout}`);
    assert.match(forged.r.stderr, /Permission denied \(publickey\)/);
    assert.ok(
      forged.signRequests.length >= 1,
      "ssh asked the agent to sign: the certificate got past the query",
    );
    // The second borrower's own key, bare (and with no agent): refused.
    const bare = await ssh(
      ["-i", keys.b.path, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"],
      "id -un",
    );
    assert.notEqual(bare.code, 0, `the bare key got in: ${bare.stdout}`);
    assert.match(bare.stderr, /Permission denied \(publickey\)/);
  });

  test("after its window a certificate is refused (the same one that logged in)", async () => {
    assert.ok(shortCert, "the short certificate was signed");
    const wait = shortCertEnd * 1000 - Date.now() + 1500;
    if (wait > 0) {
      mark(`waiting ${(wait / 1000).toFixed(1)} s for the short certificate to expire`);
      await sleep(wait);
    }
    const r = await ssh(withCert("a", shortCert), "id -un");
    assert.notEqual(r.code, 0, `an expired certificate logged in: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    assert.match(await consoleLog(), /Certificate invalid: expired/);
    // The booking's own certificate still works: the refusal is the expiry, not a dead guest.
    const still = await ssh(withCert("a", join(client, "a-cert.pub")), "true");
    assert.equal(still.code, 0, still.stderr);
  });

  test("at the window's end the agent tears the VM down: domain gone, overlay deleted, nothing answers", async () => {
    assert.ok(agent && result, "provisioned");
    const overlay = join(sessionDir, "overlay.qcow2");
    assert.ok(await stat(overlay), "the overlay exists while running");
    // One second before the end: the timer fires, the window is not over, nothing is torn down.
    tornDownOnPurpose = true;
    agentClock.jumpTo(windowEnd * 1000 - 1000);
    await sleep(500);
    assert.equal((await agent.status(bookingId)).state, "running", "torn down before the window's end");
    const jumped = Date.now();
    agentClock.jumpTo(windowEnd * 1000);
    let facts: TeardownFacts | undefined;
    while (Date.now() < jumped + 60_000) {
      const st = await agent.status(bookingId);
      if (st.state === "torn-down") {
        facts = st.facts;
        break;
      }
      await sleep(200);
    }
    assert.ok(facts, "torn down within 60 s of the window's end");
    mark(`torn down ${((Date.now() - jumped) / 1000).toFixed(1)} s after the window's end (agent clock)`);
    assert.equal(facts.reason, "window-ended");
    assert.equal(facts.domainGone, true);
    assert.equal(facts.overlayRemoved, true);
    assert.ok(facts.at >= windowEnd * 1000, "not before the end");
    const all = await exec("virsh", ["-c", "qemu:///system", "list", "--all", "--name"]);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(!all.stdout.split("\n").includes(domainName(bookingId)), `domain still listed:\n${all.stdout}`);
    const dom = await exec("virsh", ["-c", "qemu:///system", "dominfo", domainName(bookingId)]);
    assert.notEqual(dom.code, 0, "libvirt still knows the domain");
    await assert.rejects(stat(overlay), { code: "ENOENT" }, "the overlay is deleted");
    await assert.rejects(stat(sessionDir), { code: "ENOENT" }, "the session directory is deleted");
    const late = await ssh(withCert("a", join(client, "a-cert.pub")), "true", 30_000);
    assert.notEqual(late.code, 0, "the endpoint's certificate logs in nowhere after the window");
    mark(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
