// The GPU facts table: the hardware the pricing prior, the scheduler and the dApp reason about, keyed by the
// names `nvidia-smi --query-gpu=name` and `rocm-smi --showproductname` / `amd-smi static` print, so a lender's
// host agent can report what it has and the rest of the system knows what that is. Every figure is the
// vendor's published one; each entry names its page, and a figure from anywhere else names its own source.
//
// What each figure means (the same for every entry; where a source states it another way, the entry says how
// its figure was brought to this meaning):
//   vramGiB             On-board memory as the vendor markets it ("80 GB"). DRAM comes in binary sizes, so
//                       these are GiB; nvidia-smi shows slightly less (the driver's and ECC's reservation).
//   memoryBandwidthGBs  Peak DRAM bandwidth, decimal GB/s (10^9 bytes/s): "3.35 TB/s" is 3350.
//   fp16Tflops          Peak DENSE FP16 matrix throughput (tensor cores / AMD matrix cores) with FP32
//                       accumulate, at boost clock, without structured sparsity. Per segment:
//                       - NVIDIA datacenter and workstation: FP32 accumulate runs at the full FP16 rate, so this
//                         is the datasheet's "FP16 Tensor Core" figure. Hopper and Ada datasheets print only the
//                         sparse figure (marked "*With sparsity"); it is halved here, and the entry says so.
//                       - NVIDIA GeForce: FP32 accumulate runs at half the FP16-accumulate rate; this is the
//                         architecture whitepaper's "Peak FP16 Tensor TFLOPS with FP32 Accumulate" (dense).
//                       - Volta and Turing have no sparsity: the datasheet's "Tensor" / "Mixed precision" figure.
//                       - AMD Instinct: the product page's "Peak FP16" (matrix, dense).
//   fp32Tflops          Peak FP32 without tensor/matrix units (NVIDIA "FP32", AMD "FP32 Vector"), boost clock.
//   tdpW                The board's maximum rated power: the datasheet's max TDP (the top of a configurable
//                       range, e.g. H100 PCIe 300-350 W is 350), GeForce "Total Graphics Power" of NVIDIA's own
//                       card, AMD's TDP/TBP (not a short peak).
//   launchYear          The year the vendor announced the product (its press release or keynote).
// Variants are distinct entries: SXM, PCIe and NVL boards, and each memory size, have their own figures.
//
// Names are matched after normaliseGpuName: case, the vendor/brand prefixes and all punctuation and spaces are
// ignored, so "NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB" and "a100-sxm4-80gb" are the same name. findGpu never
// picks between variants ("A100", "H100" and "V100" denote no single card); matchGpus answers loose queries.
// Each entry's first alias is the exact name the vendor's tool prints for that board (the test holds it to
// names captured from nvidia-smi / rocm-smi), so callers may use `aliases[0]` as the board's reported name.
//
// Browser-safe: no node: imports.

export interface GpuFacts {
  /** Canonical key, e.g. "H100-SXM5-80GB". Unique. */
  key: string;
  /** Display name, e.g. "NVIDIA H100 SXM5 80 GB". */
  name: string;
  vendor: "NVIDIA" | "AMD";
  segment: "datacenter" | "workstation" | "consumer";
  /** Family for loose matching: "H100", "A100", "RTX 4090", "MI300X", ... */
  family: string;
  /** Names as nvidia-smi / rocm-smi print them, plus common aliases. */
  aliases: readonly string[];
  vramGiB: number;
  memoryBandwidthGBs: number;
  fp16Tflops: number;
  fp32Tflops: number;
  tdpW: number;
  launchYear: number;
  /** Where the figures come from (URL, and what page). */
  source: string;
}

const H100_DATASHEET =
  "NVIDIA H100 Tensor Core GPU datasheet, https://www.nvidia.com/en-us/data-center/h100/ (specifications table)";
const H200_PAGE =
  "NVIDIA H200 product page, https://www.nvidia.com/en-us/data-center/h200/ (specifications table)";
const A100_DATASHEET =
  "NVIDIA A100 datasheet, https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/" +
  "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf (specifications table)";
const V100_DATASHEET =
  "NVIDIA V100 datasheet, https://images.nvidia.com/content/technologies/volta/pdf/" +
  "volta-v100-datasheet-update-us-1165301-r5.pdf (specifications table)";
