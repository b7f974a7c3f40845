// A generated market with known structure, for testing the price model and benchmarking it against the naive
// baseline (bench/ai.json's modelMape and baselineMape). Nothing here is presented as market data: it is a
// seeded simulation whose pricing rule is written below, so a test can check that the model recovers it.
//
// The rule (each factor is the simulation's, chosen to resemble how rental markets behave):
//   paid per hour = prior per GPU (sdk/src/ai/prior.ts) × model premium (fixed per GPU model, ±15 %)
//                 × count^0.96 (small volume discount) × region factor × (0.8 + 0.5 × utilization)
//                 × (0.85 + 0.2 × reliability) × short-notice premium (1 + 0.15·e^(−lead/6 h))
//                 × (1.1 if confidential) × noise (log-normal, σ = 0.06)
// Utilization is a per-model random walk over days, so "recent utilization" carries signal over time.
import { seededRandom } from "../random.ts";
import { GPU_FACTS } from "./gpus.ts";
import type { PriceContext, PriceExample } from "./pricing.ts";
import { hardwarePrior } from "./prior.ts";

export { seededRandom };

function normal(rand: () => number): number {
  // Box–Muller.
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export const GENERATED_REGIONS: Readonly<Record<string, number>> = {
  "us-east": 1.0,
  "us-west": 1.02,
  "eu-west": 1.08,
  "eu-central": 1.06,
  "ap-northeast": 1.15,
  "ap-southeast": 1.12,
  "sa-east": 0.9,
};

export interface GeneratedMarket {
  examples: PriceExample[];
  /** The rule's noiseless price for a context (the best any model could do). */
  truth(c: PriceContext): number;
  /** Per GPU model, the daily utilization walk (day index → 0..1). */
  utilization: Map<string, number[]>;
}

export function generateMarket(
  opts: { seed?: number; bookings?: number; days?: number } = {},
): GeneratedMarket {
  const rand = seededRandom(opts.seed ?? 1);
  const days = opts.days ?? 90;
  const n = opts.bookings ?? 3000;
  const models = GPU_FACTS.filter((g) => hardwarePrior(g.aliases[0] ?? g.name) !== undefined);
  const premium = new Map<string, number>();
  const utilization = new Map<string, number[]>();
  for (const g of models) {
    premium.set(g.key, Math.exp(0.15 * normal(rand)));
    const walk: number[] = [];
    let u = 0.3 + 0.4 * rand();
    for (let d = 0; d < days; d++) {
      u = Math.min(0.98, Math.max(0.02, u + 0.06 * normal(rand)));
      walk.push(u);
    }
    utilization.set(g.aliases[0] ?? g.name, walk);
  }
  const regions = Object.keys(GENERATED_REGIONS);
  const counts = [1, 1, 1, 2, 2, 4, 4, 8];
  const durations = [1, 2, 3, 4, 6, 8, 12, 24];

  const truthOf = (c: PriceContext, key: string): number => {
    const prior = hardwarePrior(c.gpuModel);
    if (!prior) throw new Error(`no prior for ${c.gpuModel}`);
    return (
      prior.usdPerGpuHour *
      (premium.get(key) ?? 1) *
      c.gpuCount ** 0.96 *
      (GENERATED_REGIONS[c.region] ?? 1) *
      (0.8 + 0.5 * (c.utilization ?? 0.5)) *
      (0.85 + 0.2 * (c.reliability ?? 0.9)) *
      (1 + 0.15 * Math.exp(-c.leadTimeHours / 6)) *
      (c.confidential ? 1.1 : 1)
    );
  };

  const examples: PriceExample[] = [];
  const t0 = 1_767_225_600; // 2026-01-01T00:00:00Z, the simulation's first day
  const pick = <T>(list: readonly T[]): T => {
    const v = list[Math.floor(rand() * list.length)];
    if (v === undefined) throw new Error("generateMarket: empty choice");
    return v;
  };
  for (let i = 0; i < n; i++) {
    const g = pick(models);
    const name = g.aliases[0] ?? g.name;
    const day = 7 + Math.floor(rand() * (days - 7));
    const ctx: PriceContext = {
      gpuModel: name,
      gpuCount: pick(counts),
      region: pick(regions),
      confidential: g.segment === "datacenter" && rand() < 0.2,
      // What a booking sees: the mean of the 7 days before it.
      utilization: (utilization.get(name) ?? []).slice(day - 7, day).reduce((a, b) => a + b, 0) / 7,
      leadTimeHours: rand() < 0.3 ? rand() * 2 : rand() * 72,
      durationHours: pick(durations),
      reliability: rand() < 0.1 ? null : 0.6 + 0.4 * rand(),
    };
    const usdPerHour = truthOf(ctx, g.key) * Math.exp(0.06 * normal(rand));
    examples.push({ ctx, usdPerHour, at: t0 + day * 86_400 + Math.floor(rand() * 86_400) });
  }
  const keyOf = new Map(models.map((g) => [g.aliases[0] ?? g.name, g.key]));
  return { examples, truth: (c) => truthOf(c, keyOf.get(c.gpuModel) ?? ""), utilization };
}
