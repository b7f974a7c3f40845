// Calendar slots and wall-clock time for the scheduler (sdk/src/ai/schedule.ts) and the request parser
// (sdk/src/ai/request.ts).
//
// The market stores a listing's calendar as a bitmap (contracts/src/libraries/CalendarLib.sol): slot
// s = unixSeconds / slotLength is bit s % 256 of word s / 256, read with `calendarWord(listingId, word)`. A
// booking is [start, end) on slot boundaries. The bitmap helpers here are the browser-safe equivalents of
// dapp/lib/calendar.ts (which will switch over to them), plus the two walks the scheduler needs over taken
// intervals, so that it never steps slot by slot across a long window.
//
// Wall-clock time: people ask for "tomorrow 1am to 5am" in their own IANA time zone, and across a daylight-
// saving change that is not 4 real hours. `zonedToUnix` turns a wall-clock time into an instant with Intl
// alone (no time-zone library, browser-safe), resolving the two odd cases as Temporal's "compatible"
// disambiguation does: a time the clocks skip moves forward by the gap, a time that happens twice is the first.

/** Why a calendar helper refused its input. */
export type CalendarErrorCode =
  /** A word the question needs was not read from the chain: a slot is never guessed free. */
  | "word-not-read"
  /** A malformed argument: slot length, slot range, time zone, or unsorted taken intervals. */
  | "bad-input";

export class CalendarError extends Error {
  override name = "CalendarError";
  readonly code: CalendarErrorCode;

