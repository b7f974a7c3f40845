// GpuModelDay / GpuModelDayAsset: daily aggregates per GPU model for the pricing model.
import { BigDecimal, BigInt, Bytes } from "@graphprotocol/graph-ts";
import { GpuModelDay, GpuModelDayAsset, Listing } from "../../generated/schema";
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

export function getGpuModelDay(model: string, timestamp: BigInt): GpuModelDay {
  const day = dayOf(timestamp);
  const id = model + "-" + day.toString();
  let d = GpuModelDay.load(id);
  if (d == null) {
    d = new GpuModelDay(id);
    d.gpuModel = model;
    d.day = day;
    d.date = BigInt.fromI64(<i64>day * SECONDS_PER_DAY);
    d.listingsCreated = 0;
    d.bookings = 0;
    d.hoursBooked = ZERO_BD;
    d.gpuHoursBooked = ZERO_BD;
    d.settled = 0;
    d.secondsServed = ZERO;
    d.cancelled = 0;
    d.declined = 0;
    d.noShows = 0;
  }
  return d;
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
