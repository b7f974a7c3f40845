import {
  alignDown,
  alignUp,
  type BusyInterval,
  busyFromWords,
  compareListingIds,
  formatDuration,
  formatRange,
  MARKET_MAX_BOOKING_SLOTS,
  matchGpus,
  parseRequest,
  RequestError,
  ScheduleError,
  type ScheduleListing,
  type ScheduleOptions,
  type ScheduleRequest,
  type ScheduleResult,
  schedule,
  slotOf,
  wordsForSlots,
} from "@computehive/sdk/ai";
import { formatUnits } from "viem";
import { z } from "zod";
import { isNative } from "./format.ts";
import { isValidTimeZone } from "./time.ts";
import type { SgListing } from "./types.ts";

// "Find a slot" (issue 7, Scheduling): `POST /api/schedule` (app/api/schedule/route.ts) takes a request in
// plain language ({ text, timeZone }) or as the scheduler's fields (a ScheduleRequest), reads the listings from
// the subgraph and their calendars from the chain, and answers the sdk's schedule() result with what it
// understood. It never books. Everything here is pure (the chain and the subgraph come in as `ScheduleDeps`),
// so it runs under vitest; it is imported by the server only: the page imports its types, never its code (the
// parser, chrono-node and zod stay out of the browser's bundle).

/* ------------------------------------------------------------------------------------------------------------
 * The API's body and answer
 * ---------------------------------------------------------------------------------------------------------- */

/** Longest plain-language request, characters. */
export const MAX_TEXT_CHARS = 500;
/** Longest window a structured request may search, seconds (the market books at most a year ahead). */
export const MAX_WINDOW_SECONDS = 366 * 86_400;
/** Longest booking asked, hours (the market's longest booking is 2,880 slots). */
export const MAX_HOURS = 24 * 366;
/** Calendar words read from the chain for one search at most (each is one `calendarWord` call). */
export const MAX_WORD_READS = 8_000;
/** Options per answer (and per alternative). */
export const SCHEDULE_LIMIT = 10;

export type ScheduleBody =
  | { kind: "text"; text: string; timeZone: string }
  | { kind: "request"; request: ScheduleRequest; timeZone: string };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** What `POST /api/schedule` answers (HTTP 200). */
export interface ScheduleAnswer {
  /** How the request was read, in words: the parser's lines, or the fields said back. Shown first. */
  understood: string[];
  /** What the request lacks, as questions; when any, `request` and `result` are null. */
  missing: string[];
  /** Readings that may not be what was meant, and limits of this search. */
  warnings: string[];
  request: ScheduleRequest | null;
  /** The sdk's schedule(): ranked options with reasons, or the alternatives when nothing fits. */
  result: ScheduleResult | null;
  /** The zone every time in the words above is given in. */
  timeZone: string;
  /** The chain's time the search ran at, unix seconds. */
  now: number;
  slotLength: number;
  /** Listings whose calendars were read from the chain. */
  calendarsRead: number;
}

/** What `POST /api/schedule` answers with HTTP 400 (the body) or 5xx (the subgraph, the chain). */
export interface ScheduleProblem {
  error: string;
}

const DAY = 86_400;

/** A finite number (JSON has no NaN/Infinity; zod 4's number refuses them), named in its messages. */
const num = (what: string) =>
  z.number({
    error: (iss) => (iss.input === undefined ? `${what} is missing.` : `${what} must be a number.`),
  });

const optionalText = (what: string, example: string) =>
  z
    .string({ error: `${what} must be text, e.g. ${example}.` })
    .trim()
    .min(1, { error: `${what} is empty: leave it out for any, or write e.g. ${example}.` })
    .max(64, { error: `${what} is at most 64 characters.` })
    .optional();

const timeZoneField = z
  .string({
    error: (iss) =>
      iss.input === undefined
        ? 'The time zone is missing: send "timeZone", an IANA name such as "Europe/Berlin".'
        : 'The time zone must be text such as "Europe/Berlin".',
  })
  .trim()
  .refine(isValidTimeZone, {
    error: (iss) =>
      `Unknown time zone “${String(iss.input)}”: use an IANA name such as "Europe/Berlin" or "UTC".`,
  });

