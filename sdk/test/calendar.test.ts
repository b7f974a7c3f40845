// Calendar events (sdk/src/ai/calendar.ts, issue 7): every output is parsed with a real iCalendar parser
// (ical.js 2.2.1) and checked field by field: the stable UID, SEQUENCE derived from the state, METHOD, STATUS,
// exact UTC times, the two alarms' triggers, line folding, the feed's filtering, and that no secret of the
// booking reaches any field.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ICAL from "ical.js";
import type { Address } from "viem";
import {
  accountFeed,
  bookingIcs,
  bookingSequence,
  bookingUid,
  type CalendarBooking,
  CalendarEventError,
  type CalendarEventErrorCode,
  icsFileName,
} from "../src/ai/calendar.ts";

// anvil's accounts 1 (the lender) and 3 (the borrower), the market at anvil's first deployment address.
const market: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const lender: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const borrower: Address = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const other: Address = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const START = Date.UTC(2026, 0, 1, 10) / 1000; // 2026-01-01 10:00:00 UTC
const END = Date.UTC(2026, 0, 1, 12) / 1000; // 12:00:00 UTC
const NOW = Date.UTC(2025, 11, 31, 9, 30) / 1000;

const booking: CalendarBooking = {
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
  status: "Booked",
  borrower,
  lender,
};
const UID = "booking-31337-0x5fbdb2315678afecb367f032d93f642f64180aa3-7@computehive";
const BORROWER_SUMMARY = "GPU session: 2× NVIDIA H100 80GB HBM3 (eu-west), booking 7";
const LENDER_SUMMARY = "Lending: 2× NVIDIA H100 80GB HBM3 (eu-west) to 0x90F7…b906, booking 7";

function parse(text: string) {
  const cal = new ICAL.Component(ICAL.parse(text));
  assert.equal(cal.name, "vcalendar");
  return { cal, events: cal.getAllSubcomponents("vevent") };
}

/** The single event of a one-booking .ics, with the calendar's METHOD. */
function single(text: string) {
  const { cal, events } = parse(text);
  assert.equal(events.length, 1);
  return { cal, method: str(cal, "method"), event: events[0] as ICAL.Component };
}

function str(c: ICAL.Component, name: string): string {
  const v = c.getFirstPropertyValue(name);
  assert.equal(typeof v, "string", `${name} is a text value`);
  return v as string;
}

/** A DATE-TIME in UTC, as unix seconds; asserts it is in UTC (no floating time, no TZID). */
function utcTime(c: ICAL.Component, name: string): number {
  const v = c.getFirstPropertyValue(name) as ICAL.Time;
  assert.ok(v instanceof ICAL.Time, `${name} is a date-time`);
  assert.equal(v.zone?.tzid, "UTC", `${name} is in UTC`);
  assert.equal(v.isDate, false);
  return v.toUnixTime();
}

function alarms(event: ICAL.Component) {
  return event.getAllSubcomponents("valarm").map((a) => {
    const trigger = a.getFirstProperty("trigger");
    assert.ok(trigger);
    return {
      action: str(a, "action"),
      related: trigger.getParameter("related"),
      seconds: (trigger.getFirstValue() as ICAL.Duration).toSeconds(),
      description: str(a, "description"),
    };
  });
}

function throwsCalendar(fn: () => unknown, code: CalendarEventErrorCode, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(
    thrown instanceof CalendarEventError,
    `expected a CalendarEventError "${code}", got ${String(thrown)}`,
  );
  assert.equal(thrown.code, code, `wrong code; message: ${thrown.message}`);
  if (message) assert.match(thrown.message, message);
}

