// The market's native/USD rate: Market.usdFeed() (an AggregatorV3 feed; a MockV3Aggregator on local chains) read
// with viem. Browser-safe. Null when the market has no feed: prices then stay in native currency.
import type { Address, PublicClient } from "viem";
import { marketAbi, mockV3AggregatorAbi } from "../generated.ts";

export interface NativeUsd {
  /** USD per whole native coin. */
  usd: number;
  feed: Address;
  /** Unix seconds of the feed's latest answer. */
  updatedAt: number;
}

export async function readNativeUsd(client: PublicClient, market: Address): Promise<NativeUsd | null> {
  const feed = await client.readContract({ address: market, abi: marketAbi, functionName: "usdFeed" });
  if (/^0x0{40}$/i.test(feed)) return null;
  const [round, decimals] = await Promise.all([
    client.readContract({ address: feed, abi: mockV3AggregatorAbi, functionName: "latestRoundData" }),
    client.readContract({ address: feed, abi: mockV3AggregatorAbi, functionName: "decimals" }),
  ]);
  const answer = round[1];
  if (answer <= 0n) return null;
  return { usd: Number(answer) / 10 ** Number(decimals), feed, updatedAt: Number(round[3]) };
}
