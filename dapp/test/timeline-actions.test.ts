import { createHash } from "node:crypto";
import { rawCid } from "@computehive/sdk";
import { describe, expect, test } from "vitest";
import {
  bookingActions,
  DISPUTE_DOCUMENT_MAX_BYTES,
  disputeBlob,
  disputeDocument,
  disputeFile,
  disputeReasonProblem,
  sessionEnd,
} from "../lib/booking-actions.ts";
import { bookingTimeline, chainOrder } from "../lib/timeline.ts";
import type { SgEvent } from "../lib/types.ts";

let n = 0;
function ev(kind: string, block: number, over: Partial<SgEvent> = {}): SgEvent {
  n++;
  return {
    id: `0x${n}`,
    kind,
    actor: "0xactor",
    account: null,
    asset: "0x0000000000000000000000000000000000000000",
    amount: null,
    refund: null,
    lenderAmount: null,
    platformFee: null,
    slash: null,
    bond: null,
    seconds: null,
    cid: null,
    flag: null,
    code: null,
    txHash: `0xtx${block}`,
    blockNumber: String(block),
    timestamp: String(1000 + block),
    logIndex: "0",
    booking: { id: "1" },
    host: { id: "1" },
    listing: { id: "1" },
    ...over,
  };
}
const fmt = (raw: bigint) => `${raw} wei`;

describe("bookingTimeline", () => {
  test("the happy path: every state with the transaction that reached it", () => {
    const events = [
      ev("BookingSettled", 9, { seconds: "3600", lenderAmount: "975", platformFee: "25", refund: "0" }),
      ev("Booked", 2, { amount: "1000", seconds: "3600" }),
      ev("EndpointPublished", 4, { flag: false }),
      ev("EndpointPublished", 5, { flag: true }),
      ev("UsageReported", 7, { seconds: "3600", cid: "bafkreireport" }),
    ];
    const t = bookingTimeline("Settled", events, fmt);
    expect(t.states.map((s) => [s.status, s.reached, s.txHash])).toEqual([
      ["Booked", true, "0xtx2"],
      ["Active", true, "0xtx4"],
      ["Reported", true, "0xtx7"],
      ["Settled", true, "0xtx9"],
    ]);
    expect(t.states.at(-1)?.current).toBe(true);
    expect(t.entries.map((e) => e.kind)).toEqual([
      "Booked",
      "EndpointPublished",
      "EndpointPublished",
      "UsageReported",
      "BookingSettled",
    ]);
    expect(t.entries[0]?.text).toBe("Booked for 1 h; 1000 wei escrowed");
    expect(t.entries[2]?.text).toMatch(/re-published/);
    expect(t.entries[3]?.text).toBe("Host reported 1 h used (report bafkreireport)");
    expect(t.entries[4]?.text).toBe(
      "Settled: 1 h used; 975 wei to the host, 25 wei platform fee, 0 wei refunded",
    );
  });

  test("an open booking shows the states still ahead as not reached", () => {
    const t = bookingTimeline("Booked", [ev("Booked", 2, { amount: "1000", seconds: "900" })], fmt);
    expect(t.states.map((s) => [s.status, s.reached, s.current])).toEqual([
      ["Booked", true, true],
      ["Active", false, false],
      ["Reported", false, false],
      ["Settled", false, false],
    ]);
  });

  test("a dispute sits between the report and the settlement; an unreported dispute skips Reported", () => {
    const withReport = bookingTimeline(
      "Disputed",
      [
        ev("Booked", 1),
        ev("EndpointPublished", 2),
        ev("UsageReported", 3),
        ev("BookingDisputed", 4, { seconds: "3600", cid: "bafkreireason" }),
      ],
      fmt,
    );
    expect(withReport.states.map((s) => s.status)).toEqual([
      "Booked",
      "Active",
      "Reported",
      "Disputed",
      "Settled",
    ]);
    expect(withReport.entries[3]?.text).toBe(
      "Disputed by the borrower; the host claims 1 h (reason bafkreireason)",
    );
    const unreported = bookingTimeline(
      "Disputed",
      [ev("Booked", 1), ev("EndpointPublished", 2), ev("BookingDisputed", 4)],
      fmt,
    );
    expect(unreported.states.map((s) => s.status)).toEqual(["Booked", "Active", "Disputed", "Settled"]);
  });

  test("terminal alternatives: cancelled, declined (with the reason in words), no-show", () => {
    const cancelled = bookingTimeline(
      "Cancelled",
      [ev("Booked", 1), ev("BookingCancelled", 2, { refund: "800", lenderAmount: "195", platformFee: "5" })],
      fmt,
    );
    expect(cancelled.states.map((s) => s.status)).toEqual(["Booked", "Cancelled"]);
    expect(cancelled.entries[1]?.text).toBe(
      "Cancelled late: 800 wei refunded, 195 wei to the host, 5 wei platform fee",
    );
    const declined = bookingTimeline(
      "Declined",
      [ev("Booked", 1), ev("BookingDeclined", 2, { refund: "1000", code: 4 })],
      fmt,
    );
    expect(declined.entries[1]?.text).toBe(
      "Declined by the host (the RSA key is shorter than 3072 bits): 1000 wei refunded",
    );
    const noShow = bookingTimeline(
      "NoShow",
      [ev("Booked", 1), ev("NoShowClaimed", 3, { refund: "1000", slash: "10" })],
      fmt,
    );
    expect(noShow.states.map((s) => s.status)).toEqual(["Booked", "NoShow"]);
    expect(noShow.states[1]?.txHash).toBe("0xtx3");
    const cancelledWhileActive = bookingTimeline(
      "Cancelled",
      [ev("Booked", 1), ev("EndpointPublished", 2), ev("BookingCancelled", 3, { refund: "1000" })],
      fmt,
    );
    expect(cancelledWhileActive.states.map((s) => s.status)).toEqual(["Booked", "Active", "Cancelled"]);
    expect(cancelledWhileActive.entries[2]?.text).toBe("Cancelled: 1000 wei refunded in full");
  });

  test("chain order is block, then log index", () => {
    const a = ev("Credited", 5, { logIndex: "2" });
    const b = ev("BookingSettled", 5, { logIndex: "1" });
    const c = ev("Booked", 4, { logIndex: "9" });
    expect(chainOrder([a, b, c]).map((e) => e.kind)).toEqual(["Booked", "BookingSettled", "Credited"]);
  });
});

