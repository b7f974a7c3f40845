// The scheduler (issue 7, "Scheduling"): from a request (GPU model or minimum VRAM/throughput, count, hours,
// earliest start, latest end, budget, region) find the listings that can take it and the earliest free window
// on each one's on-chain calendar, and rank them by cost, start time and host reliability, each option with
// the reasons for its rank. When nothing fits, it says what to relax (budget, window, region, GPU, VRAM,
// throughput, count, hours), nearest first, with the options each relaxation would give.
//
// It suggests; it never books. Every booking rule it applies is the market's (contracts/src/Market.sol,
// `book` and `_checkWindow`): the listing is active and its host not unbonding; start and end on slot
// boundaries; start >= now + the listing's lead time and <= now + BOOKING_HORIZON; the number of slots
// between the listing's minSlots and maxSlots; every slot free. A listing is rented whole, so a listing with
// more GPUs than asked fits (at its whole price) and no option combines listings.
//
// Ranking (documented here once; each option's first reason shows its numbers):
//   score = (wCost·cost + wStart·start + wReliability·reliability) / (wCost + wStart + wReliability)
//   cost        = cheapest cost among the fits / this cost (1 for the cheapest; 0 when the price is unknown)
//   start       = 1 − (start − window start) / (latest possible start − window start), 1 when there is no slack
//   reliability = the host's hostReliability score; a new host (no finished booking) gets the mean score of
//                 the fits whose hosts have one, so being new neither helps nor hurts against this field
// The weights default to equal: no term is favoured unless the caller says so. Equal scores rank by listing
// id (decimal ids, as on-chain ids are, numerically and before any other id), so the order is deterministic.
//
// Pure and browser-safe. Busy intervals come from the chain through `busyFromWords` (sdk/src/ai/slots.ts).
import { findGpu, type GpuFacts, matchGpus } from "./gpus.ts";
import {
  alignDown,
  alignUp,
  type BusyInterval,
  checkBusy,
  checkTimeZone,
  earliestFreeStart,
  formatDuration,
  formatInstant,
  latestFreeStart,
  longestFreeStretch,
} from "./slots.ts";

/** `Market.BOOKING_HORIZON`: a booking may start at most this many seconds after the block's time. */
export const MARKET_BOOKING_HORIZON_SECONDS = 365 * 86_400;
/** `Market.MAX_BOOKING_SLOTS`: no listing's maxSlots exceeds it. */
export const MARKET_MAX_BOOKING_SLOTS = 2880;
/** How many options `schedule` returns unless `limit` says otherwise (a display choice, not a market rule). */
export const DEFAULT_SCHEDULE_LIMIT = 10;

export interface ScheduleListing {
  id: string;
  hostId: string;
  /** As nvidia-smi prints it; "" for a CPU-only listing. */
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: number;
  region: string;
  confidential: "None" | "SevSnp" | "Tdx";
  active: boolean;
  hostUnbonding: boolean;
  /** Whole-listing price in USD per hour, or null when it cannot be converted (such listings never pass a budget). */
  usdPerHour: number | null;
  minSlots: number;
  maxSlots: number;
  /** Seconds between booking and start (the listing's leadTime). */
  leadTime: number;
  /** The host's on-chain reputation counters. */
  host: { completed: number; noShows: number; declines: number; disputesLost: number };
  /**
   * Taken [start, end) intervals in unix seconds, sorted by start, covering at least the request's range
   * (and `opts.known` when given). Outside what they cover a slot would look free: the caller reads enough.
   */
  busy: ReadonlyArray<BusyInterval>;
}

export interface ScheduleRequest {
  /** A family or an exact name ("A100", "NVIDIA H100 80GB HBM3"), matched with matchGpus; absent = any. */
  gpu?: string;
  /** Minimum memory of each GPU, GiB. */
  minVramGiB?: number;
  /** Minimum dense FP16 throughput of each GPU, TFLOPS (from the GPU facts table; unknown GPUs do not pass). */
  minFp16Tflops?: number;
  /** GPUs wanted: a listing with at least this many fits. */
  count: number;
  hours: number;
  /** Unix seconds. */
  earliestStart: number;
  /** Unix seconds: the booking ends at or before. */
  latestEnd: number;
  /** Most the whole booking may cost per hour, USD (the listing's whole price, not per GPU). */
  budgetUsdPerHour?: number;
  /** Case-insensitive prefix of the listing's region ("eu" matches "eu-west-1"). */
  region?: string;
}

export interface ScheduleWeights {
  cost: number;
  start: number;
  reliability: number;
}

