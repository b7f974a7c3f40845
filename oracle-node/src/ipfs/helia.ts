// The embedded store: a Helia node with an on-disk blockstore and datastore under `dir`, and nothing else. It has
// no libp2p, no block brokers and no routers, so it never opens a socket: what it pins is served by publishing
// the directory (or the documents) through any IPFS node, and anyone can check them against the on-chain CID.
//
// Two things of helia 7.1.15 do not run on Node 20 (this repo's engine) and are worked around here:
// - its only entry point (`createHelia`, `createHeliaLight`) imports @helia/libp2p → @libp2p/http → undici 8,
//   which needs Node ≥ 22.19 and throws at load on Node 20 (`createZstdDecompress` is undefined). So the Helia
//   class that `createHeliaLight` constructs is loaded from its own module, next to the entry point.
// - its GC lock (mortice → it-queue) calls `Promise.withResolvers` (ES2024, Node ≥ 22) on every block read and
//   write. A standard polyfill is installed when Node lacks it.
//
// blockstore-fs and datastore-fs write each file to a temporary name and rename it, without fsync; the stores
// below fsync each file and its directories after the write, so a pin() that resolved survives a power loss.

import { open } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { FsBlockstore } from "blockstore-fs";
import { NextToLast } from "blockstore-fs/sharding";
import { FsDatastore } from "datastore-fs";
import type { Helia, HeliaInit } from "helia";
import type { Logger } from "pino";
import {
  callSignal,
  concatBytes,
  DEFAULT_TIMEOUT_MS,
  IpfsError,
  IpfsNotFoundError,
  type Pinner,
  parseCid,
  rawBlockCid,
  sameBytes,
  verifyBlock,
} from "./common.ts";

export interface HeliaPinner extends Pinner {
  readonly kind: "helia";
  /** The store: blocks in `dir/blocks`, pins in `dir/datastore`. */
  readonly dir: string;
  /** The node itself, to list pins (`helia.pins.ls()`, `helia.pins.isPinned(cid)`). */
  readonly helia: Helia;
}

export interface HeliaPinnerOptions {
  dir: string;
  logger?: Logger;
  /** Limit on one read of the store (default 30 s). */
  timeoutMs?: number;
}

type HeliaClass = new (init: HeliaInit & { name: string; version: string }) => Helia;

export async function openHeliaPinner(opts: HeliaPinnerOptions): Promise<HeliaPinner> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const dir = resolve(opts.dir);
  const log = opts.logger?.child({ ipfs: "helia", dir });
  const Helia = await loadHeliaClass();

  const blocks = new DurableBlockstore(join(dir, "blocks"));
  const datastore = new DurableDatastore(join(dir, "datastore"));
  await blocks.open();
  await datastore.open();
  await syncDirs(dirname(dir), dir, join(dir, "blocks"), join(dir, "datastore"));
  const { name, version } = await loadHeliaVersion();
  const helia = new Helia({ name, version, blockstore: blocks, datastore, blockBrokers: [], routers: [] });
  await helia.start();
  log?.info(
    { ms: Math.round(performance.now() - started), helia: version },
    "IPFS pinner ready (embedded Helia)",
  );

  let closed = false;
  let queue: Promise<unknown> = Promise.resolve(); // pins one at a time

  const assertOpen = () => {
    if (closed) throw new IpfsError(`the Helia pinner on ${dir} is closed`);
  };
  const notFound = (cid: unknown, cause?: unknown) =>
    new IpfsNotFoundError(
      `IPFS content ${cid} not found in the Helia store at ${dir} (the embedded node does not fetch from the network)`,
      { cause },
    );

  const pinNow = async (bytes: Uint8Array, signal: AbortSignal): Promise<string> => {
    const cid = await rawBlockCid(bytes);
    if (await helia.blockstore.has(cid, { signal })) {
      // A copy is there already: keep it if intact, else write `bytes` over it (Helia's put skips known CIDs).
      const stored = concatBytes(await collect(blocks.get(cid, { signal })));
      if (!sameBytes(stored, bytes)) {
        log?.warn({ cid: cid.toString() }, "stored copy is corrupt: rewritten from the document");
        await blocks.put(cid, bytes, { signal });
      }
    } else {
      await helia.blockstore.put(cid, bytes, { signal });
    }
    try {
      await drain(helia.pins.add(cid, { signal }));
    } catch (err) {
      if ((err as { name?: string }).name !== "AlreadyPinnedError") throw err;
    }
    log?.debug({ cid: cid.toString(), bytes: bytes.byteLength }, "pinned");
    return cid.toString();
  };

  return {
    kind: "helia",
    dir,
    helia,

    async pin(bytes, callOpts) {
      assertOpen();
      const signal = callSignal(callOpts, timeoutMs);
      const run = queue.then(() => pinNow(bytes, signal));
      queue = run.catch(() => undefined);
      return run;
    },

    async get(text, callOpts) {
      assertOpen();
      const cid = parseCid(text);
      const signal = callSignal(callOpts, timeoutMs);
      let bytes: Uint8Array;
      try {
        if (!(await helia.blockstore.has(cid, { signal }))) throw notFound(cid);
        bytes = concatBytes(await collect(helia.blockstore.get(cid, { offline: true, signal })));
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "NotFoundError" || name === "BlockNotFoundWhileOfflineError") throw notFound(cid, err);
        throw err;
      }
      await verifyBlock(cid, bytes, `the Helia store at ${dir}`);
      return bytes;
    },

    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await helia.stop();
      await blocks.close();
      await datastore.close();
      log?.info("IPFS pinner closed");
    },
  };
}

