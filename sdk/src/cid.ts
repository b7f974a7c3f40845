import { sha256 } from "viem";

// CIDv1 of raw bytes: the content address IPFS gives a single-block file added with
// `ipfs add --cid-version 1 --raw-leaves` (multicodec `raw`, multihash sha2-256, multibase base32 lower-case).

const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** CIDv1 (raw, sha2-256, base32 — the `bafkrei…` form) of `content`. */
export function rawCid(content: Uint8Array | string): string {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const digest = sha256(bytes, "bytes");
  const cid = new Uint8Array(4 + digest.length);
  cid.set([0x01, RAW_CODEC, SHA2_256, digest.length]);
  cid.set(digest, 4);
  return `b${base32(cid)}`;
}