describe("bookingActions (the market's rules)", () => {
  const p = {
    activationGrace: 600,
    reportGrace: 3600,
    disputeWindow: 86400,
    arbiterDeadline: 604800,
    cancelCutoff: 86400,
    cancelFeeBps: 2000,
  };
  const b = { status: "Booked" as const, start: 200_000, end: 203_600, endedAt: 0, stamp: 0 };

  test("cancel before the start, free until the cutoff", () => {
    expect(bookingActions(b, p, 100_000)).toMatchObject({
      cancel: true,
      cancelLate: false,
      endSession: false,
      dispute: false,
    });
    expect(bookingActions(b, p, 150_000)).toMatchObject({ cancel: true, cancelLate: true });
    expect(bookingActions(b, p, 200_000).cancel).toBe(false);
  });

  test("no-show is claimable once the activation grace has passed", () => {
    expect(bookingActions(b, p, 200_599).claimNoShow).toBe(false);
    expect(bookingActions(b, p, 200_600).claimNoShow).toBe(true);
  });

  test("active: end early inside the window; dispute after the session end, unreported", () => {
    const a = { ...b, status: "Active" as const };
    expect(bookingActions(a, p, 199_000)).toMatchObject({ cancel: true, endSession: false });
    expect(bookingActions(a, p, 201_000)).toMatchObject({ cancel: false, endSession: true, dispute: false });
    expect(bookingActions(a, p, 203_600)).toMatchObject({
      endSession: false,
      dispute: true,
      disputeUntil: 203_600 + 3600 + 86400,
    });
    expect(bookingActions({ ...a, endedAt: 202_000 }, p, 202_500)).toMatchObject({
      endSession: false,
      dispute: true,
    });
    expect(sessionEnd({ endedAt: 202_000, end: 203_600 })).toBe(202_000);
    expect(bookingActions(a, p, 203_600 + 3600 + 86400)).toMatchObject({ dispute: false, settle: true });
  });

  test("reported: dispute within the window, then settle", () => {
    const r = { ...b, status: "Reported" as const, stamp: 204_000 };
    expect(bookingActions(r, p, 204_000 + 86399)).toMatchObject({ dispute: true, settle: false });
    expect(bookingActions(r, p, 204_000 + 86400)).toMatchObject({ dispute: false, settle: true });
  });

  test("disputed: settle by the fallback after the arbiter deadline; terminal: nothing", () => {
    const d = { ...b, status: "Disputed" as const, stamp: 210_000 };
    expect(bookingActions(d, p, 210_000 + 604799).settle).toBe(false);
    expect(bookingActions(d, p, 210_000 + 604800).settle).toBe(true);
    const done = bookingActions({ ...b, status: "Settled" as const }, p, 999_999);
    expect(Object.values(done).filter((v) => v === true)).toEqual([]);
  });

  test("the dispute document is stable JSON naming the booking and the borrower", () => {
    const doc = disputeDocument("3", "  The GPU was missing.  ", "0xabc", 1_800_000_000);
    expect(JSON.parse(doc)).toEqual({
      schema: "computehive/dispute-reason@1",
      bookingId: "3",
      borrower: "0xabc",
      writtenAt: "2027-01-15T08:00:00.000Z",
      reason: "The GPU was missing.",
    });
  });
});

