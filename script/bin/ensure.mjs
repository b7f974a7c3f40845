#!/usr/bin/env node
// Installs what the README's commands need, when it is missing, before any TypeScript runs.
// Plain JavaScript on purpose: it must work on a fresh clone where node_modules (and so tsx) is absent.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const say = (msg) => process.stdout.write(`[ensure] ${msg}\n`);

const [major, minor] = process.versions.node.split(".").map(Number);
if (major !== 20 || minor < 18) {
  process.stderr.write(
    `[ensure] ComputeHive needs Node.js 20 (>= 20.18.1, for graph-cli); this is ${process.version}. Install Node 20 and retry.\n`,
  );
  process.exit(1);
}
if (process.platform !== "linux" || process.arch !== "x64") {
  process.stderr.write(
    "[ensure] forge/anvil/cast come from @foundry-rs/*-linux-amd64: only Linux x86-64 is supported for now.\n",
  );
  process.exit(1);
}

// Debian packages the host agent and its tests need: QEMU + libvirt for the VMs (libvirt-dev for the
// @unraid/libvirt binding, compiled by npm ci), busybox/cpio for the guest image built from Debian packages, OpenSSH's sshd for the certificate tests,
// OpenSSH's client for the login tests, Debian's Chromium for the dApp's browser tests. Installed with apt-get
// when running as root (before npm ci, so the binding compiles); otherwise a clear message, and the VM and
// browser tests say loudly that they are skipped.
const debPackages = [
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
  "openssh-server",
  "chromium",
];
// dpkg-query's own format syntax, not a JavaScript template.
const dpkgFormat = ["$", "{Package} $", "{db:Status-Status}\n"].join("");
function missingDebPackages() {
  if (!existsSync("/usr/bin/dpkg-query")) return null; // not Debian: nothing we can check
  let out;
  try {
    out = execFileSync("dpkg-query", ["-W", `-f=${dpkgFormat}`, ...debPackages], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch (e) {
    out = String(e.stdout ?? ""); // exit 1 when a package is unknown; stdout still lists the known ones
  }
  const ok = new Set(
    out
      .split("\n")
      .filter((l) => l.endsWith(" installed"))
      .map((l) => l.split(" ")[0]),
  );
  return debPackages.filter((p) => !ok.has(p));
}
const missing = missingDebPackages();
if (missing && missing.length > 0) {
  if (process.getuid?.() === 0) {
    say(`installing Debian packages for the VM and browser tests: ${missing.join(" ")} (a minute or two)`);
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      try {
        execFileSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {
          stdio: "inherit",
          env,
        });
      } catch {
        execFileSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
        execFileSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {
          stdio: "inherit",
          env,
        });
      }
    } catch {
      process.stderr.write(
        `[ensure] apt-get could not install ${missing.join(" ")}; the VM and browser tests will be skipped (see the output above).\n`,
      );
    }
  } else {
    process.stderr.write(
      `[ensure] NOT ROOT: the VM and browser tests need these Debian packages, which are missing: ${missing.join(" ")}.\n` +
        `[ensure] Install them with: sudo apt-get install ${missing.join(" ")}  — until then the VM and browser tests are skipped.\n`,
    );
  }
}

// npm ci when node_modules is missing or was installed from another lockfile.
const lock = readFileSync(join(root, "package-lock.json"));
const lockHash = createHash("sha256").update(lock).digest("hex");
const stamp = join(root, "node_modules", ".computehive-lock");
const installed = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
if (installed !== lockHash) {
  say(
    existsSync(join(root, "node_modules"))
      ? "lockfile changed: npm ci"
      : "first run: npm ci (about a minute)",
  );
  try {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: root,
      stdio: "inherit",
    });
  } catch {
    process.stderr.write("[ensure] npm ci failed: is the npm registry reachable? See the output above.\n");
    process.exit(1);
  }
  writeFileSync(stamp, `${lockHash}\n`);
}

for (const bin of ["forge", "anvil", "cast"]) {
  if (!existsSync(join(root, "node_modules", ".bin", bin))) {
    process.stderr.write(
      `[ensure] node_modules/.bin/${bin} is missing after install: remove node_modules and retry.\n`,
    );
    process.exit(1);
  }
}
