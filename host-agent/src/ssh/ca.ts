/**
 * The host's SSH certificate authority: one ed25519 key in the agent's state directory that signs each
 * borrower's key as an OpenSSH user certificate for exactly the booking window. Guests trust only its
 * public key (`TrustedUserCAKeys`); no password and no long-lived authorized key exists anywhere.
 *
 * Also makes the per-VM host keys the guest's sshd presents, whose public halves go to the borrower in
 * the endpoint (pinned in a known_hosts line; see endpoint.ts for why no host certificates).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, link, lstat, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import sshpk from "sshpk";
import { type BorrowerKey, validateBorrowerKey } from "./keys.ts";

export const CA_KEY_FILE = "ssh-user-ca";
export const CA_PUB_FILE = "ssh-user-ca.pub";
const CA_COMMENT = "computehive-user-ca";

export interface SshCa {
  /** Signs certificates; never leaves the agent's state directory. */
  privateKey: sshpk.PrivateKey;
  /** `ssh-ed25519 AAAA… computehive-user-ca`: the line the guest's `TrustedUserCAKeys` file holds. */
  publicKey: string;
  /** `SHA256:…` of the CA key, as `ssh-keygen -L` prints it under "Signing CA". */
  fingerprint: string;
  keyPath: string;
  publicKeyPath: string;
}

/**
 * Loads the CA from `dir` (the agent's state directory), creating it on first use: `ssh-user-ca`
 * (OpenSSH private key format, mode 0600, like `ssh-keygen` writes) and `ssh-user-ca.pub`. Creation is
 * atomic and never overwrites: concurrent starts agree on one key. An existing key file that is not a
 * regular file owned by this user with mode 0600 (or stricter), or not ed25519, is refused rather than
 * used or replaced.
 */
export async function loadOrCreateCa(dir: string): Promise<SshCa> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, CA_KEY_FILE);
  const publicKeyPath = join(dir, CA_PUB_FILE);

  let privateKey = await readCaKey(keyPath);
  if (privateKey === null) {
    const { privateKey: fresh } = generateKeyPairSync("ed25519");
    const k = sshpk.parsePrivateKey(fresh.export({ format: "pem", type: "pkcs8" }), "pkcs8");
    k.comment = CA_COMMENT;
    const tmp = `${keyPath}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFileDurable(tmp, k.toString("openssh"), 0o600);
    try {
      await link(tmp, keyPath); // fails with EEXIST instead of replacing a key another process made
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      await unlink(tmp);
    }
    privateKey = await readCaKey(keyPath);
    if (privateKey === null) throw new Error(`${keyPath} vanished right after it was created`);
  }

  const pub = privateKey.toPublic();
  pub.comment = CA_COMMENT;
  const publicKey = pub.toString("ssh");
  const onDisk = await readFile(publicKeyPath, "utf8").catch(() => "");
  if (onDisk.trim() !== publicKey) {
    const tmp = `${publicKeyPath}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFileDurable(tmp, `${publicKey}\n`, 0o644);
    await rename(tmp, publicKeyPath);
  }
  return { privateKey, publicKey, fingerprint: pub.fingerprint("sha256").toString(), keyPath, publicKeyPath };
}