const unixField = (what: string) =>
  num(what)
    .int({ error: `${what} must be whole unix seconds.` })
    .min(0, { error: `${what} must be unix seconds (after 1970).` })
    .max(2 ** 40, { error: `${what} is too far ahead.` });

const textSchema = z.strictObject(
  {
    text: z
      .string({ error: "The request must be text." })
      .trim()
      .min(1, {
        error: "Describe what you need, e.g. “4 hours on an A100 tomorrow afternoon under $2/h”.",
      })
      .max(MAX_TEXT_CHARS, { error: `The request is at most ${MAX_TEXT_CHARS} characters.` }),
    timeZone: timeZoneField,
  },
  { error: (iss) => unknownKeys(iss, 'a plain-language request has only "text" and "timeZone"') },
);

const REQUEST_FIELDS =
  "gpu, minVramGiB, minFp16Tflops, count, hours, earliestStart, latestEnd, budgetUsdPerHour, region, timeZone";

const requestSchema = z
  .strictObject(
    {
      gpu: optionalText("The GPU", "“A100”"),
      minVramGiB: num("The minimum VRAM (GiB)")
        .min(0, { error: "The minimum VRAM cannot be negative." })
        .max(4096, { error: "The minimum VRAM is at most 4,096 GiB per GPU." })
        .optional(),
      minFp16Tflops: num("The minimum throughput (FP16 TFLOPS)")
        .min(0, { error: "The minimum throughput cannot be negative." })
        .max(100_000, { error: "The minimum throughput is at most 100,000 TFLOPS." })
        .optional(),
      count: num("The GPU count")
        .int({ error: "The GPU count must be a whole number." })
        .min(0, { error: "The GPU count must be 0 (no GPU needed) or more." })
        .max(255, { error: "The GPU count is at most 255 (a listing has at most 255 GPUs)." })
        .default(1),
      hours: num("The duration (hours)")
        .positive({ error: "The duration must be more than 0 hours." })
        .max(MAX_HOURS, { error: `The duration is at most ${MAX_HOURS} hours.` }),
      earliestStart: unixField("The earliest start"),
      latestEnd: unixField("The latest end"),
      budgetUsdPerHour: num("The budget ($ per hour)")
        .min(0, { error: "The budget cannot be negative." })
        .optional(),
      region: optionalText("The region", "“eu” or “us-east”"),
      timeZone: timeZoneField.optional(),
    },
    { error: (iss) => unknownKeys(iss, `a request has the fields ${REQUEST_FIELDS}`) },
  )
  .refine((r) => r.latestEnd > r.earliestStart, {
    error: "The latest end must be after the earliest start.",
    path: ["latestEnd"],
  })
  .refine((r) => r.latestEnd - r.earliestStart <= MAX_WINDOW_SECONDS, {
    error: "The window is at most 366 days long: narrow it.",
    path: ["latestEnd"],
  });

function unknownKeys(iss: { code?: string; keys?: string[] }, rule: string): string | undefined {
  if (iss.code !== "unrecognized_keys") return undefined;
  const keys = (iss.keys ?? []).map((k) => `“${k}”`).join(", ");
  return `Unknown field${(iss.keys ?? []).length === 1 ? "" : "s"} ${keys}: ${rule}.`;
}

function messages(error: z.ZodError): string {
  return [...new Set(error.issues.map((i) => i.message))].join(" ");
}

/** Checks `POST /api/schedule`'s JSON body; the error is in words, for a person. */
export function parseScheduleBody(raw: unknown): Checked<ScheduleBody> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      error:
        "The body must be a JSON object: { text, timeZone } for a request in words, or the fields of a request (count, hours, earliestStart, latestEnd, …).",
    };
  }
  if ("text" in raw) {
    const r = textSchema.safeParse(raw);
    if (!r.success) return { ok: false, error: messages(r.error) };
    return { ok: true, value: { kind: "text", text: r.data.text, timeZone: r.data.timeZone } };
  }
  const r = requestSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: messages(r.error) };
  const { timeZone, ...fields } = r.data;
  const request: ScheduleRequest = {
    count: fields.count,
    hours: fields.hours,
    earliestStart: fields.earliestStart,
    latestEnd: fields.latestEnd,
  };
  if (fields.gpu !== undefined) request.gpu = fields.gpu;
  if (fields.minVramGiB !== undefined) request.minVramGiB = fields.minVramGiB;
  if (fields.minFp16Tflops !== undefined) request.minFp16Tflops = fields.minFp16Tflops;
  if (fields.budgetUsdPerHour !== undefined) request.budgetUsdPerHour = fields.budgetUsdPerHour;
  if (fields.region !== undefined) request.region = fields.region;
  return { ok: true, value: { kind: "request", request, timeZone: timeZone ?? "UTC" } };
}

