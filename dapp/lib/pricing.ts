import type { FairnessVerdict, IndexPoint, PriceContext, Suggestion } from "@computehive/sdk/ai";
import { formatUnits } from "viem";
import { type ListingFormInput, MAX_GPU_MODEL_BYTES } from "./listing-form.ts";
import type { SgListing } from "./types.ts";

// The pricing assistant's helpers, without the model: `GET /api/price` (app/api/price/route.ts) and the market
// index page (app/market/page.tsx) run the sdk's model on the server; what they share with the browser is here:
// the API's request and answer, the words, USD conversions, the server's expiring cache, and the index chart's
// geometry. The sdk's model code is imported as types only, so the pages that use these helpers in the browser
// (the listing page, the lender dashboard) do not carry it.

/* ------------------------------------------------------------------------------------------------------------
 * The API: GET /api/price?gpuModel=…&gpuCount=…&region=…&confidential=…&leadTimeHours=…&durationHours=…
 *   &reliability=…[&askedUsd=… | &askedWei=…]   (or ?only=rate for the native/USD rate alone)
 * ---------------------------------------------------------------------------------------------------------- */

export type PriceProblemCode = "bad-input" | "unknown-gpu" | "cpu-only";

/** What `GET /api/price` answers for a listing. All prices are USD per hour of the whole listing. */
export interface PriceAnswer extends Suggestion {
  /** USD per whole native coin (the market's price feed), or null when the market has no feed. */
  nativeUsd: number | null;
  /** What the estimate was learnt from, in words. */
  history: string;
  /** The asked price, USD per hour, when one was given and could be converted. */
  askedUsd: number | null;
  /** Where the asked price sits against the usual range (the sdk's `fairness`). */
  fairness: { verdict: FairnessVerdict; text: string } | null;
  /** Why there is no fairness mark although a price was asked about (no feed to convert with). */
  fairnessNote: string | null;
}

/** A 400 answer: why there is no estimate, in words. */
export interface PriceProblem {
  error: string;
  code: PriceProblemCode;
  nativeUsd: number | null;
}

/** A price to judge: USD per hour (a USD-priced listing), or native wei per hour (converted at the feed). */
export type Asked = { usd: number } | { wei: bigint };

export interface PriceQuery {
  ctx: Omit<PriceContext, "utilization">;
  asked: Asked | null;
}

export type Refusal = { ok: false; code: PriceProblemCode; error: string };
export type Parsed<T> = { ok: true; value: T } | Refusal;

export const CPU_ONLY_WORDS =
  "No price estimate exists for CPU-only listings: the estimate prices GPUs, and a development host without one has no market price to compare with.";

const MAX_REGION_CHARS = 64;

function bad(error: string): Refusal {
  return { ok: false, code: "bad-input", error };
}

/** A finite number from a query parameter, or an error naming the field in words. */
function numberParam(
  raw: string | null,
  fallback: number | null,
  label: string,
  check: (n: number) => boolean,
  rule: string,
): { ok: true; value: number | null } | { ok: false; error: string } {
  if (raw === null || raw.trim() === "") return { ok: true, value: fallback };
  const t = raw.trim();
  const n = /^[+]?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(t) ? Number(t) : Number.NaN;
  if (!Number.isFinite(n) || !check(n)) return { ok: false, error: `${label} must be ${rule} (got “${t}”).` };
  return { ok: true, value: n };
}

/** Confidential computing: "none"/"0"/"false" (or nothing) is off; "sevsnp"/"tdx"/"1"/"2"/"true" is on. */
function confidentialParam(raw: string | null): boolean | null {
  const t = (raw ?? "").trim().toLowerCase();
  if (["", "0", "false", "none", "no"].includes(t)) return false;
  if (["1", "2", "true", "yes", "sevsnp", "tdx"].includes(t)) return true;
  return null;
}