async function readCaKey(path: string): Promise<sshpk.PrivateKey | null> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(
      `${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new Error(`${path} is owned by uid ${st.uid}, not by this agent (uid ${process.getuid()})`);
  }
  const k = sshpk.parsePrivateKey(await readFile(path), "openssh");
  if (k.type !== "ed25519") throw new Error(`${path} holds a ${k.type} key; the CA must be ed25519`);
  return k;
}

async function writeFileDurable(path: string, text: string, mode: number): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(path, mode); // the umask may have narrowed it; the .pub is meant to be world-readable
}

/**
 * The only certificate extension granted. What is left out, and why:
 * - `permit-agent-forwarding`: the lender is root on the host and can read the guest's memory (unless
 *   the listing is SEV-SNP/TDX), so a forwarded agent would lend the borrower's other keys to the lender.
 * - `permit-X11-forwarding`: same reason, for the borrower's display and keyboard.
 * - `permit-port-forwarding`: `-L`/`-R`/`-D`/`-W` would make the guest's sshd a relay (a SOCKS proxy or a
 *   tunnel) into whatever the guest's network can reach; the network filter is the real boundary
 *   between guest and host, but there is no reason to hand out a ready-made tunnel. The guest's
 *   sshd_config forbids forwarding too, so either one alone is enough.
 * - `permit-user-rc`: not needed for a session; one less thing that runs at login.
 * `permit-pty` stays: an interactive shell needs a terminal.
 */
export const USER_CERT_EXTENSIONS = ["permit-pty"] as const;

/** POSIX portable user names, as `useradd` accepts them by default. */
export const VM_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;

export interface UserCertificateRequest {
  ca: SshCa;
  /** A key accepted by validateBorrowerKey, or an OpenSSH public key line (validated here). */
  borrowerKey: BorrowerKey | string;
  /** The VM user; the only principal. The guest's sshd matches it against the login name. */
  principal: string;
  /** Booking start, Unix seconds: the first second the certificate is valid (OpenSSH: `now >= valid_after`). */
  validAfter: number;
  /** Booking end, Unix seconds: the first second it is NOT valid (OpenSSH: `now < valid_before`). */
  validBefore: number;
  /** Logged by sshd on every login ("Accepted publickey … ID <keyId> (serial N)"). Printable ASCII. */
  keyId: string;
  /** Unsigned 64-bit; e.g. the booking id. */
  serial: bigint | number;
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Signs the borrower's key as an OpenSSH user certificate and returns its one-line text
 * (`ssh-ed25519-cert-v01@openssh.com AAAA…`, or the ecdsa/rsa variant for those subject keys).
 *
 * Validity mapping: OpenSSH accepts a certificate at time `now` iff `valid_after <= now < valid_before`
 * (sshkey.c, sshkey_cert_check_authority), which is exactly the booking's half-open [start, end). So
 * valid_after = start and valid_before = end, with no rounding and no slack: at `end - 1` it still works,
 * at `end` it is "Certificate invalid: expired". `ssh-keygen -L` prints the same two numbers as
 * "Valid: from <start> to <end>", where "to" is the first instant that is no longer valid.
 * The check is made when a connection authenticates; a session already open at `end` is not cut by sshd
 * (the VM's teardown at the end of the window does that), and the guest's clock must be right (NTP).
 *
 * No critical options (no `force-command`, no `source-address`: borrowers connect from anywhere).
 */
export function signUserCertificate(req: UserCertificateRequest): string {
  const { ca, principal, validAfter, validBefore, keyId } = req;
  if (!VM_USER_RE.test(principal))
    throw new Error(`principal ${JSON.stringify(principal)} is not a user name`);
  for (const [name, v] of [
    ["validAfter", validAfter],
    ["validBefore", validBefore],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be whole Unix seconds, got ${v}`);
  }
  if (validBefore <= validAfter) throw new Error(`empty window [${validAfter}, ${validBefore})`);
  if (!/^[\x20-\x7e]{1,256}$/.test(keyId)) throw new Error("keyId must be 1..256 printable ASCII characters");
  const serial = BigInt(req.serial);
  if (serial < 0n || serial > UINT64_MAX) throw new Error(`serial ${serial} does not fit in 64 bits`);

  let subject: sshpk.Key;
  if (typeof req.borrowerKey === "string") {
    const v = validateBorrowerKey(req.borrowerKey);
    if (!v.ok) throw new Error(`borrower key refused (${v.code}): ${v.message}`);
    subject = v.key;
  } else {
    subject = req.borrowerKey.key;
  }

  const serialBuf = Buffer.alloc(8);
  serialBuf.writeBigUInt64BE(serial);
  const cert = sshpk.createCertificate(
    sshpk.identityForUser(principal),
    subject,
    sshpk.identityForHost("computehive-user-ca"),
    ca.privateKey,
    {
      validFrom: new Date(validAfter * 1000),
      validUntil: new Date(validBefore * 1000),
      serial: serialBuf,
    },
  );
  // sshpk's OpenSSH writer takes the key id and extensions from here; re-sign so they are covered.
  cert.signatures.openssh = {
    keyId,
    exts: USER_CERT_EXTENSIONS.map((name) => ({ critical: false, name, data: Buffer.alloc(0) })),
  } as unknown as NonNullable<sshpk.Certificate["signatures"]["openssh"]>;
  cert.signWith(ca.privateKey);
  const text = cert.toString("openssh");

  // Read it back: what goes to the borrower must say exactly what was asked.
  const back = sshpk.parseCertificate(text, "openssh");
  const exts = (back.signatures.openssh?.exts ?? []).map((e) => `${e.critical ? "!" : ""}${e.name}`);
  if (
    back.subjects.length !== 1 ||
    back.subjects[0]?.type !== "user" ||
    back.subjects[0].uid !== principal ||
    back.validFrom.getTime() !== validAfter * 1000 ||
    back.validUntil.getTime() !== validBefore * 1000 ||
    back.serial.readBigUInt64BE() !== serial ||
    exts.join(",") !== USER_CERT_EXTENSIONS.join(",") ||
    !back.isSignedByKey(ca.privateKey.toPublic())
  ) {
    throw new Error("the signed certificate does not read back as requested");
  }
  return text;
}

