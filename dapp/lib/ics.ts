import type { CalendarBooking, CalendarRole } from "@computehive/sdk/ai/calendar";
import type { Address } from "viem";
import type { BookingStatusName, OnChainStatusName, SgBooking } from "./types.ts";

// A booking as an .ics download: the subgraph's booking (plus the deployment's chain id and market, and the
// chain's live state when the page has it) mapped to the sdk's CalendarBooking, whose `bookingIcs` writes the
// RFC 5545 text. The mapping copies only the fields an event needs, one by one: the encrypted endpoint and the
// session and SSH keys of the subgraph's booking never reach the calendar (the sdk picks its fields too).
// The sdk's calendar module (ical-generator) is imported when a file is made, not with the page.

export type { CalendarRole };

/** What the mapping reads of a subgraph booking (BOOKING_FIELDS in lib/subgraph.ts has all of it). */
export type IcsSourceBooking = Pick<SgBooking, "id" | "start" | "end" | "status" | "endedAt" | "borrower"> & {
  host: { id: string; lender: { id: string } };
  listing: { id: string; gpuModel: string; gpuCount: number; region: string };
};

/** The deployment the booking lives in (the runtime configuration's `chainId` and `market`). */
export interface IcsDeployment {
  chainId: number;
  market: Address;
}

/** The chain's view of the booking (getBooking), fresher than the subgraph's; `endedAt` 0 means none. */
export interface IcsLiveState {
  status: OnChainStatusName;
  endedAt: number;
}

export interface IcsFile {
  name: string;
  type: "text/calendar";
  text: string;
}

const CANCELLED: readonly string[] = ["Cancelled", "Declined", "NoShow"];

const unix = (v: string | null): number | null => (v === null || v === "" ? null : Number(v));

/** The sdk's CalendarBooking for `b`; the live chain state, when given, wins over the subgraph's. */
export function calendarBookingOf(
  b: IcsSourceBooking,
  deployment: IcsDeployment,
  live?: IcsLiveState | null,
): CalendarBooking {
  const liveStatus = live && live.status !== "None" ? (live.status as BookingStatusName) : null;
  const endedAt = liveStatus && live ? live.endedAt : unix(b.endedAt);
  return {
    chainId: deployment.chainId,
    market: deployment.market,
    bookingId: b.id,
    listingId: b.listing.id,
    hostId: b.host.id,
    gpuModel: b.listing.gpuModel,
    gpuCount: b.listing.gpuCount,
    region: b.listing.region,
    start: Number(b.start),
    end: Number(b.end),
    endedAt: endedAt === 0 ? null : endedAt,
    status: liveStatus ?? b.status,
    borrower: b.borrower.id as Address,
    lender: b.host.lender.id as Address,
  };
}

/** The button's words: adding the event, updating it after an early end, or marking it cancelled. */
export function icsButtonLabel(b: IcsSourceBooking, live?: IcsLiveState | null): string {
  const status = live && live.status !== "None" ? live.status : b.status;
  const endedAt = live && live.status !== "None" ? live.endedAt : unix(b.endedAt);
  if (CANCELLED.includes(status)) return `Mark booking ${b.id} cancelled in your calendar (.ics)`;
  if (endedAt) return `Update booking ${b.id} in your calendar (.ics)`;
  return `Add booking ${b.id} to calendar (.ics)`;
}

/**
 * The page in this dApp where `role` follows the booking: My bookings for the borrower, the audit explorer for
 * the lender (the dashboard lists only coming and running sessions). Undefined without an http(s) origin.
 */
export function bookingPageUrl(
  origin: string | undefined,
  bookingId: string,
  role: CalendarRole,
): string | undefined {
  if (!origin || !/^https?:\/\/[^/]/.test(origin)) return undefined;
  const base = origin.replace(/\/+$/, "");
  return role === "borrower"
    ? `${base}/bookings#booking-${encodeURIComponent(bookingId)}`
    : `${base}/audit?booking=${encodeURIComponent(bookingId)}`;
}

export interface IcsFileOptions {
  live?: IcsLiveState | null;
  /** The dApp's origin (location.origin in the browser): the event links to the booking's page there. */
  origin?: string;
  /** DTSTAMP, unix seconds (default: now). */
  now?: number;
}

/** The .ics file of booking `b` for `role`: its name and RFC 5545 text. Rejects with the sdk's CalendarEventError. */
export async function bookingIcsFile(
  b: IcsSourceBooking,
  deployment: IcsDeployment,
  role: CalendarRole,
  opts: IcsFileOptions = {},
): Promise<IcsFile> {
  const { bookingIcs, icsFileName } = await import("@computehive/sdk/ai/calendar");
  const booking = calendarBookingOf(b, deployment, opts.live);
  return {
    name: icsFileName(booking, role),
    type: "text/calendar",
    text: bookingIcs(booking, role, { now: opts.now, url: bookingPageUrl(opts.origin, b.id, role) }),
  };
}

/** The bytes the download offers: the text in UTF-8, as the Blob constructor encodes a string. */
export function icsBlob(file: IcsFile): Blob {
  return new Blob([file.text], { type: `${file.type};charset=utf-8` });
}

/** Preloads the sdk's calendar module (on hover or focus of the button), so that the click answers at once. */
export function preloadIcs(): void {
  void import("@computehive/sdk/ai/calendar").catch(() => undefined);
}
