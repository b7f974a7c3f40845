"use client";

import { marketAbi } from "@computehive/sdk";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useMemo, useState } from "react";
import { erc20Abi, isAddress } from "viem";
import { useAccount } from "wagmi";
import { type DaySeries, dailyEarnings, earningRows, earningsQuery } from "../lib/earnings.ts";
import {
  type AssetInfo,
  formatAmount,
  formatDuration,
  formatPricePerHour,
  gpuSummary,
  NATIVE_ASSET,
} from "../lib/format.ts";
import {
  type ListingFormInput,
  parsePrice,
  validateListingForm,
  validateRegisterHost,
} from "../lib/listing-form.ts";
import { reliability, reliabilityText } from "../lib/listings.ts";
import { lenderQuery } from "../lib/subgraph.ts";
import { formatLocal } from "../lib/time.ts";
import type { SgAccountAsset, SgBooking, SgHost, SgListing } from "../lib/types.ts";
import { Credits } from "./Credits.tsx";
import {
  type MarketParamsView,
  RequireAccount,
  TxStatus,
  useChainNow,
  useMarket,
  useMarketParams,
  useTx,
} from "./chain.tsx";
import { RequireWallet } from "./Gates.tsx";
import { assetOf, useAssetInfos, useStickyState, useSubgraph, useTimeZone } from "./hooks.ts";
import { IcsButton } from "./IcsButton.tsx";
import { PriceSuggestion } from "./PriceSuggestion.tsx";

type HostWithListings = SgHost & { listings: SgListing[] };
interface LenderData {
  hosts: HostWithListings[];
  bookings: SgBooking[];
  accountAssets: SgAccountAsset[];
}

export function LenderDashboard() {
  return (
    <>
      <h1>Lender dashboard</h1>
      <p className="lead">
        Your hosts, their bond and reputation, your listings, upcoming sessions and earnings. The recommended
        way to list a machine is the oracle-node's CLI on the machine itself (
        <code>computehive-oracle listing create</code> from the host agent's real GPU inventory); the form
        here takes hardware typed by hand, because a browser cannot see the machine.
      </p>
      <RequireWallet>
        <RequireAccount why="to manage your hosts">
          <Body />
        </RequireAccount>
      </RequireWallet>
    </>
  );
}

function Body() {
  const { address } = useAccount();
  const account = address as `0x${string}`;
  const [queryNow] = useState(() => Math.floor(Date.now() / 1000));
  const q = useSubgraph<LenderData>(lenderQuery(account, queryNow), { refetchMs: 5000 });
  const params = useMarketParams();
  const [tz] = useTimeZone();
  const assets = useAssetInfos(
    useMemo(
      () => [
        ...(q.data?.hosts ?? []).flatMap((h) => h.listings.map((l) => l.asset.id)),
        ...(q.data?.accountAssets ?? []).map((a) => a.asset.id),
      ],
      [q.data],
    ),
  );
  if (!q.data || !params.data) return <p role="status">Loading your hosts…</p>;
  const { hosts, bookings, accountAssets } = q.data;
  const refetch = () => void q.refetch();
  return (
    <>
      {hosts.length === 0 ? (
        <p>
          This account has no host yet. Register one (below), or better, with the oracle-node CLI on the
          machine.
        </p>
      ) : null}
      {hosts.map((h) => (
        <HostPanel
          key={h.id}
          host={h}
          assets={assets}
          params={params.data}
          timeZone={tz}
          onChange={refetch}
        />
      ))}
      <Upcoming bookings={bookings} assets={assets} timeZone={tz} />
      <Earnings rows={accountAssets} assets={assets} account={account} now={queryNow} />
      <Credits rows={accountAssets} assets={assets} heading="Withdraw" onWithdrawn={refetch} />
      {hosts.length > 0 ? <CreateListingForm hosts={hosts} params={params.data} onCreated={refetch} /> : null}
      <RegisterHostForm
        minBond={params.data.minBond}
        account={account}
        onRegistered={refetch}
        first={hosts.length === 0}
      />
    </>
  );
}

