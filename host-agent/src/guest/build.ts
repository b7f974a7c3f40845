import { createHash } from "node:crypto";
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type Log, run, runBinary, stderrLog } from "../system/exec.ts";
import {
  candidateVersions,
  type DebPackage,
  downloadPackages,
  extractPackage,
  kernelPackageName,
  libraryDepends,
  packageOwning,
  sharedLibraries,
} from "./apt.ts";
import { ACPI_POWER_HANDLER, initScript } from "./init-script.ts";
import { readModule, resolveModules } from "./modules.ts";

/** Bump when the image layout changes in a way the hashed inputs below would not show. */
export const GUEST_BUILDER_VERSION = 1;

/** Kernel modules the guest loads (with their dependencies): virtio PCI transport, NIC, disks, RNG, ACPI button. */
export const GUEST_MODULES = [
  "virtio_pci",
  "virtio_net",
  "virtio_blk",
  "virtio_rng",
  "button",
  "evdev",
] as const;

/** The packages the guest is made of, besides the shared libraries sshd needs (found by ldd). */
const BASE_PACKAGES = ["busybox-static", "openssh-server", "openssh-sftp-server"] as const;

/** The guest's programs, relative to the image root, whose shared libraries go into the image. */
const DYNAMIC_PROGRAMS = ["usr/sbin/sshd", "usr/lib/openssh/sftp-server"] as const;

/**
 * Kernel command line for the guest. `console=ttyS0`: the serial port carries the boot log and sshd's log;
 * `panic=-1`: reboot at once on a panic (run QEMU with -no-reboot / libvirt with on_reboot=destroy so that
 * a crashed guest stops instead of looping). Network and seed overrides: see init.sh.
 */
export const GUEST_CMDLINE = "console=ttyS0 quiet panic=-1";

export interface GuestImage {
  /** The directory holding the image (inside the cache). */
  dir: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  /** The guest kernel's release (`uname -r` inside the guest). */
  version: string;
  /** Every Debian package the image was made from, with its exact version. */
  packages: DebPackage[];
  /** Sizes in bytes. */
  sizes: { kernel: number; initrd: number };
  /** True when the image came from the cache. */
  cached: boolean;
  /** Milliseconds spent (checking the cache, or building). */
  ms: number;
}

export interface BuildGuestImageOptions {
  /** Where images are kept; default <repo>/.computehive/guest. */
  cacheDir?: string;
  log?: Log;
}

interface Manifest {
  builderVersion: number;
  key: string;
  kernelRelease: string;
  cmdline: string;
  base: DebPackage[];
  libraries: DebPackage[];
  modules: string[];
  builtAt: string;
  buildMs: number;
}

export const defaultGuestCacheDir = () =>
  fileURLToPath(new URL("../../../.computehive/guest", import.meta.url));

const byName = (a: DebPackage, b: DebPackage) => a.name.localeCompare(b.name);
const sameVersions = (a: readonly DebPackage[], b: readonly DebPackage[]) =>
  a.length === b.length &&
  [...a].sort(byName).every((p, i) => {
    const q = [...b].sort(byName)[i];
    return q !== undefined && p.name === q.name && p.version === q.version;
  });

async function imageKey(base: readonly DebPackage[], libraries: readonly DebPackage[]): Promise<string> {
  const h = createHash("sha256");
  h.update(
    `builder ${GUEST_BUILDER_VERSION}\ncmdline ${GUEST_CMDLINE}\nmodules ${GUEST_MODULES.join(",")}\n`,
  );
  for (const p of [...base, ...libraries].sort(byName)) h.update(`${p.name}=${p.version}\n`);
  h.update(await readFile(new URL("./init.sh", import.meta.url)));
  return h.digest("hex").slice(0, 16);
}

function imageOf(
  dir: string,
  m: Manifest,
  sizes: GuestImage["sizes"],
  cached: boolean,
  ms: number,
): GuestImage {
  return {
    dir,
    kernel: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.gz"),
    cmdline: m.cmdline,
    version: m.kernelRelease,
    packages: [...m.base, ...m.libraries].sort(byName),
    sizes,
    cached,
    ms,
  };
}

