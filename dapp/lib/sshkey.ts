import { ed25519 } from "@noble/curves/ed25519";
import { p256 } from "@noble/curves/p256";
import { p384 } from "@noble/curves/p384";
import { p521 } from "@noble/curves/p521";
import { sha256 } from "viem";

// OpenSSH keys in the browser. A borrower without an SSH key gets an ed25519 pair made here: the public key
// line (`ssh-ed25519 AAAA… comment`) goes into `book`, the private key is offered as a download in OpenSSH's
// own `openssh-key-v1` format, which `ssh` reads as is. Written by hand because the usual library (sshpk) is
// Node-only (Buffer, node:crypto), and the format is small: PROTOCOL.key in OpenSSH's sources. ssh-keygen
// checks the output in test/sshkey.test.ts.
//
// A pasted public key is checked the way the host agent will check it (host-agent/src/ssh/keys.ts), so that
// a key the host would decline is refused here, before any money moves.

/* Wire encoding (RFC 4251 §5) */

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

function sshString(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return concat([u32(bytes.length), bytes]);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1] ?? 0;
    const c = bytes[i + 2] ?? 0;
    const n = (a << 16) | (b << 8) | c;
    out += B64[(n >> 18) & 63];
    out += B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}

/** Strict base64 (canonical padding, no whitespace); null when malformed. */
export function base64Decode(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const v = [0, 1, 2, 3].map((k) => {
      const ch = text[i + k] ?? "=";
      return ch === "=" ? 0 : B64.indexOf(ch);
    });
    const n = ((v[0] ?? 0) << 18) | ((v[1] ?? 0) << 12) | ((v[2] ?? 0) << 6) | (v[3] ?? 0);
    const bytes = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    for (const byte of bytes) if (o < out.length) out[o++] = byte;
  }
  // Canonical: re-encoding gives the same text (no stray bits in the padding).
  return base64Encode(out) === text ? out : null;
}

/* ed25519 key pair and its OpenSSH encodings */

export interface Ed25519KeyPair {
  /** The 32-byte seed (RFC 8032 private key). */
  seed: Uint8Array;
  publicKey: Uint8Array;
}

export function generateEd25519(): Ed25519KeyPair {
  const seed = ed25519.utils.randomPrivateKey();
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new RangeError("an ed25519 seed is 32 bytes");
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

function ed25519Blob(publicKey: Uint8Array): Uint8Array {
  return concat([sshString("ssh-ed25519"), sshString(publicKey)]);
}

/** `ssh-ed25519 AAAA… comment`, as in id_ed25519.pub (no line ending). */
export function ed25519PublicKeyLine(publicKey: Uint8Array, comment = ""): string {
  const line = `ssh-ed25519 ${base64Encode(ed25519Blob(publicKey))}`;
  return comment ? `${line} ${comment}` : line;
}

/**
 * The private key file in OpenSSH's format (`-----BEGIN OPENSSH PRIVATE KEY-----`), unencrypted, as
 * `ssh-keygen -t ed25519 -N ''` writes it. `checkInt` is random by default (tests fix it).
 */
export function ed25519PrivateKeyPem(pair: Ed25519KeyPair, comment = "", checkInt?: number): string {
  const check = checkInt ?? new DataView(crypto.getRandomValues(new Uint8Array(4)).buffer).getUint32(0);
  const blob = ed25519Blob(pair.publicKey);
  const body = [
    u32(check),
    u32(check),
    sshString("ssh-ed25519"),
    sshString(pair.publicKey),
    // OpenSSH stores the 64-byte "secret key" of ref10: seed ‖ public key.
    sshString(concat([pair.seed, pair.publicKey])),
    sshString(comment),
  ];
  let privateSection = concat(body);
  // Padded with 1, 2, 3, … to the cipher's block size (8 for "none").
  const padLength = (8 - (privateSection.length % 8)) % 8;
  privateSection = concat([privateSection, Uint8Array.from({ length: padLength }, (_, i) => i + 1)]);
  const key = concat([
    utf8("openssh-key-v1\0"),
    sshString("none"), // cipher
    sshString("none"), // kdf
    sshString(""), // kdf options
    u32(1), // number of keys
    sshString(blob),
    sshString(privateSection),
  ]);
  const b64 = base64Encode(key);
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprintOfBlob(blob: Uint8Array): string {
  return `SHA256:${base64Encode(sha256(blob, "bytes")).replace(/=+$/, "")}`;
}

/* Checking a pasted public key */

/** Host-agent decline codes (contracts/src/libraries/DeclineReason.sol) a key can earn. */
export type KeyProblemCode =
  | "SSH_KEY_MALFORMED"
  | "SSH_KEY_UNSUPPORTED_TYPE"
  | "SSH_KEY_TOO_WEAK"
  | "SSH_KEY_TOO_LONG";

export type PublicKeyCheck =
  | {
      ok: true;
      type: string;
      bits: number;
      fingerprint: string;
      publicKey: string;
      comment: string;
      line: string;
    }
  | { ok: false; code: KeyProblemCode; message: string };

/** Market.MAX_SSH_KEY_LENGTH, and what the host agent accepts. */
export const MAX_SSH_KEY_LINE_BYTES = 1024;
export const MIN_RSA_BITS = 3072;
export const ACCEPTED_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;

class Reader {
  private o = 0;
  constructor(private readonly b: Uint8Array) {}
  bytes(): Uint8Array {
    if (this.o + 4 > this.b.length) throw new Error("truncated");
    const n = new DataView(this.b.buffer, this.b.byteOffset + this.o, 4).getUint32(0);
    this.o += 4;
    if (this.o + n > this.b.length) throw new Error("truncated");
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  ascii(): string {
    const b = this.bytes();
    if (b.some((c) => c < 0x20 || c > 0x7e)) throw new Error("not ASCII");
    return String.fromCharCode(...b);
  }
  done(): boolean {
    return this.o === this.b.length;
  }
}

function bitLength(mpint: Uint8Array): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i] ?? 0));
}

