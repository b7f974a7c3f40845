import { x25519 } from "@noble/curves/ed25519";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 } from "@noble/hashes/sha2";
import { randomBytes, utf8ToBytes } from "@noble/hashes/utils";
import { type Address, bytesToHex, getAddress, type Hex, isAddress } from "viem";
import { describe, describeSecret, parseBytes } from "./input.ts";

// The borrower's x25519 session key, the one endpoint envelopes are sealed to. The dApp derives it from
// a wallet signature (personal_sign, EIP-191) over a fixed, domain-separated message naming the chain,
// the market and the account. Wallets sign deterministically (RFC 6979), so the same wallet re-derives
// the same key on any device; a user may instead paste a key of their own. The public key is what
// `Market.book(…, sessionPubKey, …)` takes as bytes32. Browser-safe: no node: imports.

/** HKDF salt of the derivation. */
export const SESSION_KEY_SALT = "computehive/session-key/v1";

/** Why a session key could not be made; `code` says which input is wrong. */
export type SessionKeyErrorCode =
  /** The signature is not 65 bytes (r || s || v) of hex, or its v is not 0, 1, 27 or 28. */
  | "bad-signature"
  /** A pasted private key is not 32 bytes. */
  | "bad-key"
  /** The chain id, market or account is malformed. */
  | "bad-input";

/** The only error the session-key functions throw for bad input. */
export class SessionKeyError extends Error {
  override name = "SessionKeyError";
  readonly code: SessionKeyErrorCode;

  constructor(code: SessionKeyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** What a derived session key is bound to. */
export interface SessionKeyContext {
  /** EVM chain id (positive integer). */
  chainId: number | bigint;
  /** The market contract's address (any letter case; checksummed in the message). */
  market: Address;
  /** The borrower's account, the one that signs (any letter case; checksummed in the message). */
  account: Address;
}

/** An x25519 key pair. `publicKeyHex` is the bytes32 `sessionPubKey` argument of `Market.book`. */
export interface SessionKey {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  publicKeyHex: Hex;
  /** The private key as 0x-hex, for a user who keeps it to paste back later. Keep it secret. */
  privateKeyHex: Hex;
}

function checkedAddress(value: unknown, what: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new SessionKeyError(
      "bad-input",
      `session key: ${what} must be a 0x-prefixed 20-byte address, got ${describe(value)}`,
    );
  }
  return getAddress(value);
}

/**
 * The exact text the wallet signs (personal_sign) to derive the session key: chain id in decimal,
 * market and account checksummed (EIP-55).
 */
export function sessionKeyMessage(context: SessionKeyContext): string {
  if (typeof context !== "object" || context === null) {
    throw new SessionKeyError(
      "bad-input",
      `session key context must be { chainId, market, account }, got ${describe(context)}`,
    );
  }
  const { chainId } = context;
  const validChain =
    (typeof chainId === "number" && Number.isSafeInteger(chainId) && chainId > 0) ||
    (typeof chainId === "bigint" && chainId > 0n && chainId < 1n << 256n);
  if (!validChain) {
    throw new SessionKeyError(
      "bad-input",
      `session key: chainId must be a positive integer, got ${describe(chainId)}`,
    );
  }
  const market = checkedAddress(context.market, "market");
  const account = checkedAddress(context.account, "account");
  return [
    "ComputeHive session key v1",
    `Chain: ${chainId}`,
    `Market: ${market}`,
    `Account: ${account}`,
    "",
    "Signing this derives the key that decrypts your GPU session endpoints. It costs nothing and sends no transaction. Sign it only on a ComputeHive site you trust.",
  ].join("\n");
}

/** The key pair of a 32-byte x25519 private key. */
function keyPair(privateKey: Uint8Array): SessionKey {
  const own = Uint8Array.from(privateKey);
  const publicKey = x25519.getPublicKey(own);
  return { privateKey: own, publicKey, publicKeyHex: bytesToHex(publicKey), privateKeyHex: bytesToHex(own) };
}

/**
 * Derives the session key from the wallet's personal_sign signature of `sessionKeyMessage(context)`:
 * privateKey = HKDF-SHA256(ikm = signature (65 bytes, v as 27/28), salt = "computehive/session-key/v1",
 * info = the message's UTF-8 bytes, 32 bytes). Throws `SessionKeyError` ("bad-signature", "bad-input").
 *
 * It does not check that `account` made the signature (that needs the wallet or a chain for smart
 * accounts); a signature by another account only yields a key that opens nothing.
 */
export function deriveSessionKey(signature: Hex | Uint8Array, context: SessionKeyContext): SessionKey {
  const bytes = parseBytes(signature);
  if (bytes === null || bytes.length !== 65) {
    throw new SessionKeyError(
      "bad-signature",
      `session key: the signature must be 65 bytes (r || s || v, 0x-prefixed hex of 130 digits, as personal_sign returns it), got ${describeSecret(signature)}`,
    );
  }
  const v = bytes[64] as number;
  if (v !== 0 && v !== 1 && v !== 27 && v !== 28) {
    throw new SessionKeyError(
      "bad-signature",
      `session key: the signature's recovery byte v must be 27 or 28 (or 0 or 1), got ${v}`,
    );
  }
  // Some wallets (hardware ones among them) return v as 0/1: normalise so every device derives the same key.
  const ikm = Uint8Array.from(bytes);
  ikm[64] = v < 27 ? v + 27 : v;
  const message = sessionKeyMessage(context);
  return keyPair(hkdf(sha256, ikm, utf8ToBytes(SESSION_KEY_SALT), utf8ToBytes(message), 32));
}

/** The key pair of a private key a user pasted: 32 bytes, or 0x-prefixed hex of 64 digits. */
export function sessionKeyFromPrivateKey(privateKey: Hex | Uint8Array): SessionKey {
  const bytes = parseBytes(privateKey);
  if (bytes === null || bytes.length !== 32) {
    throw new SessionKeyError(
      "bad-key",
      `session key: the private key must be 32 bytes (0x-prefixed hex of 64 digits), got ${describeSecret(privateKey)}`,
    );
  }
  return keyPair(bytes);
}

/** A fresh random session key (the caller keeps `privateKeyHex`; it cannot be re-derived). */
export function generateSessionKey(): SessionKey {
  return keyPair(randomBytes(32));
}
