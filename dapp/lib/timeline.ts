import { formatDuration } from "./format.ts";
import { type BookingStatusName, DECLINE_REASONS, type SgEvent } from "./types.ts";

// A booking's life from its audit-log entries (MarketEvent, chain order): the states it went through, each
// with the transaction that moved it there, and every event in words.

export interface TimelineState {
  status: BookingStatusName;
  reached: boolean;
  /** The state the booking is in now. */
  current: boolean;
  at: number | null;
  txHash: string | null;
}

export interface TimelineEntry {
  kind: string;
  text: string;
  at: number;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

export interface Timeline {
  states: TimelineState[];
  entries: TimelineEntry[];
}

/** The event that moves a booking into each state. */
const STATE_EVENT: Record<BookingStatusName, string> = {
  Booked: "Booked",
  Active: "EndpointPublished",
  Reported: "UsageReported",
  Disputed: "BookingDisputed",
  Settled: "BookingSettled",
  Cancelled: "BookingCancelled",
  Declined: "BookingDeclined",
  NoShow: "NoShowClaimed",
};

/** Sorts audit-log entries into chain order (block, then log index). */
export function chainOrder(events: readonly SgEvent[]): SgEvent[] {
  return [...events].sort((a, b) => {
    const d = BigInt(a.blockNumber) - BigInt(b.blockNumber);
    if (d !== 0n) return d < 0n ? -1 : 1;
    return Number(BigInt(a.logIndex) - BigInt(b.logIndex));
  });
}

/** One audit-log entry in words. `amount` formats a raw amount of the entry's asset (or the booking's). */
export function eventText(e: SgEvent, amount: (raw: bigint, asset: string | null) => string): string {
  const n = (v: string | null) => BigInt(v ?? "0");
  const money = (v: string | null) => amount(n(v), e.asset);
  const secs = (v: string | null) => formatDuration(Number(n(v)));
  switch (e.kind) {
    case "Booked":
      return `Booked for ${secs(e.seconds)}; ${money(e.amount)} escrowed`;
    case "EndpointPublished":
      return e.flag
        ? "Endpoint re-published (encrypted to the session key)"
        : "Endpoint published (encrypted to the session key): the session is active";
    case "SessionEndRequested":
      return "Session ended early by the borrower";
    case "UsageReported":
      return `Host reported ${secs(e.seconds)} used${e.cid ? ` (report ${e.cid})` : ""}`;
    case "BookingDisputed":
      return `Disputed by the borrower; the host claims ${secs(e.seconds)}${e.cid ? ` (reason ${e.cid})` : ""}`;
    case "DisputeResolved":
      return e.flag
        ? `Dispute closed by the fallback after the arbiter's deadline: ${secs(e.seconds)} charged`
        : `Arbiter ruled: ${secs(e.seconds)} charged${n(e.slash) > 0n ? `, ${amount(n(e.slash), null)} slashed from the host's bond to the borrower` : ""}`;
    case "BookingSettled":
      return `Settled: ${secs(e.seconds)} used; ${money(e.lenderAmount)} to the host, ${money(e.platformFee)} platform fee, ${money(e.refund)} refunded`;
    case "BookingCancelled":
      return n(e.lenderAmount) + n(e.platformFee) > 0n
        ? `Cancelled late: ${money(e.refund)} refunded, ${money(e.lenderAmount)} to the host, ${money(e.platformFee)} platform fee`
        : `Cancelled: ${money(e.refund)} refunded in full`;
    case "BookingDeclined":
      return `Declined by the host (${DECLINE_REASONS[e.code ?? 0] ?? `reason ${e.code}`}): ${money(e.refund)} refunded`;
    case "NoShowClaimed":
      return `No-show: the host never started the session; ${money(e.refund)} refunded and ${amount(n(e.slash), null)} from its bond`;
    case "BondSlashed":
      return `${amount(n(e.amount), null)} slashed from the host's bond`;
    case "Credited":
      return `${money(e.amount)} credited to ${e.account ?? "an account"}`;
    case "Withdrawn":
      return `${money(e.amount)} withdrawn by ${e.account ?? "an account"}`;
    default:
      return e.kind.replace(/([a-z])([A-Z])/g, "$1 $2");
  }
}

export function bookingTimeline(
  status: BookingStatusName,
  events: readonly SgEvent[],
  amount: (raw: bigint, asset: string | null) => string,
): Timeline {
  const ordered = chainOrder(events);
  const firstOf = (kind: string) =>
    ordered.find((e) => e.kind === kind && !(kind === "EndpointPublished" && e.flag));
  const happened = (s: BookingStatusName) => firstOf(STATE_EVENT[s]) !== undefined;
  const path: BookingStatusName[] = ["Booked"];
  const ending = (["Cancelled", "Declined", "NoShow"] as const).find(happened);
  if (happened("Active") || status === "Active") path.push("Active");
  else if (!ending) path.push("Active");
  if (ending) path.push(ending);
  else {
    if (happened("Reported") || !happened("Disputed")) path.push("Reported");
    if (happened("Disputed") || status === "Disputed") path.push("Disputed");
    path.push("Settled");
  }
  const states = path.map((s): TimelineState => {
    const e = firstOf(STATE_EVENT[s]);
    return {
      status: s,
      reached: e !== undefined || s === status,
      current: s === status,
      at: e ? Number(e.timestamp) : null,
      txHash: e?.txHash ?? null,
    };
  });
  const entries = ordered.map(
    (e): TimelineEntry => ({
      kind: e.kind,
      text: eventText(e, amount),
      at: Number(e.timestamp),
      txHash: e.txHash,
      blockNumber: Number(e.blockNumber),
      logIndex: Number(e.logIndex),
    }),
  );
  return { states, entries };
}
