/**
 * The price model on a lender's machine: trained from the subgraph on demand, kept as one JSON file, used to
 * suggest a listing's price. The model itself is the sdk's (sdk/src/ai/pricing.ts); this file only finds the
 * market (subgraph, RPC, feed), reads the history, trains, and keeps the result.
 *
 * Where things come from, first found wins:
 *   subgraph  --subgraph URL, env COMPUTEHIVE_SUBGRAPH_URL, .computehive/local-stack.json (written by `npm start`)
 *   rpc       --rpc URL,      env COMPUTEHIVE_RPC_URL,      .computehive/local-stack.json
 *   model     --model FILE,   env COMPUTEHIVE_PRICE_MODEL,  .computehive/pricing/model.json
 *   market    --market 0x…,   .computehive/local-stack.json, deployments/<chainId of the rpc>.json
 * `--offline` (flag `offline`) drops subgraph, rpc and market: no market is asked, even when a local stack runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  fetchModelDays,
  fetchPriceHistory,
  type NativeUsd,
  PriceModel,
  type PriceModelJson,
  readNativeUsd,
  type TrainReport,
  utilizationBefore,
} from "@computehive/sdk/ai";
import { loadDeployment } from "@computehive/sdk/node";
import { type Address, createPublicClient, http, type PublicClient } from "viem";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface MarketSources {
  subgraphUrl: string | null;
  rpcUrl: string | null;
  market: Address | null;
  modelPath: string;
}

function localStack(): { subgraphUrl?: string; rpcUrl?: string; market?: Address } {
  const p = join(REPO_ROOT, ".computehive", "local-stack.json");
  if (!existsSync(p)) return {};
  try {
    return JSON.parse(readFileSync(p, "utf8"));
  } catch {
    return {};
  }
}

/** With `offline`, no market at all (no subgraph, RPC or market address from anywhere): the model file or the prior. */
export function marketSources(
  flags: { subgraph?: string; rpc?: string; market?: string; model?: string; offline?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): MarketSources {
  const nonEmpty = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);
  const modelPath =
    nonEmpty(flags.model) ??
    nonEmpty(env.COMPUTEHIVE_PRICE_MODEL) ??
    join(REPO_ROOT, ".computehive", "pricing", "model.json");
  if (flags.offline) return { subgraphUrl: null, rpcUrl: null, market: null, modelPath };
  const stack = localStack();
  return {
    subgraphUrl:
      nonEmpty(flags.subgraph) ?? nonEmpty(env.COMPUTEHIVE_SUBGRAPH_URL) ?? stack.subgraphUrl ?? null,
    rpcUrl: nonEmpty(flags.rpc) ?? nonEmpty(env.COMPUTEHIVE_RPC_URL) ?? stack.rpcUrl ?? null,
    market: ((nonEmpty(flags.market) ?? stack.market ?? null) as Address | null) || null,
    modelPath,
  };
}

export async function loadModel(path: string): Promise<PriceModel | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  return PriceModel.load(JSON.parse(text) as PriceModelJson);
}

/** Writes the model atomically (temporary file, then rename): a crash leaves the old model or the new one. */
export async function saveModel(path: string, model: PriceModel): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(model.toJSON())}\n`);
  await rename(tmp, path);
}

/**
 * The market's native/USD rate over RPC; null without an RPC or when the market has no feed. Without a market
 * address it is the one in deployments/<chainId>.json (the chain id asked of the RPC), as the oracle CLI finds it.
 */
export async function nativeUsdOf(src: MarketSources): Promise<NativeUsd | null> {
  if (!src.rpcUrl) return null;
  const client = createPublicClient({ transport: http(src.rpcUrl, { retryCount: 0, timeout: 5_000 }) });
  const market =
    src.market ?? (await loadDeployment(await client.getChainId(), join(REPO_ROOT, "deployments"))).market;
  return readNativeUsd(client as PublicClient, market);
}

export interface Trained {
  model: PriceModel | null;
  report: TrainReport;
  nativeUsd: NativeUsd | null;
  skipped: Record<string, number>;
}

/** Reads the whole history from the subgraph and fits the model; `progress` gets one line per step. */
export async function trainFromSubgraph(
  src: MarketSources,
  progress: (line: string) => void,
): Promise<Trained> {
  if (!src.subgraphUrl)
    throw new Error("no subgraph to train from: pass --subgraph URL or start the stack (npm start)");
  const nativeUsd = await nativeUsdOf(src).catch((e: Error) => {
    progress(
      `native/USD rate unavailable (${e.message.split("\n")[0]}): native-priced bookings are left out`,
    );
    return null;
  });
  if (nativeUsd) progress(`native/USD rate ${nativeUsd.usd} from feed ${nativeUsd.feed}`);
  else if (!src.rpcUrl)
    progress("no RPC to read the native/USD feed (--rpc URL): native-priced bookings are left out");
  const history = await fetchPriceHistory({
    subgraphUrl: src.subgraphUrl,
    nativeUsd: nativeUsd?.usd ?? null,
    onProgress: (n) => progress(`read ${n} bookings`),
  });
  const t0 = performance.now();
  const { model, report } = PriceModel.train(history.examples);
  const skipped = { ...history.skipped, ...report.skipped };
  progress(
    model
      ? `trained on ${report.trainCount} bookings in ${Math.round(performance.now() - t0)} ms; held-out error ${pct(report.mape)} on ${report.heldOut} (baseline ${pct(report.baselineMape)}, prior alone ${pct(report.priorMape)})`
      : `${report.used} usable bookings of ${history.bookings}: fewer than needed for a model, so suggestions use the hardware prior`,
  );
  return { model, report, nativeUsd, skipped };
}

function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(1)}%`;
}

/** The utilization of a GPU model over the last 7 days, from the subgraph (null when unreachable or unlisted). */
export async function recentUtilization(
  src: MarketSources,
  gpuModel: string,
  now: number,
): Promise<number | null> {
  if (!src.subgraphUrl) return null;
  const today = Math.floor(now / 86_400);
  const rows = await fetchModelDays({ subgraphUrl: src.subgraphUrl, nativeUsd: null }, today - 7);
  return utilizationBefore(new Map(rows.map((r) => [`${r.gpuModel}-${r.day}`, r])), gpuModel || "cpu", today);
}