describe("calendar: one booking as an .ics download", () => {
  it("the borrower's event, field by field", () => {
    const text = bookingIcs(booking, "borrower", { now: NOW });
    const { cal, method, event } = single(text);
    assert.equal(str(cal, "version"), "2.0");
    assert.equal(str(cal, "prodid"), "-//ComputeHive//Bookings//EN");
    assert.equal(method, "PUBLISH");
    assert.equal(str(event, "uid"), UID);
    assert.equal(event.getFirstPropertyValue("sequence"), 0);
    assert.equal(utcTime(event, "dtstamp"), NOW);
    assert.equal(utcTime(event, "dtstart"), START);
    assert.equal(utcTime(event, "dtend"), END);
    // Exactly as written on the wire: UTC with the Z suffix, no TZID, no VTIMEZONE.
    assert.match(text, /\r\nDTSTART:20260101T100000Z\r\n/);
    assert.match(text, /\r\nDTEND:20260101T120000Z\r\n/);
    assert.doesNotMatch(text, /TZID|VTIMEZONE/);
    assert.equal(str(event, "summary"), BORROWER_SUMMARY);
    assert.equal(str(event, "status"), "CONFIRMED");
    assert.equal(str(event, "transp"), "OPAQUE");
    assert.equal(event.getFirstProperty("url"), null, "no link unless one is given");
    assert.equal(
      str(event, "description"),
      [
        "Your ComputeHive booking 7: 2× NVIDIA H100 80GB HBM3 (eu-west) from host 1, listing 2.",
        "Booked window: 2026-01-01 10:00:00 UTC to 2026-01-01 12:00:00 UTC.",
        "The SSH endpoint is published on-chain encrypted to your session key once the host has started the VM: open it in the ComputeHive dApp.",
        `Lender: ${lender}`,
        `Market ${market} on chain 31337.`,
      ].join("\n"),
    );
    assert.deepEqual(alarms(event), [
      {
        action: "DISPLAY",
        related: "START",
        seconds: -15 * 60,
        description: `Starts soon: ${BORROWER_SUMMARY}`,
      },
      { action: "DISPLAY", related: "END", seconds: -10 * 60, description: `Ends soon: ${BORROWER_SUMMARY}` },
    ]);
  });

  it("the lender's event: same UID and times, its own words, not busy time", () => {
    const { method, event } = single(bookingIcs(booking, "lender", { now: NOW }));
    assert.equal(method, "PUBLISH");
    assert.equal(str(event, "uid"), UID);
    assert.equal(event.getFirstPropertyValue("sequence"), 0);
    assert.equal(utcTime(event, "dtstart"), START);
    assert.equal(utcTime(event, "dtend"), END);
    assert.equal(str(event, "summary"), LENDER_SUMMARY);
    assert.equal(str(event, "transp"), "TRANSPARENT");
    const description = str(event, "description");
    assert.match(
      description,
      /^Your host 1 lends 2× NVIDIA H100 80GB HBM3 \(eu-west\) to 0x90F79bf6EB2c4f870365E785982E1f101E93b906: booking 7, listing 2\.\n/,
    );
    assert.match(description, /\nBorrower: 0x90F79bf6EB2c4f870365E785982E1f101E93b906\n/);
    assert.deepEqual(
      alarms(event).map((a) => [a.related, a.seconds]),
      [
        ["START", -900],
        ["END", -600],
      ],
    );
  });

  it("the UID depends only on chain, market and booking id", () => {
    assert.equal(bookingUid(booking), UID);
    assert.equal(bookingUid({ ...booking, market: market.toLowerCase() as Address }), UID);
    assert.equal(bookingUid({ ...booking, status: "Cancelled" }), UID);
    assert.equal(bookingUid({ ...booking, status: "Active", endedAt: START + 60 }), UID);
    assert.equal(bookingUid({ ...booking, bookingId: "8" }), UID.replace("-7@", "-8@"));
    assert.equal(bookingUid({ ...booking, chainId: 1 }), UID.replace("-31337-", "-1-"));
  });

  it("an early end moves DTEND to endedAt and bumps SEQUENCE to 1; the end alarm follows it", () => {
    const endedAt = START + 45 * 60;
    for (const status of ["Active", "Reported", "Settled"] as const) {
      const changed = { ...booking, status, endedAt };
      assert.equal(bookingSequence(changed), 1);
      for (const role of ["borrower", "lender"] as const) {
        const { method, event } = single(bookingIcs(changed, role, { now: NOW }));
        assert.equal(method, "PUBLISH");
        assert.equal(str(event, "uid"), UID);
        assert.equal(event.getFirstPropertyValue("sequence"), 1);
        assert.equal(str(event, "status"), "CONFIRMED");
        assert.equal(utcTime(event, "dtstart"), START);
        assert.equal(utcTime(event, "dtend"), endedAt);
        assert.match(
          str(event, "description"),
          /\nThe borrower ended the session early, at 2026-01-01 10:45:00 UTC\.\n/,
        );
        // RELATED=END: the reminder is 10 minutes before the new end.
        const end = alarms(event)[1];
        assert.equal(end?.related, "END");
        assert.equal(utcTime(event, "dtend") + (end?.seconds ?? 0), endedAt - 600);
      }
    }
  });

  for (const [status, prefix, why] of [
    ["Cancelled", "Cancelled", /^Cancelled by the borrower: the session will not take place\.$/m],
    ["Declined", "Declined", /^Declined by the host: .* refunded in full\.$/m],
    ["NoShow", "No-show", /^The host did not publish the endpoint in time \(no-show\)/m],
  ] as const) {
    it(`${status}: METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE 1, same UID and window, no alarms`, () => {
      const changed = { ...booking, status };
      assert.equal(bookingSequence(changed), 1);
      for (const role of ["borrower", "lender"] as const) {
        const { method, event } = single(bookingIcs(changed, role, { now: NOW }));
        assert.equal(method, "CANCEL");
        assert.equal(str(event, "status"), "CANCELLED");
        assert.equal(str(event, "uid"), UID);
        assert.equal(event.getFirstPropertyValue("sequence"), 1);
        assert.equal(utcTime(event, "dtstart"), START);
        assert.equal(utcTime(event, "dtend"), END);
        assert.equal(
          str(event, "summary"),
          `${prefix}: ${role === "borrower" ? BORROWER_SUMMARY : LENDER_SUMMARY}`,
        );
        assert.match(str(event, "description"), why);
        assert.doesNotMatch(str(event, "description"), /SSH endpoint is published/);
        assert.equal(event.getAllSubcomponents("valarm").length, 0);
      }
    });
  }

  it("SEQUENCE is derived from the state alone", () => {
    const expected: [Partial<CalendarBooking>, number][] = [
      [{ status: "Booked" }, 0],
      [{ status: "Active" }, 0],
      [{ status: "Reported" }, 0],
      [{ status: "Disputed" }, 0],
      [{ status: "Settled" }, 0],
      [{ status: "Active", endedAt: 0 }, 0],
      [{ status: "Active", endedAt: null }, 0],
      // Ended at the window's end: DTEND does not move.
      [{ status: "Settled", endedAt: END }, 0],
      [{ status: "Active", endedAt: START }, 1],
      [{ status: "Disputed", endedAt: END - 1 }, 1],
      [{ status: "Cancelled" }, 1],
      [{ status: "Declined" }, 1],
      [{ status: "NoShow" }, 1],
    ];
    for (const [change, sequence] of expected) {
      assert.equal(bookingSequence({ ...booking, ...change }), sequence, JSON.stringify(change));
    }
  });

  it("a session ended at its very start has no DTEND (RFC 5545 3.6.1) and no end alarm", () => {
    const { event } = single(
      bookingIcs({ ...booking, status: "Reported", endedAt: START }, "borrower", { now: NOW }),
    );
    assert.equal(event.getFirstProperty("dtend"), null);
    assert.equal(event.getFirstPropertyValue("sequence"), 1);
    assert.equal(new ICAL.Event(event).endDate.toUnixTime(), START);
    assert.deepEqual(
      alarms(event).map((a) => [a.related, a.seconds]),
      [["START", -900]],
    );
  });

  it("alarm leads are the caller's", () => {
    const { event } = single(
      bookingIcs(booking, "borrower", { now: NOW, alarmsMinutes: { beforeStart: 60, beforeEnd: 0 } }),
    );
    assert.deepEqual(
      alarms(event).map((a) => [a.related, a.seconds]),
      [
        ["START", -3600],
        ["END", 0],
      ],
    );
  });

  it("the dApp link, when given, is the URL and ends the description", () => {
    const url = "https://app.computehive.example/bookings/31337/7";
    const { event } = single(bookingIcs(booking, "borrower", { now: NOW, url }));
    assert.equal(str(event, "url"), url);
    assert.match(str(event, "description"), /\nhttps:\/\/app\.computehive\.example\/bookings\/31337\/7$/);
    throwsCalendar(
      () => bookingIcs(booking, "borrower", { url: "javascript:alert(1)" }),
      "bad-options",
      /http/,
    );
    throwsCalendar(() => bookingIcs(booking, "borrower", { url: "/bookings/7" }), "bad-options", /absolute/);
  });

  it("a CPU-only listing says so", () => {
    const cpu = { ...booking, gpuModel: "", gpuCount: 0, region: "local", bookingId: "3" };
    const { event } = single(bookingIcs(cpu, "borrower", { now: NOW }));
    assert.equal(str(event, "summary"), "CPU session: CPU-only VM (local), booking 3");
    const noRegion = single(bookingIcs({ ...cpu, region: "" }, "lender", { now: NOW }));
    assert.equal(str(noRegion.event, "summary"), "Lending: CPU-only VM to 0x90F7…b906, booking 3");
  });

  it("long and non-ASCII text is folded at 75 octets and unfolds to the exact text", () => {
    const long = {
      ...booking,
      gpuModel: "NVIDIA H100 80GB HBM3, SXM5; ünïcödé — 😀 with a name far longer than one line",
      region: "südost-europa, zone; b",
    };
    const url = `https://app.computehive.example/bookings/31337/7?${"q=é".repeat(40)}`;
    const text = bookingIcs(long, "borrower", { now: NOW, url });
    const lines = text.split("\r\n");
    for (const line of lines) {
      assert.ok(new TextEncoder().encode(line).length <= 75, `line over 75 octets: ${line}`);
    }
    assert.ok(lines.filter((l) => l.startsWith(" ")).length >= 3, "some lines were folded");
    const { event } = single(text);
    assert.equal(
      str(event, "summary"),
      "GPU session: 2× NVIDIA H100 80GB HBM3, SXM5; ünïcödé — 😀 with a name far longer than one line (südost-europa, zone; b), booking 7",
    );
    assert.equal(str(event, "url"), new URL(url).href);
  });

  it("control characters and bidi overrides in lender-chosen text are replaced", () => {
    const { event } = single(
      bookingIcs(
        { ...booking, gpuModel: "H100\u0000\u001b[31m\u202Egpu", region: "eu\r\nBEGIN:VALARM" },
        "borrower",
        {
          now: NOW,
        },
      ),
    );
    assert.equal(
      str(event, "summary"),
      "GPU session: 2× H100\uFFFD\uFFFD[31m\uFFFDgpu (eu\uFFFD\uFFFDBEGIN:VALARM), booking 7",
    );
    assert.equal(event.getAllSubcomponents("valarm").length, 2);
  });

  it("is deterministic for the same input and time", () => {
    assert.equal(
      bookingIcs(booking, "lender", { now: NOW }),
      bookingIcs({ ...booking }, "lender", { now: NOW }),
    );
  });

  it("file names", () => {
    assert.equal(icsFileName(booking, "borrower"), "computehive-31337-booking-7-borrower.ics");
    assert.equal(icsFileName(booking, "lender"), "computehive-31337-booking-7-lender.ics");
  });
});