const ADA_WHITEPAPER =
  "NVIDIA Ada GPU architecture whitepaper, https://images.nvidia.com/aem-dam/Solutions/geforce/ada/" +
  "nvidia-ada-gpu-architecture.pdf (Appendix A, GeForce specification tables)";
const GA102_WHITEPAPER =
  "NVIDIA Ampere GA102 GPU architecture whitepaper, https://www.nvidia.com/content/PDF/" +
  "nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf (GeForce RTX 3090 specification table)";
const SPARSE_HALVED = "FP16 is the datasheet's sparse FP16 Tensor Core figure / 2.";

const TABLE: GpuFacts[] = [
  // --- NVIDIA Hopper ---
  {
    key: "H200-SXM5-141GB",
    name: "NVIDIA H200 SXM5 141 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "H200",
    // nvidia-smi prints the SXM board as plain "NVIDIA H200"; the NVL board adds " NVL".
    aliases: ["NVIDIA H200", "H200 SXM", "H200 SXM5", "H200 SXM 141GB"],
    vramGiB: 141,
    memoryBandwidthGBs: 4800,
    fp16Tflops: 989.5,
    fp32Tflops: 67,
    tdpW: 700,
    launchYear: 2023,
    source: `${H200_PAGE}, H200 SXM column (1,979* FP16, 4.8 TB/s, up to 700 W). ${SPARSE_HALVED}`,
  },
  {
    key: "H200-NVL-141GB",
    name: "NVIDIA H200 NVL 141 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "H200",
    aliases: ["NVIDIA H200 NVL", "H200 NVL 141GB"],
    vramGiB: 141,
    memoryBandwidthGBs: 4800,
    fp16Tflops: 835.5,
    fp32Tflops: 60,
    tdpW: 600,
    launchYear: 2024,
    source: `${H200_PAGE}, H200 NVL column (1,671* FP16, 4.8 TB/s, up to 600 W). ${SPARSE_HALVED}`,
  },
  {
    key: "H100-SXM5-80GB",
    name: "NVIDIA H100 SXM5 80 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "H100",
    aliases: ["NVIDIA H100 80GB HBM3", "H100 SXM", "H100 SXM5", "H100 SXM 80GB"],
    vramGiB: 80,
    memoryBandwidthGBs: 3350,
    fp16Tflops: 989.5,
    fp32Tflops: 67,
    tdpW: 700,
    launchYear: 2022,
    source: `${H100_DATASHEET}, H100 SXM column (1,979* FP16, 3.35 TB/s, up to 700 W). ${SPARSE_HALVED}`,
  },
  {
    key: "H100-PCIE-80GB",
    name: "NVIDIA H100 PCIe 80 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "H100",
    aliases: ["NVIDIA H100 PCIe", "H100 PCIe 80GB", "H100 80GB PCIe"],
    vramGiB: 80,
    memoryBandwidthGBs: 2000,
    fp16Tflops: 756.5,
    fp32Tflops: 51,
    tdpW: 350,
    launchYear: 2022,
    source:
      `${H100_DATASHEET}, H100 PCIe column (1,513* FP16, 2 TB/s, 300-350 W), and the NVIDIA H100 PCIe product ` +
      `brief PB-11133-001 (maximum TDP 350 W). ${SPARSE_HALVED}`,
  },
  {
    key: "H100-NVL-94GB",
    name: "NVIDIA H100 NVL 94 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "H100",
    aliases: ["NVIDIA H100 NVL", "H100 NVL 94GB"],
    vramGiB: 94,
    memoryBandwidthGBs: 3900,
    fp16Tflops: 835.5,
    fp32Tflops: 60,
    tdpW: 400,
    launchYear: 2023,
    source: `${H100_DATASHEET}, H100 NVL column (1,671* FP16, 3.9 TB/s, 350-400 W). ${SPARSE_HALVED}`,
  },
  // --- NVIDIA Ampere, datacenter ---
  {
    key: "A100-SXM4-80GB",
    name: "NVIDIA A100 SXM4 80 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "A100",
    aliases: ["NVIDIA A100-SXM4-80GB", "A100 SXM 80GB", "A100 80GB SXM"],
    vramGiB: 80,
    memoryBandwidthGBs: 2039,
    fp16Tflops: 312,
    fp32Tflops: 19.5,
    tdpW: 400,
    launchYear: 2020,
    source: `${A100_DATASHEET}, A100 80GB SXM column (FP16 Tensor Core 312 dense | 624 sparse, 2,039 GB/s, 400 W).`,
  },
  {
    key: "A100-SXM4-40GB",
    name: "NVIDIA A100 SXM4 40 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "A100",
    aliases: ["NVIDIA A100-SXM4-40GB", "A100 SXM 40GB", "A100 40GB SXM"],
    vramGiB: 40,
    memoryBandwidthGBs: 1555,
    fp16Tflops: 312,
    fp32Tflops: 19.5,
    tdpW: 400,
    launchYear: 2020,
    source: `${A100_DATASHEET}, A100 40GB SXM column (FP16 Tensor Core 312 dense | 624 sparse, 1,555 GB/s, 400 W).`,
  },
  {
    key: "A100-PCIE-80GB",
    name: "NVIDIA A100 PCIe 80 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "A100",
    aliases: ["NVIDIA A100 80GB PCIe", "A100 PCIe 80GB"],
    vramGiB: 80,
    memoryBandwidthGBs: 1935,
    fp16Tflops: 312,
    fp32Tflops: 19.5,
    tdpW: 300,
    launchYear: 2021,
    source: `${A100_DATASHEET}, A100 80GB PCIe column (FP16 Tensor Core 312 dense | 624 sparse, 1,935 GB/s, 300 W).`,
  },
  {
    key: "A100-PCIE-40GB",
    name: "NVIDIA A100 PCIe 40 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "A100",
    aliases: ["NVIDIA A100-PCIE-40GB", "A100 40GB PCIe"],
    vramGiB: 40,
    memoryBandwidthGBs: 1555,
    fp16Tflops: 312,
    fp32Tflops: 19.5,
    tdpW: 250,
    launchYear: 2020,
    source: `${A100_DATASHEET}, A100 40GB PCIe column (FP16 Tensor Core 312 dense | 624 sparse, 1,555 GB/s, 250 W).`,
  },
  {
    key: "A40-48GB",
    name: "NVIDIA A40 48 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "A40",
    aliases: ["NVIDIA A40"],
    vramGiB: 48,
    memoryBandwidthGBs: 696,
    fp16Tflops: 149.7,
    fp32Tflops: 37.4,
    tdpW: 300,
    launchYear: 2020,
    source:
      "NVIDIA A40 datasheet, https://www.nvidia.com/en-us/data-center/a40/ (specifications: FP16 Tensor " +
      "149.7 dense | 299.4 sparse, 696 GB/s, max power 300 W)",
  },
  {
    key: "A10-24GB",
    name: "NVIDIA A10 24 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "A10",
    aliases: ["NVIDIA A10"],
    vramGiB: 24,
    memoryBandwidthGBs: 600,
    fp16Tflops: 125,
    fp32Tflops: 31.2,
    tdpW: 150,
    launchYear: 2021,
    source:
      "NVIDIA A10 datasheet, https://www.nvidia.com/en-us/data-center/products/a10-gpu/ (specifications: FP16 " +
      "Tensor 125 dense | 250 sparse, 600 GB/s, max power 150 W)",
  },
  // --- NVIDIA Ada, datacenter ---
  {
    key: "L40S-48GB",
    name: "NVIDIA L40S 48 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "L40S",
    aliases: ["NVIDIA L40S"],
    vramGiB: 48,
    memoryBandwidthGBs: 864,
    fp16Tflops: 362.05,
    fp32Tflops: 91.6,
    tdpW: 350,
    launchYear: 2023,
    source:
      "NVIDIA L40S datasheet, https://www.nvidia.com/en-us/data-center/l40s/ (specifications: FP16 Tensor " +
      "362.05 dense | 733 sparse, 864 GB/s, max power 350 W)",
  },
  {
    key: "L40-48GB",
    name: "NVIDIA L40 48 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "L40",
    aliases: ["NVIDIA L40"],
    vramGiB: 48,
    memoryBandwidthGBs: 864,
    fp16Tflops: 181.05,
    fp32Tflops: 90.5,
    tdpW: 300,
    launchYear: 2022,
    source:
      "NVIDIA L40 datasheet, https://www.nvidia.com/en-us/data-center/l40/ (specifications: FP16 Tensor " +
      "181.05 dense | 362.1 sparse, 864 GB/s, max power 300 W)",
  },
  {
    key: "L4-24GB",
    name: "NVIDIA L4 24 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "L4",
    aliases: ["NVIDIA L4"],
    vramGiB: 24,
    memoryBandwidthGBs: 300,
    fp16Tflops: 121,
    fp32Tflops: 30.3,
    tdpW: 72,
    launchYear: 2023,
    source:
      "NVIDIA L4 datasheet, https://www.nvidia.com/en-us/data-center/l4/ (specifications: FP16 Tensor 242* " +
      "sparse, 300 GB/s, 72 W). FP16 is the sparse figure / 2.",
  },
  // --- NVIDIA workstation ---
  {
    key: "RTX-6000-ADA-48GB",
    name: "NVIDIA RTX 6000 Ada Generation 48 GB",
    vendor: "NVIDIA",
    segment: "workstation",
    family: "RTX 6000 Ada",
    // Not "RTX 6000": that is the 2018 Quadro RTX 6000 (Turing), a different card.
    aliases: ["NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada"],
    vramGiB: 48,
    memoryBandwidthGBs: 960,
    fp16Tflops: 364.25,
    fp32Tflops: 91.1,
    tdpW: 300,
    launchYear: 2022,
    source:
      "NVIDIA RTX 6000 Ada Generation datasheet, https://www.nvidia.com/en-us/design-visualization/rtx-6000/ " +
      "(specifications: single-precision 91.1 TFLOPS, tensor 1,457 TFLOPS FP8 with sparsity, 960 GB/s, max power " +
      "300 W). FP16 is 1,457 / 2 (sparsity) / 2 (FP8 runs at twice the FP16 rate).",
  },
  {
    key: "RTX-A6000-48GB",
    name: "NVIDIA RTX A6000 48 GB",
    vendor: "NVIDIA",
    segment: "workstation",
    family: "RTX A6000",
    aliases: ["NVIDIA RTX A6000", "A6000"],
    vramGiB: 48,
    memoryBandwidthGBs: 768,
    fp16Tflops: 154.85,
    fp32Tflops: 38.7,
    tdpW: 300,
    launchYear: 2020,
    source:
      "NVIDIA RTX A6000 datasheet, https://www.nvidia.com/en-us/design-visualization/rtx-a6000/ (specifications: " +
      "single-precision 38.7 TFLOPS, tensor 309.7 TFLOPS with sparsity, 768 GB/s, max power 300 W). FP16 is " +
      "309.7 / 2.",
  },
  // --- NVIDIA GeForce (FP16 with FP32 accumulate, dense: half the FP16-accumulate rate) ---
  {
    key: "RTX-5090-32GB",
    name: "NVIDIA GeForce RTX 5090 32 GB",
    vendor: "NVIDIA",
    segment: "consumer",
    family: "RTX 5090",
    aliases: ["NVIDIA GeForce RTX 5090"],
    vramGiB: 32,
    memoryBandwidthGBs: 1792,
    fp16Tflops: 209.5,
    fp32Tflops: 104.8,
    tdpW: 575,
    launchYear: 2025,
    source:
      "NVIDIA GeForce RTX 5090 page, https://www.nvidia.com/en-us/geforce/graphics-cards/50-series/rtx-5090/ " +
      "(32 GB GDDR7, 512-bit, 2.41 GHz boost, 575 W total graphics power). Bandwidth (28 Gbps x 512 bit / 8) and " +
      "FP32 from TechPowerUp's GPU database, https://www.techpowerup.com/gpu-specs/ (GeForce RTX 5090). FP16: " +
      "NVIDIA's 838 sparse FP16 tensor TFLOPS / 2 = 419 with FP16 accumulate, halved for FP32 accumulate as on " +
      "every GeForce card (NVIDIA RTX Blackwell GPU architecture whitepaper, https://images.nvidia.com/aem-dam/" +
      "Solutions/geforce/blackwell/nvidia-rtx-blackwell-gpu-architecture.pdf).",
  },
  {
    key: "RTX-4090-24GB",
    name: "NVIDIA GeForce RTX 4090 24 GB",
    vendor: "NVIDIA",
    segment: "consumer",
    family: "RTX 4090",
    aliases: ["NVIDIA GeForce RTX 4090"],
    vramGiB: 24,
    memoryBandwidthGBs: 1008,
    fp16Tflops: 165.2,
    fp32Tflops: 82.6,
    tdpW: 450,
    launchYear: 2022,
    source: `${ADA_WHITEPAPER}, GeForce RTX 4090 column (FP16 tensor with FP32 accumulate 165.2 dense).`,
  },
  {
    key: "RTX-4080-16GB",
    name: "NVIDIA GeForce RTX 4080 16 GB",
    vendor: "NVIDIA",
    segment: "consumer",
    family: "RTX 4080",
    aliases: ["NVIDIA GeForce RTX 4080"],
    vramGiB: 16,
    memoryBandwidthGBs: 716.8,
    fp16Tflops: 97.5,
    fp32Tflops: 48.7,
    tdpW: 320,
    launchYear: 2022,
    source: `${ADA_WHITEPAPER}, GeForce RTX 4080 16GB column (FP16 tensor with FP32 accumulate 97.5 dense).`,
  },
  {
    key: "RTX-3090-TI-24GB",
    name: "NVIDIA GeForce RTX 3090 Ti 24 GB",
    vendor: "NVIDIA",
    segment: "consumer",
    family: "RTX 3090 Ti",
    aliases: ["NVIDIA GeForce RTX 3090 Ti"],
    vramGiB: 24,
    memoryBandwidthGBs: 1008,
    fp16Tflops: 80,
    fp32Tflops: 40,
    tdpW: 450,
    launchYear: 2022,
    source: `${ADA_WHITEPAPER}, GeForce RTX 3090 Ti column (the 4090's comparison; FP16 with FP32 accumulate 80 dense).`,
  },
  {
    key: "RTX-3090-24GB",
    name: "NVIDIA GeForce RTX 3090 24 GB",
    vendor: "NVIDIA",
    segment: "consumer",
    family: "RTX 3090",
    aliases: ["NVIDIA GeForce RTX 3090"],
    vramGiB: 24,
    memoryBandwidthGBs: 936,
    fp16Tflops: 71,
    fp32Tflops: 35.6,
    tdpW: 350,
    launchYear: 2020,
    source: `${GA102_WHITEPAPER} (FP16 tensor with FP32 accumulate 71 dense, 936 GB/s, 350 W).`,
  },
  // --- NVIDIA Turing and Volta, datacenter ---
  {
    key: "T4-16GB",
    name: "NVIDIA T4 16 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "T4",
    aliases: ["Tesla T4"],
    vramGiB: 16,
    memoryBandwidthGBs: 320,
    fp16Tflops: 65,
    fp32Tflops: 8.1,
    tdpW: 70,
    launchYear: 2018,
    source:
      "NVIDIA T4 datasheet, https://www.nvidia.com/en-us/data-center/tesla-t4/ (specifications: mixed precision " +
      "FP16/FP32 65 TFLOPS, single precision 8.1 TFLOPS, 320+ GB/s, 70 W)",
  },
  {
    key: "V100-SXM2-32GB",
    name: "NVIDIA V100 SXM2 32 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "V100",
    aliases: ["Tesla V100-SXM2-32GB"],
    vramGiB: 32,
    memoryBandwidthGBs: 900,
    fp16Tflops: 125,
    fp32Tflops: 15.7,
    tdpW: 300,
    launchYear: 2018,
    source: `${V100_DATASHEET}, V100 SXM2 column (tensor 125 TFLOPS, 900 GB/s, 300 W; 32 GB announced March 2018).`,
  },
  {
    key: "V100-SXM2-16GB",
    name: "NVIDIA V100 SXM2 16 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "V100",
    aliases: ["Tesla V100-SXM2-16GB"],
    vramGiB: 16,
    memoryBandwidthGBs: 900,
    fp16Tflops: 125,
    fp32Tflops: 15.7,
    tdpW: 300,
    launchYear: 2017,
    source: `${V100_DATASHEET}, V100 SXM2 column (tensor 125 TFLOPS, 900 GB/s, 300 W).`,
  },
  {
    key: "V100-PCIE-32GB",
    name: "NVIDIA V100 PCIe 32 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "V100",
    aliases: ["Tesla V100-PCIE-32GB"],
    vramGiB: 32,
    memoryBandwidthGBs: 900,
    fp16Tflops: 112,
    fp32Tflops: 14,
    tdpW: 250,
    launchYear: 2018,
    source: `${V100_DATASHEET}, V100 PCIe column (tensor 112 TFLOPS, 900 GB/s, 250 W; 32 GB announced March 2018).`,
  },
  {
    key: "V100-PCIE-16GB",
    name: "NVIDIA V100 PCIe 16 GB",
    vendor: "NVIDIA",
    segment: "datacenter",
    family: "V100",
    aliases: ["Tesla V100-PCIE-16GB"],
    vramGiB: 16,
    memoryBandwidthGBs: 900,
    fp16Tflops: 112,
    fp32Tflops: 14,
    tdpW: 250,
    launchYear: 2017,
    source: `${V100_DATASHEET}, V100 PCIe column (tensor 112 TFLOPS, 900 GB/s, 250 W).`,
  },
  // --- AMD Instinct ---
  {
    key: "MI300X-192GB",
    name: "AMD Instinct MI300X 192 GB",
    vendor: "AMD",
    segment: "datacenter",
    family: "MI300X",
    aliases: ["AMD Instinct MI300X"],
    vramGiB: 192,
    memoryBandwidthGBs: 5300,
    fp16Tflops: 1307.4,
    fp32Tflops: 163.4,
    tdpW: 750,
    launchYear: 2023,
    source:
      "AMD Instinct MI300X product page, https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html " +
      "(specifications: peak FP16 1307.4 TFLOPS dense, FP32 vector 163.4 TFLOPS, 5.3 TB/s, 750 W)",
  },
  {
    key: "MI250X-128GB",
    name: "AMD Instinct MI250X 128 GB",
    vendor: "AMD",
    segment: "datacenter",
    family: "MI250X",
    aliases: ["AMD Instinct MI250X"],
    vramGiB: 128,
    memoryBandwidthGBs: 3200,
    fp16Tflops: 383,
    fp32Tflops: 47.9,
    tdpW: 500,
    launchYear: 2021,
    source:
      "AMD Instinct MI250X product page, https://www.amd.com/en/products/accelerators/instinct/mi200/mi250x.html " +
      "(specifications: peak FP16 383 TFLOPS, FP32 vector 47.9 TFLOPS, 3.2 TB/s, 500 W TDP; 560 W peak)",
  },
];

