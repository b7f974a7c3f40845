import { type Address, getAddress, isAddress, parseUnits, zeroAddress } from "viem";

// The lender's forms (create a listing, change its price, register a host), checked as the market will check
// them (Market.sol: _checkHardware, _checkTerms, lengths, integer widths), with a message per field.

export const MAX_GPU_MODEL_BYTES = 64;
export const MAX_REGION_BYTES = 32;
export const MAX_CID_BYTES = 128;
export const MAX_BOOKING_SLOTS = 2880;
export const MAX_LEAD_TIME_SECONDS = 30 * 86400;
const UINT128_MAX = (1n << 128n) - 1n;

export type Confidential = 0 | 1 | 2;

export interface ListingFormInput {
  hostId: string;
  gpuModel: string;
  gpuCount: string;
  /** GiB per GPU (decimals allowed; stored as MiB). */
  vramGiB: string;
  cpuCores: string;
  ramGiB: string;
  diskGiB: string;
  region: string;
  confidential: string;
  /** "native", "usd", or "token". */
  payment: string;
  tokenAddress: string;
  /** Decimals of the token (read from the chain), for a token payment. */
  tokenDecimals: number | null;
  pricePerHour: string;
  /** Hours (decimals allowed; rounded to whole slots must be exact). */
  minHours: string;
  maxHours: string;
  leadMinutes: string;
  metadataCid: string;
}

export interface HardwareArgs {
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: number;
  cpuCores: number;
  ramMiB: number;
  diskGiB: number;
  region: string;
  confidential: Confidential;
}

export interface CreateListingArgs {
  hostId: bigint;
  hardware: HardwareArgs;
  asset: Address;
  usdPriced: boolean;
  pricePerHour: bigint;
  minSlots: number;
  maxSlots: number;
  leadTime: number;
  metadataCid: string;
}

export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

const bytesOf = (s: string) => new TextEncoder().encode(s).length;

function intField(
  errors: Record<string, string>,
  key: string,
  raw: string,
  label: string,
  min: number,
  max: number,
): number {
  const t = raw.trim();
  if (!/^\d+$/.test(t)) {
    errors[key] = `${label} must be a whole number.`;
    return 0;
  }
  const n = Number(t);
  if (n < min || n > max) errors[key] = `${label} must be between ${min} and ${max.toLocaleString("en-US")}.`;
  return n;
}

function decimalField(
  errors: Record<string, string>,
  key: string,
  raw: string,
  label: string,
): number | null {
  const t = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) {
    errors[key] = `${label} must be a number (e.g. 24 or 1.5).`;
    return null;
  }
  return Number(t);
}

/** A price in whole units ("0.01") as the asset's smallest unit; errors go into `errors[key]`. */
export function parsePrice(
  errors: Record<string, string>,
  key: string,
  raw: string,
  decimals: number,
): bigint {
  const t = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) {
    errors[key] = "The price must be a number such as 0.01.";
    return 0n;
  }
  const [, fraction = ""] = t.split(".");
  if (fraction.length > decimals) {
    errors[key] = `The price has more than ${decimals} decimals.`;
    return 0n;
  }
  const v = parseUnits(t, decimals);
  if (v === 0n) errors[key] = "The price must be more than zero.";
  else if (v > UINT128_MAX) errors[key] = "The price is too large.";
  return v;
}

function cidField(errors: Record<string, string>, raw: string): string {
  const cid = raw.trim();
  if (bytesOf(cid) > MAX_CID_BYTES) errors.metadataCid = `The CID is at most ${MAX_CID_BYTES} bytes.`;
  else if (cid !== "" && !/^[A-Za-z0-9]+$/.test(cid))
    errors.metadataCid = "A CID has only letters and digits.";
  return cid;
}