/** Checks `GET /api/price`'s parameters. CPU-only (no model, or 0 GPUs) is its own answer, not an error. */
export function parsePriceQuery(p: URLSearchParams): Parsed<PriceQuery> {
  const gpuModel = (p.get("gpuModel") ?? "").trim();
  if (new TextEncoder().encode(gpuModel).length > MAX_GPU_MODEL_BYTES)
    return bad(`The GPU model is at most ${MAX_GPU_MODEL_BYTES} bytes.`);
  const countRaw = (p.get("gpuCount") ?? "").trim();
  if (!/^\d{1,3}$/.test(countRaw) || Number(countRaw) > 255)
    return bad(`The GPU count must be a whole number from 0 to 255 (got “${countRaw}”).`);
  const gpuCount = Number(countRaw);
  if (gpuModel === "" || gpuCount === 0) return { ok: false, code: "cpu-only", error: CPU_ONLY_WORDS };
  const region = (p.get("region") ?? "").trim();
  if (region.length > MAX_REGION_CHARS) return bad(`The region is at most ${MAX_REGION_CHARS} characters.`);
  const confidential = confidentialParam(p.get("confidential"));
  if (confidential === null)
    return bad("Confidential computing must be none, sevsnp or tdx (or true/false).");
  const lead = numberParam(
    p.get("leadTimeHours"),
    0,
    "The notice (hours between booking and start)",
    (n) => n >= 0 && n <= 24 * 365,
    "a number of hours from 0 to 8,760",
  );
  if (!lead.ok) return bad(lead.error);
  const duration = numberParam(
    p.get("durationHours"),
    1,
    "The duration",
    (n) => n > 0 && n <= 24 * 365,
    "a number of hours above 0",
  );
  if (!duration.ok) return bad(duration.error);
  const rel = numberParam(
    p.get("reliability"),
    null,
    "The host's reliability",
    (n) => n >= 0 && n <= 1,
    "a share from 0 to 1, or empty for a new host",
  );
  if (!rel.ok) return bad(rel.error);
  const askedUsdRaw = p.get("askedUsd");
  const askedWeiRaw = p.get("askedWei");
  let asked: Asked | null = null;
  if (askedUsdRaw !== null && askedWeiRaw !== null)
    return bad("Give the asked price once: askedUsd (USD per hour) or askedWei (native wei per hour).");
  if (askedUsdRaw !== null) {
    const a = numberParam(
      askedUsdRaw,
      null,
      "The asked price",
      (n) => n > 0,
      "a positive number of USD per hour",
    );
    if (!a.ok || a.value === null) return bad(a.ok ? "The asked price is empty." : a.error);
    asked = { usd: a.value };
  } else if (askedWeiRaw !== null) {
    if (!/^[1-9]\d{0,38}$/.test(askedWeiRaw.trim()))
      return bad("The asked price in wei must be a positive whole number.");
    asked = { wei: BigInt(askedWeiRaw.trim()) };
  }
  return {
    ok: true,
    value: {
      ctx: {
        gpuModel,
        gpuCount,
        region,
        confidential,
        leadTimeHours: lead.value ?? 0,
        durationHours: duration.value ?? 1,
        reliability: rel.value,
      },
      asked,
    },
  };
}

/** The sdk's PricingError (code and message) in words a person can act on. */
export function pricingErrorWords(code: string, gpuModel: string, message: string): Refusal {
  if (code === "cpu-only") return { ok: false, code: "cpu-only", error: CPU_ONLY_WORDS };
  if (code === "unknown-gpu")
    return {
      ok: false,
      code: "unknown-gpu",
      error: `No price estimate for “${gpuModel}”: it is not in the table of known GPUs, so there is no hardware to price it by. Check the name as nvidia-smi prints it (e.g. “NVIDIA H100 80GB HBM3”).`,
    };
  return bad(message.endsWith(".") ? message : `${message.charAt(0).toUpperCase()}${message.slice(1)}.`);
}

/** The asked price in USD per hour, converted at the feed for a native price; or why it cannot be. */
export function askedInUsd(asked: Asked, nativeUsd: number | null): { usd: number } | { note: string } {
  if ("usd" in asked) return { usd: asked.usd };
  if (nativeUsd === null)
    return {
      note: "No USD rate for ETH could be read from the market's price feed (it has none, or the chain did not answer), so a price in ETH cannot be compared with the estimate (in USD).",
    };
  return { usd: weiToUsd(asked.wei, nativeUsd) };
}

