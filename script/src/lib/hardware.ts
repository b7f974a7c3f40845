import { statfsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { repoRoot } from "./paths.ts";

/** The on-chain `Hardware` struct (contracts/src/interfaces/IMarket.sol). */
export interface HardwareInput {
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: number;
  cpuCores: number;
  ramMiB: number;
  diskGiB: number;
  region: string;
  /** 0 = none, 1 = SEV-SNP, 2 = TDX */
  confidential: number;
}

export interface LocalHardware {
  hardware: HardwareInput;
  /** Facts for the listing's metadata document. */
  cpuModel: string;
  diskPath: string;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * What this machine really has, for an honest development listing. A development host passes no GPU through
 * to its guests (CPU-only TCG guest), so the listing says so: gpuCount 0, no model, no VRAM, whatever GPU the
 * machine may or may not have. CPU, RAM and disk are read from the machine, never invented:
 * cores = os.cpus().length, RAM = os.totalmem(), disk = the size of the file system holding `diskPath`
 * (by default the one holding the repository, where the local stack keeps its VM images).
 */
export function readLocalHardware(opts: { diskPath?: string; region?: string } = {}): LocalHardware {
  const diskPath = opts.diskPath ?? repoRoot;
  const list = cpus();
  const fs = statfsSync(diskPath);
  const hardware: HardwareInput = {
    gpuModel: "",
    gpuCount: 0,
    vramMiBPerGpu: 0,
    cpuCores: Math.min(list.length, 0xffff),
    ramMiB: Math.floor(totalmem() / MiB),
    diskGiB: Math.floor((fs.blocks * fs.bsize) / GiB),
    region: opts.region ?? "local",
    confidential: 0,
  };
  if (hardware.cpuCores === 0 || hardware.ramMiB === 0) {
    throw new Error("cannot read this machine’s CPU count or memory: refusing to list invented hardware");
  }
  return { hardware, cpuModel: list[0]?.model.trim() ?? "unknown", diskPath };
}
