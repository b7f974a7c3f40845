// The scheduler (sdk/src/ai/schedule.ts) and its calendar walks (sdk/src/ai/slots.ts) on crafted calendars:
// an exact fit, interval edges, the market's booking rules (lead time, min/max slots, active, unbonding),
// filters (GPU, VRAM, throughput, count, region, budget), the ranking and its reasons, ties, the alternatives
// when nothing fits, and that the bitmap helpers agree with CalendarLib's layout.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareListingIds,
  hostReliability,
  ScheduleError,
  type ScheduleErrorCode,
  type ScheduleListing,
  type ScheduleRequest,
  schedule,
} from "../src/ai/schedule.ts";
import {
  busyFromWords,
  earliestFreeStart,
  latestFreeStart,
  longestFreeStretch,
  slotTaken,
  takenRuns,
  windowFree,
} from "../src/ai/slots.ts";

const SLOT = 900;
const H = 3600;
/** Mon 23 Nov 2026 00:00 UTC, on a slot boundary. */
const T0 = Date.UTC(2026, 10, 23) / 1000;
const A100_80 = "NVIDIA A100-SXM4-80GB";
const A100_40 = "NVIDIA A100-PCIE-40GB";
const H100 = "NVIDIA H100 80GB HBM3";
const RTX4090 = "NVIDIA GeForce RTX 4090";

const experienced = { completed: 9, noShows: 1, declines: 0, disputesLost: 0 };

function listing(id: string, over: Partial<ScheduleListing> = {}): ScheduleListing {
  return {
    id,
    hostId: `h${id}`,
    gpuModel: A100_80,
    gpuCount: 1,
    vramMiBPerGpu: 81920,
    region: "eu-west-1",
    confidential: "None",
    active: true,
    hostUnbonding: false,
    usdPerHour: 1,
    minSlots: 1,
    maxSlots: 2880,
    leadTime: 0,
    host: experienced,
    busy: [],
    ...over,
  };
}

function request(over: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return { count: 1, hours: 4, earliestStart: T0, latestEnd: T0 + 24 * H, ...over };
}

const opts = { now: T0, slotLength: SLOT };

function throwsSchedule(fn: () => unknown, code: ScheduleErrorCode, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof ScheduleError, `expected a ScheduleError "${code}", got ${String(thrown)}`);
  assert.equal(thrown.code, code, `wrong code; message: ${thrown.message}`);
  if (message) assert.match(thrown.message, message);
}

const ids = (r: { options: Array<{ listingId: string }> }) => r.options.map((o) => o.listingId);

