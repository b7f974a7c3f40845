// Price suggestions: a regularised (ridge) regression on log price fitted on indexed booking history, on top of
// the hardware prior (sdk/src/ai/prior.ts). Assistive only: it returns a figure, an interval and its reasons; a
// person decides.
//
// What is learnt: the log of what borrowers paid per hour relative to the prior for the same hardware
// (log price − log(prior per GPU × GPU count)), from the market's own signals: utilization of comparable listings
// over the 7 days before, lead time, duration, region, host reliability, confidential computing, GPUs per listing,
// and a premium per GPU model. The penalty shrinks each model's premium towards 0 (its prior) in proportion to
// how little history it has, so a rarely booked card keeps close to its hardware price and an unseen one gets it.
// Log-linear because rental prices move by factors (a region, a busy week), which add in log space; the reasons
// are then exact: each is one factor's share of the estimate.
// (A random forest from ml-random-forest was tried first: on 2,400 bookings it took over four minutes to fit in
// Node and was less accurate than this on held-out history, so it was dropped.)
//
// Error is measured on held-out history: the latest 20 % of bookings by time, predicted by a model fitted on the
// earlier 80 % (as it would have been used). λ is chosen the same way inside the earlier 80 %. The model then
// refits on everything. The 80 % interval is the 80th percentile of the held-out |log error|. With fewer than
// MIN_EXAMPLES usable bookings there is no model: suggestions fall back to the prior and say so (cold start).
import { findGpu } from "./gpus.ts";
import { hardwarePrior, quantile } from "./prior.ts";
import { ridgeFit, ridgePredict } from "./ridge.ts";

export interface PriceContext {
  /** GPU model as nvidia-smi prints it ("" for a CPU-only listing: no suggestion). */
  gpuModel: string;
  gpuCount: number;
  region: string;
  confidential: boolean;
  /** GPU-hours booked over GPU-hours listed for this model in the 7 days before; null when unknown. */
  utilization: number | null;
  /** Hours between booking and start. */
  leadTimeHours: number;
  /** Length of the window, hours. */
  durationHours: number;
  /** The host's share of finished bookings that went well (0..1); null for a new host. */
  reliability: number | null;
}

/** One booking as training data: what was paid per hour (whole listing, USD) and when it was booked. */
export interface PriceExample {
  ctx: PriceContext;
  usdPerHour: number;
  /** Unix seconds of the booking (orders the held-out split). */
  at: number;
}

export interface Suggestion {
  /** Whole listing, USD per hour. */
  usdPerHour: number;
  low: number;
  high: number;
  reasons: string[];
  basis: "model" | "prior";
}

export class PricingError extends Error {
  constructor(
    readonly code: "unknown-gpu" | "cpu-only" | "bad-input" | "bad-model",
    message: string,
  ) {
    super(message);
    this.name = "PricingError";
  }
}

export const MIN_EXAMPLES = 40;
const HELD_OUT_SHARE = 0.2;

const REGION_GROUPS = ["north-america", "europe", "asia-pacific", "other"] as const;
export type RegionGroup = (typeof REGION_GROUPS)[number];

/** The broad region of a listing's free-text region ("us-east-1", "eu-west", "ap-southeast", "Frankfurt"…). */
export function regionGroup(region: string): RegionGroup {
  const r = region.trim().toLowerCase();
  if (/^(us|na|ca|north-?america|america|usa)\b|^us-|^ca-/.test(r)) return "north-america";
  if (/^(eu|uk|gb|de|fr|nl|se|fi|no|pl|es|it|ie|ch|europe)\b|^eu-/.test(r)) return "europe";
  if (/^(ap|apac|asia|jp|kr|sg|au|in|hk|tw|cn)\b|^ap-/.test(r)) return "asia-pacific";
  return "other";
}

function checkContext(c: PriceContext): void {
  const bad = (m: string) => {
    throw new PricingError("bad-input", m);
  };
  if (!Number.isInteger(c.gpuCount) || c.gpuCount < 1 || c.gpuCount > 64)
    bad(`GPU count must be a whole number from 1 to 64, not ${c.gpuCount}`);
  if (!(c.durationHours > 0)) bad(`duration must be positive hours, not ${c.durationHours}`);
  if (!(c.leadTimeHours >= 0)) bad(`lead time must be zero or more hours, not ${c.leadTimeHours}`);
  if (c.utilization !== null && !(c.utilization >= 0 && c.utilization <= 1))
    bad(`utilization must be between 0 and 1, not ${c.utilization}`);
  if (c.reliability !== null && !(c.reliability >= 0 && c.reliability <= 1))
    bad(`reliability must be between 0 and 1, not ${c.reliability}`);
}

