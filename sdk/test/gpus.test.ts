// The GPU facts table (sdk/src/ai/gpus.ts): the names real nvidia-smi / rocm-smi print resolve to the right
// board, no name denotes two boards, every entry is complete and sourced, figures match the vendors' datasheets,
// and ambiguous or unknown names resolve to nothing rather than to a guess.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findGpu, GPU_FACTS, type GpuFacts, matchGpus, normaliseGpuName } from "../src/ai/gpus.ts";

// nvidia-smi --query-gpu=name / rocm-smi --showproductname output → the entry it must resolve to.
// "NVIDIA H100 80GB HBM3" was captured from a real H100 SXM5 machine.
const SMI_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["NVIDIA H100 80GB HBM3", "H100-SXM5-80GB"],
  ["NVIDIA H100 PCIe", "H100-PCIE-80GB"],
  ["NVIDIA H100 NVL", "H100-NVL-94GB"],
  ["NVIDIA H200", "H200-SXM5-141GB"],
  ["NVIDIA H200 NVL", "H200-NVL-141GB"],
  ["NVIDIA A100-SXM4-80GB", "A100-SXM4-80GB"],
  ["NVIDIA A100-SXM4-40GB", "A100-SXM4-40GB"],
  ["NVIDIA A100-PCIE-40GB", "A100-PCIE-40GB"],
  ["NVIDIA A100 80GB PCIe", "A100-PCIE-80GB"],
  ["NVIDIA L40S", "L40S-48GB"],
  ["NVIDIA L40", "L40-48GB"],
  ["NVIDIA L4", "L4-24GB"],
  ["NVIDIA A10", "A10-24GB"],
  ["NVIDIA A40", "A40-48GB"],
  ["NVIDIA RTX A6000", "RTX-A6000-48GB"],
  ["NVIDIA RTX 6000 Ada Generation", "RTX-6000-ADA-48GB"],
  ["NVIDIA GeForce RTX 5090", "RTX-5090-32GB"],
  ["NVIDIA GeForce RTX 4090", "RTX-4090-24GB"],
  ["NVIDIA GeForce RTX 4080", "RTX-4080-16GB"],
  ["NVIDIA GeForce RTX 3090", "RTX-3090-24GB"],
  ["NVIDIA GeForce RTX 3090 Ti", "RTX-3090-TI-24GB"],
  ["Tesla T4", "T4-16GB"],
  ["Tesla V100-SXM2-16GB", "V100-SXM2-16GB"],
  ["Tesla V100-SXM2-32GB", "V100-SXM2-32GB"],
  ["Tesla V100-PCIE-16GB", "V100-PCIE-16GB"],
  ["Tesla V100-PCIE-32GB", "V100-PCIE-32GB"],
  ["AMD Instinct MI300X", "MI300X-192GB"],
  ["AMD Instinct MI250X", "MI250X-128GB"],
];

function byKey(key: string): GpuFacts {
  const g = GPU_FACTS.find((e) => e.key === key);
  assert.ok(g, `no entry with key ${key}`);
  return g;
}

function keys(gpus: readonly GpuFacts[]): string[] {
  return gpus.map((g) => g.key);
}

