// The plain-language request (issue 7): "4 hours on an A100 tomorrow afternoon under $2/h" becomes the
// scheduler's ScheduleRequest (sdk/src/ai/schedule.ts), with every piece of it said back in words
// (`understood`) so that a person sees what was read before anything is booked. Nothing here books: a page
// shows `understood`, lets the person correct it, and only then searches.
//
// How it reads a request: rules (regular expressions) take out, one after another, the budget, the VRAM and
// throughput minimums, the duration, the GPU count and model (names resolved with matchGpus from
// sdk/src/ai/gpus.ts) and the region; chrono-node reads the dates and times in what is left. Each rule blanks
// what it took, so "4 hours" is never also read by chrono as "4 hours from now".
//
// Time zones: chrono's `timezone` reference option takes only abbreviations ("CET") or a fixed offset, taken at
// the reference instant, so a window across a daylight-saving change would be off by the change, and chrono
// computes with the runtime's local Date. So chrono is used for calendar components only: it is handed the
// wall clock of the person's IANA zone as its reference, and the components it returns (year, month, day,
// hour, minute) are turned into instants with zonedToUnix (Intl, sdk/src/ai/slots.ts). "tomorrow 1am to 5am"
// in Europe/Berlin on the night the clocks go forward is then 3 real hours, and the scheduler sizes the
// window from those real seconds.
//
// Rules for windows (issue 7): "morning" 06:00–12:00, "afternoon" 12:00–18:00, "evening" 18:00–24:00 local;
// "tonight"/"night" 18:00 to 06:00 the next morning (the evening and the night until the morning begins); a
// bare day is the whole day; "weekend" Saturday 00:00 to Monday 00:00; "week" seven days from the day named;
// an exact time ("at 3pm") is the start; "after"/"from" a time runs to the end of that day, "before"/"by"/
// "until" a time runs from the start of that day (or now); no date at all = from now for 7 days. A window
// already begun starts now.
import * as chrono from "chrono-node";
import { type GpuFacts, matchGpus } from "./gpus.ts";
import type { ScheduleRequest } from "./schedule.ts";
import {
  addDays,
  checkTimeZone,
  formatDuration,
  formatInstant,
  formatRange,
  wallTime,
  zonedToUnix,
} from "./slots.ts";

/** With no date in the request, the window runs this many days from now (issue 7). */
export const DEFAULT_WINDOW_DAYS = 7;

export interface ParseRequestOptions {
  /** The moment "tomorrow" and "tonight" are counted from. */
  now: Date;
  /** The person's IANA time zone ("Europe/Berlin"); every time in the text is read in it. */
  timeZone: string;
  /**
   * The market's slot length, seconds. With it, a total budget is spread over the booked length (the hours
   * rounded up to whole slots, as the market charges); without it, over the hours asked.
   */
  slotLength?: number;
}

export interface ParsedRequest {
  /** The request, or null when something it needs is missing (see `missing`). */
  request: ScheduleRequest | null;
  /** Each piece, in words: "GPU: A100 (any of 4 variants)", "window: Mon 23 Nov 12:00–18:00 Europe/Berlin". */
  understood: string[];
  /** What the text does not say and the request needs, as a question a person can answer. */
  missing: string[];
  /** Readings that may not be what was meant: an assumed unit, a clock change inside the window, … */
  warnings: string[];
}

export type RequestErrorCode = "bad-input";

/** Thrown only for malformed arguments (text not a string, now not a valid Date, unknown time zone). */
export class RequestError extends Error {
  override name = "RequestError";
  readonly code: RequestErrorCode;