describe("calendar: no secret in any field", () => {
  // What a booking record carries besides the calendar's fields (the daemon's, the dApp's): none of it may
  // reach the calendar, however the object is passed in.
  const secrets = {
    encryptedEndpoint: `0x01${"ab12".repeat(60)}`,
    sessionPubKey: `0x${"5e55".repeat(16)}`,
    sshPubKey: `0x${Buffer.from("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsecretkeymaterial borrower@test").toString("hex")}`,
    endpoint: {
      host: "203.0.113.77",
      port: 22022,
      user: "gpu",
      certificate:
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tCERTSECRET",
    },
    sshCommand: "ssh -p 22022 gpu@203.0.113.77",
    privateKeyHex: `0x${"77".repeat(32)}`,
  };
  const wide = { ...booking, ...secrets } as CalendarBooking;
  const needles = [
    secrets.encryptedEndpoint,
    secrets.encryptedEndpoint.slice(2, 40),
    secrets.sessionPubKey,
    secrets.sessionPubKey.slice(2, 40),
    secrets.sshPubKey.slice(2, 40),
    "AAAAC3NzaC1lZDI1NTE5",
    "secretkeymaterial",
    "203.0.113.77",
    "22022",
    "CERTSECRET",
    "ssh -p",
    "7777777777",
  ];

  /** Every property value of every component, as text, plus the whole text unfolded. */
  function everything(text: string): string[] {
    const all: string[] = [text.replace(/\r\n /g, "")];
    const walk = (c: ICAL.Component) => {
      for (const p of c.getAllProperties()) all.push(`${p.name}:${p.getValues().map(String).join(",")}`);
      for (const sub of c.getAllSubcomponents()) walk(sub);
    };
    walk(new ICAL.Component(ICAL.parse(text)));
    return all;
  }

  it("in both roles, in every state, and in the feed", () => {
    const outputs = [
      bookingIcs(wide, "borrower", { now: NOW }),
      bookingIcs(wide, "lender", { now: NOW }),
      bookingIcs({ ...wide, status: "Active", endedAt: START + 60 }, "borrower", { now: NOW }),
      bookingIcs({ ...wide, status: "Cancelled" }, "borrower", { now: NOW }),
      accountFeed(borrower, [wide], { now: NOW }),
      accountFeed(lender, [wide], { now: NOW }),
    ];
    for (const text of outputs) {
      const fields = everything(text);
      assert.ok(
        fields.some((f) => f.startsWith("summary:")),
        "the walk reached the events' fields",
      );
      for (const field of fields) {
        for (const needle of needles) {
          assert.ok(
            !field.includes(needle),
            `a secret (${needle.slice(0, 12)}…) reached the calendar: ${field.slice(0, 80)}`,
          );
        }
      }
    }
  });
});