describe("gpus: names as the tools print them", () => {
  for (const [smiName, key] of SMI_NAMES) {
    it(`"${smiName}" → ${key}`, () => {
      assert.equal(findGpu(smiName)?.key, key);
      assert.deepEqual(keys(matchGpus(smiName)), smiName === "NVIDIA H200" ? keys(matchGpus("H200")) : [key]);
    });
  }

  it("covers every entry with a real tool name, and every entry is named by one", () => {
    assert.deepEqual(
      [...new Set(SMI_NAMES.map(([, key]) => key))].sort(),
      keys(GPU_FACTS).sort(),
      "an entry without a captured tool name, or a tool name for a missing entry",
    );
  });

  it("lists the tool's exact name as each entry's first alias", () => {
    for (const [smiName, key] of SMI_NAMES) assert.equal(byKey(key).aliases[0], smiName, key);
  });

  it("ignores case, brand prefixes, spaces and dashes", () => {
    assert.equal(normaliseGpuName("NVIDIA GeForce RTX 4090"), "rtx4090");
    assert.equal(normaliseGpuName("Tesla V100-SXM2-16GB"), "v100sxm216gb");
    assert.equal(normaliseGpuName("AMD Instinct MI300X"), "mi300x");
    assert.equal(normaliseGpuName("  nvidia   a100_sxm4 80gb "), "a100sxm480gb");
    assert.equal(normaliseGpuName("NVIDIA"), "");
    assert.equal(findGpu("a100-sxm4-80gb")?.key, "A100-SXM4-80GB");
    assert.equal(findGpu("A100 SXM4 80GB")?.key, "A100-SXM4-80GB");
    assert.equal(findGpu("geforce rtx 3090 ti")?.key, "RTX-3090-TI-24GB");
    assert.equal(findGpu("T4")?.key, "T4-16GB");
  });

  it("finds an entry by its key and by its display name", () => {
    for (const g of GPU_FACTS) {
      assert.equal(findGpu(g.key), g, g.key);
      assert.equal(findGpu(g.name), g, g.name);
    }
  });

  it("does not cut a model word that follows a brand word", () => {
    // "RTX" is not a brand word: "RTX 6000 Ada" and "A6000" stay apart.
    assert.equal(findGpu("RTX 6000 Ada")?.key, "RTX-6000-ADA-48GB");
    assert.equal(findGpu("A6000")?.key, "RTX-A6000-48GB");
    assert.equal(findGpu("Quadro RTX 6000"), undefined);
    assert.equal(findGpu("RTX 6000"), undefined);
  });
});

describe("gpus: no name denotes two boards", () => {
  it("keys are unique", () => {
    assert.equal(new Set(keys(GPU_FACTS)).size, GPU_FACTS.length);
  });

  it("no key, display name or alias of one entry normalises to a name of another", () => {
    const owner = new Map<string, string>();
    for (const g of GPU_FACTS) {
      for (const n of new Set([g.key, g.name, ...g.aliases].map(normaliseGpuName))) {
        assert.notEqual(n, "", `${g.key} has a name that normalises to nothing`);
        const other = owner.get(n);
        assert.equal(other, undefined, `"${n}" names both ${other} and ${g.key}`);
        owner.set(n, g.key);
      }
    }
  });

  it("never guesses between variants", () => {
    for (const ambiguous of ["A100", "NVIDIA A100", "H100", "V100", "Tesla V100", "A100 80GB", "H100 80GB"]) {
      assert.equal(findGpu(ambiguous), undefined, ambiguous);
    }
  });
});

