// The price model (sdk/src/ai/pricing.ts, prior.ts, ridge.ts, history.ts): the hardware prior's anchors and fit,
// the model against the naive baseline on a generated market with known structure, that it recovers the
// structure's directions, its interval's coverage, cold start, save/load, bad input, and the daily index.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  baselinePredictor,
  fairness,
  generateMarket,
  hardwarePrior,
  listingPrior,
  MIN_EXAMPLES,
  mape,
  PRICE_ANCHORS,
  type PriceContext,
  PriceModel,
  type PricingError,
  priceIndex,
  priorSuggestion,
  quantile,
  regionGroup,
  type SgModelDay,
  suggestPrice,
  utilizationBefore,
} from "../src/ai/index.ts";
import { ridgeFit, ridgePredict } from "../src/ai/ridge.ts";

const H100 = "NVIDIA H100 80GB HBM3";
const ctx = (over: Partial<PriceContext> = {}): PriceContext => ({
  gpuModel: H100,
  gpuCount: 1,
  region: "us-east",
  confidential: false,
  utilization: 0.5,
  leadTimeHours: 24,
  durationHours: 4,
  reliability: 0.9,
  ...over,
});

describe("ridge regression", () => {
  it("recovers exact weights without a penalty and shrinks them with one", () => {
    const X = [
      [1, 0],
      [2, 1],
      [3, 5],
      [4, 2],
      [5, 7],
    ];
    const y = X.map(([a, b]) => 2 * (a ?? 0) - 3 * (b ?? 0) + 1);
    const w = ridgeFit(X, y, 0);
    assert.deepEqual(
      w.map((v) => Math.round(v * 1e6) / 1e6),
      [2, -3, 1],
    );
    assert.equal(Math.round(ridgePredict(w, [10, 10]) * 1e6) / 1e6, -9);
    const shrunk = ridgeFit(X, y, 100);
    assert.ok(Math.abs(shrunk[1] ?? 0) < 3);
  });
});

