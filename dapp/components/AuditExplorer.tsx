"use client";

import { useSearchParams } from "next/navigation";
import { type FormEvent, useMemo, useState } from "react";
import { errorToWords } from "../lib/errors.ts";
import { formatAmount, NATIVE_ASSET } from "../lib/format.ts";
import {
  accountId,
  auditAccountQuery,
  auditBookingQuery,
  auditHostQuery,
  CONSOLE_EXAMPLE,
  entityId,
  postGraphql,
  SubgraphError,
} from "../lib/subgraph.ts";
import { formatLocal } from "../lib/time.ts";
import { chainOrder, eventText } from "../lib/timeline.ts";
import type { SgBooking, SgEvent, SgHost } from "../lib/types.ts";
import { RequireConfig } from "./Gates.tsx";
import { assetOf, useAssetInfos, useSubgraph, useTimeZone } from "./hooks.ts";
import { useRuntime } from "./Providers.tsx";

type Kind = "booking" | "host" | "account";

interface Target {
  kind: Kind;
  value: string;
}

function queryFor(t: Target | null): { query: string | null; error: string | null } {
  if (!t) return { query: null, error: null };
  try {
    if (t.kind === "booking") return { query: auditBookingQuery(t.value), error: null };
    if (t.kind === "host") return { query: auditHostQuery(t.value), error: null };
    return { query: auditAccountQuery(t.value), error: null };
  } catch (e) {
    return { query: null, error: e instanceof SubgraphError ? e.message : String(e) };
  }
}

export function AuditExplorer() {
  const search = useSearchParams();
  const fromUrl: Target | null = search.get("booking")
    ? { kind: "booking", value: search.get("booking") ?? "" }
    : search.get("host")
      ? { kind: "host", value: search.get("host") ?? "" }
      : search.get("account")
        ? { kind: "account", value: search.get("account") ?? "" }
        : null;
  const [kind, setKind] = useState<Kind>(fromUrl?.kind ?? "booking");
  const [value, setValue] = useState(fromUrl?.value ?? "");
  const [target, setTarget] = useState<Target | null>(fromUrl);
  const [formError, setFormError] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const v = value.trim();
    try {
      if (kind === "account") accountId(v);
      else entityId(v);
    } catch (err) {
      setFormError((err as Error).message);
      return;
    }
    setFormError(null);
    setTarget({ kind, value: v });
    const url = new URL(window.location.href);
    url.search = `?${kind}=${encodeURIComponent(v)}`;
    window.history.replaceState(null, "", url);
  }

  return (
    <>
      <h1>Audit explorer</h1>
      <p className="lead">
        Every market event, as the subgraph indexed it from the chain, with the transaction that emitted it.
        The same queries run against any graph-node serving the ComputeHive subgraph.
      </p>
      <form className="panel" onSubmit={submit} aria-label="Find a history" noValidate>
        <div className="grid2">
          <label>
            Look up
            <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="booking">Booking (id)</option>
              <option value="host">Host (id)</option>
              <option value="account">Account (address)</option>
            </select>
          </label>
          <label>
            {kind === "account" ? "Address" : `${kind === "booking" ? "Booking" : "Host"} id`}
            <input
              value={value}
              onChange={(e) => setValue(e.target.value)}
              placeholder={kind === "account" ? "0x…" : "1"}
              spellCheck={false}
              aria-invalid={formError !== null}
              aria-describedby="audit-form-error"
            />
          </label>
        </div>
        <p id="audit-form-error" className="field-error" role="alert">
          {formError}
        </p>
        <button type="submit">Show history</button>
      </form>
      <RequireConfig>
        {target ? <History target={target} /> : null}
        <GraphqlConsole />
      </RequireConfig>
    </>
  );
}

interface AuditData {
  booking?: (SgBooking & { events: SgEvent[] }) | null;
  host?: SgHost | null;
  account?: { id: string; bookingCount: number; firstSeenAt: string } | null;
  marketEvents?: SgEvent[];
}

