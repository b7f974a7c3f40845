/**
 * The oracle daemon: one lender host's side of every booking, driven from the chain.
 *
 * Each tick it reads the new *confirmed* logs (its listings, their bookings), then, for every booking not yet
 * finished, reads the booking's state from the chain and does what that state asks (DESIGN.md):
 *
 * | on-chain | the daemon |
 * | --- | --- |
 * | Booked, bad SSH key, before start | `decline(id, reason)` with the key's code (2..5) |
 * | Booked, within the lead time | asks the host agent for the VM (`?wait=started`), seals the endpoint to the borrower's session key, `activate` |
 * | Booked, agent refuses (6, 7), before start | `decline(id, reason)` |
 * | Active, borrower ended early | tears the VM down at once |
 * | Active, session over | tears down, pins the session report, `report(id, usedSeconds, cid)` |
 * | Cancelled / Declined / NoShow / Reported / Settled | makes sure no VM is left |
 *
 * and it runs the market's settlement loop (`checkUpkeep` → `performUpkeep`) for every ripe booking, its own
 * or not. Nothing is decided from memory alone: the local state only makes each action idempotent across
 * crashes (see state.ts and txs.ts), so a restart at any point re-derives what to do from the chain and the
 * agent, and finishes it once.
 */
import { AgentApiError, type AgentClient, ssh } from "@computehive/host-agent";
import { sealEndpoint } from "@computehive/sdk";
import type { Logger } from "pino";
import { type Hex, keccak256, type LocalAccount, parseEventLogs } from "viem";
import { decodeRevert, explainError, type Market, OracleError, shortError, statusName } from "./chain.ts";
import type { Pinner } from "./ipfs.ts";
import type { Hardware } from "./lender.ts";
import { buildReport } from "./report.ts";
import { type BookingRecord, type Phase, StateStore } from "./state.ts";
import { TxManager, TxRevertedError } from "./txs.ts";

export interface DaemonOptions {
  market: Market;
  /** The host's agent key (the oracle key). */
  account: LocalAccount;
  hostId: bigint;
  agent: AgentClient;
  pinner: Pinner;
  stateDir: string;
  logger: Logger;
  /** Blocks on top of an event's block before it is acted on. Default: 0 on chain 31337, else 5. */
  confirmations?: number;
  /** How often the chain is polled. Default 1000 ms. */
  pollMs?: number;
  /** How long before a booking's start its VM is provisioned and its endpoint published. Default 300 s. */
  provisionLeadS?: number;
  /** How often the settlement loop runs. Default 10 s. */
  upkeepEveryMs?: number;
  /** Fee bumping: sign again with higher fees after this long unmined. Default 30 s. */
  bumpAfterMs?: number;
  /** Crash injection for the restart tests (`ORACLE_CRASH_AT`): SIGKILL at this checkpoint. */
  crashAt?: string;
}

export interface DaemonStatus {
  agent: Hex;
  hostId: string;
  chainId: number;
  market: Hex;
  startedAt: string;
  lastBlock: string | null;
  confirmedBlock: string | null;
  ticks: number;
  listings: string[];
  bookingsInFlight: { id: string; phase: Phase; start: number; end: number; onChain?: string }[];
  pendingTxs: { key: string; nonce: number; hashes: Hex[] }[];
  errors: { at: string; bookingId?: string; message: string }[];
}

/** A listing's hardware as the market returns it (`getHardware`). */
type ListingHardware = Hardware;

type OnChainBooking = {
  borrower: Hex;
  start: number;
  end: number;
  status: number;
  listingId: number;
  endedAt: number;
};

const LOG_CHUNK = 2000n;
const REORG_BACKOFF = 64n;
const TERMINAL = new Set(["Settled", "Cancelled", "Declined", "NoShow"]);

export class Daemon {
  readonly #o: DaemonOptions;
  readonly #store: StateStore;
  readonly #txs: TxManager;
  readonly #log: Logger;
  readonly #confirmations: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #lastUpkeep = 0;
  #ticks = 0;
  #lastBlock: bigint | null = null;
  #confirmed: bigint | null = null;
  #errors: DaemonStatus["errors"] = [];
  #onChain = new Map<string, string>();
  #hardware = new Map<string, ListingHardware>();
  #params: { activationGrace: number; reportGrace: number } | undefined;
  /** The host's lender (who is paid): set at registration (Market.registerHost) and never changed, so read once. */
  readonly lender: Hex;
  readonly #startedAt = new Date();