describe("schedule: calendars", () => {
  it("finds the only free window when it is exactly the requested length", () => {
    const l = listing("1", {
      busy: [
        [T0, T0 + 10 * H],
        [T0 + 14 * H, T0 + 24 * H],
      ],
    });
    const r = schedule(request(), [l], opts);
    assert.equal(r.options.length, 1);
    const o = r.options[0];
    assert.equal(o?.start, T0 + 10 * H);
    assert.equal(o?.end, T0 + 14 * H);
    assert.equal(o?.slots, 16);
    assert.equal(o?.costUsd, 4);
    assert.deepEqual(r.searched, { earliestStart: T0, latestEnd: T0 + 24 * H, slots: 16, seconds: 4 * H });
    // One slot more does not fit anywhere.
    assert.deepEqual(schedule(request({ hours: 4.25 }), [l], opts).options, []);
  });

  it("treats busy intervals as end-exclusive on both sides", () => {
    // Taken until exactly the start, and again from exactly the end: [T0+1h, T0+5h) is free.
    const l = listing("1", {
      busy: [
        [T0, T0 + H],
        [T0 + 5 * H, T0 + 6 * H],
      ],
    });
    const r = schedule(request(), [l], opts);
    assert.equal(r.options[0]?.start, T0 + H);
    assert.equal(r.options[0]?.end, T0 + 5 * H);
  });

  it("takes the whole slot when a busy interval covers part of it", () => {
    const l = listing("1", { busy: [[T0 + 100, T0 + 200]] });
    assert.equal(schedule(request(), [l], opts).options[0]?.start, T0 + SLOT);
  });

  it("returns the earliest free start of each listing, never slot by slot", () => {
    const busy: Array<[number, number]> = [];
    for (let i = 0; i < 24; i++) busy.push([T0 + i * H, T0 + i * H + 3 * SLOT]);
    // Every hour has one free slot: a 30-minute booking never fits, a 15-minute one starts at 00:45.
    assert.deepEqual(schedule(request({ hours: 0.5 }), [listing("1", { busy })], opts).options, []);
    const r = schedule(request({ hours: 0.25 }), [listing("1", { busy })], opts);
    assert.equal(r.options[0]?.start, T0 + 3 * SLOT);
  });

  it("rounds the duration up to whole slots and prices the booked seconds", () => {
    const r = schedule(request({ hours: 1.1 }), [listing("1", { usdPerHour: 2 })], opts);
    assert.equal(r.searched.slots, 5);
    assert.equal(r.options[0]?.end, T0 + 5 * SLOT);
    assert.equal(r.options[0]?.costUsd, 2.5);
  });

  it("never starts before now + the listing's lead time, on a slot boundary", () => {
    const lead = listing("1", { leadTime: 2 * H + 60 });
    assert.equal(schedule(request(), [lead], opts).options[0]?.start, T0 + 2 * H + SLOT);
    // now between boundaries: the first boundary after it.
    assert.equal(schedule(request(), [listing("2")], { ...opts, now: T0 + 61 }).options[0]?.start, T0 + SLOT);
    // earliestStart in the past is clipped to now.
    assert.equal(
      schedule(request({ earliestStart: T0 - 5 * H }), [listing("3")], opts).searched.earliestStart,
      T0,
    );
  });

  it("respects the listing's minSlots and maxSlots", () => {
    const r = schedule(
      request(),
      [
        listing("1", { minSlots: 17 }),
        listing("2", { maxSlots: 15 }),
        listing("3", { minSlots: 16, maxSlots: 16 }),
      ],
      opts,
    );
    assert.deepEqual(ids(r), ["3"]);
    assert.equal(r.considered.budget, 3);
    assert.equal(r.considered.terms, 1);
  });

  it("skips inactive listings and unbonding hosts, and counts each check", () => {
    const r = schedule(
      request({ region: "eu", budgetUsdPerHour: 3 }),
      [
        listing("1", { active: false }),
        listing("2", { hostUnbonding: true }),
        listing("3", { gpuModel: "", gpuCount: 0, vramMiBPerGpu: 0 }),
        listing("4", { region: "us-east" }),
        listing("5", { usdPerHour: 4 }),
        listing("6", { minSlots: 20 }),
        listing("7", { busy: [[T0, T0 + 24 * H]] }),
        listing("8"),
      ],
      opts,
    );
    assert.deepEqual(r.considered, {
      listings: 8,
      bookable: 6,
      hardware: 5,
      region: 4,
      budget: 3,
      terms: 2,
      free: 1,
    });
    assert.deepEqual(ids(r), ["8"]);
  });

  it("stops at the market's booking horizon (365 days)", () => {
    const l = listing("1", { busy: [[T0, T0 + 366 * 86_400]] });
    const r = schedule(request({ latestEnd: T0 + 400 * 86_400 }), [l], opts);
    assert.deepEqual(r.options, []);
  });
});