/** The prior for a whole listing (per GPU × count), or a PricingError a person can act on. */
export function listingPrior(c: Pick<PriceContext, "gpuModel" | "gpuCount">) {
  if (c.gpuModel === "")
    throw new PricingError("cpu-only", "no price suggestion for a CPU-only listing: the model prices GPUs");
  const prior = hardwarePrior(c.gpuModel);
  if (!prior)
    throw new PricingError(
      "unknown-gpu",
      `"${c.gpuModel}" is not in the GPU facts table (sdk/src/ai/gpus.ts): no hardware to price it by`,
    );
  return { prior, usdPerHour: prior.usdPerGpuHour * c.gpuCount };
}

// Feature columns: named groups, so the reasons can speak of each. Unknown utilization/reliability are imputed
// with the training median and flagged, so the model can tell "unknown" from "typical".
const LEAD_BUCKETS = [1, 6, 24] as const; // hours: <1, 1–6, 6–24, ≥24
type Group = "gpu" | "count" | "region" | "util" | "rel" | "lead" | "duration" | "confidential" | "segment";

interface Imputation {
  utilization: number;
  reliability: number;
}

interface Layout {
  /** GPU facts keys with a premium column, in column order. */
  models: string[];
  columns: Array<{ name: string; group: Group }>;
}

function layoutFor(models: readonly string[]): Layout {
  const columns: Layout["columns"] = [
    ...models.map((m) => ({ name: `gpu:${m}`, group: "gpu" as const })),
    { name: "logPriorPerGpu", group: "gpu" },
    { name: "logCount", group: "count" },
    ...REGION_GROUPS.map((r) => ({ name: `region:${r}`, group: "region" as const })),
    { name: "util", group: "util" },
    { name: "util2", group: "util" },
    { name: "utilKnown", group: "util" },
    { name: "rel", group: "rel" },
    { name: "relKnown", group: "rel" },
    ...[0, 1, 2, 3].map((i) => ({ name: `lead:${i}`, group: "lead" as const })),
    { name: "logLead", group: "lead" },
    { name: "logDuration", group: "duration" },
    { name: "confidential", group: "confidential" },
    { name: "consumer", group: "segment" },
  ];
  return { models: [...models], columns };
}

function features(layout: Layout, c: PriceContext, imp: Imputation): number[] {
  const { prior } = listingPrior(c);
  const x: number[] = [];
  for (const m of layout.models) x.push(prior.gpu.key === m ? 1 : 0);
  x.push(Math.log(prior.usdPerGpuHour));
  x.push(Math.log(c.gpuCount));
  const rg = regionGroup(c.region);
  for (const r of REGION_GROUPS) x.push(r === rg ? 1 : 0);
  const u = c.utilization ?? imp.utilization;
  x.push(u, u * u, c.utilization === null ? 0 : 1);
  x.push(c.reliability ?? imp.reliability, c.reliability === null ? 0 : 1);
  const bucket = LEAD_BUCKETS.findIndex((b) => c.leadTimeHours < b);
  for (let i = 0; i < 4; i++) x.push((bucket === -1 ? 3 : bucket) === i ? 1 : 0);
  x.push(Math.log1p(c.leadTimeHours));
  x.push(Math.log(c.durationHours));
  x.push(c.confidential ? 1 : 0);
  x.push(prior.gpu.segment === "consumer" ? 1 : 0);
  return x;
}

interface Row {
  ctx: PriceContext;
  /** log(paid) − log(prior × count). */
  y: number;
  usdPerHour: number;
  priorListing: number;
}

export interface TrainReport {
  /** Bookings offered. */
  examples: number;
  /** Bookings usable (a known GPU, a positive price). */
  used: number;
  /** Why the others were left out, counted. */
  skipped: Record<string, number>;
  trainCount: number;
  heldOut: number;
  /** Mean absolute percentage error on the held-out bookings (0.1 = 10 %); null without a model. */
  mape: number | null;
  /** The naive baseline's error on the same bookings (median $/GPU-h of the model in training × count). */
  baselineMape: number | null;
  /** The cold-start prior's error on the same bookings. */
  priorMape: number | null;
  /** The penalty chosen. */
  lambda: number | null;
}

