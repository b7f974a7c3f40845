import { formatUnits, zeroAddress } from "viem";

// Amounts, durations and hardware for people.

/** What the dApp knows of a payment asset: native currency, or an ERC-20 read from the chain. */
export interface AssetInfo {
  address: string;
  symbol: string;
  decimals: number;
}

export const NATIVE_ASSET: AssetInfo = { address: zeroAddress, symbol: "ETH", decimals: 18 };

export function isNative(address: string): boolean {
  return /^0x0{40}$/i.test(address);
}

/** `value` in whole units, at most `maxFraction` decimals (trailing zeros dropped; never rounds up to zero). */
export function formatUnitsTrim(value: bigint, decimals: number, maxFraction = 6): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const full = formatUnits(abs, decimals);
  const [whole = "0", fraction = ""] = full.split(".");
  let cut = fraction.slice(0, maxFraction).replace(/0+$/, "");
  if (cut === "" && fraction.replace(/0+$/, "") !== "" && whole === "0") {
    // A tiny non-zero amount: show its first significant digits rather than 0.
    const firstDigit = fraction.search(/[1-9]/);
    cut = fraction.slice(0, firstDigit + 2).replace(/0+$/, "");
  }
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${cut ? `.${cut}` : ""}`;
}

export function formatAmount(value: bigint, asset: AssetInfo, maxFraction = 6): string {
  return `${formatUnitsTrim(value, asset.decimals, maxFraction)} ${asset.symbol}`;
}

/** USD with 18 decimals (USD-priced listings). */
export function formatUsd(value: bigint): string {
  return `$${formatUnitsTrim(value, 18, 2)}`;
}

/** The per-hour price of a listing. */
export function formatPricePerHour(pricePerHour: bigint, usdPriced: boolean, asset: AssetInfo): string {
  if (usdPriced) return `${formatUsd(pricePerHour)} per hour, paid in ${NATIVE_ASSET.symbol}`;
  return `${formatAmount(pricePerHour, asset)} per hour`;
}

/** "2 h 30 min", "45 min", "3 days 2 h", "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (days) parts.push(`${days} ${days === 1 ? "day" : "days"}`);
  if (hours) parts.push(`${hours} h`);
  if (minutes && days === 0) parts.push(`${minutes} min`);
  return parts.join(" ") || "0 min";
}

/** A countdown: "1:02:03" (h:mm:ss), "4 days 3 h" beyond a day. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) return formatDuration(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
}

/** "0x1234…abcd". */
export function shortHex(hex: string, keep = 4): string {
  if (hex.length <= 2 + keep * 2 + 1) return hex;
  return `${hex.slice(0, 2 + keep)}…${hex.slice(-keep)}`;
}

/** MiB as GiB for people ("24 GiB", "1.5 GiB"). */
export function formatMiB(mib: bigint | number): string {
  const n = Number(mib);
  const gib = n / 1024;
  return `${Number.isInteger(gib) ? gib : gib.toFixed(1)} GiB`;
}

export const NO_GPU_TEXT = "no passthrough GPU (development host)";

export function gpuSummary(l: {
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: bigint | string;
}): string {
  if (l.gpuCount === 0) return NO_GPU_TEXT;
  return `${l.gpuCount} × ${l.gpuModel} (${formatMiB(BigInt(l.vramMiBPerGpu))} each)`;
}

export const CONFIDENTIAL_WORDS: Record<string, string> = {
  None: "no confidential computing",
  SevSnp: "AMD SEV-SNP",
  Tdx: "Intel TDX",
};