  constructor(code: RequestErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/* THE TEXT, TAKEN PIECE BY PIECE */

/** The request's text with what rules have taken blanked out (same length, so chrono's indices still fit). */
class Remaining {
  text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** The first match of `re`, blanked out; null when none. */
  take(re: RegExp, accept: (m: RegExpExecArray) => boolean = () => true): RegExpExecArray | null {
    const g = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
    for (let m = g.exec(this.text); m !== null; m = g.exec(this.text)) {
      if (!accept(m)) continue;
      this.blank(m.index, m.index + m[0].length);
      return m;
    }
    return null;
  }

  blank(from: number, to: number): void {
    this.text = this.text.slice(0, from) + " ".repeat(to - from) + this.text.slice(to);
  }
}

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  a: 1,
  an: 1,
  one: 1,
  single: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  sixteen: 16,
};
const NUM = String.raw`(\d+(?:[.,]\d+)?|${Object.keys(NUMBER_WORDS).join("|")})`;

function numberOf(word: string): number {
  const w = word.toLowerCase();
  return NUMBER_WORDS[w] ?? Number(w.replace(",", "."));
}

const usd = (v: number) => `$${v.toFixed(2)}`;
const trimmed = (v: number) => String(Math.round(v * 100) / 100);

/* BUDGET */

interface Budget {
  amount: number;
  kind: "hour" | "gpu-hour" | "total";
  /** The words it came from. */
  text: string;
  assumedHourly: boolean;
}

const MONEY = String.raw`(?:\$\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:usd|dollars?|\$))`;
const PER_HOUR = String.raw`\s*(?:\/\s*|per\s+|an?\s+|each\s+)(gpu[\s-]*(?:h|hr|hour)|h|hr|hour)\b`;
const CAP_WORD = String.raw`under|below|less\s+than|at\s+most|max(?:imum)?|up\s+to|no\s+more\s+than|<=|≤|<`;
const TOTAL_WORD = String.raw`budget(?:\s+of)?|total(?:\s+of)?|spend(?:ing)?`;

function takeBudget(r: Remaining): Budget | null {
  const hourly = r.take(
    new RegExp(String.raw`(?:(?:${CAP_WORD}|${TOTAL_WORD})\s*)?${MONEY}${PER_HOUR}`, "i"),
  );
  if (hourly !== null) {
    const perGpu = /^gpu/i.test(hourly[3] ?? "");
    return {
      amount: Number(hourly[1] ?? hourly[2]),
      kind: perGpu ? "gpu-hour" : "hour",
      text: hourly[0].trim(),
      assumedHourly: false,
    };
  }
  const total = r.take(
    new RegExp(
      String.raw`(?:(${TOTAL_WORD}|${CAP_WORD})\s*)?${MONEY}(\s*(?:in\s+)?total|\s*overall|\s*altogether)?`,
      "i",
    ),
  );
  if (total === null) return null;
  const isTotal = /^(budget|total|spend)/i.test(total[1] ?? "") || total[4] !== undefined;
  return {
    amount: Number(total[2] ?? total[3]),
    kind: isTotal ? "total" : "hour",
    text: total[0].trim(),
    assumedHourly: !isTotal,
  };
}

/* HARDWARE */

const GIB = String.raw`(?:gib|gb|g)\b`;
const MEMORY = String.raw`(?:\s*(?:of\s+)?(?:vram|gpu\s+memory|memory))`;

function takeVram(r: Remaining): number | null {
  const at = String.raw`at\s+least|min(?:imum)?|>=|≥|over|more\s+than|no\s+less\s+than`;
  const m =
    r.take(new RegExp(String.raw`(?:${at})\s*(\d+(?:\.\d+)?)\s*${GIB}${MEMORY}?`, "i")) ??
    r.take(new RegExp(String.raw`(\d+(?:\.\d+)?)\s*(?:gib|gb)\s*\+${MEMORY}?`, "i")) ??
    r.take(new RegExp(String.raw`(\d+(?:\.\d+)?)\s*${GIB}${MEMORY}`, "i"));
  return m === null ? null : Number(m[1]);
}

function takeBareSize(r: Remaining): number | null {
  const m = r.take(/\b(\d+(?:\.\d+)?)\s*(?:gib|gb)\b/i);
  return m === null ? null : Number(m[1]);
}

function takeTflops(r: Remaining): number | null {
  const m = r.take(
    /(?:(?:at\s+least|min(?:imum)?|>=|≥|over|more\s+than)\s*)?(\d+(?:\.\d+)?)\s*(?:fp16\s*)?tflops?(?:\s*(?:of\s+)?fp16)?/i,
  );
  return m === null ? null : Number(m[1]);
}

interface Duration {
  hours: number;
  text: string;
}

function takeDuration(r: Remaining): Duration | null {
  // "in 3 hours" is a start time, not a length: chrono reads it.
  const notAfterIn = (m: RegExpExecArray) => !/\b(in|within)\s+$/i.test(r.text.slice(0, m.index));
  const hm = r.take(
    /\b(?:for\s+)?(\d+)\s*h(?:ours?|rs?)?\s*(?:and\s+)?(\d+)\s*m(?:in(?:ute)?s?)?\b/i,
    notAfterIn,
  );
  if (hm !== null) return { hours: Number(hm[1]) + Number(hm[2]) / 60, text: hm[0].trim() };
  const half = r.take(/\b(?:for\s+)?half\s+an?\s+hour\b/i, notAfterIn);
  if (half !== null) return { hours: 0.5, text: half[0].trim() };
  const andHalf = r.take(
    new RegExp(String.raw`\b(?:for\s+)?${NUM}\s+and\s+a\s+half\s+hours?\b`, "i"),
    notAfterIn,
  );
  if (andHalf !== null) return { hours: numberOf(andHalf[1] as string) + 0.5, text: andHalf[0].trim() };
  const m = r.take(
    new RegExp(
      String.raw`\b(?:for\s+)?${NUM}\s*-?\s*(hours?|hrs?|h|minutes?|mins?|m|days?)\b(?:\s+and\s+a\s+half)?`,
      "i",
    ),
    notAfterIn,
  );
  if (m === null) return null;
  const n = numberOf(m[1] as string) + (/and\s+a\s+half$/i.test(m[0]) ? 0.5 : 0);
  const unit = (m[2] as string).toLowerCase();
  const hours = unit.startsWith("d") ? n * 24 : unit.startsWith("m") ? n / 60 : n;
  return { hours, text: m[0].trim() };
}

interface Gpu {
  query: string;
  matches: GpuFacts[];
  count: number | null;
}

/** The longest run of 1–3 words, left to right, that names GPUs; its count from the words around it. */
function takeGpu(r: Remaining): Gpu | null {
  const words = [...r.text.matchAll(/[A-Za-z0-9][A-Za-z0-9.-]*/g)];
  for (let i = 0; i < words.length; i++) {
    for (let n = Math.min(3, words.length - i); n >= 1; n--) {
      const span = words.slice(i, i + n);
      // Every GPU name has a digit; a bare number must be a 4-digit model ("4090"), never "100" or a date.
      if (!span.some((w) => /\d/.test(w[0]))) continue;
      if (n === 1 && /^\d+$/.test(span[0]?.[0] ?? "") && !/^\d{4}$/.test(span[0]?.[0] ?? "")) continue;
      const first = span[0] as RegExpMatchArray;
      const last = span[n - 1] as RegExpMatchArray;
      const from = first.index as number;
      const to = (last.index as number) + last[0].length;
      let query = r.text.slice(from, to);
      // "A100s", "H100s": a plural of a model, tried first ("A100s" also loosely matches "A100 SXM").
      let matches = /\ds$/i.test(query) ? matchGpus(query.slice(0, -1)) : [];
      if (matches.length > 0) query = query.slice(0, -1);
      else matches = matchGpus(query);
      if (matches.length === 0) continue;
      r.blank(from, to);
      return { query, matches, count: takeCount(r, from, to) };
    }
  }
  return null;
}

/** "2x H100", "2 H100", "two A100s", "an A100", "H100 x 4" around the model's words at [from, to). */
function takeCount(r: Remaining, from: number, to: number): number | null {
  const head = r.text.slice(0, from).trimEnd();
  const before = new RegExp(
    String.raw`(?:^|[^A-Za-z0-9$.])${NUM}\s*(?:[x×*]\s*)?(?:(?:nvidia|amd|geforce|tesla|rtx)\s+)?$`,
    "i",
  ).exec(head);
  if (before !== null) {
    const word = before[1] as string;
    r.blank(head.length - before[0].length + before[0].indexOf(word), head.length);
    return numberOf(word);
  }
  const after = /^\s*[x×*]\s*(\d+)\b/i.exec(r.text.slice(to));
  if (after !== null) {
    r.blank(to, to + after[0].length);
    return Number(after[1]);
  }
  return null;
}

function takeGpuCount(r: Remaining): number | null {
  const m = r.take(new RegExp(String.raw`\b${NUM}\s*(?:[x×]\s*)?gpus?\b`, "i"));
  return m === null ? null : numberOf(m[1] as string);
}

/* REGION */

/** Place names people write, as the prefixes of the market's region names (cloud style: "eu-west", "us-east"). */
const PLACES: Readonly<Record<string, string>> = {
  europe: "eu",
  eu: "eu",
  "the eu": "eu",
  us: "us",
  usa: "us",
  "the us": "us",
  "the usa": "us",
  "united states": "us",
  "the united states": "us",
  "north america": "us",
  asia: "ap",
  "asia pacific": "ap",
  "south america": "sa",
  canada: "ca",
};

function takeRegion(r: Remaining): { prefix: string; text: string } | null {
  const named = r.take(/\bregion\s*[:=]?\s*([a-z]{2}(?:-[a-z0-9]+)*)\b/i);
  if (named !== null) return { prefix: (named[1] as string).toLowerCase(), text: named[0].trim() };
  const full = r.take(
    /\b((?:eu|us|ap|sa|ca|me|af|uk|au|jp|kr|cn|br|mx)-(?:north|south|east|west|central)(?:east|west)?(?:-\d+)?)\b/i,
  );
  if (full !== null) return { prefix: (full[1] as string).toLowerCase(), text: full[0].trim() };
  const places = Object.keys(PLACES)
    .sort((a, b) => b.length - a.length)
    .map((p) => p.replace(/ /g, String.raw`\s+`))
    .join("|");
  const place = r.take(new RegExp(String.raw`\b(?:in|within)\s+(${places})\b`, "i"));
  if (place === null) return null;
  const key = (place[1] as string).toLowerCase().replace(/\s+/g, " ");
  return { prefix: PLACES[key] as string, text: place[0].trim() };
}

/* DATES AND TIMES */

interface Window {
  start: number;
  end: number;
  /** How it was read, for `understood`. */
  how: string;
}

interface Clock {
  timeZone: string;
  now: number;
  /** The wall clock at `now`, as chrono's reference. */
  ref: Date;
  refUtcMs: number;
}

/** What chrono read for one point in time, copied out of its components. */
interface Moment {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday; chrono's implied value when the text names no weekday. */
  weekday: number;
  /** The text gives a time of day. */
  timed: boolean;
  /** The text gives a date (a day, a weekday, "today", "tomorrow", "next week"). */
  dated: boolean;
  /** Minutes east of UTC when the text names a zone ("3pm UTC"), else null. */
  offset: number | null;
  /** "in 3 hours": a span of real time from now. */
  relative: boolean;
}

function momentOf(c: chrono.ParsedComponents): Moment {
  const tags = c.tags();
  const get = (name: chrono.Component) => c.get(name) ?? 0;
  const relative = tags.has("result/relativeDateAndTime");
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
    second: get("second"),
    weekday: get("weekday"),
    timed: c.isCertain("hour"),
    dated:
      c.isCertain("day") ||
      c.isCertain("weekday") ||
      [...tags].some((t) =>
        /^casualReference\/(today|tomorrow|yesterday|tonight)$|^result\/relativeDate$/.test(t),
      ),
    offset: !relative && c.isCertain("timezoneOffset") ? get("timezoneOffset") : null,
    relative,
  };
}