function HostPanel(props: {
  host: HostWithListings;
  assets: Map<string, AssetInfo>;
  params: MarketParamsView;
  timeZone: string;
  onChange: () => void;
}) {
  const { host: h, assets, params: p, timeZone: tz, onChange } = props;
  const tx = useTx();
  const { market } = useMarket();
  const now = useChainNow(10_000);
  const [topUp, setTopUp] = useState("");
  const [topUpError, setTopUpError] = useState<string | null>(null);
  const unbondAt = Number(h.unbondAt);
  const id = BigInt(h.id);
  const send = async (label: string, functionName: string, args: readonly unknown[], value?: bigint) => {
    const r = await tx.send(label, { address: market, abi: marketAbi, functionName, args, value });
    if (r) onChange();
  };
  return (
    <section className="panel" aria-labelledby={`host-${h.id}-heading`}>
      <h2 id={`host-${h.id}-heading`}>Host {h.id}</h2>
      <dl className="facts">
        <dt>Agent</dt>
        <dd>
          <code className="hash">{h.agent}</code>
        </dd>
        <dt>Bond</dt>
        <dd>
          {formatAmount(BigInt(h.bond), NATIVE_ASSET)} (minimum {formatAmount(p.minBond, NATIVE_ASSET)})
        </dd>
        <dt>Unbonding</dt>
        <dd>
          {unbondAt === 0
            ? "no — taking bookings"
            : `yes — the bond unlocks ${formatLocal(unbondAt, tz, true)}; no new bookings meanwhile`}
        </dd>
        <dt>Reputation</dt>
        <dd>
          {reliabilityText(reliability(h))}; {h.noShows} no-shows, {h.declines} declined, {h.disputesLost}{" "}
          disputes lost; {formatDuration(Number(h.secondsServed))} served
        </dd>
        <dt>Open bookings</dt>
        <dd>{h.openBookings}</dd>
      </dl>
      <div className="row">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            const errors: Record<string, string> = {};
            const v = parsePrice(errors, "bond", topUp, 18);
            if (errors.bond) return setTopUpError(errors.bond.replace("price", "amount"));
            setTopUpError(null);
            void send(`Adding to the bond of host ${h.id}`, "depositBond", [id], v);
          }}
        >
          <label>
            Add to the bond (ETH)
            <input
              value={topUp}
              onChange={(e) => setTopUp(e.target.value)}
              inputMode="decimal"
              aria-invalid={topUpError !== null}
            />
          </label>
          <button type="submit" disabled={tx.busy}>
            Add bond
          </button>
        </form>
        {unbondAt === 0 ? (
          <button
            type="button"
            className="secondary"
            disabled={tx.busy}
            onClick={() => void send(`Unbonding host ${h.id}`, "requestUnbond", [id])}
          >
            Start unbonding
          </button>
        ) : (
          <>
            <button
              type="button"
              className="secondary"
              disabled={tx.busy}
              onClick={() => void send(`Cancelling the unbonding of host ${h.id}`, "cancelUnbond", [id])}
            >
              Cancel unbonding
            </button>
            <button
              type="button"
              disabled={tx.busy || now < unbondAt || h.openBookings > 0}
              onClick={() =>
                void send(`Withdrawing the bond of host ${h.id}`, "withdrawBond", [id, BigInt(h.bond)])
              }
            >
              Withdraw the bond
            </button>
          </>
        )}
      </div>
      {topUpError ? (
        <p className="field-error" role="alert">
          {topUpError}
        </p>
      ) : null}
      <TxStatus state={tx.state} />
      <h3>Listings</h3>
      {h.listings.length === 0 ? <p className="muted">No listings yet.</p> : null}
      <ul className="cards">
        {h.listings.map((l) => (
          <ListingRow key={l.id} listing={l} asset={assetOf(assets, l.asset.id)} onChange={onChange} />
        ))}
      </ul>
    </section>
  );
}