/* ------------------------------------------------------------------------------------------------------------
 * Listings: the subgraph's rows as the scheduler's, prices in USD per hour
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * A listing's whole price in USD per hour: USD-priced listings state it (18 decimals); listings priced in the
 * native coin are converted at the market's feed (`nativeUsd`, USD per coin; null = no feed, no price);
 * listings priced in an ERC-20 token have no USD price (null: never within a budget, ranked as the dearest).
 */
export function listingUsdPerHour(
  l: Pick<SgListing, "usdPriced" | "pricePerHour" | "asset">,
  nativeUsd: number | null,
): number | null {
  if (!/^\d{1,78}$/.test(l.pricePerHour)) return null;
  const perHour = Number(formatUnits(BigInt(l.pricePerHour), 18));
  if (l.usdPriced) return perHour;
  if (l.asset.native || isNative(l.asset.id)) return nativeUsd === null ? null : perHour * nativeUsd;
  return null;
}

/** A subgraph listing as the scheduler takes it. */
export function toScheduleListing(
  l: SgListing,
  usdPerHour: number | null,
  busy: ReadonlyArray<BusyInterval> = [],
): ScheduleListing {
  return {
    id: l.id,
    hostId: l.host.id,
    gpuModel: l.gpuModel,
    gpuCount: l.gpuCount,
    vramMiBPerGpu: Number(l.vramMiBPerGpu),
    region: l.region,
    confidential: l.confidential,
    active: l.active,
    hostUnbonding: l.host.unbondAt !== "0",
    usdPerHour,
    minSlots: l.minSlots,
    maxSlots: l.maxSlots,
    leadTime: Number(l.leadTime),
    host: {
      completed: l.host.completed,
      noShows: l.host.noShows,
      declines: l.host.declines,
      disputesLost: l.host.disputesLost,
    },
    busy,
  };
}

/* ------------------------------------------------------------------------------------------------------------
 * Calendars: which words to read, for which listings
 * ---------------------------------------------------------------------------------------------------------- */

/**
 * The span of every calendar read for a request, unix seconds, slot-aligned: the request's window (from now
 * at the earliest) widened on each side by its own length, at least a day and at most a week, so that "widen
 * the window" can be suggested when nothing fits inside it. Never before now.
 */
export function calendarSpan(
  req: Pick<ScheduleRequest, "earliestStart" | "latestEnd">,
  now: number,
  slotLength: number,
): { from: number; until: number } {
  const extra = Math.min(7 * DAY, Math.max(DAY, req.latestEnd - req.earliestStart));
  return {
    from: alignDown(Math.max(now, req.earliestStart - extra), slotLength),
    until: alignUp(Math.max(now, req.latestEnd) + extra, slotLength),
  };
}

/** The calendar word indices (`calendarWord(listingId, word)`) that hold the span. */
export function spanWords(span: { from: number; until: number }, slotLength: number): number[] {
  return wordsForSlots(slotOf(span.from, slotLength), Math.ceil(span.until / slotLength));
}

type Options = Required<Pick<ScheduleOptions, "now" | "slotLength" | "known">>;

/**
 * The listings whose calendars the scheduler will look at: it is run on every listing with an empty calendar,
 * so its own checks (bookable, GPU, VRAM, throughput, count, region, budget, duration terms, lead time) pick
 * them. `relaxed` adds those that its alternatives may look at when nothing fits: each constraint dropped
 * alone, any duration, and the widened window. A listing outside the set is never walked, so its calendar is
 * not needed.
 */
