// The plain-language request (sdk/src/ai/request.ts): what each phrase becomes and what is said back, time
// zones (the same words in Tokyo and Los Angeles are different instants), daylight-saving changes (a wall-clock
// window is sized in real seconds, and the scheduler books from those), and that wall-clock conversion
// (sdk/src/ai/slots.ts) picks the documented instant for skipped and repeated times.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ParsedRequest, parseRequest, RequestError } from "../src/ai/request.ts";
import { type ScheduleListing, schedule } from "../src/ai/schedule.ts";
import { formatRange, utcOffset, zonedToUnix } from "../src/ai/slots.ts";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) / 1000;
const H = 3600;

/** Sun 22 Nov 2026, 10:30 in Berlin (CET, UTC+1). */
const SUNDAY = new Date("2026-11-22T09:30:00Z");
const berlin = { now: SUNDAY, timeZone: "Europe/Berlin" };

function parsed(text: string, opts = berlin): ParsedRequest {
  return parseRequest(text, opts);
}

const freeListing: ScheduleListing = {
  id: "1",
  hostId: "1",
  gpuModel: "NVIDIA A100-SXM4-80GB",
  gpuCount: 1,
  vramMiBPerGpu: 81920,
  region: "eu-central",
  confidential: "None",
  active: true,
  hostUnbonding: false,
  usdPerHour: 1.5,
  minSlots: 1,
  maxSlots: 2880,
  leadTime: 0,
  host: { completed: 1, noShows: 0, declines: 0, disputesLost: 0 },
  busy: [],
};

