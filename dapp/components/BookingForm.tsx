"use client";

import { marketAbi } from "@computehive/sdk";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { erc20Abi, parseEventLogs, stringToHex } from "viem";
import { useAccount } from "wagmi";
import { marketWithErrorsAbi } from "../lib/abi.ts";
import { slotOf, slotTaken, windowFree } from "../lib/calendar.ts";
import { costPreview } from "../lib/cost.ts";
import { type AssetInfo, formatAmount, formatDuration, isNative, NATIVE_ASSET } from "../lib/format.ts";
import {
  durationChoices,
  formatLocal,
  localDate,
  localTime,
  slotStartsInDay,
  windowProblems,
} from "../lib/time.ts";
import type { SgListing } from "../lib/types.ts";
import { BookingStatus } from "./BookingStatus.tsx";
import { useCalendarWords } from "./calendar-data.ts";
import {
  type MarketParamsView,
  RequireAccount,
  TxStatus,
  useChainNow,
  useErrorWords,
  useMarket,
  useTx,
} from "./chain.tsx";
import { useStickyState } from "./hooks.ts";
import { SessionKeyChooser, useSessionKey } from "./SessionKeyChooser.tsx";
import { type SshKeyChoice, SshKeyChooser } from "./SshKeyChooser.tsx";

interface Props {
  listing: SgListing;
  asset: AssetInfo;
  params: MarketParamsView;
  timeZone: string;
}

/**
 * A window handed over in the URL (`?start=…&end=…`, unix seconds: "Review and book" on the slot finder,
 * /schedule): whole slots, end after start. Null when the URL has none; a problem in words when it is not one.
 */
function linkedWindow(
  start: string | null,
  end: string | null,
  slotLength: number,
): { start: number; end: number; slots: number } | { problem: string } | null {
  if (start === null && end === null) return null;
  const a = Number(start);
  const b = Number(end);
  if (!/^\d{1,12}$/.test(start ?? "") || !/^\d{1,12}$/.test(end ?? "") || b <= a)
    return { problem: "The link's window is not a start and end time; pick a window below." };
  if (a % slotLength !== 0 || b % slotLength !== 0)
    return { problem: "The link's window is not on the market's slot boundaries; pick a window below." };
  return { start: a, end: b, slots: (b - a) / slotLength };
}

export function BookingForm(props: Props) {
  return (
    <section aria-labelledby="book-heading" className="panel">
      <h2 id="book-heading">Book this listing</h2>
      <RequireAccount why="to book">
        <BookingFormBody {...props} />
      </RequireAccount>
    </section>
  );
}