export function calendarsNeeded(
  req: ScheduleRequest,
  listings: readonly ScheduleListing[],
  opts: Options,
  relaxed: boolean,
): Set<string> {
  const ids = new Set<string>();
  if (listings.length === 0) return ids;
  const empty = listings.map((l) => (l.busy.length === 0 ? l : { ...l, busy: [] }));
  const run = (r: ScheduleRequest, ls: readonly ScheduleListing[]) => {
    const result = schedule(r, ls, { now: opts.now, slotLength: opts.slotLength, limit: ls.length });
    for (const o of result.options) ids.add(o.listingId);
  };
  run(req, empty);
  if (!relaxed) return ids;
  run({ ...req, earliestStart: opts.known.from, latestEnd: opts.known.until }, empty);
  if (req.budgetUsdPerHour !== undefined) run({ ...req, budgetUsdPerHour: undefined }, empty);
  if (req.region !== undefined) run({ ...req, region: undefined }, empty);
  if (req.gpu !== undefined) run({ ...req, gpu: undefined }, empty);
  if (req.minVramGiB !== undefined) run({ ...req, minVramGiB: undefined }, empty);
  if (req.minFp16Tflops !== undefined) run({ ...req, minFp16Tflops: undefined }, empty);
  if (req.count > 1) run({ ...req, count: 1 }, empty);
  // Any duration the listing allows: one slot, on listings whose terms take anything.
  run(
    { ...req, hours: opts.slotLength / 3600 },
    empty.map((l) => ({ ...l, minSlots: 1, maxSlots: MARKET_MAX_BOOKING_SLOTS })),
  );
  return ids;
}

/* ------------------------------------------------------------------------------------------------------------
 * The search
 * ---------------------------------------------------------------------------------------------------------- */

/** Calendar words read from the chain: word index → the 256-bit word. */
export type Words = Map<number, bigint>;

/** What a search reads from outside; the route handler gives the subgraph and the chain. */
export interface ScheduleDeps {
  listings: readonly SgListing[];
  /** USD per native coin (the market's feed), or null when the market has none. */
  nativeUsd: number | null;
  /** The chain's time, unix seconds. */
  now: number;
  slotLength: number;
  /** Reads `calendarWord(listingId, word)` for each word of each entry; answers in the same order. */
  readCalendars: (reads: ReadonlyArray<{ listingId: string; words: number[] }>) => Promise<Words[]>;
  /** At most this many words per search (default MAX_WORD_READS). */
  maxWordReads?: number;
}

const usd = (v: number) => `$${v.toFixed(2)}`;
const trimmed = (v: number) => String(Math.round(v * 100) / 100);

/** A structured request said back in words, as the parser says a request in words back. */
export function describeRequest(req: ScheduleRequest, timeZone: string, now: number): string[] {
  const out: string[] = [];
  if (req.gpu === undefined) {
    out.push("GPU: any model (none named)");
  } else {
    const m = matchGpus(req.gpu);
    out.push(
      m.length === 0
        ? `GPU: “${req.gpu}” (not a GPU the assistant knows: listings whose model name contains it)`
        : m.length === 1
          ? `GPU: ${m[0]?.name}`
          : `GPU: ${req.gpu} (any of ${m.length}: ${m.map((g) => g.name).join(", ")})`,
    );
  }
  out.push(
    req.count === 0
      ? "count: no GPU needed (CPU-only machines fit)"
      : `count: ${req.count} GPU${req.count === 1 ? "" : "s"}`,
  );
  if (req.minVramGiB !== undefined) out.push(`VRAM: at least ${trimmed(req.minVramGiB)} GiB per GPU`);
  if (req.minFp16Tflops !== undefined)
    out.push(`throughput: at least ${trimmed(req.minFp16Tflops)} FP16 TFLOPS per GPU`);
  out.push(`duration: ${formatDuration(req.hours * 3600)}`);
  const start = Math.max(req.earliestStart, now);
  if (req.latestEnd > start) {
    const begun = start > req.earliestStart ? " (it has begun, so from now)" : "";
    out.push(`window: ${formatRange(start, req.latestEnd, timeZone)}${begun}`);
  }
  if (req.budgetUsdPerHour !== undefined)
    out.push(
      `budget: at most ${usd(req.budgetUsdPerHour)}/h for the whole listing${req.count > 1 ? ` (all ${req.count} GPUs)` : ""}`,
    );
  if (req.region !== undefined)
    out.push(`region: ${req.region} (any region starting with “${req.region.toLowerCase()}”)`);
  return out;
}