describe("calendar: the feed of an account", () => {
  const mine = [
    { ...booking, bookingId: "12", start: END + 3600, end: END + 7200 }, // borrower, later
    { ...booking, bookingId: "9", status: "Cancelled" as const, start: START - 7200, end: START - 3600 }, // borrower, first
    booking, // borrower
    { ...booking, bookingId: "10", borrower: other, lender: borrower, start: END, end: END + 3600 }, // lender
  ];
  const theirs = [
    { ...booking, bookingId: "11", borrower: other, start: END + 7200, end: END + 9000 },
    {
      ...booking,
      bookingId: "13",
      market: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const,
      borrower: other,
    },
  ];
  const all = [...theirs, ...mine];

  it("holds exactly the account's bookings, sorted by start, in the account's role", () => {
    const text = accountFeed(borrower, all, { now: NOW });
    const { cal, events } = parse(text);
    assert.equal(str(cal, "method"), "PUBLISH");
    assert.equal(str(cal, "x-wr-calname"), "ComputeHive bookings of 0x90F7…b906");
    assert.equal(cal.getFirstPropertyValue("refresh-interval")?.toString(), "PT15M");
    assert.equal(cal.getFirstProperty("refresh-interval")?.type, "duration");
    assert.deepEqual(
      events.map((e) => [str(e, "uid"), e.getFirstPropertyValue("sequence"), str(e, "status")]),
      [
        [UID.replace("-7@", "-9@"), 1, "CANCELLED"],
        [UID, 0, "CONFIRMED"],
        [UID.replace("-7@", "-10@"), 0, "CONFIRMED"],
        [UID.replace("-7@", "-12@"), 0, "CONFIRMED"],
      ],
    );
    assert.deepEqual(
      events.map((e) => str(e, "summary")),
      [
        `Cancelled: ${BORROWER_SUMMARY.replace("booking 7", "booking 9")}`,
        BORROWER_SUMMARY,
        "Lending: 2× NVIDIA H100 80GB HBM3 (eu-west) to 0x15d3…6A65, booking 10",
        BORROWER_SUMMARY.replace("booking 7", "booking 12"),
      ],
    );
    assert.deepEqual(
      events.map((e) => [utcTime(e, "dtstart"), utcTime(e, "dtend")]),
      [
        [START - 7200, START - 3600],
        [START, END],
        [END, END + 3600],
        [END + 3600, END + 7200],
      ],
    );
    assert.equal(events[0]?.getAllSubcomponents("valarm").length, 0, "the cancelled one has no alarms");
    assert.equal(events[1]?.getAllSubcomponents("valarm").length, 2);
  });

  it("matches the account in any letter case, and the lender sees their bookings", () => {
    const reference = accountFeed(borrower, all, { now: NOW });
    assert.equal(accountFeed(borrower.toLowerCase() as Address, all, { now: NOW }), reference);
    assert.equal(accountFeed(`0x${borrower.slice(2).toUpperCase()}`, all, { now: NOW }), reference);
    const lenderFeed = parse(accountFeed(lender, all, { now: NOW })).events;
    assert.deepEqual(
      lenderFeed.map((e) => str(e, "uid")),
      [
        UID.replace("-7@", "-9@"),
        UID,
        "booking-31337-0xe7f1725e7734ce288f8367e1bb143e90bb3f0512-13@computehive", // same start: by market
        UID.replace("-7@", "-12@"),
        UID.replace("-7@", "-11@"),
      ],
    );
    assert.ok(lenderFeed.every((e) => str(e, "summary").includes("Lending: ")));
  });

  it("an early end and a cancellation show up with SEQUENCE 1", () => {
    const changed = mine.map((b) =>
      b.bookingId === "7"
        ? { ...b, status: "Active" as const, endedAt: START + 600 }
        : b.bookingId === "12"
          ? { ...b, status: "Declined" as const }
          : b,
    );
    const events = parse(accountFeed(borrower, changed, { now: NOW })).events;
    const seven = events.find((e) => str(e, "uid") === UID);
    assert.ok(seven);
    assert.equal(seven.getFirstPropertyValue("sequence"), 1);
    assert.equal(utcTime(seven, "dtend"), START + 600);
    const twelve = events.find((e) => str(e, "uid") === UID.replace("-7@", "-12@"));
    assert.ok(twelve);
    assert.equal(twelve.getFirstPropertyValue("sequence"), 1);
    assert.equal(str(twelve, "status"), "CANCELLED");
  });

  it("an account with no booking gets an empty but valid calendar", () => {
    const { cal, events } = parse(
      accountFeed("0x0000000000000000000000000000000000000001", all, { now: NOW }),
    );
    assert.equal(events.length, 0);
    assert.equal(str(cal, "version"), "2.0");
    assert.equal(str(cal, "method"), "PUBLISH");
    assert.equal(parse(accountFeed(borrower, [], { now: NOW })).events.length, 0);
  });

  it("refresh interval and per-booking links are the caller's", () => {
    const text = accountFeed(borrower, mine, {
      now: NOW,
      refreshMinutes: 60,
      url: (b) => `https://app.computehive.example/bookings/${b.chainId}/${b.bookingId}`,
    });
    const { cal, events } = parse(text);
    assert.equal(cal.getFirstPropertyValue("refresh-interval")?.toString(), "PT1H");
    assert.deepEqual(
      events.map((e) => str(e, "url")),
      ["9", "7", "10", "12"].map((id) => `https://app.computehive.example/bookings/31337/${id}`),
    );
    // With a 0-minute start alarm and no interval given, the feed names none.
    const none = parse(
      accountFeed(borrower, mine, { now: NOW, alarmsMinutes: { beforeStart: 0, beforeEnd: 5 } }),
    );
    assert.equal(none.cal.getFirstProperty("refresh-interval"), null);
    throwsCalendar(() => accountFeed(borrower, mine, { refreshMinutes: 0 }), "bad-options", /refreshMinutes/);
  });

  it("refuses a bad account, a bad booking anywhere in the list, and a booking listed twice", () => {
    for (const bad of ["0x1234", "borrower", "", 42, null]) {
      throwsCalendar(() => accountFeed(bad as Address, all), "bad-account", /20-byte address/);
    }
    throwsCalendar(
      () => accountFeed(borrower, [...all, { ...booking, bookingId: "99", end: START }]),
      "bad-booking",
      /^booking 99: the window must end after it starts/,
    );
    throwsCalendar(
      () => accountFeed(borrower, [booking, { ...booking }]),
      "bad-booking",
      /booking 7: appears twice/,
    );
    throwsCalendar(
      () => accountFeed(borrower, "nope" as unknown as CalendarBooking[]),
      "bad-booking",
      /array/,
    );
  });
});

