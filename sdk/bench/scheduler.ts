// Benchmark for the scheduler (issue 7): schedulerP95Ms, the 95th percentile of one `schedule` call (from
// sdk/src/ai/schedule.ts) over a market of 10,000 listings with calendars; the target is <= 100 ms.
//
// The market is a seeded simulation, not market data: GPU models from the facts table (sdk/src/ai/gpus.ts)
// as nvidia-smi names them, and calendars two weeks long whose bookings and gaps are drawn at random per
// listing, so some listings are nearly empty and some nearly full. The prices are arbitrary draws that only
// give the ranking something to compare. A share of listings is inactive, unbonding, or priced in a currency
// with no USD rate, so that every check in the scheduler runs. The requests vary the GPU, count, hours,
// window, budget and region; those that fit nothing also pay for the alternatives, as a caller would.
//
// Run: npx tsx sdk/bench/scheduler.ts   (prints JSON)
import { fileURLToPath } from "node:url";
import { GPU_FACTS } from "../src/ai/gpus.ts";
import { type ScheduleListing, type ScheduleRequest, schedule } from "../src/ai/schedule.ts";
import { seededRandom } from "../src/random.ts";

const SLOT = 900;
const H = 3600;
const DAY = 86_400;
/** Mon 23 Nov 2026 00:00 UTC: a fixed "now", so runs repeat. */
const NOW = Date.UTC(2026, 10, 23) / 1000;
const CALENDAR_DAYS = 14;
const REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast", "sa-east"];
const FAMILIES = ["A100", "H100", "H200", "L40S", "RTX 4090", "A10", "L4", "RTX 3090"];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** Whole slots between `min` and `max` hours. */
function slotsBetween(rand: () => number, minHours: number, maxHours: number): number {
  const lo = Math.round((minHours * H) / SLOT);
  const hi = Math.round((maxHours * H) / SLOT);
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Bookings and gaps from a day before now to the end of the calendar; `busyShare` sets how full it is. */
function calendar(rand: () => number): Array<[number, number]> {
  const busyShare = rand() * 0.9;
  const busy: Array<[number, number]> = [];
  let t = NOW - DAY;
  while (t < NOW + CALENDAR_DAYS * DAY) {
    const length = slotsBetween(rand, 1, 12) * SLOT;
    // Mean gap such that bookings take about `busyShare` of the time.
    const meanGap = (length * (1 - busyShare)) / Math.max(busyShare, 0.01);
    t += Math.round((-Math.log(Math.max(rand(), 1e-9)) * meanGap) / SLOT) * SLOT;
    busy.push([t, t + length]);
    t += length;
  }
  return busy;
}

function market(count: number, rand: () => number): ScheduleListing[] {
  const gpus = GPU_FACTS.filter((g) => g.vendor === "NVIDIA");
  const out: ScheduleListing[] = [];
  for (let i = 0; i < count; i++) {
    const g = pick(rand, gpus);
    const gpuCount = pick(rand, [1, 1, 1, 2, 4, 8]);
    const roll = rand();
    out.push({
      id: String(i + 1),
      hostId: String(1 + Math.floor(rand() * (count / 3))),
      gpuModel: g.aliases[0] ?? g.name,
      gpuCount,
      vramMiBPerGpu: g.vramGiB * 1024,
      region: pick(rand, REGIONS),
      confidential: "None",
      active: roll > 0.05,
      hostUnbonding: roll > 0.03 && roll <= 0.05,
      usdPerHour: rand() < 0.03 ? null : Math.round(gpuCount * (0.2 + rand() * 3.8) * 100) / 100,
      minSlots: pick(rand, [1, 2, 4]),
      maxSlots: pick(rand, [96, 672, 2880]),
      leadTime: pick(rand, [0, SLOT, H, 4 * H]),
      host: {
        completed: Math.floor(rand() * 60),
        noShows: Math.floor(rand() * 3),
        declines: Math.floor(rand() * 3),
        disputesLost: Math.floor(rand() * 2),
      },
      busy: calendar(rand),
    });
  }
  return out;
}

function requests(count: number, rand: () => number): ScheduleRequest[] {
  const out: ScheduleRequest[] = [];
  for (let i = 0; i < count; i++) {
    const start = NOW + slotsBetween(rand, 0, 72) * SLOT;
    const hours = pick(rand, [0.5, 1, 2, 4, 8, 24]);
    const req: ScheduleRequest = {
      count: pick(rand, [1, 1, 2, 4, 8]),
      hours,
      earliestStart: start,
      latestEnd: start + hours * H + slotsBetween(rand, 0, 96) * SLOT,
    };
    if (rand() < 0.7) req.gpu = pick(rand, FAMILIES);
    if (rand() < 0.2) req.minVramGiB = pick(rand, [24, 40, 80]);
    if (rand() < 0.4) req.budgetUsdPerHour = Math.round((0.5 + rand() * 10) * 100) / 100;
    if (rand() < 0.3) req.region = pick(rand, ["us", "eu", "ap", "eu-west"]);
    out.push(req);
  }
  return out;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export async function benchScheduler(
  opts: { listings?: number; runs?: number } = {},
): Promise<{ listings: number; runs: number; p95Ms: number; medianMs: number; noFitRuns: number }> {
  const listings = opts.listings ?? 10_000;
  const runs = Math.max(opts.runs ?? 100, 1);
  const rand = seededRandom(7);
  const data = market(listings, rand);
  const reqs = requests(runs, rand);
  const options = { now: NOW, slotLength: SLOT, known: { from: NOW, until: NOW + CALENDAR_DAYS * DAY } };
  // Warm up the JIT on a few requests; they are not timed.
  for (const r of reqs.slice(0, 10)) schedule(r, data, options);
  const times: number[] = [];
  let noFitRuns = 0;
  for (const r of reqs) {
    const t0 = performance.now();
    const result = schedule(r, data, options);
    times.push(performance.now() - t0);
    if (result.options.length === 0) noFitRuns++;
  }
  times.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    listings,
    runs,
    p95Ms: round(percentile(times, 0.95)),
    medianMs: round(percentile(times, 0.5)),
    noFitRuns,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  // No top-level await: the file may also be loaded as CommonJS by a bench runner.
  void benchScheduler().then((result) => console.log(JSON.stringify(result)));
}