function BookingFormBody({ listing: l, asset, params: p, timeZone: tz }: Props) {
  const { address } = useAccount();
  const account = address as `0x${string}`;
  const { publicClient, market } = useMarket();
  const now = useChainNow(5000);
  const slot = p.slotLength;
  const lead = Number(l.leadTime);
  const earliest = Math.ceil((now + lead) / slot) * slot;
  const [date, setDate] = useStickyState<string>(`book-date-${l.id}`, "");
  const [startText, setStartText] = useStickyState<string>(`book-start-${l.id}`, "");
  const [slots, setSlots] = useStickyState<number>(
    `book-slots-${l.id}`,
    Math.max(l.minSlots, Math.min(l.maxSlots, Math.round(3600 / slot))),
  );
  // A window from the URL is put in the picker once (per window), then the user's choices stand.
  const search = useSearchParams();
  const linked = linkedWindow(search.get("start"), search.get("end"), slot);
  const linkedKey = linked && "start" in linked ? `${linked.start}-${linked.end}` : "";
  const [appliedLink, setAppliedLink] = useStickyState<string>(`book-linked-${l.id}`, "");
  useEffect(() => {
    if (linkedKey === "" || appliedLink === linkedKey) return;
    const [a = 0, b = 0] = linkedKey.split("-").map(Number);
    setAppliedLink(linkedKey);
    setDate("");
    setStartText(String(a));
    setSlots((b - a) / slot);
  }, [linkedKey, appliedLink, setAppliedLink, setDate, setStartText, setSlots, slot]);
  // With no date picked, the day is the chosen start's (so it follows a change of time zone), else the first
  // bookable one's.
  const day =
    date || (startText !== "" ? localDate(Number(startText), tz) : now ? localDate(earliest, tz) : "");
  const starts = useMemo(() => (day ? slotStartsInDay(day, tz, slot) : []), [day, tz, slot]);
  const choices = useMemo(
    () => durationChoices(l.minSlots, l.maxSlots, slot),
    [l.minSlots, l.maxSlots, slot],
  );
  // A linked duration the thinned list lacks is offered too; outside the listing's terms it is refused below.
  const durations = choices.includes(slots) ? choices : [...choices, slots].sort((x, y) => x - y);
  const dayWords = useCalendarWords(
    l.id,
    starts.length ? slotOf(starts[0] ?? 0, slot) : 0,
    starts.length ? slotOf(starts[starts.length - 1] ?? 0, slot) + 1 : 0,
  );
  // Until the user picks one, the start is the first bookable slot of the day: not too soon, not taken.
  const firstFree = starts.find(
    (t) => t >= earliest && !(dayWords.data && slotTaken(dayWords.data, slotOf(t, slot))),
  );
  const start = startText !== "" ? Number(startText) : (firstFree ?? 0);
  const end = start + slots * slot;
  const windowWords = useCalendarWords(l.id, slotOf(start, slot), slotOf(end, slot));
  const rules = { slotLength: slot, minSlots: l.minSlots, maxSlots: l.maxSlots, leadTime: lead, now };
  const problems = start ? windowProblems(start, slots, rules, tz) : ["Pick a start time."];
  const free = windowWords.data ? windowFree(windowWords.data, slotOf(start, slot), slotOf(end, slot)) : null;
  if (problems.length === 0 && free === false)
    problems.push("Part of this window is already booked. Pick another start or a shorter duration.");
  const windowOk = problems.length === 0 && free === true;

  const quote = useQuery({
    queryKey: ["quote", market, l.id, start, end],
    enabled: windowOk,
    queryFn: async () => {
      const [price, quotedAsset] = await publicClient.readContract({
        address: market,
        abi: marketAbi,
        functionName: "quote",
        args: [BigInt(l.id), start, end],
      });
      return { price, asset: quotedAsset };
    },
  });
  const preview =
    quote.data && windowOk
      ? costPreview({
          quoted: quote.data.price,
          asset,
          pricePerHour: BigInt(l.pricePerHour),
          usdPriced: l.usdPriced,
          start,
          end,
          now,
          feeBps: p.feeBps,
          cancelCutoff: p.cancelCutoff,
          cancelFeeBps: p.cancelFeeBps,
          timeZone: tz,
        })
      : null;

  const token = !isNative(l.asset.id) && !l.usdPriced ? (l.asset.id as `0x${string}`) : null;
  const funds = useQuery({
    queryKey: ["funds", account, token, market],
    refetchInterval: 10_000,
    queryFn: async () => {
      if (!token) return { balance: await publicClient.getBalance({ address: account }), allowance: 0n };
      const [balance, allowance] = await Promise.all([
        publicClient.readContract({
          address: token,
          abi: erc20Abi,
          functionName: "balanceOf",
          args: [account],
        }),
        publicClient.readContract({
          address: token,
          abi: erc20Abi,
          functionName: "allowance",
          args: [account, market],
        }),
      ]);
      return { balance, allowance };
    },
  });

  const [sessionKey] = useSessionKey(account);
  const [ssh, setSsh] = useState<SshKeyChoice>({ line: null, problem: "Choose an SSH key." });
  const onSsh = useCallback((c: SshKeyChoice) => setSsh(c), []);
  const approveTx = useTx();
  const bookTx = useTx();
  const words = useErrorWords();
  const [submitted, setSubmitted] = useState(false);
  const [bookingId, setBookingId] = useState<string | null>(null);

  const payLabel = preview
    ? token
      ? formatAmount(preview.approve, asset)
      : formatAmount(preview.value, NATIVE_ASSET)
    : "";
  const needApproval = token !== null && preview !== null && (funds.data?.allowance ?? 0n) < preview.approve;
  const shortOfFunds =
    preview && funds.data
      ? token
        ? funds.data.balance < preview.approve
        : funds.data.balance < preview.value
      : false;
  const blockers: string[] = [
    ...problems,
    ...(windowOk && quote.error ? [`The price could not be quoted: ${words(quote.error)}`] : []),
    ...(windowOk && !quote.data && !quote.error ? ["Waiting for the price quote…"] : []),
    ...(sessionKey ? [] : ["Get a session key (step 2)."]),
    ...(ssh.problem ? [ssh.problem] : []),
    ...(shortOfFunds && preview
      ? [
          `Your balance is too low: this needs ${formatAmount(token ? preview.approve : preview.value, asset)} plus gas.`,
        ]
      : []),
    ...(needApproval ? [`Approve the market to take ${asset.symbol} first (step 4).`] : []),
  ];

  async function approve() {
    if (!token || !preview) return;
    await approveTx.send(`Approving ${formatAmount(preview.approve, asset)}`, {
      address: token,
      abi: erc20Abi,
      functionName: "approve",
      args: [market, preview.approve],
    });
    await funds.refetch();
  }

  async function book() {
    setSubmitted(true);
    if (blockers.length > 0 || !preview || !sessionKey || !ssh.line) return;
    const receipt = await bookTx.send("Booking", {
      address: market,
      abi: marketWithErrorsAbi,
      functionName: "book",
      args: [BigInt(l.id), start, end, sessionKey.publicKeyHex, stringToHex(ssh.line)],
      value: preview.value,
    });
    if (receipt) {
      const [booked] = parseEventLogs({ abi: marketAbi, logs: receipt.logs, eventName: "Booked" });
      if (booked) setBookingId(booked.args.bookingId.toString());
      await Promise.all([funds.refetch(), windowWords.refetch(), dayWords.refetch()]);
    }
  }

  if (bookingId) {
    return (
      <div role="status">
        <p className="ok">
          Booked: booking {bookingId}, {formatLocal(start, tz)} for {formatDuration(end - start)}.
        </p>
        <BookingStatus bookingId={bookingId} />
        <p>
          The host's agent now prepares your VM; the status turns <strong>Active</strong> when the endpoint is
          published. Follow it, open the endpoint and manage the booking under{" "}
          <Link href={`/bookings#booking-${bookingId}`}>My bookings</Link>.
        </p>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setBookingId(null);
            setSubmitted(false);
            setStartText("");
            bookTx.reset();
          }}
        >
          Book another window
        </button>
      </div>
    );
  }

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void book();
      }}
      noValidate
    >
      <fieldset>
        <legend>1. Window ({tz})</legend>
        {linked && "problem" in linked ? <p className="warn">{linked.problem}</p> : null}
        {linked && "start" in linked && linked.start === start && linked.end === end ? (
          <p className="small">
            This window comes from the link you followed (the slot finder). Check it, the cost and the keys
            below; nothing is booked until you sign.
          </p>
        ) : null}
        <div className="grid2">
          <label>
            Date
            <input
              type="date"
              value={day}
              min={now ? localDate(now, tz) : undefined}
              onChange={(e) => {
                setDate(e.target.value);
                setStartText("");
              }}
              required
            />
          </label>
          <label>
            Start
            <select
              value={start ? String(start) : ""}
              onChange={(e) => setStartText(e.target.value)}
              required
            >
              {start === 0 ? <option value="">No start left on this day</option> : null}
              {starts.map((t) => {
                const taken = dayWords.data ? slotTaken(dayWords.data, slotOf(t, slot)) : false;
                const early = t < earliest;
                return (
                  <option key={t} value={String(t)} disabled={taken || early}>
                    {localTime(t, tz)}
                    {taken ? " (booked)" : early ? " (too soon)" : ""}
                  </option>
                );
              })}
            </select>
          </label>
          <label>
            Duration
            <select value={String(slots)} onChange={(e) => setSlots(Number(e.target.value))}>
              {durations.map((s) => (
                <option key={s} value={String(s)}>
                  {formatDuration(s * slot)}
                </option>
              ))}
            </select>
          </label>
        </div>
        {start ? (
          <p>
            {formatLocal(start, tz, true)} → {formatLocal(end, tz, true)}
          </p>
        ) : null}
        {problems.length > 0 ? (
          <ul className="field-error" aria-live="polite">
            {problems.map((x) => (
              <li key={x}>{x}</li>
            ))}
          </ul>
        ) : free ? (
          <p className="ok small">This window is free.</p>
        ) : null}
      </fieldset>

      <fieldset>
        <legend>2. Session key</legend>
        <SessionKeyChooser account={account} purpose="book" />
      </fieldset>

      <fieldset>
        <legend>3. SSH key</legend>
        <SshKeyChooser onChange={onSsh} />
      </fieldset>

      <fieldset>
        <legend>4. Cost{token ? " and approval" : ""}</legend>
        {preview ? (
          <div aria-live="polite">
            <p className="price">
              {preview.total} for {preview.duration}
            </p>
            <p className="muted small">Rate: {preview.rate}</p>
            <ul className="small">
              {preview.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
            {funds.data ? (
              <p className="small">
                Your balance: {formatAmount(funds.data.balance, token ? asset : NATIVE_ASSET)}
                {token ? `; the market may take ${formatAmount(funds.data.allowance, asset)}` : ""}
              </p>
            ) : null}
          </div>
        ) : (
          <p className="muted">{windowOk ? "Getting the price…" : "Pick a valid window to see the price."}</p>
        )}
        {needApproval ? (
          <button type="button" onClick={approve} disabled={approveTx.busy}>
            Approve {preview ? formatAmount(preview.approve, asset) : ""}
          </button>
        ) : null}
        <TxStatus state={approveTx.state} />
      </fieldset>

      {submitted && blockers.length > 0 ? (
        <div className="error" role="alert">
          <p>Before booking:</p>
          <ul>
            {blockers.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <button type="submit" data-testid="book-button" disabled={bookTx.busy}>
        {bookTx.busy ? "Booking…" : preview ? `Book and pay ${payLabel}` : "Book"}
      </button>
      <TxStatus state={bookTx.state} />
    </form>
  );
}
