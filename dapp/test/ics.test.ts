// The .ics download of a booking (lib/ics.ts over the sdk's bookingIcs): the subgraph's booking mapped field by
// field, the file parsed back with a real iCalendar parser (ical.js), statuses and early ends as calendars must
// see them (SEQUENCE, METHOD, STATUS, DTEND), the link to the dApp, and no secret of the booking in the file.
import ICAL from "ical.js";
import type { Address } from "viem";
import { describe, expect, test } from "vitest";
import {
  bookingIcsFile,
  bookingPageUrl,
  calendarBookingOf,
  type IcsDeployment,
  icsBlob,
  icsButtonLabel,
} from "../lib/ics.ts";
import { BOOKING_FIELDS } from "../lib/subgraph.ts";
import type { SgBooking } from "../lib/types.ts";

const market: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const deployment: IcsDeployment = { chainId: 31337, market };
// The subgraph stores addresses in lower case.
const lender = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const borrower = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
const START = Date.UTC(2026, 0, 1, 10) / 1000; // 2026-01-01 10:00 UTC
const END = Date.UTC(2026, 0, 1, 12) / 1000;
const NOW = Date.UTC(2025, 11, 31, 9, 30) / 1000;
const ORIGIN = "https://app.computehive.example";
const UID = "booking-31337-0x5fbdb2315678afecb367f032d93f642f64180aa3-7@computehive";

// What the booking holds that must never reach a calendar (recognisable values).
const SECRETS = {
  sessionPubKey: `0x04${"5e55".repeat(32)}`,
  sshPubKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISECRETSSHKEYSECRETSSHKEY borrower@laptop",
  encryptedEndpoint: `0x01${"e7c0de".repeat(40)}`,
  agent: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
};

/** A booking as myBookingsQuery returns it (BOOKING_FIELDS with events), secrets included. */
function sgBooking(over: Partial<SgBooking> = {}): SgBooking {
  return {
    id: "7",
    start: String(START),
    end: String(END),
    price: "720000000000000000",
    feeBps: 250,
    status: "Booked",
    sessionPubKey: SECRETS.sessionPubKey,
    sshPubKey: SECRETS.sshPubKey,
    bookedAt: String(NOW - 3600),
    activatedAt: null,
    endedAt: null,
    reportedAt: null,
    disputedAt: null,
    settledAt: null,
    cancelledAt: null,
    declinedAt: null,
    noShowAt: null,
    usedSeconds: null,
    lenderAmount: null,
    platformFee: null,
    refund: null,
    slash: null,
    declineReason: null,
    reportCid: null,
    disputeReasonCid: null,
    endpointPublications: 1,
    encryptedEndpoint: SECRETS.encryptedEndpoint,
    lastEndpointAt: String(START),
    asset: { id: "0x0000000000000000000000000000000000000000", native: true },
    borrower: { id: borrower },
    host: { id: "1", agent: SECRETS.agent, lender: { id: lender } },
    listing: {
      id: "2",
      gpuModel: "NVIDIA H100 80GB HBM3",
      gpuCount: 2,
      region: "eu-west",
      usdPriced: false,
      pricePerHour: "360000000000000000",
    },
    events: [],
    ...over,
  };
}

function parse(text: string) {
  const cal = new ICAL.Component(ICAL.parse(text));
  expect(cal.name).toBe("vcalendar");
  const events = cal.getAllSubcomponents("vevent");
  expect(events).toHaveLength(1);
  const event = events[0] as ICAL.Component;
  const time = (name: string) => {
    const v = event.getFirstPropertyValue(name) as ICAL.Time;
    expect(v).toBeInstanceOf(ICAL.Time);
    expect(v.zone?.tzid).toBe("UTC");
    return v.toUnixTime();
  };
  return {
    method: cal.getFirstPropertyValue("method"),
    uid: event.getFirstPropertyValue("uid"),
    sequence: event.getFirstPropertyValue("sequence"),
    status: event.getFirstPropertyValue("status"),
    summary: event.getFirstPropertyValue("summary") as string,
    description: event.getFirstPropertyValue("description") as string,
    url: event.getFirstPropertyValue("url"),
    start: time("dtstart"),
    end: time("dtend"),
    stamp: time("dtstamp"),
    alarms: event.getAllSubcomponents("valarm").length,
  };
}

const file = (
  b: SgBooking,
  role: "borrower" | "lender" = "borrower",
  live?: Parameters<typeof bookingIcsFile>[3],
) => bookingIcsFile(b, deployment, role, { origin: ORIGIN, now: NOW, ...live });

