/**
 * The subscribable calendar feed (issue 7): `GET /calendar/<0xaddress>.ics` on the daemon's loopback status
 * server (status.ts) answers the iCalendar feed of every booking of this node's host where the account is the
 * borrower or the lender, made by the sdk's `accountFeed` (the same UID and SEQUENCE the dApp's downloads carry).
 *
 * Status and early end come from the booking record, where the daemon keeps what it last read from the chain
 * (state.ts `onChainStatus`, `onChainEndedAt`): it reads every open booking on every tick anyway, so the feed is
 * at most one poll behind the chain and serving it costs no chain read per booking. A terminal status is final,
 * so a finished booking's record stays right. The only read is a listing's hardware, once per listing (the
 * daemon caches it; the market never changes it after `createListing`).
 */
import {
  accountFeed,
  BOOKING_STATUS_NAMES,
  type BookingStatusName,
  type CalendarBooking,
} from "@computehive/sdk/ai/calendar";
import { getAddress, type Hex } from "viem";
import type { Hardware } from "./lender.ts";
import type { BookingRecord, DaemonState, Phase } from "./state.ts";

/** What the feed needs of the daemon (`Daemon` has it). */
export interface CalendarFeedSource {
  readonly state: DaemonState;
  /** The host's lender. */
  readonly lender: Hex;
  hardware(listingId: bigint): Promise<Hardware>;
}

/**
 * For a record written before the daemon kept the on-chain status: the status its phase implies (a phase is only
 * entered after the daemon saw that status, see daemon.ts).
 */
const PHASE_STATUS: Record<Exclude<Phase, "done">, BookingStatusName> = {
  booked: "Booked",
  declining: "Booked",
  provisioning: "Booked",
  activating: "Booked",
  active: "Active",
  reporting: "Active",
  settling: "Reported",
};

function statusOf(rec: BookingRecord): BookingStatusName | undefined {
  const s = rec.onChainStatus ?? (rec.phase === "done" ? rec.finalStatus : PHASE_STATUS[rec.phase]);
  // "gone" (dropped by a reorg) and "None" are no booking at all: no event.
  return (BOOKING_STATUS_NAMES as readonly string[]).includes(s ?? "") ? (s as BookingStatusName) : undefined;
}

/**
 * The iCalendar feed of `account` (a 0x-prefixed 20-byte address, any letter case) over this host's bookings;
 * an account with none gets an empty calendar. Throws the sdk's `CalendarEventError` ("bad-account") for
 * anything else, and the chain's error when a listing's hardware cannot be read.
 */
export async function calendarFeed(
  source: CalendarFeedSource,
  account: string,
  opts: { now?: number } = {},
): Promise<string> {
  const st = source.state;
  const who = account.toLowerCase();
  const lender = getAddress(source.lender);
  const isLender = lender.toLowerCase() === who;
  // Copied before the first await: the loop may change a record meanwhile; the feed shows one moment.
  const recs = Object.values(st.bookings)
    .filter((r) => isLender || r.borrower.toLowerCase() === who)
    .map((r) => ({ rec: { ...r }, status: statusOf(r) }))
    .filter((x): x is { rec: BookingRecord; status: BookingStatusName } => x.status !== undefined);
  const bookings: CalendarBooking[] = [];
  for (const { rec, status } of recs) {
    const hw = await source.hardware(BigInt(rec.listingId));
    bookings.push({
      chainId: st.chainId,
      market: st.market,
      bookingId: rec.id,
      listingId: rec.listingId,
      hostId: st.hostId,
      gpuModel: hw.gpuModel,
      gpuCount: hw.gpuCount,
      region: hw.region,
      start: rec.start,
      end: rec.end,
      endedAt: rec.onChainEndedAt ?? rec.endedEarlyAt ?? null,
      status,
      borrower: rec.borrower,
      lender,
    });
  }
  return accountFeed(account as Hex, bookings, { now: opts.now });
}
