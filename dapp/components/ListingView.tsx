"use client";

import Link from "next/link";
import { errorToWords } from "../lib/errors.ts";
import {
  CONFIDENTIAL_WORDS,
  formatAmount,
  formatDuration,
  formatMiB,
  formatPricePerHour,
  NATIVE_ASSET,
  NO_GPU_TEXT,
} from "../lib/format.ts";
import { isBookable, reliability, reliabilityText } from "../lib/listings.ts";
import { listingQuery } from "../lib/subgraph.ts";
import { isValidTimeZone } from "../lib/time.ts";
import type { SgListing } from "../lib/types.ts";
import { BookingForm } from "./BookingForm.tsx";
import { Calendar } from "./Calendar.tsx";
import { useChainNow, useMarketParams } from "./chain.tsx";
import { FairPrice } from "./FairPrice.tsx";
import { RequireWallet } from "./Gates.tsx";
import { assetOf, useAssetInfos, useSubgraph, useTimeZone } from "./hooks.ts";

export function ListingView({ id }: { id: string }) {
  if (!/^[1-9]\d{0,18}$/.test(id)) {
    return (
      <p className="error" role="alert">
        “{id}” is not a listing number. <Link href="/">Back to the marketplace</Link>
      </p>
    );
  }
  return (
    <RequireWallet>
      <ListingBody id={id} />
    </RequireWallet>
  );
}

function ListingBody({ id }: { id: string }) {
  const q = useSubgraph<{ listing: SgListing | null }>(listingQuery(id), { refetchMs: 15_000 });
  const params = useMarketParams();
  const now = useChainNow(15_000);
  const [tz, setTz] = useTimeZone();
  const l = q.data?.listing;
  const assets = useAssetInfos(l ? [l.asset.id] : []);

  if (q.error)
    return (
      <p className="error" role="alert">
        {errorToWords(q.error)}
      </p>
    );
  if (!q.data || !params.data || now === 0) return <p role="status">Loading listing {id}…</p>;
  if (!l) {
    return (
      <p role="alert">
        There is no listing {id} (or the subgraph has not indexed it yet).{" "}
        <Link href="/">Back to the marketplace</Link>
      </p>
    );
  }
  const asset = assetOf(assets, l.asset.id);
  const p = params.data;
  const r = reliability(l.host);
  const h = l.host;
  const noGpu = l.gpuCount === 0;
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [tz];

  return (
    <>
      <p>
        <Link href="/">← Marketplace</Link>
      </p>
      <h1>
        Listing {l.id}: {noGpu ? "no passthrough GPU (development host)" : `${l.gpuCount} × ${l.gpuModel}`}
      </h1>
      {noGpu ? (
        <p className="warn">This host has {NO_GPU_TEXT}. Sessions run in a CPU-only virtual machine.</p>
      ) : null}
      {!isBookable(l) ? (
        <p className="warn" role="alert">
          {l.active
            ? "The host is unbonding: it takes no new bookings."
            : "This listing is deactivated: it takes no bookings."}
        </p>
      ) : null}
      <div className="grid2">
        <section className="panel" aria-labelledby="hw-heading">
          <h2 id="hw-heading">Hardware</h2>
          <dl className="facts">
            <dt>GPU</dt>
            <dd>
              {noGpu
                ? NO_GPU_TEXT
                : `${l.gpuCount} × ${l.gpuModel}, ${formatMiB(BigInt(l.vramMiBPerGpu))} VRAM each`}
            </dd>
            <dt>CPU</dt>
            <dd>{l.cpuCores} cores</dd>
            <dt>RAM</dt>
            <dd>{formatMiB(BigInt(l.ramMiB))}</dd>
            <dt>Disk</dt>
            <dd>{l.diskGiB} GiB</dd>
            <dt>Region</dt>
            <dd>{l.region || "not given"}</dd>
            <dt>Confidential</dt>
            <dd>{CONFIDENTIAL_WORDS[l.confidential]}</dd>
            <dt>Metadata</dt>
            <dd>{l.metadataCid ? <code className="hash">{l.metadataCid}</code> : "none"}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="terms-heading">
          <h2 id="terms-heading">Price and terms</h2>
          <p className="price">{formatPricePerHour(BigInt(l.pricePerHour), l.usdPriced, asset)}</p>
          <FairPrice listing={l} slotLength={p.slotLength} />
          <dl className="facts">
            <dt>Duration</dt>
            <dd>
              {formatDuration(l.minSlots * p.slotLength)} to {formatDuration(l.maxSlots * p.slotLength)}
            </dd>
            <dt>Notice</dt>
            <dd>
              {Number(l.leadTime) === 0
                ? "none: the next slot is bookable"
                : formatDuration(Number(l.leadTime))}
            </dd>
            <dt>Slots</dt>
            <dd>{formatDuration(p.slotLength)}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="rep-heading">
          <h2 id="rep-heading">Host {h.id} reputation</h2>
          <p>{reliabilityText(r)}</p>
          <dl className="facts">
            <dt>Completed</dt>
            <dd>{h.completed}</dd>
            <dt>No-shows</dt>
            <dd>{h.noShows}</dd>
            <dt>Declined</dt>
            <dd>{h.declines}</dd>
            <dt>Disputes lost</dt>
            <dd>{h.disputesLost}</dd>
            <dt>Time served</dt>
            <dd>{formatDuration(Number(h.secondsServed))}</dd>
            <dt>Bond</dt>
            <dd>{formatAmount(BigInt(h.bond), NATIVE_ASSET)}</dd>
          </dl>
          <p className="small muted">
            <Link href={`/audit?host=${h.id}`}>Full history of host {h.id}</Link>
          </p>
        </section>
      </div>

      <label>
        Time zone for dates and times
        <select
          value={tz}
          onChange={(e) => {
            if (isValidTimeZone(e.target.value)) setTz(e.target.value);
          }}
        >
          {(zones.includes(tz) ? zones : [tz, ...zones]).map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>

      <Calendar
        listingId={l.id}
        slotLength={p.slotLength}
        leadTime={Number(l.leadTime)}
        now={now}
        timeZone={tz}
      />

      {isBookable(l) ? <BookingForm listing={l} asset={asset} params={p} timeZone={tz} /> : null}
    </>
  );
}
