import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { type Log, run, stderrLog, which } from "./exec.ts";

/**
 * Debian packages for the VMs: QEMU + libvirt (libvirt-dev for the @unraid/libvirt binding), busybox/cpio
 * for the guest image, OpenSSH's client for the login tests. Keep in step with script/bin/ensure.mjs.
 */
export const VM_DEB_PACKAGES = [
  "qemu-system-x86",
  "qemu-utils",
  "libvirt-daemon",
  "libvirt-daemon-driver-qemu",
  "libvirt-daemon-system",
  "libvirt-clients",
  "libvirt-dev",
  "busybox-static",
  "cpio",
  "openssh-client",
] as const;

/** Programs that must be on the host, and the package that brings each. */
const REQUIRED_PROGRAMS = [
  ["qemu-system-x86_64", "qemu-system-x86"],
  ["qemu-img", "qemu-utils"],
  ["virsh", "libvirt-clients"],
  ["libvirtd", "libvirt-daemon"],
  ["virtlogd", "libvirt-daemon"],
  ["cpio", "cpio"],
  ["ssh", "openssh-client"],
  ["ssh-keygen", "openssh-client"],
] as const;

export const LIBVIRT_URI = "qemu:///system";

export type EnsureLibvirtResult =
  | { ok: true; uri: string; installed: string[]; started: string[] }
  | { ok: false; reason: string };

export interface EnsureLibvirtOptions {
  log?: Log;
  uri?: string;
  /** How long to wait for libvirtd to answer after starting it. */
  timeoutMs?: number;
  /** Install missing Debian packages (root only). Default true. */
  install?: boolean;
}

const isRoot = () => process.getuid?.() === 0;

/** Names of running processes (from /proc/<pid>/comm). */
async function runningCommands(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, "utf8").catch(() => "");
    if (comm) names.add(comm.trim());
  }
  return names;
}

async function libvirtAnswers(uri: string): Promise<boolean> {
  try {
    await run("virsh", ["-c", uri, "version"], { timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function missingPrograms(): Promise<string[]> {
  const packages = new Set<string>();
  for (const [program, pkg] of REQUIRED_PROGRAMS) if (!(await which(program))) packages.add(pkg);
  return [...packages];
}

/** Starts a daemon that forks itself into the background (`-d`), detached from this process. */
function startDaemon(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ["-d"], { stdio: "ignore", detached: true });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${path} -d exited with ${code}`)),
    );
  });
}

/**
 * Makes `qemu:///system` usable: installs the VM packages when a program is missing (as root), starts
 * virtlogd and libvirtd when they are not running (PID 1 here is not systemd; with systemd, systemctl
 * starts them) and waits until `virsh version` answers. Idempotent: a second call only checks.
 * Not root and something missing: `{ ok: false }` with the reason, said loudly.
 */
export async function ensureLibvirt(opts: EnsureLibvirtOptions = {}): Promise<EnsureLibvirtResult> {
  const log = opts.log ?? stderrLog;
  const uri = opts.uri ?? LIBVIRT_URI;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const loud = (reason: string): EnsureLibvirtResult => {
    log(`!!! libvirt is not usable: ${reason}`);
    return { ok: false, reason };
  };
  const installed: string[] = [];
  const started: string[] = [];

  const missing = await missingPrograms();
  if (missing.length > 0) {
    if (!isRoot()) {
      return loud(
        `NOT ROOT and these Debian packages are missing: ${missing.join(" ")}. Install them with: sudo apt-get install ${VM_DEB_PACKAGES.join(" ")}`,
      );
    }
    if (opts.install === false) return loud(`missing Debian packages: ${missing.join(" ")}`);
    log(`installing Debian packages for the VMs: ${VM_DEB_PACKAGES.join(" ")} (about a minute)`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const install = ["install", "-y", "-q", "--no-install-recommends", ...VM_DEB_PACKAGES];
    try {
      await run("apt-get", install, { env, timeoutMs: 15 * 60_000 });
    } catch {
      await run("apt-get", ["update", "-q"], { env, timeoutMs: 5 * 60_000 });
      await run("apt-get", install, { env, timeoutMs: 15 * 60_000 });
    }
    installed.push(...missing);
    const still = await missingPrograms();
    if (still.length > 0) return loud(`apt-get ran but these are still missing: ${still.join(" ")}`);
  }

  if (await libvirtAnswers(uri)) return { ok: true, uri, installed, started };
  if (!isRoot())
    return loud(
      `NOT ROOT: ${uri} does not answer this user (or libvirtd is not running, and only root can start it)`,
    );

  if (existsSync("/run/systemd/system")) {
    await run("systemctl", ["start", "virtlogd.socket", "libvirtd.service"]);
    started.push("libvirtd (systemd)");
  } else {
    const running = await runningCommands();
    for (const daemon of ["virtlogd", "libvirtd"]) {
      if (running.has(daemon)) continue;
      const path = await which(daemon);
      if (!path) return loud(`${daemon} is not installed`);
      log(`starting ${daemon} in the background`);
      await startDaemon(path).catch((err: Error) =>
        log(`${daemon}: ${err.message} (another start may have won)`),
      );
      started.push(daemon);
    }
  }

  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 2, 2000)) {
    if (await libvirtAnswers(uri)) {
      log(`libvirt answers on ${uri}`);
      return { ok: true, uri, installed, started };
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  return loud(
    `${uri} did not answer within ${timeoutMs / 1000} s after starting ${started.join(", ") || "nothing"}`,
  );
}
