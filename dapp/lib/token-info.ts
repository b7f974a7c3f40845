import { decodeAbiParameters, hexToNumber, isHex } from "viem";
import { type AssetInfo, isNative, NATIVE_ASSET } from "./format.ts";

// Symbol and decimals of a payment token, read with two plain eth_calls: the marketplace needs them to show
// prices, and this keeps a full chain client out of its first load.

const SYMBOL = "0x95d89b41"; // symbol()
const DECIMALS = "0x313ce567"; // decimals()

async function ethCall(
  rpcUrl: string,
  to: string,
  data: string,
  fetchImpl: typeof fetch,
): Promise<`0x${string}`> {
  const res = await fetchImpl(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to, data }, "latest"] }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error || typeof body.result !== "string" || !isHex(body.result)) {
    throw new Error(`eth_call to ${to} failed: ${body.error?.message ?? "no result"}`);
  }
  return body.result;
}

/** The token's symbol and decimals; a token that does not answer gets its short address and 18 decimals. */
export async function fetchAssetInfo(
  rpcUrl: string,
  address: string,
  fetchImpl: typeof fetch = fetch,
): Promise<AssetInfo> {
  if (isNative(address)) return NATIVE_ASSET;
  const [sym, dec] = await Promise.allSettled([
    ethCall(rpcUrl, address, SYMBOL, fetchImpl),
    ethCall(rpcUrl, address, DECIMALS, fetchImpl),
  ]);
  let symbol = `token ${address.slice(0, 6)}…${address.slice(-4)}`;
  if (sym.status === "fulfilled") {
    try {
      const [s] = decodeAbiParameters([{ type: "string" }], sym.value);
      if (/^[\w .$-]{1,16}$/.test(s)) symbol = s;
    } catch {
      // bytes32 symbols (old tokens) or garbage: keep the address
    }
  }
  let decimals = 18;
  if (dec.status === "fulfilled" && dec.value.length === 66) {
    const d = hexToNumber(dec.value);
    if (d <= 36) decimals = d;
  }
  return { address, symbol, decimals };
}
