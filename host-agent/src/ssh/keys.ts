/**
 * The borrower's SSH public key, as it arrives in the market's `Booked` event (`bytes sshPubKey`), checked
 * before the agent signs anything. A key that fails is declined on-chain with one of the reason codes of
 * `contracts/src/libraries/DeclineReason.sol`, mirrored in `../decline-reason.ts`.
 */
import { createPublicKey, type JsonWebKey } from "node:crypto";
import sshpk from "sshpk";
import { DeclineReason } from "../decline-reason.ts";
import { bitLength, decodeBase64Strict, SshReader, sha256Fingerprint, WireError } from "./wire.ts";

export { DeclineReason };

/** The codes this module can give. */
export type SshKeyDeclineName =
  | "SSH_KEY_MALFORMED"
  | "SSH_KEY_UNSUPPORTED_TYPE"
  | "SSH_KEY_TOO_WEAK"
  | "SSH_KEY_TOO_LONG";

/**
 * Longest key line accepted, in bytes, comment and line ending included: `Market.MAX_SSH_KEY_LENGTH`
 * (1024), so the agent never accepts what `book` could not carry and never declines what it could for
 * length alone. It fits every accepted type with a modest comment (an RSA key up to about 5,600 bits);
 * RSA 8192 does not fit and gets SSH_KEY_TOO_LONG.
 */
export const MAX_SSH_KEY_LINE_BYTES = 1024;

/** Smallest RSA modulus accepted (NIST SP 800-57: 128-bit security). */
export const MIN_RSA_BITS = 3072;

export const ACCEPTED_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;
export type AcceptedKeyType = (typeof ACCEPTED_KEY_TYPES)[number];

const EC_CURVES = {
  nistp256: { jwk: "P-256", bits: 256, coord: 32 },
  nistp384: { jwk: "P-384", bits: 384, coord: 48 },
  nistp521: { jwk: "P-521", bits: 521, coord: 66 },
} as const;

export interface BorrowerKey {
  ok: true;
  /** The parsed key, ready to be the subject of a certificate. */
  key: sshpk.Key;
  type: AcceptedKeyType;
  /** ed25519: 256; ECDSA: the curve size; RSA: the modulus length. */
  bits: number;
  /** `SHA256:…` exactly as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** `type base64`, without the comment. */
  publicKey: string;
  /** The comment from the line (informational only; never used for a decision). */
  comment: string;
}

export interface KeyDecline {
  ok: false;
  /** The on-chain reason code (2..5). */
  reason: (typeof DeclineReason)[SshKeyDeclineName];
  code: SshKeyDeclineName;
  /** Human-readable detail for the agent's log (not put on-chain). */
  message: string;
}

export type KeyValidation = BorrowerKey | KeyDecline;

function decline(code: SshKeyDeclineName, message: string): KeyDecline {
  return { ok: false, reason: DeclineReason[code], code, message };
}

const isAccepted = (t: string): t is AcceptedKeyType => (ACCEPTED_KEY_TYPES as readonly string[]).includes(t);

/** Why a well-formed but unaccepted key type is refused (for the log). */
function unsupportedWhy(type: string): string {
  if (/-cert-v0[01]@openssh\.com$/.test(type)) {
    return `${type} is a certificate; send the plain public key (the host signs its own certificate)`;
  }
  if (type === "ssh-dss") return "ssh-dss (DSA) keys are obsolete and disabled by OpenSSH";
  if (type.startsWith("sk-")) {
    return `${type} is a FIDO security key; only ${ACCEPTED_KEY_TYPES.join(", ")} are accepted`;
  }
  return `key type ${type} is not accepted; use one of ${ACCEPTED_KEY_TYPES.join(", ")}`;
}

/**
 * Checks one OpenSSH public key line (`type base64 [comment]`, as in `id_ed25519.pub`), given as the raw
 * event bytes or a string. Order of checks: length (TOO_LONG) → line shape and base64 (MALFORMED) → the
 * type named in the line must equal the type inside the blob (MALFORMED) → the type must be accepted
 * (UNSUPPORTED_TYPE; certificates, DSA and FIDO `sk-` keys included) → the blob must parse completely with
 * no trailing bytes and a valid key (MALFORMED) → RSA under 3072 bits (TOO_WEAK).
 *
 * One trailing `\n` or `\r\n` is tolerated (a pasted `.pub` file); any other line break is MALFORMED.
 */
