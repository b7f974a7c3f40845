/**
 * Input checking shared by the envelope and the session key: what a value is, in words, for error messages
 * (never echoing a secret), and bytes from a Uint8Array or hex. Internal to the sdk.
 */
import { hexToBytes, isHex } from "viem";

/** What `value` is, in words, for an error message; long strings are only measured. */
export function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === "string") {
    return value.length > 80 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Like `describe`, without echoing the value: keys and signatures are secret. */
export function describeSecret(value: unknown): string {
  return typeof value === "string" ? `a string of ${value.length} characters` : describe(value);
}

/** Bytes from a Uint8Array or 0x-prefixed, even-length hex; null for anything else. */
export function parseBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string" && value.length % 2 === 0 && isHex(value, { strict: true })) {
    return hexToBytes(value);
  }
  return null;
}
