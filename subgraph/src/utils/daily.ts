// GpuModel / GpuModelDay / GpuModelDayAsset: daily aggregates per GPU model for the pricing model.
//
// Listed hours are event-driven (the embedded host runs event handlers only): GpuModel keeps how many listings of
// the model are active and the time up to which their hours were credited (accruedThrough). Every event of the
// model first accrues [accruedThrough, now) to the days it spans, then changes the counts. So a day's hoursListed
// is complete up to the model's latest event and grows as later events arrive.
import { BigDecimal, BigInt, Bytes } from "@graphprotocol/graph-ts";
import { GpuModel, GpuModelDay, GpuModelDayAsset, Listing } from "../../generated/schema";
import { isZero, SECONDS_PER_DAY } from "./ids";

const ZERO = BigInt.zero();
const ZERO_BD = BigDecimal.zero();
const SECONDS_PER_HOUR = BigDecimal.fromString("3600");

/** The model name aggregated under: the listing's GPU model, or "cpu" for CPU-only listings. */
export function modelOf(listing: Listing): string {
  return listing.gpuModel.length == 0 ? "cpu" : listing.gpuModel;
}

export function dayOf(timestamp: BigInt): i32 {
  return <i32>(timestamp.toI64() / SECONDS_PER_DAY);
}

export function hours(seconds: BigInt): BigDecimal {
  return seconds.toBigDecimal().div(SECONDS_PER_HOUR);
}

/** "Native", "Token" or "Usd" (AssetKind) of a listing. */
export function assetKindOf(listing: Listing): string {
  if (listing.usdPriced) return "Usd";
  return isZero(listing.asset) ? "Native" : "Token";
}

/** The model's GpuModel, created (and saved) at its first event with nothing active and accruedThrough = now. */
function getGpuModel(model: string, now: BigInt): GpuModel {
  let m = GpuModel.load(model);
  if (m == null) {
    m = new GpuModel(model);
    m.activeListings = 0;
    m.activeGpus = 0;
    m.listings = 0;
    m.accruedThrough = now;
    m.save();
  }
  return m;
}

/** Loads or creates (unsaved, every counter 0) the model's day number `day`. */
function loadDay(model: string, day: i64): GpuModelDay {
  const id = model + "-" + day.toString();
  let d = GpuModelDay.load(id);
  if (d == null) {
    d = new GpuModelDay(id);
    d.gpuModel = model;
    d.model = model;
    d.day = <i32>day;
    d.date = BigInt.fromI64(day * SECONDS_PER_DAY);
    d.listingsCreated = 0;
    d.bookings = 0;
    d.hoursBooked = ZERO_BD;
    d.gpuHoursBooked = ZERO_BD;
    d.settled = 0;
    d.secondsServed = ZERO;
    d.cancelled = 0;
    d.declined = 0;
    d.noShows = 0;
    d.hoursListed = ZERO_BD;
    d.gpuHoursListed = ZERO_BD;
  }
  return d;
}

/**
 * Credits the hours the model's active listings were listed in [accruedThrough, now) to the UTC days they fell in
 * (activeListings × seconds / 3600 and activeGpus × seconds / 3600 per day, one division per stretch), then moves
 * accruedThrough to now. Saves the days it touched and the model.
 */
function accrue(m: GpuModel, now: BigInt): void {
  if (!now.gt(m.accruedThrough)) return;
  if (m.activeListings > 0) {
    const listings = BigInt.fromI32(m.activeListings);
    const gpus = BigInt.fromI32(m.activeGpus);
    let from = m.accruedThrough.toI64();
    const to = now.toI64();
    while (from < to) {
      const day = from / SECONDS_PER_DAY;
      const midnight = (day + 1) * SECONDS_PER_DAY;
      const until = midnight < to ? midnight : to;
      const seconds = BigInt.fromI64(until - from);
      const d = loadDay(m.id, day);
      d.hoursListed = d.hoursListed.plus(hours(listings.times(seconds)));
      d.gpuHoursListed = d.gpuHoursListed.plus(hours(gpus.times(seconds)));
      d.save();
      from = until;
    }
  }
  m.accruedThrough = now;
  m.save();
}

/**
 * The model's day of `timestamp`, after listed hours were accrued up to it (so the caller's save keeps them).
 * Unsaved when new.
 */
export function getGpuModelDay(model: string, timestamp: BigInt): GpuModelDay {
  accrue(getGpuModel(model, timestamp), timestamp);
  // Loaded only now: accrue saved its own copy of this day, which an earlier load would overwrite.
  return loadDay(model, <i64>dayOf(timestamp));
}

/**
 * Accrues the model's listed hours up to `timestamp`, then counts `listing` as turned on (+1) or off (-1): at its
 * creation and when ListingActiveSet really changes its flag. Returns the saved model.
 */
export function countActive(listing: Listing, delta: i32, timestamp: BigInt): GpuModel {
  const m = getGpuModel(modelOf(listing), timestamp);
  accrue(m, timestamp); // moves m itself; the days it saves are not held here
  m.activeListings = m.activeListings + delta;
  m.activeGpus = m.activeGpus + delta * listing.gpuCount;
  m.save();
  return m;
}

/** A new listing (created active): accrues, then counts it as active and created on the model and the day. */
export function countListingCreated(listing: Listing, timestamp: BigInt): void {
  const m = countActive(listing, 1, timestamp);
  m.listings = m.listings + 1;
  m.save();
  const d = getGpuModelDay(m.id, timestamp);
  d.listingsCreated = d.listingsCreated + 1;
  d.save();
}

export function getGpuModelDayAsset(day: GpuModelDay, kind: string, asset: Bytes): GpuModelDayAsset {
  const id = day.id + "-" + kind + "-" + asset.toHexString();
  let a = GpuModelDayAsset.load(id);
  if (a == null) {
    a = new GpuModelDayAsset(id);
    a.day = day.id;
    a.kind = kind;
    a.asset = asset;
    a.bookings = 0;
    a.hoursBooked = ZERO_BD;
    a.gpuHoursBooked = ZERO_BD;
    a.volume = ZERO;
    a.avgPricePerHour = ZERO_BD;
    a.avgPricePerGpuHour = ZERO_BD;
    a.revenue = ZERO;
  }
  return a;
}

/** Recomputes the averages after volume or hours changed. */
export function refreshAverages(a: GpuModelDayAsset): void {
  const volume = a.volume.toBigDecimal();
  a.avgPricePerHour = a.hoursBooked.equals(ZERO_BD) ? ZERO_BD : volume.div(a.hoursBooked);
  a.avgPricePerGpuHour = a.gpuHoursBooked.equals(ZERO_BD) ? ZERO_BD : volume.div(a.gpuHoursBooked);
}