/** The estimate's basis in words: what the model was fitted on, or why the hardware prior is used. */
export function historyWords(
  h:
    | { kind: "model"; used: number; mape: number | null }
    | { kind: "too-little"; used: number; needed: number }
    | { kind: "unreachable"; why: string }
    | { kind: "no-deployment"; why: string },
): string {
  switch (h.kind) {
    case "model":
      return `Learnt from ${h.used.toLocaleString("en-US")} bookings of this market${h.mape === null ? "" : ` (typical error on recent bookings it had not seen: ${Math.round(h.mape * 100)}%)`}.`;
    case "too-little":
      return `This market has ${h.used.toLocaleString("en-US")} usable booking${h.used === 1 ? "" : "s"} with a USD price; ${h.needed} are needed to learn from its history, so the estimate comes from the hardware and public list prices only.`;
    case "unreachable":
      return `The market's history could not be read (${h.why}), so the estimate comes from the hardware and public list prices only.`;
    case "no-deployment":
      return `The server has no deployment to read history from (${h.why}), so the estimate comes from the hardware and public list prices only.`;
  }
}

/** Checks what `/api/price` answered (in the browser). */
export function parsePriceAnswer(
  status: number,
  body: unknown,
): { ok: true; answer: PriceAnswer } | { ok: false; problem: PriceProblem } {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const rate = typeof b.nativeUsd === "number" && b.nativeUsd > 0 ? b.nativeUsd : null;
  if (status === 400 && typeof b.error === "string") {
    const code = b.code === "cpu-only" || b.code === "unknown-gpu" ? b.code : "bad-input";
    return { ok: false, problem: { error: b.error, code, nativeUsd: rate } };
  }
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (status !== 200 || !num(b.usdPerHour) || !num(b.low) || !num(b.high) || !Array.isArray(b.reasons)) {
    const why = typeof b.error === "string" ? b.error : `the server answered HTTP ${status}`;
    throw new Error(`no price estimate: ${why}`);
  }
  return { ok: true, answer: { ...(b as unknown as PriceAnswer), nativeUsd: rate } };
}

/** Asks this dApp's own server for an estimate (the model runs there) and checks the answer. */
export async function fetchPriceEstimate(
  params: string,
  opts: { signal?: AbortSignal; fetchImpl?: typeof fetch } = {},
): Promise<{ ok: true; answer: PriceAnswer } | { ok: false; problem: PriceProblem }> {
  const doFetch = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`/api/price?${params}`, { signal: opts.signal, cache: "no-store" });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new Error(`cannot reach the dApp's server (${(e as Error).message})`);
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // parsePriceAnswer explains the status
  }
  return parsePriceAnswer(res.status, body);
}

/** The market's native/USD rate alone (`/api/price?only=rate`), null without a feed. */
export async function fetchNativeUsd(opts: { signal?: AbortSignal; fetchImpl?: typeof fetch } = {}) {
  const res = await (opts.fetchImpl ?? fetch)("/api/price?only=rate", {
    signal: opts.signal,
    cache: "no-store",
  });
  const body = (await res.json()) as { nativeUsd?: unknown };
  return typeof body.nativeUsd === "number" && body.nativeUsd > 0 ? body.nativeUsd : null;
}

/* ------------------------------------------------------------------------------------------------------------
 * Requests from the pages
 * ---------------------------------------------------------------------------------------------------------- */

export interface PriceRequest {
  /** The query string for `/api/price` (without "?"). */
  params: string;
  /** Why the page cannot judge the listing's own price (a token listing); null when it can. */
  askedNote: string | null;
}

const CONFIDENTIAL_PARAM: Record<string, string> = { None: "none", SevSnp: "sevsnp", Tdx: "tdx" };

/** Hours with at most 4 decimals, as a query value. */
function hours(seconds: number): string {
  return String(Math.round((seconds / 3600) * 10_000) / 10_000);
}

/**
 * The request for a listing's page: its hardware and host, for a one-hour window (or the listing's shortest, if
 * longer; its longest, if shorter) booked at the listing's notice; and its own price to judge.
 */