/**
 * Runs one search: reads the request (the parser for text), the calendars the scheduler needs (the
 * cheapest listings first, within `maxWordReads`), and schedule(). Never books. `ok: false` only for a
 * request the scheduler refuses (the words say why); what the request lacks is in `missing`.
 */
export async function findSlots(body: ScheduleBody, deps: ScheduleDeps): Promise<Checked<ScheduleAnswer>> {
  const { now, slotLength } = deps;
  const timeZone = body.timeZone;
  let request: ScheduleRequest | null;
  let understood: string[];
  let missing: string[] = [];
  const warnings: string[] = [];
  if (body.kind === "text") {
    try {
      const parsed = parseRequest(body.text, { now: new Date(now * 1000), timeZone, slotLength });
      ({ request, understood, missing } = parsed);
      warnings.push(...parsed.warnings);
    } catch (e) {
      if (e instanceof RequestError) return { ok: false, error: e.message };
      throw e;
    }
  } else {
    request = body.request;
    understood = describeRequest(request, timeZone, now);
    if (request.latestEnd <= now) {
      missing = [
        `a window that has not passed: ${formatRange(request.earliestStart, request.latestEnd, timeZone)} is over`,
      ];
    }
  }
  const base = { understood, warnings, timeZone, now, slotLength };
  if (request === null || missing.length > 0) {
    return { ok: true, value: { ...base, missing, request: null, result: null, calendarsRead: 0 } };
  }
  const req = request;

  const all = deps.listings.map((l) => toScheduleListing(l, listingUsdPerHour(l, deps.nativeUsd)));
  const span = calendarSpan(req, now, slotLength);
  const words = spanWords(span, slotLength);
  const opts = { now, slotLength, known: span };
  const budget = deps.maxWordReads ?? MAX_WORD_READS;
  const busy = new Map<string, BusyInterval[]>();
  const unread = new Set<string>();
  let reads = 0;

  const read = async (ids: Set<string>) => {
    const todo = all
      .filter((l) => ids.has(l.id) && !busy.has(l.id) && !unread.has(l.id))
      .sort(
        (a, b) =>
          (a.usdPerHour ?? Number.POSITIVE_INFINITY) - (b.usdPerHour ?? Number.POSITIVE_INFINITY) ||
          compareListingIds(a.id, b.id),
      );
    const batch: ScheduleListing[] = [];
    for (const l of todo) {
      if (reads + words.length > budget) unread.add(l.id);
      else {
        batch.push(l);
        reads += words.length;
      }
    }
    if (batch.length === 0) return;
    const answers = await deps.readCalendars(batch.map((l) => ({ listingId: l.id, words })));
    batch.forEach((l, i) => {
      busy.set(l.id, busyFromWords(answers[i] ?? new Map(), span.from, span.until, slotLength));
    });
  };
  // Listings whose calendar was needed but not read are left out: an unread calendar would look free.
  const listings = () =>
    all.filter((l) => !unread.has(l.id)).map((l) => ({ ...l, busy: busy.get(l.id) ?? [] }));
  const run = () => schedule(req, listings(), { ...opts, timeZone, limit: SCHEDULE_LIMIT });

  let result: ScheduleResult;
  try {
    await read(calendarsNeeded(req, all, opts, false));
    result = run();
    if (result.options.length === 0) {
      await read(calendarsNeeded(req, all, opts, true));
      result = run();
    }
  } catch (e) {
    if (e instanceof ScheduleError && e.code === "bad-request") return { ok: false, error: e.message };
    throw e;
  }

  if (unread.size > 0) {
    warnings.push(
      `${unread.size} matching listing${unread.size === 1 ? " was" : "s were"} left out: a search reads at most ${budget.toLocaleString("en-US")} calendar words from the chain (the cheapest listings first), and this window takes ${words.length} per listing. Narrow the window to see every listing.`,
    );
  }
  const pricedInEth = (l: SgListing) =>
    l.active && l.host.unbondAt === "0" && !l.usdPriced && (l.asset.native || isNative(l.asset.id));
  if (deps.nativeUsd === null && deps.listings.some(pricedInEth)) {
    warnings.push(
      "The market has no ETH/USD price feed, so listings priced in ETH have no price in dollars: they rank as the most expensive and never pass a budget.",
    );
  }
  return {
    ok: true,
    value: { ...base, missing, request: req, result, calendarsRead: busy.size },
  };
}
