import { type AssetInfo, formatAmount, formatDuration, formatPricePerHour, NATIVE_ASSET } from "./format.ts";
import { formatLocal } from "./time.ts";

// The cost preview of a booking window: what `quote` says it costs, what is sent, and what the rules around
// the escrow mean for this window (cancellation, pro-rata refund, the platform fee).

/** PricingLib.price: ceil(pricePerHour × seconds / 3600), exactly as the contract charges a fixed price. */
export function fixedPrice(pricePerHour: bigint, seconds: bigint): bigint {
  const n = pricePerHour * seconds;
  return (n + 3599n) / 3600n;
}

/** USD-priced listings are paid in native currency at the feed's answer when the booking is mined; the dApp
 * sends this much more than the quote (1%) so that a small move of the feed does not fail the booking. The
 * excess is credited back to the borrower by the contract, to withdraw. */
export const USD_SLIPPAGE_BPS = 100n;

export interface CostInput {
  /** `quote(listingId, start, end)`: asset units, or native wei for a USD listing. */
  quoted: bigint;
  /** The asset `quote` returned. */
  asset: AssetInfo;
  pricePerHour: bigint;
  usdPriced: boolean;
  start: number;
  end: number;
  now: number;
  /** The market's current platform fee and the deployment's cancellation terms. */
  feeBps: number;
  cancelCutoff: number;
  cancelFeeBps: number;
  timeZone: string;
}

export interface CostPreview {
  /** The escrowed price, in words. */
  total: string;
  rate: string;
  duration: string;
  /** Native value to send with `book` (0 for a token listing). */
  value: bigint;
  /** Token amount to approve first (0 for native payments). */
  approve: bigint;
  /** Sentences about the escrow's rules for this window. */
  notes: string[];
}

function pct(bps: number): string {
  return `${(bps / 100).toLocaleString("en-US", { maximumFractionDigits: 2 })}%`;
}

export function costPreview(c: CostInput): CostPreview {
  const native = /^0x0{40}$/i.test(c.asset.address);
  const value = !native ? 0n : c.usdPriced ? c.quoted + (c.quoted * USD_SLIPPAGE_BPS) / 10_000n : c.quoted;
  const notes: string[] = [];
  if (c.usdPriced) {
    notes.push(
      `Priced in USD: ${formatAmount(c.quoted, NATIVE_ASSET)} at the price feed's current rate. ` +
        `${formatAmount(value, NATIVE_ASSET)} is sent (1% more, in case the rate moves); whatever is not needed is credited back to you to withdraw.`,
    );
  }
  if (!native)
    notes.push(`Paid in ${c.asset.symbol}: approve the market to take exactly this amount, then book.`);
  notes.push(
    "The price is held in escrow. At the end you pay only for the time used (pro rata); the rest is refunded. " +
      `The platform's fee (${pct(c.feeBps)}) comes out of the host's share, not on top.`,
  );
  const freeUntil = c.start - c.cancelCutoff;
  notes.push(
    freeUntil > c.now
      ? `Free cancellation until ${formatLocal(freeUntil, c.timeZone)}; after that, ${pct(c.cancelFeeBps)} of the price goes to the host.`
      : `This window starts within ${formatDuration(c.cancelCutoff)}: cancelling it costs ${pct(c.cancelFeeBps)} of the price.`,
  );
  notes.push(
    "If the host never starts the VM, you get everything back plus compensation from the host's bond.",
  );
  return {
    total: formatAmount(c.quoted, c.asset),
    rate: formatPricePerHour(c.pricePerHour, c.usdPriced, c.asset),
    duration: formatDuration(c.end - c.start),
    value,
    approve: native ? 0n : c.quoted,
    notes,
  };
}