describe("schedule: filters", () => {
  it("count 0 asks for no GPU: CPU-only development hosts fit, and GPU terms with it are refused", () => {
    const cpu = listing("7", { gpuModel: "", gpuCount: 0, vramMiBPerGpu: 0 });
    const gpu = listing("8");
    assert.deepEqual(ids(schedule(request({ count: 0 }), [cpu, gpu], opts)).sort(), ["7", "8"]);
    assert.deepEqual(ids(schedule(request({ count: 1 }), [cpu, gpu], opts)), ["8"]);
    throwsSchedule(
      () => schedule(request({ count: 0, gpu: "A100" }), [cpu], opts),
      "bad-request",
      /at least 1 GPU/,
    );
    throwsSchedule(() => schedule(request({ count: -1 }), [cpu], opts), "bad-request");
  });

  const market = [
    listing("1", { gpuModel: A100_80 }),
    listing("2", { gpuModel: A100_40, vramMiBPerGpu: 40960 }),
    listing("3", { gpuModel: H100 }),
    listing("4", { gpuModel: RTX4090, vramMiBPerGpu: 24564, region: "us-east" }),
    listing("5", { gpuModel: "Acme Tensor X1", vramMiBPerGpu: 65536 }),
    listing("6", { gpuModel: A100_80, gpuCount: 8 }),
  ];

  it("matches a GPU family with matchGpus, and names the table does not know by substring", () => {
    assert.deepEqual(ids(schedule(request({ gpu: "A100" }), market, opts)), ["1", "2", "6"]);
    assert.deepEqual(ids(schedule(request({ gpu: "H100" }), market, opts)), ["3"]);
    const acme = schedule(request({ gpu: "tensor x1" }), market, opts);
    assert.deepEqual(ids(acme), ["5"]);
    assert.deepEqual(acme.notes, [
      '"tensor x1" is not a GPU in the facts table (sdk/src/ai/gpus.ts): only listings whose model name contains it match',
    ]);
  });

  it("filters VRAM per GPU and FP16 throughput from the facts table (unknown GPUs do not pass)", () => {
    assert.deepEqual(ids(schedule(request({ minVramGiB: 48 }), market, opts)), ["1", "3", "5", "6"]);
    assert.deepEqual(ids(schedule(request({ minFp16Tflops: 900 }), market, opts)), ["3"]);
    assert.deepEqual(ids(schedule(request({ minFp16Tflops: 300 }), market, opts)).sort(), [
      "1",
      "2",
      "3",
      "6",
    ]);
  });

  it("counts GPUs: a bigger listing fits, rented whole", () => {
    const r = schedule(request({ count: 2 }), market, opts);
    assert.deepEqual(ids(r), ["6"]);
    assert.ok(r.options[0]?.reasons.includes("8 GPUs, more than the 2 asked: rented and priced whole"));
  });

  it("matches the region by case-insensitive prefix", () => {
    assert.deepEqual(ids(schedule(request({ region: "US" }), market, opts)), ["4"]);
    assert.deepEqual(ids(schedule(request({ region: "eu-west" }), market, opts)), ["1", "2", "3", "5", "6"]);
    assert.deepEqual(ids(schedule(request({ region: "eu-west-2" }), market, opts)), []);
  });

  it("keeps a price that cannot be converted out of any budget, and ranks it last without one", () => {
    const priced = [
      listing("1", { usdPerHour: null }),
      listing("2", { usdPerHour: 2 }),
      listing("3", { usdPerHour: 2.01 }),
    ];
    assert.deepEqual(ids(schedule(request({ budgetUsdPerHour: 2 }), priced, opts)), ["2"]);
    const all = schedule(request(), priced, opts);
    assert.deepEqual(ids(all), ["2", "3", "1"]);
    assert.equal(all.options[2]?.costUsd, null);
    assert.equal(
      all.options[2]?.reasons[1],
      "price cannot be converted to USD, so it cannot be compared: counted as the most expensive",
    );
  });
});

