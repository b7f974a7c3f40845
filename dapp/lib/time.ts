// Wall-clock time in a named IANA time zone (the user's by default), with Intl only: booking windows are picked
// as local dates and times and become unix seconds aligned to the market's slots.

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function zonedParts(unix: number, timeZone: string): ZonedParts {
  const out: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(unix * 1000))) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 1970,
    month: out.month ?? 1,
    day: out.day ?? 1,
    hour: (out.hour ?? 0) % 24,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** Offset of `timeZone` from UTC at the instant `unix`, in seconds (east positive). */
export function zoneOffsetSeconds(unix: number, timeZone: string): number {
  const p = zonedParts(unix, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000 - Math.floor(unix);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})$/;

/**
 * The instant a local date and time name in `timeZone`. An ambiguous time (the repeated hour when clocks go
 * back) is the earlier instant; a time that does not exist (skipped when clocks go forward) moves forward by
 * the gap, as clocks do.
 */
export function localToUnix(date: string, time: string, timeZone: string): number {
  const d = DATE_RE.exec(date);
  const t = TIME_RE.exec(time);
  if (!d || !t) throw new RangeError(`not a local date and time: "${date} ${time}"`);
  const naive = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2])) / 1000;
  const before = zoneOffsetSeconds(naive - 86400, timeZone);
  const after = zoneOffsetSeconds(naive + 86400, timeZone);
  const candidates = [...new Set([before, after])]
    .map((off) => naive - off)
    .filter((u) => zoneOffsetSeconds(u, timeZone) === naive - u)
    .sort((a, b) => a - b);
  return candidates[0] ?? naive - before;
}

/** "YYYY-MM-DD" of the instant in `timeZone`. */
export function localDate(unix: number, timeZone: string): string {
  const p = zonedParts(unix, timeZone);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** "HH:MM" of the instant in `timeZone`. */
export function localTime(unix: number, timeZone: string): string {
  const p = zonedParts(unix, timeZone);
  return `${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}`;
}

/** The local date `days` after `date` (calendar days, whatever DST does). */
export function addDays(date: string, days: number): string {
  const d = DATE_RE.exec(date);
  if (!d) throw new RangeError(`not a date: "${date}"`);
  const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]) + days);
  return new Date(ms).toISOString().slice(0, 10);
}

/** [start, end) of a local day in unix seconds: 23 or 25 hours on DST change days. */
export function dayBounds(date: string, timeZone: string): [number, number] {
  return [localToUnix(date, "00:00", timeZone), localToUnix(addDays(date, 1), "00:00", timeZone)];
}

/** Slot boundaries (multiples of `slotLength`, as the market requires) that fall within a local day. */
export function slotStartsInDay(date: string, timeZone: string, slotLength: number): number[] {
  const [from, to] = dayBounds(date, timeZone);
  const out: number[] = [];
  for (let t = Math.ceil(from / slotLength) * slotLength; t < to; t += slotLength) out.push(t);
  return out;
}

/** "Tue 4 Mar 2025, 14:30" in `timeZone`. */
export function formatLocal(unix: number, timeZone: string, withYear = false): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    ...(withYear ? { year: "numeric" } : {}),
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(unix * 1000));
}

/** "Tue 4 Mar" for a local date string. */
export function formatDay(date: string): string {
  const d = DATE_RE.exec(date);
  if (!d) return date;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    weekday: "short",
    day: "numeric",
    month: "short",
  }).format(new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))));
}

/** The market's limits on a booking window (IMarket: BOOKING_HORIZON = 365 days). */
export const BOOKING_HORIZON_SECONDS = 365 * 86400;

export interface WindowRules {
  slotLength: number;
  /** Listing terms. */
  minSlots: number;
  maxSlots: number;
  leadTime: number;
  /** Unix seconds now (the chain's time is close to it). */
  now: number;
}

export interface PickedWindow {
  start: number;
  end: number;
  slots: number;
}

/**
 * Checks a window against the listing's terms as `Market.book` will (aligned, lead time, horizon, duration).
 * Returns the problems in words, empty when it is acceptable. Availability is checked separately.
 */
export function windowProblems(start: number, slots: number, rules: WindowRules, timeZone: string): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(start) || start % rules.slotLength !== 0) {
    problems.push(`The start must be on a ${rules.slotLength / 60}-minute boundary.`);
  }
  if (!Number.isInteger(slots) || slots < rules.minSlots || slots > rules.maxSlots) {
    problems.push(
      `The duration must be between ${slotsText(rules.minSlots, rules.slotLength)} and ${slotsText(rules.maxSlots, rules.slotLength)}.`,
    );
  }
  const earliest = rules.now + rules.leadTime;
  if (start < earliest) {
    problems.push(
      start < rules.now
        ? "The start is in the past."
        : `The host needs notice: the earliest start is ${formatLocal(Math.ceil(earliest / rules.slotLength) * rules.slotLength, timeZone)}.`,
    );
  }
  if (start > rules.now + BOOKING_HORIZON_SECONDS) problems.push("The start is more than a year ahead.");
  return problems;
}

function slotsText(slots: number, slotLength: number): string {
  const seconds = slots * slotLength;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${seconds / 60} min`;
}

/** Durations a listing allows, as slot counts; long ranges are thinned to whole hours, then whole days. */
export function durationChoices(
  minSlots: number,
  maxSlots: number,
  slotLength: number,
  limit = 200,
): number[] {
  const out: number[] = [];
  const hour = Math.max(1, Math.round(3600 / slotLength));
  const day = Math.max(1, Math.round(86400 / slotLength));
  for (let s = minSlots; s <= maxSlots && out.length < limit; ) {
    out.push(s);
    const step = s < hour * 4 ? 1 : s < day ? hour : day;
    const next = s + step;
    s = step > 1 ? Math.ceil(next / step) * step : next;
  }
  if (out[out.length - 1] !== maxSlots && maxSlots >= minSlots && out.length < limit) out.push(maxSlots);
  return out;
}
