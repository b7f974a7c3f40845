/**
 * Test doubles for the agent on libvirt's test:///default driver (which runs no QEMU): libvirt's secret
 * driver in memory, qemu-img's overlays as plain files, and the guest's SSH banner. Shared by the host agent's
 * API tests and the oracle-node's tests; never used outside tests.
 */
import { createHash } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import type { SessionKey } from "../../src/vm/key.ts";
import { fileExists, type OverlayRequest, type OverlayStore } from "../../src/vm/overlay.ts";
import type { SecretStore } from "../../src/vm/secrets.ts";

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** libvirt's secret driver in memory: one secret per uuid, values kept only as a hash. */
export class MemorySecrets implements SecretStore {
  readonly secrets = new Map<string, { volume: string; valueHash?: string }>();
  async define(uuid: string, volume: string): Promise<void> {
    if (this.secrets.has(uuid)) throw new Error(`secret ${uuid} exists`);
    this.secrets.set(uuid, { volume });
  }
  async setValue(uuid: string, key: SessionKey): Promise<void> {
    const s = this.secrets.get(uuid);
    if (!s) throw new Error(`no secret ${uuid}`);
    s.valueHash = sha256(key.passphrase);
  }
  async undefine(uuid: string): Promise<void> {
    this.secrets.delete(uuid);
  }
  async list(): Promise<string[]> {
    return [...this.secrets.keys()];
  }
}

/** Stands in for qemu-img; fails for bookings in `failFor`, slowly when `delayMs` is set. */
export class FakeOverlays implements OverlayStore {
  readonly created: string[] = [];
  readonly failFor = new Set<string>();
  delayMs = 0;
  async create(req: OverlayRequest): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const id = /\/sessions\/([0-9]+)-/.exec(req.path)?.[1] ?? "";
    if (this.failFor.has(id)) throw new Error("qemu-img: Could not create overlay: No space left on device");
    if (await fileExists(req.path)) throw new Error(`${req.path} exists`);
    await writeFile(req.path, "not really qcow2");
    this.created.push(req.path);
  }
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
  async exists(path: string): Promise<boolean> {
    return fileExists(path);
  }
}

/** The guest's banner: answers after `delayMs`, or never (`failPorts`): then the agent's timeout fires. */
export const fakeSsh = {
  delayMs: 20,
  failPorts: new Set<number>(),
  waits: 0,
  async wait(_host: string, port: number, opts: { timeoutMs: number; signal: AbortSignal }): Promise<void> {
    fakeSsh.waits++;
    if (fakeSsh.failPorts.has(port)) throw new Error(`no SSH banner on 127.0.0.1:${port} within 0 s`);
    await new Promise((r) => setTimeout(r, fakeSsh.delayMs));
    if (opts.signal.aborted) throw new Error(String(opts.signal.reason));
  },
};
