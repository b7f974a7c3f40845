import type { ScheduleRequest } from "@computehive/sdk/ai";
import { zeroAddress } from "viem";
import { describe, expect, test } from "vitest";
import {
  calendarSpan,
  describeRequest,
  findSlots,
  listingUsdPerHour,
  parseScheduleBody,
  type ScheduleBody,
  type ScheduleDeps,
  spanWords,
  toScheduleListing,
  type Words,
} from "../lib/schedule.ts";
import type { SgHost, SgListing } from "../lib/types.ts";

// "Find a slot" (lib/schedule.ts): the API's body checked with words for people, prices in USD per hour, the
// calendar span and words to read, and whole searches on a crafted market whose calendars are chain words.

const SLOT = 900;
const H = 3600;
const DAY = 86_400;
/** Mon 23 Nov 2026 10:00 UTC (11:00 in Berlin, UTC+1 in November). */
const NOW = Date.UTC(2026, 10, 23, 10) / 1000;
/** Tue 24 Nov 2026 12:00 Berlin = 11:00 UTC: "tomorrow afternoon" runs from here to 17:00 UTC. */
const AFTERNOON = Date.UTC(2026, 10, 24, 11) / 1000;
const ZONE = "Europe/Berlin";
const TOKEN = "0x00000000000000000000000000000000000000aa";
const E18 = 10n ** 18n;

function sg(id: string, over: Partial<SgListing> = {}, host: Partial<SgHost> = {}): SgListing {
  return {
    id,
    gpuModel: "NVIDIA A100-SXM4-80GB",
    gpuCount: 1,
    vramMiBPerGpu: "81920",
    cpuCores: 16,
    ramMiB: "131072",
    diskGiB: "500",
    region: "eu-west-1",
    confidential: "None",
    usdPriced: true,
    pricePerHour: String((3n * E18) / 2n),
    minSlots: 1,
    maxSlots: 2880,
    leadTime: "0",
    active: true,
    metadataCid: "",
    createdAt: "0",
    bookingCount: 0,
    asset: { id: zeroAddress, native: true },
    host: {
      id: `10${id}`,
      agent: zeroAddress,
      bond: "0",
      unbondAt: "0",
      metadataCid: "",
      registeredAt: "0",
      completed: 9,
      noShows: 1,
      declines: 0,
      disputesLost: 0,
      secondsServed: "0",
      openBookings: 0,
      slashed: "0",
      lender: { id: zeroAddress },
      ...host,
    },
    ...over,
  };
}

/** The market: two A100s that fit a $2/h afternoon, an H100, an A100 paid in a token, an inactive A100. */
const MARKET: SgListing[] = [
  sg("1"), // $1.50/h, taken 12:00–14:00 Berlin tomorrow
  sg("2", { usdPriced: false, pricePerHour: String((8n * E18) / 10_000n) }), // 0.0008 ETH/h × $2,500 = $2/h
  sg("3", { gpuModel: "NVIDIA H100 80GB HBM3", pricePerHour: String(E18) }), // $1/h, another GPU
  sg("4", { usdPriced: false, asset: { id: TOKEN, native: false }, pricePerHour: "1000000" }), // a token
  sg("5", { active: false, pricePerHour: String(E18 / 2n) }), // $0.50/h, takes no bookings
];

/** Taken stretches per listing, unix seconds. */
const TAKEN: Record<string, Array<[number, number]>> = {
  "1": [[AFTERNOON, AFTERNOON + 2 * H]],
};

/** The chain's calendarWord, from TAKEN: bit s % 256 of word s / 256 is slot s (CalendarLib's layout). */
function wordOf(listingId: string, w: number): bigint {
  let word = 0n;
  for (const [a, b] of TAKEN[listingId] ?? []) {
    for (let s = a / SLOT; s < b / SLOT; s++) if (Math.floor(s / 256) === w) word |= 1n << BigInt(s % 256);
  }
  return word;
}

