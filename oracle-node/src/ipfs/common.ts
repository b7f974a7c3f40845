// What both pinners share: the one kind of CID ComputeHive puts on-chain (CIDv1, raw codec, sha2-256, the
// `rawCid` of @computehive/sdk), the size cap of one block, the content check on every read, and the errors.

import { rawCid } from "@computehive/sdk";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

export interface IpfsCallOptions {
  /** Cancels the call; it is also bounded by the pinner's own time limit. */
  signal?: AbortSignal;
}

export interface Pinner {
  readonly kind: "kubo" | "helia";
  /**
   * Stores `bytes` as one raw block and pins it. Resolves with its CID, always `rawCid(bytes)` (CIDv1, raw,
   * sha2-256, base32 `bafkrei…`), once the bytes and the pin are stored durably; pinning the same bytes again
   * is a no-op that returns the same CID.
   */
  pin(bytes: Uint8Array, opts?: IpfsCallOptions): Promise<string>;
  /** The bytes stored under `cid`, checked to hash to it: throws IpfsIntegrityError if they do not. */
  get(cid: string, opts?: IpfsCallOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * The largest document a pinner takes: one raw block, and Kubo refuses blocks over 1 MiB (bitswap does not
 * carry them). A report is one block so that its CID is `rawCid(bytes)` whichever store holds it.
 */
export const MAX_BLOCK_BYTES = 1024 * 1024;

/** The default limit on one call (an IPFS API request, a read of the local store). */
export const DEFAULT_TIMEOUT_MS = 30_000;

export class IpfsError extends Error {
  override name = "IpfsError";
}

/** The IPFS API could not be reached (connection refused, unknown host, no answer in time). Worth a retry. */
export class IpfsUnreachableError extends IpfsError {
  override name = "IpfsUnreachableError";
}

/** No content under that CID in the store asked. */
export class IpfsNotFoundError extends IpfsError {
  override name = "IpfsNotFoundError";
}

/** Content that does not hash to its CID, or a CID that is not the one the bytes give. */
export class IpfsIntegrityError extends IpfsError {
  override name = "IpfsIntegrityError";
}

/** The CID of `bytes` as multiformats builds it, checked to be the sdk's `rawCid(bytes)`. */
export async function rawBlockCid(bytes: Uint8Array): Promise<CID> {
  if (bytes.byteLength > MAX_BLOCK_BYTES) {
    throw new IpfsError(
      `document is ${bytes.byteLength} bytes; one raw IPFS block holds at most ${MAX_BLOCK_BYTES} bytes`,
    );
  }
  const cid = CID.createV1(raw.code, await sha256.digest(bytes));
  const expected = rawCid(bytes);
  if (cid.toString() !== expected) {
    throw new IpfsIntegrityError(`multiformats gives ${cid} but rawCid gives ${expected} for the same bytes`);
  }
  return cid;
}

export function parseCid(text: string): CID {
  try {
    return CID.parse(text);
  } catch (err) {
    throw new IpfsError(`not a CID: ${JSON.stringify(text)} (${errorText(err)})`, { cause: err });
  }
}

/** Throws IpfsIntegrityError unless `bytes` hash to `cid` (whose hash must be sha2-256). */
export async function verifyBlock(cid: CID, bytes: Uint8Array, source: string): Promise<void> {
  if (cid.multihash.code !== sha256.code) {
    throw new IpfsIntegrityError(
      `cannot check ${cid} from ${source}: its hash function 0x${cid.multihash.code.toString(16)} is not sha2-256`,
    );
  }
  const digest = await sha256.digest(bytes);
  if (!sameBytes(digest.digest, cid.multihash.digest)) {
    throw new IpfsIntegrityError(
      `content of ${cid} from ${source} is corrupt: its ${bytes.byteLength} bytes hash to ${rawCid(bytes)}`,
    );
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The chunks as one plain Uint8Array (not a Buffer, whatever the chunks are). */
export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const only = chunks.length === 1 ? chunks[0] : undefined;
  if (only) return new Uint8Array(only.buffer, only.byteOffset, only.byteLength);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The caller's signal, bounded by `timeoutMs`. */
export function callSignal(opts: IpfsCallOptions | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return opts?.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