function ListingRow({
  listing: l,
  asset,
  onChange,
}: {
  listing: SgListing;
  asset: AssetInfo;
  onChange: () => void;
}) {
  const tx = useTx();
  const { market } = useMarket();
  const [price, setPrice] = useState("");
  const [error, setError] = useState<string | null>(null);
  const decimals = l.usdPriced ? 18 : asset.decimals;
  async function changePrice(e: FormEvent) {
    e.preventDefault();
    const errors: Record<string, string> = {};
    const v = parsePrice(errors, "price", price, decimals);
    if (errors.price) return setError(errors.price);
    setError(null);
    const r = await tx.send(`New price for listing ${l.id}`, {
      address: market,
      abi: marketAbi,
      functionName: "setListingPrice",
      args: [BigInt(l.id), v],
    });
    if (r) {
      setPrice("");
      onChange();
    }
  }
  return (
    <li className="card">
      <h4>
        <Link href={`/listings/${l.id}`}>Listing {l.id}</Link>: {gpuSummary(l)}
      </h4>
      <p>
        {formatPricePerHour(BigInt(l.pricePerHour), l.usdPriced, asset)} · {l.bookingCount} bookings ·{" "}
        {l.active ? "active" : "deactivated"}
      </p>
      <form className="row" onSubmit={changePrice} noValidate>
        <label>
          New price per hour ({l.usdPriced ? "USD" : asset.symbol})
          <input
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            inputMode="decimal"
            aria-invalid={error !== null}
          />
        </label>
        <button type="submit" disabled={tx.busy}>
          Change price
        </button>
      </form>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="small muted">A new price applies to new bookings only; existing bookings keep theirs.</p>
      <button
        type="button"
        className="secondary"
        disabled={tx.busy}
        onClick={async () => {
          const r = await tx.send(`${l.active ? "Deactivating" : "Activating"} listing ${l.id}`, {
            address: market,
            abi: marketAbi,
            functionName: "setListingActive",
            args: [BigInt(l.id), !l.active],
          });
          if (r) onChange();
        }}
      >
        {l.active ? `Deactivate listing ${l.id}` : `Activate listing ${l.id}`}
      </button>
      <TxStatus state={tx.state} />
    </li>
  );
}

