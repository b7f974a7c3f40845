"use client";

import { marketAbi } from "@computehive/sdk";
import { useMemo, useState } from "react";
import { useAccount } from "wagmi";
import { bookingActions, type DisputeFile, disputeBlob, disputeFile } from "../lib/booking-actions.ts";
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
import { assetOf, useAssetInfos, useSubgraph, useTimeZone } from "./hooks.ts";
import { IcsButton, saveBlob } from "./IcsButton.tsx";
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
      <p className="small muted">
        Times are in {tz}. Calendar files (.ics) are in UTC, so your calendar shows them in its own time zone.
      </p>
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
      <IcsButton booking={b} party="borrower" live={c ? { status: c.status, endedAt: c.endedAt } : null} />
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
  const [disputeOpen, setDisputeOpen] = useState(false);
  const id = BigInt(b.id);
  const call = (label: string, functionName: string, args: readonly unknown[]) =>
    void tx.send(label, { address: market, abi: marketAbi, functionName, args });
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
        <DisputeForm
          bookingId={b.id}
          account={account}
          disputeUntil={a.disputeUntil}
          busy={tx.busy}
          onSend={(cid) => call(`Disputing booking ${b.id}`, "dispute", [id, cid])}
          onClose={() => setDisputeOpen(false)}
        />
      ) : null}
      <TxStatus state={tx.state} />
    </div>
  );
}

/**
 * The dispute in two steps: the reason is fixed as a document (its time included) whose CID is shown, offered
 * as `<cid>.json` with the `ipfs add` command that pins it under that CID; then exactly that CID goes on-chain.
 * Editing the reason discards the document, so the file pinned and the CID sent cannot differ.
 */
function DisputeForm({
  bookingId,
  account,
  disputeUntil,
  busy,
  onSend,
  onClose,
}: {
  bookingId: string;
  account: `0x${string}`;
  disputeUntil: number | null;
  busy: boolean;
  onSend: (cid: string) => void;
  onClose: () => void;
}) {
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [file, setFile] = useState<DisputeFile | null>(null);
  const [downloaded, setDownloaded] = useState(false);
  const [copied, setCopied] = useState(false);
  const base = `dispute-${bookingId}`;
  const prepare = () => {
    try {
      setFile(disputeFile(bookingId, reason, account, Math.floor(Date.now() / 1000)));
      setReasonError(null);
      setDownloaded(false);
      setCopied(false);
    } catch (e) {
      setReasonError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <form
      className="panel"
      aria-label={`Dispute booking ${bookingId}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (file) onSend(file.cid);
        else prepare();
      }}
    >
      <label>
        What went wrong?
        <textarea
          rows={4}
          maxLength={20_000}
          value={reason}
          onChange={(e) => {
            setReason(e.target.value);
            setFile(null);
          }}
          aria-invalid={reasonError !== null}
          aria-describedby={`${base}-help`}
        />
      </label>
      {reasonError ? (
        <p className="field-error" role="alert">
          {reasonError}
        </p>
      ) : null}
      <p id={`${base}-help`} className="small">
        Your reason becomes a small document; only its content address (CID) goes on-chain. The arbiter reads
        the document from IPFS, so <strong>you must pin it yourself</strong>: this page uploads nothing.
        {disputeUntil
          ? ` Disputes are possible until ${new Date(disputeUntil * 1000).toLocaleString()}.`
          : ""}
      </p>
      {file ? (
        <section aria-labelledby={`${base}-doc`}>
          <h3 id={`${base}-doc`}>Your reason document</h3>
          <p className="small">
            CID that goes on-chain: <code className="hash">{file.cid}</code>
          </p>
          <div className="row">
            <button
              type="button"
              className="secondary"
              onClick={() => {
                saveBlob(file.name, disputeBlob(file));
                setDownloaded(true);
              }}
            >
              Download the reason document (.json)
            </button>
            <span role="status" className="small muted hash">
              {downloaded ? `Saved as ${file.name}.` : ""}
            </span>
          </div>
          <p className="small">
            Pin it with IPFS (Kubo) in the folder you saved it to. The command prints <code>added</code>, then
            the same CID:
          </p>
          <pre>{file.command}</pre>
          <div className="row">
            <button
              type="button"
              className="secondary"
              onClick={() => {
                void navigator.clipboard?.writeText(file.command).then(() => setCopied(true));
              }}
            >
              Copy the command
            </button>
            <span role="status" className="ok small">
              {copied ? "Copied." : ""}
            </span>
          </div>
          <p className="small muted">
            A pinning service works too if it stores the file as one raw block (CID version 1, raw leaves):
            the CID it shows must be the one above. Keep the file pinned until the arbiter has decided.
          </p>
          <details>
            <summary>What the document says ({file.bytes.length} bytes)</summary>
            <pre>{file.text}</pre>
          </details>
          {downloaded ? null : (
            <p className="warn small">
              Download the document before you send: if it is not pinned, the arbiter cannot read your reason.
            </p>
          )}
        </section>
      ) : null}
      <div className="row">
        <button type="submit" className={file ? "danger" : undefined} disabled={file !== null && busy}>
          {file ? `Send the dispute of booking ${bookingId}` : "Prepare the reason document"}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}
