/**
 * The calendar feed (`GET /calendar/<0xaddress>.ics`, src/calendar-feed.ts) served by the daemon's status server,
 * against a real anvil with the real market, the host agent API on libvirt's test:///default, and the daemon: the
 * borrower's and the lender's feeds parsed with a real iCalendar parser (ical.js) and checked field by field,
 * then after the borrower cancels one booking and ends another early. Also the feed's mapping of the daemon's
 * records (status kept from the chain, older records by phase, reorged ones left out) without a chain.
 *
 * Run: node --import tsx --test --test-reporter=spec oracle-node/test/calendar-feed.test.ts
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AgentClient } from "@computehive/host-agent";
import ICAL from "ical.js";
import { pino } from "pino";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type CalendarFeedSource, calendarFeed } from "../src/calendar-feed.ts";
import { Daemon } from "../src/daemon.ts";
import { openPinner, type Pinner } from "../src/ipfs.ts";
import type { Hardware } from "../src/lender.ts";
import type { BookingRecord, DaemonState } from "../src/state.ts";
import { type StatusServer, startStatusServer } from "../src/status.ts";
import { startTestAgent, type TestAgent } from "./agent.ts";
import {
  AGENT,
  argsOf,
  type Borrower,
  book,
  bookingStatus,
  borrower,
  type Chain,
  chainNow,
  dev,
  devKey,
  eventsOf,
  hostWithListing,
  LENDER,
  SLOT,
  Status,
  send,
  startChain,
  waitFor,
  warpTo,
} from "./fixture.ts";

/** The events of a feed, parsed, by UID. */
function parseFeed(text: string) {
  const cal = new ICAL.Component(ICAL.parse(text));
  assert.equal(cal.getFirstPropertyValue("method"), "PUBLISH");
  assert.equal(cal.getFirstPropertyValue("version"), "2.0");
  return cal.getAllSubcomponents("vevent");
}

const text = (c: ICAL.Component, name: string) => c.getFirstPropertyValue(name) as string;
const unix = (c: ICAL.Component, name: string) => {
  const t = c.getFirstPropertyValue(name) as ICAL.Time;
  assert.equal(t.zone?.tzid, "UTC", `${name} in UTC`);
  return t.toUnixTime();
};

