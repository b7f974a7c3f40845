import { rawCid } from "@computehive/sdk";
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

/** Shortest reason accepted, in characters (a sentence). */
export const DISPUTE_REASON_MIN = 10;
/**
 * Largest document, in bytes: `ipfs add`'s default chunk (256 KiB). Within one chunk, `ipfs add --cid-version 1
 * --raw-leaves` stores the file as a single raw block, whose CID is `rawCid` of the bytes; a longer file becomes
 * a tree of chunks with another CID.
 */
export const DISPUTE_DOCUMENT_MAX_BYTES = 262_144;

/** What is wrong with a dispute reason, in words; null when it can be sent. */
export function disputeReasonProblem(reason: string): string | null {
  const r = reason.trim();
  if (r.length < DISPUTE_REASON_MIN) {
    return `Say what went wrong, in at least a sentence (${DISPUTE_REASON_MIN} characters or more).`;
  }
  return null;
}

/** The reason document as the download offers it, with the CID that goes on-chain. */
export interface DisputeFile {
  /** `<cid>.json`: the name says which CID the file must give when added. */
  name: string;
  type: "application/json";
  text: string;
  /** UTF-8 bytes of `text`: exactly what is downloaded and hashed. */
  bytes: Uint8Array<ArrayBuffer>;
  /** CIDv1 raw sha2-256 of `bytes` (`bafkrei…`), the `reasonCid` argument of `dispute`. */
  cid: string;
  /** The command that pins the downloaded file to a local IPFS node and prints the same CID. */
  command: string;
}

/**
 * The dispute's reason document, fixed once (its `writtenAt` included) so that the file the borrower downloads
 * and pins and the CID sent on-chain are the same bytes. Throws a RangeError, in words, when the reason is too
 * short or the document larger than one IPFS chunk.
 */
export function disputeFile(bookingId: string, reason: string, borrower: string, now: number): DisputeFile {
  const problem = disputeReasonProblem(reason);
  if (problem) throw new RangeError(problem);
  const text = disputeDocument(bookingId, reason, borrower, now);
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > DISPUTE_DOCUMENT_MAX_BYTES) {
    throw new RangeError(
      `The reason is too long: the document would be ${bytes.length} bytes, over ${DISPUTE_DOCUMENT_MAX_BYTES} (256 KiB, one IPFS block). Shorten it; attach logs elsewhere and name them in the reason.`,
    );
  }
  const cid = rawCid(bytes);
  const name = `${cid}.json`;
  return {
    name,
    type: "application/json",
    text,
    bytes,
    cid,
    command: `ipfs add --cid-version 1 --raw-leaves ${name}`,
  };
}

/** The download's bytes, as a Blob. */
export function disputeBlob(file: DisputeFile): Blob {
  return new Blob([file.bytes], { type: file.type });
}