/** CIDv1 raw sha2-256 base32, written again from the spec with node:crypto (not the sdk's rawCid). */
function independentRawCid(bytes: Uint8Array): string {
  const digest = createHash("sha256").update(bytes).digest();
  const cid = Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest]);
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = "";
  for (const byte of cid) bits += byte.toString(2).padStart(8, "0");
  let out = "b";
  for (let i = 0; i < bits.length; i += 5)
    out += alphabet[Number.parseInt(bits.slice(i, i + 5).padEnd(5, "0"), 2)];
  return out;
}

describe("the dispute's reason file", () => {
  const borrower = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
  const at = 1_800_000_000;

  test("named <cid>.json, with the ipfs add command, and the CID is the downloaded bytes' own", async () => {
    const f = disputeFile("3", "  The GPU was missing: nvidia-smi listed no device.  ", borrower, at);
    expect(f.cid).toMatch(/^bafkrei[a-z2-7]{52}$/);
    expect(f.name).toBe(`${f.cid}.json`);
    expect(f.type).toBe("application/json");
    expect(f.command).toBe(`ipfs add --cid-version 1 --raw-leaves ${f.cid}.json`);
    expect(f.text).toBe(
      disputeDocument("3", "The GPU was missing: nvidia-smi listed no device.", borrower, at),
    );
    // The bytes the browser saves (the Blob offered for download), hashed: the CID that goes on-chain.
    const blob = disputeBlob(f);
    expect(blob.type).toBe("application/json");
    const saved = new Uint8Array(await blob.arrayBuffer());
    expect(new TextDecoder().decode(saved)).toBe(f.text);
    expect(rawCid(saved)).toBe(f.cid);
    expect(independentRawCid(saved)).toBe(f.cid);
  });

  test("non-ASCII reasons are hashed as the UTF-8 the file holds", async () => {
    const f = disputeFile("3", "La GPU n’était pas là — ノーGPU 🙁", borrower, at);
    const saved = new Uint8Array(await disputeBlob(f).arrayBuffer());
    expect(saved).toEqual(new TextEncoder().encode(f.text));
    expect(independentRawCid(saved)).toBe(f.cid);
    expect(JSON.parse(new TextDecoder().decode(saved)).reason).toBe("La GPU n’était pas là — ノーGPU 🙁");
  });

  test("fixed once: the same reason and time give the same CID; another time, another CID", () => {
    const a = disputeFile("3", "The GPU was missing.", borrower, at);
    expect(disputeFile("3", "The GPU was missing.", borrower, at).cid).toBe(a.cid);
    expect(disputeFile("3", "The GPU was missing.", borrower, at + 1).cid).not.toBe(a.cid);
    expect(disputeFile("4", "The GPU was missing.", borrower, at).cid).not.toBe(a.cid);
  });

  test("too short a reason, or a document over one IPFS block, is refused in words", () => {
    expect(disputeReasonProblem("  broken  ")).toMatch(/at least a sentence \(10 characters or more\)/);
    expect(disputeReasonProblem("It never started.")).toBeNull();
    expect(() => disputeFile("3", "short", borrower, at)).toThrow(/at least a sentence/);
    // One chunk of `ipfs add` (256 KiB) is the most that keeps the CID equal to rawCid of the bytes.
    const overhead = disputeDocument("3", "", borrower, at).length;
    const fits = "x".repeat(DISPUTE_DOCUMENT_MAX_BYTES - overhead);
    expect(disputeFile("3", fits, borrower, at).bytes.length).toBe(DISPUTE_DOCUMENT_MAX_BYTES);
    expect(() => disputeFile("3", `${fits}x`, borrower, at)).toThrow(/too long.*262145 bytes, over 262144/);
  });
});
