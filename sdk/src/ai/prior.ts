// The hardware prior: what a GPU-hour of a given card costs before the market has any history of its own.
//
// It is a log-linear fit of public on-demand list prices (PRICE_ANCHORS, each with its provider and page) on the
// card's published hardware (sdk/src/ai/gpus.ts): log($/GPU-h) = a + b·log(FP16 TFLOPS) + c·log(memory GB/s)
// + d·[consumer card]. Cards without an anchor get the fit's value, so a new model is priced by what it can do.
// The interval comes from the fit's leave-one-out errors on the anchors: an honest statement of how far list
// prices sit from what hardware alone predicts. The anchors are list prices as their pages published them in
// 2025; they are a starting point that the market's own history replaces (sdk/src/ai/pricing.ts).
import { findGpu, type GpuFacts } from "./gpus.ts";
import { ridgeFit, ridgePredict } from "./ridge.ts";

export interface PriceAnchor {
  /** The GPU as nvidia-smi prints it (resolved with findGpu). */
  gpu: string;
  /** On-demand price of one GPU for one hour, USD. */
  usdPerGpuHour: number;
  provider: string;
  /** The public price page the figure was read from. */
  source: string;
}

const LAMBDA = "https://lambda.ai/service/gpu-cloud#pricing (on-demand, per GPU, 2025)";
const RUNPOD = "https://www.runpod.io/pricing (secure cloud, on-demand, 2025)";
const GCP = "https://cloud.google.com/compute/gpus-pricing (on-demand, us-central1, GPU only, 2025)";

export const PRICE_ANCHORS: readonly PriceAnchor[] = [
  { gpu: "NVIDIA H100 80GB HBM3", usdPerGpuHour: 2.99, provider: "Lambda", source: LAMBDA },
  { gpu: "NVIDIA H100 PCIe", usdPerGpuHour: 2.49, provider: "Lambda", source: LAMBDA },
  { gpu: "NVIDIA A100-SXM4-80GB", usdPerGpuHour: 1.79, provider: "Lambda", source: LAMBDA },
  { gpu: "NVIDIA A100-SXM4-40GB", usdPerGpuHour: 1.29, provider: "Lambda", source: LAMBDA },
  { gpu: "NVIDIA RTX A6000", usdPerGpuHour: 0.8, provider: "Lambda", source: LAMBDA },
  { gpu: "NVIDIA A10", usdPerGpuHour: 0.75, provider: "Lambda", source: LAMBDA },
  { gpu: "Tesla V100-SXM2-16GB", usdPerGpuHour: 0.55, provider: "Lambda", source: LAMBDA },
  { gpu: "NVIDIA GeForce RTX 4090", usdPerGpuHour: 0.69, provider: "RunPod", source: RUNPOD },
  { gpu: "NVIDIA GeForce RTX 3090", usdPerGpuHour: 0.43, provider: "RunPod", source: RUNPOD },
  { gpu: "Tesla T4", usdPerGpuHour: 0.35, provider: "Google Cloud", source: GCP },
];

/** The prior's inputs for one card: the columns of the fit. */
function priorRow(g: GpuFacts): number[] {
  return [Math.log(g.fp16Tflops), Math.log(g.memoryBandwidthGBs), g.segment === "consumer" ? 1 : 0];
}

interface Fit {
  /** Weights of priorRow's columns, intercept last. */
  weights: number[];
  /** 80th percentile of |leave-one-out log error| over the anchors. */
  q80: number;
  anchors: number;
}

/** Ordinary least squares (ridge with λ = 0) over the anchors. */
function fitOn(rows: Array<{ x: number[]; y: number }>): number[] {
  return ridgeFit(
    rows.map((r) => r.x),
    rows.map((r) => r.y),
    0,
  );
}

let cached: Fit | undefined;

/** The fit over PRICE_ANCHORS, computed once (ten rows: microseconds). */
function priorFit(): Fit {
  if (cached) return cached;
  const rows = PRICE_ANCHORS.map((a) => {
    const g = findGpu(a.gpu);
    if (!g) throw new Error(`price anchor ${a.gpu} is not in the GPU facts table`);
    return { x: priorRow(g), y: Math.log(a.usdPerGpuHour) };
  });
  const weights = fitOn(rows);
  const errors = rows.map((r, i) => {
    const loo = fitOn(rows.filter((_, j) => j !== i));
    return Math.abs(ridgePredict(loo, r.x) - r.y);
  });
  cached = { weights, q80: quantile(errors, 0.8), anchors: rows.length };
  return cached;
}

/** The q-quantile (linear interpolation) of a non-empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError("quantile of an empty list");
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo] ?? 0;
  return a + ((s[hi] ?? a) - a) * (pos - lo);
}

export interface HardwarePrior {
  gpu: GpuFacts;
  /** USD per GPU-hour. */
  usdPerGpuHour: number;
  /** Multiplicative 80 % band from the anchors' leave-one-out errors: [price / f, price × f]. */
  bandFactor: number;
  /** Whether the figure is a list price itself (an anchor) rather than the fit's value. */
  anchored: boolean;
  reason: string;
}

/**
 * The prior for one GPU as nvidia-smi names it; undefined for a CPU-only listing ("") or a card missing from the
 * facts table (the caller says so instead of guessing).
 */
export function hardwarePrior(gpuModel: string): HardwarePrior | undefined {
  const gpu = gpuModel === "" ? undefined : findGpu(gpuModel);
  if (!gpu) return undefined;
  const fit = priorFit();
  const anchor = PRICE_ANCHORS.find((a) => findGpu(a.gpu)?.key === gpu.key);
  const fitted = Math.exp(ridgePredict(fit.weights, priorRow(gpu)));
  const usdPerGpuHour = anchor ? anchor.usdPerGpuHour : fitted;
  const basis = anchor
    ? `${anchor.provider}'s list price for the ${gpu.name}, $${anchor.usdPerGpuHour.toFixed(2)}/GPU-h`
    : `${gpu.name} (${gpu.fp16Tflops} TFLOPS FP16, ${gpu.memoryBandwidthGBs} GB/s) priced from ${fit.anchors} public list prices by its hardware: $${fitted.toFixed(2)}/GPU-h`;
  return {
    gpu,
    usdPerGpuHour,
    bandFactor: Math.exp(fit.q80),
    anchored: anchor !== undefined,
    reason: `hardware prior: ${basis}`,
  };
}
