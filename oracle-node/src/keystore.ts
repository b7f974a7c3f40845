/**
 * The lender's keys, each in an encrypted Web3 Secret Storage (v3) keystore, the format geth, Foundry's
 * `cast wallet` and most wallets read: `<stateDir>/keys/<role>.json`, mode 0600 in a 0700 directory.
 *
 * - `agent`: the host's oracle key, used by the daemon (`run`) for activate/decline/report. It can act only on
 *   its own host's bookings and holds no funds beyond gas.
 * - `lender`: owns the host, its bond and its listings, and receives the payouts. Used only by the commands a
 *   lender runs by hand (`host register`, `bond …`, `listing …`, `withdraw`); a lender may keep it elsewhere
 *   altogether and use a hardware wallet through the dApp instead.
 *
 * The private key never leaves this module in clear except inside a viem LocalAccount.
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Address, getAddress, type Hex, isHex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { OracleError } from "./chain.ts";

export type KeyRole = "agent" | "lender";
export const KEY_ROLES: readonly KeyRole[] = ["agent", "lender"];

/**
 * scrypt's cost parameter N for new keystores. 131072 (2^17, r = 8, p = 1: 128 MiB of memory, about 0.7 s here
 * to encrypt or unlock with the pure-JS scrypt @ethereumjs/wallet uses) makes each guess at the password
 * expensive for someone who copies the file, while unlocking stays fast enough for a daemon that unlocks once at
 * start. The tests set env COMPUTEHIVE_KEYSTORE_SCRYPT_N to a small power of two so that a dozen keystore
 * operations stay well under a second; a keystore records its own N, so one made with another N still opens.
 */
export const DEFAULT_SCRYPT_N = 131072;

/** `COMPUTEHIVE_KEYSTORE_SCRYPT_N` when set (a power of two from 2^4 to 2^20), else DEFAULT_SCRYPT_N. */
export function scryptN(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.COMPUTEHIVE_KEYSTORE_SCRYPT_N;
  if (raw === undefined || raw === "") return DEFAULT_SCRYPT_N;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 16 || n > 1 << 20 || (n & (n - 1)) !== 0) {
    throw new OracleError(
      "keystore",
      `COMPUTEHIVE_KEYSTORE_SCRYPT_N must be a power of two from 16 to 1048576, got ${raw}`,
    );
  }
  return n;
}

export function keystorePath(stateDir: string, role: KeyRole): string {
  return join(stateDir, "keys", `${role}.json`);
}

export interface KeystoreInfo {
  role: KeyRole;
  address: Address;
  /** The keystore file written. */
  path: string;
}

export interface KeystoreWriteOptions {
  /** scrypt N; default `scryptN()` (env COMPUTEHIVE_KEYSTORE_SCRYPT_N, else DEFAULT_SCRYPT_N). */
  n?: number;
}

async function loadWallet() {
  // Loaded on demand: only `init` and the commands that sign need it.
  return (await import("@ethereumjs/wallet")).Wallet;
}

/** Reads the address a keystore records, without the password. Undefined when there is no keystore. */
export async function keystoreAddress(stateDir: string, role: KeyRole): Promise<Address | undefined> {
  const path = keystorePath(stateDir, role);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new OracleError("keystore", `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const json = JSON.parse(text) as { address?: unknown };
    if (typeof json.address !== "string") throw new Error("no address field");
    return getAddress(json.address.startsWith("0x") ? json.address : `0x${json.address}`);
  } catch (e) {
    throw new OracleError("keystore", `${path} is not a v3 keystore: ${(e as Error).message}`);
  }
}

/** Like `keystoreAddress`, but a missing keystore is an error telling to run `init`. */
export async function requireKeystoreAddress(stateDir: string, role: KeyRole): Promise<Address> {
  const address = await keystoreAddress(stateDir, role);
  if (!address) throw missingKeystore(stateDir, role);
  return address;
}

function missingKeystore(stateDir: string, role: KeyRole): OracleError {
  return new OracleError(
    "keystore",
    `no ${role} key at ${keystorePath(stateDir, role)}: run \`init${role === "agent" ? "" : ` --role ${role}`}\` first` +
      ` (with the same --state-dir)`,
  );
}