export function validateListingForm(f: ListingFormInput, slotLength: number): FormResult<CreateListingArgs> {
  const errors: Record<string, string> = {};
  if (!/^[1-9]\d*$/.test(f.hostId.trim())) errors.hostId = "Choose one of your hosts.";
  const gpuModel = f.gpuModel.trim();
  const gpuCount = intField(errors, "gpuCount", f.gpuCount, "GPU count", 0, 255);
  if (bytesOf(gpuModel) > MAX_GPU_MODEL_BYTES)
    errors.gpuModel = `The GPU model is at most ${MAX_GPU_MODEL_BYTES} bytes.`;
  const vram = decimalField(errors, "vramGiB", f.vramGiB, "VRAM per GPU");
  const vramMiBPerGpu = vram === null ? 0 : Math.round(vram * 1024);
  if (vram !== null && vramMiBPerGpu > 0xffffffff) errors.vramGiB = "VRAM per GPU is too large.";
  if (!errors.gpuCount && !errors.gpuModel && !errors.vramGiB) {
    if (gpuCount === 0 && (gpuModel !== "" || vramMiBPerGpu !== 0)) {
      errors.gpuCount =
        "With 0 GPUs, leave the model empty and VRAM at 0: the listing then says plainly that it has no passthrough GPU.";
    } else if (gpuCount > 0 && gpuModel === "")
      errors.gpuModel = "Name the GPU model (as nvidia-smi names it).";
    else if (gpuCount > 0 && vramMiBPerGpu === 0) errors.vramGiB = "Give the VRAM of each GPU.";
  }
  const cpuCores = intField(errors, "cpuCores", f.cpuCores, "CPU cores", 1, 65535);
  const ram = decimalField(errors, "ramGiB", f.ramGiB, "RAM");
  const ramMiB = ram === null ? 0 : Math.round(ram * 1024);
  if (ram !== null && (ramMiB < 1 || ramMiB > 0xffffffff))
    errors.ramGiB = "RAM must be more than 0 and at most 4 PiB.";
  const diskGiB = intField(errors, "diskGiB", f.diskGiB, "Disk", 0, 0xffffffff);
  const region = f.region.trim();
  if (bytesOf(region) > MAX_REGION_BYTES) errors.region = `The region is at most ${MAX_REGION_BYTES} bytes.`;
  const confidential = Number(f.confidential);
  if (![0, 1, 2].includes(confidential)) errors.confidential = "Choose a confidential-computing mode.";

  let asset: Address = zeroAddress;
  let decimals = 18;
  const usdPriced = f.payment === "usd";
  if (f.payment === "token") {
    if (!isAddress(f.tokenAddress.trim(), { strict: false }) || /^0x0{40}$/i.test(f.tokenAddress.trim())) {
      errors.tokenAddress = "Give the token's contract address (0x and 40 hex digits).";
    } else {
      asset = getAddress(f.tokenAddress.trim());
      if (f.tokenDecimals === null) errors.tokenAddress = "This address does not answer as an ERC-20 token.";
      else decimals = f.tokenDecimals;
    }
  } else if (f.payment !== "native" && f.payment !== "usd")
    errors.payment = "Choose how the listing is paid.";
  const pricePerHour = errors.tokenAddress
    ? 0n
    : parsePrice(errors, "pricePerHour", f.pricePerHour, decimals);

  const slotsOf = (key: string, raw: string, label: string): number => {
    const h = decimalField(errors, key, raw, label);
    if (h === null) return 0;
    const slots = (h * 3600) / slotLength;
    if (!Number.isInteger(Math.round(slots * 1e9) / 1e9)) {
      errors[key] = `${label} must be a whole number of ${slotLength / 60}-minute slots.`;
      return 0;
    }
    return Math.round(slots);
  };
  const minSlots = slotsOf("minHours", f.minHours, "The shortest booking");
  const maxSlots = slotsOf("maxHours", f.maxHours, "The longest booking");
  if (!errors.minHours && minSlots < 1) errors.minHours = "The shortest booking must be at least one slot.";
  if (!errors.maxHours && maxSlots > MAX_BOOKING_SLOTS) {
    errors.maxHours = `The longest booking is at most ${(MAX_BOOKING_SLOTS * slotLength) / 3600} hours.`;
  }
  if (!errors.minHours && !errors.maxHours && minSlots > maxSlots) {
    errors.maxHours = "The longest booking must not be shorter than the shortest.";
  }
  const leadMinutes = decimalField(errors, "leadMinutes", f.leadMinutes, "The lead time");
  const leadTime = leadMinutes === null ? 0 : Math.round(leadMinutes * 60);
  if (leadMinutes !== null && leadTime > MAX_LEAD_TIME_SECONDS)
    errors.leadMinutes = "The lead time is at most 30 days.";
  const metadataCid = cidField(errors, f.metadataCid);

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      hostId: BigInt(f.hostId.trim()),
      hardware: {
        gpuModel,
        gpuCount,
        vramMiBPerGpu,
        cpuCores,
        ramMiB,
        diskGiB,
        region,
        confidential: confidential as Confidential,
      },
      asset,
      usdPriced,
      pricePerHour,
      minSlots,
      maxSlots,
      leadTime,
      metadataCid,
    },
  };
}

export interface RegisterHostArgs {
  agent: Address;
  bond: bigint;
  metadataCid: string;
}

/** Registering a host: the agent (oracle key) address, the bond in ETH (≥ the market's minimum), a CID. */
export function validateRegisterHost(
  f: { agent: string; bondEth: string; metadataCid: string },
  minBond: bigint,
): FormResult<RegisterHostArgs> {
  const errors: Record<string, string> = {};
  const agent = f.agent.trim();
  if (!isAddress(agent, { strict: false }) || /^0x0{40}$/i.test(agent)) {
    errors.agent = "Give the agent's address (the oracle-node's key), 0x and 40 hex digits.";
  }
  let bond = 0n;
  if (!/^\d+(\.\d+)?$/.test(f.bondEth.trim())) errors.bondEth = "The bond must be a number of ETH.";
  else {
    bond = parseUnits(f.bondEth.trim(), 18);
    if (bond < minBond) errors.bondEth = "The bond is below the market's minimum.";
  }
  const metadataCid = cidField(errors, f.metadataCid);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { agent: getAddress(agent), bond, metadataCid } };
}
