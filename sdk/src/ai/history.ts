// Market history from the subgraph, as the price model and the daily index need it. Browser-safe (fetch only).
//
// Prices in USD: a USD-priced listing states its price in USD (18 decimals) and is exact; a native-currency
// booking converts its escrow at `nativeUsd` (the market's feed answer, read by the caller: one rate for all of
// history, which is what a local feed offers; a chain with a feed history could pass a rate per day). Bookings in
// an ERC-20 are left out and counted: the market has no USD rate for tokens.
// Host reliability is the host's current record (completed over completed + failures), not as of the booking:
// the subgraph keeps running counters only. Utilization is the GPU model's booked over listed GPU-hours
// (whole-listing hours for CPU-only) over the 7 UTC days before the booking's day, from GpuModelDay.
import type { PriceContext, PriceExample } from "./pricing.ts";

export class HistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HistoryError";
  }
}

export interface HistoryOptions {
  subgraphUrl: string;
  /** USD per whole native coin (the feed's answer), or null when the market has no feed. */
  nativeUsd: number | null;
  fetch?: typeof fetch;
  /** Called after each page: bookings read so far. */
  onProgress?: (read: number) => void;
  /** Upper bound on bookings read (default 50,000). */
  limit?: number;
}

interface SgHistoryBooking {
  id: string;
  start: string;
  end: string;
  bookedAt: string;
  price: string;
  asset: { native: boolean };
  listing: {
    gpuModel: string;
    gpuCount: number;
    region: string;
    confidential: string;
    usdPriced: boolean;
    pricePerHour: string;
  };
  host: { completed: number; noShows: number; declines: number; disputesLost: number };
}

export interface SgModelDay {
  gpuModel: string;
  day: number;
  date: string;
  bookings: number;
  hoursBooked: string;
  hoursListed: string;
  gpuHoursBooked: string;
  gpuHoursListed: string;
  assets: Array<{
    kind: "Native" | "Token" | "Usd";
    volume: string;
    hoursBooked: string;
    gpuHoursBooked: string;
  }>;
}