/** A cached image whose every package still is apt's candidate, or null. */
async function findCached(cacheDir: string, base: readonly DebPackage[]): Promise<GuestImage | null> {
  const started = Date.now();
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith("img-")) continue;
    const dir = join(cacheDir, entry);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
    } catch {
      continue;
    }
    if (manifest.builderVersion !== GUEST_BUILDER_VERSION || !sameVersions(manifest.base, base)) continue;
    const libraries = await candidateVersions(manifest.libraries.map((p) => p.name)).catch(() => null);
    if (!libraries || !sameVersions(libraries, manifest.libraries)) continue;
    if ((await imageKey(base, libraries)) !== manifest.key) continue;
    const [kernel, initrd] = await Promise.all([
      stat(join(dir, "vmlinuz")),
      stat(join(dir, "initrd.gz")),
    ]).catch(() => [null, null]);
    if (!kernel || !initrd) continue;
    return imageOf(dir, manifest, { kernel: kernel.size, initrd: initrd.size }, true, Date.now() - started);
  }
  return null;
}

/**
 * Follows symlinks inside an extracted package tree (absolute targets are relative to the tree, not to
 * this host) and returns the real file's path.
 */
async function resolveInTree(tree: string, rel: string): Promise<string> {
  let current = posix.normalize(`/${rel}`);
  for (let hops = 0; hops < 16; hops++) {
    const info = await lstat(join(tree, current)).catch(() => null);
    if (!info) throw new Error(`${current} is not in the extracted packages`);
    if (!info.isSymbolicLink()) return join(tree, current);
    const target = await readlink(join(tree, current));
    current = target.startsWith("/") ? posix.normalize(target) : posix.join(posix.dirname(current), target);
  }
  throw new Error(`too many symlinks at ${rel}`);
}

/** The extracted-tree path of a shared library, by soname, in the multiarch directories. */
async function findLibrary(tree: string, soname: string): Promise<string> {
  for (const dir of ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib", "usr/lib"]) {
    const rel = `${dir}/${soname}`;
    if (await lstat(join(tree, rel)).catch(() => null)) return resolveInTree(tree, rel);
  }
  throw new Error(`${soname} is in none of the downloaded packages`);
}

