import type { OnChainStatusName } from "./types.ts";

// What the borrower (or anyone) may do with a booking right now, by the market's rules (contracts/src/Market.sol):
// offered only when the contract would accept it, so a button never leads to a certain revert.

export interface ChainBooking {
  status: OnChainStatusName;
  start: number;
  end: number;
  /** Early end (0 when none). */
  endedAt: number;
  /** When the current state began (report time for Reported). */
  stamp: number;
}

export interface MarketTimes {
  activationGrace: number;
  reportGrace: number;
  disputeWindow: number;
  arbiterDeadline: number;
  cancelCutoff: number;
  cancelFeeBps: number;
}

export interface BookingActions {
  /** Borrower: Booked/Active before the start. `cancelFee` says whether the late fee applies now. */
  cancel: boolean;
  cancelLate: boolean;
  /** Borrower: Active within [start, session end). */
  endSession: boolean;
  /** Borrower: Reported within the dispute window, or Active after the session end and before the deadline. */
  dispute: boolean;
  /** Until when a dispute is possible (unix), when `dispute`. */
  disputeUntil: number | null;
  /** Anyone: Booked past start + activation grace. */
  claimNoShow: boolean;
  /** Anyone: ripe for settlement (the contract's isRipe, for states other than a no-show). */
  settle: boolean;
}

export function sessionEnd(b: Pick<ChainBooking, "endedAt" | "end">): number {
  return b.endedAt !== 0 ? b.endedAt : b.end;
}

export function bookingActions(b: ChainBooking, p: MarketTimes, now: number): BookingActions {
  const open = b.status === "Booked" || b.status === "Active";
  const cancel = open && now < b.start;
  const end = sessionEnd(b);
  let disputeUntil: number | null = null;
  if (b.status === "Reported" && now < b.stamp + p.disputeWindow) disputeUntil = b.stamp + p.disputeWindow;
  if (b.status === "Active" && now >= end && now < b.end + p.reportGrace + p.disputeWindow) {
    disputeUntil = b.end + p.reportGrace + p.disputeWindow;
  }
  const settle =
    (b.status === "Reported" && now >= b.stamp + p.disputeWindow) ||
    (b.status === "Active" && now >= b.end + p.reportGrace + p.disputeWindow) ||
    (b.status === "Disputed" && now >= b.stamp + p.arbiterDeadline);
  return {
    cancel,
    cancelLate: cancel && now + p.cancelCutoff > b.start,
    endSession: b.status === "Active" && now >= b.start && now < end,
    dispute: disputeUntil !== null,
    disputeUntil,
    claimNoShow: b.status === "Booked" && now >= b.start + p.activationGrace,
    settle,
  };
}

/** The dispute's reason document: what the borrower pins to IPFS; its CID (sdk rawCid) goes on-chain. */
export function disputeDocument(bookingId: string, reason: string, borrower: string, now: number): string {
  return `${JSON.stringify(
    {
      schema: "computehive/dispute-reason@1",
      bookingId,
      borrower,
      writtenAt: new Date(now * 1000).toISOString(),
      reason: reason.trim(),
    },
    null,
    2,
  )}\n`;
}