  constructor(code: CalendarErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Words read from the chain: word index → the 256-bit word. */
export type CalendarWords = ReadonlyMap<number, bigint>;

/** A taken stretch of a calendar, unix seconds [start, end). */
export type BusyInterval = readonly [number, number];

const ALL_ONES = (1n << 256n) - 1n;

function checkSlotLength(slotLength: number): void {
  if (!Number.isSafeInteger(slotLength) || slotLength <= 0) {
    throw new CalendarError(
      "bad-input",
      `slotLength must be a positive whole number of seconds (the market's slotLength, e.g. 900), got ${slotLength}`,
    );
  }
}

export function slotOf(unix: number, slotLength: number): number {
  return Math.floor(unix / slotLength);
}

/** The first slot boundary at or after `unix`. */
export function alignUp(unix: number, slotLength: number): number {
  return Math.ceil(unix / slotLength) * slotLength;
}

/** The last slot boundary at or before `unix`. */
export function alignDown(unix: number, slotLength: number): number {
  return Math.floor(unix / slotLength) * slotLength;
}

/** The word indices that hold the slots [fromSlot, toSlot). */
export function wordsForSlots(fromSlot: number, toSlot: number): number[] {
  if (toSlot <= fromSlot) return [];
  const out: number[] = [];
  for (let w = Math.floor(fromSlot / 256); w <= Math.floor((toSlot - 1) / 256); w++) out.push(w);
  return out;
}

function wordOf(words: CalendarWords, w: number): bigint {
  const word = words.get(w);
  if (word === undefined) {
    throw new CalendarError(
      "word-not-read",
      `calendar word ${w} (slots ${w * 256}–${w * 256 + 255}) was not read: read it with calendarWord(listingId, ${w}) first`,
    );
  }
  return word;
}

/** Bits [from, to) of one word, 0 <= from < to <= 256 (CalendarLib.mask). */
function mask(from: number, to: number): bigint {
  if (to - from === 256) return ALL_ONES;
  return ((1n << BigInt(to - from)) - 1n) << BigInt(from);
}

/** Whether slot `s` is taken. Throws "word-not-read" when its word was not read. */
export function slotTaken(words: CalendarWords, s: number): boolean {
  const word = wordOf(words, Math.floor(s / 256));
  return ((word >> BigInt(s % 256)) & 1n) === 1n;
}

/** Whether every slot of [s0, s1) is free (CalendarLib.isFree: one mask per word). */
export function windowFree(words: CalendarWords, s0: number, s1: number): boolean {
  for (let s = s0; s < s1; ) {
    const w = Math.floor(s / 256);
    const next = Math.min((w + 1) * 256, s1);
    if ((wordOf(words, w) & mask(s - w * 256, next - w * 256)) !== 0n) return false;
    s = next;
  }
  return true;
}

/** The runs of taken slots in [fromSlot, toSlot), as [start, end) slot pairs; empty and full words are skipped whole. */
export function takenRuns(words: CalendarWords, fromSlot: number, toSlot: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let runStart: number | null = null;
  for (let s = fromSlot; s < toSlot; ) {
    const w = Math.floor(s / 256);
    const next = Math.min((w + 1) * 256, toSlot);
    const m = mask(s - w * 256, next - w * 256);
    const bits = wordOf(words, w) & m;
    if (bits === 0n) {
      if (runStart !== null) runs.push([runStart, s]);
      runStart = null;
    } else if (bits === m) {
      if (runStart === null) runStart = s;
    } else {
      for (let t = s; t < next; t++) {
        const taken = ((bits >> BigInt(t - w * 256)) & 1n) === 1n;
        if (taken && runStart === null) runStart = t;
        if (!taken && runStart !== null) {
          runs.push([runStart, t]);
          runStart = null;
        }
      }
    }
    s = next;
  }
  if (runStart !== null) runs.push([runStart, toSlot]);
  return runs;
}

/**
 * A listing's taken intervals over [from, to) (unix seconds), from the words read from the chain: the `busy`
 * the scheduler takes. `from` rounds down and `to` up to slot boundaries.
 */
export function busyFromWords(
  words: CalendarWords,
  from: number,
  to: number,
  slotLength: number,
): Array<[number, number]> {
  checkSlotLength(slotLength);
  return takenRuns(words, slotOf(from, slotLength), Math.ceil(to / slotLength)).map(
    ([a, b]) => [a * slotLength, b * slotLength] as [number, number],
  );
}

/**
 * Throws "bad-input" unless `busy` is sorted by start and every interval has start < end. Checked in full
 * before each walk: a walk stops early, and an unsorted list would otherwise give a wrong answer silently.
 */
export function checkBusy(busy: ReadonlyArray<BusyInterval>): void {
  let lastStart = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < busy.length; i++) {
    const iv = busy[i] as BusyInterval;
    const a = iv[0];
    const b = iv[1];
    if (!(a >= lastStart && b > a)) {
      const prev =
        i === 0 ? "" : `, after [${(busy[i - 1] as BusyInterval)[0]}, ${(busy[i - 1] as BusyInterval)[1]})`;
      throw new CalendarError(
        "bad-input",
        `taken intervals must be sorted by start with start < end: interval ${i} is [${a}, ${b})${prev}`,
      );
    }
    lastStart = a;
  }
}

/**
 * The earliest slot-aligned start t >= `from` such that [t, t + duration) overlaps no taken interval and
 * t + duration <= `until`; null when there is none. `from` is rounded up to a slot boundary and `duration`
 * must be a whole number of slots. A taken interval that covers part of a slot takes the whole slot.
 *
 * `busy` must be sorted by start (overlaps allowed); it is checked first unless `checked` says the caller
 * already ran checkBusy on it. The walk is O(intervals), never O(slots).
 */
export function earliestFreeStart(
  busy: ReadonlyArray<BusyInterval>,
  from: number,
  until: number,
  duration: number,
  slotLength: number,
  checked = false,
): number | null {
  if (!checked) checkBusy(busy);
  let t = alignUp(from, slotLength);
  if (t + duration > until) return null;
  for (let i = 0; i < busy.length; i++) {
    const iv = busy[i] as BusyInterval;
    const a = iv[0];
    const b = iv[1];
    if (b <= t) continue;
    if (a >= t + duration) return t;
    t = alignUp(b, slotLength);
    if (t + duration > until) return null;
  }
  return t;
}

/**
 * The latest slot-aligned start t >= `from` such that [t, t + duration) overlaps no taken interval and
 * t + duration <= `until`; null when there is none. Same rules for `busy` as `earliestFreeStart`.
 */
export function latestFreeStart(
  busy: ReadonlyArray<BusyInterval>,
  from: number,
  until: number,
  duration: number,
  slotLength: number,
  checked = false,
): number | null {
  if (!checked) checkBusy(busy);
  let t = alignUp(from, slotLength);
  const end = alignDown(until, slotLength);
  let found: number | null = null;
  // Forward over the gaps, keeping the last that is long enough: sorted by start does not mean sorted by end.
  for (let i = 0; i <= busy.length && t < end; i++) {
    const iv = i < busy.length ? (busy[i] as BusyInterval) : ([end, end + 1] as const);
    const a = iv[0];
    const b = iv[1];
    if (b <= t) continue;
    const gapEnd = alignDown(Math.min(a, end), slotLength);
    if (gapEnd - t >= duration) found = gapEnd - duration;
    t = Math.max(t, alignUp(b, slotLength));
  }
  return found;
}

/**
 * The longest free, slot-aligned stretch [start, start + length) inside [from, until), capped at `cap`
 * seconds (the first stretch that reaches the cap wins; among equal ones the earliest). Null when every slot
 * is taken. Same rules for `busy` as `earliestFreeStart`.
 */
export function longestFreeStretch(
  busy: ReadonlyArray<BusyInterval>,
  from: number,
  until: number,
  cap: number,
  slotLength: number,
  checked = false,
): { start: number; length: number } | null {
  if (!checked) checkBusy(busy);
  let t = alignUp(from, slotLength);
  const end = alignDown(until, slotLength);
  let bestStart = 0;
  let bestLength = 0;
  for (let i = 0; i <= busy.length && t < end; i++) {
    // Past the last interval, the stretch runs to the end of the range.
    const iv = i < busy.length ? (busy[i] as BusyInterval) : ([end, end + 1] as const);
    const a = iv[0];
    const b = iv[1];
    if (b <= t) continue;
    const length = Math.min(alignDown(Math.min(a, end), slotLength) - t, cap);
    if (length > bestLength) {
      bestStart = t;
      bestLength = length;
      if (length === cap) break;
    }
    t = Math.max(t, alignUp(b, slotLength));
  }
  return bestLength > 0 ? { start: bestStart, length: bestLength } : null;
}

/* WALL-CLOCK TIME IN AN IANA ZONE */

/** A wall-clock reading: month 1–12, hour 0–23. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
        weekday: "short",
      });
    } catch {
      throw new CalendarError(
        "bad-input",
        `unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as "Europe/Berlin" or "UTC"`,
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws "bad-input" unless `timeZone` is an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** The wall clock in `timeZone` at unix second `unix`. */
export function wallTime(unix: number, timeZone: string): WallTime {
  const parts = formatterFor(timeZone).formatToParts(new Date(unix * 1000));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    second: Number(get("second")),
    weekday: WEEKDAYS.indexOf(get("weekday")),
  };
}