/** The instant a moment denotes, read in the person's zone (or the zone the text names). */
function instantOf(m: Moment, clock: Clock): number {
  const asUtc = Date.UTC(m.year, m.month - 1, m.day, m.hour, m.minute, m.second);
  if (m.relative) return clock.now + Math.round((asUtc - clock.refUtcMs) / 1000);
  if (m.offset !== null) return asUtc / 1000 - m.offset * 60;
  return zonedToUnix(clock.timeZone, m.year, m.month, m.day, m.hour, m.minute, m.second);
}

/** Local midnight at the start of the moment's day, `plusDays` later, plus `hours` (may pass 24). */
function dayStart(m: Moment, clock: Clock, plusDays = 0, hours = 0): number {
  const day = addDays(m, plusDays);
  return zonedToUnix(clock.timeZone, day.year, day.month, day.day, hours);
}

/** Part-of-day words: [pattern, name, from hour, to hour (past 24 = the next day)]. */
const PART_OF_DAY: ReadonlyArray<readonly [RegExp, string, number, number]> = [
  [/\b(tonight|night)\b/i, "night", 18, 30],
  [/\bmorning\b/i, "morning", 6, 12],
  [/\bafternoon\b/i, "afternoon", 12, 18],
  [/\bevening\b/i, "evening", 18, 24],
];