export interface PriceModelJson {
  version: 1;
  trainedAt: number;
  report: TrainReport;
  imputation: Imputation;
  /** A typical booking, for the reasons: training medians and the most common region. */
  reference: PriceContext;
  /** 80th percentile of held-out |log error|. */
  q80: number;
  models: string[];
  weights: number[];
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

function usable(examples: readonly PriceExample[], skipped: Record<string, number>): Row[] {
  const rows: Row[] = [];
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  for (const ex of examples) {
    try {
      checkContext(ex.ctx);
    } catch {
      skip("invalid booking data");
      continue;
    }
    if (!(ex.usdPerHour > 0) || !Number.isFinite(ex.usdPerHour)) {
      skip("no positive USD price");
      continue;
    }
    if (ex.ctx.gpuModel === "") {
      skip("CPU-only listing");
      continue;
    }
    const prior = hardwarePrior(ex.ctx.gpuModel);
    if (!prior) {
      skip("GPU not in the facts table");
      continue;
    }
    const priorListing = prior.usdPerGpuHour * ex.ctx.gpuCount;
    rows.push({
      ctx: ex.ctx,
      y: Math.log(ex.usdPerHour / priorListing),
      usdPerHour: ex.usdPerHour,
      priorListing,
    });
  }
  return rows;
}

function imputationOf(rows: readonly Row[]): Imputation {
  const u = rows.map((r) => r.ctx.utilization).filter((v): v is number => v !== null);
  const r = rows.map((x) => x.ctx.reliability).filter((v): v is number => v !== null);
  return { utilization: u.length ? median(u) : 0.5, reliability: r.length ? median(r) : 1 };
}

interface Fitted {
  layout: Layout;
  imp: Imputation;
  weights: number[];
}

function fit(rows: readonly Row[], lambda: number): Fitted {
  const imp = imputationOf(rows);
  const counts = new Map<string, number>();
  for (const r of rows) {
    const k = findGpu(r.ctx.gpuModel)?.key ?? "";
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const layout = layoutFor([...counts.keys()].filter((k) => k !== "").sort());
  const X = rows.map((r) => features(layout, r.ctx, imp));
  return {
    layout,
    imp,
    weights: ridgeFit(
      X,
      rows.map((r) => r.y),
      lambda,
    ),
  };
}

function predictLog(f: Fitted, c: PriceContext): number {
  return ridgePredict(f.weights, features(f.layout, c, f.imp));
}

const LAMBDAS = [0.1, 1, 3, 10, 30, 100];

/** λ by time-ordered validation inside `rows`: fit on the first 80 %, score on the rest. */
function chooseLambda(rows: readonly Row[]): number {
  const cut = Math.floor(rows.length * 0.8);
  const a = rows.slice(0, cut);
  const b = rows.slice(cut);
  let best = LAMBDAS[0] ?? 1;
  let bestErr = Number.POSITIVE_INFINITY;
  for (const l of LAMBDAS) {
    const f = fit(a, l);
    const err = b.reduce((s, r) => s + Math.abs(predictLog(f, r.ctx) - r.y), 0);
    if (err < bestErr) {
      bestErr = err;
      best = l;
    }
  }
  return best;
}

/** Mean absolute percentage error of predictions against actual prices. */
export function mape(predicted: readonly number[], actual: readonly number[]): number {
  if (predicted.length !== actual.length || actual.length === 0)
    throw new RangeError("mape: lengths differ or empty");
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] ?? Number.NaN;
    s += Math.abs((predicted[i] ?? Number.NaN) - a) / a;
  }
  return s / actual.length;
}

/**
 * The naive baseline the model must beat: the median price per GPU-hour of the same GPU model in the training
 * bookings, times the GPU count (the overall median per GPU-hour for a model unseen in training).
 */
export function baselinePredictor(train: readonly PriceExample[]): (c: PriceContext) => number {
  const perModel = new Map<string, number[]>();
  const all: number[] = [];
  for (const e of train) {
    const v = e.usdPerHour / e.ctx.gpuCount;
    all.push(v);
    const list = perModel.get(e.ctx.gpuModel) ?? [];
    list.push(v);
    perModel.set(e.ctx.gpuModel, list);
  }
  const med = new Map([...perModel].map(([k, v]) => [k, median(v)]));
  const overall = all.length ? median(all) : Number.NaN;
  return (c) => (med.get(c.gpuModel) ?? overall) * c.gpuCount;
}

function mostCommon<T>(values: readonly T[], fallback: T): T {
  const counts = new Map<T, number>();
  let best = fallback;
  let bestN = 0;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (n > bestN) {
      best = v;
      bestN = n;
    }
  }
  return best;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function signedPct(logFactor: number): string {
  const p = (Math.exp(logFactor) - 1) * 100;
  const r = Math.abs(p) < 10 ? Math.round(p * 10) / 10 : Math.round(p);
  return `${r >= 0 ? "+" : "−"}${Math.abs(r)}%`;
}

