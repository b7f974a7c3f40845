import { readdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../system/exec.ts";

/** A Debian package at an exact version. */
export interface DebPackage {
  name: string;
  version: string;
}

const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" };

/** The versioned kernel package behind the `linux-image-amd64` metapackage (e.g. linux-image-6.1.0-50-amd64). */
export async function kernelPackageName(meta = "linux-image-amd64"): Promise<string> {
  const out = await run("apt-cache", ["depends", meta], { env: aptEnv });
  const match = /Depends:\s*(linux-image-\S+)/.exec(out);
  if (!match?.[1])
    throw new Error(`apt-cache depends ${meta} names no linux-image package (run apt-get update?)`);
  return match[1];
}

/** The version apt would download for each package (its candidate). */
export async function candidateVersions(names: readonly string[]): Promise<DebPackage[]> {
  const out = await run("apt-cache", ["policy", ...names], { env: aptEnv });
  const found = new Map<string, string>();
  let current = "";
  for (const line of out.split("\n")) {
    const head = /^(\S+):$/.exec(line);
    if (head?.[1]) current = head[1];
    const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (cand?.[1] && current) found.set(current, cand[1]);
  }
  return names.map((name) => {
    const version = found.get(name);
    if (!version || version === "(none)") {
      throw new Error(`apt has no candidate for ${name}: run apt-get update, or check /etc/apt/sources.list`);
    }
    return { name, version };
  });
}

/**
 * Downloads exact package versions into `dir` with `apt-get download` (no root needed; as root, apt's
 * sandbox user cannot write a private temp dir, so the sandbox is turned off for this call). Returns
 * the .deb path for each package.
 */
export async function downloadPackages(
  dir: string,
  packages: readonly DebPackage[],
): Promise<Map<string, string>> {
  const before = new Set(await readdir(dir));
  await run(
    "apt-get",
    ["download", "-q", "-o", "APT::Sandbox::User=root", ...packages.map((p) => `${p.name}=${p.version}`)],
    { cwd: dir, env: aptEnv, timeoutMs: 10 * 60_000 },
  );
  const debs = new Map<string, string>();
  for (const file of await readdir(dir)) {
    if (!file.endsWith(".deb") || before.has(file)) continue;
    const name = (await run("dpkg-deb", ["-f", join(dir, file), "Package"])).trim();
    debs.set(name, join(dir, file));
  }
  for (const p of packages) {
    if (!debs.has(p.name)) throw new Error(`apt-get download ${p.name}=${p.version} produced no .deb`);
  }
  return debs;
}

/** Unpacks a .deb's files (not its scripts) under `root`. */
export async function extractPackage(deb: string, root: string): Promise<void> {
  await run("dpkg", ["-x", deb, root]);
}

/**
 * The Debian package that owns a host file, by `dpkg -S`. With merged /usr, ldd reports
 * /lib/x86_64-linux-gnu/… while a package may have shipped /usr/lib/x86_64-linux-gnu/… (or the
 * reverse), so both spellings and the resolved path are tried.
 */
export async function packageOwning(path: string): Promise<string> {
  const candidates = new Set<string>([path]);
  candidates.add(path.startsWith("/usr/") ? path.slice(4) : `/usr${path}`);
  const real = await realpath(path).catch(() => path);
  candidates.add(real);
  candidates.add(real.startsWith("/usr/") ? real.slice(4) : `/usr${real}`);
  for (const candidate of candidates) {
    try {
      const out = await run("dpkg", ["-S", candidate], { env: aptEnv });
      for (const line of out.split("\n")) {
        const match = /^([^:\s,]+)(?::[a-z0-9]+)?: (.+)$/.exec(line);
        if (match?.[1] && !line.startsWith("diversion")) return match[1];
      }
    } catch {
      // not this spelling
    }
  }
  throw new Error(`no installed Debian package owns ${path} (dpkg -S)`);
}

/** The libraries a package depends on (Depends and Pre-Depends whose names say they are libraries). */
export async function libraryDepends(deb: string): Promise<string[]> {
  const out = await run("dpkg-deb", ["-f", deb, "Depends", "Pre-Depends"]);
  const names = new Set<string>();
  for (const line of out.split("\n")) {
    const value = line.replace(/^[A-Za-z-]+:\s*/, "");
    for (const clause of value.split(",")) {
      const name = clause
        .split("|")[0]
        ?.trim()
        .split(/[\s(:]/)[0];
      if (name && /^(lib|zlib)/.test(name)) names.add(name);
    }
  }
  return [...names];
}

export interface LinkedLibraries {
  /** soname → the file the dynamic loader would map. */
  found: Map<string, string>;
  /** sonames the loader could not find. */
  missing: string[];
}

/**
 * The shared libraries a dynamically linked program needs, as the dynamic loader resolves them: with no
 * options this host's `ldd`; with `loader` that ld.so, run directly with `--library-path` first.
 */
export async function sharedLibraries(
  binary: string,
  opts: { loader?: string; libraryPath?: readonly string[] } = {},
): Promise<LinkedLibraries> {
  const out = opts.loader
    ? await run(opts.loader, ["--library-path", (opts.libraryPath ?? []).join(":"), "--list", binary])
    : await run("ldd", [binary]);
  const found = new Map<string, string>();
  const missing: string[] = [];
  for (const line of out.split("\n")) {
    const arrow = /^\s*(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow?.[1] && arrow[2]) {
      if (arrow[2] === "not found") missing.push(arrow[1]);
      else found.set(arrow[1].split("/").pop() ?? arrow[1], arrow[2]);
      continue;
    }
    const interp = /^\s*(\/\S+ld-linux[^\s]*) \(/.exec(line);
    if (interp?.[1]) found.set(interp[1].split("/").pop() ?? interp[1], interp[1]);
  }
  return { found, missing };
}
