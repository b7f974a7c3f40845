import { type Address, getAddress, isAddress } from "viem";

// The runtime configuration the browser gets from `/api/config` (app/api/config/route.ts): one build of the
// dApp serves any deployment, so nothing here is baked in at build time.

export interface RuntimeConfig {
  chainId: number;
  /** JSON-RPC URL the browser reads the chain through (the wallet sends transactions through its own). */
  rpcUrl: string;
  /** The market contract. */
  market: Address;
  /** The block the market was created in: logs are read from here. */
  startBlock: number;
  /** graph-node's query URL of the ComputeHive subgraph (or the embedded host's). */
  subgraphUrl: string;
  /** Calendar slot length in seconds (a deployment constant). */
  slotLength: number;
  /** WalletConnect Cloud project id; null keeps WalletConnect (which calls out to its relay) off. */
  walletConnectProjectId: string | null;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function httpUrl(v: unknown, field: string): string {
  if (typeof v !== "string") throw new ConfigError(`configuration: ${field} must be a URL`);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(`configuration: ${field} is not a valid URL ("${v}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`configuration: ${field} must be an http(s) URL ("${v}")`);
  }
  return v;
}

function positiveInt(v: unknown, field: string, allowZero = false): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || (!allowZero && v === 0)) {
    throw new ConfigError(
      `configuration: ${field} must be a ${allowZero ? "non-negative" : "positive"} integer`,
    );
  }
  return v;
}

/** Checks what `/api/config` answered. Throws ConfigError naming the bad field. */
export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  if (!isRecord(value)) throw new ConfigError("configuration: expected a JSON object");
  if (typeof value.error === "string")
    throw new ConfigError(`the server has no usable configuration: ${value.error}`);
  const market = value.market;
  if (typeof market !== "string" || !isAddress(market, { strict: false })) {
    throw new ConfigError("configuration: market must be an address");
  }
  const wc = value.walletConnectProjectId;
  return {
    chainId: positiveInt(value.chainId, "chainId"),
    rpcUrl: httpUrl(value.rpcUrl, "rpcUrl"),
    market: getAddress(market),
    startBlock: positiveInt(value.startBlock, "startBlock", true),
    subgraphUrl: httpUrl(value.subgraphUrl, "subgraphUrl"),
    slotLength: positiveInt(value.slotLength, "slotLength"),
    walletConnectProjectId: typeof wc === "string" && wc.trim() !== "" ? wc.trim() : null,
  };
}

/** Fetches and checks the runtime configuration from the dApp's own server. */
export async function fetchRuntimeConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  let res: Response;
  try {
    res = await fetchImpl("/api/config", { cache: "no-store" });
  } catch (e) {
    throw new ConfigError(`cannot reach the dApp's server for its configuration (${(e as Error).message})`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ConfigError(`the configuration endpoint answered HTTP ${res.status} without JSON`);
  }
  return parseRuntimeConfig(body);
}
