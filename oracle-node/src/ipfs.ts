// Session reports are pinned to IPFS and their CID goes on-chain, so anyone can check the content against it.
// With an IPFS API URL configured they go to that Kubo node through its RPC API; without one, to an embedded
// Helia node that keeps them on disk under `dir` and never touches the network. Either way the CID is the
// sdk's `rawCid(bytes)`: CIDv1, raw codec, sha2-256, one block per document.

import type { Logger } from "pino";
import { DEFAULT_TIMEOUT_MS } from "./ipfs/common.ts";
import { type HeliaPinner, openHeliaPinner } from "./ipfs/helia.ts";
import { createKuboPinner, type KuboPinner } from "./ipfs/kubo.ts";

export {
  DEFAULT_TIMEOUT_MS,
  type IpfsCallOptions,
  IpfsError,
  IpfsIntegrityError,
  IpfsNotFoundError,
  IpfsUnreachableError,
  MAX_BLOCK_BYTES,
  type Pinner,
} from "./ipfs/common.ts";
export { type HeliaPinner, openHeliaPinner } from "./ipfs/helia.ts";
export { createKuboPinner, type KuboPinner } from "./ipfs/kubo.ts";

export interface OpenPinnerOptions {
  /** Kubo's RPC API (e.g. `http://127.0.0.1:5001`); unset or empty: the embedded Helia node. */
  ipfsApiUrl?: string;
  /** The embedded node's store (unused with Kubo). */
  dir: string;
  logger?: Logger;
  /** Limit on one call (default 30 s). */
  timeoutMs?: number;
}

/**
 * The pinner the configuration asks for. With `ipfsApiUrl`, asks the node its version first and throws
 * IpfsUnreachableError ("IPFS API at <url> unreachable: …") if it does not answer.
 */
export async function openPinner(opts: OpenPinnerOptions): Promise<KuboPinner | HeliaPinner> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = opts.ipfsApiUrl?.trim();
  if (!url) return openHeliaPinner({ dir: opts.dir, logger: opts.logger, timeoutMs });
  const kubo = await createKuboPinner({ url, logger: opts.logger, timeoutMs });
  try {
    await kubo.check();
  } catch (err) {
    await kubo.close();
    throw err;
  }
  return kubo;
}
