import { xchacha20poly1305 } from "@noble/ciphers/chacha";
import { x25519 } from "@noble/curves/ed25519";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 } from "@noble/hashes/sha2";
import { concatBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils";
import { type Address, type Hex, hexToBytes, isAddress, numberToBytes } from "viem";
import { describe, describeSecret, parseBytes } from "./input.ts";

// The endpoint envelope, v1: how a lender's oracle node encrypts a booking's endpoint (host, port, user,
// SSH host-key fingerprints, SSH certificate, validity window) to the borrower's x25519 session key, and
// how the dApp opens it. The bytes go on-chain in the activation event, so they bind the chain, the
// market and the booking: an envelope replayed to another booking does not open.
//
//   envelope = 0x01 || ephemeralPublicKey (32) || nonce (24) || XChaCha20-Poly1305 ciphertext || tag (16)
//   shared   = x25519(ephemeralPrivateKey, recipientPublicKey)            (all-zero refused)
//   key      = HKDF-SHA256(ikm = shared, salt = ephemeralPublicKey || recipientPublicKey,
//                          info = "computehive/endpoint/v1", length = 32)
//   ad       = "computehive/endpoint/v1" || 0x01 || uint256be(chainId) || market (20) || uint256be(bookingId)
//
// Browser-safe: no node: imports. sdk/README.md documents the format, its errors and its use.

/** The only envelope version this SDK writes and reads. */
export const ENVELOPE_VERSION = 1;
/** Domain-separation string: the HKDF info and the prefix of the associated data. */
export const ENVELOPE_DOMAIN = "computehive/endpoint/v1";
const PUBLIC_KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Bytes an envelope adds to its plaintext (version + ephemeral key + nonce + tag): 73. */
export const ENVELOPE_OVERHEAD_BYTES = 1 + PUBLIC_KEY_BYTES + NONCE_BYTES + TAG_BYTES;
/** Largest envelope the market accepts: `Market.MAX_ENDPOINT_LENGTH`. */
export const MAX_ENDPOINT_ENVELOPE_BYTES = 4096;
/** Largest plaintext that fits in `MAX_ENDPOINT_ENVELOPE_BYTES`: 4023. */
export const MAX_ENDPOINT_PLAINTEXT_BYTES = MAX_ENDPOINT_ENVELOPE_BYTES - ENVELOPE_OVERHEAD_BYTES;

const UINT256_LIMIT = 1n << 256n;
const DOMAIN_BYTES = utf8ToBytes(ENVELOPE_DOMAIN);

/** Why an envelope could not be sealed or opened (see sdk/README.md, "Errors"). */
export type EnvelopeErrorCode =
  /** The first byte is not a version this SDK reads (only 0x01). */
  | "unsupported-version"
  /** Fewer bytes than the smallest possible envelope (73). */
  | "truncated"
  /** A key has the wrong length or form, or the recipient public key is a low-order point. */
  | "bad-key"
  /** Wrong key, altered bytes, or an envelope made for another chain, market or booking. */
  | "decrypt-failed"
  /** The envelope would exceed `MAX_ENDPOINT_ENVELOPE_BYTES`. */
  | "too-large"
  /** The endpoint is not JSON-serialisable (seal), or the opened plaintext is not UTF-8 JSON (open). */
  | "bad-json"
  /** Another argument is malformed: the context (chain id, market, booking id), hex, plaintext, nonce. */
  | "bad-input";

/** The only error the envelope functions throw for bad input; `code` says which kind. */
export class EnvelopeError extends Error {
  override name = "EnvelopeError";
  readonly code: EnvelopeErrorCode;

  constructor(code: EnvelopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** What an envelope is bound to: it opens only with the same chain, market and booking. */
export interface EnvelopeContext {
  /** EVM chain id (positive, encoded as uint256). */
  chainId: number | bigint;
  /** The market contract's address (any letter case). */
  market: Address;
  /** The booking's id in that market (uint256). */
  bookingId: bigint | number;
}

export interface SealEnvelopeOptions {
  /** The borrower's x25519 session public key: 32 bytes, or 0x-prefixed hex (the booking's `sessionPubKey`). */
  recipientPublicKey: Uint8Array | Hex;
  plaintext: Uint8Array;
  context: EnvelopeContext;
  /**
   * FOR TEST VECTORS ONLY. Production callers must not pass it: a fresh random ephemeral key is made
   * per envelope, and reusing one across envelopes weakens them.
   */
  ephemeralPrivateKey?: Uint8Array | Hex;
  /** FOR TEST VECTORS ONLY. Production callers must not pass it: a fresh random 24-byte nonce is drawn. */
  nonce?: Uint8Array | Hex;
}

export interface OpenEnvelopeOptions {
  /** The borrower's x25519 session private key: 32 bytes, or 0x-prefixed hex. */
  recipientPrivateKey: Uint8Array | Hex;
  /** The envelope bytes, or 0x-prefixed hex (as read from the activation event). */
  envelope: Uint8Array | Hex;
  context: EnvelopeContext;
}

function parseKey(value: unknown, what: string): Uint8Array {
  const bytes = parseBytes(value);
  if (bytes === null || bytes.length !== PUBLIC_KEY_BYTES) {
    throw new EnvelopeError(
      "bad-key",
      `${what} must be 32 bytes (a Uint8Array or 0x-prefixed hex of 64 digits), got ${describeSecret(value)}`,
    );
  }
  return bytes;
}

function parseUint256(value: unknown, what: string, min: bigint): bigint {
  let n: bigint | null = null;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  if (n === null || n < min || n >= UINT256_LIMIT) {
    throw new EnvelopeError(
      "bad-input",
      `envelope context: ${what} must be an integer from ${min} to 2^256 - 1 (a bigint, or a safe-integer number), got ${describe(value)}`,
    );
  }
  return n;
}

/**
 * The associated data an envelope is bound to: UTF-8 "computehive/endpoint/v1" || 0x01 ||
 * uint256be(chainId) || market (20 bytes) || uint256be(bookingId). Exported for other implementations
 * and for tests; sealing and opening compute it themselves.
 */
export function envelopeAssociatedData(context: EnvelopeContext): Uint8Array {
  if (typeof context !== "object" || context === null) {
    throw new EnvelopeError(
      "bad-input",
      `envelope context must be { chainId, market, bookingId }, got ${describe(context)}`,
    );
  }
  const chainId = parseUint256(context.chainId, "chainId", 1n);
  const bookingId = parseUint256(context.bookingId, "bookingId", 0n);
  const market: unknown = context.market;
  if (typeof market !== "string" || !isAddress(market, { strict: false })) {
    throw new EnvelopeError(
      "bad-input",
      `envelope context: market must be a 0x-prefixed 20-byte address, got ${describe(market)}`,
    );
  }
  return concatBytes(
    DOMAIN_BYTES,
    Uint8Array.of(ENVELOPE_VERSION),
    numberToBytes(chainId, { size: 32 }),
    hexToBytes(market),
    numberToBytes(bookingId, { size: 32 }),
  );
}

/** x25519 shared secret, or null when the peer key is low-order (the result would be all zero). */
function sharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    // @noble/curves throws on an all-zero result; nothing else can fail for 32-byte inputs.
    return null;
  }
  return shared.every((b) => b === 0) ? null : shared;
}

function envelopeKey(shared: Uint8Array, ephemeralPublicKey: Uint8Array, recipientPublicKey: Uint8Array) {
  return hkdf(sha256, shared, concatBytes(ephemeralPublicKey, recipientPublicKey), DOMAIN_BYTES, 32);
}

/**
 * Encrypts `plaintext` to `recipientPublicKey`, bound to `context`. Returns the v1 envelope bytes (at
 * most `MAX_ENDPOINT_ENVELOPE_BYTES`). Throws `EnvelopeError` ("bad-key", "too-large", "bad-input").
 */
export function sealEnvelope(options: SealEnvelopeOptions): Uint8Array {
  if (typeof options !== "object" || options === null) {
    throw new EnvelopeError("bad-input", `sealEnvelope takes an options object, got ${describe(options)}`);
  }
  const recipientPublicKey = parseKey(options.recipientPublicKey, "recipient public key");
  const plaintext: unknown = options.plaintext;
  if (!(plaintext instanceof Uint8Array)) {
    throw new EnvelopeError("bad-input", `plaintext must be a Uint8Array, got ${describe(plaintext)}`);
  }
  const size = ENVELOPE_OVERHEAD_BYTES + plaintext.length;
  if (size > MAX_ENDPOINT_ENVELOPE_BYTES) {
    throw new EnvelopeError(
      "too-large",
      `the endpoint envelope would be ${size} bytes, above the market's limit of ${MAX_ENDPOINT_ENVELOPE_BYTES} (MAX_ENDPOINT_LENGTH): the plaintext may be at most ${MAX_ENDPOINT_PLAINTEXT_BYTES} bytes, got ${plaintext.length}`,
    );
  }
  const associatedData = envelopeAssociatedData(options.context);

  const ephemeralPrivateKey =
    options.ephemeralPrivateKey === undefined
      ? randomBytes(32)
      : parseKey(options.ephemeralPrivateKey, "ephemeral private key");
  let nonce: Uint8Array;
  if (options.nonce === undefined) {
    nonce = randomBytes(NONCE_BYTES);
  } else {
    const parsed = parseBytes(options.nonce);
    if (parsed === null || parsed.length !== NONCE_BYTES) {
      throw new EnvelopeError("bad-input", `nonce must be 24 bytes, got ${describe(options.nonce)}`);
    }
    nonce = parsed;
  }

  const ephemeralPublicKey = x25519.getPublicKey(ephemeralPrivateKey);
  const shared = sharedSecret(ephemeralPrivateKey, recipientPublicKey);
  if (shared === null) {
    throw new EnvelopeError(
      "bad-key",
      "the recipient public key is a low-order x25519 point (the shared secret would be all zero): it is not a usable session key",
    );
  }
  const key = envelopeKey(shared, ephemeralPublicKey, recipientPublicKey);
  const sealed = xchacha20poly1305(key, nonce, associatedData).encrypt(plaintext);
  return concatBytes(Uint8Array.of(ENVELOPE_VERSION), ephemeralPublicKey, nonce, sealed);
}

/**
 * Decrypts a v1 envelope with the recipient's private key, checking that it was made for `context`.
 * Throws `EnvelopeError` ("unsupported-version", "truncated", "bad-key", "decrypt-failed", "bad-input").
 */
export function openEnvelope(options: OpenEnvelopeOptions): Uint8Array {
  if (typeof options !== "object" || options === null) {
    throw new EnvelopeError("bad-input", `openEnvelope takes an options object, got ${describe(options)}`);
  }
  const recipientPrivateKey = parseKey(options.recipientPrivateKey, "recipient private key");
  const envelope = parseBytes(options.envelope);
  if (envelope === null) {
    throw new EnvelopeError(
      "bad-input",
      `envelope must be a Uint8Array or 0x-prefixed, even-length hex, got ${describe(options.envelope)}`,
    );
  }
  const associatedData = envelopeAssociatedData(options.context);
  if (envelope.length === 0) {
    throw new EnvelopeError("truncated", "the endpoint envelope is empty");
  }
  const version = envelope[0] as number;
  if (version !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      "unsupported-version",
      `unsupported endpoint envelope version 0x${version.toString(16).padStart(2, "0")}: this SDK reads version 0x01`,
    );
  }
  if (envelope.length < ENVELOPE_OVERHEAD_BYTES) {
    throw new EnvelopeError(
      "truncated",
      `the endpoint envelope is truncated: ${envelope.length} bytes, fewer than the ${ENVELOPE_OVERHEAD_BYTES} of version, ephemeral key, nonce and tag`,
    );
  }

  const ephemeralPublicKey = envelope.subarray(1, 1 + PUBLIC_KEY_BYTES);
  const nonce = envelope.subarray(1 + PUBLIC_KEY_BYTES, 1 + PUBLIC_KEY_BYTES + NONCE_BYTES);
  const sealed = envelope.subarray(1 + PUBLIC_KEY_BYTES + NONCE_BYTES);
  const c = options.context;
  const failed = (cause?: unknown) =>
    new EnvelopeError(
      "decrypt-failed",
      `the endpoint envelope does not open: it was not made for this key and this booking (chain ${c.chainId}, market ${c.market}, booking ${c.bookingId}), or it was altered`,
      cause === undefined ? undefined : { cause },
    );

  const shared = sharedSecret(recipientPrivateKey, ephemeralPublicKey);
  // A sender never writes a low-order ephemeral key: such an envelope was forged or altered.
  if (shared === null) throw failed();
  const key = envelopeKey(shared, ephemeralPublicKey, x25519.getPublicKey(recipientPrivateKey));
  try {
    return xchacha20poly1305(key, nonce, associatedData).decrypt(sealed);
  } catch (error) {
    throw failed(error);
  }
}