describe("schedule: ranking", () => {
  // Window 8 h for a 4 h booking: a start 2 h late scores 0.5 on start.
  const req = request({ latestEnd: T0 + 8 * H });
  const market = [
    listing("A", { usdPerHour: 2, host: { completed: 9, noShows: 1, declines: 0, disputesLost: 0 } }),
    listing("B", {
      usdPerHour: 1,
      host: { completed: 0, noShows: 0, declines: 0, disputesLost: 0 },
      busy: [[T0, T0 + 2 * H]],
    }),
    listing("C", { usdPerHour: 1, host: { completed: 1, noShows: 0, declines: 1, disputesLost: 0 } }),
  ];

  it("combines cost, start and reliability with equal weights, and says why", () => {
    const r = schedule(req, market, opts);
    assert.deepEqual(ids(r), ["C", "A", "B"]);
    // C: (1 + 1 + 0.5) / 3; A: (0.5 + 1 + 0.9) / 3; B: (1 + 0.5 + mean(0.9, 0.5)) / 3.
    assert.deepEqual(
      r.options.map((o) => Number(o.score.toFixed(9))),
      [0.833333333, 0.8, 0.733333333],
    );
    assert.deepEqual(
      r.options.map((o) => o.rank),
      [1, 2, 3],
    );
    assert.deepEqual(r.options[0]?.reasons, [
      "#1 of 3: score 0.833 (cost 1.00, start 1.00, reliability 0.50; equal weights)",
      "cheapest fit (tied): $1.00/h ($4.00 for 4 h)",
      "starts first (tied): Mon 23 Nov 00:00 UTC",
      "host: 50% reliable (1 completed, 1 failed)",
    ]);
    assert.deepEqual(r.options[1]?.reasons, [
      "#2 of 3: score 0.800 (cost 0.50, start 1.00, reliability 0.90; equal weights)",
      "$2.00/h ($8.00 for 4 h), 100% above the cheapest",
      "starts first (tied): Mon 23 Nov 00:00 UTC",
      "most reliable host: 90% reliable (9 completed, 1 failed)",
    ]);
    assert.deepEqual(r.options[2]?.reasons, [
      "#3 of 3: score 0.733 (cost 1.00, start 0.50, reliability 0.70; equal weights)",
      "cheapest fit (tied): $1.00/h ($4.00 for 4 h)",
      "starts Mon 23 Nov 02:00 UTC, 2 h after the earliest fit (taken before that)",
      "new host (no finished sessions yet): counted as the average of the others, 70%",
    ]);
    assert.equal(r.options[2]?.reliability, null);
  });

  it("takes weights and a time zone for the reasons", () => {
    const r = schedule(req, market, {
      ...opts,
      weights: { start: 0, reliability: 0 },
      timeZone: "Asia/Tokyo",
    });
    // Cost alone: B and C tie, the lower id first.
    assert.deepEqual(ids(r), ["B", "C", "A"]);
    assert.equal(
      r.options[1]?.reasons[0],
      "#2 of 3: score 1.000 (cost 1.00, start 1.00, reliability 0.50; weights cost 1, start 0, reliability 0)",
    );
    assert.equal(r.options[1]?.reasons[2], "starts first (tied): Mon 23 Nov 09:00 Asia/Tokyo");
    assert.equal(r.options[1]?.reasons[4], "same score as listing B: the lower listing id ranks first");
  });

  it("breaks exact ties by listing id, numerically for on-chain ids", () => {
    const twins = ["10", "9", "100"].map((id) => listing(id));
    const r = schedule(req, twins, opts);
    assert.deepEqual(ids(r), ["9", "10", "100"]);
    assert.equal(r.options[1]?.reasons.at(-1), "same score as listing 9: the lower listing id ranks first");
    assert.deepEqual(["b", "10", "a", "9", "08"].sort(compareListingIds), ["08", "9", "10", "a", "b"]);
    assert.equal(schedule(req, twins, { ...opts, limit: 2 }).options.length, 2);
  });

  it("says when the lead time decides the start", () => {
    const r = schedule(req, [listing("1", { leadTime: H })], opts);
    assert.equal(
      r.options[0]?.reasons[2],
      "starts first: Mon 23 Nov 01:00 UTC (its lead time allows no sooner)",
    );
  });

  it("gives every host the same reliability term when none has history", () => {
    const fresh = { completed: 0, noShows: 0, declines: 0, disputesLost: 0 };
    const r = schedule(req, [listing("1", { host: fresh })], opts);
    assert.equal(r.options[0]?.score, 1);
    assert.equal(
      r.options[0]?.reasons[3],
      "new host (no finished sessions yet); no host here has any, so reliability ranks nobody",
    );
  });

  it("defines reliability as the dApp does", () => {
    assert.deepEqual(hostReliability({ completed: 33, noShows: 1, declines: 0, disputesLost: 0 }), {
      score: 33 / 34,
      completed: 33,
      failures: 1,
    });
    assert.deepEqual(hostReliability({ completed: 0, noShows: 0, declines: 0, disputesLost: 0 }), {
      score: null,
      completed: 0,
      failures: 0,
    });
    assert.equal(hostReliability({ completed: 0, noShows: 1, declines: 1, disputesLost: 1 }).score, 0);
  });
});