export function listingPriceRequest(
  l: Pick<
    SgListing,
    | "gpuModel"
    | "gpuCount"
    | "region"
    | "confidential"
    | "leadTime"
    | "minSlots"
    | "maxSlots"
    | "usdPriced"
    | "pricePerHour"
    | "asset"
  >,
  slotLength: number,
  reliability: number | null,
): PriceRequest {
  const window = Math.min(Math.max(3600, l.minSlots * slotLength), l.maxSlots * slotLength);
  const q = new URLSearchParams({
    gpuModel: l.gpuModel,
    gpuCount: String(l.gpuCount),
    region: l.region,
    confidential: CONFIDENTIAL_PARAM[l.confidential] ?? "none",
    leadTimeHours: hours(Number(l.leadTime)),
    durationHours: hours(window),
    reliability: reliability === null ? "" : String(Math.round(reliability * 10_000) / 10_000),
  });
  let askedNote: string | null = null;
  if (l.usdPriced) q.set("askedUsd", formatUnits(BigInt(l.pricePerHour), 18));
  else if (l.asset.native) q.set("askedWei", BigInt(l.pricePerHour).toString());
  else
    askedNote = "This listing is priced in a token, which has no USD rate here: its price is not compared.";
  return { params: q.toString(), askedNote };
}

/**
 * The request for the create-listing form's hardware (a one-hour window, or the shortest booking if longer, at
 * the form's notice, by the chosen host), or what to fill in first.
 */
export function formPriceRequest(
  f: Pick<ListingFormInput, "gpuModel" | "gpuCount" | "region" | "confidential" | "minHours" | "leadMinutes">,
  reliability: number | null,
): { ok: true; params: string } | { ok: false; error: string } {
  const gpuModel = f.gpuModel.trim();
  const count = f.gpuCount.trim();
  if (!/^\d+$/.test(count)) return { ok: false, error: "Fill in the GPU count first (a whole number)." };
  if (gpuModel === "" || Number(count) === 0) return { ok: false, error: CPU_ONLY_WORDS };
  const num = (raw: string) => (/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : null);
  const minHours = num(f.minHours);
  const leadMinutes = num(f.leadMinutes);
  const q = new URLSearchParams({
    gpuModel,
    gpuCount: String(Number(count)),
    region: f.region.trim(),
    confidential: f.confidential === "1" ? "sevsnp" : f.confidential === "2" ? "tdx" : "none",
    leadTimeHours: hours((leadMinutes ?? 0) * 60),
    durationHours: hours(Math.max(3600, (minHours ?? 1) * 3600)),
    reliability: reliability === null ? "" : String(Math.round(reliability * 10_000) / 10_000),
  });
  return { ok: true, params: q.toString() };
}

/* ------------------------------------------------------------------------------------------------------------
 * USD and native amounts
 * ---------------------------------------------------------------------------------------------------------- */

/** Native wei at `nativeUsd` USD per coin, in USD. */
export function weiToUsd(wei: bigint, nativeUsd: number): number {
  return (Number(wei) / 1e18) * nativeUsd;
}

/** A positive number as a plain decimal (never exponent notation) with at most `significant` digits. */
export function plainDecimal(x: number, significant = 6): string {
  if (!(x > 0) || !Number.isFinite(x)) return "0";
  const s = x.toLocaleString("en-US", {
    maximumSignificantDigits: significant,
    useGrouping: false,
  });
  const [, fraction = ""] = s.split(".");
  // Whole units and at most 18 decimals: what a price field in ETH takes.
  return fraction.length > 18 ? x.toFixed(18).replace(/\.?0+$/, "") || "0" : s;
}

/** USD per hour as native coins per hour at the feed's rate, for the price field (6 significant digits). */
export function usdToNative(usd: number, nativeUsd: number): string {
  return plainDecimal(usd / nativeUsd, 6);
}

/** "$1,234.56", "$0.10", "$0.012" (a third decimal under a dollar); "less than $0.001" for a tiny amount. */
export function formatUsdFigure(x: number): string {
  if (x > 0 && x < 0.001) return "less than $0.001";
  return x.toLocaleString("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: x >= 1 || x === 0 ? 2 : 3,
  });
}

/** "1 ETH = $3,000.00". */
export function rateWords(nativeUsd: number, symbol = "ETH"): string {
  return `1 ${symbol} = ${formatUsdFigure(nativeUsd)}`;
}

