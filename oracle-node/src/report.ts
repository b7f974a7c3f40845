/**
 * The session report the agent pins and reports on-chain (`report(bookingId, usedSeconds, cid)`): what the
 * daemon saw of the session and what the host agent did at teardown. Its CID (CIDv1, raw, sha2-256 of these
 * exact bytes) goes on-chain, so anyone holding the document can check it against the chain.
 *
 * Built once per booking and kept with its bytes in the daemon's state, so a crash between pinning and the
 * report transaction re-reports the same CID.
 */
import type { TeardownFacts } from "@computehive/host-agent";
import type { Hex } from "viem";
import type { BookingRecord } from "./state.ts";

export const REPORT_SCHEMA = "computehive/session-report@1";

export interface SessionReport {
  schema: typeof REPORT_SCHEMA;
  chainId: number;
  market: Hex;
  hostId: string;
  listingId: string;
  bookingId: string;
  agent: Hex;
  /** Unix seconds, as booked. */
  window: { start: number; end: number };
  /** Unix seconds: where the session ended (the window's end, or the borrower's early end). */
  sessionEnd: number;
  endedEarlyAt: number | null;
  /** Seconds of the window during which the borrower's VM was up, as reported on-chain. */
  usedSeconds: number;
  /** How `usedSeconds` was counted. */
  usage: { from: number; to: number; rule: string };
  lifecycle: {
    bookedBlock: string;
    bookedTx: Hex;
    /** Unix ms (the lender machine's clock). */
    provisionRequestedAt: number | null;
    domainStartedAt: number | null;
    activationTx: Hex | null;
    /** Unix seconds, chain time of the activation's block. */
    activatedAt: number | null;
    /** Unix seconds (chain time) the daemon found the VM gone before the session's end, if it did. */
    vmLostAt: number | null;
  };
  vm: { accel: string | null; gpus: string[] };
  /** What the host agent did at teardown (domain gone, overlay removed, key discarded …), or null if no VM. */
  teardown: TeardownFacts | null;
  gpuTelemetry: {
    samples: { at: number; gpu: string; utilizationPct: number; memoryUsedMiB: number }[];
    note: string;
  };
}

/** The seconds used: from the later of the start and the activation to the earlier of the end and the VM's loss. */
export function usedSeconds(
  rec: BookingRecord,
  sessionEnd: number,
): { used: number; from: number; to: number } {
  const from = Math.max(rec.start, rec.activatedAt ?? rec.start);
  const to = Math.min(sessionEnd, rec.vmLostAt ?? sessionEnd);
  return { used: Math.max(0, Math.min(to - from, sessionEnd - rec.start)), from, to };
}

export function buildReport(
  rec: BookingRecord,
  ctx: { chainId: number; market: Hex; hostId: bigint; agent: Hex; sessionEnd: number; gpuCount: number },
): { report: SessionReport; bytes: Uint8Array } {
  const u = usedSeconds(rec, ctx.sessionEnd);
  const report: SessionReport = {
    schema: REPORT_SCHEMA,
    chainId: ctx.chainId,
    market: ctx.market,
    hostId: ctx.hostId.toString(),
    listingId: rec.listingId,
    bookingId: rec.id,
    agent: ctx.agent,
    window: { start: rec.start, end: rec.end },
    sessionEnd: ctx.sessionEnd,
    endedEarlyAt: rec.endedEarlyAt ?? null,
    usedSeconds: u.used,
    usage: {
      from: u.from,
      to: u.to,
      rule: "from max(start, activation block time) to min(session end, time the VM was found gone)",
    },
    lifecycle: {
      bookedBlock: rec.bookedBlock,
      bookedTx: rec.bookedTx,
      provisionRequestedAt: rec.provisionRequestedAt ?? null,
      domainStartedAt: rec.domainStartedAt ?? null,
      activationTx: rec.activationTx ?? null,
      activatedAt: rec.activatedAt ?? null,
      vmLostAt: rec.vmLostAt ?? null,
    },
    vm: { accel: rec.accel ?? null, gpus: rec.gpus ?? [] },
    teardown: rec.teardown ?? null,
    gpuTelemetry: {
      samples: [],
      note:
        ctx.gpuCount === 0
          ? "no passthrough GPU (development host): no GPU telemetry"
          : "GPUs passed through to the guest are invisible to the host's nvidia-smi; no host-side samples",
    },
  };
  return { report, bytes: new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`) };
}