export type HostKeyType = "ssh-ed25519" | "ecdsa-sha2-nistp256";

export interface HostKeyPair {
  type: HostKeyType;
  /** OpenSSH private key format, for the guest's `/etc/ssh/ssh_host_<alg>_key` (mode 0600). */
  privateKey: string;
  /** `type base64 comment`, for `/etc/ssh/ssh_host_<alg>_key.pub`. */
  publicKey: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The file name the guest's sshd expects under /etc/ssh. */
  fileName: string;
}

/**
 * Fresh host keys for one VM (made per booking, never reused): ed25519 always, ECDSA P-256 when asked
 * (for old clients; modern OpenSSH, PuTTY and Windows' ssh all do ed25519). No RSA: slow to make, big in
 * the endpoint, and nothing needs it.
 */
export function generateHostKeys(opts: { ecdsa?: boolean; comment?: string } = {}): HostKeyPair[] {
  const comment = opts.comment ?? "computehive-guest";
  const out: HostKeyPair[] = [];
  const make = (type: HostKeyType, fileName: string, pem: string) => {
    const k = sshpk.parsePrivateKey(pem, "pkcs8");
    k.comment = comment;
    const pub = k.toPublic();
    pub.comment = comment;
    out.push({
      type,
      privateKey: k.toString("openssh"),
      publicKey: pub.toString("ssh"),
      fingerprint: pub.fingerprint("sha256").toString(),
      fileName,
    });
  };
  const ed = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" });
  make("ssh-ed25519", "ssh_host_ed25519_key", ed.toString());
  if (opts.ecdsa) {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    make("ecdsa-sha2-nistp256", "ssh_host_ecdsa_key", ec.export({ format: "pem", type: "pkcs8" }).toString());
  }
  return out;
}

/** `SHA256:…` fingerprints of OpenSSH public key lines (host keys); throws on a line that is not a key. */
export function fingerprints(hostPubKeys: readonly string[]): string[] {
  return hostPubKeys.map((line) => {
    const v = validateBorrowerKey(line);
    if (!v.ok) throw new Error(`not a usable public key (${v.code}): ${v.message}`);
    return v.fingerprint;
  });
}