function History({ target }: { target: Target }) {
  const { query, error } = queryFor(target);
  const q = useSubgraph<AuditData>(query, { refetchMs: 10_000 });
  const [tz] = useTimeZone();
  const events = useMemo(() => chainOrder(q.data?.booking?.events ?? q.data?.marketEvents ?? []), [q.data]);
  const bookingAsset = q.data?.booking?.asset.id ?? null;
  const assets = useAssetInfos(
    useMemo(
      () => [...events.map((e) => e.asset ?? NATIVE_ASSET.address), ...(bookingAsset ? [bookingAsset] : [])],
      [events, bookingAsset],
    ),
  );
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (q.error)
    return (
      <p className="error" role="alert">
        {errorToWords(q.error)}
      </p>
    );
  if (!q.data) return <p role="status">Loading…</p>;
  const d = q.data;
  const missing =
    (target.kind === "booking" && !d.booking) ||
    (target.kind === "host" && !d.host) ||
    (target.kind === "account" && !d.account && events.length === 0);
  if (missing)
    return (
      <p role="status">
        No {target.kind} {target.value} in the subgraph (yet).
      </p>
    );
  const amount = (raw: bigint, a: string | null) =>
    formatAmount(raw, assetOf(assets, a ?? bookingAsset ?? NATIVE_ASSET.address));
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">
        {target.kind === "booking" ? "Booking" : target.kind === "host" ? "Host" : "Account"} {target.value}
      </h2>
      {d.booking ? (
        <p>
          Status <strong>{d.booking.status}</strong> · listing {d.booking.listing.id} · host{" "}
          {d.booking.host.id} · borrower <code className="hash">{d.booking.borrower.id}</code> ·{" "}
          {formatLocal(Number(d.booking.start), tz, true)} → {formatLocal(Number(d.booking.end), tz, true)} ·{" "}
          {amount(BigInt(d.booking.price), d.booking.asset.id)}
        </p>
      ) : null}
      {d.host ? (
        <p>
          Lender <code className="hash">{d.host.lender.id}</code> · agent{" "}
          <code className="hash">{d.host.agent}</code> · bond{" "}
          {formatAmount(BigInt(d.host.bond), NATIVE_ASSET)} · {d.host.completed} completed, {d.host.noShows}{" "}
          no-shows, {d.host.declines} declined, {d.host.disputesLost} disputes lost
        </p>
      ) : null}
      {d.account ? (
        <p>
          {d.account.bookingCount} bookings as borrower · first seen{" "}
          {formatLocal(Number(d.account.firstSeenAt), tz, true)}
        </p>
      ) : null}
      <p className="small muted">
        {events.length} events
        {events.length === 1000 ? " (the first 1000; use the console below for more)" : ""}, in chain order;
        times in {tz}.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Block</th>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Details</th>
              <th scope="col">Actor</th>
              <th scope="col">Transaction</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-testid="audit-event-row">
                <td>{e.blockNumber}</td>
                <td>{formatLocal(Number(e.timestamp), tz, true)}</td>
                <td>{e.kind}</td>
                <td>
                  {eventText(e, amount)}
                  {e.booking && target.kind !== "booking" ? ` (booking ${e.booking.id})` : ""}
                </td>
                <td>
                  <code className="hash">{e.actor}</code>
                </td>
                <td>
                  <code className="hash">{e.txHash}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function GraphqlConsole() {
  const { config } = useRuntime();
  const [text, setText] = useState(CONSOLE_EXAMPLE);
  const [result, setResult] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  async function run(e: FormEvent) {
    e.preventDefault();
    if (!config) return;
    setRunning(true);
    try {
      const body = await postGraphql(config.subgraphUrl, JSON.stringify({ query: text }));
      setResult(JSON.stringify(body, null, 2));
    } catch (err) {
      setResult(errorToWords(err));
    } finally {
      setRunning(false);
    }
  }
  return (
    <section className="console panel" aria-labelledby="console-heading">
      <h2 id="console-heading">GraphQL console</h2>
      <p className="small muted">
        Runs against <code>{config?.subgraphUrl}</code>. See the subgraph's README for the auditor queries.
      </p>
      <form onSubmit={run}>
        <label>
          GraphQL query
          <textarea
            className="mono"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
          />
        </label>
        <button type="submit" disabled={running || text.trim() === ""}>
          {running ? "Running…" : "Run query"}
        </button>
      </form>
      {result !== null ? (
        <pre role="status" aria-label="Query result">
          {result}
        </pre>
      ) : null}
    </section>
  );
}
