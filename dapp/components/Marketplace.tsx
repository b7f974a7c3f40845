"use client";

import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { errorToWords } from "../lib/errors.ts";
import {
  CONFIDENTIAL_WORDS,
  formatDuration,
  formatMiB,
  formatPricePerHour,
  NO_GPU_TEXT,
} from "../lib/format.ts";
import {
  type ConfidentialFilter,
  DEFAULT_FILTERS,
  filterListings,
  filterOptions,
  isBookable,
  type ListingFilters,
  priceCurrency,
  reliability,
  reliabilityText,
  SORT_LABELS,
  type SortKey,
  sortListings,
} from "../lib/listings.ts";
import { LISTINGS_QUERY } from "../lib/subgraph.ts";
import type { SgListing } from "../lib/types.ts";
import { assetOf, useAssetInfos, useStickyState, useSubgraph } from "./hooks.ts";
import { useRuntime } from "./Providers.tsx";

const PAGE_SIZE = 48;

export function Marketplace({ initial }: { initial: SgListing[] | null }) {
  const { config, error: configError } = useRuntime();
  const q = useSubgraph<{ listings: SgListing[] }>(LISTINGS_QUERY, {
    refetchMs: 15_000,
    initial: initial ? { listings: initial } : undefined,
  });
  const listings = q.data?.listings ?? [];
  const [filters, setFilters] = useStickyState<ListingFilters>("market-filters", DEFAULT_FILTERS);
  const [sort, setSort] = useStickyState<SortKey>("market-sort", "price-asc");
  const assets = useAssetInfos(useMemo(() => listings.map((l) => l.asset.id), [listings]));
  const options = useMemo(() => filterOptions(listings), [listings]);
  const result = useMemo(() => filterListings(listings, filters, assets), [listings, filters, assets]);
  const shown = useMemo(() => sortListings(result.listings, sort), [result.listings, sort]);
  // Cards are rendered a page at a time: a thousand cards at once (server HTML and hydration) took the page
  // past 2.5 s to answer input (bench:dapp); the count above still says how many match.
  const [limit, setLimit] = useState(PAGE_SIZE);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter or sort starts again from the first page.
  useEffect(() => setLimit(PAGE_SIZE), [filters, sort]);
  const set = <K extends keyof ListingFilters>(key: K, value: ListingFilters[K]) =>
    setFilters((f) => ({ ...f, [key]: value }));
  const currencyLabel = (c: string) =>
    c === "native" ? "ETH" : c === "usd" ? "USD (paid in ETH)" : assetOf(assets, c).symbol;

  return (
    <>
      <h1>Marketplace</h1>
      <p className="lead">
        Book time on a lender's machine. You pay into escrow, the host starts a fresh VM for your window, and
        you get a short-lived SSH certificate, encrypted so that only you can read it.
      </p>
      <div className="market">
        <form className="filters panel" aria-label="Filter listings" onSubmit={(e) => e.preventDefault()}>
          <h2>Filters</h2>
          <label>
            GPU model
            <select value={filters.gpuModel} onChange={(e) => set("gpuModel", e.target.value)}>
              <option value="">Any</option>
              {options.hasNoGpu ? <option value="none">No GPU (development hosts)</option> : null}
              {options.gpuModels.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <label>
            Minimum GPUs
            <input
              type="number"
              min={0}
              max={255}
              inputMode="numeric"
              value={filters.minGpus}
              onChange={(e) => set("minGpus", Math.max(0, Number(e.target.value) || 0))}
            />
          </label>
          <label>
            Minimum VRAM per GPU (GiB)
            <input
              type="number"
              min={0}
              inputMode="decimal"
              value={filters.minVramGiB}
              onChange={(e) => set("minVramGiB", Math.max(0, Number(e.target.value) || 0))}
            />
          </label>
          <label>
            Currency
            <select value={filters.currency} onChange={(e) => set("currency", e.target.value)}>
              <option value="">Any</option>
              {options.currencies.map((c) => (
                <option key={c} value={c}>
                  {currencyLabel(c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Maximum price per hour{filters.currency ? ` (${currencyLabel(filters.currency)})` : ""}
            <input
              type="text"
              inputMode="decimal"
              placeholder="e.g. 0.05"
              value={filters.maxPrice}
              onChange={(e) => set("maxPrice", e.target.value)}
              aria-invalid={result.problems.length > 0}
              aria-describedby="filter-problems"
            />
          </label>
          <label>
            Region
            <select value={filters.region} onChange={(e) => set("region", e.target.value)}>
              <option value="">Any</option>
              {options.regions.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <label>
            Confidential computing
            <select
              value={filters.confidential}
              onChange={(e) => set("confidential", e.target.value as ConfidentialFilter)}
            >
              <option value="any">Any</option>
              <option value="any-cc">Required (SEV-SNP or TDX)</option>
              <option value="SevSnp">AMD SEV-SNP</option>
              <option value="Tdx">Intel TDX</option>
              <option value="none">None</option>
            </select>
          </label>
          <label>
            Minimum reliability (%)
            <input
              type="number"
              min={0}
              max={100}
              inputMode="numeric"
              value={filters.minReliability}
              onChange={(e) => set("minReliability", Math.min(100, Math.max(0, Number(e.target.value) || 0)))}
            />
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={filters.includeNewHosts}
              onChange={(e) => set("includeNewHosts", e.target.checked)}
            />
            Include new hosts (no finished sessions yet)
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={filters.includeInactive}
              onChange={(e) => set("includeInactive", e.target.checked)}
            />
            Show listings not taking bookings
          </label>
          <div id="filter-problems" className="error" role="alert">
            {result.problems.map((p) => (
              <p key={p}>{p}</p>
            ))}
          </div>
          <button type="button" className="secondary" onClick={() => setFilters(DEFAULT_FILTERS)}>
            Clear filters
          </button>
        </form>

        <section aria-labelledby="results-heading" className="results">
          <div className="results-bar">
            <h2 id="results-heading" aria-live="polite">
              {shown.length} {shown.length === 1 ? "listing" : "listings"}
            </h2>
            <label>
              Sort by
              <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
                {(Object.keys(SORT_LABELS) as SortKey[]).map((k) => (
                  <option key={k} value={k}>
                    {SORT_LABELS[k]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {sort.startsWith("price") ? (
            <p className="muted small">Prices compare within a currency; listings are grouped by currency.</p>
          ) : null}
          {configError ? <p className="error">{configError}</p> : null}
          {q.error ? (
            <p className="error" role="alert">
              {errorToWords(q.error)}
            </p>
          ) : null}
          {!q.data && !q.error ? (
            <p className="muted" role="status">
              {config ? "Loading listings…" : "Loading…"}
            </p>
          ) : null}
          {q.data && shown.length === 0 ? (
            <p>No listing matches these filters{listings.length === 0 ? " (nothing is listed yet)" : ""}.</p>
          ) : null}
          <ul className="cards">
            {shown.slice(0, limit).map((l) => (
              <ListingCard
                key={l.id}
                listing={l}
                price={formatPricePerHour(BigInt(l.pricePerHour), l.usdPriced, assetOf(assets, l.asset.id))}
                currency={currencyLabel(priceCurrency(l))}
                slotLength={config?.slotLength ?? null}
              />
            ))}
          </ul>
          {shown.length > limit ? (
            <button type="button" className="secondary" onClick={() => setLimit((n) => n + PAGE_SIZE)}>
              Show {Math.min(PAGE_SIZE, shown.length - limit)} more ({shown.length - limit} not shown yet)
            </button>
          ) : null}
        </section>
      </div>
    </>
  );
}

function ListingCard({
  listing: l,
  price,
  currency,
  slotLength,
}: {
  listing: SgListing;
  price: string;
  currency: string;
  slotLength: number | null;
}) {
  const r = reliability(l.host);
  const bookable = isBookable(l);
  const noGpu = l.gpuCount === 0;
  return (
    <li className="card" data-testid="listing-card" data-listing-id={l.id}>
      <h3>
        {noGpu ? (
          <>No passthrough GPU (development host)</>
        ) : (
          <>
            {l.gpuCount} × {l.gpuModel}
          </>
        )}
      </h3>
      <p className={noGpu ? "warn" : "muted"}>
        {noGpu
          ? `This host has ${NO_GPU_TEXT}: sessions run in a CPU-only VM.`
          : `Real passthrough GPU${l.gpuCount > 1 ? "s" : ""}: ${formatMiB(BigInt(l.vramMiBPerGpu))} VRAM each.`}
      </p>
      <dl className="facts">
        <dt>CPU</dt>
        <dd>{l.cpuCores} cores</dd>
        <dt>RAM</dt>
        <dd>{formatMiB(BigInt(l.ramMiB))}</dd>
        <dt>Disk</dt>
        <dd>{l.diskGiB} GiB</dd>
        <dt>Region</dt>
        <dd>{l.region || "not given"}</dd>
        <dt>Confidential</dt>
        <dd>{CONFIDENTIAL_WORDS[l.confidential] ?? l.confidential}</dd>
        <dt>Bookings</dt>
        <dd>
          {slotLength
            ? `${formatDuration(l.minSlots * slotLength)} to ${formatDuration(l.maxSlots * slotLength)}`
            : ""}
          {slotLength ? " · " : ""}
          {l.bookingCount} so far
        </dd>
      </dl>
      <p className="price">
        {price}
        <span className="visually-hidden"> ({currency})</span>
      </p>
      <p className="reputation">
        Host {l.host.id}: {reliabilityText(r)}; {formatDuration(Number(l.host.secondsServed))} served
        {l.host.slashed !== "0" ? "; has been slashed" : ""}
      </p>
      {bookable ? null : (
        <p className="warn">
          {l.active ? "The host is unbonding and takes no new bookings." : "Deactivated: takes no bookings."}
        </p>
      )}
      <Link href={`/listings/${l.id}`} className="button" aria-label={`View listing ${l.id} and book`}>
        {bookable ? "View and book" : "View"}
      </Link>
    </li>
  );
}