describe("calendarBookingOf: the subgraph's booking as the sdk's CalendarBooking", () => {
  test("field by field, nothing else", () => {
    expect(calendarBookingOf(sgBooking(), deployment)).toEqual({
      chainId: 31337,
      market,
      bookingId: "7",
      listingId: "2",
      hostId: "1",
      gpuModel: "NVIDIA H100 80GB HBM3",
      gpuCount: 2,
      region: "eu-west",
      start: START,
      end: END,
      endedAt: null,
      status: "Booked",
      borrower,
      lender,
    });
  });

  test("an early end from the subgraph; the chain's live state wins over the subgraph's", () => {
    const ended = sgBooking({ status: "Reported", endedAt: String(START + 2700) });
    expect(calendarBookingOf(ended, deployment)).toMatchObject({ status: "Reported", endedAt: START + 2700 });
    // The subgraph lags: the chain already says Cancelled.
    expect(calendarBookingOf(sgBooking(), deployment, { status: "Cancelled", endedAt: 0 })).toMatchObject({
      status: "Cancelled",
      endedAt: null,
    });
    expect(
      calendarBookingOf(sgBooking({ status: "Active" }), deployment, {
        status: "Active",
        endedAt: START + 60,
      }),
    ).toMatchObject({ status: "Active", endedAt: START + 60 });
    // "None" (a read before the chain knows the booking) is no state: the subgraph's is kept.
    expect(calendarBookingOf(ended, deployment, { status: "None", endedAt: 0 })).toMatchObject({
      status: "Reported",
      endedAt: START + 2700,
    });
  });

  test("the subgraph query asks for every field the mapping reads", () => {
    expect(BOOKING_FIELDS).toContain("host { id agent lender { id } }");
    expect(BOOKING_FIELDS).toContain("borrower { id }");
    expect(BOOKING_FIELDS).toMatch(/listing \{ id gpuModel gpuCount region /);
    for (const field of ["id", "start", "end", "status", "endedAt"]) {
      expect(BOOKING_FIELDS.split(" ")).toContain(field);
    }
  });
});

describe("bookingIcsFile: the .ics text, parsed with ical.js", () => {
  test("Booked, for the borrower: PUBLISH, SEQUENCE 0, the booked window, a link to My bookings", async () => {
    const f = await file(sgBooking());
    expect(f.name).toBe("computehive-31337-booking-7-borrower.ics");
    expect(f.type).toBe("text/calendar");
    const e = parse(f.text);
    expect(e).toMatchObject({
      method: "PUBLISH",
      uid: UID,
      sequence: 0,
      status: "CONFIRMED",
      summary: "GPU session: 2× NVIDIA H100 80GB HBM3 (eu-west), booking 7",
      url: `${ORIGIN}/bookings#booking-7`,
      start: START,
      end: END,
      stamp: NOW,
      alarms: 2,
    });
    expect(e.description).toContain(
      "Your ComputeHive booking 7: 2× NVIDIA H100 80GB HBM3 (eu-west) from host 1",
    );
    expect(e.description).toContain("Lender: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    expect(icsButtonLabel(sgBooking())).toBe("Add booking 7 to calendar (.ics)");
  });

  test("Cancelled: SEQUENCE 1, METHOD:CANCEL, STATUS:CANCELLED, no reminders", async () => {
    const b = sgBooking({ status: "Cancelled", cancelledAt: String(NOW) });
    const e = parse((await file(b)).text);
    expect(e).toMatchObject({
      method: "CANCEL",
      uid: UID,
      sequence: 1,
      status: "CANCELLED",
      start: START,
      end: END,
      alarms: 0,
    });
    expect(e.summary).toMatch(/^Cancelled: GPU session/);
    expect(icsButtonLabel(b)).toBe("Mark booking 7 cancelled in your calendar (.ics)");
    // Declined and no-show cancel the event too.
    for (const status of ["Declined", "NoShow"] as const) {
      expect(parse((await file(sgBooking({ status }))).text)).toMatchObject({
        method: "CANCEL",
        sequence: 1,
      });
    }
  });

  test("the chain's live Cancelled wins while the subgraph still says Booked", async () => {
    const b = sgBooking();
    const live = { status: "Cancelled", endedAt: 0 } as const;
    const e = parse((await file(b, "borrower", { live })).text);
    expect(e).toMatchObject({ method: "CANCEL", sequence: 1, status: "CANCELLED" });
    expect(icsButtonLabel(b, live)).toBe("Mark booking 7 cancelled in your calendar (.ics)");
  });

  test("an early end moves DTEND to endedAt and bumps SEQUENCE to 1", async () => {
    const endedAt = START + 45 * 60;
    const b = sgBooking({ status: "Reported", endedAt: String(endedAt) });
    const e = parse((await file(b)).text);
    expect(e).toMatchObject({ method: "PUBLISH", uid: UID, sequence: 1, status: "CONFIRMED", start: START });
    expect(e.end).toBe(endedAt);
    expect(e.description).toContain("ended the session early, at 2026-01-01 10:45:00 UTC");
    expect(icsButtonLabel(b)).toBe("Update booking 7 in your calendar (.ics)");
    // The same from the chain while the subgraph has not indexed the early end yet.
    const live = { status: "Active", endedAt } as const;
    expect(parse((await file(sgBooking({ status: "Active" }), "borrower", { live })).text)).toMatchObject({
      sequence: 1,
      end: endedAt,
    });
  });

  test("the lender's file: same UID and window, its own words, a link to the audit explorer", async () => {
    const f = await file(sgBooking(), "lender");
    expect(f.name).toBe("computehive-31337-booking-7-lender.ics");
    const e = parse(f.text);
    expect(e).toMatchObject({
      method: "PUBLISH",
      uid: UID,
      sequence: 0,
      start: START,
      end: END,
      summary: "Lending: 2× NVIDIA H100 80GB HBM3 (eu-west) to 0x90F7…b906, booking 7",
      url: `${ORIGIN}/audit?booking=7`,
    });
  });

  test("a CPU-only development host (gpuCount 0, no model)", async () => {
    const b = sgBooking({ listing: { ...sgBooking().listing, gpuModel: "", gpuCount: 0, region: "" } });
    expect(parse((await file(b)).text).summary).toBe("CPU session: CPU-only VM, booking 7");
  });

  test("no link without an http(s) origin", async () => {
    expect(bookingPageUrl(undefined, "7", "borrower")).toBeUndefined();
    expect(bookingPageUrl("file://", "7", "borrower")).toBeUndefined();
    expect(bookingPageUrl("http://localhost:3000/", "7", "borrower")).toBe(
      "http://localhost:3000/bookings#booking-7",
    );
    const f = await bookingIcsFile(sgBooking(), deployment, "borrower", { now: NOW });
    expect(parse(f.text).url).toBeNull();
  });

  test("no secret of the booking reaches the file, for either party, in any state", async () => {
    const states: Partial<SgBooking>[] = [
      {},
      { status: "Active", activatedAt: String(START) },
      { status: "Reported", endedAt: String(START + 600), reportCid: "bafkreireportcid" },
      { status: "Disputed", endedAt: String(START + 600), disputeReasonCid: "bafkreidisputecid" },
      { status: "Cancelled" },
    ];
    for (const over of states) {
      for (const role of ["borrower", "lender"] as const) {
        const { text } = await file(sgBooking(over), role);
        // Unfolded (RFC 5545 3.1), so that a value split across lines is still found.
        const flat = text.replace(/\r\n[ \t]/g, "");
        for (const secret of [...Object.values(SECRETS), "bafkreireportcid", "bafkreidisputecid"]) {
          expect(flat.toLowerCase()).not.toContain(secret.toLowerCase());
        }
        expect(flat).not.toMatch(
          /ssh-(ed25519|rsa)|ecdsa-sha2|-----BEGIN|PRIVATE KEY|cert-v01|ProxyCommand| -i /,
        );
        expect(flat).not.toContain(SECRETS.sshPubKey.split(" ")[1]);
      }
    }
  });

  test("the download's bytes are the text in UTF-8, typed text/calendar", async () => {
    const f = await file(sgBooking());
    const blob = icsBlob(f);
    expect(blob.type).toBe("text/calendar;charset=utf-8");
    const bytes = new Uint8Array(await blob.arrayBuffer());
    expect(new TextDecoder().decode(bytes)).toBe(f.text);
    // "2×" is two bytes in UTF-8: the file is not Latin-1.
    expect(bytes.length).toBe(new TextEncoder().encode(f.text).length);
    expect(bytes.length).toBeGreaterThan(f.text.length);
  });

  test("a malformed booking is refused by the sdk with its error, not turned into a wrong event", async () => {
    const b = sgBooking({ listing: { ...sgBooking().listing, gpuModel: "", gpuCount: 2 } });
    await expect(file(b)).rejects.toMatchObject({ name: "CalendarEventError", code: "bad-booking" });
  });
});
