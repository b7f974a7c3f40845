/**
 * The daemon's local memory: what it learnt from the chain (cursor, its listings, the bookings of its host),
 * the transactions it signed (so a restart rebroadcasts the same signed bytes instead of signing a second
 * transaction), and the session reports it built (so a restart pins and reports the same CID).
 *
 * None of it is authoritative: every action is decided from the booking's state read from the chain at that
 * moment. The file only makes actions idempotent across crashes. One JSON document, replaced atomically
 * (write a temporary file, fsync, rename, fsync the directory): a crash leaves the old or the new version,
 * never a torn one. A JSON file and not SQLite: a few hundred records at most, read once at start.
 */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TeardownFacts } from "@computehive/host-agent";
import type { Hex } from "viem";
import { OracleError } from "./chain.ts";

export interface TxRecord {
  /** The action, e.g. `activate:42`: one transaction per key, ever (replacements share its nonce). */
  key: string;
  nonce: number;
  /** What every version carries: calldata, gas limit, value (wei). */
  data: Hex;
  gas: string;
  value: string;
  /** Every signed version (fee bumps), oldest first; any of them may be the one mined. */
  hashes: Hex[];
  raws: Hex[];
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  createdAt: number;
  status: "pending" | "mined" | "reverted" | "dropped";
  minedHash?: Hex;
  blockNumber?: string;
}

export type Phase =
  | "booked" // seen; nothing done yet
  | "declining" // the key (or the host) is refused; decline sent or to send
  | "provisioning" // asked the agent for the VM
  | "activating" // endpoint sealed; activate sent or to send
  | "active" // on-chain Active: the session runs
  | "reporting" // the session is over; report pinned and sent or to send
  | "settling" // reported (or disputed): waiting for settlement
  | "done"; // terminal on-chain, VM gone

export interface BookingRecord {
  id: string;
  listingId: string;
  borrower: Hex;
  /** Unix seconds, the booked window. */
  start: number;
  end: number;
  sessionPubKey: Hex;
  sshPubKey: Hex;
  bookedBlock: string;
  bookedTx: Hex;
  phase: Phase;
  declineReason?: number;
  /** PCI addresses given to this booking's VM. */
  gpus?: string[];
  provisionRequestedAt?: number;
  /** From the agent (unix ms, wall clock). */
  domainStartedAt?: number;
  sshReadyAt?: number;
  accel?: string;
  activationTx?: Hex;
  /** Chain time (unix s) of the activation's block. */
  activatedAt?: number;
  /** Chain time (unix s) at which the daemon saw the VM gone before the session's end. */
  vmLostAt?: number;
  sessionEnd?: number;
  endedEarlyAt?: number;
  teardown?: TeardownFacts | null;
  /** The session report as pinned (the exact bytes, base64) and its CID. */
  report?: { cid: string; usedSeconds: number; bytes: string };
  reportTx?: Hex;
  /**
   * The booking's status and `endedAt` (0: not ended early) as last read from the chain, on every tick while it
   * is open: what the calendar feed (calendar-feed.ts) serves, so serving costs no chain read.
   */
  onChainStatus?: string;
  onChainEndedAt?: number;
  finalStatus?: string;
  note?: string;
}

export interface DaemonState {
  version: 1;
  chainId: number;
  market: Hex;
  hostId: string;
  agent: Hex;
  /** Last block whose logs were read (confirmed), with its hash for reorg detection. */
  cursor: { block: string; hash: Hex } | null;
  listings: string[];
  bookings: Record<string, BookingRecord>;
  txs: Record<string, TxRecord>;
}

export class StateStore {
  private constructor(
    readonly path: string,
    public state: DaemonState,
  ) {}

  static async open(
    stateDir: string,
    identity: { chainId: number; market: Hex; hostId: bigint; agent: Hex },
  ): Promise<StateStore> {
    const path = join(stateDir, "daemon-state.json");
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    let state: DaemonState;
    try {
      state = JSON.parse(await readFile(path, "utf8")) as DaemonState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new OracleError("usage", `${path}: unreadable daemon state (${(err as Error).message})`);
      }
      state = {
        version: 1,
        chainId: identity.chainId,
        market: identity.market,
        hostId: identity.hostId.toString(),
        agent: identity.agent,
        cursor: null,
        listings: [],
        bookings: {},
        txs: {},
      };
    }
    const same =
      state.chainId === identity.chainId &&
      state.market.toLowerCase() === identity.market.toLowerCase() &&
      state.hostId === identity.hostId.toString() &&
      state.agent.toLowerCase() === identity.agent.toLowerCase();
    if (!same) {
      throw new OracleError(
        "usage",
        `${path} belongs to host ${state.hostId} of market ${state.market} on chain ${state.chainId} with agent ${state.agent}; ` +
          "use another --state-dir for another host, market or key",
      );
    }
    const store = new StateStore(path, state);
    await store.save();
    return store;
  }

  #saved = "";

  /**
   * Atomic replace: tmp + fsync + rename + fsync(dir). The daemon calls this after every step of every tick;
   * a state that has not changed since the last save is not written again.
   */
  async save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 1)}\n`;
    if (text === this.#saved) return;
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await rename(tmp, this.path);
    const dfd = openSync(dirname(this.path), "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    this.#saved = text;
  }
}