async function writeKeystore(
  stateDir: string,
  role: KeyRole,
  privateKey: Uint8Array,
  password: string,
  opts: KeystoreWriteOptions,
): Promise<KeystoreInfo> {
  if (password === "") throw new OracleError("keystore", "refusing an empty keystore password");
  const path = keystorePath(stateDir, role);
  const existing = await keystoreAddress(stateDir, role).catch(() => undefined);
  if (existing !== undefined) {
    throw new OracleError(
      "keystore",
      `a ${role} key already exists at ${path} (address ${existing}); refusing to overwrite it. ` +
        "Move that file away first if you really mean to replace the key.",
    );
  }
  const Wallet = await loadWallet();
  let wallet: InstanceType<typeof Wallet>;
  try {
    wallet = Wallet.fromPrivateKey(privateKey);
  } catch (e) {
    throw new OracleError("keystore", `not a valid secp256k1 private key: ${(e as Error).message}`);
  }
  const v3 = await wallet.toV3(password, { n: opts.n ?? scryptN() });
  const keysDir = join(stateDir, "keys");
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  await chmod(keysDir, 0o700);
  try {
    // `wx`: never replace a file that appeared meanwhile.
    await writeFile(path, `${JSON.stringify(v3, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new OracleError("keystore", `a ${role} key already exists at ${path}; refusing to overwrite it`);
    }
    throw e;
  }
  await chmod(path, 0o600);
  return { role, address: getAddress(wallet.getAddressString()), path };
}

/** Generates a new key and stores it encrypted under `password`. Refuses to overwrite an existing keystore. */
export async function createKeystore(
  stateDir: string,
  role: KeyRole,
  password: string,
  opts: KeystoreWriteOptions = {},
): Promise<KeystoreInfo> {
  const Wallet = await loadWallet();
  return writeKeystore(stateDir, role, Wallet.generate().getPrivateKey(), password, opts);
}

/** Parses a hex private key (with or without 0x, surrounding whitespace ignored). */
export function parsePrivateKey(text: string): Uint8Array {
  const t = text.trim();
  const hex = (t.startsWith("0x") || t.startsWith("0X") ? `0x${t.slice(2)}` : `0x${t}`) as Hex;
  if (!isHex(hex, { strict: true }) || hex.length !== 66) {
    throw new OracleError(
      "keystore",
      "the key file must hold one hex private key (64 hex digits, 0x optional)",
    );
  }
  return Buffer.from(hex.slice(2), "hex");
}

/** Stores an existing private key (hex, e.g. read from a file) encrypted under `password`. */
export async function importKeystore(
  stateDir: string,
  role: KeyRole,
  privateKey: Hex | string | Uint8Array,
  password: string,
  opts: KeystoreWriteOptions = {},
): Promise<KeystoreInfo> {
  const bytes = typeof privateKey === "string" ? parsePrivateKey(privateKey) : privateKey;
  return writeKeystore(stateDir, role, bytes, password, opts);
}

/**
 * Unlocks `<stateDir>/keys/<role>.json` and returns it as a viem LocalAccount. Errors (`keystore`): no keystore
 * ("run `init` first"), a wrong password, a file that is not a keystore.
 */
export async function loadAccount(stateDir: string, role: KeyRole, password: string): Promise<LocalAccount> {
  const path = keystorePath(stateDir, role);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw missingKeystore(stateDir, role);
    throw new OracleError("keystore", `cannot read ${path}: ${(e as Error).message}`);
  }
  const Wallet = await loadWallet();
  let wallet: InstanceType<typeof Wallet>;
  try {
    wallet = await Wallet.fromV3(text, password, true);
  } catch (e) {
    const msg = (e as Error).message;
    if (/wrong passphrase/i.test(msg)) {
      throw new OracleError("keystore", `wrong password for the ${role} keystore ${path}`);
    }
    throw new OracleError("keystore", `${path} cannot be opened as a v3 keystore: ${msg}`);
  }
  return privateKeyToAccount(wallet.getPrivateKeyString() as Hex);
}
