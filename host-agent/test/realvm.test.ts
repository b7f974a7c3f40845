/**
 * The real VM, end to end, through the agent's API on its Unix socket (server and agent in this process,
 * libvirt's qemu:///system underneath): a guest built from Debian packages only (kernel + initramfs with
 * OpenSSH's sshd trusting the agent's CA) is provisioned under QEMU/TCG for a booking whose window is one
 * minute; the borrower logs in with the endpoint's certificate; a certificate outside its window, one from
 * another CA and the bare key are refused; an SSH session left open is cut when the window ends, the domain
 * is gone, the overlay, seed and libvirt secret deleted, and the teardown facts say so.
 *
 * Logins with a certificate use OpenSSH's `ssh`, not ssh2: ssh2 1.17 has no certificate support. Its
 * key parser reads a `*-cert-v01@openssh.com` line as a plain key (the certificate's nonce taken for the
 * key), and even handed the certificate blob it signs the userauth request under the certificate's
 * algorithm name, where OpenSSH expects the plain one (`ssh-ed25519`) inside the signature: sshd then logs
 * "Accepted certificate ID … / Failed publickey … ED25519-CERT" (tried against this very guest). ssh2 is
 * used where it works: the bare-key refusal and checking the host key the endpoint pins.
 *
 * Root only (QEMU, libvirt): skipped loudly otherwise.
 * Run: node --import tsx --test --test-reporter=spec host-agent/test/realvm.test.ts
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Client } from "ssh2";
import { HostAgent, type ProvisionResult } from "../src/agent/agent.ts";
import { AgentClient, rawRequest } from "../src/api/client.ts";
import { type ApiServer, startApiServer } from "../src/api/server.ts";
import { defaultGuestCacheDir } from "../src/guest/build.ts";
import { loadOrCreateCa, signUserCertificate } from "../src/ssh/ca.ts";
import { endpointFileNames, knownHostsText } from "../src/ssh/endpoint.ts";
import { ensureLibvirt } from "../src/system/daemons.ts";
import { which } from "../src/system/exec.ts";
import type { TeardownFacts } from "../src/vm/journal.ts";
import { domainName } from "../src/vm/spec.ts";

const say = (msg: string) => process.stderr.write(`[realvm.test] ${msg}\n`);
const isRoot = process.getuid?.() === 0;
const WINDOW_S = 60;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(
  file: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
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
  say(`!!! SKIPPED the real VM test: ${why}.`);
  say("!!! Run it as root: sudo node --import tsx --test host-agent/test/realvm.test.ts");
}

describe("a real VM through the agent's API (QEMU/TCG, qemu:///system)", { skip: why ?? false }, () => {
  const bookingId = String(8_000_000 + (process.pid % 100_000));
  const t0 = Date.now();
  const marks: string[] = [];
  const mark = (what: string) => {
    const line = `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${what}`;
    marks.push(line);
    say(line);
  };
  let dir: string;
  let agent: HostAgent;
  let server: ApiServer;
  let client: AgentClient;
  let keyPath: string;
  let borrowerPub: string;
  let window: { start: number; end: number };
  let result: ProvisionResult;
  let sessionDir: string;
  let held: ChildProcess | undefined;
  let heldExit: Promise<number | null> | undefined;

  /** OpenSSH with the borrower's key and (optionally) a certificate, strict about the pinned host key. */
  function ssh(cert: string | undefined, command: string): Promise<Result> {
    const ep = result.endpoint;
    return exec(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-i",
        keyPath,
        ...(cert ? ["-o", `CertificateFile=${cert}`] : []),
        "-o",
        `UserKnownHostsFile=${join(dir, "client", endpointFileNames(bookingId).knownHosts)}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=20",
        "-p",
        String(ep.port),
        `${ep.user}@${ep.host}`,
        command,
      ],
      { timeoutMs: 60_000 },
    );
  }

  async function certFile(name: string, text: string): Promise<string> {
    const path = join(dir, "client", name);
    await writeFile(path, `${text}\n`);
    return path;
  }

  before(async () => {
    dir = await mkdtemp("/var/tmp/computehive-realvm-");
    await chmod(dir, 0o711); // QEMU (libvirt-qemu) traverses it to the session files; the agent checks this
    await exec("mkdir", ["-m", "0700", join(dir, "client")]);
    keyPath = join(dir, "client", "id_ed25519");
    const kg = await exec("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "borrower@realvm",
      "-f",
      keyPath,
    ]);
    assert.equal(kg.code, 0, kg.stderr);
    borrowerPub = (await readFile(`${keyPath}.pub`, "utf8")).trim();
    agent = await HostAgent.start({
      stateDir: join(dir, "agent"),
      guestCacheDir: defaultGuestCacheDir(), // shared with guest.test.ts: built once, then cached
      logger: pino({ level: "warn" }),
      portRange: { min: 23000, max: 23999 },
    });
    server = await startApiServer({
      agent,
      listen: { socketPath: join(dir, "agent", "agent.sock") },
      logger: pino({ level: "warn" }),
    });
    client = new AgentClient({ socketPath: join(dir, "agent", "agent.sock") });
    mark(`agent up (accel ${agent.accel}, guest ${agent.guest.kernel})`);
  });

  after(async () => {
    held?.kill("SIGKILL");
    if (agent) {
      const st = await agent.status(bookingId).catch(() => undefined);
      if (st && st.state !== "torn-down" && st.state !== "failed")
        await agent.destroy(bookingId).catch(() => {});
      await server?.close();
      await agent.close();
    }
    say(`timeline:\n${marks.join("\n")}`);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("provision over the Unix socket: endpoint, certificate for exactly the window, the guest's sshd up", async () => {
    const now = Math.floor(Date.now() / 1000);
    window = { start: now - 5, end: now + WINDOW_S };
    const res = await rawRequest({ socketPath: join(dir, "agent", "agent.sock") }, "POST", "/v1/bookings", {
      body: {
        bookingId,
        window,
        borrowerSshKey: borrowerPub,
        hardware: { vcpus: 1, memoryMiB: 512, diskGiB: 2 },
      },
    });
    assert.equal(res.status, 200, res.text);
    result = res.body as ProvisionResult;
    const t = result.timing;
    mark(
      `provisioned: agent overhead ${t.domainStartedAt - t.receivedAt} ms, request -> SSH banner ${t.sshReadyAt - t.receivedAt} ms (${result.accel})`,
    );
    assert.equal(result.accel, "tcg", "this machine has no usable KVM");
    const ep = result.endpoint;
    assert.equal(ep.validAfter, window.start);
    assert.equal(ep.validBefore, window.end);
    assert.equal(ep.host, "127.0.0.1");
    const st = await client.status(bookingId);
    assert.equal(st.state, "running");
    assert.equal(st.active, true);
    const sessions = await readdir(join(dir, "agent", "sessions"));
    assert.equal(sessions.length, 1);
    sessionDir = join(dir, "agent", "sessions", sessions[0] as string);
    for (const f of ["overlay.qcow2", "seed/seed.img", "console.log"])
      assert.ok(await stat(join(sessionDir, f)), f);
    const domains = await exec("virsh", ["-c", "qemu:///system", "list", "--name"]);
    assert.ok(domains.stdout.split("\n").includes(domainName(bookingId)), domains.stdout);
    // Save what the borrower's tools save: the certificate and the pinned host keys.
    const files = endpointFileNames(bookingId);
    await writeFile(join(dir, "client", files.certificate), `${ep.certificate}\n`);
    await writeFile(join(dir, "client", files.knownHosts), knownHostsText(ep));
  });

  test("the borrower logs in with the endpoint's own ssh command (key + certificate valid now)", async () => {
    assert.ok(result, "provisioned");
    // The published command, run where its files were saved; only the key path and batch mode added.
    const words = result.endpoint.sshCommand.split(" ");
    assert.equal(words[0], "ssh");
    const args = words.slice(1).map((w) => (w === "~/.ssh/id_ed25519" ? keyPath : w));
    const res = await exec(
      "ssh",
      ["-F", "/dev/null", "-o", "BatchMode=yes", ...args, "id -un; uname -r; echo ok"],
      {
        cwd: join(dir, "client"),
      },
    );
    assert.equal(res.code, 0, res.stderr);
    const [user, kernel, ok] = res.stdout.trim().split("\n");
    assert.equal(user, result.endpoint.user);
    assert.match(kernel ?? "", /-amd64$/);
    assert.equal(ok, "ok");
    mark(`logged in: ${res.stdout.trim().replaceAll("\n", " | ")}`);
    // Keep a session open past the window's end: teardown must cut it.
    held = spawn("ssh", ["-F", "/dev/null", "-o", "BatchMode=yes", ...args, "echo held; sleep 600"], {
      cwd: join(dir, "client"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    heldExit = once(held, "exit").then(([code]) => code as number | null);
    const [first] = await once(held.stdout as NodeJS.ReadableStream, "data");
    assert.match(String(first), /held/);
  });

  test("refused: a certificate outside its window, one from another CA, the bare key (OpenSSH and ssh2)", async () => {
    assert.ok(result, "provisioned");
    const now = Math.floor(Date.now() / 1000);
    const sign = (ca: typeof agent.ca, validAfter: number, validBefore: number) =>
      signUserCertificate({
        ca,
        borrowerKey: borrowerPub,
        principal: result.endpoint.user,
        validAfter,
        validBefore,
        keyId: `realvm:${bookingId}`,
        serial: 1,
      });
    const expired = await certFile("expired-cert.pub", sign(agent.ca, now - 3600, now - 60));
    const early = await certFile("future-cert.pub", sign(agent.ca, now + 3600, now + 7200));
    const otherCa = await loadOrCreateCa(join(dir, "other-ca"));
    const foreign = await certFile("foreign-cert.pub", sign(otherCa, window.start, window.end));
    for (const [what, cert] of [
      ["expired certificate", expired],
      ["not-yet-valid certificate", early],
      ["certificate from another CA", foreign],
      ["bare key", undefined],
    ] as const) {
      const res = await ssh(cert, "id -un");
      assert.notEqual(res.code, 0, `${what}: must not log in (${res.stdout})`);
      assert.match(res.stderr, /Permission denied \(publickey\)/, `${what}: ${res.stderr}`);
    }
    // The guest's sshd says why (its log is the serial console).
    const consoleLog = await readFile(join(sessionDir, "console.log"), "utf8");
    assert.match(consoleLog, /Certificate invalid: expired/);
    assert.match(consoleLog, /Certificate invalid: not yet valid/);
    assert.match(consoleLog, /Accepted publickey for computehive .* ED25519-CERT .* ID computehive:booking:/);

    // ssh2: the bare key is refused, and the host key the guest shows is the one the endpoint pins.
    const seen: string[] = [];
    const bare = await ssh2BareKey(result, keyPath, seen);
    assert.equal(bare, "All configured authentication methods failed");
    assert.deepEqual([...new Set(seen)], result.endpoint.hostKeyFingerprints);
    mark("refusals checked: expired, not yet valid, other CA, bare key (OpenSSH and ssh2)");
  });

  test("the window ends: session cut, domain gone, overlay, seed and secret deleted, facts say so", async () => {
    assert.ok(result, "provisioned");
    const secretsBefore = await exec("virsh", ["-c", "qemu:///system", "secret-list"]);
    const domXml = await exec("virsh", ["-c", "qemu:///system", "dumpxml", domainName(bookingId)]);
    const secretUuid = /<secret type='passphrase' uuid='([0-9a-f-]{36})'/.exec(domXml.stdout)?.[1];
    assert.ok(
      secretUuid && secretsBefore.stdout.includes(secretUuid),
      "the overlay's secret exists while running",
    );
    mark(`waiting for the window's end (${window.end - Math.floor(Date.now() / 1000)} s)`);
    let facts: TeardownFacts | undefined;
    const deadline = (window.end + 30) * 1000;
    while (Date.now() < deadline) {
      const st = await client.status(bookingId);
      if (st.state === "torn-down") {
        facts = st.facts;
        break;
      }
      await new Promise((r) => setTimeout(r, Date.now() < window.end * 1000 - 2000 ? 1000 : 200));
    }
    assert.ok(facts, "torn down within 30 s of the window's end");
    mark(`torn down ${(facts.at - window.end * 1000) / 1000} s after the window's end`);
    assert.equal(facts.reason, "window-ended");
    assert.equal(facts.domainGone, true);
    assert.equal(facts.overlayRemoved, true);
    assert.equal(facts.seedRemoved, true);
    assert.equal(facts.keyDiscarded, true);
    assert.ok(facts.at >= window.end * 1000, "not before the end");
    // Independently of the facts: libvirt, the files, the secret, the open session.
    const all = await exec("virsh", ["-c", "qemu:///system", "list", "--all", "--name"]);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(!all.stdout.split("\n").includes(domainName(bookingId)), `domain still listed:\n${all.stdout}`);
    for (const f of ["overlay.qcow2", "seed/seed.img", "console.log", ""]) {
      await assert.rejects(
        stat(join(sessionDir, f)),
        { code: "ENOENT" },
        `${f || "session directory"} deleted`,
      );
    }
    assert.deepEqual(await readdir(join(dir, "agent", "sessions")), []);
    const secretsAfter = await exec("virsh", ["-c", "qemu:///system", "secret-list"]);
    assert.ok(!secretsAfter.stdout.includes(secretUuid), "the libvirt secret is gone");
    const code = await Promise.race([
      heldExit,
      new Promise((r) => setTimeout(() => r("still running"), 15_000).unref()),
    ]);
    assert.notEqual(code, "still running", "the open SSH session ended with the VM");
    assert.notEqual(code, 0);
    const after = await ssh(join(dir, "client", endpointFileNames(bookingId).certificate), "true");
    assert.notEqual(after.code, 0, "nothing answers any more");
    mark(`done; the whole test took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});

/** ssh2 with the bare key (no certificate): resolves with ssh2's error message, or "logged in". */
function ssh2BareKey(result: ProvisionResult, keyPath: string, seen: string[]): Promise<string> {
  return readFile(keyPath).then(
    (privateKey) =>
      new Promise<string>((resolve) => {
        const c = new Client();
        c.on("ready", () => {
          c.end();
          resolve("logged in");
        });
        c.on("error", (e) => resolve(e.message));
        c.connect({
          host: result.endpoint.host,
          port: result.endpoint.port,
          username: result.endpoint.user,
          privateKey,
          hostVerifier: (key: Buffer) => {
            seen.push(`SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`);
            return true;
          },
          readyTimeout: 30_000,
        });
      }),
  );
}