describe("hardware prior", () => {
  it("gives every anchor GPU its list price exactly, with the source named", () => {
    for (const a of PRICE_ANCHORS) {
      const p = hardwarePrior(a.gpu);
      assert.ok(p, a.gpu);
      assert.equal(p.usdPerGpuHour, a.usdPerGpuHour);
      assert.equal(p.anchored, true);
      assert.match(p.reason, new RegExp(a.provider));
      assert.match(a.source, /^https:\/\//);
    }
  });

  it("prices a card without an anchor from its hardware: an H200 above an H100, an L4 below an A10", () => {
    const h200 = hardwarePrior("NVIDIA H200");
    const h100 = hardwarePrior(H100);
    const l4 = hardwarePrior("NVIDIA L4");
    const a10 = hardwarePrior("NVIDIA A10");
    assert.ok(h200 && h100 && l4 && a10);
    assert.equal(h200.anchored, false);
    assert.ok(h200.usdPerGpuHour > h100.usdPerGpuHour, `${h200.usdPerGpuHour} > ${h100.usdPerGpuHour}`);
    assert.ok(l4.usdPerGpuHour < a10.usdPerGpuHour, `${l4.usdPerGpuHour} < ${a10.usdPerGpuHour}`);
    assert.ok(h200.bandFactor > 1 && h200.bandFactor < 3);
  });

  it("refuses CPU-only listings and unknown GPUs in words", () => {
    assert.equal(hardwarePrior(""), undefined);
    assert.equal(hardwarePrior("Matrox G200"), undefined);
    assert.throws(
      () => listingPrior({ gpuModel: "", gpuCount: 1 }),
      (e: PricingError) => e.code === "cpu-only",
    );
    assert.throws(
      () => listingPrior({ gpuModel: "Matrox G200", gpuCount: 1 }),
      (e: PricingError) => e.code === "unknown-gpu" && /Matrox G200/.test(e.message),
    );
  });

  it("cold start: 8 H100s at the anchor, an interval around it, reasons that say so", () => {
    const s = priorSuggestion(ctx({ gpuCount: 8 }));
    assert.equal(s.usdPerHour, 23.92);
    assert.equal(s.basis, "prior");
    assert.ok(s.low < 23.92 && s.high > 23.92);
    assert.match(s.reasons.join("\n"), /cold start/);
  });
});

describe("the model on a generated market with known structure", () => {
  const market = generateMarket({ seed: 1, bookings: 3000 });
  const { model, report } = PriceModel.train(market.examples, { now: 1 });
  assert.ok(model);

  it("beats the median-per-model baseline by at least 30 % on held-out history", () => {
    assert.equal(report.used, 3000);
    assert.equal(report.heldOut, 600);
    assert.ok(report.mape !== null && report.baselineMape !== null && report.priorMape !== null);
    assert.ok(
      report.mape <= 0.7 * report.baselineMape,
      `model ${report.mape} vs baseline ${report.baselineMape}`,
    );
    assert.ok(report.mape < report.priorMape);
    // The generator's noise is log-normal with σ = 0.06: E|e^ε − 1| ≈ 4.8 %; nothing can do much better.
    assert.ok(report.mape > 0.04, `suspiciously low error ${report.mape}`);
  });

  it("recovers the structure's directions", () => {
    const e = (c: PriceContext) => model.estimate(c);
    assert.ok(e(ctx({ utilization: 0.9 })) > e(ctx({ utilization: 0.2 })) * 1.2, "busy weeks cost more");
    assert.ok(e(ctx({ confidential: true })) > e(ctx()) * 1.05, "confidential computing costs more");
    assert.ok(e(ctx({ region: "ap-northeast" })) > e(ctx({ region: "us-east" })), "asia-pacific costs more");
    assert.ok(e(ctx({ leadTimeHours: 0.5 })) > e(ctx({ leadTimeHours: 48 })), "short notice costs more");
    assert.ok(e(ctx({ reliability: 1 })) > e(ctx({ reliability: 0.6 })), "reliable hosts cost more");
  });

  it("is close to the generator's noiseless rule, and its 80 % interval covers about 80 % of fresh bookings", () => {
    const fresh = generateMarket({ seed: 1, bookings: 3600 }).examples.slice(3000);
    const truthErr = mape(
      fresh.map((x) => model.estimate(x.ctx)),
      fresh.map((x) => market.truth(x.ctx)),
    );
    assert.ok(truthErr < 0.05, `error against the rule ${truthErr}`);
    let inside = 0;
    for (const x of fresh) {
      const s = model.suggest(x.ctx);
      if (x.usdPerHour >= s.low * 0.995 && x.usdPerHour <= s.high * 1.005) inside++;
    }
    const coverage = inside / fresh.length;
    assert.ok(coverage > 0.7 && coverage < 0.9, `coverage ${coverage}`);
  });

  it("explains itself: the prior, the largest factors with signs, and its error", () => {
    const s = model.suggest(ctx({ gpuCount: 8, utilization: 0.95, leadTimeHours: 0.5, region: "eu-west" }));
    assert.equal(s.basis, "model");
    assert.match(s.reasons[0] ?? "", /^8× NVIDIA H100 SXM5 80 GB: hardware prior: Lambda's list price/);
    assert.match(s.reasons.join("\n"), /95% booked over the last 7 days \(typical \d+%\): \+\d/);
    assert.match(s.reasons.at(-1) ?? "", /^model fitted on 3000 bookings; held-out error \d+%/);
    assert.ok(s.reasons.length >= 3 && s.reasons.length <= 5);
    assert.ok(s.low < s.usdPerHour && s.usdPerHour < s.high);
  });

  it("saves and loads to the same figures; a damaged file is refused", () => {
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const again = PriceModel.load(json);
    assert.deepEqual(again.suggest(ctx()), model.suggest(ctx()));
    assert.throws(
      () => PriceModel.load({ ...json, weights: json.weights.slice(1) }),
      (e: PricingError) => e.code === "bad-model",
    );
    assert.throws(
      () => PriceModel.load({ ...json, version: 2 }),
      (e: PricingError) => e.code === "bad-model",
    );
  });

  it("the baseline is the median per GPU-hour of the model, times the count", () => {
    const base = baselinePredictor([
      { ctx: ctx({ gpuCount: 1 }), usdPerHour: 2, at: 0 },
      { ctx: ctx({ gpuCount: 2 }), usdPerHour: 6, at: 0 },
      { ctx: ctx({ gpuCount: 1 }), usdPerHour: 4, at: 0 },
    ]);
    assert.equal(base(ctx({ gpuCount: 4 })), 12);
  });
});

describe("cold start and input", () => {
  it("has no model below MIN_EXAMPLES bookings and says why others were left out", () => {
    const few = generateMarket({ seed: 2, bookings: MIN_EXAMPLES - 1 }).examples;
    const { model, report } = PriceModel.train([
      ...few,
      { ctx: ctx({ gpuModel: "" }), usdPerHour: 1, at: 0 },
      { ctx: ctx({ gpuModel: "Matrox G200" }), usdPerHour: 1, at: 0 },
      { ctx: ctx(), usdPerHour: 0, at: 0 },
    ]);
    assert.equal(model, null);
    assert.equal(report.used, MIN_EXAMPLES - 1);
    assert.deepEqual(report.skipped, {
      "CPU-only listing": 1,
      "GPU not in the facts table": 1,
      "no positive USD price": 1,
    });
    assert.equal(suggestPrice(ctx(), null).basis, "prior");
  });

  it("rejects impossible contexts", () => {
    for (const bad of [
      ctx({ gpuCount: 0 }),
      ctx({ gpuCount: 1.5 }),
      ctx({ durationHours: 0 }),
      ctx({ leadTimeHours: -1 }),
      ctx({ utilization: 1.5 }),
      ctx({ reliability: -0.1 }),
    ]) {
      assert.throws(
        () => priorSuggestion(bad),
        (e: PricingError) => e.code === "bad-input",
      );
    }
  });

  it("groups regions and judges fairness against the interval", () => {
    assert.deepEqual(["us-east-1", "eu-west", "ap-southeast", "Frankfurt", "de-fra", ""].map(regionGroup), [
      "north-america",
      "europe",
      "asia-pacific",
      "other",
      "europe",
      "other",
    ]);
    const s = { usdPerHour: 2, low: 1.5, high: 2.5, reasons: [], basis: "prior" as const };
    assert.equal(fairness(1.4, s).verdict, "below");
    assert.equal(fairness(2.5, s).verdict, "fair");
    assert.equal(fairness(2.51, s).verdict, "above");
    assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  });
});

describe("daily index from GpuModelDay rows", () => {
  const day = (d: number, over: Partial<SgModelDay> = {}): SgModelDay => ({
    gpuModel: H100,
    day: d,
    date: String(d * 86_400),
    bookings: 1,
    hoursBooked: "2",
    hoursListed: "24",
    gpuHoursBooked: "8",
    gpuHoursListed: "96",
    assets: [{ kind: "Native", volume: "2000000000000000000", hoursBooked: "2", gpuHoursBooked: "8" }],
    ...over,
  });

  it("utilization over the 7 days before, GPU-hours for GPUs", () => {
    const rows = new Map([1, 2, 3, 9].map((d) => [`${H100}-${d}`, day(d)]));
    assert.equal(utilizationBefore(rows, H100, 8), 24 / 288); // days 1..7: three rows of 8/96
    assert.equal(utilizationBefore(rows, H100, 1), null);
  });

  it("price per GPU-hour in USD at the feed's rate; tokens left out", () => {
    const idx = priceIndex(
      [
        day(5),
        day(4, {
          assets: [
            { kind: "Token", volume: "5000000", hoursBooked: "1", gpuHoursBooked: "4" },
            { kind: "Usd", volume: "1000000000000000000", hoursBooked: "1", gpuHoursBooked: "4" },
          ],
        }),
      ],
      2000,
    );
    const points = idx.get(H100);
    assert.deepEqual(
      points?.map((p) => [p.day, p.usdPerGpuHour, p.utilization]),
      [
        [4, 500, 8 / 96],
        [5, 500, 8 / 96],
      ],
    );
    assert.equal(priceIndex([day(5)], null).get(H100)?.[0]?.usdPerGpuHour, null);
  });
});