/** UTC offset of `timeZone` at `unix`, in seconds (east positive). */
export function utcOffset(unix: number, timeZone: string): number {
  const t = Math.floor(unix);
  const w = wallTime(t, timeZone);
  return (Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - t * 1000) / 1000;
}

/**
 * The instant (unix seconds) at which the wall clock in `timeZone` reads the given time. Out-of-range fields
 * roll over as in Date.UTC (day 32 is the 1st of the next month, hour 24 is the next midnight). A time the
 * clocks skip (spring forward) moves forward by the gap; a time that happens twice (fall back) is the first.
 */
export function zonedToUnix(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  // Zones change offset at most once a day, so the offsets a day either side are the only candidates.
  const before = utcOffset(asUtc - 86_400, timeZone);
  const after = utcOffset(asUtc + 86_400, timeZone);
  const valid = [asUtc - before, asUtc - after].filter((t) => utcOffset(t, timeZone) === asUtc - t);
  if (valid.length === 0) return asUtc - before;
  return Math.min(...valid);
}

/** The wall clock's date shifted by `days` calendar days (DST-safe: works on the date alone). */
export function addDays(
  w: Pick<WallTime, "year" | "month" | "day">,
  days: number,
): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "Mon 23 Nov" */
export function formatDay(w: WallTime): string {
  return `${WEEKDAYS[w.weekday]} ${w.day} ${MONTHS[w.month - 1]}`;
}

/** "14:05" */
export function formatClock(w: Pick<WallTime, "hour" | "minute">): string {
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/** "Mon 23 Nov 12:00 Europe/Berlin" */
export function formatInstant(unix: number, timeZone: string): string {
  const w = wallTime(unix, timeZone);
  return `${formatDay(w)} ${formatClock(w)} ${timeZone}`;
}

/**
 * A [start, end) range on the wall clock: "Mon 23 Nov 12:00–18:00 Europe/Berlin", "Mon 23 Nov 18:00–24:00 …"
 * when it ends at the next midnight, "Sat 28 Mar 18:00 – Sun 29 Mar 06:00 …" across days.
 */
export function formatRange(start: number, end: number, timeZone: string): string {
  const a = wallTime(start, timeZone);
  const b = wallTime(end, timeZone);
  const sameDay = a.year === b.year && a.month === b.month && a.day === b.day;
  const next = addDays(a, 1);
  const endsAtMidnight =
    b.hour === 0 && b.minute === 0 && b.year === next.year && b.month === next.month && b.day === next.day;
  if (sameDay || endsAtMidnight) {
    return `${formatDay(a)} ${formatClock(a)}–${endsAtMidnight ? "24:00" : formatClock(b)} ${timeZone}`;
  }
  return `${formatDay(a)} ${formatClock(a)} – ${formatDay(b)} ${formatClock(b)} ${timeZone}`;
}

/** "4 h", "1 h 30 min", "45 min" */
export function formatDuration(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
