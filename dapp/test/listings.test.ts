import { describe, expect, test } from "vitest";
import type { AssetInfo } from "../lib/format.ts";
import {
  DEFAULT_FILTERS,
  filterListings,
  filterOptions,
  isBookable,
  type ListingFilters,
  reliability,
  reliabilityText,
  sortListings,
} from "../lib/listings.ts";
import type { SgListing } from "../lib/types.ts";

const NATIVE = { id: "0x0000000000000000000000000000000000000000", native: true };
const TOKEN = { id: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0", native: false };

function listing(
  id: string,
  over: Partial<SgListing> = {},
  host: Partial<SgListing["host"]> = {},
): SgListing {
  return {
    id,
    gpuModel: "NVIDIA H100 80GB HBM3",
    gpuCount: 1,
    vramMiBPerGpu: "81559",
    cpuCores: 16,
    ramMiB: "131072",
    diskGiB: "500",
    region: "eu-west",
    confidential: "None",
    usdPriced: false,
    pricePerHour: "1000000000000000000",
    minSlots: 1,
    maxSlots: 96,
    leadTime: "0",
    active: true,
    metadataCid: "",
    createdAt: id,
    bookingCount: 0,
    asset: NATIVE,
    host: {
      id: "1",
      agent: "0x",
      bond: "1",
      unbondAt: "0",
      metadataCid: "",
      registeredAt: "1",
      completed: 0,
      noShows: 0,
      declines: 0,
      disputesLost: 0,
      secondsServed: "0",
      openBookings: 0,
      slashed: "0",
      lender: { id: "0x" },
      ...host,
    },
    ...over,
  };
}

const dev = listing("1", {
  gpuModel: "",
  gpuCount: 0,
  vramMiBPerGpu: "0",
  region: "local",
  pricePerHour: "10000000000000000",
});
const h100 = listing("2", { pricePerHour: "2000000000000000000" }, { completed: 9, noShows: 1 });
const a100x4 = listing(
  "3",
  {
    gpuModel: "NVIDIA A100-SXM4-40GB",
    gpuCount: 4,
    vramMiBPerGpu: "40960",
    confidential: "SevSnp",
    region: "us-east",
  },
  { completed: 2, declines: 2 },
);
const tokenListing = listing("4", { asset: TOKEN, pricePerHour: "5000000" });
const usd = listing("5", { usdPriced: true, pricePerHour: "3000000000000000000", confidential: "Tdx" });
const inactive = listing("6", { active: false });
const unbonding = listing("7", {}, { unbondAt: "123" });
const all = [dev, h100, a100x4, tokenListing, usd, inactive, unbonding];
const tokens = new Map<string, AssetInfo>([[TOKEN.id, { address: TOKEN.id, symbol: "tUSD", decimals: 6 }]]);
const f = (over: Partial<ListingFilters>) => ({ ...DEFAULT_FILTERS, ...over });
const ids = (ls: SgListing[]) => ls.map((l) => l.id);

describe("reliability", () => {
  test("completed over completed plus every failure; null for a new host", () => {
    expect(reliability(h100.host).score).toBeCloseTo(0.9);
    expect(reliability(a100x4.host).score).toBeCloseTo(0.5);
    expect(reliability(dev.host).score).toBeNull();
    expect(reliabilityText(reliability(dev.host))).toMatch(/new host/);
    expect(reliabilityText(reliability(h100.host))).toBe("90% reliable (9 completed, 1 failed)");
  });
});

describe("filterListings", () => {
  test("by default hides listings that take no bookings (deactivated, or the host unbonding)", () => {
    expect(isBookable(inactive)).toBe(false);
    expect(isBookable(unbonding)).toBe(false);
    expect(ids(filterListings(all, DEFAULT_FILTERS).listings)).toEqual(["1", "2", "3", "4", "5"]);
    expect(ids(filterListings(all, f({ includeInactive: true })).listings)).toHaveLength(7);
  });

  test("GPU model, including 'no passthrough GPU'", () => {
    expect(ids(filterListings(all, f({ gpuModel: "none" })).listings)).toEqual(["1"]);
    expect(ids(filterListings(all, f({ gpuModel: "NVIDIA A100-SXM4-40GB" })).listings)).toEqual(["3"]);
  });

  test("GPU count, VRAM per GPU, region, confidential computing", () => {
    expect(ids(filterListings(all, f({ minGpus: 2 })).listings)).toEqual(["3"]);
    expect(ids(filterListings(all, f({ minVramGiB: 79 })).listings)).toEqual(["2", "4", "5"]);
    expect(ids(filterListings(all, f({ minVramGiB: 40 })).listings)).toEqual(["2", "3", "4", "5"]);
    expect(ids(filterListings(all, f({ region: "us-east" })).listings)).toEqual(["3"]);
    expect(ids(filterListings(all, f({ confidential: "any-cc" })).listings)).toEqual(["3", "5"]);
    expect(ids(filterListings(all, f({ confidential: "Tdx" })).listings)).toEqual(["5"]);
    expect(ids(filterListings(all, f({ confidential: "none" })).listings)).toEqual(["1", "2", "4"]);
  });

  test("price: within one currency, in whole units with the currency's decimals", () => {
    expect(ids(filterListings(all, f({ currency: "native", maxPrice: "1" })).listings)).toEqual(["1", "3"]);
    expect(ids(filterListings(all, f({ currency: "native", maxPrice: "0.01" })).listings)).toEqual(["1"]);
    expect(ids(filterListings(all, f({ currency: TOKEN.id, maxPrice: "5" }), tokens).listings)).toEqual([
      "4",
    ]);
    expect(ids(filterListings(all, f({ currency: TOKEN.id, maxPrice: "4.99" }), tokens).listings)).toEqual(
      [],
    );
    expect(ids(filterListings(all, f({ currency: "usd", maxPrice: "3" })).listings)).toEqual(["5"]);
  });

  test("a price without a currency, or a malformed price, is a problem in words, not a crash", () => {
    const r = filterListings(all, f({ maxPrice: "1" }));
    expect(r.problems[0]).toMatch(/Choose a currency/);
    expect(r.listings).toHaveLength(5);
    expect(filterListings(all, f({ currency: "native", maxPrice: "abc" })).problems[0]).toMatch(/number/);
  });

  test("minimum reliability, with or without new hosts", () => {
    expect(ids(filterListings(all, f({ minReliability: 80 })).listings)).toEqual(["1", "2", "4", "5"]);
    expect(ids(filterListings(all, f({ minReliability: 80, includeNewHosts: false })).listings)).toEqual([
      "2",
    ]);
    expect(ids(filterListings(all, f({ minReliability: 50, includeNewHosts: false })).listings)).toEqual([
      "2",
      "3",
    ]);
  });
});

describe("sortListings", () => {
  test("price sorts within a currency: native, then USD, then tokens", () => {
    expect(ids(sortListings([usd, tokenListing, h100, dev, a100x4], "price-asc"))).toEqual([
      "1",
      "3",
      "2",
      "5",
      "4",
    ]);
    expect(ids(sortListings([usd, tokenListing, h100, dev, a100x4], "price-desc"))).toEqual([
      "2",
      "3",
      "1",
      "5",
      "4",
    ]);
  });

  test("reliability (new hosts last), total VRAM, GPU count, newest; ties by id", () => {
    expect(ids(sortListings([dev, a100x4, h100], "reliability"))).toEqual(["2", "3", "1"]);
    expect(ids(sortListings([dev, h100, a100x4], "vram"))).toEqual(["3", "2", "1"]);
    expect(ids(sortListings([dev, h100, a100x4], "gpus"))).toEqual(["3", "2", "1"]);
    expect(ids(sortListings([dev, h100, a100x4], "newest"))).toEqual(["3", "2", "1"]);
    expect(ids(sortListings([h100, tokenListing], "gpus"))).toEqual(["2", "4"]);
  });

  test("does not change its input", () => {
    const input = [h100, dev];
    sortListings(input, "price-asc");
    expect(ids(input)).toEqual(["2", "1"]);
  });
});

test("filterOptions lists models, regions and currencies once each, and notes GPU-less hosts", () => {
  const o = filterOptions(all);
  expect(o.hasNoGpu).toBe(true);
  expect(o.gpuModels).toEqual(["NVIDIA A100-SXM4-40GB", "NVIDIA H100 80GB HBM3"]);
  expect(o.regions).toEqual(["eu-west", "local", "us-east"]);
  expect(o.currencies).toEqual([TOKEN.id, "native", "usd"]);
});
