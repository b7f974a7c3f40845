import {
  fairness,
  fetchModelDays,
  fetchPriceHistory,
  MIN_EXAMPLES,
  PriceModel,
  PricingError,
  readNativeUsd,
  type SgModelDay,
  suggestPrice,
  utilizationBefore,
} from "@computehive/sdk/ai";
import { createPublicClient, http, type PublicClient } from "viem";
import type { RuntimeConfig } from "../../../lib/config.ts";
import {
  askedInUsd,
  Expiring,
  historyWords,
  MODEL_TTL_MS,
  type PriceAnswer,
  type PriceProblem,
  parsePriceQuery,
  pricingErrorWords,
  RATE_TTL_MS,
  RETRY_TTL_MS,
} from "../../../lib/pricing.ts";
import { loadRuntimeConfig } from "../../../lib/server-config.ts";

// The pricing assistant's estimate for a listing (see lib/pricing.ts for the parameters and the answer). The
// sdk's price model is trained here, on the server, from this deployment's subgraph with the market's
// native/USD feed, and kept in memory for 10 minutes (a failed read is retried after a minute); with too little
// history, or none readable, the estimate is the hardware prior. Advice only: nothing here changes a price.
export const dynamic = "force-dynamic";

const TIMEOUT_MS = 10_000;
const DAY = 86_400;

/** The server's fetch with a time limit, so a subgraph that hangs cannot hold a request for long. */
const timedFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), cache: "no-store" });

interface Snapshot {
  model: PriceModel | null;
  /** GpuModelDay rows of the last 8 days, by "model-day", for the recent utilization. */
  days: Map<string, SgModelDay> | null;
  history: string;
  ok: boolean;
}

const rates = new Expiring<number | null>(() => RATE_TTL_MS);
const snapshots = new Expiring<Snapshot>((s) => (s.ok ? MODEL_TTL_MS : RETRY_TTL_MS));

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split("\n")[0] ?? "unknown error";
}

async function nativeUsdOf(config: RuntimeConfig): Promise<number | null> {
  return rates.get(`${config.rpcUrl} ${config.market}`, async () => {
    const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0, timeout: 5_000 }) });
    try {
      return (await readNativeUsd(client as PublicClient, config.market))?.usd ?? null;
    } catch {
      return null; // no chain to read: prices stay in USD, native prices are not converted
    }
  });
}

async function train(config: RuntimeConfig, nativeUsd: number | null): Promise<Snapshot> {
  const opts = { subgraphUrl: config.subgraphUrl, nativeUsd, fetch: timedFetch };
  try {
    const history = await fetchPriceHistory(opts);
    const today = Math.floor(Date.now() / 1000 / DAY);
    const recent = await fetchModelDays(opts, today - 8);
    const { model, report } = PriceModel.train(history.examples);
    return {
      model,
      days: new Map(recent.map((r) => [`${r.gpuModel}-${r.day}`, r])),
      history: model
        ? historyWords({ kind: "model", used: report.used, mape: report.mape })
        : historyWords({ kind: "too-little", used: report.used, needed: MIN_EXAMPLES }),
      ok: true,
    };
  } catch (e) {
    return {
      model: null,
      days: null,
      history: historyWords({ kind: "unreachable", why: firstLine(e) }),
      ok: false,
    };
  }
}

function json(body: PriceAnswer | PriceProblem | { nativeUsd: number | null }, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

export async function GET(request: Request): Promise<Response> {
  const params = new URL(request.url).searchParams;
  let config: RuntimeConfig | null = null;
  let configError = "";
  try {
    config = await loadRuntimeConfig(process.env, process.cwd());
  } catch (e) {
    configError = firstLine(e);
  }
  const nativeUsd = config ? await nativeUsdOf(config) : null;
  if (params.get("only") === "rate") return json({ nativeUsd });

  const parsed = parsePriceQuery(params);
  if (!parsed.ok) return json({ error: parsed.error, code: parsed.code, nativeUsd }, 400);
  const { ctx, asked } = parsed.value;

  const snap: Snapshot = config
    ? await snapshots.get(`${config.subgraphUrl} ${config.rpcUrl} ${config.market}`, () =>
        train(config, nativeUsd),
      )
    : {
        model: null,
        days: null,
        history: historyWords({ kind: "no-deployment", why: configError }),
        ok: false,
      };
  const today = Math.floor(Date.now() / 1000 / DAY);
  const utilization = snap.days ? utilizationBefore(snap.days, ctx.gpuModel, today) : null;

  try {
    const s = suggestPrice({ ...ctx, utilization }, snap.model);
    const inUsd = asked ? askedInUsd(asked, nativeUsd) : null;
    const askedUsd = inUsd && "usd" in inUsd ? inUsd.usd : null;
    return json({
      ...s,
      nativeUsd,
      history: snap.history,
      askedUsd,
      fairness: askedUsd === null ? null : fairness(askedUsd, s),
      fairnessNote: inUsd && "note" in inUsd ? inUsd.note : null,
    });
  } catch (e) {
    if (!(e instanceof PricingError)) throw e;
    const w = pricingErrorWords(e.code, ctx.gpuModel, e.message);
    return json({ error: w.error, code: w.code, nativeUsd }, 400);
  }
}