  private constructor(o: DaemonOptions, store: StateStore, lender: Hex) {
    this.#o = o;
    this.lender = lender;
    this.#store = store;
    this.#log = o.logger;
    this.#confirmations = o.confirmations ?? (o.market.deployment.chainId === 31337 ? 0 : 5);
    this.#txs = new TxManager({
      market: o.market,
      account: o.account,
      store,
      logger: o.logger.child({ part: "txs" }),
      bumpAfterMs: o.bumpAfterMs,
      checkpoint: (p) => this.checkpoint(p),
    });
  }

  /**
   * Checks the key is the host's agent and the agent API answers, resumes what an earlier run left, reconciles
   * the agent's VMs with the chain, and starts the loop.
   */
  static async start(o: DaemonOptions): Promise<Daemon> {
    const { market, account, hostId } = o;
    const host = await market.client
      .readContract({ address: market.address, abi: market.abi, functionName: "getHost", args: [hostId] })
      .catch((err) => {
        throw new OracleError("not-found", `host ${hostId}: ${explainError(err)}`);
      });
    if (host.agent.toLowerCase() !== account.address.toLowerCase()) {
      throw new OracleError(
        "not-agent",
        `this key (${account.address}) is not the agent of host ${hostId} (its agent is ${host.agent}); ` +
          "the lender sets it with registerHost or setAgent",
      );
    }
    try {
      await o.agent.health();
    } catch (err) {
      throw new OracleError("agent-not-running", `the host agent does not answer: ${shortError(err)}`);
    }
    const store = await StateStore.open(o.stateDir, {
      chainId: market.deployment.chainId,
      market: market.address,
      hostId,
      agent: account.address,
    });
    const d = new Daemon(o, store, host.lender);
    const params = await market.client.readContract({
      address: market.address,
      abi: market.abi,
      functionName: "params",
    });
    d.#params = { activationGrace: params.activationGrace, reportGrace: params.reportGrace };
    await d.#txs.resumePending();
    await d.tick();
    await d.#reconcileAgent();
    d.#schedule();
    d.#log.info(
      { hostId: hostId.toString(), agent: account.address, confirmations: d.#confirmations },
      "oracle daemon running",
    );
    return d;
  }

  /** Stops the loop after the tick in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    await this.#store.save();
  }

  status(): DaemonStatus {
    const s = this.#store.state;
    return {
      agent: s.agent,
      hostId: s.hostId,
      chainId: s.chainId,
      market: s.market,
      startedAt: this.#startedAt.toISOString(),
      lastBlock: this.#lastBlock?.toString() ?? null,
      confirmedBlock: this.#confirmed?.toString() ?? null,
      ticks: this.#ticks,
      listings: s.listings,
      bookingsInFlight: Object.values(s.bookings)
        .filter((b) => b.phase !== "done")
        .map((b) => ({
          id: b.id,
          phase: b.phase,
          start: b.start,
          end: b.end,
          onChain: this.#onChain.get(b.id),
        })),
      pendingTxs: this.#txs.pending().map((t) => ({ key: t.key, nonce: t.nonce, hashes: t.hashes })),
      errors: this.#errors.slice(-50),
    };
  }

  get state() {
    return this.#store.state;
  }

  checkpoint(point: string): void {
    if (this.#o.crashAt && this.#o.crashAt === point) {
      this.#log.warn({ point }, "crash injected (ORACLE_CRASH_AT)");
      process.kill(process.pid, "SIGKILL");
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .catch((err) => this.#error(undefined, err))
        .finally(() => this.#schedule());
    }, this.#o.pollMs ?? 1000);
  }

  #error(bookingId: string | undefined, err: unknown): void {
    const message = explainError(err);
    this.#errors.push({ at: new Date().toISOString(), bookingId, message });
    if (this.#errors.length > 200) this.#errors.splice(0, this.#errors.length - 200);
    this.#log.error({ bookingId, err: message }, "step failed; retried next tick");
  }

  /** One pass: new confirmed logs, every open booking, the settlement loop. */
  async tick(): Promise<void> {
    const { market } = this.#o;
    const head = await market.client.getBlock({ blockTag: "latest" });
    this.#lastBlock = head.number;
    // The chain's clock decides every deadline, so the daemon reads time from it: the pending block's timestamp
    // (the time the next transaction will see; on an on-demand chain like anvil the latest block can be old),
    // or the latest block's where the node has no pending block.
    const pending = await market.client.getBlock({ blockTag: "pending" }).catch(() => undefined);
    const now = Math.max(Number(head.timestamp), Number(pending?.timestamp ?? 0n));
    await this.#scan(head.number);
    for (const rec of Object.values(this.#store.state.bookings)) {
      if (rec.phase === "done") continue;
      try {
        await this.#step(rec, now);
      } catch (err) {
        this.#error(rec.id, err);
      }
      await this.#store.save();
    }
    if (Date.now() - this.#lastUpkeep >= (this.#o.upkeepEveryMs ?? 10_000)) {
      this.#lastUpkeep = Date.now();
      try {
        await this.#upkeep();
      } catch (err) {
        this.#error(undefined, err);
      }
    }
    this.#ticks++;
    await this.#store.save();
  }

  /* FOLLOWING THE CHAIN */

  async #scan(headNumber: bigint): Promise<void> {
    const { market } = this.#o;
    const st = this.#store.state;
    const confirmed = headNumber - BigInt(this.#confirmations);
    this.#confirmed = confirmed;
    const start = BigInt(market.deployment.startBlock);
    let from = st.cursor ? BigInt(st.cursor.block) + 1n : start;
    if (st.cursor) {
      // Reorg: the block we stopped at is no longer on the chain. Read again from well before it; bookings
      // learnt from the dropped blocks are checked against the chain before anything is done for them.
      const at = await market.client
        .getBlock({ blockNumber: BigInt(st.cursor.block) })
        .catch(() => undefined);
      if (!at || at.hash !== st.cursor.hash) {
        from =
          BigInt(st.cursor.block) > start + REORG_BACKOFF ? BigInt(st.cursor.block) - REORG_BACKOFF : start;
        this.#log.warn(
          { cursor: st.cursor, rescanFrom: from.toString() },
          "reorg below the cursor; rescanning",
        );
      }
    }
    if (confirmed < from) return;
    for (let lo = from; lo <= confirmed; lo += LOG_CHUNK) {
      const hi = lo + LOG_CHUNK - 1n < confirmed ? lo + LOG_CHUNK - 1n : confirmed;
      await this.#scanRange(lo, hi);
    }
    const block = await market.client.getBlock({ blockNumber: confirmed });
    st.cursor = { block: confirmed.toString(), hash: block.hash as Hex };
  }

  async #scanRange(fromBlock: bigint, toBlock: bigint): Promise<void> {
    const { market, hostId } = this.#o;
    const st = this.#store.state;
    const created = await market.client.getContractEvents({
      address: market.address,
      abi: market.abi,
      eventName: "ListingCreated",
      args: { hostId },
      fromBlock,
      toBlock,
    });
    for (const l of created) {
      const id = l.args.listingId?.toString();
      if (id && !st.listings.includes(id)) st.listings.push(id);
    }
    if (st.listings.length === 0) return;
    const booked = await market.client.getContractEvents({
      address: market.address,
      abi: market.abi,
      eventName: "Booked",
      args: { listingId: st.listings.map(BigInt) },
      fromBlock,
      toBlock,
    });
    for (const l of booked) {
      const a = l.args;
      const id = a.bookingId?.toString();
      if (!id || st.bookings[id]) continue;
      st.bookings[id] = {
        id,
        listingId: String(a.listingId),
        borrower: a.borrower as Hex,
        start: Number(a.start),
        end: Number(a.end),
        sessionPubKey: a.sessionPubKey as Hex,
        sshPubKey: a.sshPubKey as Hex,
        bookedBlock: l.blockNumber.toString(),
        bookedTx: l.transactionHash,
        phase: "booked",
      };
      this.#log.info(
        { bookingId: id, listingId: String(a.listingId), start: Number(a.start), end: Number(a.end) },
        "booking seen",
      );
    }
  }

  /* ONE BOOKING */

  async #step(rec: BookingRecord, now: number): Promise<void> {
    const b = await this.#booking(rec.id);
    const status = statusName(b.status);
    this.#onChain.set(rec.id, status);
    if (
      status === "None" ||
      b.borrower.toLowerCase() !== rec.borrower.toLowerCase() ||
      b.start !== rec.start ||
      String(b.listingId) !== rec.listingId
    ) {
      // A booking event from blocks a reorg dropped: nothing was promised, nothing is left to do.
      this.#log.warn({ bookingId: rec.id }, "booking no longer on the chain (reorg); forgotten");
      await this.#teardown(rec, "gone");
      rec.phase = "done";
      rec.finalStatus = "gone";
      return;
    }
    rec.onChainStatus = status;
    rec.onChainEndedAt = b.endedAt;
    if (TERMINAL.has(status)) {
      await this.#teardown(rec, status);
      rec.phase = "done";
      rec.finalStatus = status;
      this.#log.info({ bookingId: rec.id, status }, "booking finished");
      return;
    }
    const grace = this.#params?.activationGrace ?? 600;
    if (status === "Booked") return this.#booked(rec, now, Math.min(rec.start + grace, rec.end));
    if (status === "Active") {
      rec.phase = rec.phase === "reporting" ? "reporting" : "active";
      const sessionEnd = b.endedAt !== 0 ? Math.min(b.endedAt, b.end) : b.end;
      if (b.endedAt !== 0) rec.endedEarlyAt = b.endedAt;
      if (rec.activatedAt === undefined) await this.#recoverActivation(rec);
      rec.sessionEnd = sessionEnd;
      if (now < sessionEnd) return this.#watchVm(rec, now);
      return this.#report(rec, now, sessionEnd);
    }
    // Reported or Disputed: the VM must be gone; settlement comes from the loop below (or the arbiter).
    await this.#teardown(rec, status);
    rec.phase = "settling";
  }

  async #booked(rec: BookingRecord, now: number, activationDeadline: number): Promise<void> {
    if (rec.phase === "booked" || rec.phase === "declining") {
      const verdict = ssh.validateBorrowerKey(hexToBytes(rec.sshPubKey));
      if (!verdict.ok)
        return this.#decline(rec, now, verdict.reason, `borrower key refused: ${verdict.message}`);
    }
    if (rec.phase === "declining" && rec.declineReason) {
      return this.#decline(rec, now, rec.declineReason, "retrying the decline");
    }
    if (now >= activationDeadline) {
      rec.note = "activation deadline passed; the settlement loop turns it into a no-show";
      return;
    }
    if (now < rec.start - (this.#o.provisionLeadS ?? 300)) return;
    // Provision (idempotent at the agent: the same VM and endpoint however often asked).
    rec.phase = "provisioning";
    rec.provisionRequestedAt ??= Date.now();
    const hw = await this.hardware(BigInt(rec.listingId));
    let res: Awaited<ReturnType<AgentClient["provisionStarted"]>>;
    try {
      res = await this.#o.agent.provisionStarted({
        bookingId: rec.id,
        window: { start: rec.start, end: rec.end },
        borrowerSshKey: new TextDecoder().decode(hexToBytes(rec.sshPubKey)),
        hardware: {
          vcpus: hw.cpuCores,
          memoryMiB: hw.ramMiB,
          diskGiB: hw.diskGiB,
          gpus: await this.#gpusFor(rec, hw.gpuModel, hw.gpuCount),
        },
      });
    } catch (err) {
      if (err instanceof AgentApiError && err.body.declineReason) {
        return this.#decline(rec, now, err.body.declineReason, `host agent refused: ${err.body.message}`);
      }
      throw err;
    }
    rec.domainStartedAt = res.timing.domainStartedAt;
    rec.sshReadyAt = res.timing.sshReadyAt;
    rec.accel = res.accel;
    this.checkpoint("after-provision");
    rec.phase = "activating";
    const { market } = this.#o;
    const envelope = sealEndpoint(res.endpoint, {
      recipientPublicKey: rec.sessionPubKey,
      context: { chainId: market.deployment.chainId, market: market.address, bookingId: BigInt(rec.id) },
    });
    const receipt = await this.#send(rec, `activate:${rec.id}`, {
      functionName: "activate",
      args: [BigInt(rec.id), bytesToHex(envelope)],
    });
    if (!receipt) return;
    rec.activationTx = receipt.transactionHash;
    const block = await market.client.getBlock({ blockNumber: receipt.blockNumber });
    rec.activatedAt = Number(block.timestamp);
    rec.phase = "active";
    this.#log.info(
      {
        bookingId: rec.id,
        tx: receipt.transactionHash,
        envelopeBytes: envelope.length,
        agentMs: res.timing.domainStartedAt - res.timing.receivedAt,
      },
      "endpoint published (activate)",
    );
  }

  async #decline(rec: BookingRecord, now: number, reason: number, why: string): Promise<void> {
    rec.phase = "declining";
    rec.declineReason = reason;
    if (now >= rec.start) {
      rec.note = `cannot decline after the start (${why}); the settlement loop turns it into a no-show`;
      this.#log.warn({ bookingId: rec.id, reason }, rec.note);
      return;
    }
    this.#log.warn({ bookingId: rec.id, reason }, `declining: ${why}`);
    await this.#teardown(rec, "declined");
    const receipt = await this.#send(rec, `decline:${rec.id}`, {
      functionName: "decline",
      args: [BigInt(rec.id), reason],
    });
    if (receipt)
      this.#log.info({ bookingId: rec.id, reason, tx: receipt.transactionHash }, "booking declined");
  }

  /** While the session runs: notice a VM that is gone (its time no longer counts). */
  async #watchVm(rec: BookingRecord, now: number): Promise<void> {
    if (rec.vmLostAt) return;
    const st = await this.#o.agent.status(rec.id).catch((err) => {
      if (err instanceof AgentApiError && err.status === 404) return undefined;
      throw err;
    });
    if (!st || st.state === "torn-down" || st.state === "failed") {
      rec.vmLostAt = now;
      rec.teardown = st?.facts ?? null;
      this.#log.warn(
        { bookingId: rec.id, state: st?.state ?? "unknown" },
        "the VM is gone before the session's end",
      );
    }
  }

  async #report(rec: BookingRecord, now: number, sessionEnd: number): Promise<void> {
    rec.phase = "reporting";
    if (rec.teardown === undefined) await this.#teardown(rec, "session over");
    const deadline = rec.end + (this.#params?.reportGrace ?? 3600);
    if (now >= deadline) {
      rec.note = "report deadline passed: unreported use counts as full use";
      return;
    }
    if (!rec.report) {
      const hw = await this.hardware(BigInt(rec.listingId));
      const { market } = this.#o;
      const { report, bytes } = buildReport(rec, {
        chainId: market.deployment.chainId,
        market: market.address,
        hostId: this.#o.hostId,
        agent: this.#o.account.address,
        sessionEnd,
        gpuCount: hw.gpuCount,
      });
      rec.report = { cid: "", usedSeconds: report.usedSeconds, bytes: Buffer.from(bytes).toString("base64") };
    }
    const bytes = new Uint8Array(Buffer.from(rec.report.bytes, "base64"));
    // Pinning is idempotent: the same bytes give the same CID, on every retry and after a crash.
    rec.report.cid = await this.#o.pinner.pin(bytes);
    await this.#store.save();
    this.checkpoint("after-pin");
    const receipt = await this.#send(rec, `report:${rec.id}`, {
      functionName: "report",
      args: [BigInt(rec.id), rec.report.usedSeconds, rec.report.cid],
    });
    if (!receipt) return;
    rec.reportTx = receipt.transactionHash;
    rec.phase = "settling";
    this.#log.info(
      {
        bookingId: rec.id,
        usedSeconds: rec.report.usedSeconds,
        cid: rec.report.cid,
        tx: receipt.transactionHash,
      },
      "usage reported",
    );
  }

  /** Tears the booking's VM down (once); records what the agent did. No VM is fine. */
  async #teardown(rec: BookingRecord, why: string): Promise<void> {
    if (rec.teardown !== undefined) return;
    if (!rec.provisionRequestedAt) {
      // Never asked for a VM; after a crash between asking and recording, the agent may still have one.
      const st = await this.#o.agent.status(rec.id).catch(() => undefined);
      if (!st) {
        rec.teardown = null;
        return;
      }
    }
    try {
      const { facts } = await this.#o.agent.destroy(rec.id);
      rec.teardown = facts;
      this.#log.info(
        { bookingId: rec.id, why, facts: { reason: facts.reason, domainGone: facts.domainGone } },
        "VM torn down",
      );
    } catch (err) {
      if (err instanceof AgentApiError && err.status === 404) {
        rec.teardown = null;
        return;
      }
      throw err;
    }
  }

  /** Sends through the transaction manager; a revert that says the step is already done is not an error. */
  async #send(
    rec: BookingRecord,
    key: string,
    call: Parameters<TxManager["send"]>[1],
  ): Promise<Awaited<ReturnType<TxManager["send"]>> | undefined> {
    try {
      return await this.#txs.send(key, call);
    } catch (err) {
      const r = decodeRevert(err);
      if (r?.name === "WrongStatus" || err instanceof TxRevertedError) {
        // The booking moved on meanwhile (another path, or our own earlier transaction): re-read next tick.
        this.#log.info(
          { bookingId: rec.id, key, why: r ? explainError(err) : shortError(err) },
          "state moved on",
        );
        return undefined;
      }
      throw err;
    }
  }

  /** After a crash between the activation being mined and it being recorded: read it back from the chain. */
  async #recoverActivation(rec: BookingRecord): Promise<void> {
    const { market } = this.#o;
    const logs = await market.client.getContractEvents({
      address: market.address,
      abi: market.abi,
      eventName: "EndpointPublished",
      args: { bookingId: BigInt(rec.id) },
      fromBlock: BigInt(rec.bookedBlock),
    });
    const first = logs[0];
    if (!first) return;
    rec.activationTx = first.transactionHash;
    rec.activatedAt = Number((await market.client.getBlock({ blockNumber: first.blockNumber })).timestamp);
  }

  /* SETTLEMENT LOOP */

  /** `checkUpkeep` → `performUpkeep` for every ripe booking of the market, not only ours. */
  async #upkeep(): Promise<void> {
    const { market } = this.#o;
    const [needed, performData] = await market.client.readContract({
      address: market.address,
      abi: market.abi,
      functionName: "checkUpkeep",
      args: ["0x"],
      blockTag: "pending", // ripeness depends on the clock: ask as of the next block
    });
    if (!needed) return;
    const key = `upkeep:${keccak256(performData).slice(2, 18)}`;
    const old = this.#store.state.txs[key];
    if (old && old.status !== "pending") delete this.#store.state.txs[key];
    const receipt = await this.#txs.send(key, { functionName: "performUpkeep", args: [performData] });
    const settled = parseEventLogs({
      abi: market.abi,
      logs: receipt.logs,
      eventName: ["BookingSettled", "NoShowClaimed"],
    });
    this.#log.info(
      { tx: receipt.transactionHash, settled: settled.map((l) => `${l.eventName}:${l.args.bookingId}`) },
      "settlement loop: performUpkeep",
    );
  }

  /* CHAIN READS */

  async #booking(id: string): Promise<OnChainBooking> {
    const { market } = this.#o;
    const b = await market.client.readContract({
      address: market.address,
      abi: market.abi,
      functionName: "getBooking",
      args: [BigInt(id)],
    });
    return {
      borrower: b.borrower,
      start: Number(b.start),
      end: Number(b.end),
      status: b.status,
      listingId: Number(b.listingId),
      endedAt: Number(b.endedAt),
    };
  }

  async hardware(listingId: bigint): Promise<ListingHardware> {
    const key = listingId.toString();
    const cached = this.#hardware.get(key);
    if (cached) return cached;
    const { market } = this.#o;
    const hw = await market.client.readContract({
      address: market.address,
      abi: market.abi,
      functionName: "getHardware",
      args: [listingId],
    });
    this.#hardware.set(key, hw);
    return hw;
  }

  /** GPUs for the booking: VFIO-ready ones of the listing's model, not held by another open booking. */
  async #gpusFor(rec: BookingRecord, model: string, count: number): Promise<string[]> {
    if (count === 0) return [];
    if (rec.gpus && rec.gpus.length === count) return rec.gpus;
    const inv = await this.#o.agent.inventory();
    const held = new Set(
      Object.values(this.#store.state.bookings)
        .filter((b) => b.id !== rec.id && b.phase !== "done" && b.teardown === undefined)
        .flatMap((b) => b.gpus ?? []),
    );
    const free = inv.gpus.filter((g) => g.vfioReady && g.name === model && !held.has(g.pciAddress));
    if (free.length < count) {
      throw new AgentApiError(422, {
        code: "host-unavailable",
        message: `${count} × ${model} needed, ${free.length} VFIO-ready and free on this host`,
        declineReason: 6,
      });
    }
    rec.gpus = free.slice(0, count).map((g) => g.pciAddress);
    return rec.gpus;
  }

  /** At start: every VM the agent runs for a booking that is not open on-chain is torn down. */
  async #reconcileAgent(): Promise<void> {
    const open = Object.values(this.#store.state.bookings)
      .filter((b) => b.phase !== "done")
      .map((b) => b.id);
    const report = await this.#o.agent.reconcile(open);
    if (report.destroyed.length > 0) {
      this.#log.warn(
        { destroyed: report.destroyed.map((f) => f.bookingId) },
        "reconcile: VMs without an open booking torn down",
      );
    }
  }
}

function hexToBytes(hex: Hex): Uint8Array {
  return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
}

function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString("hex")}`;
}
