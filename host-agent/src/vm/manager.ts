import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { type Logger, pino } from "pino";
import { buildDomainXml } from "./domain-xml.ts";
import { ProvisioningError, VmError } from "./errors.ts";
import {
  applyRecord,
  type BookingEntry,
  type JournalRecord,
  type LiveSession,
  type NewRecord,
  type SessionResources,
  TEARDOWN_STEPS,
  type TeardownFacts,
  type TeardownReason,
  type TeardownStep,
  type VmJournal,
} from "./journal.ts";
import { SessionKey } from "./key.ts";
import { findDomain, isActive, type LibvirtDomain, type VmConnection } from "./libvirt.ts";
import { buildGuestIsolationFilterXml, type NwFilterStore } from "./nwfilter.ts";
import { fileExists, type OverlayStore } from "./overlay.ts";
import type { OverlayPool } from "./overlay-pool.ts";
import type { SecretStore } from "./secrets.ts";
import type { SeedProvider } from "./seed.ts";
import { bookingIdOfDomain, domainName, METADATA_NS, specHash, VmSpec, type VmSpecInput } from "./spec.ts";

/** Unix milliseconds. */
export interface Clock {
  now(): number;
}

/** Where the manager schedules teardowns; tests pass a fake one they can advance. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

// setTimeout's ceiling (~24.8 days); a longer window wakes up early and re-arms.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Node's timers, unref'd: a pending teardown never keeps the process alive on its own. */
export const nodeTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    t.unref();
    return t;
  },
  clear(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export interface VmManagerOptions {
  /** `test:///default` in unit tests, `qemu:///system` for real (see `openLibvirt`). */
  connection: VmConnection;
  journal: VmJournal;
  /** Sessions live in `<stateDir>/sessions/<booking>-<session>/` (overlay, seed, console log). */
  stateDir: string;
  overlays: OverlayStore;
  secrets: SecretStore;
  seeds: SeedProvider;
  /** Needed for `isolated-bridge` guests; without it they fail to provision rather than run unfiltered. */
  nwfilters?: NwFilterStore;
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
  /** Called with the facts of every teardown nobody asked for (window end, retries). */
  onTeardown?: (facts: TeardownFacts) => void;
  /** Keep tombstones this long after their window ended (default 30 days). */
  tombstoneRetentionSec?: number;
  /** Wait before retrying an unfinished teardown (default 30 s). */
  teardownRetryMs?: number;
  /** Wait before the one retry of a failed domain start (default 1 s). */
  startRetryMs?: number;
  /** Encrypted overlays made ahead of time (see overlay-pool.ts); without it each provision makes its own. */
  overlayPool?: OverlayPool;
}

export type VmState = "provisioning" | "running" | "tearing-down" | "torn-down" | "failed" | "absent";

export interface VmStatus {
  bookingId: string;
  state: VmState;
  domainName: string;
  sessionId?: string;
  domainUuid?: string;
  /** libvirt reports the domain running. */
  active: boolean;
  /** Unix seconds, as last extended. */
  windowEnd?: number;
  sshForward?: { host: string; port: number };
  guestIp?: string;
  hostKeyFingerprints: string[];
  /** For `torn-down` and `failed`: what teardown did. */
  facts?: TeardownFacts;
}

export interface RecoveryReport {
  /** Running and re-armed. */
  running: string[];
  /** Found started though the journal had not recorded it yet; now recorded and re-armed. */
  adopted: string[];
  /** Teardowns (and provisioning rollbacks) that were under way, finished. */
  finished: TeardownFacts[];
  /** Provisionings cut short, undone; the booking may be provisioned again. */
  rolledBack: TeardownFacts[];
  /** Windows that ended while the agent was down. */
  expired: TeardownFacts[];
  /** Sessions whose VM is no longer running (host reboot, QEMU crash). */
  lost: TeardownFacts[];
  /** Domains of ours the journal did not know. */
  orphans: TeardownFacts[];
  errors: { bookingId: string; error: string }[];
}

export interface ReconcileReport {
  kept: string[];
  provisioned: string[];
  destroyed: TeardownFacts[];
  /** Desired, but their session is over (tombstone): never created again. */
  finished: string[];
  /** Desired, never provisioned, and their window is over. */
  expired: string[];
  failed: { bookingId: string; error: string }[];
}

const FINAL_REASONS: ReadonlySet<TeardownReason> = new Set([
  "window-ended",
  "requested",
  "reconcile",
  "provision-failed",
  "vm-lost",
]);

/**
 * One libvirt domain per booking, from spec to teardown, with every step journaled before the next
 * begins so that an agent killed anywhere can finish the job after a restart (`recover`).
 *
 * Rules: the domain is named after the booking, so libvirt itself refuses a second one; a booking
 * whose session has ended (tombstone) is never provisioned again; a provisioning cut short by a crash
 * is rolled back (its key died with the process) and may be redone; teardown runs at the window's
 * end on a timer whether or not anybody asks. Operations on one booking are serialized.
 */
export class VmManager {
  readonly #conn: VmConnection;
  readonly #journal: VmJournal;
  readonly #sessionsDir: string;
  readonly #overlays: OverlayStore;
  readonly #secrets: SecretStore;
  readonly #seeds: SeedProvider;
  readonly #nwfilters: NwFilterStore | undefined;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #log: Logger;
  readonly #onTeardown: ((facts: TeardownFacts) => void) | undefined;
  readonly #retentionSec: number;
  readonly #retryMs: number;
  readonly #startRetryMs: number;

  #state = new Map<string, BookingEntry>();
  readonly #keys = new Map<string, SessionKey>();
  readonly #timersByBooking = new Map<string, unknown>();
  readonly #locks = new Map<string, Promise<unknown>>();
  #recovered = false;
  #closed = false;
  #recordsAtCompaction = 0;

  constructor(opts: VmManagerOptions) {
    this.#conn = opts.connection;
    this.#journal = opts.journal;
    this.#sessionsDir = join(opts.stateDir, "sessions");
    this.#overlays = opts.overlays;
    this.#secrets = opts.secrets;
    this.#seeds = opts.seeds;
    this.#nwfilters = opts.nwfilters;
    this.#clock = opts.clock ?? { now: Date.now };
    this.#timers = opts.timers ?? nodeTimers;
    this.#log = opts.logger ?? pino({ level: "silent" });
    this.#onTeardown = opts.onTeardown;
    this.#retentionSec = opts.tombstoneRetentionSec ?? 30 * 24 * 3600;
    this.#retryMs = opts.teardownRetryMs ?? 30_000;
    this.#startRetryMs = opts.startRetryMs ?? 1_000;
    this.#pool = opts.overlayPool;
  }

  readonly #pool: OverlayPool | undefined;

  /* RECOVERY */

  /**
   * Must run once before anything else: replays the journal, compares it with libvirt, finishes
   * interrupted teardowns, rolls back interrupted provisionings, tears down what expired while the
   * agent was down, what is no longer running, and domains of ours nobody journaled; re-arms the
   * window timers of the rest.
   */
  async recover(): Promise<RecoveryReport> {
    this.#state = this.#journal.replay();
    const report: RecoveryReport = {
      running: [],
      adopted: [],
      finished: [],
      rolledBack: [],
      expired: [],
      lost: [],
      orphans: [],
      errors: [],
    };
    for (const [id, entry] of this.#state) {
      if (!entry.live) continue;
      await this.#lock(id, async () => {
        try {
          await this.#recoverSession(id, report);
        } catch (err) {
          report.errors.push({ bookingId: id, error: errorMessage(err) });
        }
      });
    }
    for (const dom of await this.#conn.connectListAllDomains()) {
      const id = bookingIdOfDomain(await dom.getName());
      if (id === undefined) continue;
      await this.#lock(id, async () => {
        if (this.#state.get(id)?.live) return;
        try {
          report.orphans.push(await this.#orphanTeardown(id, dom));
        } catch (err) {
          report.errors.push({ bookingId: id, error: errorMessage(err) });
        }
      });
    }
    await this.#compact();
    this.#recovered = true;
    this.#log.info({ report: summarize(report) }, "vm recovery done");
    return report;
  }

  async #recoverSession(id: string, report: RecoveryReport): Promise<void> {
    const live = this.#state.get(id)?.live;
    if (!live) return;
    if (live.phase === "tearing-down") {
      report.finished.push(await this.#teardown(live));
      return;
    }
    if (live.phase === "provisioning") {
      if (live.done.has("provisionFailed")) {
        report.finished.push(await this.#teardown(live, "provision-failed"));
        return;
      }
      const dom = await findDomain(this.#conn, live.resources.domainName);
      if (dom && (await isActive(dom)) && (await dom.getUUIDString()) === live.resources.domainUuid) {
        // It started; only the journal line was lost. QEMU holds the key, so the session is whole.
        await this.#record(live, { type: "started", adopted: true });
        report.adopted.push(id);
      } else {
        report.rolledBack.push(await this.#teardown(live, "provision-interrupted"));
        return;
      }
    }
    if (this.#windowOver(live)) {
      report.expired.push(await this.#teardown(live, "window-ended"));
      return;
    }
    const dom = await findDomain(this.#conn, live.resources.domainName);
    if (!dom || !(await isActive(dom))) {
      report.lost.push(await this.#teardown(live, "vm-lost"));
      return;
    }
    this.#arm(live);
    report.running.push(id);
  }

  /* PROVISIONING */

  /**
   * Creates the booking's VM, or returns the one that exists. Idempotent by booking id: a running
   * session is returned as it is, a finished one is never recreated (its status says `torn-down`), a
   * failed one throws its `ProvisioningError` again. On failure everything made so far is removed
   * and the error carries `declineReason` 7 (PROVISIONING_FAILED) and the teardown facts.
   */
  async provision(input: VmSpecInput): Promise<VmStatus> {
    this.#assertReady();
    const parsed = VmSpec.safeParse(input);
    if (!parsed.success) {
      const bookingId = typeof input?.bookingId === "string" ? input.bookingId : "?";
      throw new ProvisioningError(bookingId, `invalid spec: ${parsed.error.message}`, undefined, {
        cause: parsed.error,
      });
    }
    const spec = parsed.data;
    return this.#lock(spec.bookingId, () => this.#provision(spec));
  }

  async #provision(spec: VmSpec): Promise<VmStatus> {
    const id = spec.bookingId;
    const current = this.#state.get(id)?.live;
    if (current) {
      if (current.phase === "running") return this.#status(id);
      // Only a session that could not finish its teardown earlier gets here: finish it first.
      await this.#teardown(current, current.phase === "provisioning" ? "provision-interrupted" : undefined);
    }
    const final = this.#state.get(id)?.final;
    if (final?.reason === "provision-failed") {
      throw new ProvisioningError(id, final.error ?? "provisioning failed earlier", final);
    }
    if (final) return this.#status(id);
    if (this.#clock.now() >= spec.window.end * 1000) {
      throw new VmError("window-ended", `booking ${id}: its window ended at ${spec.window.end}`);
    }
    const name = domainName(id);
    const stray = await findDomain(this.#conn, name);
    if (stray) await this.#orphanTeardown(id, stray);

    const sessionId = randomUUID();
    const dir = join(this.#sessionsDir, `${id}-${sessionId}`);
    const resources: SessionResources = {
      domainName: name,
      domainUuid: randomUUID(),
      secretUuid: randomUUID(),
      dir,
      overlayPath: join(dir, "overlay.qcow2"),
      seedDir: join(dir, "seed"),
      consoleLogPath: join(dir, "console.log"),
    };
    await this.#append({
      type: "intent",
      booking: id,
      session: sessionId,
      spec,
      specHash: specHash(spec),
      resources,
    });
    const live = this.#state.get(id)?.live as LiveSession;
    const log = this.#log.child({ bookingId: id, session: sessionId });
    try {
      await this.#provisionSteps(live, spec, resources as Required<SessionResources>);
    } catch (err) {
      const message = errorMessage(err);
      log.error({ err: message }, "provisioning failed; rolling back");
      let facts: TeardownFacts | undefined;
      try {
        await this.#record(live, { type: "provisionFailed", error: message });
        facts = await this.#teardown(live, "provision-failed");
      } catch (rollbackErr) {
        log.error({ err: errorMessage(rollbackErr) }, "rollback incomplete; retry armed");
      }
      throw new ProvisioningError(id, message, facts, { cause: err });
    }
    this.#arm(live);
    log.info({ windowEnd: spec.window.end }, "vm running");
    return this.#status(id);
  }

  async #provisionSteps(live: LiveSession, spec: VmSpec, res: Required<SessionResources>): Promise<void> {
    // 0711: QEMU (libvirt-qemu) may traverse to the files libvirt hands it, nobody may list them.
    await mkdir(res.seedDir, { recursive: true, mode: 0o711 });
    // A pooled overlay (made ahead, with its own in-memory key) when one is ready, else a new one.
    let key = await this.#pool?.take(res.overlayPath, spec.baseImage, spec.diskGiB);
    if (key) this.#keys.set(live.sessionId, key);
    else {
      key = SessionKey.generate();
      this.#keys.set(live.sessionId, key);
      await this.#overlays.create({
        path: res.overlayPath,
        baseImage: spec.baseImage,
        sizeGiB: spec.diskGiB,
        key,
      });
    }
    await this.#record(live, { type: "overlayCreated" });
    await this.#secrets.define(
      res.secretUuid,
      res.overlayPath,
      `ComputeHive booking ${spec.bookingId} overlay`,
    );
    await this.#record(live, { type: "secretDefined" });
    await this.#secrets.setValue(res.secretUuid, key);
    await this.#record(live, { type: "secretValueSet" });
    // libvirt holds it now (and hands it to QEMU at start); the agent's copy has no further use.
    key.discard();
    this.#keys.delete(live.sessionId);
    await this.#record(live, { type: "agentKeyDiscarded" });

    const seed = await this.#seeds.create({
      dir: res.seedDir,
      bookingId: spec.bookingId,
      vmUser: spec.vmUser,
      network: spec.network,
      window: spec.window,
    });
    await this.#record(live, {
      type: "seedCreated",
      path: seed.path,
      hostKeyFingerprints: seed.hostKeyFingerprints,
    });

    if (spec.network.mode === "isolated-bridge") {
      if (!this.#nwfilters)
        throw new Error("isolated-bridge networking needs an nwfilter store; refusing an unfiltered guest");
      await this.#nwfilters.define(buildGuestIsolationFilterXml());
      await this.#record(live, { type: "filterDefined" });
    }

    const xml = buildDomainXml(spec, {
      uuid: res.domainUuid,
      sessionId: live.sessionId,
      overlayPath: res.overlayPath,
      secretUuid: res.secretUuid,
      seedPath: seed.path,
      consoleLogPath: res.consoleLogPath,
    });
    const dom = await this.#conn.domainDefineXML(xml);
    await this.#record(live, { type: "domainDefined" });
    await this.#start(dom);
    await this.#record(live, { type: "started" });
  }

  /** One retry: the first start after libvirtd came up has been seen to fail and then work. */
  async #start(dom: LibvirtDomain): Promise<void> {
    try {
      await dom.create();
    } catch (first) {
      await new Promise((r) => setTimeout(r, this.#startRetryMs));
      if (await isActive(dom)) return;
      try {
        await dom.create();
      } catch {
        throw first;
      }
    }
  }

  /* STATUS, EXTENSION */

  /** Where the booking stands. Does not wait for an operation in flight. */
  async status(bookingId: string): Promise<VmStatus> {
    return this.#status(bookingId);
  }

  /** Every booking the journal knows (live sessions and tombstones). */
  async list(): Promise<VmStatus[]> {
    return Promise.all([...this.#state.keys()].map((id) => this.#status(id)));
  }

  /** Moves the window's end (later only) and the teardown timer with it; returns the new end. */
  async extend(bookingId: string, newEnd: number): Promise<number> {
    this.#assertReady();
    return this.#lock(bookingId, async () => {
      const live = this.#state.get(bookingId)?.live;
      if (live?.phase !== "running") throw new VmError("not-running", `booking ${bookingId} is not running`);
      if (!Number.isSafeInteger(newEnd) || newEnd <= (live.windowEnd ?? 0)) {
        throw new VmError(
          "bad-extension",
          `booking ${bookingId}: new end ${newEnd} is not after ${live.windowEnd}`,
        );
      }
      await this.#record(live, { type: "extended", end: newEnd });
      this.#arm(live);
      return newEnd;
    });
  }

  /* TEARDOWN */

  /**
   * Tears the booking's VM down: domain destroyed and undefined, libvirt secret undefined, key
   * zeroed, overlay, seed and session directory removed. Returns the facts for the session report;
   * for a booking already torn down, the facts of that teardown.
   */
  async destroy(
    bookingId: string,
    reason: "requested" | "reconcile" | "window-ended" = "requested",
  ): Promise<TeardownFacts> {
    this.#assertReady();
    return this.#lock(bookingId, () => this.#destroy(bookingId, reason));
  }

  async #destroy(bookingId: string, reason: TeardownReason): Promise<TeardownFacts> {
    const entry = this.#state.get(bookingId);
    if (entry?.live) return this.#teardown(entry.live, reason);
    const stray = await findDomain(this.#conn, domainName(bookingId));
    if (stray) return this.#orphanTeardown(bookingId, stray);
    if (entry?.final) return entry.final;
    throw new VmError("not-found", `booking ${bookingId}: no VM`);
  }

  /**
   * Runs the teardown steps not yet journaled, then checks the result. `reason` starts a teardown;
   * a session already tearing down keeps its original reason. A failing step leaves the session
   * tearing down and arms a retry.
   */
  async #teardown(live: LiveSession, reason?: TeardownReason): Promise<TeardownFacts> {
    this.#disarm(live.bookingId);
    if (live.phase !== "tearing-down") {
      await this.#record(live, { type: "teardownStarted", reason: reason ?? "requested" });
    }
    const why = live.reason ?? "requested";
    const res = live.resources;
    const log = this.#log.child({ bookingId: live.bookingId, session: live.sessionId });
    const steps: Record<TeardownStep, () => Promise<unknown>> = {
      domainDestroyed: async () => {
        const dom = await findDomain(this.#conn, res.domainName);
        if (dom && (await isActive(dom))) await dom.destroy();
      },
      domainUndefined: async () => {
        const dom = await findDomain(this.#conn, res.domainName);
        if (!dom) return;
        // A domain still running here was started by someone else after our destroy: stop it too.
        if (await isActive(dom)) await dom.destroy();
        if (await findDomain(this.#conn, res.domainName)) await dom.undefine();
      },
      secretUndefined: async () => {
        if (res.secretUuid) await this.#secrets.undefine(res.secretUuid);
      },
      keyDiscarded: async () => {
        this.#keys.get(live.sessionId)?.discard();
        this.#keys.delete(live.sessionId);
      },
      // An orphan's paths come from a domain XML nobody journaled: only files under our sessions
      // directory are removed. A booking's own paths are the ones this agent chose or was given.
      overlayRemoved: async () => {
        if (res.overlayPath && (live.kind === "booking" || this.#ours(res.overlayPath))) {
          await this.#overlays.remove(res.overlayPath);
        }
      },
      seedRemoved: async () => {
        if (res.seedPath && (live.kind === "booking" || this.#ours(res.seedPath)))
          await this.#seeds.remove(res.seedPath);
      },
      dirRemoved: async () => {
        if (res.dir && this.#ours(res.dir)) await rm(res.dir, { recursive: true, force: true });
      },
    };
    try {
      for (const step of TEARDOWN_STEPS) {
        if (live.done.has(step)) continue;
        await steps[step]();
        await this.#record(live, { type: step });
      }
    } catch (err) {
      log.error({ err: errorMessage(err) }, "teardown incomplete; retry armed");
      this.#armRetry(live.bookingId);
      throw new VmError("teardown-incomplete", `booking ${live.bookingId}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const facts = await this.#facts(live, why);
    await this.#record(live, { type: "tornDown", facts, final: FINAL_REASONS.has(why) });
    log.info({ facts }, "vm torn down");
    await this.#maybeCompact();
    return facts;
  }

  async #facts(live: LiveSession, reason: TeardownReason): Promise<TeardownFacts> {
    const res = live.resources;
    const domainGone = !(await findDomain(this.#conn, res.domainName));
    const overlayRemoved = !res.overlayPath || !(await this.#overlays.exists(res.overlayPath));
    const seedTarget = res.seedPath ?? res.seedDir;
    const seedRemoved = !seedTarget || !(await fileExists(seedTarget));
    const secretGone = !res.secretUuid || !(await this.#secrets.list()).includes(res.secretUuid);
    const agentKeyGone = !this.#keys.has(live.sessionId);
    return {
      bookingId: live.bookingId,
      sessionId: live.sessionId,
      reason,
      steps: TEARDOWN_STEPS.flatMap((what) => {
        const at = live.done.get(what);
        return at === undefined ? [] : [{ what, at }];
      }),
      domainGone,
      overlayRemoved,
      seedRemoved,
      keyDiscarded: agentKeyGone && secretGone && domainGone,
      startedAt: live.done.get("started"),
      windowEnd: live.windowEnd,
      error: live.error,
      at: this.#clock.now(),
    };
  }

  /** A domain in our namespace the journal does not know: journal what its XML says it uses, then tear it down. */
  async #orphanTeardown(bookingId: string, dom: LibvirtDomain): Promise<TeardownFacts> {
    const found = orphanResources(await dom.getXMLDesc(), await dom.getName());
    const session = found.sessionId ?? `orphan-${await dom.getUUIDString()}`;
    const resources = { ...found.resources };
    // Files are only removed inside our sessions directory; a path elsewhere is left alone.
    if (resources.overlayPath && this.#ours(resources.overlayPath)) {
      const rel = relative(this.#sessionsDir, resources.overlayPath).split("/")[0];
      if (rel) resources.dir = join(this.#sessionsDir, rel);
    }
    await this.#append({
      type: "orphan",
      booking: bookingId,
      session,
      resources,
      windowEnd: found.windowEnd,
    });
    this.#log.warn({ bookingId, session }, "domain the journal does not know; tearing it down");
    return this.#teardown(this.#state.get(bookingId)?.live as LiveSession);
  }

  /* RECONCILE */

  /**
   * Converges on `desired` (booking ids, or full specs for bookings that should be running):
   * destroys every live session and every `computehive-booking-*` domain not desired, tears down
   * desired ones whose window has ended, provisions desired specs that have no session and no
   * tombstone. Never creates a second VM for a booking, and never recreates a finished one.
   */
  async reconcile(desired: ReadonlyArray<string | VmSpecInput>): Promise<ReconcileReport> {
    this.#assertReady();
    const specs = new Map<string, VmSpecInput>();
    const ids = new Set<string>();
    for (const d of desired) {
      const id = typeof d === "string" ? d : d.bookingId;
      ids.add(id);
      if (typeof d !== "string") specs.set(id, d);
    }
    const report: ReconcileReport = {
      kept: [],
      provisioned: [],
      destroyed: [],
      finished: [],
      expired: [],
      failed: [],
    };
    const fail = (bookingId: string, err: unknown) =>
      report.failed.push({ bookingId, error: errorMessage(err) });

    for (const [id, entry] of [...this.#state]) {
      if (!entry.live || ids.has(id)) continue;
      await this.destroy(id, "reconcile").then(
        (f) => report.destroyed.push(f),
        (e) => fail(id, e),
      );
    }
    for (const dom of await this.#conn.connectListAllDomains()) {
      const id = bookingIdOfDomain(await dom.getName());
      if (id === undefined) continue;
      await this.#lock(id, async () => {
        if (this.#state.get(id)?.live) return;
        report.destroyed.push(await this.#orphanTeardown(id, dom));
      }).catch((e) => fail(id, e));
    }
    for (const id of ids) {
      const entry = this.#state.get(id);
      if (entry?.live) {
        if (this.#windowOver(entry.live)) {
          await this.destroy(id, "window-ended").then(
            (f) => report.destroyed.push(f),
            (e) => fail(id, e),
          );
        } else report.kept.push(id);
        continue;
      }
      if (entry?.final) {
        report.finished.push(id);
        continue;
      }
      const spec = specs.get(id);
      if (!spec) continue;
      if (typeof spec.window?.end === "number" && this.#clock.now() >= spec.window.end * 1000) {
        report.expired.push(id);
        continue;
      }
      await this.provision(spec).then(
        () => report.provisioned.push(id),
        (e) => fail(id, e),
      );
    }
    return report;
  }

  /** Stops every timer; in-flight operations finish. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#timersByBooking.keys()]) this.#disarm(id);
  }

  /* INTERNALS */

  async #status(bookingId: string): Promise<VmStatus> {
    const entry = this.#state.get(bookingId);
    const live = entry?.live;
    const name = domainName(bookingId);
    const dom = await findDomain(this.#conn, name);
    const active = dom ? await isActive(dom) : false;
    if (!live) {
      const facts = entry?.final;
      return {
        bookingId,
        state: facts ? (facts.reason === "provision-failed" ? "failed" : "torn-down") : "absent",
        domainName: name,
        sessionId: facts?.sessionId,
        active,
        windowEnd: facts?.windowEnd,
        hostKeyFingerprints: [],
        facts,
      };
    }
    const net = live.spec?.network;
    return {
      bookingId,
      state: live.phase,
      domainName: name,
      sessionId: live.sessionId,
      domainUuid: live.resources.domainUuid,
      active,
      windowEnd: live.windowEnd,
      sshForward: net?.mode === "user-restricted" ? net.sshForward : undefined,
      guestIp: net?.mode === "isolated-bridge" ? net.guestIp : undefined,
      hostKeyFingerprints: live.hostKeyFingerprints,
    };
  }

  #windowOver(live: LiveSession): boolean {
    return live.windowEnd !== undefined && this.#clock.now() >= live.windowEnd * 1000;
  }

  #arm(live: LiveSession): void {
    if (this.#closed || live.windowEnd === undefined) return;
    this.#disarm(live.bookingId);
    const id = live.bookingId;
    const delay = live.windowEnd * 1000 - this.#clock.now();
    this.#timersByBooking.set(
      id,
      this.#timers.set(() => this.#onTimer(id, "window"), delay),
    );
  }

  #armRetry(bookingId: string): void {
    if (this.#closed) return;
    this.#disarm(bookingId);
    this.#timersByBooking.set(
      bookingId,
      this.#timers.set(() => this.#onTimer(bookingId, "retry"), this.#retryMs),
    );
  }

  #disarm(bookingId: string): void {
    const handle = this.#timersByBooking.get(bookingId);
    if (handle === undefined) return;
    this.#timers.clear(handle);
    this.#timersByBooking.delete(bookingId);
  }

  /** The window's end (or a retry) came: tear down whether or not anybody asks. */
  #onTimer(bookingId: string, kind: "window" | "retry"): void {
    this.#timersByBooking.delete(bookingId);
    this.#lock(bookingId, async () => {
      const live = this.#state.get(bookingId)?.live;
      if (!live) return;
      if (kind === "window") {
        if (live.phase !== "running") return;
        // An early wake-up (timer ceiling) or an extension that raced the timer.
        if (!this.#windowOver(live)) return this.#arm(live);
        this.#onTeardown?.(await this.#teardown(live, "window-ended"));
      } else {
        this.#onTeardown?.(await this.#teardown(live));
      }
    }).catch((err) => this.#log.error({ bookingId, err: errorMessage(err) }, "scheduled teardown failed"));
  }

  #record(
    live: LiveSession,
    body: DistributiveOmit<NewRecord, "booking" | "session">,
  ): Promise<JournalRecord> {
    return this.#append({ ...body, booking: live.bookingId, session: live.sessionId } as NewRecord);
  }

  async #append(rec: NewRecord): Promise<JournalRecord> {
    const full = await this.#journal.append(rec);
    applyRecord(this.#state, full);
    return full;
  }

  async #maybeCompact(): Promise<void> {
    if (this.#journal.records.length - this.#recordsAtCompaction < 256) return;
    await this.#compact();
  }

  async #compact(): Promise<void> {
    await this.#journal.compact(Math.floor(this.#clock.now() / 1000), this.#retentionSec);
    this.#recordsAtCompaction = this.#journal.records.length;
  }

  #ours(path: string): boolean {
    const rel = relative(this.#sessionsDir, path);
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  }

  #assertReady(): void {
    if (!this.#recovered) throw new VmError("not-recovered", "call recover() before using the VM manager");
  }

  /** Serializes operations per booking; a failure does not block the next one. */
  #lock<T>(bookingId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(bookingId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.#locks.set(bookingId, tail);
    void tail.then(() => {
      if (this.#locks.get(bookingId) === tail) this.#locks.delete(bookingId);
    });
    return next;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  isArray: (name) => name === "disk",
});

/** What an unjournaled domain uses, read from its XML: secret, overlay, seed, console log, our metadata. */
export function orphanResources(
  xml: string,
  name: string,
): { resources: SessionResources; sessionId?: string; windowEnd?: number } {
  const domain = at(xmlParser.parse(xml), "domain");
  const resources: SessionResources = { domainName: name, domainUuid: str(at(domain, "uuid")) };
  const disks = at(domain, "devices", "disk");
  for (const disk of Array.isArray(disks) ? (disks as unknown[]) : []) {
    const file = str(at(disk, "source", "@file"));
    const secret = str(at(disk, "source", "encryption", "secret", "@uuid"));
    if (secret) {
      resources.secretUuid = secret;
      resources.overlayPath = file;
    } else if (at(disk, "readonly") !== undefined) {
      resources.seedPath = file;
    }
  }
  const serial = at(domain, "devices", "serial");
  resources.consoleLogPath = str(at(Array.isArray(serial) ? serial[0] : serial, "source", "@path"));
  const metadata = at(domain, "metadata");
  const meta = Object.values(metadata && typeof metadata === "object" ? metadata : {}).find(
    (v) => v && typeof v === "object" && Object.values(v).includes(METADATA_NS),
  );
  const windowEnd = Number(at(meta, "@windowEnd"));
  return {
    resources,
    sessionId: str(at(meta, "@session")),
    windowEnd: Number.isSafeInteger(windowEnd) ? windowEnd : undefined,
  };
}

/** Walks parsed XML; undefined wherever a step is missing. */
function at(node: unknown, ...path: string[]): unknown {
  let cur = node;
  for (const key of path) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function summarize(r: RecoveryReport): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (v as unknown[]).length]));
}