/** The table, frozen: one entry per distinct board (see the header for what each figure means). */
export const GPU_FACTS: readonly GpuFacts[] = Object.freeze(
  TABLE.map((g) => Object.freeze({ ...g, aliases: Object.freeze([...g.aliases]) })),
);

// Leading words that brand a name without telling cards apart: "NVIDIA GeForce RTX 4090", "Tesla T4",
// "AMD Instinct MI300X". Only leading ones are dropped, so a model name is never cut.
const BRAND_WORDS = new Set(["nvidia", "tesla", "geforce", "amd", "instinct", "radeon"]);

/** Normalise a GPU name for matching: case, "NVIDIA"/"Tesla"/"GeForce"/"AMD Instinct" prefixes, spaces, dashes. */
export function normaliseGpuName(name: string): string {
  const words = name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
  let first = 0;
  while (first < words.length && BRAND_WORDS.has(words[first] as string)) first++;
  return words.slice(first).join("");
}

/** Every normalised name an entry answers to: its key, its display name and its aliases. */
function namesOf(g: GpuFacts): string[] {
  return [g.key, g.name, ...g.aliases].map(normaliseGpuName);
}

const BY_NAME: ReadonlyMap<string, GpuFacts> = new Map(
  GPU_FACTS.flatMap((g) => namesOf(g).map((n) => [n, g] as const)),
);

