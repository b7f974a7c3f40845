import { chmod, mkdir, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type HostKeyPair, VM_USER_RE } from "../ssh/ca.ts";
import { guestSshdConfig } from "../ssh/sshd-config.ts";
import { run } from "../system/exec.ts";

/**
 * The guest's seed, this image's equivalent of a cloud-init NoCloud seed: a ustar archive written to a raw
 * file that the guest sees as a read-only virtio disk (serial SEED_SERIAL, see init-script.ts). It holds
 * the VM user, the SSH certificate authority's public key, the guest's SSH host keys (secrets: remove the
 * file with removeSeed at teardown), sshd_config and the network settings.
 */

export type HostKeyType = "ed25519" | "ecdsa" | "rsa";

export interface HostKey {
  type: HostKeyType;
  /** OpenSSH private key (PEM-like text). */
  private: string;
  /** One line: `ssh-ed25519 AAAA… comment`. */
  public: string;
}

export interface SeedNetwork {
  /** IPv4 address with prefix, e.g. 10.0.2.15/24 (QEMU user-mode networking's default). */
  address?: string;
  gateway?: string;
  dns?: string;
}

export interface BuildSeedOptions {
  /**
   * This VM's directory; the seed is written there as seed.img (mode 0600). Created 0711 when missing:
   * libvirt hands the file itself to the QEMU user (libvirt-qemu) at start, but that user must be able to
   * pass through every directory above it.
   */
  dir: string;
  vmUser: string;
  /** The VM user's uid and gid, default 1000. */
  vmUid?: number;
  /** The CA's public key, one line (`ssh-ed25519 AAAA…`). */
  caPublicKey: string;
  hostKeys: readonly HostKey[];
  /**
   * The complete sshd_config; HostKey lines must name /etc/ssh/ssh_host_<type>_key. Default: the agent's
   * guestSshdConfig (ssh/sshd-config.ts) without PAM, as this image has no PAM stack.
   */
  sshdConfig?: string;
  network?: SeedNetwork;
  hostname?: string;
}

export const SEED_FILE = "seed.img";

const RESERVED_USERS = new Set(["root", "sshd", "nobody"]);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\n\r]*)?$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class SeedError extends Error {
  override name = "SeedError";
}

function validate(opts: BuildSeedOptions): void {
  if (!VM_USER_RE.test(opts.vmUser) || RESERVED_USERS.has(opts.vmUser)) {
    throw new SeedError(`VM user ${JSON.stringify(opts.vmUser)} is not a plain lower-case user name`);
  }
  const uid = opts.vmUid ?? 1000;
  if (!Number.isInteger(uid) || uid < 1000 || uid >= 65534)
    throw new SeedError(`VM uid ${uid} is out of range`);
  if (!PUBLIC_KEY.test(opts.caPublicKey.trim()))
    throw new SeedError("the CA public key is not one OpenSSH key line");
  if (opts.hostKeys.length === 0) throw new SeedError("at least one host key is needed");
  const types = new Set<string>();
  for (const key of opts.hostKeys) {
    if (!["ed25519", "ecdsa", "rsa"].includes(key.type)) throw new SeedError(`host key type ${key.type}?`);
    if (types.has(key.type)) throw new SeedError(`two ${key.type} host keys`);
    types.add(key.type);
    if (!key.private.includes("PRIVATE KEY-----"))
      throw new SeedError(`the ${key.type} host key is not a private key`);
    if (!PUBLIC_KEY.test(key.public.trim()))
      throw new SeedError(`the ${key.type} host public key is not one line`);
  }
  const net = opts.network ?? {};
  if (net.address !== undefined) {
    const [ip, prefix, extra] = net.address.split("/");
    const bits = Number(prefix);
    if (!ip || !IPV4.test(ip) || extra !== undefined || !Number.isInteger(bits) || bits < 1 || bits > 32) {
      throw new SeedError(`network address ${net.address} is not IPv4/prefix`);
    }
  }
  for (const [what, value] of [
    ["gateway", net.gateway],
    ["dns", net.dns],
  ] as const) {
    if (value !== undefined && !IPV4.test(value)) throw new SeedError(`network ${what} ${value} is not IPv4`);
  }
  if (opts.hostname !== undefined && !HOSTNAME.test(opts.hostname)) {
    throw new SeedError(`hostname ${opts.hostname} is not a plain host name`);
  }
  if (opts.sshdConfig?.includes("\0")) throw new SeedError("sshd_config holds a NUL byte");
}