describe("calendar feed on the daemon's status server (anvil + market + host agent on test:///default)", () => {
  let chain: Chain;
  let agent: TestAgent;
  let alice: Borrower;
  let listingId: bigint;
  let daemon: Daemon;
  let pinner: Pinner;
  let server: StatusServer;
  let stateDir: string;
  let uidPrefix: string;
  const lender = dev(LENDER).address;
  // Two bookings far enough ahead that the first cannot start (and be provisioned) before it is cancelled.
  let cancelled: { bookingId: bigint; start: number; end: number };
  let endedEarly: { bookingId: bigint; start: number; end: number };

  before(async () => {
    chain = await startChain();
    agent = await startTestAgent();
    alice = await borrower();
    let hostId: bigint;
    ({ hostId, listingId } = await hostWithListing(chain));
    stateDir = await mkdtemp(join(tmpdir(), "oracle-calendar-"));
    pinner = await openPinner({ dir: join(stateDir, "ipfs") });
    daemon = await Daemon.start({
      market: chain.market,
      account: privateKeyToAccount(devKey(AGENT)),
      hostId,
      agent: new AgentClient({ socketPath: agent.socketPath }),
      pinner,
      stateDir,
      logger: pino({ level: process.env.ORACLE_LOG_LEVEL ?? "silent" }),
      confirmations: 0,
      pollMs: 100,
      // Provision at the start, not ahead: the bookings stay Booked until the test moves the clock there.
      provisionLeadS: 0,
      upkeepEveryMs: 200,
    });
    server = await startStatusServer(
      () => daemon.status(),
      { host: "127.0.0.1", port: 0 },
      { calendar: (account) => calendarFeed(daemon, account) },
    );
    uidPrefix = `booking-31337-${chain.market.address.toLowerCase()}-`;
    const first = Math.ceil(((await chainNow(chain, "pending")) + 10 * SLOT) / SLOT) * SLOT;
    cancelled = await book(chain, alice, listingId, { start: first });
    endedEarly = await book(chain, alice, listingId, { start: first + 2 * SLOT, slots: 2 });
  });

  after(async () => {
    await server?.close();
    await daemon?.stop();
    await pinner?.close();
    await agent?.close();
    await chain?.close();
    if (alice) await rm(alice.dir, { recursive: true, force: true });
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  async function feed(account: string) {
    const res = await fetch(`${server.url}/calendar/${account}.ics`);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.equal(res.headers.get("content-type"), "text/calendar; charset=utf-8");
    return { body, events: parseFeed(body) };
  }

  async function eventOf(account: string, bookingId: bigint) {
    const { events } = await feed(account);
    return events.find((e) => text(e, "uid") === `${uidPrefix}${bookingId}@computehive`);
  }

  test("the borrower's and the lender's feeds hold the bookings, field by field", async () => {
    await waitFor(
      "the daemon to see both bookings",
      async () => (await feed(alice.address)).events.length === 2,
    );
    const mine = (await feed(alice.address)).events;
    const theirs = (await feed(lender)).events;
    for (const [events, role] of [
      [mine, "borrower"],
      [theirs, "lender"],
    ] as const) {
      assert.deepEqual(
        events.map((e) => [text(e, "uid"), e.getFirstPropertyValue("sequence"), text(e, "status")]),
        [
          [`${uidPrefix}${cancelled.bookingId}@computehive`, 0, "CONFIRMED"],
          [`${uidPrefix}${endedEarly.bookingId}@computehive`, 0, "CONFIRMED"],
        ],
        role,
      );
      assert.deepEqual(
        events.map((e) => [unix(e, "dtstart"), unix(e, "dtend")]),
        [
          [cancelled.start, cancelled.end],
          [endedEarly.start, endedEarly.end],
        ],
      );
      for (const e of events) {
        assert.deepEqual(
          e.getAllSubcomponents("valarm").map((a) => {
            const trigger = a.getFirstProperty("trigger");
            assert.ok(trigger);
            return [trigger.getParameter("related"), (trigger.getFirstValue() as ICAL.Duration).toSeconds()];
          }),
          [
            ["START", -15 * 60],
            ["END", -10 * 60],
          ],
        );
      }
    }
    assert.equal(
      text(mine[0] as ICAL.Component, "summary"),
      `CPU session: CPU-only VM (local), booking ${cancelled.bookingId}`,
    );
    assert.equal(
      text(theirs[0] as ICAL.Component, "summary"),
      `Lending: CPU-only VM (local) to ${alice.address.slice(0, 6)}…${alice.address.slice(-4)}, booking ${cancelled.bookingId}`,
    );
    assert.match(
      text(theirs[0] as ICAL.Component, "description"),
      new RegExp(`\nBorrower: ${alice.address}\n`),
    );
    // Any letter case; the host's agent and anyone else have no booking here: an empty but valid calendar.
    assert.equal(
      (await feed(alice.address.toLowerCase())).body.replace(/DTSTAMP:\w+/g, ""),
      (await feed(alice.address)).body.replace(/DTSTAMP:\w+/g, ""),
    );
    assert.equal((await feed(dev(AGENT).address)).events.length, 0);
    assert.equal((await feed(dev(7).address)).events.length, 0);
  });

  test("a bad address is a 400 with a message; other paths are 404", async () => {
    for (const bad of ["0x1234", "alice", "", `${alice.address}00`]) {
      const res = await fetch(`${server.url}/calendar/${bad}.ics`);
      assert.equal(res.status, 400, bad);
      assert.match(
        ((await res.json()) as { error: string }).error,
        /not an account address: ask for \/calendar\/0x<40 hex digits>\.ics/,
      );
    }
    const res = await fetch(`${server.url}/calendar/${alice.address}`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /GET \/calendar\/<0xaddress>\.ics/);
  });

  test("the borrower cancels: STATUS:CANCELLED, SEQUENCE 1, same UID and window, in both feeds", async () => {
    await send(chain, alice.index, "cancel", [cancelled.bookingId]);
    await waitFor("the feed to show the cancellation", async () => {
      const e = await eventOf(alice.address, cancelled.bookingId);
      return e !== undefined && text(e, "status") === "CANCELLED";
    });
    for (const account of [alice.address, lender]) {
      const e = await eventOf(account, cancelled.bookingId);
      assert.ok(e, account);
      assert.equal(text(e, "status"), "CANCELLED");
      assert.equal(e.getFirstPropertyValue("sequence"), 1);
      assert.equal(unix(e, "dtstart"), cancelled.start);
      assert.equal(unix(e, "dtend"), cancelled.end);
      assert.match(text(e, "summary"), /^Cancelled: /);
      assert.equal(e.getAllSubcomponents("valarm").length, 0);
    }
    // Kept in the state file (saved once the tick's step ends): a restarted daemon serves the same without
    // reading the chain again.
    const saved = async () => {
      const st = JSON.parse(await readFile(join(stateDir, "daemon-state.json"), "utf8")) as DaemonState;
      return st.bookings[cancelled.bookingId.toString()];
    };
    await waitFor("the state file", async () => (await saved())?.phase === "done");
    assert.equal((await saved())?.onChainStatus, "Cancelled");
  });

  test("the borrower ends early: DTEND moves to endedAt, SEQUENCE 1; the endpoint never reaches the feed", async () => {
    await warpTo(chain, endedEarly.start);
    await waitFor(
      "activation",
      async () => (await bookingStatus(chain, endedEarly.bookingId)) === Status.Active,
    );
    const vm = await agent.client.status(endedEarly.bookingId.toString());
    assert.ok(vm.endpoint, "the VM's endpoint, to look for in the feed");
    // Well inside the window: ended at its very start, the event would have no DTEND (sdk calendar.ts).
    await warpTo(chain, endedEarly.start + 30);
    const ended = await send(chain, alice.index, "endSession", [endedEarly.bookingId]);
    const endedAt = Number(argsOf<{ endedAt: bigint }>(ended.logs, "SessionEndRequested").endedAt);
    assert.ok(endedAt > endedEarly.start && endedAt < endedEarly.end);
    await waitFor("the feed to show the early end", async () => {
      const e = await eventOf(alice.address, endedEarly.bookingId);
      return e !== undefined && Number(e.getFirstPropertyValue("sequence")) === 1;
    });
    for (const account of [alice.address, lender]) {
      const e = await eventOf(account, endedEarly.bookingId);
      assert.ok(e, account);
      assert.equal(text(e, "status"), "CONFIRMED");
      assert.equal(e.getFirstPropertyValue("sequence"), 1);
      assert.equal(unix(e, "dtstart"), endedEarly.start);
      assert.equal(unix(e, "dtend"), endedAt);
      assert.match(text(e, "description"), /The borrower ended the session early, at /);
    }

    // The booking's secrets: the encrypted endpoint, the session key, the SSH key, the VM's address and port.
    const encrypted = argsOf<{ encryptedEndpoint: Hex }>(
      await eventsOf(chain, "EndpointPublished", endedEarly.bookingId),
      "EndpointPublished",
    ).encryptedEndpoint;
    const rec = daemon.state.bookings[endedEarly.bookingId.toString()] as BookingRecord;
    const needles = [
      encrypted.slice(2, 42),
      rec.sessionPubKey.slice(2, 42),
      rec.sshPubKey.slice(2, 42),
      alice.sshPublicKey.split(" ")[1]?.slice(0, 40) as string,
      `${vm.endpoint.host}:${vm.endpoint.port}`,
      `port ${vm.endpoint.port}`,
      vm.endpoint.certificate.split(" ")[1]?.slice(0, 40) as string,
    ];
    for (const account of [alice.address, lender]) {
      const unfolded = (await feed(account)).body.replace(/\r\n /g, "");
      for (const needle of needles)
        assert.ok(!unfolded.includes(needle), `${needle} is in ${account}'s feed`);
    }

    // Reported next: nothing a calendar shows changes, so neither does the event.
    await waitFor(
      "the report",
      async () => (await bookingStatus(chain, endedEarly.bookingId)) === Status.Reported,
    );
    await waitFor(
      "the daemon to read it",
      () => daemon.state.bookings[endedEarly.bookingId.toString()]?.onChainStatus === "Reported",
    );
    const e = await eventOf(alice.address, endedEarly.bookingId);
    assert.equal(e?.getFirstPropertyValue("sequence"), 1);
    assert.equal(e && unix(e, "dtend"), endedAt);
  });
});

describe("calendar feed: from the daemon's records", () => {
  const market: Hex = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  const borrowerAddress: Hex = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
  const lenderAddress: Hex = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const record = (id: string, over: Partial<BookingRecord>): BookingRecord => ({
    id,
    listingId: "1",
    borrower: borrowerAddress,
    start: 1_800_000_000 + Number(id) * 3600,
    end: 1_800_000_000 + Number(id) * 3600 + 1800,
    sessionPubKey: `0x${"5e".repeat(32)}`,
    sshPubKey: "0x7373682d",
    bookedBlock: "1",
    bookedTx: `0x${"00".repeat(32)}`,
    phase: "booked",
    ...over,
  });
  const hardwareReads: bigint[] = [];
  const source = (bookings: BookingRecord[]): CalendarFeedSource => ({
    state: {
      version: 1,
      chainId: 31337,
      market,
      hostId: "1",
      agent: dev(AGENT).address,
      cursor: null,
      listings: ["1"],
      bookings: Object.fromEntries(bookings.map((b) => [b.id, b])),
      txs: {},
    },
    lender: lenderAddress,
    hardware: async (listingId) => {
      hardwareReads.push(listingId);
      return { gpuModel: "NVIDIA A100-SXM4-80GB", gpuCount: 1, region: "eu-west" } as Hardware;
    },
  });

  test("on-chain status first, else the phase's; reorged bookings left out; the early end from the chain", async () => {
    const recs = [
      record("1", { phase: "settling", onChainStatus: "Disputed", onChainEndedAt: 0 }),
      record("2", { phase: "active" }), // written before the daemon kept the status: Active by its phase
      record("3", { phase: "done", finalStatus: "Declined" }),
      record("4", { phase: "done", finalStatus: "gone" }),
      record("5", {
        phase: "done",
        onChainStatus: "Settled",
        onChainEndedAt: 1_800_000_000 + 5 * 3600 + 600,
      }),
      record("6", { phase: "reporting", endedEarlyAt: 1_800_000_000 + 6 * 3600 + 60 }),
      record("7", { borrower: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" }),
    ];
    const events = parseFeed(
      await calendarFeed(source(recs), borrowerAddress.toLowerCase(), { now: 1_799_000_000 }),
    );
    assert.deepEqual(
      events.map((e) => [
        text(e, "uid").split("-").at(-1),
        text(e, "status"),
        e.getFirstPropertyValue("sequence"),
        unix(e, "dtend") - unix(e, "dtstart"),
      ]),
      [
        ["1@computehive", "CONFIRMED", 0, 1800],
        ["2@computehive", "CONFIRMED", 0, 1800],
        ["3@computehive", "CANCELLED", 1, 1800],
        ["5@computehive", "CONFIRMED", 1, 600],
        ["6@computehive", "CONFIRMED", 1, 60],
      ],
    );
    assert.equal(
      text(events[0] as ICAL.Component, "summary"),
      "GPU session: 1× NVIDIA A100-SXM4-80GB (eu-west), booking 1",
    );
    // The lender sees every booking of the host, the other borrower's too.
    hardwareReads.length = 0;
    const lenders = parseFeed(await calendarFeed(source(recs), lenderAddress, { now: 1_799_000_000 }));
    assert.equal(lenders.length, 6);
    assert.equal(hardwareReads.length, 6);
    // Nobody else's bookings are even looked at.
    hardwareReads.length = 0;
    assert.equal(parseFeed(await calendarFeed(source(recs), dev(9).address)).length, 0);
    assert.equal(hardwareReads.length, 0);
  });
});