function deps(over: Partial<ScheduleDeps> = {}): ScheduleDeps & { read: string[][] } {
  const read: string[][] = [];
  return {
    listings: MARKET,
    nativeUsd: 2500,
    now: NOW,
    slotLength: SLOT,
    readCalendars: async (reads) => {
      read.push(reads.map((r) => r.listingId));
      return reads.map((r): Words => new Map(r.words.map((w) => [w, wordOf(r.listingId, w)])));
    },
    read,
    ...over,
  };
}

const text = (t: string): ScheduleBody => ({ kind: "text", text: t, timeZone: ZONE });

async function answer(body: ScheduleBody, d: ScheduleDeps) {
  const r = await findSlots(body, d);
  if (!r.ok) throw new Error(`refused: ${r.error}`);
  return r.value;
}

describe("the API's body", () => {
  test("a request in words with its time zone", () => {
    expect(parseScheduleBody({ text: "  4 hours on an A100  ", timeZone: "Europe/Berlin" })).toEqual({
      ok: true,
      value: { kind: "text", text: "4 hours on an A100", timeZone: "Europe/Berlin" },
    });
  });

  test("empty or missing words, an unknown zone, unknown fields: refused in words", () => {
    const error = (raw: unknown) => {
      const r = parseScheduleBody(raw);
      if (r.ok) throw new Error("accepted");
      return r.error;
    };
    expect(error({ text: "   ", timeZone: "UTC" })).toMatch(/^Describe what you need, e\.g\./);
    expect(error({ text: "4 hours" })).toMatch(/time zone is missing/);
    expect(error({ text: "4 hours", timeZone: "Mars/Olympus" })).toMatch(/Unknown time zone “Mars\/Olympus”/);
    expect(error({ text: "x".repeat(501), timeZone: "UTC" })).toMatch(/at most 500 characters/);
    expect(error({ text: "4 hours", timeZone: "UTC", book: true })).toMatch(/Unknown field “book”/);
    expect(error(null)).toMatch(/must be a JSON object/);
    expect(error([1])).toMatch(/must be a JSON object/);
  });

  test("a structured request: fields checked, count defaults to 1, empty optional fields refused", () => {
    const r = parseScheduleBody({
      gpu: " A100 ",
      hours: 4,
      earliestStart: AFTERNOON,
      latestEnd: AFTERNOON + 6 * H,
      budgetUsdPerHour: 2,
      region: "eu",
    });
    expect(r).toEqual({
      ok: true,
      value: {
        kind: "request",
        timeZone: "UTC",
        request: {
          gpu: "A100",
          count: 1,
          hours: 4,
          earliestStart: AFTERNOON,
          latestEnd: AFTERNOON + 6 * H,
          budgetUsdPerHour: 2,
          region: "eu",
        },
      },
    });
    const error = (over: Record<string, unknown>) => {
      const x = parseScheduleBody({ hours: 4, earliestStart: AFTERNOON, latestEnd: AFTERNOON + H, ...over });
      if (x.ok) throw new Error("accepted");
      return x.error;
    };
    expect(error({ hours: 0 })).toBe("The duration must be more than 0 hours.");
    expect(error({ hours: "4" })).toBe("The duration (hours) must be a number.");
    expect(error({ hours: undefined })).toBe("The duration (hours) is missing.");
    expect(error({ count: 1.5 })).toBe("The GPU count must be a whole number.");
    expect(error({ count: -1 })).toBe("The GPU count must be 0 (no GPU needed) or more.");
    expect(error({ latestEnd: AFTERNOON })).toBe("The latest end must be after the earliest start.");
    expect(error({ latestEnd: AFTERNOON + 400 * DAY })).toMatch(/at most 366 days/);
    expect(error({ earliestStart: 1.5 })).toBe("The earliest start must be whole unix seconds.");
    expect(error({ budgetUsdPerHour: -1 })).toBe("The budget cannot be negative.");
    expect(error({ gpu: "" })).toMatch(/The GPU is empty: leave it out for any/);
    expect(error({ region: 7 })).toMatch(/The region must be text/);
    expect(error({ timeZone: "Nowhere" })).toMatch(/Unknown time zone/);
    expect(error({ price: 3 })).toMatch(/Unknown field “price”: a request has the fields gpu, /);
    // Several problems at once are all said.
    expect(error({ hours: -1, count: -1 })).toBe(
      "The GPU count must be 0 (no GPU needed) or more. The duration must be more than 0 hours.",
    );
  });
});