const hourText = (h: number) =>
  h > 24 ? `${String(h - 24).padStart(2, "0")}:00 the next day` : `${String(h).padStart(2, "0")}:00`;

function windowOf(results: chrono.ParsedResult[], text: string, clock: Clock): Window {
  const zone = clock.timeZone;
  if (results.length === 0) {
    const w = wallTime(clock.now, zone);
    const end = addDays(w, DEFAULT_WINDOW_DAYS);
    return {
      start: clock.now,
      end: zonedToUnix(zone, end.year, end.month, end.day, w.hour, w.minute, w.second),
      how: `no date given: from now for ${DEFAULT_WINDOW_DAYS} days`,
    };
  }
  const first = results[0] as chrono.ParsedResult;
  const quoted = `from "${results
    .slice(0, 2)
    .map((x) => x.text.replace(/[\s,.;]+$/, ""))
    .join(" … ")}"`;
  const from = (m: Moment) => (m.timed ? instantOf(m, clock) : dayStart(m, clock));
  const to = (m: Moment) => (m.timed ? instantOf(m, clock) : dayStart(m, clock, 1));
  // chrono leaves `end` null (not undefined) when the text gives no range.
  const firstEnd = first.end ?? null;
  if (firstEnd !== null) {
    return { start: from(momentOf(first.start)), end: to(momentOf(firstEnd)), how: quoted };
  }
  const second = results[1];
  if (second !== undefined && (second.end ?? null) === null) {
    // "between 3pm and 6pm on 24 Nov": two times, the date on one of them.
    const a = momentOf(first.start);
    const b = momentOf(second.start);
    const start = !a.dated && b.dated ? { ...a, year: b.year, month: b.month, day: b.day } : a;
    return { start: from(start), end: to(b), how: quoted };
  }
  const m = momentOf(first.start);
  const before = text.slice(0, first.index).toLowerCase();
  const opensAfter = /\b(after|from|starting|since)\s*(at\s+|on\s+)?$/.test(before);
  const closesBefore = /\b(before|by|until|till|no\s+later\s+than)\s*(at\s+|on\s+)?$/.test(before);
  if (m.timed) {
    const t = instantOf(m, clock);
    if (opensAfter) return { start: t, end: dayStart(m, clock, 1), how: `${quoted}, to the end of that day` };
    if (closesBefore)
      return { start: dayStart(m, clock), end: t, how: `${quoted}, from the start of that day` };
    return { start: t, end: Number.NaN, how: `${quoted}, starting then` };
  }
  if (/\bweekend\b/i.test(first.text)) {
    const toSaturday = (6 - m.weekday + 7) % 7;
    return {
      start: dayStart(m, clock, toSaturday),
      end: dayStart(m, clock, toSaturday + 2),
      how: `${quoted}: Saturday and Sunday`,
    };
  }
  if (/\bweek\b/i.test(first.text)) {
    return {
      start: dayStart(m, clock),
      end: dayStart(m, clock, 7),
      how: `${quoted}: seven days from that day`,
    };
  }
  for (const [re, name, fromHour, toHour] of PART_OF_DAY) {
    if (!re.test(first.text)) continue;
    // With no day named, chrono may already have moved a part of the day that began to tomorrow: "this
    // morning" is today's (from now on), and a bare "afternoon" asked after it ended is tomorrow's.
    let day: Moment = m;
    if (!m.dated) {
      day = { ...m, ...wallTime(clock.now, zone) };
      const ended = dayStart(day, clock, 0, toHour) <= clock.now;
      if (ended && !/\bthis\s/i.test(first.text)) day = { ...day, ...addDays(day, 1) };
    }
    return {
      start: dayStart(day, clock, 0, fromHour),
      end: dayStart(day, clock, 0, toHour),
      how: `${quoted}: the ${name}, ${hourText(fromHour)}–${hourText(toHour)}`,
    };
  }
  if (closesBefore) {
    return {
      start: clock.now,
      end: dayStart(m, clock, 1),
      how: `${quoted}: from now to the end of that day`,
    };
  }
  if (opensAfter) {
    const skip = /\bafter\s*(on\s+)?$/.test(before) ? 1 : 0;
    return {
      start: dayStart(m, clock, skip),
      end: dayStart(m, clock, skip + DEFAULT_WINDOW_DAYS),
      how: `${quoted}: ${DEFAULT_WINDOW_DAYS} days from ${skip === 1 ? "the day after" : "that day"}`,
    };
  }
  return { start: dayStart(m, clock), end: dayStart(m, clock, 1), how: `${quoted}: the whole day` };
}

