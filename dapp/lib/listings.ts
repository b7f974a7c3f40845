import { parseUnits } from "viem";
import type { AssetInfo } from "./format.ts";
import type { SgHost, SgListing } from "./types.ts";

// The marketplace's filters and sorting, over listings as the subgraph returns them.

/** Share of a host's finished bookings that went well: sessions completed over completed + every failure. */
export interface Reliability {
  /** 0..1, or null for a host with no finished booking yet. */
  score: number | null;
  completed: number;
  failures: number;
}

export function reliability(
  host: Pick<SgHost, "completed" | "noShows" | "declines" | "disputesLost">,
): Reliability {
  const failures = host.noShows + host.declines + host.disputesLost;
  const total = host.completed + failures;
  return { score: total === 0 ? null : host.completed / total, completed: host.completed, failures };
}

export function reliabilityText(r: Reliability): string {
  if (r.score === null) return "new host (no finished sessions yet)";
  return `${Math.round(r.score * 100)}% reliable (${r.completed} completed, ${r.failures} failed)`;
}

/** Which currency a listing is priced in: "native", "usd", or the token's lower-case address. */
export function priceCurrency(l: Pick<SgListing, "usdPriced" | "asset">): string {
  if (l.usdPriced) return "usd";
  return l.asset.native ? "native" : l.asset.id.toLowerCase();
}

export type ConfidentialFilter = "any" | "none" | "any-cc" | "SevSnp" | "Tdx";

export interface ListingFilters {
  /** "" any; "none" = no passthrough GPU; otherwise the exact model. */
  gpuModel: string;
  /** Minimum GPU count (0 = any). */
  minGpus: number;
  /** Minimum VRAM per GPU, GiB (0 = any). */
  minVramGiB: number;
  /** "" any; otherwise the listing's currency (see priceCurrency). */
  currency: string;
  /** Maximum price per hour in whole units of `currency` ("" = no limit); needs a currency. */
  maxPrice: string;
  region: string;
  confidential: ConfidentialFilter;
  /** Minimum reliability in percent (0 = any). */
  minReliability: number;
  /** Whether hosts without any finished session pass a minimum reliability. */
  includeNewHosts: boolean;
  /** Show listings that take no bookings (deactivated, or the host is unbonding). */
  includeInactive: boolean;
}

export const DEFAULT_FILTERS: ListingFilters = {
  gpuModel: "",
  minGpus: 0,
  minVramGiB: 0,
  currency: "",
  maxPrice: "",
  region: "",
  confidential: "any",
  minReliability: 0,
  includeNewHosts: true,
  includeInactive: false,
};

export type SortKey = "price-asc" | "price-desc" | "reliability" | "vram" | "gpus" | "newest";

export const SORT_LABELS: Record<SortKey, string> = {
  "price-asc": "Price: low to high",
  "price-desc": "Price: high to low",
  reliability: "Reliability",
  vram: "Total VRAM",
  gpus: "GPU count",
  newest: "Newest",
};

/** Whether the listing takes bookings now: active, and its host not unbonding. */
export function isBookable(l: Pick<SgListing, "active" | "host">): boolean {
  return l.active && l.host.unbondAt === "0";
}

/** Decimals of each currency key, for parsing a maximum price. */
export function currencyDecimals(
  currency: string,
  tokens: ReadonlyMap<string, AssetInfo>,
): number | undefined {
  if (currency === "native" || currency === "usd") return 18;
  return tokens.get(currency)?.decimals;
}

export interface FilterResult {
  listings: SgListing[];
  /** Problems with the filters themselves (e.g. a malformed price), in words. */
  problems: string[];
}