const problem = (code: KeyProblemCode, message: string): PublicKeyCheck => ({ ok: false, code, message });

const CURVES = { nistp256: [p256, 256], nistp384: [p384, 384], nistp521: [p521, 521] } as const;

/**
 * Checks one OpenSSH public key line (`type base64 [comment]`, a pasted `.pub` file), in the host agent's
 * order: length → shape and base64 → the type inside the blob → an accepted type → the key itself → RSA size.
 */
export function checkPublicKeyLine(input: string): PublicKeyCheck {
  const raw = utf8(input);
  if (raw.length === 0 || input.trim() === "")
    return problem("SSH_KEY_MALFORMED", "Paste a public key line (the contents of a .pub file).");
  if (raw.length > MAX_SSH_KEY_LINE_BYTES) {
    return problem(
      "SSH_KEY_TOO_LONG",
      `The key line is ${raw.length} bytes; at most ${MAX_SSH_KEY_LINE_BYTES} fit on-chain.`,
    );
  }
  const body = input.replace(/\r?\n$/, "");
  if (/[\r\n]/.test(body)) return problem("SSH_KEY_MALFORMED", "Paste one key on one line.");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(body))
    return problem("SSH_KEY_MALFORMED", "The line contains control characters.");
  const text = body.replace(/^[ \t]+|[ \t]+$/g, "");
  const m = /^(\S+)(?:[ \t]+(\S+)(?:[ \t]+(.*))?)?$/s.exec(text);
  const outerType = m?.[1];
  const b64 = m?.[2];
  if (outerType === undefined || b64 === undefined) {
    return problem(
      "SSH_KEY_MALFORMED",
      "Expected `type base64 [comment]`, e.g. `ssh-ed25519 AAAA… you@laptop`.",
    );
  }
  if (outerType.startsWith("-----BEGIN")) {
    return problem(
      "SSH_KEY_MALFORMED",
      "This looks like a PRIVATE key. Never paste it anywhere: paste the .pub file instead.",
    );
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9@._+-]*$/.test(outerType)) {
    return problem("SSH_KEY_MALFORMED", "The first field is not a key type (options before the key?).");
  }
  const blob = base64Decode(b64);
  if (blob === null) return problem("SSH_KEY_MALFORMED", "The key data is not valid base64.");
  const r = new Reader(blob);
  let innerType: string;
  try {
    innerType = r.ascii();
  } catch (e) {
    return problem("SSH_KEY_MALFORMED", `The key data does not parse (${(e as Error).message}).`);
  }
  if (innerType !== outerType) {
    return problem("SSH_KEY_MALFORMED", `The line says ${outerType} but the key data is ${innerType}.`);
  }
  if (!(ACCEPTED_KEY_TYPES as readonly string[]).includes(innerType)) {
    const why = /-cert-v0[01]@openssh\.com$/.test(innerType)
      ? "is a certificate; paste the plain public key"
      : innerType === "ssh-dss"
        ? "(DSA) is obsolete"
        : innerType.startsWith("sk-")
          ? "is a FIDO security key, which the hosts do not accept"
          : "is not accepted";
    return problem(
      "SSH_KEY_UNSUPPORTED_TYPE",
      `${innerType} ${why}. Use ed25519, ECDSA or RSA (≥ ${MIN_RSA_BITS} bits).`,
    );
  }
  let bits: number;
  try {
    if (innerType === "ssh-ed25519") {
      if (r.bytes().length !== 32) throw new Error("an ed25519 key is 32 bytes");
      bits = 256;
    } else if (innerType === "ssh-rsa") {
      const e = r.bytes();
      const n = r.bytes();
      if (bitLength(e) === 0 || (n[0] ?? 0) & 0x80) throw new Error("bad RSA numbers");
      bits = bitLength(n);
    } else {
      const curveName = r.ascii() as keyof typeof CURVES;
      const curve = CURVES[curveName];
      if (!curve || innerType !== `ecdsa-sha2-${curveName}`)
        throw new Error("the curve does not match the type");
      curve[0].ProjectivePoint.fromHex(r.bytes());
      bits = curve[1];
    }
    if (!r.done()) throw new Error("trailing bytes");
  } catch (e) {
    return problem("SSH_KEY_MALFORMED", `The key data does not parse (${(e as Error).message}).`);
  }
  if (innerType === "ssh-rsa" && bits < MIN_RSA_BITS) {
    return problem(
      "SSH_KEY_TOO_WEAK",
      `This RSA key has ${bits} bits; hosts need at least ${MIN_RSA_BITS}. An ed25519 key is better.`,
    );
  }
  return {
    ok: true,
    type: innerType,
    bits,
    fingerprint: fingerprintOfBlob(blob),
    publicKey: `${innerType} ${b64}`,
    comment: m?.[3] ?? "",
    line: text,
  };
}