async function gql<T>(opts: HistoryOptions, query: string, variables: Record<string, unknown>): Promise<T> {
  const f = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(opts.subgraphUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new HistoryError(`subgraph unreachable at ${opts.subgraphUrl}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new HistoryError(`subgraph answered HTTP ${res.status} at ${opts.subgraphUrl}`);
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
  const first = body.errors?.[0];
  if (first) throw new HistoryError(`subgraph query failed: ${first.message}`);
  if (!body.data) throw new HistoryError("subgraph answered without data");
  return body.data;
}

const PAGE = 1000;

async function paged<T extends { id: string }>(
  opts: HistoryOptions,
  entity: string,
  fields: string,
  where: string,
  onPage?: (n: number) => void,
): Promise<T[]> {
  const out: T[] = [];
  let after = "";
  const limit = opts.limit ?? 50_000;
  // id_gt paging (graph-node orders String ids and compares them the same way): no skip limit to hit.
  for (;;) {
    const q = `query($after: ID!) { rows: ${entity}(first: ${PAGE}, orderBy: id, orderDirection: asc, where: { id_gt: $after ${where} }) { id ${fields} } }`;
    const data = await gql<{ rows: T[] }>(opts, q, { after });
    out.push(...data.rows);
    onPage?.(out.length);
    if (data.rows.length < PAGE || out.length >= limit) return out;
    after = data.rows[data.rows.length - 1]?.id ?? after;
  }
}

const DAY_FIELDS =
  "gpuModel day date bookings hoursBooked hoursListed gpuHoursBooked gpuHoursListed assets { kind volume hoursBooked gpuHoursBooked }";

/** Every GpuModelDay from `fromDay` (days since the epoch) on. */
export async function fetchModelDays(opts: HistoryOptions, fromDay = 0): Promise<SgModelDay[]> {
  return paged<SgModelDay & { id: string }>(opts, "gpuModelDays", DAY_FIELDS, `, day_gte: ${fromDay}`);
}

/** Booked over listed GPU-hours (hours for CPU-only) of a model over the 7 days before `day`; null if unlisted. */
export function utilizationBefore(
  days: ReadonlyMap<string, SgModelDay>,
  model: string,
  day: number,
): number | null {
  let booked = 0;
  let listed = 0;
  for (let d = day - 7; d < day; d++) {
    const r = days.get(`${model}-${d}`);
    if (!r) continue;
    const gpu = model !== "cpu";
    booked += Number(gpu ? r.gpuHoursBooked : r.hoursBooked);
    listed += Number(gpu ? r.gpuHoursListed : r.hoursListed);
  }
  if (!(listed > 0)) return null;
  return Math.min(1, booked / listed);
}

export function reliabilityOf(h: SgHistoryBooking["host"]): number | null {
  const failures = h.noShows + h.declines + h.disputesLost;
  const total = h.completed + failures;
  return total === 0 ? null : h.completed / total;
}

/** Every booking as a training example, with counts of what was left out and why. */
export async function fetchPriceHistory(
  opts: HistoryOptions,
): Promise<{ examples: PriceExample[]; skipped: Record<string, number>; bookings: number }> {
  const bookings = await paged<SgHistoryBooking>(
    opts,
    "bookings",
    "start end bookedAt price asset { native } listing { gpuModel gpuCount region confidential usdPriced pricePerHour } host { completed noShows declines disputesLost }",
    "",
    opts.onProgress,
  );
  const dayRows = await fetchModelDays(opts);
  const days = new Map(dayRows.map((r) => [`${r.gpuModel}-${r.day}`, r]));
  const examples: PriceExample[] = [];
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  for (const b of bookings) {
    const hours = (Number(b.end) - Number(b.start)) / 3600;
    if (!(hours > 0)) {
      skip("empty window");
      continue;
    }
    let usdPerHour: number;
    if (b.listing.usdPriced) usdPerHour = Number(BigInt(b.listing.pricePerHour)) / 1e18;
    else if (!b.asset.native) {
      skip("paid in an ERC-20 without a USD rate");
      continue;
    } else if (opts.nativeUsd === null) {
      skip("native price without a USD feed");
      continue;
    } else usdPerHour = (Number(BigInt(b.price)) / 1e18 / hours) * opts.nativeUsd;
    const bookedAt = Number(b.bookedAt);
    const ctx: PriceContext = {
      gpuModel: b.listing.gpuModel,
      gpuCount: b.listing.gpuCount,
      region: b.listing.region,
      confidential: b.listing.confidential !== "None",
      utilization: utilizationBefore(days, b.listing.gpuModel || "cpu", Math.floor(bookedAt / 86_400)),
      leadTimeHours: Math.max(0, (Number(b.start) - bookedAt) / 3600),
      durationHours: hours,
      reliability: reliabilityOf(b.host),
    };
    examples.push({ ctx, usdPerHour, at: bookedAt });
  }
  return { examples, skipped, bookings: bookings.length };
}

export interface IndexPoint {
  day: number;
  /** Unix seconds of the day's start (UTC). */
  date: number;
  bookings: number;
  /** Booked over listed GPU-hours that day (whole-listing hours for CPU-only); null when nothing was listed. */
  utilization: number | null;
  /** Average paid per GPU-hour (per listing-hour for CPU-only) that day in USD; null without bookings or rate. */
  usdPerGpuHour: number | null;
}

/**
 * The daily utilization and price index per GPU model, from GpuModelDay rows. Prices combine native and
 * USD-priced bookings (both escrow native wei) at `nativeUsd`; token bookings are not in the price.
 */
export function priceIndex(rows: readonly SgModelDay[], nativeUsd: number | null): Map<string, IndexPoint[]> {
  const out = new Map<string, IndexPoint[]>();
  for (const r of rows) {
    const cpu = r.gpuModel === "cpu";
    const listed = Number(cpu ? r.hoursListed : r.gpuHoursListed);
    const booked = Number(cpu ? r.hoursBooked : r.gpuHoursBooked);
    let wei = 0;
    let hours = 0;
    for (const a of r.assets) {
      if (a.kind === "Token") continue;
      wei += Number(BigInt(a.volume));
      hours += Number(cpu ? a.hoursBooked : a.gpuHoursBooked);
    }
    const point: IndexPoint = {
      day: r.day,
      date: Number(r.date),
      bookings: r.bookings,
      utilization: listed > 0 ? Math.min(1, booked / listed) : null,
      usdPerGpuHour: nativeUsd !== null && hours > 0 ? (wei / 1e18 / hours) * nativeUsd : null,
    };
    const list = out.get(r.gpuModel) ?? [];
    list.push(point);
    out.set(r.gpuModel, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.day - b.day);
  return out;
}