describe("gpus: every entry is complete and sourced", () => {
  it("has at least the 28 boards the marketplace rents", () => {
    assert.equal(GPU_FACTS.length, 28);
  });

  for (const g of GPU_FACTS) {
    it(`${g.key}: positive figures, a plausible year, a source URL`, () => {
      for (const field of ["vramGiB", "memoryBandwidthGBs", "fp16Tflops", "fp32Tflops", "tdpW"] as const) {
        assert.ok(Number.isFinite(g[field]) && g[field] > 0, `${field} = ${g[field]}`);
      }
      assert.ok(
        Number.isInteger(g.launchYear) && g.launchYear >= 2017 && g.launchYear <= 2026,
        `${g.launchYear}`,
      );
      assert.match(g.source, /https:\/\/[\w.-]+\.(nvidia|amd)\.com\//);
      assert.ok(g.aliases.length > 0);
      assert.ok(normaliseGpuName(g.name).includes(normaliseGpuName(g.family)), `${g.name} vs ${g.family}`);
      // Tensor/matrix FP16 is never below plain FP32 on any of these boards.
      assert.ok(g.fp16Tflops > g.fp32Tflops, `${g.key}: FP16 ${g.fp16Tflops} <= FP32 ${g.fp32Tflops}`);
    });
  }

  it("is frozen", () => {
    assert.ok(Object.isFrozen(GPU_FACTS));
    const h100 = byKey("H100-SXM5-80GB");
    assert.ok(Object.isFrozen(h100) && Object.isFrozen(h100.aliases));
    // Reflect.set reports the refusal whether or not the caller runs in strict mode.
    assert.equal(Reflect.set(h100, "tdpW", 1), false);
    assert.equal(Reflect.set(h100.aliases, 0, "NVIDIA H100"), false);
    assert.equal(h100.tdpW, 700);
    assert.equal(findGpu("NVIDIA H100"), undefined);
  });
});

describe("gpus: figures against the datasheets", () => {
  type Figures = Pick<
    GpuFacts,
    | "vramGiB"
    | "memoryBandwidthGBs"
    | "fp16Tflops"
    | "fp32Tflops"
    | "tdpW"
    | "launchYear"
    | "vendor"
    | "segment"
  >;
  const expected: Record<string, Figures> = {
    // H100 datasheet: 80 GB, 3.35 TB/s, FP16 1,979 TFLOPS with sparsity, FP32 67, up to 700 W.
    "H100-SXM5-80GB": {
      vramGiB: 80,
      memoryBandwidthGBs: 3350,
      fp16Tflops: 989.5,
      fp32Tflops: 67,
      tdpW: 700,
      launchYear: 2022,
      vendor: "NVIDIA",
      segment: "datacenter",
    },
    // H100 PCIe: 2 TB/s, 1,513 sparse, FP32 51, 300-350 W.
    "H100-PCIE-80GB": {
      vramGiB: 80,
      memoryBandwidthGBs: 2000,
      fp16Tflops: 756.5,
      fp32Tflops: 51,
      tdpW: 350,
      launchYear: 2022,
      vendor: "NVIDIA",
      segment: "datacenter",
    },
    // A100 datasheet: 80 GB SXM 2,039 GB/s, 312 dense FP16, 19.5 FP32, 400 W.
    "A100-SXM4-80GB": {
      vramGiB: 80,
      memoryBandwidthGBs: 2039,
      fp16Tflops: 312,
      fp32Tflops: 19.5,
      tdpW: 400,
      launchYear: 2020,
      vendor: "NVIDIA",
      segment: "datacenter",
    },
    // A100 40 GB PCIe: 1,555 GB/s, 250 W.
    "A100-PCIE-40GB": {
      vramGiB: 40,
      memoryBandwidthGBs: 1555,
      fp16Tflops: 312,
      fp32Tflops: 19.5,
      tdpW: 250,
      launchYear: 2020,
      vendor: "NVIDIA",
      segment: "datacenter",
    },
    // Ada whitepaper: RTX 4090 FP16 tensor with FP32 accumulate 165.2 dense, FP32 82.6, 1,008 GB/s, 450 W.
    "RTX-4090-24GB": {
      vramGiB: 24,
      memoryBandwidthGBs: 1008,
      fp16Tflops: 165.2,
      fp32Tflops: 82.6,
      tdpW: 450,
      launchYear: 2022,
      vendor: "NVIDIA",
      segment: "consumer",
    },
    // T4 datasheet: 65 TFLOPS mixed precision, 8.1 FP32, 320 GB/s, 70 W.
    "T4-16GB": {
      vramGiB: 16,
      memoryBandwidthGBs: 320,
      fp16Tflops: 65,
      fp32Tflops: 8.1,
      tdpW: 70,
      launchYear: 2018,
      vendor: "NVIDIA",
      segment: "datacenter",
    },
    // V100 datasheet: PCIe tensor 112, FP32 14, 900 GB/s, 250 W.
    "V100-PCIE-16GB": {
      vramGiB: 16,
      memoryBandwidthGBs: 900,
      fp16Tflops: 112,
      fp32Tflops: 14,
      tdpW: 250,
      launchYear: 2017,
      vendor: "NVIDIA",
      segment: "datacenter",
    },
    // AMD MI300X: 192 GB, 5.3 TB/s, FP16 1307.4, FP32 vector 163.4, 750 W.
    "MI300X-192GB": {
      vramGiB: 192,
      memoryBandwidthGBs: 5300,
      fp16Tflops: 1307.4,
      fp32Tflops: 163.4,
      tdpW: 750,
      launchYear: 2023,
      vendor: "AMD",
      segment: "datacenter",
    },
    // RTX A6000 datasheet: 48 GB, 768 GB/s, 38.7 FP32, 309.7 sparse tensor, 300 W.
    "RTX-A6000-48GB": {
      vramGiB: 48,
      memoryBandwidthGBs: 768,
      fp16Tflops: 154.85,
      fp32Tflops: 38.7,
      tdpW: 300,
      launchYear: 2020,
      vendor: "NVIDIA",
      segment: "workstation",
    },
  };

  for (const [key, figures] of Object.entries(expected)) {
    it(`${key} matches its datasheet`, () => {
      const g = byKey(key);
      assert.deepEqual(
        {
          vramGiB: g.vramGiB,
          memoryBandwidthGBs: g.memoryBandwidthGBs,
          fp16Tflops: g.fp16Tflops,
          fp32Tflops: g.fp32Tflops,
          tdpW: g.tdpW,
          launchYear: g.launchYear,
          vendor: g.vendor,
          segment: g.segment,
        },
        figures,
      );
    });
  }

  it("keeps SXM and PCIe variants apart", () => {
    assert.notEqual(byKey("H100-SXM5-80GB").tdpW, byKey("H100-PCIE-80GB").tdpW);
    assert.equal(
      byKey("A100-SXM4-80GB").memoryBandwidthGBs - byKey("A100-PCIE-80GB").memoryBandwidthGBs,
      104,
    );
    assert.equal(byKey("V100-SXM2-16GB").fp16Tflops, 125);
    assert.equal(byKey("V100-PCIE-16GB").fp16Tflops, 112);
  });
});

describe("gpus: loose matching", () => {
  it("a family gives all its boards, in table order", () => {
    assert.deepEqual(keys(matchGpus("A100")), [
      "A100-SXM4-80GB",
      "A100-SXM4-40GB",
      "A100-PCIE-80GB",
      "A100-PCIE-40GB",
    ]);
    assert.deepEqual(keys(matchGpus("nvidia h100")), ["H100-SXM5-80GB", "H100-PCIE-80GB", "H100-NVL-94GB"]);
    assert.deepEqual(keys(matchGpus("Tesla V100")), [
      "V100-SXM2-32GB",
      "V100-SXM2-16GB",
      "V100-PCIE-32GB",
      "V100-PCIE-16GB",
    ]);
    // A family wins over the SXM board's bare nvidia-smi name.
    assert.deepEqual(keys(matchGpus("H200")), ["H200-SXM5-141GB", "H200-NVL-141GB"]);
    assert.equal(findGpu("H200")?.key, "H200-SXM5-141GB");
  });

  it("a family that is also a shorter name does not swallow the longer one", () => {
    assert.deepEqual(keys(matchGpus("L40")), ["L40-48GB"]);
    assert.deepEqual(keys(matchGpus("L4")), ["L4-24GB"]);
    assert.deepEqual(keys(matchGpus("A10")), ["A10-24GB"]);
    assert.deepEqual(keys(matchGpus("RTX 3090")), ["RTX-3090-24GB"]);
  });

  it("a part of a name gives every board it appears in", () => {
    assert.deepEqual(keys(matchGpus("4090")), ["RTX-4090-24GB"]);
    assert.deepEqual(keys(matchGpus("3090")), ["RTX-3090-TI-24GB", "RTX-3090-24GB"]);
    assert.deepEqual(keys(matchGpus("A100 80GB")), ["A100-SXM4-80GB", "A100-PCIE-80GB"]);
    assert.deepEqual(keys(matchGpus("MI300")), ["MI300X-192GB"]);
    assert.deepEqual(keys(matchGpus("NVL")), ["H200-NVL-141GB", "H100-NVL-94GB"]);
  });

  it("a too-short fragment matches nothing rather than everything", () => {
    assert.deepEqual(matchGpus("40"), []);
    assert.deepEqual(matchGpus("x"), []);
  });
});

describe("gpus: unknown names", () => {
  for (const unknown of [
    "",
    "   ",
    "NVIDIA",
    "Matrox G200",
    "NVIDIA B200",
    "AMD Instinct MI325X",
    "RTX 4070",
  ]) {
    it(`"${unknown}" → undefined / []`, () => {
      assert.equal(findGpu(unknown), undefined);
      assert.deepEqual(matchGpus(unknown), []);
    });
  }
});
