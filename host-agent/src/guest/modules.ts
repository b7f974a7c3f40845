import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { runBinary } from "../system/exec.ts";

/** A kernel module picked for the initramfs, in load order (its dependencies come before it). */
export interface KernelModule {
  name: string;
  /** Where the module file lies in the extracted kernel package. */
  source: string;
  dependsOn: string[];
}

const moduleName = (file: string) =>
  basename(file)
    .replace(/\.ko(\.(xz|zst|gz))?$/, "")
    .replaceAll("-", "_");

/**
 * Reads the `.modinfo` section of an ELF64 kernel module: NUL-separated `key=value` strings.
 * (No `modinfo` here: kmod is not installed, and the kernel package ships no modules.dep — depmod makes it.)
 */
export function parseModinfo(ko: Buffer): Map<string, string[]> {
  if (ko.readUInt32BE(0) !== 0x7f454c46 || ko[4] !== 2) throw new Error("not an ELF64 kernel module");
  const shoff = Number(ko.readBigUInt64LE(0x28));
  const shentsize = ko.readUInt16LE(0x3a);
  const shnum = ko.readUInt16LE(0x3c);
  const shstrndx = ko.readUInt16LE(0x3e);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: ko.readUInt32LE(at),
      offset: Number(ko.readBigUInt64LE(at + 24)),
      size: Number(ko.readBigUInt64LE(at + 32)),
    };
  };
  const names = section(shstrndx);
  const info = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const start = names.offset + s.name;
    const name = ko.toString("latin1", start, ko.indexOf(0, start));
    if (name !== ".modinfo") continue;
    for (const entry of ko.toString("latin1", s.offset, s.offset + s.size).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      info.set(key, [...(info.get(key) ?? []), entry.slice(eq + 1)]);
    }
  }
  return info;
}

/** Decompresses a module file if Debian compressed it (Debian 13 ships .ko.xz); busybox insmod wants plain ELF. */
export async function readModule(source: string): Promise<Buffer> {
  if (source.endsWith(".xz")) return runBinary("xz", ["-dc", source]);
  if (source.endsWith(".zst")) return runBinary("zstd", ["-dcq", source]);
  if (source.endsWith(".gz")) return gunzipSync(await readFile(source));
  return readFile(source);
}

async function listModules(dir: string, out: Map<string, string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listModules(path, out);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(entry.name)) out.set(moduleName(entry.name), path);
  }
}

/**
 * The modules to load for `wanted`, dependencies first. Modules built into the kernel (modules.builtin)
 * are skipped; a module that is neither a file nor built in is an error.
 */
export async function resolveModules(moduleDir: string, wanted: readonly string[]): Promise<KernelModule[]> {
  const files = new Map<string, string>();
  await listModules(join(moduleDir, "kernel"), files);
  const builtin = new Set(
    (await readFile(join(moduleDir, "modules.builtin"), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map(moduleName),
  );
  const ordered: KernelModule[] = [];
  const seen = new Set<string>();
  const visit = async (name: string, chain: string[]) => {
    const key = name.replaceAll("-", "_");
    if (seen.has(key) || builtin.has(key)) return;
    if (chain.includes(key))
      throw new Error(`kernel module dependency cycle: ${[...chain, key].join(" -> ")}`);
    const source = files.get(key);
    if (!source) throw new Error(`kernel module ${key} is neither in ${moduleDir}/kernel nor built in`);
    const info = parseModinfo(await readModule(source));
    const dependsOn = (info.get("depends")?.[0] ?? "").split(",").filter(Boolean);
    for (const dep of dependsOn) await visit(dep, [...chain, key]);
    seen.add(key);
    ordered.push({ name: key, source, dependsOn });
  };
  for (const name of wanted) await visit(name, []);
  return ordered;
}