describe("parseRequest: what it reads", () => {
  it("reads a request for no GPU as count 0, and says so", () => {
    for (const text of ["5 minutes on a CPU-only machine tomorrow", "2 hours tomorrow without a GPU"]) {
      const r = parseRequest(text, berlin);
      assert.equal(r.request?.count, 0, text);
      assert.ok(r.understood.includes("count: no GPU needed (CPU-only machines fit)"), text);
    }
    assert.equal(parseRequest("2 hours on an A100 tomorrow", berlin).request?.count, 1);
  });

  it("reads the issue's example and says each piece back", () => {
    const r = parsed("4 hours on an A100 tomorrow afternoon under $2/h");
    assert.deepEqual(r.request, {
      count: 1,
      hours: 4,
      earliestStart: utc(2026, 11, 23, 11),
      latestEnd: utc(2026, 11, 23, 17),
      gpu: "A100",
      budgetUsdPerHour: 2,
    });
    assert.deepEqual(r.understood, [
      "GPU: A100 (any of 4 variants)",
      "count: 1 GPU",
      "duration: 4 h",
      'window: Mon 23 Nov 12:00–18:00 Europe/Berlin (from "tomorrow afternoon": the afternoon, 12:00–18:00)',
      "budget: at most $2.00/h for the whole listing",
    ]);
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.warnings, []);
  });

  it("reads counts, minutes, a range and a region", () => {
    const r = parsed("2x H100 for 90 minutes tomorrow 1am to 5am in eu");
    assert.deepEqual(r.request, {
      count: 2,
      hours: 1.5,
      earliestStart: utc(2026, 11, 23, 0),
      latestEnd: utc(2026, 11, 23, 4),
      gpu: "H100",
      region: "eu",
    });
    assert.deepEqual(r.understood, [
      "GPU: H100 (any of 3 variants)",
      "count: 2 GPUs",
      "duration: 1 h 30 min",
      'window: Mon 23 Nov 01:00–05:00 Europe/Berlin (from "tomorrow 1am to 5am")',
      'region: eu (any region starting with "eu", from "in eu")',
    ]);
  });

  it("reads number words, plurals, a weekday and a total budget", () => {
    const r = parsed("two A100s on Monday, budget $10, 5 hours");
    assert.equal(r.request?.count, 2);
    assert.equal(r.request?.gpu, "A100");
    assert.equal(r.request?.budgetUsdPerHour, 2);
    assert.equal(r.request?.earliestStart, utc(2026, 11, 22, 23));
    assert.equal(r.request?.latestEnd, utc(2026, 11, 23, 23));
    assert.deepEqual(r.understood.slice(3), [
      'window: Mon 23 Nov 00:00–24:00 Europe/Berlin (from "on Monday": the whole day)',
      "budget: $10.00 in total, so at most $2.00/h over 5 h",
    ]);
  });

  it("spreads a total budget over the booked slots when it knows the slot length", () => {
    const r = parseRequest("budget $10 for 4 hours 10 minutes", { ...berlin, slotLength: 900 });
    assert.equal(r.request?.hours, 4 + 10 / 60);
    assert.equal(r.request?.budgetUsdPerHour, 10 / 4.25);
    assert.ok(
      r.understood.includes(
        "budget: $10.00 in total, so at most $2.35/h over 4 h 15 min (the booked length: whole slots)",
      ),
    );
  });

  it("reads prices per GPU-hour, and says when it assumed a unit", () => {
    const perGpu = parsed("3 RTX 4090 for 2 hours tomorrow under $0.50 per GPU-hour");
    assert.equal(perGpu.request?.count, 3);
    assert.equal(perGpu.request?.budgetUsdPerHour, 1.5);
    assert.ok(
      perGpu.understood.includes(
        "budget: at most $0.50 per GPU-hour × 3 GPUs = $1.50/h for the whole listing",
      ),
    );
    const bare = parsed("an H100 for 2 hours under $3");
    assert.equal(bare.request?.budgetUsdPerHour, 3);
    assert.deepEqual(bare.warnings, [
      '"under $3" read as a price per hour; say "total" for a budget for the whole booking',
    ]);
  });

  it("reads VRAM, throughput, a named region and a part of the night", () => {
    const r = parsed("3 hours tonight with at least 40 GB and 300 TFLOPS in us-east");
    assert.deepEqual(r.request, {
      count: 1,
      hours: 3,
      earliestStart: utc(2026, 11, 22, 17),
      latestEnd: utc(2026, 11, 23, 5),
      minVramGiB: 40,
      minFp16Tflops: 300,
      region: "us-east",
    });
    assert.deepEqual(r.understood, [
      "GPU: any model (none named)",
      "count: 1 GPU (default)",
      "VRAM: at least 40 GiB per GPU (GB read as GiB, as GPU memory is sold)",
      "throughput: at least 300 FP16 TFLOPS per GPU",
      "duration: 3 h",
      'window: Sun 22 Nov 18:00 – Mon 23 Nov 06:00 Europe/Berlin (from "tonight": the night, 18:00–06:00 the next day)',
      'region: us-east (any region starting with "us-east", from "us-east")',
    ]);
  });

  it("reads a memory size next to the model as part of its name, and place names as regions", () => {
    const r = parsed("A100 80GB between 3pm and 6pm on 24 Nov for 2 hours in Europe");
    assert.equal(r.request?.gpu, "A100 80GB");
    assert.equal(r.request?.region, "eu");
    assert.equal(r.request?.earliestStart, utc(2026, 11, 24, 14));
    assert.equal(r.request?.latestEnd, utc(2026, 11, 24, 17));
    assert.equal(
      r.understood[0],
      'GPU: "A100 80GB" (any of 2: NVIDIA A100 SXM4 80 GB, NVIDIA A100 PCIe 80 GB)',
    );
  });

  it("defaults to any GPU, one of it, from now for 7 days", () => {
    const r = parsed("8 GPUs for 2 days");
    assert.deepEqual(r.request, {
      count: 8,
      hours: 48,
      earliestStart: utc(2026, 11, 22, 9, 30),
      latestEnd: utc(2026, 11, 29, 9, 30),
    });
    assert.equal(
      r.understood[3],
      "window: Sun 22 Nov 10:30 – Sun 29 Nov 10:30 Europe/Berlin (no date given: from now for 7 days)",
    );
    assert.equal(parsed("1 hour").understood[1], "count: 1 GPU (default)");
  });

  it("takes an exact time as the start, and after/before as open ends", () => {
    assert.deepEqual(
      [
        parsed("H100 at 3pm tomorrow for 4 hours").request?.earliestStart,
        parsed("H100 at 3pm tomorrow for 4 hours").request?.latestEnd,
      ],
      [utc(2026, 11, 23, 14), utc(2026, 11, 23, 18)],
    );
    const after = parsed("3 hours after 3pm tomorrow");
    assert.deepEqual(
      [after.request?.earliestStart, after.request?.latestEnd],
      [utc(2026, 11, 23, 14), utc(2026, 11, 23, 23)],
    );
    const by = parsed("6 hours by Friday");
    assert.deepEqual(
      [by.request?.earliestStart, by.request?.latestEnd],
      [utc(2026, 11, 22, 9, 30), utc(2026, 11, 27, 23)],
    );
    const inThree = parsed("45 minutes in 3 hours");
    assert.deepEqual(
      [inThree.request?.earliestStart, inThree.request?.latestEnd],
      [utc(2026, 11, 22, 12, 30), utc(2026, 11, 22, 13, 15)],
    );
    const named = parsed("4 hours 3pm UTC tomorrow");
    assert.equal(named.request?.earliestStart, utc(2026, 11, 23, 15));
  });

  it("starts a window that has begun now, and moves a bare part of the day that has ended to tomorrow", () => {
    const morning = parsed("1 hour this morning");
    assert.deepEqual(
      [morning.request?.earliestStart, morning.request?.latestEnd],
      [utc(2026, 11, 22, 9, 30), utc(2026, 11, 22, 11)],
    );
    assert.equal(
      morning.understood[3],
      'window: Sun 22 Nov 10:30–12:00 Europe/Berlin (from "this morning": the morning, 06:00–12:00; it has begun, so from now)',
    );
    const evening = parseRequest("4 hours afternoon", { ...berlin, now: new Date("2026-11-22T18:30:00Z") });
    assert.equal(evening.request?.earliestStart, utc(2026, 11, 23, 11));
    const weekend = parsed("6 hours this weekend");
    assert.deepEqual(
      [weekend.request?.earliestStart, weekend.request?.latestEnd],
      [utc(2026, 11, 27, 23), utc(2026, 11, 29, 23)],
    );
  });

  it("says what is missing instead of guessing", () => {
    const noLength = parsed("an A100 tomorrow");
    assert.equal(noLength.request, null);
    assert.deepEqual(noLength.missing, [
      'how long: say it in hours or minutes, e.g. "4 hours" or "90 minutes"',
    ]);
    const past = parsed("1 hour yesterday");
    assert.equal(past.request, null);
    assert.deepEqual(past.missing, [
      'a window that has not passed: Sat 21 Nov 00:00–24:00 Europe/Berlin (from "yesterday": the whole day) is over',
    ]);
    const short = parsed("4 hours tomorrow 1am to 3am");
    assert.deepEqual(short.warnings, ["the window is 2 h long, shorter than the 4 h asked: nothing can fit"]);
  });

  it("refuses malformed arguments with a code", () => {
    assert.throws(
      () => parseRequest("1 hour", { now: SUNDAY, timeZone: "Mars/Olympus" }),
      (e: unknown) => e instanceof RequestError && e.code === "bad-input" && /IANA/.test(e.message),
    );
    assert.throws(
      () => parseRequest("1 hour", { now: new Date(Number.NaN), timeZone: "UTC" }),
      (e: unknown) => e instanceof RequestError && e.code === "bad-input",
    );
  });
});