describe("prices in USD per hour", () => {
  const usdPer = (l: SgListing, rate: number | null) => listingUsdPerHour(l, rate);
  test("USD-priced listings state it; native ones go through the feed; tokens have none", () => {
    expect(usdPer(sg("1"), null)).toBe(1.5);
    expect(usdPer(MARKET[1] as SgListing, 2500)).toBeCloseTo(2, 10);
    expect(usdPer(MARKET[1] as SgListing, null)).toBeNull();
    expect(usdPer(MARKET[3] as SgListing, 2500)).toBeNull();
    expect(usdPer(sg("9", { pricePerHour: "junk" }), 1)).toBeNull();
  });

  test("a subgraph listing as the scheduler's", () => {
    const l = toScheduleListing(sg("7", { leadTime: "1800" }, { unbondAt: "1800000000", noShows: 2 }), 3);
    expect(l).toMatchObject({
      id: "7",
      hostId: "107",
      vramMiBPerGpu: 81920,
      leadTime: 1800,
      usdPerHour: 3,
      hostUnbonding: true,
      host: { completed: 9, noShows: 2, declines: 0, disputesLost: 0 },
      busy: [],
    });
  });
});

describe("the calendars read", () => {
  test("the window widened by its length (a day to a week), never before now, on slot boundaries", () => {
    const req = { earliestStart: AFTERNOON, latestEnd: AFTERNOON + 6 * H };
    // A 6-hour window tomorrow at 11:00 UTC: a day either side, but from now at the earliest.
    expect(calendarSpan(req, NOW, SLOT)).toEqual({ from: AFTERNOON - DAY, until: AFTERNOON + 6 * H + DAY });
    expect(calendarSpan(req, AFTERNOON - 2 * H, SLOT).from).toBe(AFTERNOON - 2 * H);
    const month = { earliestStart: NOW + 10 * DAY, latestEnd: NOW + 40 * DAY };
    expect(calendarSpan(month, NOW + 7, SLOT)).toEqual({ from: NOW + 3 * DAY, until: NOW + 47 * DAY });
    expect(calendarSpan({ earliestStart: NOW + 100, latestEnd: NOW + 2 * H }, NOW + 100, SLOT).from).toBe(
      NOW,
    );
    // 900 s slots: a word holds 64 hours.
    const words = spanWords({ from: NOW, until: NOW + 3 * DAY }, SLOT);
    expect(words[0]).toBe(Math.floor(NOW / SLOT / 256));
    expect(words).toHaveLength(2);
  });
});