/** Rounds a USD figure for display: cents from $1, else three decimals. */
export function roundUsd(x: number): number {
  return x >= 1 ? Math.round(x * 100) / 100 : Math.round(x * 1000) / 1000;
}

const REGION_SAMPLE: Record<RegionGroup, string> = {
  "north-america": "us",
  europe: "eu",
  "asia-pacific": "ap",
  other: "",
};

export class PriceModel {
  private readonly fitted: Fitted;

  private constructor(readonly json: PriceModelJson) {
    this.fitted = { layout: layoutFor(json.models), imp: json.imputation, weights: json.weights };
  }

  get report(): TrainReport {
    return this.json.report;
  }

  /**
   * Fits on booking history. Returns no model (with the report saying why) when fewer than MIN_EXAMPLES
   * bookings are usable: then suggestions use the prior.
   */
  static train(
    examples: readonly PriceExample[],
    opts: { now?: number } = {},
  ): { model: PriceModel | null; report: TrainReport } {
    const sorted = [...examples].sort((a, b) => a.at - b.at);
    const skipped: Record<string, number> = {};
    const rows = usable(sorted, skipped);
    const report: TrainReport = {
      examples: examples.length,
      used: rows.length,
      skipped,
      trainCount: 0,
      heldOut: 0,
      mape: null,
      baselineMape: null,
      priorMape: null,
      lambda: null,
    };
    if (rows.length < MIN_EXAMPLES) return { model: null, report };

    const cut = Math.floor(rows.length * (1 - HELD_OUT_SHARE));
    const train = rows.slice(0, cut);
    const test = rows.slice(cut);
    const lambda = chooseLambda(train);
    const evalFit = fit(train, lambda);
    const predLog = test.map((r) => predictLog(evalFit, r.ctx));
    const actual = test.map((r) => r.usdPerHour);
    const baseline = baselinePredictor(train.map((r) => ({ ctx: r.ctx, usdPerHour: r.usdPerHour, at: 0 })));
    report.trainCount = train.length;
    report.heldOut = test.length;
    report.lambda = lambda;
    report.mape = mape(
      test.map((r, i) => r.priorListing * Math.exp(predLog[i] ?? 0)),
      actual,
    );
    report.baselineMape = mape(
      test.map((r) => baseline(r.ctx)),
      actual,
    );
    report.priorMape = mape(
      test.map((r) => r.priorListing),
      actual,
    );
    const q80 = quantile(
      test.map((r, i) => Math.abs((predLog[i] ?? 0) - r.y)),
      0.8,
    );

    const all = fit(rows, lambda);
    const ctxs = rows.map((r) => r.ctx);
    const known = <T>(v: (T | null)[]) => v.filter((x): x is T => x !== null);
    const u = known(ctxs.map((c) => c.utilization));
    const rel = known(ctxs.map((c) => c.reliability));
    const reference: PriceContext = {
      gpuModel: "",
      gpuCount: Math.max(1, Math.round(median(ctxs.map((c) => c.gpuCount)))),
      region:
        REGION_SAMPLE[
          mostCommon<RegionGroup>(
            ctxs.map((c) => regionGroup(c.region)),
            "other",
          )
        ],
      confidential: false,
      utilization: u.length ? median(u) : all.imp.utilization,
      leadTimeHours: median(ctxs.map((c) => c.leadTimeHours)),
      durationHours: median(ctxs.map((c) => c.durationHours)),
      reliability: rel.length ? median(rel) : all.imp.reliability,
    };
    const json: PriceModelJson = {
      version: 1,
      trainedAt: opts.now ?? Math.floor(Date.now() / 1000),
      report,
      imputation: all.imp,
      reference,
      q80,
      models: all.layout.models,
      weights: all.weights,
    };
    return { model: new PriceModel(json), report };
  }

  static load(json: PriceModelJson): PriceModel {
    const ok =
      json?.version === 1 &&
      Array.isArray(json.models) &&
      Array.isArray(json.weights) &&
      json.weights.length === layoutFor(json.models).columns.length + 1 &&
      json.weights.every((w) => Number.isFinite(w));
    if (!ok)
      throw new PricingError(
        "bad-model",
        "the saved price model is damaged or from another version; retrain it",
      );
    return new PriceModel(json);
  }

  toJSON(): PriceModelJson {
    return this.json;
  }

  /** The estimate (USD per hour of the whole listing). */
  estimate(c: PriceContext): number {
    checkContext(c);
    return listingPrior(c).usdPerHour * Math.exp(predictLog(this.fitted, c));
  }