/** Host keys as the agent's SSH module makes them (generateHostKeys), in the seed's terms. */
const PAIR_TYPES: Record<HostKeyPair["type"], HostKeyType> = {
  "ssh-ed25519": "ed25519",
  "ecdsa-sha2-nistp256": "ecdsa",
};

export function hostKeysFromPairs(pairs: readonly HostKeyPair[]): HostKey[] {
  return pairs.map((p) => ({
    type: PAIR_TYPES[p.type],
    private: p.privateKey,
    public: p.publicKey,
  }));
}

/** Writes the seed disk image for one VM and returns its path (mode 0600). */
export async function buildSeed(opts: BuildSeedOptions): Promise<string> {
  validate(opts);
  await mkdir(opts.dir, { recursive: true, mode: 0o711 });
  const staging = await mkdtemp(join(opts.dir, ".seed-"));
  const path = join(opts.dir, SEED_FILE);
  try {
    const net = opts.network ?? {};
    const conf = [
      `VM_USER=${opts.vmUser}`,
      `VM_UID=${opts.vmUid ?? 1000}`,
      net.address && `ADDRESS=${net.address}`,
      net.gateway && `GATEWAY=${net.gateway}`,
      net.dns && `DNS=${net.dns}`,
      opts.hostname && `HOSTNAME=${opts.hostname}`,
    ].filter(Boolean);
    const files: [name: string, content: string, mode: number][] = [
      ["seed.conf", `${conf.join("\n")}\n`, 0o644],
      ["ca.pub", `${opts.caPublicKey.trim()}\n`, 0o644],
    ];
    for (const key of opts.hostKeys) {
      const name = `ssh_host_${key.type}_key`;
      files.push([name, key.private.endsWith("\n") ? key.private : `${key.private}\n`, 0o600]);
      files.push([`${name}.pub`, `${key.public.trim()}\n`, 0o644]);
    }
    const sshdConfig =
      opts.sshdConfig ??
      guestSshdConfig({
        user: opts.vmUser,
        usePam: false,
        hostKeyPaths: opts.hostKeys.map((k) => `/etc/ssh/ssh_host_${k.type}_key`),
      });
    files.push(["sshd_config", sshdConfig, 0o644]);
    for (const [name, content, mode] of files) {
      await writeFile(join(staging, name), content, { mode });
      await chmod(join(staging, name), mode);
    }
    await run("tar", [
      "--create",
      "--format=ustar",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--mtime=@0",
      "--file",
      path,
      "--directory",
      staging,
      "--",
      ...files.map(([name]) => name),
    ]);
    await chmod(path, 0o600);
    // tar already writes whole 10 KiB records; keep the 512-byte sector invariant explicit for raw disks.
    const { size } = await stat(path);
    if (size % 512 !== 0) {
      const handle = await open(path, "r+");
      await handle.truncate(size + 512 - (size % 512));
      await handle.close();
    }
    return path;
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Deletes a seed (it holds the guest's private host keys), overwriting it first. Safe to call twice.
 * The guest copied what it needs at boot, so this may run as soon as sshd answers.
 */
export async function removeSeed(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info) return;
  const handle = await open(path, "r+");
  try {
    await handle.write(Buffer.alloc(info.size), 0, info.size, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rm(path, { force: true });
}