describe("a search on a crafted market", () => {
  test("“4 hours on an A100 tomorrow afternoon under $2/h”: understood, then ranked with reasons", async () => {
    const d = deps();
    const a = await answer(text("4 hours on an A100 tomorrow afternoon under $2/h"), d);
    expect(a.understood).toContain("duration: 4 h");
    expect(a.understood).toContain(
      'window: Tue 24 Nov 12:00–18:00 Europe/Berlin (from "tomorrow afternoon": the afternoon, 12:00–18:00)',
    );
    expect(a.understood.some((u) => u.startsWith("budget: at most $2.00/h"))).toBe(true);
    expect(a.missing).toEqual([]);
    expect(a.request).toMatchObject({ gpu: "A100", hours: 4, earliestStart: AFTERNOON, budgetUsdPerHour: 2 });
    // Only the calendars that can matter were read, the cheapest first.
    expect(d.read).toEqual([["1", "2"]]);
    expect(a.calendarsRead).toBe(2);
    const options = a.result?.options ?? [];
    // Listing 2 is free from noon at $2/h; listing 1 is cheaper but taken until 14:00 Berlin (busy from words).
    expect(options.map((o) => [o.listingId, o.start, o.end, o.costUsd])).toEqual([
      ["2", AFTERNOON, AFTERNOON + 4 * H, 8],
      ["1", AFTERNOON + 2 * H, AFTERNOON + 6 * H, 6],
    ]);
    expect(options[1]?.reasons).toContain("cheapest fit: $1.50/h ($6.00 for 4 h)");
    expect(options[1]?.reasons.some((r) => r.startsWith("starts Tue 24 Nov 14:00 Europe/Berlin"))).toBe(true);
    expect(a.result?.considered).toMatchObject({ listings: 5, bookable: 4, free: 2 });
    expect(a.result?.alternatives).toEqual([]);
  });

  test("nothing under $1/h: the alternatives, nearest first, from calendars read for them", async () => {
    const d = deps();
    const a = await answer(text("4 hours on an A100 tomorrow afternoon under $1/h"), d);
    expect(a.result?.options).toEqual([]);
    // Nothing matched, so no calendar at first; then those each single relaxation may use, cheapest first
    // (the token-priced one last, never the inactive one).
    expect(d.read).toEqual([["3", "1", "2", "4"]]);
    const alts = a.result?.alternatives ?? [];
    expect(alts[0]?.relax).toBe("budget");
    expect(alts[0]?.suggestion).toBe("raise the budget to $1.50/h (from $1.00/h)");
    expect(alts[0]?.options.map((o) => [o.listingId, o.start])).toEqual([["1", AFTERNOON + 2 * H]]);
    const gpu = alts.find((x) => x.relax === "gpu");
    expect(gpu?.options.map((o) => o.listingId)).toEqual(["3"]);
  });

  test("a structured request finds the same, said back in words", async () => {
    const req: ScheduleRequest = {
      gpu: "A100",
      count: 1,
      hours: 4,
      earliestStart: AFTERNOON,
      latestEnd: AFTERNOON + 6 * H,
      budgetUsdPerHour: 2,
    };
    const a = await answer({ kind: "request", request: req, timeZone: ZONE }, deps());
    expect(a.understood).toEqual([
      "GPU: A100 (any of 4: NVIDIA A100 SXM4 80 GB, NVIDIA A100 SXM4 40 GB, NVIDIA A100 PCIe 80 GB, NVIDIA A100 PCIe 40 GB)",
      "count: 1 GPU",
      "duration: 4 h",
      "window: Tue 24 Nov 12:00–18:00 Europe/Berlin",
      "budget: at most $2.00/h for the whole listing",
    ]);
    expect(a.result?.options.map((o) => o.listingId)).toEqual(["2", "1"]);
  });

  test("what is missing or over is said, and nothing is searched", async () => {
    const d = deps();
    const vague = await answer(text("an A100 tomorrow"), d);
    expect(vague.request).toBeNull();
    expect(vague.result).toBeNull();
    expect(vague.missing[0]).toMatch(/^how long:/);
    const past: ScheduleRequest = { count: 1, hours: 1, earliestStart: NOW - 2 * H, latestEnd: NOW - H };
    const over = await answer({ kind: "request", request: past, timeZone: "UTC" }, d);
    expect(over.missing).toEqual(["a window that has not passed: Mon 23 Nov 08:00–09:00 UTC is over"]);
    expect(over.result).toBeNull();
    expect(d.read).toEqual([]);
    expect(describeRequest({ ...past, gpu: "Z9000", region: "EU" }, "UTC", NOW)[0]).toMatch(
      /not a GPU the assistant knows/,
    );
  });

  test("no feed: ETH prices have no dollar price, and the answer says so", async () => {
    const a = await answer(
      text("4 hours on an A100 tomorrow afternoon under $2/h"),
      deps({ nativeUsd: null }),
    );
    expect(a.result?.options.map((o) => o.listingId)).toEqual(["1"]);
    expect(a.warnings.some((w) => w.startsWith("The market has no ETH/USD price feed"))).toBe(true);
  });

  test("too many calendar words: the dearest listings are left out, never guessed free", async () => {
    const d = deps({ maxWordReads: 2 });
    const a = await answer(text("4 hours on an A100 tomorrow afternoon under $2/h"), d);
    expect(d.read).toEqual([["1"]]);
    expect(a.result?.options.map((o) => o.listingId)).toEqual(["1"]);
    expect(a.warnings.some((w) => w.startsWith("1 matching listing was left out"))).toBe(true);
  });
});
