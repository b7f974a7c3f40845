// Pinning through a Kubo node's RPC API (kubo-rpc-client 7): `block/put` with the raw codec, sha2-256 and
// `pin=true`, and `block/get` with `offline=true` so that a read never turns into a network search.
// The tests here cover only the unreachable path: Kubo cannot be installed on a machine without internet.

import type { HTTPRPCOptions, KuboRPCClient } from "kubo-rpc-client";
import type { Logger } from "pino";
import {
  callSignal,
  DEFAULT_TIMEOUT_MS,
  errorText,
  type IpfsCallOptions,
  IpfsError,
  IpfsIntegrityError,
  IpfsNotFoundError,
  IpfsUnreachableError,
  type Pinner,
  parseCid,
  rawBlockCid,
  verifyBlock,
} from "./common.ts";

export interface KuboPinner extends Pinner {
  readonly kind: "kubo";
  /** The API URL, password masked. */
  readonly url: string;
  /** Asks the node its version: resolves with it, or throws IpfsUnreachableError. */
  check(opts?: IpfsCallOptions): Promise<string>;
}

export interface KuboPinnerOptions {
  /** The RPC API, e.g. `http://127.0.0.1:5001` (`/api/v0` is added); `user:password@` becomes Basic auth. */
  url: string;
  logger?: Logger;
  /** Limit on one request, sent to Kubo as its `timeout` too (default 30 s). */
  timeoutMs?: number;
}

/** A pinner on the Kubo RPC API at `opts.url`. Makes no request: `check()` (openPinner calls it) does. */
export async function createKuboPinner(opts: KuboPinnerOptions): Promise<KuboPinner> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { url, shown, headers } = splitCredentials(opts.url);
  const log = opts.logger?.child({ ipfs: "kubo", url: shown });
  const { create } = await import("kubo-rpc-client");
  let client: KuboRPCClient;
  try {
    client = create({ url, headers });
  } catch (err) {
    throw new IpfsError(`IPFS API URL ${shown} is not usable: ${errorText(err)}`, { cause: err });
  }
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new IpfsError(`the pinner for the IPFS API at ${shown} is closed`);
  };

  const failure = (err: unknown, request: string): Error => {
    if (err instanceof IpfsError) return err;
    const e = err as { name?: string; message?: string; response?: { status?: number } } | undefined;
    if (e?.name === "AbortError") return err as Error; // the caller's own signal
    if (e?.name === "HTTPError" || e?.response !== undefined) {
      const message = e?.message || `HTTP ${e?.response?.status}`;
      if (/not found|could not find/i.test(message)) {
        return new IpfsNotFoundError(`IPFS API at ${shown}: ${request}: ${message}`, { cause: err });
      }
      return new IpfsError(`IPFS API at ${shown} refused ${request}: ${message}`, { cause: err });
    }
    if (e?.name === "TimeoutError") {
      return new IpfsUnreachableError(
        `IPFS API at ${shown} unreachable: no answer to ${request} in ${timeoutMs} ms`,
        {
          cause: err,
        },
      );
    }
    return new IpfsUnreachableError(`IPFS API at ${shown} unreachable: ${describeCause(err)}`, {
      cause: err,
    });
  };

  return {
    kind: "kubo",
    url: shown,

    async check(callOpts) {
      assertOpen();
      try {
        const { version } = await client.version({
          signal: callSignal(callOpts, timeoutMs),
          timeout: timeoutMs,
        });
        log?.info({ version }, "IPFS pinner ready (Kubo RPC API)");
        return version;
      } catch (err) {
        throw failure(err, "version");
      }
    },

    async pin(bytes, callOpts) {
      assertOpen();
      const cid = await rawBlockCid(bytes);
      let stored: { toString(): string };
      try {
        stored = await client.block.put(bytes, {
          format: "raw", // the CID's codec (Kubo's `cid-codec`; `format=raw` means CIDv1 raw in every Kubo version)
          mhtype: "sha2-256",
          pin: true,
          signal: callSignal(callOpts, timeoutMs),
          timeout: timeoutMs,
        });
      } catch (err) {
        throw failure(err, "block/put");
      }
      if (stored.toString() !== cid.toString()) {
        throw new IpfsIntegrityError(
          `IPFS API at ${shown} stored the document as ${stored}, not ${cid} (CIDv1, raw, sha2-256)`,
        );
      }
      log?.debug({ cid: cid.toString(), bytes: bytes.byteLength }, "pinned");
      return cid.toString();
    },

    async get(text, callOpts) {
      assertOpen();
      const cid = parseCid(text);
      // `offline` is Kubo's global option: read the node's own store, never search the network.
      const getOpts: HTTPRPCOptions & { offline: boolean } = {
        offline: true,
        signal: callSignal(callOpts, timeoutMs),
        timeout: timeoutMs,
      };
      let bytes: Uint8Array;
      try {
        bytes = await client.block.get(cid, getOpts);
      } catch (err) {
        throw failure(err, "block/get");
      }
      await verifyBlock(cid, bytes, `the IPFS API at ${shown}`);
      return bytes;
    },

    async close() {
      closed = true;
    },
  };
}

/** The URL without `user:password@` (fetch refuses it), that pair as a Basic auth header, and a printable form. */
function splitCredentials(raw: string): { url: string; shown: string; headers: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw, shown: raw, headers: {} }; // a multiaddr, or an error kubo-rpc-client reports
  }
  const headers: Record<string, string> = {};
  if (parsed.username || parsed.password) {
    const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    parsed.username = "";
    parsed.password = "";
  }
  const url = parsed.toString();
  const bare = parsed.pathname === "/" ? url.replace(/\/$/, "") : url;
  const shown = headers.authorization ? bare.replace("://", "://***@") : bare;
  return { url: bare, shown, headers };
}

/** The reason under fetch's "fetch failed": `connect ECONNREFUSED 127.0.0.1:5001`, `getaddrinfo ENOTFOUND …`. */
function describeCause(err: unknown): string {
  let inner: unknown = (err as { cause?: unknown } | undefined)?.cause ?? err;
  if (inner instanceof AggregateError && inner.errors.length > 0) inner = inner.errors[0];
  const code = (inner as { code?: unknown } | undefined)?.code;
  const message = inner instanceof Error ? inner.message : String(inner);
  if (message) return message;
  return typeof code === "string" ? code : errorText(err);
}