/* THE ENTRY POINT */

function checkOptions(text: unknown, opts: ParseRequestOptions): Clock {
  if (typeof text !== "string") {
    throw new RequestError("bad-input", `the request must be text, got ${typeof text}`);
  }
  if (
    typeof opts !== "object" ||
    opts === null ||
    !(opts.now instanceof Date) ||
    Number.isNaN(opts.now.getTime())
  ) {
    throw new RequestError("bad-input", "parseRequest needs { now: a valid Date, timeZone: an IANA zone }");
  }
  try {
    checkTimeZone(opts.timeZone);
  } catch (error) {
    throw new RequestError("bad-input", (error as Error).message);
  }
  if (opts.slotLength !== undefined && (!Number.isSafeInteger(opts.slotLength) || opts.slotLength <= 0)) {
    throw new RequestError(
      "bad-input",
      `slotLength must be a positive whole number of seconds, got ${opts.slotLength}`,
    );
  }
  const now = Math.floor(opts.now.getTime() / 1000);
  const w = wallTime(now, opts.timeZone);
  return {
    timeZone: opts.timeZone,
    now,
    // chrono computes with the runtime's local Date: give it a local Date that reads the person's wall clock.
    ref: new Date(w.year, w.month - 1, w.day, w.hour, w.minute, w.second),
    refUtcMs: Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second),
  };
}