describe("schedule: when nothing fits", () => {
  // A100 in eu, under $1.50/h, 4 h between 08:00 and 12:00; the calendars are known for two days.
  const req = request({
    gpu: "A100",
    region: "eu",
    budgetUsdPerHour: 1.5,
    earliestStart: T0 + 8 * H,
    latestEnd: T0 + 12 * H,
  });
  const known = { from: T0, until: T0 + 48 * H };
  const market = [
    listing("1", { usdPerHour: 2 }),
    listing("2", { busy: [[T0 + 9 * H, T0 + 20 * H]] }),
    listing("3", { gpuModel: H100 }),
    listing("4", { region: "us-east" }),
  ];

  it("returns the nearest alternatives and what to relax, nearest first", () => {
    const r = schedule(req, market, { ...opts, known });
    assert.deepEqual(r.options, []);
    assert.equal(r.considered.free, 0);
    assert.deepEqual(
      r.alternatives.map((a) => [a.relax, a.suggestion, Number(a.distance.toFixed(6)), ids(a)]),
      [
        ["budget", "raise the budget to $2.00/h (from $1.50/h)", 0.333333, ["1"]],
        [
          "window",
          "widen the window: start from Mon 23 Nov 05:00 UTC (asked Mon 23 Nov 08:00 UTC to Mon 23 Nov 12:00 UTC)",
          0.75,
          ["2"],
        ],
        ["hours", "shorten the booking to 1 h (asked 4 h): the longest free stretch that fits", 0.75, ["2"]],
        ["region", 'look outside "eu": fits in us-east', 1, ["4"]],
        ["gpu", 'accept another GPU than "A100": NVIDIA H100 80GB HBM3 fit', 1, ["3"]],
      ],
    );
    const window = r.alternatives[1]?.options[0];
    assert.equal(window?.start, T0 + 5 * H);
    assert.equal(window?.end, T0 + 9 * H);
  });

  it("offers a later window when the earlier side is taken", () => {
    const r = schedule(req, [listing("2", { busy: [[T0, T0 + 20 * H]] })], { ...opts, known });
    assert.deepEqual(
      r.alternatives.map((a) => a.suggestion),
      ["widen the window: end by Tue 24 Nov 00:00 UTC (asked Mon 23 Nov 08:00 UTC to Mon 23 Nov 12:00 UTC)"],
    );
    assert.equal(r.alternatives[0]?.distance, 3);
  });

  it("offers no window alternative when the calendars are known only for the request", () => {
    const r = schedule(req, [listing("2", { busy: [[T0, T0 + 20 * H]] })], opts);
    assert.deepEqual(r.alternatives, []);
    assert.deepEqual(r.notes, []);
  });

  it("suggests fewer GPUs, less VRAM, or the listing's minimum length", () => {
    const small = [listing("1", { gpuModel: A100_40, vramMiBPerGpu: 40960, minSlots: 24 })];
    const r = schedule(request({ count: 2, minVramGiB: 80, hours: 4 }), small, opts);
    assert.deepEqual(
      r.alternatives.map((a) => [a.relax, a.suggestion, a.distance]),
      [],
    );
    const one = schedule(request({ count: 2, minVramGiB: 40, hours: 6 }), small, opts);
    assert.deepEqual(
      one.alternatives.map((a) => [a.relax, a.suggestion, a.distance]),
      [["count", "ask for 1 GPU instead of 2", 0.5]],
    );
    const most = schedule(
      request({ count: 8 }),
      [
        listing("1", { gpuCount: 4 }),
        listing("2", { gpuCount: 2 }),
        listing("3", { gpuCount: 4, region: "us" }),
      ],
      opts,
    );
    assert.deepEqual(
      most.alternatives.map((a) => [a.relax, a.suggestion, a.distance, ids(a)]),
      [["count", "ask for 4 GPUs instead of 8", 0.5, ["1", "3"]]],
    );
    assert.equal(most.alternatives[0]?.options[0]?.reasons.length, 4);
    const vram = schedule(request({ minVramGiB: 80, hours: 6 }), small, opts);
    assert.deepEqual(
      vram.alternatives.map((a) => [a.relax, a.suggestion, a.distance]),
      [["vram", "accept 40 GiB per GPU (asked at least 80 GiB)", 0.5]],
    );
    const longer = schedule(request({ minVramGiB: 40, hours: 4 }), small, opts);
    assert.deepEqual(
      longer.alternatives.map((a) => [a.relax, a.suggestion, a.distance]),
      [
        [
          "hours",
          "lengthen the booking to 6 h (asked 4 h): the shortest booking a matching listing takes",
          0.5,
        ],
      ],
    );
  });

  it("notes a window shorter than the booking", () => {
    const r = schedule(request({ latestEnd: T0 + 3 * H }), [listing("1")], opts);
    assert.deepEqual(r.notes, [
      "the window from Mon 23 Nov 00:00 UTC to Mon 23 Nov 03:00 UTC is shorter than 4 h",
    ]);
    assert.equal(
      r.alternatives[0]?.suggestion,
      "shorten the booking to 3 h (asked 4 h): the longest free stretch that fits",
    );
  });
});