describe("calendar: bad input", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["end ≤ start", { end: START }, /window must end after it starts, got start 1767261600, end 1767261600/],
    ["end before start", { end: START - 60 }, /window must end after it starts/],
    [
      "a bad market",
      { market: "0x5FbDB2315678afecb367f032d93F642f64180aa" },
      /^booking 7: market must be a 0x-prefixed 20-byte address/,
    ],
    ["a bad borrower", { borrower: "alice" }, /borrower must be a 0x-prefixed 20-byte address, got "alice"/],
    ["a bad lender", { lender: undefined }, /lender must be a 0x-prefixed 20-byte address, got nothing/],
    [
      "a bookingId with a leading zero",
      { bookingId: "07" },
      /^booking: bookingId must be a decimal integer string/,
    ],
    ["a numeric bookingId", { bookingId: 7 }, /bookingId must be a decimal integer string/],
    ["a negative hostId", { hostId: "-1" }, /hostId must be a decimal/],
    ["chain id 0", { chainId: 0 }, /chainId must be an integer ≥ 1/],
    ["a fractional start", { start: START + 0.5 }, /start \(unix seconds\) must be an integer/],
    ["the status None", { status: "None" }, /status must be one of Booked, Active/],
    ["a model without GPUs", { gpuCount: 0 }, /gpuModel and gpuCount disagree/],
    ["GPUs without a model", { gpuModel: "" }, /gpuModel and gpuCount disagree/],
    [
      "endedAt before the start",
      { status: "Active", endedAt: START - 1 },
      /endedAt must lie within the window/,
    ],
    ["endedAt after the end", { status: "Active", endedAt: END + 1 }, /endedAt must lie within the window/],
    ["a region that is not text", { region: 5 }, /region must be a string/],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what}`, () => {
      const b = { ...booking, ...change } as CalendarBooking;
      throwsCalendar(() => bookingIcs(b, "borrower"), "bad-booking", message);
      throwsCalendar(() => bookingUid(b), "bad-booking", message);
      throwsCalendar(() => bookingSequence(b), "bad-booking", message);
      throwsCalendar(() => icsFileName(b, "lender"), "bad-booking", message);
    });
  }

  it("refuses a bad role and bad options", () => {
    throwsCalendar(
      () => bookingIcs(booking, "host" as "lender"),
      "bad-options",
      /role must be "borrower" or "lender"/,
    );
    throwsCalendar(() => icsFileName(booking, "auditor" as "lender"), "bad-options", /role/);
    throwsCalendar(
      () => bookingIcs(booking, "borrower", { alarmsMinutes: { beforeStart: -1, beforeEnd: 10 } }),
      "bad-options",
      /alarmsMinutes\.beforeStart must be whole minutes ≥ 0, got number -1/,
    );
    throwsCalendar(
      () => bookingIcs(booking, "borrower", { alarmsMinutes: { beforeStart: 15, beforeEnd: 2.5 } }),
      "bad-options",
      /alarmsMinutes\.beforeEnd/,
    );
    throwsCalendar(
      () => bookingIcs(booking, "borrower", { now: -1 }),
      "bad-options",
      /now must be unix seconds/,
    );
    throwsCalendar(
      () => bookingIcs(null as unknown as CalendarBooking, "borrower"),
      "bad-booking",
      /must be an object, got null/,
    );
  });
});