/**
 * Reads a plain-language request. Never books and never throws for what the text says: what it could not
 * read is in `missing` (and `request` is null), what it assumed is in `understood` and `warnings`. Throws
 * `RequestError` ("bad-input") only for malformed arguments.
 */
export function parseRequest(text: string, opts: ParseRequestOptions): ParsedRequest {
  const clock = checkOptions(text, opts);
  const understood: string[] = [];
  const missing: string[] = [];
  const warnings: string[] = [];
  const r = new Remaining(text);

  const budget = takeBudget(r);
  const vram = takeVram(r);
  const tflops = takeTflops(r);
  const duration = takeDuration(r);
  const gpu = takeGpu(r);
  // A bare size left after the model ("80GB A100") is a memory minimum.
  const minVram = vram ?? (gpu !== null ? takeBareSize(r) : null);
  const count = gpu?.count ?? takeGpuCount(r);
  const region = takeRegion(r);
  // Collapse the blanks: chrono misreads a month name followed by a run of spaces ("24 Nov      ").
  const dateText = r.text.replace(/\s+/g, " ").trim();
  const results = chrono.parse(dateText, clock.ref, { forwardDate: true });

  // GPU and count
  if (
    gpu === null &&
    minVram === null &&
    tflops === null &&
    /\b(cpu[- ]?only|no gpus?|without (a )?gpus?)\b/i.test(text)
  ) {
    understood.push("GPU: none needed");
  } else if (gpu === null) {
    understood.push("GPU: any model (none named)");
  } else if (gpu.matches.length === 1) {
    understood.push(`GPU: ${(gpu.matches[0] as GpuFacts).name}`);
  } else {
    const family = gpu.matches[0]?.family ?? "";
    const wholeFamily =
      matchGpus(family).length === gpu.matches.length && gpu.matches.every((g) => g.family === family);
    understood.push(
      wholeFamily
        ? `GPU: ${family} (any of ${gpu.matches.length} variants)`
        : `GPU: "${gpu.query.trim()}" (any of ${gpu.matches.length}: ${gpu.matches.map((g) => g.name).join(", ")})`,
    );
  }
  // "CPU-only", "no GPU", "without a GPU": any machine fits, CPU-only development hosts included (count 0).
  const noGpu =
    gpu === null &&
    minVram === null &&
    tflops === null &&
    /\b(cpu[- ]?only|no gpus?|without (a )?gpus?)\b/i.test(text);
  const n = noGpu ? 0 : (count ?? 1);
  if (!Number.isSafeInteger(n) || n < (noGpu ? 0 : 1)) {
    missing.push(`how many GPUs: "${n}" is not a whole number of GPUs`);
  }
  understood.push(
    noGpu
      ? "count: no GPU needed (CPU-only machines fit)"
      : `count: ${n} GPU${n === 1 ? "" : "s"}${count === null ? " (default)" : ""}`,
  );

  if (minVram !== null)
    understood.push(`VRAM: at least ${trimmed(minVram)} GiB per GPU (GB read as GiB, as GPU memory is sold)`);
  if (tflops !== null) understood.push(`throughput: at least ${trimmed(tflops)} FP16 TFLOPS per GPU`);

  // Duration
  if (duration === null) {
    missing.push('how long: say it in hours or minutes, e.g. "4 hours" or "90 minutes"');
  } else if (!(duration.hours > 0)) {
    missing.push(`how long: "${duration.text}" is not a positive duration`);
  } else {
    understood.push(`duration: ${formatDuration(duration.hours * 3600)}`);
  }

  // Window
  const w = windowOf(results, dateText, clock);
  let end = w.end;
  if (Number.isNaN(end)) {
    // An exact start: the window is the booking itself.
    end = duration !== null && duration.hours > 0 ? w.start + Math.round(duration.hours * 3600) : w.start;
  }
  const start = Math.max(w.start, clock.now);
  if (end <= clock.now) {
    missing.push(
      `a window that has not passed: ${formatRange(w.start, end, clock.timeZone)} (${w.how}) is over`,
    );
  } else if (end <= start) {
    missing.push(
      `a window that ends after it starts: ${w.how} runs from ${formatInstant(w.start, clock.timeZone)} to ${formatInstant(end, clock.timeZone)}`,
    );
  } else {
    const begun = start > w.start ? "; it has begun, so from now" : "";
    understood.push(`window: ${formatRange(start, end, clock.timeZone)} (${w.how}${begun})`);
    const a = wallTime(start, clock.timeZone);
    const b = wallTime(end, clock.timeZone);
    const wallSeconds =
      (Date.UTC(b.year, b.month - 1, b.day, b.hour, b.minute, b.second) -
        Date.UTC(a.year, a.month - 1, a.day, a.hour, a.minute, a.second)) /
      1000;
    if (wallSeconds !== end - start) {
      warnings.push(
        `the clocks change in ${clock.timeZone} inside this window: it is ${formatDuration(end - start)} of real time, not ${formatDuration(wallSeconds)}`,
      );
    }
    if (duration !== null && duration.hours > 0 && duration.hours * 3600 > end - start) {
      warnings.push(
        `the window is ${formatDuration(end - start)} long, shorter than the ${formatDuration(duration.hours * 3600)} asked: nothing can fit`,
      );
    }
  }

  // Budget
  let budgetUsdPerHour: number | undefined;
  if (budget !== null) {
    if (budget.kind === "total") {
      if (duration !== null && duration.hours > 0) {
        const slot = opts.slotLength;
        const booked =
          slot === undefined ? duration.hours : (Math.ceil((duration.hours * 3600) / slot) * slot) / 3600;
        budgetUsdPerHour = budget.amount / booked;
        understood.push(
          `budget: ${usd(budget.amount)} in total, so at most ${usd(budgetUsdPerHour)}/h over ${formatDuration(booked * 3600)}${booked !== duration.hours ? " (the booked length: whole slots)" : ""}`,
        );
      } else {
        warnings.push(
          `the total budget ${usd(budget.amount)} cannot become a price per hour without a duration`,
        );
      }
    } else if (budget.kind === "gpu-hour") {
      budgetUsdPerHour = budget.amount * n;
      understood.push(
        `budget: at most ${usd(budget.amount)} per GPU-hour × ${n} GPU${n === 1 ? "" : "s"} = ${usd(budgetUsdPerHour)}/h for the whole listing`,
      );
    } else {
      budgetUsdPerHour = budget.amount;
      understood.push(
        `budget: at most ${usd(budget.amount)}/h for the whole listing${n > 1 ? ` (all ${n} GPUs)` : ""}`,
      );
      if (budget.assumedHourly) {
        warnings.push(
          `"${budget.text}" read as a price per hour; say "total" for a budget for the whole booking`,
        );
      }
      if (!budget.assumedHourly && n > 1) {
        warnings.push(
          `${usd(budget.amount)}/h read as the price of the whole listing; say "per GPU-hour" for a price per GPU`,
        );
      }
    }
  }

  if (region !== null)
    understood.push(
      `region: ${region.prefix} (any region starting with "${region.prefix}", from "${region.text}")`,
    );

  if (missing.length > 0 || duration === null) return { request: null, understood, missing, warnings };
  const request: ScheduleRequest = { count: n, hours: duration.hours, earliestStart: start, latestEnd: end };
  if (gpu !== null) request.gpu = gpu.query.trim();
  if (minVram !== null) request.minVramGiB = minVram;
  if (tflops !== null) request.minFp16Tflops = tflops;
  if (budgetUsdPerHour !== undefined) request.budgetUsdPerHour = budgetUsdPerHour;
  if (region !== null) request.region = region.prefix;
  return { request, understood, missing, warnings };
}
