// A real VM: the guest built from Debian packages boots under QEMU/TCG (plain qemu-system-x86_64, no
// libvirt) with its seed, and the borrower logs in with an OpenSSH user certificate.
// Run: node --import tsx --test --test-reporter=spec host-agent/test/guest.test.ts
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitForSshBanner } from "../src/guest/banner.ts";
import { buildGuestImage, type GuestImage } from "../src/guest/build.ts";
import { SEED_SERIAL } from "../src/guest/init-script.ts";
import { buildSeed, hostKeysFromPairs, removeSeed, SeedError } from "../src/guest/seed.ts";
import { generateHostKeys } from "../src/ssh/ca.ts";
import { ensureLibvirt } from "../src/system/daemons.ts";
import { run, which } from "../src/system/exec.ts";

const VM_USER = "borrower";
const isRoot = process.getuid?.() === 0;
const say = (msg: string) => process.stderr.write(`[guest.test] ${msg}\n`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and returns its exit code and output (never throws on a non-zero exit). */
function exec(file: string, args: string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function keygen(dir: string, name: string): Promise<{ private: string; public: string; path: string }> {
  const path = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return {
    path,
    private: await readFile(path, "utf8"),
    public: (await readFile(`${path}.pub`, "utf8")).trim(),
  };
}

describe("seed", () => {
  test("refuses a user name, a CA key or a network setting it cannot pass on safely", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ch-seed-"));
    try {
      const ca = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz6 ca";
      const hostKeys = [
        { type: "ed25519" as const, private: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n", public: ca },
      ];
      const base = { dir, vmUser: VM_USER, caPublicKey: ca, hostKeys };
      for (const bad of [
        { vmUser: "root" },
        { vmUser: "Bob" },
        { vmUser: "a;reboot" },
        { caPublicKey: `${ca}\nssh-ed25519 AAAA second` },
        { network: { address: "10.0.2.15" } },
        { network: { gateway: "10.0.2.2; reboot" } },
        { hostKeys: [] },
      ]) {
        await assert.rejects(buildSeed({ ...base, ...bad }), SeedError, JSON.stringify(bad));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("is a ustar archive of whole sectors, host private keys 0600, and removeSeed deletes it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ch-seed-"));
    try {
      const ca = await keygen(dir, "ca");
      const host = await keygen(dir, "host");
      const seed = await buildSeed({
        dir: join(dir, "vm"),
        vmUser: VM_USER,
        caPublicKey: ca.public,
        hostKeys: [{ type: "ed25519", private: host.private, public: host.public }],
        network: { address: "10.0.2.15/24", gateway: "10.0.2.2" },
      });
      const info = await stat(seed);
      assert.equal(info.size % 512, 0);
      assert.equal(info.mode & 0o777, 0o600);
      const listing = await run("tar", ["-tvf", seed]);
      assert.match(listing, /^-rw------- 0\/0 .* ssh_host_ed25519_key$/m);
      assert.match(listing, /^-rw-r--r-- 0\/0 .* ca\.pub$/m);
      const conf = await run("tar", ["-xOf", seed, "seed.conf"]);
      assert.equal(conf, `VM_USER=${VM_USER}\nVM_UID=1000\nADDRESS=10.0.2.15/24\nGATEWAY=10.0.2.2\n`);
      const sshd = await run("tar", ["-xOf", seed, "sshd_config"]);
      for (const line of [
        `AllowUsers ${VM_USER}`,
        "UsePAM no",
        "AuthorizedKeysFile none",
        "PasswordAuthentication no",
      ]) {
        assert.ok(sshd.split("\n").includes(line), line);
      }
      await removeSeed(seed);
      await assert.rejects(stat(seed), { code: "ENOENT" });
      await removeSeed(seed); // twice is fine
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

if (!isRoot) {
  say("!!! SKIPPED the real VM test: not root (it downloads Debian packages and may install QEMU).");
  say("!!! Run it as root: sudo node --import tsx --test host-agent/test/guest.test.ts");
}

describe("guest VM under QEMU/TCG", { skip: !isRoot && "not root" }, () => {
  let image: GuestImage;
  let work: string;
  let seed: string;
  let serialLog: string;
  let qemu: ChildProcess | undefined;
  let qemuExit: Promise<unknown> | undefined;
  let port: number;
  let bootMs = 0;
  let user: { path: string };
  let cert: string;
  let knownHosts: string;

  const serialTail = async () =>
    (await readFile(serialLog, "utf8").catch(() => "")).split("\n").slice(-15).join("\n");

  const ssh = (extra: string[], command: string) =>
    exec("ssh", [
      "-F",
      "/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "IdentityAgent=none",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "ConnectTimeout=30",
      "-p",
      String(port),
      ...extra,
      `${VM_USER}@127.0.0.1`,
      command,
    ]);

  before(async () => {
    if (!(await which("qemu-system-x86_64")) || !(await which("ssh-keygen"))) {
      const env = await ensureLibvirt({ log: say });
      assert.ok(env.ok, `QEMU and OpenSSH are needed: ${env.ok ? "" : env.reason}`);
    }
    image = await buildGuestImage({ log: say });
    work = await mkdtemp(join(tmpdir(), "ch-guest-"));
    const ca = await keygen(work, "ca");
    user = await keygen(work, "user");
    await run("ssh-keygen", [
      "-q",
      "-s",
      ca.path,
      "-I",
      "test",
      "-n",
      VM_USER,
      "-V",
      "-5m:+10m",
      `${user.path}.pub`,
    ]);
    cert = `${user.path}-cert.pub`;
    // Host keys as the agent makes them (sshpk), so the guest's real sshd proves they load.
    const hostKeys = hostKeysFromPairs(generateHostKeys({ ecdsa: true }));
    seed = await buildSeed({ dir: join(work, "vm"), vmUser: VM_USER, caPublicKey: ca.public, hostKeys });
    port = await freePort();
    knownHosts = join(work, "known_hosts");
    await writeFile(knownHosts, hostKeys.map((k) => `[127.0.0.1]:${port} ${k.public}\n`).join(""));
    serialLog = join(work, "serial.log");
    const args = [
      ...["-machine", "q35", "-accel", "tcg", "-m", "512", "-smp", "1", "-nodefaults", "-no-reboot"],
      ...["-kernel", image.kernel, "-initrd", image.initrd, "-append", image.cmdline],
      ...["-drive", `file=${seed},if=none,id=seed,format=raw,readonly=on`],
      ...["-device", `virtio-blk-pci,drive=seed,serial=${SEED_SERIAL}`],
      // restrict=on: the guest reaches neither the host nor anything beyond it; hostfwd still comes in.
      ...["-netdev", `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`],
      ...["-device", "virtio-net-pci,netdev=n0"],
      ...[
        "-display",
        "none",
        "-serial",
        `file:${serialLog}`,
        "-monitor",
        `unix:${join(work, "monitor")},server,nowait`,
      ],
    ];
    say(`booting: qemu-system-x86_64 ${args.join(" ")}`);
    const started = Date.now();
    qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    const stopped = new AbortController();
    let qemuStderr = "";
    qemu.stderr?.on("data", (b: Buffer) => {
      qemuStderr += b.toString();
    });
    qemuExit = once(qemu, "exit").then((code) => stopped.abort(`qemu exited ${code}: ${qemuStderr.trim()}`));
    try {
      const { banner } = await waitForSshBanner("127.0.0.1", port, {
        timeoutMs: 180_000,
        signal: stopped.signal,
      });
      bootMs = Date.now() - started;
      say(`boot -> SSH banner in ${(bootMs / 1000).toFixed(1)} s: ${banner}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nserial console:\n${await serialTail()}`);
    }
  });

  after(async () => {
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill("SIGTERM");
      const timer = setTimeout(() => qemu?.kill("SIGKILL"), 5000);
      await qemuExit;
      clearTimeout(timer);
    }
    if (seed) await removeSeed(seed);
    if (work) await rm(work, { recursive: true, force: true });
    if (qemu?.pid)
      assert.throws(() => process.kill(qemu?.pid ?? 0, 0), { code: "ESRCH" }, "qemu is still running");
  });

  test("the image comes from Debian packages and is cached", async (t) => {
    const names = image.packages.map((p) => p.name);
    for (const name of ["busybox-static", "openssh-server", "libc6", "libssl3"])
      assert.ok(names.includes(name), name);
    assert.ok(names.some((n) => n.startsWith("linux-image-")));
    const again = await buildGuestImage({ log: () => {} });
    assert.equal(again.cached, true);
    assert.equal(again.initrd, image.initrd);
    t.diagnostic(
      `kernel ${image.version} ${image.sizes.kernel} B, initrd ${image.sizes.initrd} B; ${image.packages.length} packages; cache check ${again.ms} ms`,
    );
  });

  test("boots to the OpenSSH banner", (t) => {
    assert.ok(bootMs > 0);
    t.diagnostic(`boot -> banner ${(bootMs / 1000).toFixed(1)} s under TCG`);
  });

  test("the VM user logs in with a certificate signed by the CA", async () => {
    const r = await ssh(["-i", user.path, "-o", `CertificateFile=${cert}`], "id -un; uname -r");
    assert.equal(r.code, 0, `${r.stderr}\n${await serialTail()}`);
    assert.deepEqual(r.stdout.trim().split("\n"), [VM_USER, image.version]);
    assert.match(
      await readFile(serialLog, "utf8"),
      /Accepted publickey for borrower .* ED25519-CERT .* ID test/,
    );
  });

  test("the same key without its certificate is refused", async () => {
    // A copy of the key with no certificate beside it (ssh would pick up <key>-cert.pub by itself).
    const bare = join(work, "bare");
    await copyFile(user.path, bare);
    const r = await ssh(["-i", bare], "true");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
  });

  test("no password or keyboard-interactive login is offered", async () => {
    const r = await ssh(["-o", "PreferredAuthentications=password,keyboard-interactive"], "true");
    assert.notEqual(r.code, 0);
    // The server lists the methods that can continue: publickey only.
    assert.match(r.stderr, /Permission denied \(publickey\)\./);
  });

  test("restrict=on: the guest cannot reach the host (10.0.2.2, fec0::2) or beyond", async (t) => {
    const connections: string[] = [];
    const server: Server = createServer((s) => {
      connections.push(`${s.remoteAddress}:${s.remotePort}`);
      s.end("hello from the host\n");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    assert.ok(address && typeof address !== "string");
    const hostPort = address.port;
    try {
      // busybox-static's wget crashes (SIGSEGV) in Debian 12 even on the host, so nc does the probing.
      const probe = [
        `nc -w 3 10.0.2.2 ${hostPort} </dev/null; echo "host=$?"`,
        `nc -w 3 fec0::2 ${hostPort} </dev/null; echo "host6=$?"`,
        `nc -w 3 10.0.2.3 53 </dev/null; echo "dns=$?"`,
        `nc -w 3 1.1.1.1 80 </dev/null; echo "outside=$?"`,
        // Control: nc itself works (the guest's own sshd).
        `nc -w 3 10.0.2.15 22 </dev/null | head -c 8; echo " self=$?"`,
      ].join("; ");
      const r = await ssh(["-i", user.path, "-o", `CertificateFile=${cert}`], probe);
      assert.equal(r.code, 0, r.stderr);
      t.diagnostic(
        `guest probes: ${r.stdout.trim().replaceAll("\n", " | ")} | ${r.stderr.trim().replaceAll("\n", " | ")}`,
      );
      assert.match(r.stdout, /^host=1$/m);
      assert.match(r.stdout, /^host6=1$/m);
      assert.match(r.stdout, /^dns=1$/m);
      assert.match(r.stdout, /^outside=1$/m);
      assert.match(r.stdout, /^SSH-2.0- self=0$/m);
      assert.deepEqual(connections, [], "a connection from the guest reached the host");
    } finally {
      server.close();
    }
  });

  test("an ACPI power-button press powers the guest off", async (t) => {
    const started = Date.now();
    // QEMU's human monitor on a unix socket stands in for `virsh shutdown` (both press the ACPI button).
    const monitor = connect(join(work, "monitor"));
    await once(monitor, "connect");
    monitor.end("system_powerdown\n");
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      qemuExit?.then(() => true),
      new Promise((r) => {
        timer = setTimeout(() => r(false), 30_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(exited, true, `qemu still running 30 s after system_powerdown\n${await serialTail()}`);
    assert.match(await readFile(serialLog, "utf8"), /reboot: Power down/);
    t.diagnostic(`powered off ${((Date.now() - started) / 1000).toFixed(1)} s after the button press`);
  });
});