export function filterListings(
  listings: readonly SgListing[],
  f: ListingFilters,
  tokens: ReadonlyMap<string, AssetInfo> = new Map(),
): FilterResult {
  const problems: string[] = [];
  let maxPrice: bigint | null = null;
  if (f.maxPrice.trim() !== "") {
    if (f.currency === "") {
      problems.push("Choose a currency to filter by price: listings are priced in different currencies.");
    } else {
      const decimals = currencyDecimals(f.currency, tokens);
      if (!/^\d+(\.\d+)?$/.test(f.maxPrice.trim()) || decimals === undefined) {
        problems.push("The maximum price must be a number such as 0.05.");
      } else {
        maxPrice = parseUnits(f.maxPrice.trim(), decimals);
      }
    }
  }
  const minVramMiB = BigInt(Math.max(0, Math.round(f.minVramGiB * 1024)));
  const out = listings.filter((l) => {
    if (!f.includeInactive && !isBookable(l)) return false;
    if (f.gpuModel === "none" && l.gpuCount !== 0) return false;
    if (f.gpuModel !== "" && f.gpuModel !== "none" && l.gpuModel !== f.gpuModel) return false;
    if (l.gpuCount < f.minGpus) return false;
    if (minVramMiB > 0n && BigInt(l.vramMiBPerGpu) < minVramMiB) return false;
    if (f.region !== "" && l.region !== f.region) return false;
    if (f.confidential === "none" && l.confidential !== "None") return false;
    if (f.confidential === "any-cc" && l.confidential === "None") return false;
    if ((f.confidential === "SevSnp" || f.confidential === "Tdx") && l.confidential !== f.confidential)
      return false;
    if (f.currency !== "" && priceCurrency(l) !== f.currency) return false;
    if (maxPrice !== null && BigInt(l.pricePerHour) > maxPrice) return false;
    if (f.minReliability > 0) {
      const r = reliability(l.host);
      if (r.score === null ? !f.includeNewHosts : r.score * 100 < f.minReliability) return false;
    }
    return true;
  });
  return { listings: out, problems };
}

/**
 * Sorts a copy. Prices compare only within a currency: listings are grouped by currency first (native, USD,
 * then tokens) so that "cheapest" never compares wei with token units. Ties break by listing id.
 */
export function sortListings(listings: readonly SgListing[], key: SortKey): SgListing[] {
  const currencyRank = (l: SgListing) => {
    const c = priceCurrency(l);
    return c === "native" ? "0" : c === "usd" ? "1" : `2${c}`;
  };
  const byId = (a: SgListing, b: SgListing) => Number(BigInt(a.id) - BigInt(b.id));
  const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
  const totalVram = (l: SgListing) => BigInt(l.vramMiBPerGpu) * BigInt(l.gpuCount);
  const relScore = (l: SgListing) => reliability(l.host).score ?? -1;
  const cmp = (a: SgListing, b: SgListing): number => {
    switch (key) {
      case "price-asc":
      case "price-desc": {
        const ra = currencyRank(a);
        const rb = currencyRank(b);
        if (ra !== rb) return ra < rb ? -1 : 1;
        const c = cmpBig(BigInt(a.pricePerHour), BigInt(b.pricePerHour));
        return key === "price-asc" ? c : -c;
      }
      case "reliability":
        return relScore(b) - relScore(a);
      case "vram":
        return cmpBig(totalVram(b), totalVram(a));
      case "gpus":
        return b.gpuCount - a.gpuCount;
      case "newest":
        return cmpBig(BigInt(b.createdAt), BigInt(a.createdAt));
    }
  };
  return [...listings].sort((a, b) => cmp(a, b) || byId(a, b));
}

/** The distinct values the filter selects offer. */
export function filterOptions(listings: readonly SgListing[]): {
  gpuModels: string[];
  regions: string[];
  currencies: string[];
  hasNoGpu: boolean;
} {
  const models = new Set<string>();
  const regions = new Set<string>();
  const currencies = new Set<string>();
  let hasNoGpu = false;
  for (const l of listings) {
    if (l.gpuCount === 0) hasNoGpu = true;
    else models.add(l.gpuModel);
    regions.add(l.region);
    currencies.add(priceCurrency(l));
  }
  return {
    gpuModels: [...models].sort(),
    regions: [...regions].sort(),
    currencies: [...currencies].sort(),
    hasNoGpu,
  };
}
