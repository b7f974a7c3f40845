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