export function validateBorrowerKey(line: string | Uint8Array): KeyValidation {
  const raw = typeof line === "string" ? Buffer.from(line, "utf8") : Buffer.from(line);
  if (raw.length === 0) return decline("SSH_KEY_MALFORMED", "empty key");
  if (raw.length > MAX_SSH_KEY_LINE_BYTES) {
    return decline("SSH_KEY_TOO_LONG", `key line is ${raw.length} bytes; at most ${MAX_SSH_KEY_LINE_BYTES}`);
  }
  let end = raw.length;
  if (raw[end - 1] === 0x0a) end -= raw[end - 2] === 0x0d ? 2 : 1;
  const body = raw.subarray(0, end);
  for (const c of body) {
    if (c === 0x0a || c === 0x0d) return decline("SSH_KEY_MALFORMED", "more than one line");
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      return decline("SSH_KEY_MALFORMED", `control byte 0x${c.toString(16).padStart(2, "0")} in the line`);
    }
  }
  // Bytes ≥ 0x80 can only be in the comment (the type and base64 must be ASCII, checked below).
  const text = body.toString("utf8").replace(/^[ \t]+|[ \t]+$/g, "");
  const m = /^(\S+)(?:[ \t]+(\S+)(?:[ \t]+(.*))?)?$/s.exec(text);
  const outerType = m?.[1];
  const b64 = m?.[2];
  if (outerType === undefined || b64 === undefined) {
    return decline("SSH_KEY_MALFORMED", "expected `type base64 [comment]`");
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9@._+-]*$/.test(outerType)) {
    return decline("SSH_KEY_MALFORMED", "the first field is not a key type (options before the key?)");
  }
  const blob = decodeBase64Strict(b64);
  if (blob === null) return decline("SSH_KEY_MALFORMED", "the key data is not valid base64");

  const r = new SshReader(blob);
  let innerType: string;
  try {
    innerType = r.ascii();
  } catch (e) {
    return decline("SSH_KEY_MALFORMED", `key blob: ${(e as Error).message}`);
  }
  if (innerType !== outerType) {
    return decline("SSH_KEY_MALFORMED", `the line says ${outerType} but the key blob is ${innerType}`);
  }
  if (!isAccepted(innerType)) return decline("SSH_KEY_UNSUPPORTED_TYPE", unsupportedWhy(innerType));
  const type = innerType;

  let bits: number;
  try {
    bits = checkKeyBody(type, r);
    if (!r.atEnd) throw new WireError(`${r.remaining} trailing bytes after the key`);
  } catch (e) {
    return decline("SSH_KEY_MALFORMED", `${type} key: ${(e as Error).message}`);
  }
  if (type === "ssh-rsa" && bits < MIN_RSA_BITS) {
    return decline("SSH_KEY_TOO_WEAK", `RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
  }

  const publicKey = `${type} ${b64}`;
  let key: sshpk.Key;
  try {
    key = sshpk.parseKey(publicKey, "ssh");
  } catch (e) {
    return decline("SSH_KEY_MALFORMED", `key does not parse: ${(e as Error).message}`);
  }
  return {
    ok: true,
    key,
    type,
    bits,
    fingerprint: sha256Fingerprint(blob),
    publicKey,
    comment: m?.[3] ?? "",
  };
}

/** Parses the type-specific part of the blob (after the type name); returns the key size in bits. */
function checkKeyBody(type: AcceptedKeyType, r: SshReader): number {
  if (type === "ssh-ed25519") {
    const pk = r.bytes();
    if (pk.length !== 32) throw new WireError(`public key is ${pk.length} bytes, not 32`);
    return 256;
  }
  if (type === "ssh-rsa") {
    const e = r.positiveMpint();
    const n = r.positiveMpint();
    if (e.length > 8 || bitLength(e) < 2 || ((e.at(-1) as number) & 1) === 0) {
      throw new WireError("public exponent is not an odd number of at most 64 bits above 1");
    }
    if (((n.at(-1) as number) & 1) === 0) throw new WireError("modulus is even");
    importJwk({ kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") });
    return bitLength(n);
  }
  const curveName = type.slice("ecdsa-sha2-".length) as keyof typeof EC_CURVES;
  const curve = EC_CURVES[curveName];
  const inner = r.ascii();
  if (inner !== curveName) throw new WireError(`curve field says ${inner}`);
  const q = r.bytes();
  if (q.length !== 1 + 2 * curve.coord || q[0] !== 0x04) {
    throw new WireError("public point is not an uncompressed point on the curve");
  }
  // Node (OpenSSL) refuses a point that is not on the curve.
  importJwk({
    kty: "EC",
    crv: curve.jwk,
    x: q.subarray(1, 1 + curve.coord).toString("base64url"),
    y: q.subarray(1 + curve.coord).toString("base64url"),
  });
  return curve.bits;
}

function importJwk(jwk: JsonWebKey): void {
  try {
    createPublicKey({ key: jwk, format: "jwk" });
  } catch (e) {
    throw new WireError(`not a valid public key (${(e as Error).message})`);
  }
}