describe("schedule: bad input", () => {
  it("refuses malformed requests, options and listings with codes", () => {
    throwsSchedule(() => schedule(request({ count: 1.5 }), [], opts), "bad-request", /count/);
    throwsSchedule(() => schedule(request({ hours: -1 }), [], opts), "bad-request", /hours/);
    throwsSchedule(() => schedule(request({ latestEnd: T0 }), [], opts), "bad-request", /window is empty/);
    throwsSchedule(
      () => schedule(request({ budgetUsdPerHour: Number.NaN }), [], opts),
      "bad-request",
      /budget/,
    );
    throwsSchedule(() => schedule(request(), [], { now: T0, slotLength: 0 }), "bad-options", /slotLength/);
    throwsSchedule(
      () => schedule(request(), [], { ...opts, timeZone: "Mars/Olympus" }),
      "bad-options",
      /IANA/,
    );
    throwsSchedule(
      () => schedule(request(), [], { ...opts, weights: { cost: 0, start: 0, reliability: 0 } }),
      "bad-options",
    );
    throwsSchedule(
      () =>
        schedule(
          request(),
          [
            listing("7", {
              busy: [
                [T0 + 5 * H, T0 + 6 * H],
                [T0, T0 + 5 * H],
              ],
            }),
          ],
          opts,
        ),
      "bad-listing",
      /^listing 7: taken intervals must be sorted/,
    );
  });
});

describe("slots: bitmap and walks", () => {
  // Word 0: slots 0–3 and 255 taken; word 1: slot 256 taken; word 2: all taken.
  const words = new Map<number, bigint>([
    [0, 0b1111n | (1n << 255n)],
    [1, 1n],
    [2, (1n << 256n) - 1n],
  ]);

  it("reads bits as CalendarLib lays them out", () => {
    assert.equal(slotTaken(words, 3), true);
    assert.equal(slotTaken(words, 4), false);
    assert.equal(slotTaken(words, 255), true);
    assert.equal(windowFree(words, 4, 255), true);
    assert.equal(windowFree(words, 4, 256), false);
    assert.deepEqual(takenRuns(words, 0, 768), [
      [0, 4],
      [255, 257],
      [512, 768],
    ]);
    assert.deepEqual(takenRuns(words, 2, 600), [
      [2, 4],
      [255, 257],
      [512, 600],
    ]);
    assert.deepEqual(busyFromWords(words, 0, 5 * SLOT, SLOT), [[0, 4 * SLOT]]);
    assert.throws(() => slotTaken(words, 800), /calendar word 3 .* was not read/);
  });

  it("walks busy intervals forward and backward", () => {
    const busy: Array<[number, number]> = [
      [0, 2 * SLOT],
      [5 * SLOT, 6 * SLOT],
      [6 * SLOT, 10 * SLOT],
    ];
    assert.equal(earliestFreeStart(busy, 0, 20 * SLOT, 3 * SLOT, SLOT), 2 * SLOT);
    assert.equal(earliestFreeStart(busy, 0, 20 * SLOT, 4 * SLOT, SLOT), 10 * SLOT);
    assert.equal(earliestFreeStart(busy, 0, 13 * SLOT, 4 * SLOT, SLOT), null);
    assert.equal(latestFreeStart(busy, 0, 20 * SLOT, 3 * SLOT, SLOT), 17 * SLOT);
    assert.equal(latestFreeStart(busy, 0, 9 * SLOT, 3 * SLOT, SLOT), 2 * SLOT);
    assert.equal(latestFreeStart(busy, 0, 9 * SLOT, 4 * SLOT, SLOT), null);
    assert.deepEqual(longestFreeStretch(busy, 0, 20 * SLOT, 100 * SLOT, SLOT), {
      start: 10 * SLOT,
      length: 10 * SLOT,
    });
    assert.deepEqual(longestFreeStretch(busy, 0, 12 * SLOT, 100 * SLOT, SLOT), {
      start: 2 * SLOT,
      length: 3 * SLOT,
    });
    assert.deepEqual(longestFreeStretch(busy, 0, 20 * SLOT, 2 * SLOT, SLOT), {
      start: 2 * SLOT,
      length: 2 * SLOT,
    });
    assert.equal(longestFreeStretch([[0, 20 * SLOT]], 0, 20 * SLOT, 4 * SLOT, SLOT), null);
  });
});