describe("parseRequest: time zones and daylight saving", () => {
  it("reads the same words as different instants in Tokyo and Los Angeles", () => {
    const now = new Date("2026-06-15T03:00:00Z"); // 12:00 Mon 15 Jun in Tokyo, 20:00 Sun 14 Jun in Los Angeles
    const tokyo = parseRequest("2 hours tomorrow 9am to 11am", { now, timeZone: "Asia/Tokyo" });
    const la = parseRequest("2 hours tomorrow 9am to 11am", { now, timeZone: "America/Los_Angeles" });
    assert.deepEqual(
      [tokyo.request?.earliestStart, tokyo.request?.latestEnd],
      [utc(2026, 6, 16, 0), utc(2026, 6, 16, 2)],
    );
    assert.deepEqual(
      [la.request?.earliestStart, la.request?.latestEnd],
      [utc(2026, 6, 15, 16), utc(2026, 6, 15, 18)],
    );
    assert.equal(
      tokyo.understood[3],
      'window: Tue 16 Jun 09:00–11:00 Asia/Tokyo (from "tomorrow 9am to 11am")',
    );
    assert.equal(
      la.understood[3],
      'window: Mon 15 Jun 09:00–11:00 America/Los_Angeles (from "tomorrow 9am to 11am")',
    );
  });

  it("sizes 1am–5am on the night Berlin springs forward as 3 real hours, and the scheduler books them", () => {
    const now = new Date("2026-03-28T12:00:00Z");
    const r = parseRequest("3 hours tomorrow 1am to 5am", { now, timeZone: "Europe/Berlin" });
    assert.deepEqual(
      [r.request?.earliestStart, r.request?.latestEnd],
      [utc(2026, 3, 29, 0), utc(2026, 3, 29, 3)],
    );
    assert.deepEqual(r.warnings, [
      "the clocks change in Europe/Berlin inside this window: it is 3 h of real time, not 4 h",
    ]);
    if (r.request === null) throw new Error("expected a request");
    const opts = { now: now.getTime() / 1000, slotLength: 900 };
    const booked = schedule(r.request, [freeListing], opts);
    assert.deepEqual(
      booked.options.map((o) => [o.start, o.end]),
      [[utc(2026, 3, 29, 0), utc(2026, 3, 29, 3)]],
    );
    // Four hours do not fit in those four wall-clock hours.
    const four = parseRequest("4 hours tomorrow 1am to 5am", { now, timeZone: "Europe/Berlin" });
    assert.ok(four.warnings.includes("the window is 3 h long, shorter than the 4 h asked: nothing can fit"));
    if (four.request === null) throw new Error("expected a request");
    assert.deepEqual(schedule(four.request, [freeListing], opts).options, []);
  });

  it("sizes 1am–5am on the night New York falls back as 5 real hours (1am is the first one)", () => {
    const now = new Date("2026-10-31T16:00:00Z");
    const r = parseRequest("5 hours tomorrow 1am to 5am", { now, timeZone: "America/New_York" });
    assert.deepEqual(
      [r.request?.earliestStart, r.request?.latestEnd],
      [utc(2026, 11, 1, 5), utc(2026, 11, 1, 10)],
    );
    assert.deepEqual(r.warnings, [
      "the clocks change in America/New_York inside this window: it is 5 h of real time, not 4 h",
    ]);
    if (r.request === null) throw new Error("expected a request");
    const booked = schedule(r.request, [freeListing], { now: now.getTime() / 1000, slotLength: 900 });
    assert.deepEqual(
      booked.options.map((o) => [o.start, o.end, o.end - o.start]),
      [[utc(2026, 11, 1, 5), utc(2026, 11, 1, 10), 5 * H]],
    );
  });

  it("converts skipped and repeated wall-clock times as Temporal's 'compatible' does", () => {
    // 02:30 does not exist in Berlin on 29 Mar 2026: it moves forward by the gap, to 03:30 CEST.
    assert.equal(zonedToUnix("Europe/Berlin", 2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30));
    // 01:30 happens twice in New York on 1 Nov 2026: the first (EDT).
    assert.equal(zonedToUnix("America/New_York", 2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30));
    assert.equal(utcOffset(utc(2026, 11, 1, 5, 30), "America/New_York"), -4 * H);
    assert.equal(utcOffset(utc(2026, 11, 1, 6, 30), "America/New_York"), -5 * H);
    assert.equal(zonedToUnix("Asia/Kolkata", 2026, 1, 1, 0, 0), utc(2025, 12, 31, 18, 30));
    assert.equal(
      formatRange(utc(2026, 3, 28, 17), utc(2026, 3, 29, 4), "Europe/Berlin"),
      "Sat 28 Mar 18:00 – Sun 29 Mar 06:00 Europe/Berlin",
    );
  });
});
