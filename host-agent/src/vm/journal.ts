import { type FileHandle, mkdir, open, readFile, rename, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import type { VmSpec } from "./spec.ts";

/**
 * Why a session was torn down. `provision-interrupted` (the agent died half-way through provisioning)
 * and `orphan` (a domain of ours the journal does not know) leave no tombstone: nobody was promised
 * anything by that session, so the booking may be provisioned afresh. Every other reason is final.
 */
export type TeardownReason =
  | "window-ended"
  | "requested"
  | "reconcile"
  | "provision-failed"
  | "provision-interrupted"
  | "vm-lost"
  | "orphan";

/** The provisioning steps, in order; each is journaled once it is done. */
export const PROVISION_STEPS = [
  "overlayCreated",
  "secretDefined",
  "secretValueSet",
  "agentKeyDiscarded",
  "seedCreated",
  "filterDefined",
  "domainDefined",
  "started",
] as const;
export type ProvisionStep = (typeof PROVISION_STEPS)[number];

/** The teardown steps, in order; each is journaled once it is done, and skipped when a restart finds it done. */
export const TEARDOWN_STEPS = [
  "domainDestroyed",
  "domainUndefined",
  "secretUndefined",
  "keyDiscarded",
  "overlayRemoved",
  "seedRemoved",
  "dirRemoved",
] as const;
export type TeardownStep = (typeof TEARDOWN_STEPS)[number];

/** What a session made or will make. Names are chosen before anything is made, so a crash cannot hide one. */
export interface SessionResources {
  domainName: string;
  domainUuid?: string;
  secretUuid?: string;
  /** The session's directory (overlay, seed, console log); removed whole at teardown. */
  dir?: string;
  overlayPath?: string;
  seedDir?: string;
  seedPath?: string;
  consoleLogPath?: string;
}

export interface TeardownFacts {
  bookingId: string;
  sessionId: string;
  reason: TeardownReason;
  /** Each teardown step with when it finished (unix ms), in order. */
  steps: { what: TeardownStep; at: number }[];
  /** No domain of that name is left in libvirt. */
  domainGone: boolean;
  overlayRemoved: boolean;
  seedRemoved: boolean;
  /** The agent's copy is zeroed, libvirt's secret undefined and QEMU (which held the key) gone. */
  keyDiscarded: boolean;
  /** Unix ms when the VM started, if it did. */
  startedAt?: number;
  /** Unix seconds: the window's end as last extended, if known. */
  windowEnd?: number;
  /** Why provisioning failed, for `provision-failed`. */
  error?: string;
  /** Unix ms when teardown finished. */
  at: number;
}

type RecordBody =
  | { type: "intent"; spec: VmSpec; specHash: string; resources: SessionResources }
  | { type: "orphan"; resources: SessionResources; windowEnd?: number }
  | { type: "seedCreated"; path: string; hostKeyFingerprints: string[] }
  | { type: "started"; adopted?: boolean }
  | { type: Exclude<ProvisionStep, "seedCreated" | "started"> }
  | { type: "extended"; end: number }
  | { type: "provisionFailed"; error: string }
  | { type: "teardownStarted"; reason: TeardownReason }
  | { type: TeardownStep }
  | { type: "tornDown"; facts: TeardownFacts; final: boolean };

/** One line of the journal. */
export type JournalRecord = RecordBody & {
  v: 1;
  seq: number;
  /** Unix ms. */
  at: number;
  booking: string;
  session: string;
};

export type NewRecord = RecordBody & { booking: string; session: string };
export type RecordType = JournalRecord["type"];

export type Phase = "provisioning" | "running" | "tearing-down";

/** A session that has begun and not finished its teardown. */
export interface LiveSession {
  bookingId: string;
  sessionId: string;
  kind: "booking" | "orphan";
  spec?: VmSpec;
  specHash?: string;
  resources: SessionResources;
  hostKeyFingerprints: string[];
  /** Unix seconds. */
  windowEnd?: number;
  phase: Phase;
  reason?: TeardownReason;
  error?: string;
  /** Step → unix ms it was journaled. */
  done: Map<RecordType, number>;
}

/** Per booking: at most one live session, and the facts of its final teardown (the tombstone). */
export interface BookingEntry {
  live?: LiveSession;
  final?: TeardownFacts;
}

/** Folds one record into the state; the manager and `replay` share it, so memory and disk cannot disagree. */
export function applyRecord(state: Map<string, BookingEntry>, r: JournalRecord): void {
  const entry = state.get(r.booking) ?? {};
  state.set(r.booking, entry);
  if (r.type === "intent" || r.type === "orphan") {
    entry.live = {
      bookingId: r.booking,
      sessionId: r.session,
      kind: r.type === "intent" ? "booking" : "orphan",
      spec: r.type === "intent" ? r.spec : undefined,
      specHash: r.type === "intent" ? r.specHash : undefined,
      resources: { ...r.resources },
      hostKeyFingerprints: [],
      windowEnd: r.type === "intent" ? r.spec.window.end : r.windowEnd,
      phase: r.type === "intent" ? "provisioning" : "tearing-down",
      reason: r.type === "orphan" ? "orphan" : undefined,
      done: new Map([[r.type, r.at]]),
    };
    return;
  }
  const live = entry.live;
  if (r.type === "tornDown") {
    if (live?.sessionId === r.session) entry.live = undefined;
    if (r.final) entry.final = r.facts;
    return;
  }
  // A record of a session that is no longer live changes nothing.
  if (!live || live.sessionId !== r.session) return;
  live.done.set(r.type, r.at);
  switch (r.type) {
    case "seedCreated":
      live.resources.seedPath = r.path;
      live.hostKeyFingerprints = r.hostKeyFingerprints;
      break;
    case "started":
      live.phase = "running";
      break;
    case "extended":
      live.windowEnd = r.end;
      break;
    case "provisionFailed":
      live.error = r.error;
      break;
    case "teardownStarted":
      live.phase = "tearing-down";
      live.reason = r.reason;
      break;
    default:
      break;
  }
}

export interface JournalOptions {
  /** Unix ms. */
  now?: () => number;
  /**
   * Called around every append: `before` the record reaches the disk, `after` it is synced. Tests park
   * the agent here forever to play a kill between two steps.
   */
  hook?: (when: "before" | "after", record: NewRecord) => void | Promise<void>;
}

/**
 * Append-only JSON lines, one record per step, each `fdatasync`ed before the next action, so a
 * restarted agent knows everything its predecessor did or was about to do. A line torn by a crash
 * mid-write is dropped on open (its step is then redone, and every step is idempotent).
 */
export class VmJournal {
  #records: JournalRecord[];
  #lastSeq: number;
  #fh: FileHandle | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #now: () => number;
  readonly #hook: JournalOptions["hook"];

  private constructor(
    readonly path: string,
    records: JournalRecord[],
    opts: JournalOptions,
  ) {
    this.#records = records;
    this.#lastSeq = records.at(-1)?.seq ?? 0;
    this.#now = opts.now ?? Date.now;
    this.#hook = opts.hook;
  }

  static async open(path: string, opts: JournalOptions = {}): Promise<VmJournal> {
    // 0711: QEMU (libvirt-qemu) must traverse the state directory to reach the session files.
    await mkdir(dirname(path), { recursive: true, mode: 0o711 });
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const records: JournalRecord[] = [];
    let good = 0;
    for (const line of text.split("\n")) {
      const end = good + Buffer.byteLength(line) + 1;
      if (end > Buffer.byteLength(text)) break; // no newline: a torn last line
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch {
        // Appends are single writes ending in a newline, so only the last line can be torn.
        throw new Error(`${path}: line ${records.length + 1} is not JSON; the journal is damaged`);
      }
      good = end;
    }
    if (good < Buffer.byteLength(text)) await truncate(path, good);
    return new VmJournal(path, records, opts);
  }

  get records(): readonly JournalRecord[] {
    return this.#records;
  }

  /** Rebuilds the per-booking state from every record. */
  replay(): Map<string, BookingEntry> {
    const state = new Map<string, BookingEntry>();
    for (const r of this.#records) applyRecord(state, r);
    return state;
  }

  append(rec: NewRecord): Promise<JournalRecord> {
    return this.#serial(async () => {
      await this.#hook?.("before", rec);
      const full = { v: 1, seq: this.#nextSeq(), at: this.#now(), ...rec } as JournalRecord;
      const fh = await this.#handle();
      await fh.appendFile(`${JSON.stringify(full)}\n`);
      await fh.datasync();
      this.#records.push(full);
      await this.#hook?.("after", rec);
      return full;
    });
  }

  /**
   * Rewrites the journal with only what a restart needs: every record of live sessions, and one
   * `tornDown` record per tombstone whose window ended less than `retainSec` ago (a booking whose
   * window has ended is refused anyway, so an older tombstone guards nothing). Temp file, fsync,
   * rename, fsync of the directory: a crash leaves the old journal or the new one, never a mix.
   */
  compact(nowSec: number, retainSec: number): Promise<void> {
    return this.#serial(async () => {
      const state = this.replay();
      const liveSessions = new Set<string>();
      const finals = new Set<JournalRecord>();
      for (const [, entry] of state)
        if (entry.live) liveSessions.add(`${entry.live.bookingId}/${entry.live.sessionId}`);
      const lastFinal = new Map<string, JournalRecord>();
      for (const r of this.#records) if (r.type === "tornDown" && r.final) lastFinal.set(r.booking, r);
      for (const r of lastFinal.values()) {
        if (r.type !== "tornDown") continue;
        const end = r.facts.windowEnd ?? Math.floor(r.facts.at / 1000);
        if (end + retainSec > nowSec) finals.add(r);
      }
      const kept = this.#records.filter(
        (r) => finals.has(r) || liveSessions.has(`${r.booking}/${r.session}`),
      );
      const tmp = `${this.path}.compact`;
      const out = await open(tmp, "w", 0o600);
      try {
        await out.writeFile(kept.map((r) => `${JSON.stringify(r)}\n`).join(""));
        await out.sync();
      } finally {
        await out.close();
      }
      await this.#fh?.close();
      this.#fh = undefined;
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.#records = kept;
    });
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      await this.#fh?.close();
      this.#fh = undefined;
    });
  }

  #nextSeq(): number {
    this.#lastSeq += 1;
    return this.#lastSeq;
  }

  async #handle(): Promise<FileHandle> {
    this.#fh ??= await open(this.path, "a", 0o600);
    return this.#fh;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => {});
    return next;
  }
}
