/**
 * Earnings over time for the lender dashboard's chart: what each settled (or late-cancelled) booking paid the
 * lender, summed per UTC day for the last `days` days, per asset.
 */

export interface EarningRow {
  /** Unix seconds: settledAt, or cancelledAt for a late-cancellation fee. */
  at: number;
  /** The lender's amount, in the asset's smallest unit. */
  amount: bigint;
  asset: string;
}

export interface DaySeries {
  asset: string;
  /** Oldest first; one entry per UTC day, zero-filled. */
  days: { day: string; amount: bigint }[];
  total: bigint;
}

const DAY = 86_400;

export function dailyEarnings(rows: readonly EarningRow[], opts: { now: number; days: number }): DaySeries[] {
  const last = Math.floor(opts.now / DAY);
  const first = last - opts.days + 1;
  const byAsset = new Map<string, bigint[]>();
  for (const r of rows) {
    const d = Math.floor(r.at / DAY);
    if (d < first || d > last || r.amount <= 0n) continue;
    const series = byAsset.get(r.asset) ?? Array.from({ length: opts.days }, () => 0n);
    series[d - first] = (series[d - first] ?? 0n) + r.amount;
    byAsset.set(r.asset, series);
  }
  return [...byAsset.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([asset, amounts]) => ({
      asset,
      days: amounts.map((amount, i) => ({
        day: new Date((first + i) * DAY * 1000).toISOString().slice(0, 10),
        amount,
      })),
      total: amounts.reduce((s, a) => s + a, 0n),
    }));
}

/** The earnings query: every booking of the lender's hosts that paid the lender, newest first. */
export function earningsQuery(lender: string, since: number): string {
  const l = lender.toLowerCase();
  return `{
  settled: bookings(first: 1000, where: { host_: { lender: "${l}" }, settledAt_gte: "${since}", lenderAmount_gt: "0" }, orderBy: settledAt, orderDirection: desc) { settledAt lenderAmount listing { asset { id } } }
  cancelled: bookings(first: 1000, where: { host_: { lender: "${l}" }, cancelledAt_gte: "${since}", lenderAmount_gt: "0" }, orderBy: cancelledAt, orderDirection: desc) { cancelledAt lenderAmount listing { asset { id } } }
}`;
}

type Settled = { settledAt: string; lenderAmount: string; listing: { asset: { id: string } } };
type Cancelled = { cancelledAt: string; lenderAmount: string; listing: { asset: { id: string } } };

export function earningRows(data: { settled: Settled[]; cancelled: Cancelled[] }): EarningRow[] {
  return [
    ...data.settled.map((b) => ({
      at: Number(b.settledAt),
      amount: BigInt(b.lenderAmount),
      asset: b.listing.asset.id,
    })),
    ...data.cancelled.map((b) => ({
      at: Number(b.cancelledAt),
      amount: BigInt(b.lenderAmount),
      asset: b.listing.asset.id,
    })),
  ];
}
