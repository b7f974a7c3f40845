/**
 * `npm run bench:ai`: the assistive layer's figures, written to bench/ai.json with exactly the keys
 * `modelMape`, `baselineMape`, `listings`, `schedulerP95Ms`.
 *
 * - modelMape / baselineMape: held-out mean absolute percentage error of the price model and of the naive baseline
 *   (median price per GPU-hour of the model × count) on the generated market (sdk/src/ai/market-gen.ts: 3,000
 *   bookings over 90 days, seed 1; the latest 20 % by time held out). Target: modelMape at least 30 % below.
 * - listings / schedulerP95Ms: 95th percentile of `schedule` over varied requests against 10,000 listings with
 *   calendars (sdk/bench/scheduler.ts). Target ≤ 100 ms.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateMarket, PriceModel } from "../src/ai/index.ts";
import { benchScheduler } from "./scheduler.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

async function main(): Promise<void> {
  const say = (s: string) => process.stderr.write(`[bench:ai] ${s}\n`);
  say("generating the market (3,000 bookings, seed 1) and fitting the price model…");
  const t0 = performance.now();
  const { report } = PriceModel.train(generateMarket({ seed: 1, bookings: 3000 }).examples);
  if (report.mape === null || report.baselineMape === null) throw new Error("the model did not train");
  say(
    `fitted in ${Math.round(performance.now() - t0)} ms: held-out ${report.heldOut} bookings, model ${(report.mape * 100).toFixed(2)} %, baseline ${(report.baselineMape * 100).toFixed(2)} %, prior alone ${((report.priorMape ?? 0) * 100).toFixed(2)} %`,
  );
  say("timing the scheduler against 10,000 listings with calendars…");
  const sched = await benchScheduler({ listings: 10_000 });
  say(`scheduler: median ${sched.medianMs.toFixed(2)} ms, p95 ${sched.p95Ms.toFixed(2)} ms`);

  const out = {
    modelMape: Math.round(report.mape * 10_000) / 10_000,
    baselineMape: Math.round(report.baselineMape * 10_000) / 10_000,
    listings: sched.listings,
    schedulerP95Ms: Math.round(sched.p95Ms * 100) / 100,
  };
  await mkdir(join(root, "bench"), { recursive: true });
  await writeFile(join(root, "bench", "ai.json"), `${JSON.stringify(out, null, 2)}\n`);
  const reduction = 1 - out.modelMape / out.baselineMape;
  const rows = [
    [
      "modelMape",
      out.modelMape,
      `≥ 30 % below baselineMape (${(reduction * 100).toFixed(1)} % below)`,
      reduction >= 0.3,
    ],
    ["baselineMape", out.baselineMape, "–", null],
    ["listings", out.listings, "10,000", out.listings >= 10_000],
    ["schedulerP95Ms", out.schedulerP95Ms, "≤ 100", out.schedulerP95Ms <= 100],
  ] as const;
  for (const [k, v, target, pass] of rows)
    process.stdout.write(
      `${k.padEnd(16)} ${String(v).padStart(10)}  target ${target}${pass === null ? "" : pass ? "  pass" : "  MISS"}\n`,
    );
  process.stdout.write("wrote bench/ai.json\n");
}

main().catch((e) => {
  process.stderr.write(`bench:ai failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