/**
 * The other currency of a listing's price, next to it: a native price in USD, or a USD price in the native coin
 * (what it costs at the feed now). Null without a feed, and for token listings.
 */
export function otherCurrencyLine(
  l: Pick<SgListing, "usdPriced" | "pricePerHour" | "asset">,
  nativeUsd: number | null,
  symbol = "ETH",
): string | null {
  if (nativeUsd === null || !(nativeUsd > 0)) return null;
  const price = BigInt(l.pricePerHour);
  if (l.usdPriced) {
    const usd = Number(formatUnits(price, 18));
    return `≈ ${plainDecimal(usd / nativeUsd, 4)} ${symbol} per hour at the price feed's current rate (${rateWords(nativeUsd, symbol)})`;
  }
  if (!l.asset.native) return null;
  return `≈ ${formatUsdFigure(weiToUsd(price, nativeUsd))} per hour at the price feed's rate (${rateWords(nativeUsd, symbol)})`;
}

/** "$2.50–$3.10 per hour" (the estimate's usual range). */
export function rangeWords(s: Pick<Suggestion, "low" | "high">): string {
  return `${formatUsdFigure(s.low)}–${formatUsdFigure(s.high)} per hour`;
}

/** The fair-price mark for the sdk's verdict (`fairness`), with the usual range. */
export function fairnessWords(verdict: FairnessVerdict, s: Pick<Suggestion, "low" | "high">): string {
  const range = `${formatUsdFigure(s.low)}–${formatUsdFigure(s.high)}/h`;
  if (verdict === "fair") return `Fair: within the usual range (${range})`;
  if (verdict === "above") return `Above the usual range (${range})`;
  return `Below the usual range (${range}): a good price`;
}

/** The figure to put in the create-listing form's price field for a suggestion, or why none can be. */
export function suggestedPriceInput(
  usdPerHour: number,
  payment: string,
  nativeUsd: number | null,
  symbol = "ETH",
): { ok: true; value: string; words: string } | { ok: false; why: string } {
  if (payment === "usd") {
    const v = plainDecimal(usdPerHour, 8);
    return { ok: true, value: v, words: `$${v} per hour` };
  }
  if (payment === "token")
    return { ok: false, why: "A token has no USD rate here: set a price in token units yourself." };
  if (nativeUsd === null)
    return {
      ok: false,
      why: `No USD rate for ${symbol} could be read from the market's price feed (it has none, or the chain did not answer), so the suggestion cannot be put in ${symbol} here: convert it yourself, or price the listing in USD.`,
    };
  const v = usdToNative(usdPerHour, nativeUsd);
  return { ok: true, value: v, words: `${v} ${symbol} per hour` };
}

/* ------------------------------------------------------------------------------------------------------------
 * The server's cache: one value per key, kept for a time that depends on the value (a trained model 10 minutes,
 * a failure 1 minute); expired values are served while they are refreshed in the background.
 * ---------------------------------------------------------------------------------------------------------- */

interface Entry<T> {
  value?: T;
  until: number;
  pending?: Promise<T>;
}

export class Expiring<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs: (value: T) => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value for `key`: cached, being loaded, or loaded now. A load that throws is not kept. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const e = this.entries.get(key);
    if (e?.value !== undefined && this.now() < e.until) return Promise.resolve(e.value);
    if (e?.pending) return e.value !== undefined ? Promise.resolve(e.value) : e.pending;
    const entry: Entry<T> = e ?? { until: 0 };
    const pending = load().then(
      (value) => {
        entry.value = value;
        entry.until = this.now() + this.ttlMs(value);
        entry.pending = undefined;
        return value;
      },
      (err: unknown) => {
        entry.pending = undefined;
        if (entry.value === undefined) this.entries.delete(key);
        throw err;
      },
    );
    entry.pending = pending;
    this.entries.set(key, entry);
    if (entry.value !== undefined) {
      pending.catch(() => {}); // the stale value is served; the next call tries again
      return Promise.resolve(entry.value);
    }
    return pending;
  }
}

