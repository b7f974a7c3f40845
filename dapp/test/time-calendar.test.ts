import { describe, expect, test } from "vitest";
import { daySlots, slotOf, slotTaken, takenRuns, windowFree, wordsForSlots } from "../lib/calendar.ts";
import {
  addDays,
  dayBounds,
  durationChoices,
  localDate,
  localTime,
  localToUnix,
  slotStartsInDay,
  windowProblems,
  zoneOffsetSeconds,
} from "../lib/time.ts";

const utc = (iso: string) => Date.parse(iso) / 1000;

describe("time zones", () => {
  test("offsets, including across DST changes", () => {
    expect(zoneOffsetSeconds(utc("2025-01-15T12:00:00Z"), "Europe/Berlin")).toBe(3600);
    expect(zoneOffsetSeconds(utc("2025-07-15T12:00:00Z"), "Europe/Berlin")).toBe(7200);
    expect(zoneOffsetSeconds(utc("2025-07-15T12:00:00Z"), "Asia/Kathmandu")).toBe(5 * 3600 + 45 * 60);
    expect(zoneOffsetSeconds(utc("2025-07-15T12:00:00Z"), "UTC")).toBe(0);
  });

  test("a local date and time to the instant", () => {
    expect(localToUnix("2025-07-15", "14:00", "Europe/Berlin")).toBe(utc("2025-07-15T12:00:00Z"));
    expect(localToUnix("2025-01-15", "14:00", "America/New_York")).toBe(utc("2025-01-15T19:00:00Z"));
    expect(localToUnix("2025-01-15", "00:00", "Asia/Kathmandu")).toBe(utc("2025-01-14T18:15:00Z"));
  });

  test("the repeated hour (clocks back) is the earlier instant; a skipped time moves forward", () => {
    // Berlin 2025-10-26: 03:00 CEST → 02:00 CET, so 02:30 happens twice.
    expect(localToUnix("2025-10-26", "02:30", "Europe/Berlin")).toBe(utc("2025-10-26T00:30:00Z"));
    // Berlin 2025-03-30: 02:00 CET → 03:00 CEST, so 02:30 does not exist; it is 03:30 CEST.
    expect(localToUnix("2025-03-30", "02:30", "Europe/Berlin")).toBe(utc("2025-03-30T01:30:00Z"));
    expect(localTime(localToUnix("2025-03-30", "02:30", "Europe/Berlin"), "Europe/Berlin")).toBe("03:30");
  });

  test("days are 23 or 25 hours on DST change days; the slots of a day follow", () => {
    const [a, b] = dayBounds("2025-03-30", "Europe/Berlin");
    expect(b - a).toBe(23 * 3600);
    const [c, d] = dayBounds("2025-10-26", "Europe/Berlin");
    expect(d - c).toBe(25 * 3600);
    expect(slotStartsInDay("2025-10-26", "Europe/Berlin", 900)).toHaveLength(100);
    expect(slotStartsInDay("2025-07-15", "UTC", 900)).toHaveLength(96);
    // Kathmandu's midnight is not on a 15-minute UTC boundary? It is (+5:45); with hour slots it is not.
    const hours = slotStartsInDay("2025-07-15", "Asia/Kathmandu", 3600);
    expect(hours).toHaveLength(24);
    expect(hours.every((t) => t % 3600 === 0)).toBe(true);
    expect(localTime(hours[0] ?? 0, "Asia/Kathmandu")).toBe("00:45");
  });

  test("dates", () => {
    expect(addDays("2025-02-28", 1)).toBe("2025-03-01");
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(addDays("2025-12-31", 1)).toBe("2026-01-01");
    expect(localDate(utc("2025-07-15T23:30:00Z"), "Europe/Berlin")).toBe("2025-07-16");
  });
});

describe("window rules (as Market.book checks them)", () => {
  const now = utc("2025-07-15T12:07:00Z");
  const rules = { slotLength: 900, minSlots: 2, maxSlots: 8, leadTime: 3600, now };
  test("an acceptable window has no problems", () => {
    expect(windowProblems(utc("2025-07-15T13:15:00Z"), 4, rules, "UTC")).toEqual([]);
  });
  test("misaligned, too short, too long, too soon, in the past, too far", () => {
    expect(windowProblems(utc("2025-07-15T14:05:00Z"), 4, rules, "UTC")[0]).toMatch(/15-minute boundary/);
    expect(windowProblems(utc("2025-07-15T14:00:00Z"), 1, rules, "UTC")[0]).toMatch(/between 30 min and 2 h/);
    expect(windowProblems(utc("2025-07-15T14:00:00Z"), 9, rules, "UTC")[0]).toMatch(/between/);
    expect(windowProblems(utc("2025-07-15T12:30:00Z"), 4, rules, "UTC")[0]).toMatch(
      /earliest start is .*13:15/,
    );
    expect(windowProblems(utc("2025-07-15T11:00:00Z"), 4, rules, "UTC")[0]).toMatch(/in the past/);
    expect(windowProblems(utc("2026-07-16T12:00:00Z"), 4, rules, "UTC")[0]).toMatch(/more than a year/);
  });
  test("duration choices: every slot first, then hours, then days, always ending at the maximum", () => {
    expect(durationChoices(1, 6, 900)).toEqual([1, 2, 3, 4, 5, 6]);
    const long = durationChoices(1, 2880, 900);
    expect(long.slice(0, 16)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(long).toContain(20);
    expect(long).toContain(96);
    expect(long).toContain(192);
    expect(long.at(-1)).toBe(2880);
    expect(long.length).toBeLessThan(80);
  });
});

describe("the on-chain calendar", () => {
  // Slots 300..303 and 510..513 taken (CalendarLib: bit s % 256 of word s / 256).
  const bits = (slots: number[]) => slots.reduce((w, s) => w | (1n << BigInt(s % 256)), 0n);
  const words = new Map<number, bigint>([
    [1, bits([300, 301, 302, 303, 510, 511])],
    [2, bits([512, 513])],
  ]);

  test("word indices of a slot range", () => {
    expect(wordsForSlots(300, 514)).toEqual([1, 2]);
    expect(wordsForSlots(256, 512)).toEqual([1]);
    expect(wordsForSlots(5, 5)).toEqual([]);
    expect(slotOf(1_700_000_100, 900)).toBe(1_888_889);
  });

  test("taken slots, runs across a word boundary, and free windows", () => {
    expect(slotTaken(words, 300)).toBe(true);
    expect(slotTaken(words, 304)).toBe(false);
    expect(takenRuns(words, 290, 520)).toEqual([
      [300, 304],
      [510, 514],
    ]);
    expect(windowFree(words, 304, 510)).toBe(true);
    expect(windowFree(words, 304, 511)).toBe(false);
    expect(() => slotTaken(words, 0)).toThrow(/not read/);
  });

  test("a day's slots: taken, free, or too soon", () => {
    const slot = 900;
    const from = 296 * slot;
    const to = 306 * slot;
    const d = daySlots(words, from, to, slot, 299 * slot);
    expect(d.states).toEqual([
      "unavailable",
      "unavailable",
      "unavailable",
      "free",
      "taken",
      "taken",
      "taken",
      "taken",
      "free",
      "free",
    ]);
    expect(d.taken).toEqual([[300 * slot, 304 * slot]]);
  });
});