export interface ScheduleOptions {
  /** The chain's time, unix seconds (a block timestamp, or the clock). */
  now: number;
  /** The market's slotLength, seconds. */
  slotLength: number;
  /** Most options returned (default DEFAULT_SCHEDULE_LIMIT). */
  limit?: number;
  /** Ranking weights (default equal). */
  weights?: Partial<ScheduleWeights>;
  /** IANA zone for the times in reasons and suggestions (default "UTC"). */
  timeZone?: string;
  /**
   * The span every listing's `busy` covers, unix seconds. The "window" alternative looks for a fit only
   * inside it; default the request's own window (so that alternative is offered only when the caller read
   * more of the calendars than the request needed).
   */
  known?: { from: number; until: number };
}

export interface ScheduleOption {
  listingId: string;
  hostId: string;
  gpuModel: string;
  gpuCount: number;
  region: string;
  /** Unix seconds, slot-aligned: book [start, end). */
  start: number;
  end: number;
  slots: number;
  usdPerHour: number | null;
  /** usdPerHour × booked seconds / 3600, as the market prices it pro rata; null when the price is unknown. */
  costUsd: number | null;
  /** hostReliability's score: 0..1, null for a new host. */
  reliability: number | null;
  /** 0..1, see the header of sdk/src/ai/schedule.ts. */
  score: number;
  /** 1 = best. */
  rank: number;
  /** Why it ranks where it does, in words; the first one shows the score's parts. */
  reasons: string[];
}

/** How many listings passed each check, in order (each count includes only listings that passed the ones before). */
export interface ScheduleConsidered {
  listings: number;
  /** Active, host not unbonding. */
  bookable: number;
  /** GPU model, count, VRAM and throughput. */
  hardware: number;
  region: number;
  budget: number;
  /** The listing's minSlots/maxSlots allow the duration. */
  terms: number;
  /** A free window inside the request's range. */
  free: number;
}

export type Relaxation = "budget" | "window" | "region" | "gpu" | "vram" | "throughput" | "count" | "hours";

export interface ScheduleAlternative {
  relax: Relaxation;
  /** What to change, in words: "raise the budget to $2.40/h (from $2.00/h)". */
  suggestion: string;
  /** How big the change is, relative to what was asked (0.2 = 20 %); dropping a constraint counts as 1. */
  distance: number;
  options: ScheduleOption[];
}

export interface ScheduleResult {
  /** Best first; empty when nothing fits. */
  options: ScheduleOption[];
  /** What was searched: the effective window (now and slot alignment applied) and the duration. */
  searched: { earliestStart: number; latestEnd: number; slots: number; seconds: number };
  considered: ScheduleConsidered;
  /** Only when `options` is empty: one relaxation at a time, nearest first. */
  alternatives: ScheduleAlternative[];
  /** Things the caller should know about how the request was read (an unknown GPU name, …). */
  notes: string[];
}

/** Why `schedule` refused its input. */
export type ScheduleErrorCode =
  /** The request is malformed: count, hours, window, budget, VRAM, throughput, region, GPU. */
  | "bad-request"
  /** `now`, `slotLength`, `limit`, `weights`, `timeZone` or `known` is malformed. */
  | "bad-options"
  /** A listing is malformed (busy intervals unsorted or empty, non-numeric fields). */
  | "bad-listing";

export class ScheduleError extends Error {
  override name = "ScheduleError";
  readonly code: ScheduleErrorCode;