export const MODEL_TTL_MS = 10 * 60_000;
export const RETRY_TTL_MS = 60_000;
export const RATE_TTL_MS = 60_000;

/* ------------------------------------------------------------------------------------------------------------
 * The market index page and its chart
 * ---------------------------------------------------------------------------------------------------------- */

export const INDEX_DAYS = 30;
const DAY = 86_400;

/** The heading of a GPU model's index ("cpu" is the subgraph's model for listings without a GPU). */
export function modelLabel(gpuModel: string): string {
  return gpuModel === "cpu" ? "CPU-only (development hosts)" : gpuModel;
}

/** One day of a model's index, every day of the window present. */
export interface DayFigure {
  day: number;
  /** "2026-03-14" (UTC). */
  date: string;
  /** Whether the subgraph has a row for the day (something was listed or booked). */
  recorded: boolean;
  bookings: number;
  /** 0..1, or null when nothing was listed that day. */
  utilization: number | null;
  /** USD (or native coin without a feed) per GPU-hour; null without bookings. */
  price: number | null;
}

export function dayDate(day: number): string {
  return new Date(day * DAY * 1000).toISOString().slice(0, 10);
}

/** The window's days, oldest first, ending with `lastDay`: the model's points where it has them. */
export function fillDays(points: readonly IndexPoint[], lastDay: number, days = INDEX_DAYS): DayFigure[] {
  const byDay = new Map(points.map((p) => [p.day, p]));
  return Array.from({ length: days }, (_, i) => {
    const day = lastDay - days + 1 + i;
    const p = byDay.get(day);
    return {
      day,
      date: dayDate(day),
      recorded: p !== undefined,
      bookings: p?.bookings ?? 0,
      utilization: p?.utilization ?? null,
      price: p?.usdPerGpuHour ?? null,
    };
  });
}

/** The models in display order: GPUs by bookings in the window (most first), then by name; CPU-only last. */
export function orderModels(index: ReadonlyMap<string, readonly IndexPoint[]>): string[] {
  const total = (m: string) => (index.get(m) ?? []).reduce((s, p) => s + p.bookings, 0);
  return [...index.keys()].sort((a, b) => {
    if ((a === "cpu") !== (b === "cpu")) return a === "cpu" ? 1 : -1;
    return total(b) - total(a) || a.localeCompare(b);
  });
}

/** A model's window in a sentence (the chart's accessible name says the same). */
export interface IndexSummary {
  bookings: number;
  /** Mean utilization over the days that had listed hours; null when none did. */
  meanUtilization: number | null;
  /** Booking-weighted mean price over the days with a price; null when none. */
  meanPrice: number | null;
  latestPrice: { date: string; price: number } | null;
}

export function summarize(days: readonly DayFigure[]): IndexSummary {
  const util = days.filter((d) => d.utilization !== null).map((d) => d.utilization ?? 0);
  const priced = days.filter((d) => d.price !== null && d.bookings > 0);
  const weight = priced.reduce((s, d) => s + d.bookings, 0);
  const last = [...days].reverse().find((d) => d.price !== null);
  return {
    bookings: days.reduce((s, d) => s + d.bookings, 0),
    meanUtilization: util.length ? util.reduce((a, b) => a + b, 0) / util.length : null,
    meanPrice: weight > 0 ? priced.reduce((s, d) => s + (d.price ?? 0) * d.bookings, 0) / weight : null,
    latestPrice: last && last.price !== null ? { date: last.date, price: last.price } : null,
  };
}

/** "12%"; "–" for unknown. */
export function pctWords(x: number | null): string {
  return x === null ? "–" : `${Math.round(x * 100)}%`;
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `max` (the chart's top); 1 for nothing to show. */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const v = m * p;
    // Rounding of 10^k (0.1 * 3 ≠ 0.3) must not push a round maximum up a step.
    if (v >= max * (1 - 1e-12)) return Number(v.toPrecision(12));
  }
  return 10 * p;
}

export interface ChartFrame {
  /** The plot's width and height in SVG units (the labels sit below and left of it). */
  width: number;
  height: number;
  /** Values map from 0 to `max` (top). */
  max: number;
  count: number;
}

