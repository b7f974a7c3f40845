"use client";

import { marketAbi, rawCid } from "@computehive/sdk";
import { useMemo, useState } from "react";
import { useAccount } from "wagmi";
import { bookingActions, disputeDocument } from "../lib/booking-actions.ts";
import { type AssetInfo, formatAmount, formatCountdown, formatDuration, gpuSummary } from "../lib/format.ts";
import { myBookingsQuery } from "../lib/subgraph.ts";
import { formatLocal } from "../lib/time.ts";
import type { SgAccountAsset, SgBooking } from "../lib/types.ts";
import { BookingStatus, useChainBooking } from "./BookingStatus.tsx";
import { Credits } from "./Credits.tsx";
import {
  type MarketParamsView,
  RequireAccount,
  TxStatus,
  useChainNow,
  useErrorWords,
  useMarket,
  useMarketParams,
  useTx,
} from "./chain.tsx";
import { EndpointPanel } from "./EndpointPanel.tsx";
import { RequireWallet } from "./Gates.tsx";
import { assetOf, downloadText, useAssetInfos, useSubgraph, useTimeZone } from "./hooks.ts";
import { useSessionKey } from "./SessionKeyChooser.tsx";
import { BookingTimeline } from "./Timeline.tsx";

export function MyBookings() {
  return (
    <>
      <h1>My bookings</h1>
      <RequireWallet>
        <RequireAccount why="to see your bookings">
          <Body />
        </RequireAccount>
      </RequireWallet>
    </>
  );
}

function Body() {
  const { address } = useAccount();
  const account = address as `0x${string}`;
  const q = useSubgraph<{ bookings: SgBooking[]; accountAssets: SgAccountAsset[] }>(
    myBookingsQuery(account),
    {
      refetchMs: 5000,
    },
  );
  const params = useMarketParams();
  const [tz] = useTimeZone();
  const words = useErrorWords();
  const assets = useAssetInfos(
    useMemo(
      () => [
        ...(q.data?.bookings ?? []).map((b) => b.asset.id),
        ...(q.data?.accountAssets ?? []).map((a) => a.asset.id),
      ],
      [q.data],
    ),
  );
  if (q.error)
    return (
      <p className="error" role="alert">
        {words(q.error)}
      </p>
    );
  if (!q.data || !params.data) return <p role="status">Loading your bookings…</p>;
  const bookings = q.data.bookings;
  return (
    <>
      <Credits rows={q.data.accountAssets} assets={assets} onWithdrawn={() => void q.refetch()} />
      {bookings.length === 0 ? <p>You have no bookings yet. Find a machine in the marketplace.</p> : null}
      {bookings.map((b) => (
        <BookingCard
          key={b.id}
          booking={b}
          account={account}
          assets={assets}
          params={params.data}
          timeZone={tz}
        />
      ))}
      <p className="small muted">Times are in {tz}. Calendar (.ics) downloads come in a later version.</p>
    </>
  );
}

function BookingCard(props: {
  booking: SgBooking;
  account: `0x${string}`;
  assets: Map<string, AssetInfo>;
  params: MarketParamsView;
  timeZone: string;
}) {
  const { booking: b, account, assets, params: p, timeZone: tz } = props;
  const chain = useChainBooking(b.id);
  const now = useChainNow(1000);
  const [sessionKey] = useSessionKey(account);
  const asset = assetOf(assets, b.asset.id);
  const start = Number(b.start);
  const end = Number(b.end);
  const c = chain.data;
  const actions = c && now ? bookingActions(c, p, now) : null;
  const sessionEnd = c?.endedAt ? c.endedAt : end;
  return (
    <article className="panel" id={`booking-${b.id}`} aria-labelledby={`booking-${b.id}-heading`}>
      <h2 id={`booking-${b.id}-heading`}>
        Booking {b.id}: listing {b.listing.id} (
        {gpuSummary({ ...b.listing, vramMiBPerGpu: "0" }).replace(/ \(0 GiB each\)$/, "")})
      </h2>
      <BookingStatus bookingId={b.id} />
      <p>
        {formatLocal(start, tz, true)} → {formatLocal(end, tz, true)} ({formatDuration(end - start)}) ·{" "}
        {formatAmount(BigInt(b.price), asset)} escrowed
      </p>
      {c && now ? (
        <p aria-live="off">
          {c.status === "Booked" || c.status === "Active"
            ? now < start
              ? `Starts in ${formatCountdown(start - now)}`
              : now < sessionEnd
                ? `Ends in ${formatCountdown(sessionEnd - now)}`
                : "The window is over."
            : null}
        </p>
      ) : null}
      {c?.status === "Active" && now < sessionEnd ? (
        <EndpointPanel booking={b} account={account} sessionKey={sessionKey} timeZone={tz} />
      ) : null}
      {actions ? <Actions booking={b} actions={actions} account={account} params={p} /> : null}
      <details>
        <summary>History ({b.events?.length ?? 0} events)</summary>
        <BookingTimeline
          status={b.status}
          events={b.events ?? []}
          assets={assets}
          bookingAsset={b.asset.id}
          timeZone={tz}
        />
      </details>
    </article>
  );
}