  constructor(code: ScheduleErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Share of a host's finished bookings that went well (the dApp's definition, dapp/lib/listings.ts). */
export interface HostReliability {
  /** completed / (completed + noShows + declines + disputesLost); null for a host with no finished booking. */
  score: number | null;
  completed: number;
  failures: number;
}

export function hostReliability(host: ScheduleListing["host"]): HostReliability {
  const failures = host.noShows + host.declines + host.disputesLost;
  const total = host.completed + failures;
  return { score: total === 0 ? null : host.completed / total, completed: host.completed, failures };
}

/* INPUT CHECKS */

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function checkRequest(req: ScheduleRequest): void {
  const bad = (message: string) => new ScheduleError("bad-request", message);
  if (typeof req !== "object" || req === null) throw bad("the request must be an object");
  // count 0: no GPU needed, so CPU-only machines (development hosts, gpuCount 0) fit too.
  if (!Number.isSafeInteger(req.count) || req.count < 0) {
    throw bad(`count must be a whole number of GPUs (0 for no GPU), got ${req.count}`);
  }
  if (
    req.count === 0 &&
    (req.gpu !== undefined || (req.minVramGiB ?? 0) > 0 || (req.minFp16Tflops ?? 0) > 0)
  ) {
    throw bad("a GPU model, memory or throughput needs a count of at least 1 GPU");
  }
  if (!isNum(req.hours) || req.hours <= 0) throw bad(`hours must be a positive number, got ${req.hours}`);
  if (!isNum(req.earliestStart) || !isNum(req.latestEnd)) {
    throw bad("earliestStart and latestEnd must be unix seconds");
  }
  if (req.latestEnd <= req.earliestStart) {
    throw bad(
      `the window is empty: latestEnd (${req.latestEnd}) must be after earliestStart (${req.earliestStart})`,
    );
  }
  const optionalNonNegative = (v: unknown, what: string) => {
    if (v !== undefined && (!isNum(v) || v < 0)) {
      throw bad(`${what} must be a number >= 0 when given, got ${String(v)}`);
    }
  };
  optionalNonNegative(req.budgetUsdPerHour, "budgetUsdPerHour");
  optionalNonNegative(req.minVramGiB, "minVramGiB");
  optionalNonNegative(req.minFp16Tflops, "minFp16Tflops");
  if (req.region !== undefined && (typeof req.region !== "string" || req.region.trim() === "")) {
    throw bad('region must be a non-empty prefix such as "eu" when given');
  }
  if (req.gpu !== undefined && (typeof req.gpu !== "string" || req.gpu.trim() === "")) {
    throw bad('gpu must be a non-empty name such as "A100" when given');
  }
}

interface Settings {
  now: number;
  slotLength: number;
  limit: number;
  weights: ScheduleWeights;
  timeZone: string;
  known: { from: number; until: number } | undefined;
  /** Busy lists already checked in this call. */
  checked: WeakSet<object>;
}

function checkOptions(opts: ScheduleOptions): Settings {
  const bad = (message: string) => new ScheduleError("bad-options", message);
  if (typeof opts !== "object" || opts === null) throw bad("schedule needs { now, slotLength }");
  if (!isNum(opts.now)) throw bad(`now must be unix seconds, got ${opts.now}`);
  if (!Number.isSafeInteger(opts.slotLength) || opts.slotLength <= 0) {
    throw bad(
      `slotLength must be the market's slot length in whole seconds (e.g. 900), got ${opts.slotLength}`,
    );
  }
  const limit = opts.limit ?? DEFAULT_SCHEDULE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw bad(`limit must be a whole number >= 1, got ${limit}`);
  const weights = { cost: 1, start: 1, reliability: 1, ...opts.weights };
  for (const [k, v] of Object.entries(weights)) {
    if (!isNum(v) || v < 0) throw bad(`weights.${k} must be a number >= 0, got ${v}`);
  }
  if (weights.cost + weights.start + weights.reliability === 0)
    throw bad("at least one weight must be above 0");
  const timeZone = opts.timeZone ?? "UTC";
  try {
    checkTimeZone(timeZone);
  } catch (error) {
    throw bad((error as Error).message);
  }
  if (opts.known !== undefined && (!isNum(opts.known.from) || !isNum(opts.known.until))) {
    throw bad("known must be { from, until } in unix seconds");
  }
  return {
    now: opts.now,
    slotLength: opts.slotLength,
    limit,
    weights,
    timeZone,
    known: opts.known,
    checked: new WeakSet(),
  };
}

/* THE SEARCH */

/** One search: the request's constraints resolved once, so the per-listing loop only compares numbers. */
interface Criteria {
  gpuKeys: ReadonlySet<string> | null;
  gpuText: string | null;
  minVramMiB: number;
  minFp16: number;
  count: number;
  region: string | null;
  budget: number | null;
  slots: number;
  /** Effective window: from max(earliestStart, now), slot-aligned, to latestEnd. */
  from: number;
  until: number;
}

interface Fit {
  listing: ScheduleListing;
  start: number;
  end: number;
  slots: number;
  costUsd: number | null;
  reliability: HostReliability;
}

function durationSlots(hours: number, slotLength: number): number {
  // Round the seconds first: 0.1 h × 3600 is 360.00000000000006 in floating point.
  return Math.ceil(Math.round(hours * 3600 * 1000) / 1000 / slotLength);
}

function criteriaFor(req: ScheduleRequest, s: Settings, notes: string[] | null): Criteria {
  let gpuKeys: Set<string> | null = null;
  let gpuText: string | null = null;
  if (req.gpu !== undefined) {
    const matched = matchGpus(req.gpu);
    gpuKeys = new Set(matched.map((g) => g.key));
    gpuText = req.gpu.trim().toLowerCase();
    if (matched.length === 0) {
      notes?.push(
        `"${req.gpu}" is not a GPU in the facts table (sdk/src/ai/gpus.ts): only listings whose model name contains it match`,
      );
    }
  }
  return {
    gpuKeys,
    gpuText,
    minVramMiB: (req.minVramGiB ?? 0) * 1024,
    minFp16: req.minFp16Tflops ?? 0,
    count: req.count,
    region: req.region === undefined ? null : req.region.trim().toLowerCase(),
    budget: req.budgetUsdPerHour ?? null,
    slots: durationSlots(req.hours, s.slotLength),
    from: alignUp(Math.max(req.earliestStart, s.now), s.slotLength),
    until: req.latestEnd,
  };
}

/** findGpu memoised for one call: a market has a few dozen distinct model strings and many listings. */
function gpuLookup(): (model: string) => GpuFacts | undefined {
  const cache = new Map<string, GpuFacts | undefined>();
  return (model) => {
    if (cache.has(model)) return cache.get(model);
    const facts = model === "" ? undefined : findGpu(model);
    cache.set(model, facts);
    return facts;
  };
}

type Stage = keyof ScheduleConsidered;

/**
 * The last check a listing passes before the calendar walk, as the `considered` count it adds to: "terms"
 * means it passed them all and its calendar decides.
 */
function staticStage(l: ScheduleListing, c: Criteria, gpu: (m: string) => GpuFacts | undefined): Stage {
  if (!l.active || l.hostUnbonding) return "listings";
  if (l.gpuCount < c.count) return "bookable";
  if (l.vramMiBPerGpu < c.minVramMiB) return "bookable";
  if (c.gpuKeys !== null || c.minFp16 > 0) {
    const facts = gpu(l.gpuModel);
    if (c.gpuKeys !== null) {
      const known = facts !== undefined && c.gpuKeys.has(facts.key);
      const byName =
        facts === undefined && c.gpuText !== null && l.gpuModel.toLowerCase().includes(c.gpuText);
      if (!known && !byName) return "bookable";
    }
    if (c.minFp16 > 0 && (facts === undefined || facts.fp16Tflops < c.minFp16)) return "bookable";
  }
  if (c.region !== null && !l.region.toLowerCase().startsWith(c.region)) return "hardware";
  if (c.budget !== null && (l.usdPerHour === null || l.usdPerHour > c.budget)) return "region";
  if (c.slots < l.minSlots || c.slots > l.maxSlots) return "budget";
  return "terms";
}

const STAGES: readonly Stage[] = ["listings", "bookable", "hardware", "region", "budget", "terms", "free"];

function emptyConsidered(): ScheduleConsidered {
  return { listings: 0, bookable: 0, hardware: 0, region: 0, budget: 0, terms: 0, free: 0 };
}

function checkListing(l: ScheduleListing): void {
  if (typeof l !== "object" || l === null || !Array.isArray(l.busy) || typeof l.id !== "string") {
    throw new ScheduleError(
      "bad-listing",
      "each listing must be an object with an id (string) and busy (an array of [start, end) pairs)",
    );
  }
}

/** Where a listing may start and must end: the request's window narrowed by the market's rules. */
function listingRange(l: ScheduleListing, c: Criteria, s: Settings): { from: number; until: number } {
  return {
    from: alignUp(Math.max(c.from, s.now + l.leadTime), s.slotLength),
    // The start may be at most now + BOOKING_HORIZON, so the end at most that plus the duration.
    until: Math.min(c.until, s.now + MARKET_BOOKING_HORIZON_SECONDS + c.slots * s.slotLength),
  };
}

/**
 * Checks a listing's busy intervals once per `schedule` call (the alternatives walk the same calendars again),
 * naming the listing when they are malformed. The walks are then told the list is checked.
 */
function checkedBusy(l: ScheduleListing, s: Settings): void {
  if (s.checked.has(l.busy)) return;
  try {
    checkBusy(l.busy);
  } catch (error) {
    throw new ScheduleError("bad-listing", `listing ${l.id}: ${(error as Error).message}`);
  }
  s.checked.add(l.busy);
}

function search(
  req: ScheduleRequest,
  listings: readonly ScheduleListing[],
  s: Settings,
  notes: string[] | null,
  gpu: (m: string) => GpuFacts | undefined,
): { fits: Fit[]; considered: ScheduleConsidered; criteria: Criteria } {
  const c = criteriaFor(req, s, notes);
  // How many listings stopped at each stage; `considered` is the running total from the end.
  const stoppedAt = emptyConsidered();
  const fits: Fit[] = [];
  const seconds = c.slots * s.slotLength;
  for (const l of listings) {
    checkListing(l);
    const stage = staticStage(l, c, gpu);
    if (stage !== "terms") {
      stoppedAt[stage]++;
      continue;
    }
    const range = listingRange(l, c, s);
    checkedBusy(l, s);
    const start = earliestFreeStart(l.busy, range.from, range.until, seconds, s.slotLength, true);
    stoppedAt[start === null ? "terms" : "free"]++;
    if (start === null) continue;
    fits.push({
      listing: l,
      start,
      end: start + seconds,
      slots: c.slots,
      costUsd: l.usdPerHour === null ? null : (l.usdPerHour * seconds) / 3600,
      reliability: hostReliability(l.host),
    });
  }
  const considered = emptyConsidered();
  let reached = 0;
  for (let i = STAGES.length - 1; i >= 0; i--) {
    const stage = STAGES[i] as Stage;
    reached += stoppedAt[stage];
    considered[stage] = reached;
  }
  return { fits, considered, criteria: c };
}

/* RANKING */

const DECIMAL = /^\d+$/;

/** Listing ids in order: decimal ids (on-chain ids) numerically, before any other id; others as strings. */
export function compareListingIds(a: string, b: string): number {
  const da = DECIMAL.test(a);
  const db = DECIMAL.test(b);
  if (da && db) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (da !== db) return da ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const usd = (v: number) => `$${v.toFixed(2)}`;
const percent = (v: number) => `${Math.round(v * 100)}%`;

function rank(fits: Fit[], c: Criteria, s: Settings, limit: number): ScheduleOption[] {
  if (fits.length === 0) return [];
  const seconds = c.slots * s.slotLength;
  let cheapest = Number.POSITIVE_INFINITY;
  let firstStart = Number.POSITIVE_INFINITY;
  let bestReliability = -1;
  let knownSum = 0;
  let knownCount = 0;
  for (const f of fits) {
    if (f.costUsd !== null) cheapest = Math.min(cheapest, f.costUsd);
    firstStart = Math.min(firstStart, f.start);
    const r = f.reliability.score;
    if (r !== null) {
      knownSum += r;
      knownCount++;
      bestReliability = Math.max(bestReliability, r);
    }
  }
  // With no host history in the field the term ranks nobody, so any constant does; 1 keeps scores readable.
  const neutral = knownCount === 0 ? 1 : knownSum / knownCount;
  const latestStart = alignDown(c.until, s.slotLength) - seconds;
  const slack = latestStart - c.from;
  const w = s.weights;
  const wSum = w.cost + w.start + w.reliability;

  const scored = fits.map((f) => {
    const cost = f.costUsd === null ? 0 : f.costUsd === 0 ? 1 : cheapest === 0 ? 0 : cheapest / f.costUsd;
    const start = slack <= 0 ? 1 : Math.max(0, Math.min(1, 1 - (f.start - c.from) / slack));
    const reliability = f.reliability.score ?? neutral;
    const score = (w.cost * cost + w.start * start + w.reliability * reliability) / wSum;
    return { f, cost, start, reliability, score };
  });
  scored.sort((a, b) => b.score - a.score || compareListingIds(a.f.listing.id, b.f.listing.id));

  const weightText =
    w.cost === w.start && w.start === w.reliability
      ? "equal weights"
      : `weights cost ${w.cost}, start ${w.start}, reliability ${w.reliability}`;
  const cheapestCount = fits.filter((f) => f.costUsd === cheapest).length;
  const firstCount = fits.filter((f) => f.start === firstStart).length;

  return scored.slice(0, limit).map((x, i) => {
    const { f } = x;
    const l = f.listing;
    const reasons: string[] = [
      `#${i + 1} of ${fits.length}: score ${x.score.toFixed(3)} (cost ${x.cost.toFixed(2)}, start ${x.start.toFixed(2)}, reliability ${x.reliability.toFixed(2)}; ${weightText})`,
    ];
    if (f.costUsd === null || l.usdPerHour === null) {
      reasons.push(
        "price cannot be converted to USD, so it cannot be compared: counted as the most expensive",
      );
    } else if (f.costUsd === cheapest) {
      reasons.push(
        `${cheapestCount > 1 ? "cheapest fit (tied)" : "cheapest fit"}: ${usd(l.usdPerHour)}/h (${usd(f.costUsd)} for ${formatDuration(seconds)})`,
      );
    } else {
      const above =
        cheapest === 0 ? "" : `, ${Math.round((f.costUsd / cheapest - 1) * 100)}% above the cheapest`;
      reasons.push(`${usd(l.usdPerHour)}/h (${usd(f.costUsd)} for ${formatDuration(seconds)})${above}`);
    }
    const when = formatInstant(f.start, s.timeZone);
    const leadLimited = f.start === alignUp(Math.max(c.from, s.now + l.leadTime), s.slotLength);
    const why =
      f.start === c.from ? "" : leadLimited ? " (its lead time allows no sooner)" : " (taken before that)";
    if (f.start === firstStart) {
      reasons.push(`${firstCount > 1 ? "starts first (tied)" : "starts first"}: ${when}${why}`);
    } else {
      reasons.push(`starts ${when}, ${formatDuration(f.start - firstStart)} after the earliest fit${why}`);
    }
    const r = f.reliability;
    if (r.score === null) {
      reasons.push(
        knownCount === 0
          ? "new host (no finished sessions yet); no host here has any, so reliability ranks nobody"
          : `new host (no finished sessions yet): counted as the average of the others, ${percent(neutral)}`,
      );
    } else {
      const most = r.score === bestReliability ? "most reliable host" : "host";
      reasons.push(`${most}: ${percent(r.score)} reliable (${r.completed} completed, ${r.failures} failed)`);
    }
    if (l.gpuCount > c.count) {
      reasons.push(`${l.gpuCount} GPUs, more than the ${c.count} asked: rented and priced whole`);
    }
    const prev = scored[i - 1];
    if (prev !== undefined && prev.score === x.score) {
      reasons.push(`same score as listing ${prev.f.listing.id}: the lower listing id ranks first`);
    }
    return {
      listingId: l.id,
      hostId: l.hostId,
      gpuModel: l.gpuModel,
      gpuCount: l.gpuCount,
      region: l.region,
      start: f.start,
      end: f.end,
      slots: f.slots,
      usdPerHour: l.usdPerHour,
      costUsd: f.costUsd,
      reliability: r.score,
      score: x.score,
      rank: i + 1,
      reasons,
    };
  });
}

/* ALTERNATIVES */

const RELAX_ORDER: readonly Relaxation[] = [
  "budget",
  "window",
  "hours",
  "count",
  "vram",
  "throughput",
  "region",
  "gpu",
];

function alternatives(
  req: ScheduleRequest,
  listings: readonly ScheduleListing[],
  s: Settings,
  gpu: (m: string) => GpuFacts | undefined,
): ScheduleAlternative[] {
  const out: ScheduleAlternative[] = [];
  const limit = s.limit;
  const run = (r: ScheduleRequest, settings: Settings = s) => search(r, listings, settings, null, gpu);
  const optionsFor = (r: ScheduleRequest) => {
    const { fits, criteria } = run(r);
    return rank(fits, criteria, s, limit);
  };
  const when = (t: number) => formatInstant(t, s.timeZone);

  // Budget and count re-rank a subset of one search without the constraint, rather than searching again.
  if (req.budgetUsdPerHour !== undefined) {
    const { fits, criteria } = run({ ...req, budgetUsdPerHour: undefined });
    const priced = fits.filter((f) => f.listing.usdPerHour !== null);
    if (priced.length > 0) {
      const need = Math.min(...priced.map((f) => f.listing.usdPerHour as number));
      const budget = req.budgetUsdPerHour;
      out.push({
        relax: "budget",
        suggestion: `raise the budget to ${usd(need)}/h (from ${usd(budget)}/h)`,
        distance: budget === 0 ? 1 : (need - budget) / budget,
        options: rank(
          priced.filter((f) => (f.listing.usdPerHour as number) <= need),
          criteria,
          s,
          limit,
        ),
      });
    }
  }

  const near = nearestWindow(req, listings, s, gpu);
  if (near !== null) {
    const parts: string[] = [];
    if (near.start < req.earliestStart) parts.push(`start from ${when(near.start)}`);
    if (near.end > req.latestEnd) parts.push(`end by ${when(near.end)}`);
    out.push({
      relax: "window",
      suggestion: `widen the window: ${parts.join(" and ")} (asked ${when(req.earliestStart)} to ${when(req.latestEnd)})`,
      distance: near.outside / (req.latestEnd - req.earliestStart),
      options: optionsFor({
        ...req,
        earliestStart: Math.min(req.earliestStart, near.start),
        latestEnd: Math.max(req.latestEnd, near.end),
      }),
    });
  }

  const hours = nearestDuration(req, listings, s, gpu);
  if (hours !== null) {
    const asked = durationSlots(req.hours, s.slotLength) * s.slotLength;
    const verb = hours.seconds < asked ? "shorten" : "lengthen";
    const because =
      hours.seconds < asked
        ? "the longest free stretch that fits"
        : "the shortest booking a matching listing takes";
    out.push({
      relax: "hours",
      suggestion: `${verb} the booking to ${formatDuration(hours.seconds)} (asked ${formatDuration(asked)}): ${because}`,
      distance: Math.abs(asked - hours.seconds) / asked,
      options: optionsFor({ ...req, hours: hours.seconds / 3600 }),
    });
  }

  if (req.count > 1) {
    const { fits, criteria } = run({ ...req, count: 1 });
    // Every other check is unchanged, so the most GPUs among these fits is the most that can be had.
    const n = Math.min(req.count - 1, Math.max(0, ...fits.map((f) => f.listing.gpuCount)));
    if (n >= 1) {
      out.push({
        relax: "count",
        suggestion: `ask for ${n} GPU${n === 1 ? "" : "s"} instead of ${req.count}`,
        distance: (req.count - n) / req.count,
        options: rank(
          fits.filter((f) => f.listing.gpuCount >= n),
          { ...criteria, count: n },
          s,
          limit,
        ),
      });
    }
  }

  const dropped = (
    relax: Relaxation,
    r: ScheduleRequest,
    suggest: (fits: Fit[]) => { suggestion: string; distance: number },
  ) => {
    const { fits, criteria } = run(r);
    if (fits.length === 0) return;
    out.push({ relax, ...suggest(fits), options: rank(fits, criteria, s, limit) });
  };
  if (req.minVramGiB !== undefined && req.minVramGiB > 0) {
    const minVramGiB = req.minVramGiB;
    dropped("vram", { ...req, minVramGiB: undefined }, (fits) => {
      const most = Math.max(...fits.map((f) => f.listing.vramMiBPerGpu)) / 1024;
      return {
        suggestion: `accept ${formatNumber(most)} GiB per GPU (asked at least ${formatNumber(minVramGiB)} GiB)`,
        distance: (minVramGiB - most) / minVramGiB,
      };
    });
  }
  if (req.minFp16Tflops !== undefined && req.minFp16Tflops > 0) {
    const minFp16Tflops = req.minFp16Tflops;
    dropped("throughput", { ...req, minFp16Tflops: undefined }, (fits) => {
      const most = Math.max(...fits.map((f) => gpu(f.listing.gpuModel)?.fp16Tflops ?? 0));
      return {
        suggestion:
          most > 0
            ? `accept ${formatNumber(most)} FP16 TFLOPS per GPU (asked at least ${formatNumber(minFp16Tflops)})`
            : "drop the throughput minimum: the GPUs that fit are not in the facts table",
        distance: most > 0 ? (minFp16Tflops - most) / minFp16Tflops : 1,
      };
    });
  }
  if (req.region !== undefined) {
    const region = req.region;
    dropped("region", { ...req, region: undefined }, (fits) => ({
      suggestion: `look outside "${region}": fits in ${distinct(fits.map((f) => f.listing.region)).join(", ")}`,
      distance: 1,
    }));
  }
  if (req.gpu !== undefined) {
    const asked = req.gpu;
    dropped("gpu", { ...req, gpu: undefined }, (fits) => ({
      suggestion: `accept another GPU than "${asked}": ${distinct(fits.map((f) => f.listing.gpuModel || "CPU only")).join(", ")} fit`,
      distance: 1,
    }));
  }

  return out.sort(
    (a, b) => a.distance - b.distance || RELAX_ORDER.indexOf(a.relax) - RELAX_ORDER.indexOf(b.relax),
  );
}

/**
 * The fit nearest the asked window among the listings that pass every other check, looking only where the
 * calendars are known (`opts.known`): on each listing the latest fit that ends by latestEnd (starting earlier
 * than asked) and the earliest that starts from earliestStart (ending later). Nearest = least time outside.
 */
function nearestWindow(
  req: ScheduleRequest,
  listings: readonly ScheduleListing[],
  s: Settings,
  gpu: (m: string) => GpuFacts | undefined,
): { start: number; end: number; outside: number } | null {
  const known = s.known ?? { from: req.earliestStart, until: req.latestEnd };
  const wide = {
    ...req,
    earliestStart: Math.min(known.from, req.earliestStart),
    latestEnd: Math.max(known.until, req.latestEnd),
  };
  if (wide.earliestStart >= req.earliestStart && wide.latestEnd <= req.latestEnd) return null;
  const c = criteriaFor(wide, s, null);
  const seconds = c.slots * s.slotLength;
  let best: { start: number; end: number; outside: number } | null = null;
  const consider = (start: number | null) => {
    if (start === null) return;
    const end = start + seconds;
    const outside = Math.max(0, req.earliestStart - start) + Math.max(0, end - req.latestEnd);
    if (best === null || outside < best.outside || (outside === best.outside && start < best.start)) {
      best = { start, end, outside };
    }
  };
  for (const l of listings) {
    if (staticStage(l, c, gpu) !== "terms") continue;
    const range = listingRange(l, c, s);
    checkedBusy(l, s);
    consider(
      latestFreeStart(l.busy, range.from, Math.min(range.until, req.latestEnd), seconds, s.slotLength, true),
    );
    const later = Math.max(range.from, alignUp(req.earliestStart, s.slotLength));
    consider(earliestFreeStart(l.busy, later, range.until, seconds, s.slotLength, true));
  }
  return best;
}

/**
 * The booking length nearest the asked one that some listing passing every other check can take: the
 * longest free stretch shorter than asked (within its minSlots), or its minSlots when the ask is below it.
 */
function nearestDuration(
  req: ScheduleRequest,
  listings: readonly ScheduleListing[],
  s: Settings,
  gpu: (m: string) => GpuFacts | undefined,
): { seconds: number } | null {
  const c = criteriaFor(req, s, null);
  const asked = c.slots;
  let best: number | null = null;
  const closer = (slots: number) =>
    best === null ||
    Math.abs(slots - asked) < Math.abs(best - asked) ||
    (Math.abs(slots - asked) === Math.abs(best - asked) && slots < best);
  for (const l of listings) {
    // Every check but the listing's duration terms.
    const stage = staticStage(l, { ...c, slots: l.minSlots }, gpu);
    if (stage !== "terms") continue;
    const range = listingRange(l, { ...c, slots: l.maxSlots }, s);
    if (asked < l.minSlots) {
      const seconds = l.minSlots * s.slotLength;
      checkedBusy(l, s);
      const start = earliestFreeStart(l.busy, range.from, range.until, seconds, s.slotLength, true);
      if (closer(l.minSlots) && start !== null) {
        best = l.minSlots;
      }
      continue;
    }
    const cap = Math.min(asked - 1, l.maxSlots) * s.slotLength;
    if (cap <= 0) continue;
    checkedBusy(l, s);
    const stretch = longestFreeStretch(l.busy, range.from, range.until, cap, s.slotLength, true);
    if (stretch === null) continue;
    const slots = stretch.length / s.slotLength;
    if (slots >= l.minSlots && closer(slots)) best = slots;
  }
  return best === null ? null : { seconds: best * s.slotLength };
}

function distinct(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/* THE ENTRY POINT */

/**
 * Finds the listings that can take `req` and the earliest free window on each, ranked best first (see the
 * header of this file). When none fits, `alternatives` says what to relax. Throws `ScheduleError` for
 * malformed input ("bad-request", "bad-options", "bad-listing").
 */
export function schedule(
  req: ScheduleRequest,
  listings: readonly ScheduleListing[],
  opts: ScheduleOptions,
): ScheduleResult {
  checkRequest(req);
  const s = checkOptions(opts);
  if (!Array.isArray(listings)) throw new ScheduleError("bad-listing", "listings must be an array");
  const gpu = gpuLookup();
  const notes: string[] = [];
  const { fits, considered, criteria } = search(req, listings, s, notes, gpu);
  const options = rank(fits, criteria, s, s.limit);
  const seconds = criteria.slots * s.slotLength;
  if (criteria.slots > MARKET_MAX_BOOKING_SLOTS) {
    notes.push(
      `${formatDuration(seconds)} is ${criteria.slots} slots, more than the market's longest booking (${MARKET_MAX_BOOKING_SLOTS} slots)`,
    );
  }
  if (alignDown(criteria.until, s.slotLength) - criteria.from < seconds) {
    notes.push(
      `the window from ${formatInstant(criteria.from, s.timeZone)} to ${formatInstant(criteria.until, s.timeZone)} is shorter than ${formatDuration(seconds)}`,
    );
  }
  return {
    options,
    searched: { earliestStart: criteria.from, latestEnd: criteria.until, slots: criteria.slots, seconds },
    considered,
    alternatives: options.length === 0 ? alternatives(req, listings, s, gpu) : [],
    notes,
  };
}