/** Horizontal centre of the i-th of `count` equal columns. */
export function columnX(f: ChartFrame, i: number): number {
  return ((i + 0.5) * f.width) / f.count;
}

/** Vertical position of a value (0 at the bottom, `max` at the top; clamped). */
export function valueY(f: ChartFrame, v: number): number {
  const r = Math.min(1, Math.max(0, v / f.max));
  return Math.round((f.height - r * f.height) * 100) / 100;
}

/** Bars for the values that exist (a null leaves its column empty). */
export function barsOf(
  f: ChartFrame,
  values: readonly (number | null)[],
): Array<{ i: number; x: number; y: number; width: number; height: number }> {
  const w = f.width / f.count;
  const out: Array<{ i: number; x: number; y: number; width: number; height: number }> = [];
  values.forEach((v, i) => {
    if (v === null) return;
    const y = valueY(f, v);
    out.push({
      i,
      x: Math.round((i * w + w * 0.15) * 100) / 100,
      y,
      width: Math.round(w * 0.7 * 100) / 100,
      height: Math.round((f.height - y) * 100) / 100,
    });
  });
  return out;
}

/** The line through the values that exist, broken where a value is missing: an SVG path ("" for none). */
export function linePath(f: ChartFrame, values: readonly (number | null)[]): string {
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${d === "" ? "" : " "}${pen ? "L" : "M"}${Math.round(columnX(f, i) * 100) / 100} ${valueY(f, v)}`;
    pen = true;
  });
  return d;
}

/** The unit of the index's prices: USD at the feed, or the native coin when the market has no feed. */
export interface PriceUnit {
  usd: boolean;
  symbol: string;
  /** "GPU-hour", or "listing-hour" for CPU-only listings. */
  per: string;
}

export function priceUnit(model: string, nativeUsd: number | null, symbol = "ETH"): PriceUnit {
  return { usd: nativeUsd !== null, symbol, per: model === "cpu" ? "listing-hour" : "GPU-hour" };
}

/** "USD per GPU-hour", "ETH per listing-hour". */
export function unitWords(u: PriceUnit): string {
  return `${u.usd ? "USD" : u.symbol} per ${u.per}`;
}

/** A price figure in the index's currency: "$2.99", or "0.00123 ETH" without a feed. */
export function formatIndexAmount(x: number, u: PriceUnit): string {
  return u.usd ? formatUsdFigure(x) : `${plainDecimal(x, 3)} ${u.symbol}`;
}

/** A price figure in the index's unit: "$2.99 per GPU-hour", or "0.00123 ETH per GPU-hour" without a feed. */
export function formatUnitFigure(x: number, u: PriceUnit): string {
  return `${formatIndexAmount(x, u)} per ${u.per}`;
}

/** A model's days as one chart's accessible name: what it shows and its main figures. */
export function chartLabel(
  metric: "utilization" | "price",
  model: string,
  days: readonly DayFigure[],
  unit: PriceUnit,
): string {
  const s = summarize(days);
  const span = days.length ? `${days[0]?.date} to ${days.at(-1)?.date}` : "no days";
  if (metric === "utilization") {
    const top = days.reduce<DayFigure | null>(
      (m, d) =>
        d.utilization !== null && (m === null || (d.utilization ?? 0) > (m.utilization ?? 0)) ? d : m,
      null,
    );
    return s.meanUtilization === null
      ? `Utilization of ${modelLabel(model)} per day, ${span}: nothing was listed.`
      : `Utilization of ${modelLabel(model)} per day, ${span}: ${pctWords(s.meanUtilization)} on average, highest ${pctWords(top?.utilization ?? null)} on ${top?.date}.`;
  }
  const priced = days.filter((d) => d.price !== null);
  if (priced.length === 0)
    return `Price paid for ${modelLabel(model)} per day, ${span}: no bookings with a price.`;
  const lo = Math.min(...priced.map((d) => d.price ?? 0));
  const hi = Math.max(...priced.map((d) => d.price ?? 0));
  return `Average price paid for ${modelLabel(model)} per day, ${span}: from ${formatUnitFigure(lo, unit)} to ${formatUnitFigure(hi, unit)} on ${priced.length} day${priced.length === 1 ? "" : "s"} with bookings.`;
}