async function put(root: string, rel: string, data: string | Buffer, mode: number): Promise<void> {
  const path = join(root, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
  await chmod(path, mode);
}

async function putFile(root: string, rel: string, source: string, mode: number): Promise<void> {
  const path = join(root, rel);
  await mkdir(dirname(path), { recursive: true });
  await copyFile(source, path);
  await chmod(path, mode);
}

const TREE_LIBRARY_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"];

/**
 * Downloads the packages that hold the shared libraries of DYNAMIC_PROGRAMS and extracts them into `tree`.
 * First pass: this host's ldd resolves the libraries and dpkg -S names their packages. Later passes use the
 * downloaded ld.so on the extracted files, so every library is finally resolved inside the packages; a
 * library this host lacks (libwrap0 comes only with openssh-server) is looked for among the library
 * dependencies of the packages already fetched.
 */
async function fetchLibraries(
  tree: string,
  debs: string,
  baseDebs: Map<string, string>,
  log: Log,
): Promise<{ sonames: Map<string, string>; libraries: DebPackage[] }> {
  const fetched = new Map(baseDebs);
  const libraries: DebPackage[] = [];
  const loader = join(tree, "lib64", "ld-linux-x86-64.so.2");
  const libraryPath = TREE_LIBRARY_DIRS.map((d) => join(tree, d));
  for (let pass = 0; pass < 6; pass++) {
    const inTree = pass > 0 && (await lstat(loader).catch(() => null)) !== null;
    const sonames = new Map<string, string>();
    const missing = new Set<string>();
    for (const program of DYNAMIC_PROGRAMS) {
      const linked = await sharedLibraries(join(tree, program), inTree ? { loader, libraryPath } : {});
      for (const [soname, path] of linked.found) sonames.set(soname, path);
      for (const soname of linked.missing) missing.add(soname);
    }
    const wanted = new Set<string>();
    for (const path of new Set(sonames.values())) {
      if (!path.startsWith(`${tree}/`)) wanted.add(await packageOwning(path));
    }
    if (missing.size > 0) {
      for (const deb of fetched.values()) for (const dep of await libraryDepends(deb)) wanted.add(dep);
    }
    for (const name of fetched.keys()) wanted.delete(name);
    if (wanted.size === 0) {
      if (missing.size > 0) throw new Error(`no package found for ${[...missing].join(", ")}`);
      if (!inTree) continue; // resolve once more from the extracted files alone
      return { sonames, libraries: libraries.sort(byName) };
    }
    const next = await candidateVersions([...wanted].sort());
    log(
      `guest image: ${pass === 0 ? "sshd's shared libraries come from" : "also fetching"} ${next.map((p) => p.name).join(", ")}`,
    );
    for (const [name, deb] of await downloadPackages(debs, next)) {
      fetched.set(name, deb);
      await extractPackage(deb, tree);
    }
    libraries.push(...next);
  }
  throw new Error(`the shared libraries of ${DYNAMIC_PROGRAMS.join(", ")} did not settle`);
}

/**
 * Builds (or finds in the cache) a guest made only of Debian packages: the distribution kernel and an
 * initramfs with busybox, OpenSSH's sshd and the libraries sshd needs. The image is cached under a key of
 * every package version, the init script and GUEST_BUILDER_VERSION; a cache hit costs three quick apt-cache
 * calls (about half a second). Needs apt, dpkg, cpio, tar and ldd; no root for the build itself.
 */
export async function buildGuestImage(opts: BuildGuestImageOptions = {}): Promise<GuestImage> {
  const cacheDir = opts.cacheDir ?? defaultGuestCacheDir();
  const log = opts.log ?? stderrLog;
  const started = Date.now();
  const kernelPackage = await kernelPackageName();
  const base = await candidateVersions([kernelPackage, ...BASE_PACKAGES]);
  const cached = await findCached(cacheDir, base);
  if (cached) {
    log(`guest image: cached ${cached.dir} (kernel ${cached.version}, checked in ${cached.ms} ms)`);
    return cached;
  }

  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(join(cacheDir, ".build-"));
  try {
    const debs = join(work, "debs");
    const tree = join(work, "tree");
    const root = join(work, "root");
    await mkdir(debs);
    await mkdir(tree);
    log(
      `guest image: downloading ${base.map((p) => `${p.name} ${p.version}`).join(", ")} from the Debian archive (about 75 MB, the kernel is most of it)`,
    );
    const baseDebs = await downloadPackages(debs, base);
    for (const deb of baseDebs.values()) await extractPackage(deb, tree);

    const { sonames, libraries } = await fetchLibraries(tree, debs, baseDebs, log);

    const moduleRoot = join(tree, "lib", "modules");
    const releases = await readdir(moduleRoot);
    const kernelRelease = releases.find((r) => kernelPackage.endsWith(r)) ?? releases[0];
    if (!kernelRelease) throw new Error(`${kernelPackage} has no lib/modules`);
    const modules = await resolveModules(join(moduleRoot, kernelRelease), GUEST_MODULES);

    log("guest image: assembling the initramfs");
    const dirs = "bin sbin usr/bin usr/sbin lib64 etc/ssh proc sys dev run tmp home root var/log var/empty";
    for (const d of dirs.split(" ")) await mkdir(join(root, d), { recursive: true });
    await chmod(join(root, "tmp"), 0o1777);
    await chmod(join(root, "root"), 0o700);

    await putFile(root, "bin/busybox", await resolveInTree(tree, "bin/busybox"), 0o755);
    const applets = (await run(join(tree, "bin/busybox"), ["--list-full"])).split("\n").filter(Boolean);
    for (const applet of applets) {
      if (applet === "bin/busybox") continue;
      await mkdir(join(root, dirname(applet)), { recursive: true });
      await symlink("/bin/busybox", join(root, applet));
    }
    for (const program of DYNAMIC_PROGRAMS) {
      await putFile(root, program, await resolveInTree(tree, program), 0o755);
    }
    for (const soname of sonames.keys()) {
      await putFile(root, `lib/x86_64-linux-gnu/${soname}`, await findLibrary(tree, soname), 0o755);
    }
    await symlink("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", join(root, "lib64/ld-linux-x86-64.so.2"));
    for (const m of modules) {
      await put(root, `lib/modules/${kernelRelease}/${m.name}.ko`, await readModule(m.source), 0o644);
    }
    await put(
      root,
      "etc/nsswitch.conf",
      "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n",
      0o644,
    );
    await put(root, "etc/acpi/PWRF/00000080", ACPI_POWER_HANDLER, 0o755);
    await put(root, "init", await initScript({ kernelRelease, modules: modules.map((m) => m.name) }), 0o755);
    const allPackages = [...base, ...libraries].sort(byName);
    await put(
      root,
      "etc/computehive-guest",
      `${allPackages.map((p) => `${p.name} ${p.version}`).join("\n")}\n`,
      0o644,
    );

    // Every library the programs need must resolve inside the image, from the packages' files alone.
    if (process.getuid?.() === 0) {
      for (const program of DYNAMIC_PROGRAMS) {
        const out = await run("chroot", [root, "/lib64/ld-linux-x86-64.so.2", "--list", `/${program}`]);
        if (out.includes("not found")) throw new Error(`${program} misses libraries in the image:\n${out}`);
      }
    }

    // newc archive with root-owned entries in a stable order; gzip, which every distribution kernel unpacks.
    const list = (await run("find", [".", "-mindepth", "1"], { cwd: root }))
      .split("\n")
      .filter(Boolean)
      .sort();
    const cpio = await runBinary("cpio", ["--quiet", "-o", "-H", "newc", "-R", "0:0", "--reproducible"], {
      cwd: root,
      input: `${list.join("\n")}\n`,
    });
    const out = join(work, "out");
    await mkdir(out);
    const initrd = gzipSync(cpio, { level: 9 });
    await writeFile(join(out, "initrd.gz"), initrd);
    await copyFile(await resolveInTree(tree, `boot/vmlinuz-${kernelRelease}`), join(out, "vmlinuz"));
    const key = await imageKey(base, libraries);
    const buildMs = Date.now() - started;
    const manifest: Manifest = {
      builderVersion: GUEST_BUILDER_VERSION,
      key,
      kernelRelease,
      cmdline: GUEST_CMDLINE,
      base,
      libraries,
      modules: modules.map((m) => m.name),
      builtAt: new Date().toISOString(),
      buildMs,
    };
    await writeFile(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const dir = join(cacheDir, `img-${key}`);
    try {
      await rename(out, dir);
    } catch (err) {
      // Another build of the same key finished first; its files are identical in content, and a VM may
      // already use them, so keep them. (A broken leftover without a manifest is replaced.)
      if (
        (err as NodeJS.ErrnoException).code !== "ENOTEMPTY" &&
        (err as NodeJS.ErrnoException).code !== "EEXIST"
      ) {
        throw err;
      }
      if (!(await stat(join(dir, "manifest.json")).catch(() => null))) {
        await rm(dir, { recursive: true, force: true });
        await rename(out, dir);
      }
    }
    const kernelSize = (await stat(join(dir, "vmlinuz"))).size;
    const image = imageOf(dir, manifest, { kernel: kernelSize, initrd: initrd.length }, false, buildMs);
    log(
      `guest image: built ${dir} in ${(buildMs / 1000).toFixed(1)} s (kernel ${kernelRelease} ${(kernelSize / 2 ** 20).toFixed(1)} MiB, initrd ${(initrd.length / 2 ** 20).toFixed(1)} MiB from ${(cpio.length / 2 ** 20).toFixed(1)} MiB)`,
    );
    return image;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