function Actions({
  booking: b,
  actions: a,
  account,
  params: p,
}: {
  booking: SgBooking;
  actions: ReturnType<typeof bookingActions>;
  account: `0x${string}`;
  params: MarketParamsView;
}) {
  const tx = useTx();
  const { market } = useMarket();
  const [reason, setReason] = useState("");
  const [disputeOpen, setDisputeOpen] = useState(false);
  const [reasonError, setReasonError] = useState<string | null>(null);
  const id = BigInt(b.id);
  const call = (label: string, functionName: string, args: readonly unknown[]) =>
    void tx.send(label, { address: market, abi: marketAbi, functionName, args });
  const doc = reason.trim() ? disputeDocument(b.id, reason, account, Math.floor(Date.now() / 1000)) : "";
  const cid = doc ? rawCid(doc) : "";
  const anything = a.cancel || a.endSession || a.dispute || a.claimNoShow || a.settle;
  if (!anything && tx.state.phase === "idle") return null;
  return (
    <div>
      <div className="row">
        {a.cancel ? (
          <button
            type="button"
            className="secondary"
            disabled={tx.busy}
            onClick={() => call(`Cancelling booking ${b.id}`, "cancel", [id])}
          >
            Cancel booking {b.id}
            {a.cancelLate ? ` (costs ${p.cancelFeeBps / 100}% of the price)` : " (free)"}
          </button>
        ) : null}
        {a.endSession ? (
          <button
            type="button"
            className="secondary"
            disabled={tx.busy}
            onClick={() => call(`Ending booking ${b.id} early`, "endSession", [id])}
          >
            End session {b.id} now
          </button>
        ) : null}
        {a.claimNoShow ? (
          <button
            type="button"
            disabled={tx.busy}
            onClick={() => call(`Claiming a no-show for booking ${b.id}`, "claimNoShow", [id])}
          >
            Claim no-show (full refund + compensation)
          </button>
        ) : null}
        {a.settle ? (
          <button
            type="button"
            disabled={tx.busy}
            onClick={() => call(`Settling booking ${b.id}`, "settle", [id])}
          >
            Settle booking {b.id}
          </button>
        ) : null}
        {a.dispute && !disputeOpen ? (
          <button type="button" className="danger" onClick={() => setDisputeOpen(true)}>
            Dispute booking {b.id}
          </button>
        ) : null}
      </div>
      {a.dispute && disputeOpen ? (
        <form
          className="panel"
          aria-label={`Dispute booking ${b.id}`}
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim().length < 10) {
              setReasonError("Say what went wrong, in at least a sentence (10 characters or more).");
              return;
            }
            setReasonError(null);
            call(`Disputing booking ${b.id}`, "dispute", [id, cid]);
          }}
        >
          <label>
            What went wrong?
            <textarea
              rows={4}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              aria-invalid={reasonError !== null}
              aria-describedby={`dispute-${b.id}-help`}
            />
          </label>
          {reasonError ? (
            <p className="field-error" role="alert">
              {reasonError}
            </p>
          ) : null}
          <p id={`dispute-${b.id}-help`} className="small">
            Your reason becomes a small document; only its content address (CID) goes on-chain. The arbiter
            reads the document from IPFS, so <strong>you must pin it yourself</strong> (for example{" "}
            <code>ipfs add --cid-version 1 --raw-leaves dispute-{b.id}.json</code>, which gives the same CID).
            {a.disputeUntil
              ? ` Disputes are possible until ${new Date(a.disputeUntil * 1000).toLocaleString()}.`
              : ""}
          </p>
          {cid ? (
            <p className="small">
              CID: <code className="hash">{cid}</code>{" "}
              <button
                type="button"
                className="secondary"
                onClick={() => downloadText(`dispute-${b.id}.json`, doc, "application/json")}
              >
                Download the reason document
              </button>
            </p>
          ) : null}
          <div className="row">
            <button type="submit" className="danger" disabled={tx.busy}>
              Send the dispute
            </button>
            <button type="button" className="secondary" onClick={() => setDisputeOpen(false)}>
              Close
            </button>
          </div>
        </form>
      ) : null}
      <TxStatus state={tx.state} />
    </div>
  );
}
