/**
 * `npm run price -- --gpu "<name as nvidia-smi prints it>" --count N [--json]`: a suggested price for a listing,
 * with its interval and reasons. Assistive: it prints a figure; it never lists or changes a price.
 *
 * Options: --region R, --hours H (window length, default 4), --lead-hours L (default 24), --confidential,
 * --reliability 0..1 (the host's record; default: a new host), --retrain (read the whole history from the
 * subgraph and refit, then save), --subgraph URL, --rpc URL, --market 0x…, --model FILE, --offline (ask no
 * market: no subgraph, RPC or market address from flags, environment or .computehive/local-stack.json; the saved
 * model if any, else the hardware prior; not with --retrain, --subgraph, --rpc or --market).
 *
 * The model: the saved one (.computehive/pricing/model.json) if any; otherwise, when a subgraph is reachable, one
 * trained from it now and saved; otherwise (or when the market has too little history) the hardware prior, and the
 * reasons say "cold start". With --json, stdout is exactly one JSON line {"usdPerHour","low","high","reasons"};
 * progress and notes go to stderr. Exit 1 with one line for an unknown GPU or a bad value, 2 for usage.
 */
import { realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { findGpu, matchGpus, type PriceModel, PricingError, suggestPrice } from "@computehive/sdk/ai";
import {
  loadModel,
  marketSources,
  nativeUsdOf,
  recentUtilization,
  saveModel,
  trainFromSubgraph,
} from "./price.ts";

const USAGE = `usage: npm run price -- --gpu "<name as nvidia-smi prints it>" --count N [--json]
  [--region R] [--hours H] [--lead-hours L] [--confidential] [--reliability 0..1]
  [--retrain] [--subgraph URL] [--rpc URL] [--market 0x...] [--model FILE] [--offline]`;

class UsageError extends Error {}

function num(name: string, v: string | undefined, dflt: number, ok: (n: number) => boolean): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || !ok(n))
    throw new UsageError(`--${name}: not a valid value: ${v}`);
  return n;
}

export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let flags: ReturnType<typeof parse>;
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      allowPositionals: false,
      options: {
        gpu: { type: "string" },
        count: { type: "string" },
        json: { type: "boolean" },
        region: { type: "string" },
        hours: { type: "string" },
        "lead-hours": { type: "string" },
        confidential: { type: "boolean" },
        reliability: { type: "string" },
        retrain: { type: "boolean" },
        subgraph: { type: "string" },
        rpc: { type: "string" },
        market: { type: "string" },
        model: { type: "string" },
        offline: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  const note = (line: string) => err.write(`price: ${line}\n`);
  try {
    flags = parse(argv);
    if (flags.values.help) {
      out.write(`${USAGE}\n`);
      return 0;
    }
    if (!flags.values.gpu && !flags.values.retrain) throw new UsageError("--gpu is required");
    if (flags.values.offline) {
      const clash = (["retrain", "subgraph", "rpc", "market"] as const).filter(
        (k) => flags.values[k] !== undefined,
      );
      if (clash.length)
        throw new UsageError(`--offline asks no market: not with ${clash.map((k) => `--${k}`).join(", ")}`);
    }
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = flags.values;
  try {
    const count = num("count", v.count, 1, (n) => Number.isInteger(n) && n >= 1 && n <= 64);
    const hours = num("hours", v.hours, 4, (n) => n > 0 && n <= 24 * 30);
    const lead = num("lead-hours", v["lead-hours"], 24, (n) => n >= 0);
    const reliability =
      v.reliability === undefined ? null : num("reliability", v.reliability, 0, (n) => n >= 0 && n <= 1);
    let gpuName = "";
    if (v.gpu !== undefined) {
      const gpu = findGpu(v.gpu);
      if (!gpu) {
        const close = matchGpus(v.gpu).map((g) => `"${g.aliases[0] ?? g.name}"`);
        note(
          close.length > 1
            ? `"${v.gpu}" matches several GPUs; name one as nvidia-smi prints it: ${close.join(", ")}`
            : close.length === 1
              ? `"${v.gpu}" is not a GPU name as nvidia-smi prints it; did you mean ${close[0]}?`
              : `unknown GPU "${v.gpu}": not in the GPU facts table (sdk/src/ai/gpus.ts)`,
        );
        return 1;
      }
      gpuName = gpu.aliases[0] ?? gpu.name;
    }

    const src = marketSources(v);
    let model: PriceModel | null = v.retrain ? null : await loadModel(src.modelPath);
    if (model)
      note(`model from ${src.modelPath} (trained ${new Date(model.json.trainedAt * 1000).toISOString()})`);
    if (!model && (v.retrain || src.subgraphUrl)) {
      try {
        const trained = await trainFromSubgraph(src, note);
        model = trained.model;
        for (const [why, n] of Object.entries(trained.skipped)) note(`left out ${n}: ${why}`);
        if (model) {
          await saveModel(src.modelPath, model);
          note(`saved ${src.modelPath}`);
        } else if (
          await rm(src.modelPath).then(
            () => true,
            () => false,
          )
        ) {
          // A model of a market that no longer has enough history (a fresh local chain) must not linger.
          note(`removed the old model ${src.modelPath}: this market's history is too short for one`);
        }
      } catch (e) {
        if (v.retrain) throw e;
        note(`${(e as Error).message}; using the hardware prior`);
      }
    }
    if (v.gpu === undefined) return 0; // --retrain alone
    const now = Math.floor(Date.now() / 1000);
    const utilization = await recentUtilization(src, gpuName, now).catch(() => null);
    const s = suggestPrice(
      {
        gpuModel: gpuName,
        gpuCount: count,
        region: v.region ?? "",
        confidential: v.confidential ?? false,
        utilization,
        leadTimeHours: lead,
        durationHours: hours,
        reliability,
      },
      model,
    );
    if (v.json) {
      out.write(
        `${JSON.stringify({ usdPerHour: s.usdPerHour, low: s.low, high: s.high, reasons: s.reasons })}\n`,
      );
    } else {
      out.write(`$${s.usdPerHour}/h for the whole listing (usual range $${s.low}–$${s.high}/h)\n`);
      for (const r of s.reasons) out.write(`  - ${r}\n`);
      const rate = await nativeUsdOf(src).catch(() => null);
      if (rate)
        out.write(
          `At the market's feed rate ($${rate.usd} per native coin) that is ${(s.usdPerHour / rate.usd).toPrecision(4)} per hour in native currency.\n`,
        );
      out.write("A suggestion only: you set the price (`computehive-oracle listing create --price …`).\n");
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    note(e instanceof PricingError ? e.message : (e as Error).message);
    return 1;
  }
}

const invoked = process.argv[1] ? pathToFileURL(realpathSync(resolve(process.argv[1]))).href : "";
if (import.meta.url === invoked) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