/** The GPU an exact name (as nvidia-smi prints it, or an alias) denotes; undefined when unknown. Never guesses
 *  between variants: "A100" alone is ambiguous and returns undefined. */
export function findGpu(name: string): GpuFacts | undefined {
  const n = normaliseGpuName(name);
  return n === "" ? undefined : BY_NAME.get(n);
}

// A loose query shorter than this ("40", "x") would match by accident; exact names and families still match.
const MIN_LOOSE_QUERY = 3;

/** Every GPU of a family or loose query: "A100" → the four A100s; "4090" → RTX 4090; exact names → that one.
 *  A family wins over an exact name, so "H200" (also what nvidia-smi prints for the SXM board) gives both
 *  H200s; otherwise an exact name gives its one entry, and anything else every entry one of whose names
 *  contains the query ("3090" → RTX 3090 and 3090 Ti, "A100 80GB" → both 80 GB A100s). Table order. */
export function matchGpus(query: string): GpuFacts[] {
  const q = normaliseGpuName(query);
  if (q === "") return [];
  const family = GPU_FACTS.filter((g) => normaliseGpuName(g.family) === q);
  if (family.length > 0) return family;
  const exact = BY_NAME.get(q);
  if (exact) return [exact];
  if (q.length < MIN_LOOSE_QUERY) return [];
  return GPU_FACTS.filter((g) => [normaliseGpuName(g.family), ...namesOf(g)].some((n) => n.includes(q)));
}