function Upcoming({
  bookings,
  assets,
  timeZone: tz,
}: {
  bookings: SgBooking[];
  assets: Map<string, AssetInfo>;
  timeZone: string;
}) {
  const open = bookings.filter((b) => b.status === "Booked" || b.status === "Active");
  return (
    <section className="panel" aria-labelledby="upcoming-heading">
      <h2 id="upcoming-heading">Upcoming and running sessions</h2>
      {open.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Booking</th>
                <th scope="col">Listing</th>
                <th scope="col">Window</th>
                <th scope="col">Status</th>
                <th scope="col">Price</th>
                <th scope="col">Calendar</th>
              </tr>
            </thead>
            <tbody>
              {open.map((b) => (
                <tr key={b.id}>
                  <td>
                    <Link href={`/audit?booking=${b.id}`}>{b.id}</Link>
                  </td>
                  <td>{b.listing.id}</td>
                  <td>
                    {formatLocal(Number(b.start), tz)} → {formatLocal(Number(b.end), tz)}
                  </td>
                  <td>{b.status}</td>
                  <td>{formatAmount(BigInt(b.price), assetOf(assets, b.asset.id))}</td>
                  <td>
                    <IcsButton booking={b} party="lender" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const CHART_DAYS = 30;

function Earnings({
  rows,
  assets,
  account,
  now,
}: {
  rows: SgAccountAsset[];
  assets: Map<string, AssetInfo>;
  account: string;
  now: number;
}) {
  const earned = rows.filter((r) => BigInt(r.earned) > 0n || BigInt(r.withdrawn) > 0n);
  const history = useSubgraph<{ settled: []; cancelled: [] }>(
    earningsQuery(account, now - CHART_DAYS * 86_400),
    { refetchMs: 15_000 },
  );
  const series = useMemo(
    () => (history.data ? dailyEarnings(earningRows(history.data), { now, days: CHART_DAYS }) : []),
    [history.data, now],
  );
  return (
    <section className="panel" aria-labelledby="earnings-heading">
      <h2 id="earnings-heading">Earnings</h2>
      {earned.length === 0 ? (
        <p className="muted">No earnings yet: sessions pay out when they settle.</p>
      ) : (
        <ul>
          {earned.map((r) => {
            const a = assetOf(assets, r.asset.id);
            return (
              <li key={r.asset.id}>
                {`Earned ${formatAmount(BigInt(r.earned), a)}; withdrawn ${formatAmount(BigInt(r.withdrawn), a)}; available ${formatAmount(BigInt(r.balance), a)}`}
              </li>
            );
          })}
        </ul>
      )}
      {series.map((s) => (
        <EarningsChart key={s.asset} series={s} asset={assetOf(assets, s.asset)} />
      ))}
    </section>
  );
}

/** Bars per UTC day; the figures are in the accessible name and in each bar's tooltip. */
function EarningsChart({ series, asset }: { series: DaySeries; asset: AssetInfo }) {
  const W = 600;
  const H = 140;
  // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take.
  const max = series.days.reduce((m, d) => (d.amount > m ? d.amount : m), 0n);
  const bw = W / series.days.length;
  const label = `Earnings per day in ${asset.symbol}, last ${series.days.length} days: ${formatAmount(series.total, asset)} in all`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H + 16}`} role="img" aria-label={label} width="100%">
        <line x1="0" y1={H} x2={W} y2={H} stroke="currentColor" strokeWidth="1" />
        {series.days.map((d, i) => {
          const h = max === 0n ? 0 : (Number((d.amount * 1000n) / max) / 1000) * (H - 4);
          return (
            <rect key={d.day} x={i * bw + 1} y={H - h} width={Math.max(1, bw - 2)} height={h} fill="#1d4ed8">
              <title>{`${d.day}: ${formatAmount(d.amount, asset)}`}</title>
            </rect>
          );
        })}
        <text x="0" y={H + 14} fontSize="11" fill="currentColor">
          {series.days[0]?.day}
        </text>
        <text x={W} y={H + 14} fontSize="11" fill="currentColor" textAnchor="end">
          {series.days.at(-1)?.day}
        </text>
      </svg>
      <figcaption className="small muted">{label}</figcaption>
    </figure>
  );
}

const EMPTY_LISTING: Omit<ListingFormInput, "tokenDecimals"> = {
  hostId: "",
  gpuModel: "",
  gpuCount: "0",
  vramGiB: "0",
  cpuCores: "",
  ramGiB: "",
  diskGiB: "",
  region: "",
  confidential: "0",
  payment: "native",
  tokenAddress: "",
  pricePerHour: "",
  minHours: "1",
  maxHours: "24",
  leadMinutes: "0",
  metadataCid: "",
};

function CreateListingForm({
  hosts,
  params: p,
  onCreated,
}: {
  hosts: SgHost[];
  params: MarketParamsView;
  onCreated: () => void;
}) {
  const { publicClient } = useMarket();
  const [f, setF] = useStickyState("create-listing", { ...EMPTY_LISTING, hostId: hosts[0]?.id ?? "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const tx = useTx();
  const { market } = useMarket();
  const token =
    f.payment === "token" && isAddress(f.tokenAddress.trim(), { strict: false })
      ? f.tokenAddress.trim()
      : null;
  const decimals = useQuery({
    queryKey: ["token-decimals", token],
    enabled: token !== null,
    retry: false,
    queryFn: async () =>
      publicClient.readContract({ address: token as `0x${string}`, abi: erc20Abi, functionName: "decimals" }),
  });
  const set = (k: keyof typeof EMPTY_LISTING) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const field = (k: keyof typeof EMPTY_LISTING, label: string, extra: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input
        value={f[k]}
        onChange={set(k)}
        aria-invalid={Boolean(errors[k])}
        aria-describedby={`cl-${k}-err`}
        {...extra}
      />
      <span id={`cl-${k}-err`} className="field-error">
        {errors[k]}
      </span>
    </label>
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = validateListingForm(
      { ...f, tokenDecimals: token ? (decimals.data ?? null) : null },
      p.slotLength,
    );
    if (!r.ok) return setErrors(r.errors);
    setErrors({});
    const v = r.value;
    const receipt = await tx.send("Creating the listing", {
      address: market,
      abi: marketAbi,
      functionName: "createListing",
      args: [
        v.hostId,
        v.hardware,
        v.asset,
        v.usdPriced,
        v.pricePerHour,
        v.minSlots,
        v.maxSlots,
        v.leadTime,
        v.metadataCid,
      ],
    });
    if (receipt) {
      setF({ ...EMPTY_LISTING, hostId: f.hostId });
      onCreated();
    }
  }
  const errorCount = Object.keys(errors).length;
  const host = hosts.find((h) => h.id === f.hostId);
  return (
    <section className="panel" aria-labelledby="create-listing-heading">
      <h2 id="create-listing-heading">Create a listing</h2>
      <p className="warn">
        Hardware typed here is not checked against the machine. The oracle-node CLI lists from the host
        agent's real inventory (GPU model, count, VRAM, IOMMU groups verified) and is the recommended way. A
        machine without a passthrough GPU must say so: 0 GPUs, no model, 0 VRAM.
      </p>
      <form data-testid="create-listing-form" onSubmit={submit} noValidate aria-label="Create a listing">
        {errorCount > 0 ? (
          <p className="error" role="alert">
            Please fix the {errorCount} field{errorCount === 1 ? "" : "s"} marked below.
          </p>
        ) : null}
        <label>
          Host
          <select value={f.hostId} onChange={set("hostId")} aria-invalid={Boolean(errors.hostId)}>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                Host {h.id}
              </option>
            ))}
          </select>
          <span className="field-error">{errors.hostId}</span>
        </label>
        <fieldset>
          <legend>Hardware</legend>
          <div className="grid2">
            {field("gpuModel", "GPU model (as nvidia-smi names it; empty for none)")}
            {field("gpuCount", "GPU count", { inputMode: "numeric" })}
            {field("vramGiB", "VRAM per GPU (GiB)", { inputMode: "decimal" })}
            {field("cpuCores", "CPU cores", { inputMode: "numeric" })}
            {field("ramGiB", "RAM (GiB)", { inputMode: "decimal" })}
            {field("diskGiB", "Disk (GiB)", { inputMode: "numeric" })}
            {field("region", "Region (e.g. eu-west)")}
            <label>
              Confidential computing
              <select value={f.confidential} onChange={set("confidential")}>
                <option value="0">None</option>
                <option value="1">AMD SEV-SNP</option>
                <option value="2">Intel TDX</option>
              </select>
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Price and terms</legend>
          <div className="grid2">
            <label>
              Paid in
              <select value={f.payment} onChange={set("payment")}>
                <option value="native">ETH</option>
                <option value="usd">USD, paid in ETH via the price feed</option>
                <option value="token">An ERC-20 token</option>
              </select>
            </label>
            {f.payment === "token" ? field("tokenAddress", "Token address", { spellCheck: false }) : null}
            {field(
              "pricePerHour",
              `Price per hour of the whole machine (${f.payment === "usd" ? "USD" : f.payment === "token" ? "token units" : "ETH"})`,
              { inputMode: "decimal" },
            )}
            {field("minHours", "Shortest booking (hours)", { inputMode: "decimal" })}
            {field("maxHours", "Longest booking (hours)", { inputMode: "decimal" })}
            {field("leadMinutes", "Notice before a start (minutes)", { inputMode: "decimal" })}
            {field("metadataCid", "Metadata CID (optional)", { spellCheck: false })}
          </div>
          <p className="small muted">Bookings are made of {p.slotLength / 60}-minute slots.</p>
          <PriceSuggestion
            form={f}
            reliability={host ? reliability(host).score : null}
            onUse={(price) => setF((prev) => ({ ...prev, pricePerHour: price }))}
          />
        </fieldset>
        <button type="submit" disabled={tx.busy}>
          Create listing
        </button>
      </form>
      <TxStatus state={tx.state} />
    </section>
  );
}

function RegisterHostForm({
  minBond,
  account,
  onRegistered,
  first,
}: {
  minBond: bigint;
  account: string;
  onRegistered: () => void;
  first: boolean;
}) {
  const [f, setF] = useState({ agent: "", bondEth: "", metadataCid: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const tx = useTx();
  const { market } = useMarket();
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = validateRegisterHost(f, minBond);
    if (!r.ok) return setErrors(r.errors);
    setErrors({});
    const receipt = await tx.send("Registering the host", {
      address: market,
      abi: marketAbi,
      functionName: "registerHost",
      args: [r.value.agent, r.value.metadataCid],
      value: r.value.bond,
    });
    if (receipt) onRegistered();
  }
  const body = (
    <form onSubmit={submit} noValidate aria-label="Register a host">
      <p className="small muted">
        The agent is the oracle-node's key on the machine (it may be this account, {account.slice(0, 8)}…, but
        a separate key is safer). The bond is at least {formatAmount(minBond, NATIVE_ASSET)}.
      </p>
      {(["agent", "bondEth", "metadataCid"] as const).map((k) => (
        <label key={k}>
          {k === "agent" ? "Agent address" : k === "bondEth" ? "Bond (ETH)" : "Metadata CID (optional)"}
          <input
            value={f[k]}
            onChange={(e) => setF({ ...f, [k]: e.target.value })}
            aria-invalid={Boolean(errors[k])}
            spellCheck={false}
          />
          <span className="field-error">{errors[k]}</span>
        </label>
      ))}
      <button type="submit" disabled={tx.busy}>
        Register host
      </button>
      <TxStatus state={tx.state} />
    </form>
  );
  return (
    <section className="panel" aria-labelledby="register-heading">
      <h2 id="register-heading">{first ? "Register a host" : "Register another host"}</h2>
      {first ? (
        body
      ) : (
        <details>
          <summary>Show the form</summary>
          {body}
        </details>
      )}
    </section>
  );
}