  suggest(c: PriceContext): Suggestion {
    checkContext(c);
    const { prior, usdPerHour: priorListing } = listingPrior(c);
    const f = this.fitted;
    const x = features(f.layout, c, f.imp);
    const ref = features(f.layout, { ...this.json.reference, gpuModel: c.gpuModel }, f.imp);
    // Each group's share of the estimate against a typical booking of the same GPU: exact in log space.
    const effect = new Map<Group, number>();
    f.layout.columns.forEach((col, j) => {
      if (col.group === "gpu") return;
      const d = (f.weights[j] ?? 0) * ((x[j] ?? 0) - (ref[j] ?? 0));
      effect.set(col.group, (effect.get(col.group) ?? 0) + d);
    });
    const r = this.json.reference;
    const words: Partial<Record<Group, string>> = {
      count: `${c.gpuCount} GPUs in one listing (typical ${r.gpuCount})`,
      region: `region ${c.region || "unstated"} (${regionGroup(c.region)}; typical ${regionGroup(r.region)})`,
      util:
        c.utilization === null
          ? "no recent utilization figure for this model"
          : `comparable ${prior.gpu.family} listings ${pct(c.utilization)} booked over the last 7 days (typical ${pct(r.utilization ?? 0)})`,
      rel:
        c.reliability === null
          ? "new host, no finished sessions yet"
          : `host ${pct(c.reliability)} reliable (typical ${pct(r.reliability ?? 0)})`,
      lead: `booked ${c.leadTimeHours.toFixed(1)} h ahead (typical ${r.leadTimeHours.toFixed(1)} h)`,
      duration: `${c.durationHours.toFixed(1)} h window (typical ${r.durationHours.toFixed(1)} h)`,
      confidential: c.confidential ? "confidential computing" : "no confidential computing",
    };
    const effects = [...effect]
      .filter(([g]) => words[g] !== undefined)
      .map(([g, d]) => ({ text: `${words[g]}: ${signedPct(d)}`, size: Math.abs(d) }))
      .sort((a, b) => b.size - a.size);
    const logTotal = predictLog(f, c);
    const usd = priorListing * Math.exp(logTotal);
    const band = Math.exp(this.json.q80);
    const rep = this.json.report;
    const reasons = [
      `${c.gpuCount}× ${prior.gpu.name}: ${prior.reason}; this market's history moves it ${signedPct(logTotal)}`,
      ...effects
        .filter((e) => e.size >= 0.01)
        .slice(0, 3)
        .map((e) => e.text),
      `model fitted on ${rep.used} bookings; held-out error ${pct(rep.mape ?? 0)} (median-per-model baseline ${pct(rep.baselineMape ?? 0)})`,
    ];
    return {
      usdPerHour: roundUsd(usd),
      low: roundUsd(usd / band),
      high: roundUsd(usd * band),
      reasons,
      basis: "model",
    };
  }
}

/** The cold-start suggestion: the hardware prior alone, with the anchors' error band. */
export function priorSuggestion(c: PriceContext): Suggestion {
  checkContext(c);
  const { prior, usdPerHour } = listingPrior(c);
  return {
    usdPerHour: roundUsd(usdPerHour),
    low: roundUsd(usdPerHour / prior.bandFactor),
    high: roundUsd(usdPerHour * prior.bandFactor),
    reasons: [
      `${c.gpuCount}× ${prior.gpu.name}: ${prior.reason}`,
      "cold start: too little booking history to learn from, so hardware and public list prices only",
      `interval: 80% of list prices sit within ×${prior.bandFactor.toFixed(2)} of what hardware alone predicts`,
    ],
    basis: "prior",
  };
}

/** The suggestion for a listing: the model when there is one, else the prior. Never sets a price itself. */
export function suggestPrice(c: PriceContext, model: PriceModel | null): Suggestion {
  return model ? model.suggest(c) : priorSuggestion(c);
}

export type FairnessVerdict = "below" | "fair" | "above";

/** Where an asked price sits against a suggestion's interval. */
export function fairness(askedUsdPerHour: number, s: Suggestion): { verdict: FairnessVerdict; text: string } {
  if (askedUsdPerHour < s.low)
    return { verdict: "below", text: `below the usual range ($${s.low}–$${s.high}/h): a good price` };
  if (askedUsdPerHour > s.high)
    return { verdict: "above", text: `above the usual range ($${s.low}–$${s.high}/h)` };
  return { verdict: "fair", text: `fair: within the usual range ($${s.low}–$${s.high}/h)` };
}