/**
 * Seals an endpoint object as compact JSON (UTF-8). Same options as `sealEnvelope`, without `plaintext`.
 * Throws `EnvelopeError`; "bad-json" when the endpoint cannot be serialised.
 */
export function sealEndpoint(endpoint: object, options: Omit<SealEnvelopeOptions, "plaintext">): Uint8Array {
  let json: string | undefined;
  try {
    json = typeof endpoint === "object" && endpoint !== null ? JSON.stringify(endpoint) : undefined;
  } catch (error) {
    throw new EnvelopeError("bad-json", `the endpoint cannot be serialised as JSON: ${String(error)}`, {
      cause: error,
    });
  }
  if (json === undefined) {
    throw new EnvelopeError("bad-json", `the endpoint must be a JSON object, got ${describe(endpoint)}`);
  }
  return sealEnvelope({ ...options, plaintext: utf8ToBytes(json) });
}

/**
 * Opens an envelope made by `sealEndpoint` and returns the parsed JSON (check its shape before use).
 * Throws `EnvelopeError`; "bad-json" when the plaintext is not UTF-8 JSON.
 */
export function openEndpoint(options: OpenEnvelopeOptions): unknown {
  const plaintext = openEnvelope(options);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  } catch (error) {
    throw new EnvelopeError(
      "bad-json",
      `the endpoint envelope opened, but its plaintext is not UTF-8 JSON: ${String(error)}`,
      { cause: error },
    );
  }
}