/** The class `createHeliaLight()` instantiates, loaded without helia's entry point (see the top of this file). */
async function loadHeliaClass(): Promise<HeliaClass> {
  installPromiseWithResolvers();
  const mod = (await import(new URL("helia.js", import.meta.resolve("helia")).href)) as { Helia?: unknown };
  if (typeof mod.Helia !== "function") {
    throw new IpfsError("helia's dist/src/helia.js exports no Helia class: the helia version is not 7.1.x");
  }
  return mod.Helia as HeliaClass;
}

async function loadHeliaVersion(): Promise<{ name: string; version: string }> {
  const mod = (await import(new URL("version.js", import.meta.resolve("helia")).href)) as {
    name?: string;
    version?: string;
  };
  return { name: mod.name ?? "helia", version: mod.version ?? "unknown" };
}

function installPromiseWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === "function") return;
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** FsBlockstore whose put() returns once the block file and its directories are on disk. */
class DurableBlockstore extends FsBlockstore {
  readonly #sharding: NextToLast;

  constructor(path: string, sharding = new NextToLast()) {
    super(path, { shardingStrategy: sharding });
    this.#sharding = sharding;
  }

  override async put(...args: Parameters<FsBlockstore["put"]>): ReturnType<FsBlockstore["put"]> {
    const cid = await super.put(...args);
    const { dir, file } = this.#sharding.encode(args[0]);
    await syncUp(join(this.path, dir, file), this.path);
    return cid;
  }
}

/** FsDatastore whose put() returns once the file and its directories are on disk. */
class DurableDatastore extends FsDatastore {
  override async put(...args: Parameters<FsDatastore["put"]>): ReturnType<FsDatastore["put"]> {
    const key = await super.put(...args);
    await syncUp(this._encode(args[0]).file, this.path);
    return key;
  }
}

/** fsync `file`, then each directory from its own up to `root`. */
async function syncUp(file: string, root: string): Promise<void> {
  await syncPath(file);
  let dir = dirname(file);
  await syncPath(dir);
  while (dir !== root && !relative(root, dir).startsWith("..")) {
    dir = dirname(dir);
    await syncPath(dir);
  }
}

async function syncDirs(...dirs: string[]): Promise<void> {
  for (const dir of dirs) await syncPath(dir);
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function collect(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks;
}

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) {
    // each yield is one block pinned
  }
}
