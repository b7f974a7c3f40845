// Encrypted overlays made ahead of time. `qemu-img create` of a LUKS overlay costs ~2.5 s of CPU whatever the
// iter-time (QEMU benchmarks its PBKDF at creation), most of a provision's agent overhead; the pool makes the
// next overlay while nothing waits for it. Each pooled overlay has its own key, held only in this process: the
// pool folder is emptied at start (an overlay whose key died with an earlier process is unreadable and useless)
// and at close.
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { SessionKey } from "./key.ts";
import type { OverlayStore } from "./overlay.ts";

export interface PooledOverlay {
  path: string;
  key: SessionKey;
}

export class OverlayPool {
  readonly #ready: PooledOverlay[] = [];
  #making = 0;
  #seq = 0;
  #closed = false;
  #filling: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      store: OverlayStore;
      /** Folder for pooled overlays; on the same filesystem as the sessions (they are moved by rename). */
      dir: string;
      baseImage: string;
      sizeGiB: number;
      /** Overlays kept ready (default 1). */
      size?: number;
      logger?: Logger;
    },
  ) {}

  /** Empties the folder (keys of earlier processes are gone) and starts making overlays. */
  async start(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o711 });
    for (const f of await readdir(this.opts.dir)) await rm(join(this.opts.dir, f), { force: true });
    this.#fill();
  }

  /** Ready overlays (for status and tests). */
  get readyCount(): number {
    return this.#ready.length;
  }

  /** Resolves when the pool is full (tests and benchmarks wait on it). */
  async whenFull(): Promise<void> {
    while (!this.#closed && this.#ready.length < (this.opts.size ?? 1)) await this.#filling;
  }

  /**
   * Moves a ready overlay to `path` and hands over its key, or returns null (none ready, or another base/size):
   * the caller then makes one itself.
   */
  async take(path: string, baseImage: string, sizeGiB: number): Promise<SessionKey | null> {
    if (baseImage !== this.opts.baseImage || sizeGiB !== this.opts.sizeGiB) return null;
    const o = this.#ready.shift();
    if (!o) return null;
    this.#fill();
    try {
      await rename(o.path, path);
    } catch (e) {
      o.key.discard();
      await rm(o.path, { force: true });
      this.opts.logger?.warn({ err: (e as Error).message }, "pooled overlay could not be moved");
      return null;
    }
    return o.key;
  }

  #fill() {
    const want = this.opts.size ?? 1;
    while (!this.#closed && this.#ready.length + this.#making < want) {
      this.#making++;
      const key = SessionKey.generate();
      const path = join(this.opts.dir, `overlay-${process.pid}-${++this.#seq}.qcow2`);
      const made = this.opts.store
        .create({ path, baseImage: this.opts.baseImage, sizeGiB: this.opts.sizeGiB, key })
        .then(
          async () => {
            if (this.#closed) {
              key.discard();
              await rm(path, { force: true });
            } else this.#ready.push({ path, key });
          },
          async (e: unknown) => {
            key.discard();
            await rm(path, { force: true });
            this.opts.logger?.warn({ err: (e as Error).message }, "making a pooled overlay failed");
            await new Promise((r) => setTimeout(r, 5_000).unref());
          },
        )
        .finally(() => {
          this.#making--;
          if (!this.#closed && this.#ready.length + this.#making < want) this.#fill();
        });
      this.#filling = this.#filling.then(() => made);
    }
  }

  /** Stops making overlays, discards every key and removes the files. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#filling.catch(() => {});
    for (const o of this.#ready.splice(0)) {
      o.key.discard();
      await rm(o.path, { force: true });
    }
  }
}
