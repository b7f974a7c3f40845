// Follows one data source like graph-node does: fetches the market's logs over JSON-RPC in block ranges, builds
// the graph-ts event objects, calls the handlers the built manifest (build/subgraph.yaml) names, in (block, log
// index) order, and commits each block's entity versions atomically with the cursor (db.ts).
//
// Reorgs: before each step the stored head must still be on the chain (its hash at its number) and the first new
// block's parent hash must be the stored head's hash; each log's block hash must match the block fetched for it.
// On a mismatch the store rolls back to the highest stored block still on the chain (the common ancestor; every
// block that produced entity versions is stored) and indexing resumes from there.
//
// Provider limits: when eth_getLogs fails with a range/size limit error the range is halved (down to one block) and
// the step retried; after successes it grows back.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Abi, createPublicClient, type Hex, hexToBytes, http, type PublicClient } from "viem";
import YAML from "yaml";
import { SubgraphDb } from "./db.ts";
import {
  type BlockInfo,
  type EventSpec,
  eventSpecs,
  type RawLog,
  type TransactionInfo,
  writeEvent,
} from "./events.ts";
import { loadSchema } from "./model.ts";
import { type HostContext, MappingInstance, toBase58 } from "./wasm.ts";

/** The fields of a deployment record (deployments/<chainId>.json, the SDK's Deployment) the indexer uses. */
export interface DeploymentRecord {
  chainId: number;
  market: string;
  startBlock: number | bigint;
}

export interface IndexerOptions {
  rpcUrl: string;
  deployment: DeploymentRecord;
  /** The `graph build` output folder (with subgraph.yaml). */
  buildDir: string;
  /** SQLite file of the store; ":memory:" (the default) keeps nothing after the process ends. */
  dbFile?: string;
  /**
   * Blocks per eth_getLogs call to start with (default 500: the next range is fetched while the handlers of one
   * run, so smaller ranges overlap better); shrinks on provider limits.
   */
  blockRange?: number;
  log?: (level: number, message: string) => void;
  /** Called after each handler call, inside the block's transaction (tests use it to crash at exact points). */
  onHandled?: (count: number) => void;
  /** Called after each committed step with the new head. */
  onCommitted?: (head: number) => void;
}

interface ManifestDataSource {
  name: string;
  network?: string;
  source: { address?: string; abi: string; startBlock?: number };
  mapping: {
    file: string;
    abis: { name: string; file: string }[];
    eventHandlers?: { event: string; handler: string; receipt?: boolean }[];
  };
}

const norm = (sig: string) =>
  sig
    .replace(/\s+/g, " ")
    .replace(/\s*([(),])\s*/g, "$1")
    .trim();

export interface HandlerBinding {
  spec: EventSpec;
  handler: string;
}

/** Loads the built manifest's only data source: its wasm, ABI and topic0 → handler table. */
export function loadDataSource(buildDir: string) {
  const manifest = YAML.parse(readFileSync(join(buildDir, "subgraph.yaml"), "utf8")) as {
    schema: { file: string };
    dataSources: ManifestDataSource[];
  };
  const ds = manifest.dataSources[0];
  if (!ds || manifest.dataSources.length !== 1)
    throw new Error("the embedded host supports exactly one data source");
  const abiFile = ds.mapping.abis.find((a) => a.name === ds.source.abi);
  if (!abiFile) throw new Error(`ABI ${ds.source.abi} is not listed in the manifest`);
  const abi = JSON.parse(readFileSync(join(buildDir, abiFile.file), "utf8")) as Abi;
  const specs = eventSpecs(abi);
  const handlers = new Map<Hex, HandlerBinding>();
  for (const h of ds.mapping.eventHandlers ?? []) {
    if (h.receipt) throw new Error(`${h.handler}: receipt: true is not supported yet`);
    const spec = specs.find((s) => norm(s.manifestSignature) === norm(h.event));
    if (!spec) throw new Error(`manifest event ${h.event} matches no event of ABI ${ds.source.abi}`);
    handlers.set(spec.topic0.toLowerCase() as Hex, { spec, handler: h.handler });
  }
  return {
    name: ds.name,
    network: ds.network ?? "",
    wasmFile: join(buildDir, ds.mapping.file),
    schemaFile: join(buildDir, manifest.schema.file),
    abiFile: join(buildDir, abiFile.file),
    handlers,
  };
}

/**
 * The deployment id the embedded host reports in `_meta`: a sha2-256 multihash of the build (manifest, schema,
 * ABI, wasm) and the indexed contract, in CIDv0 form ("Qm…"). graph-node's id is the IPFS hash of the uploaded
 * manifest, which this is not: they differ, but each changes exactly when the build or the contract changes.
 */
export function deploymentId(
  buildDir: string,
  deployment: DeploymentRecord,
  ds: ReturnType<typeof loadDataSource> = loadDataSource(buildDir),
): string {
  const h = createHash("sha256");
  for (const f of [join(buildDir, "subgraph.yaml"), ds.schemaFile, ds.abiFile, ds.wasmFile])
    h.update(readFileSync(f));
  h.update(`${deployment.chainId}:${deployment.market.toLowerCase()}:${deployment.startBlock}`);
  return toBase58(Uint8Array.from([0x12, 0x20, ...h.digest()]));
}

/** A provider error that says the request asked for too much (range or result-size limits). */
export function isRangeLimitError(e: unknown): boolean {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur && i < 6; i++) {
    const o = cur as { message?: string; details?: string; code?: number; cause?: unknown };
    parts.push(String(o.message ?? ""), String(o.details ?? ""), String(o.code ?? ""));
    cur = o.cause;
  }
  const text = parts.join(" ");
  return /-32005|more than \d+ results|block range|range (is )?too (large|wide)|limit exceeded|too many (results|logs|blocks)|response size|query timeout|exceed/i.test(
    text,
  );
}

export class IndexingFailed extends Error {
  constructor(
    message: string,
    readonly block: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "IndexingFailed";
  }
}

interface FetchedRange {
  from: number;
  to: number;
  logs: RawLog[];
  numbers: number[];
  firstHeader: { parentHash: Hex };
  toHeader: { number: bigint | null; hash: Hex | null; parentHash: Hex; timestamp: bigint };
  fetched: FetchedBlock[];
}

interface FetchedBlock {
  block: BlockInfo;
  txs: Map<string, TransactionInfo>;
}

export class Indexer {
  readonly store: SubgraphDb;
  readonly client: PublicClient;
  readonly deployment: string;
  readonly network: string;
  /** Handler calls made by this process. */
  handled = 0;
  /** Reorgs this process rolled back. */
  reorgs = 0;
  private range: number;
  private readonly maxRange: number;
  private okSteps = 0;
  private readonly startBlock: number;

  private constructor(
    private readonly opts: IndexerOptions,
    private readonly mapping: MappingInstance,
    private readonly handlers: Map<Hex, HandlerBinding>,
    store: SubgraphDb,
    deployment: string,
    network: string,
  ) {
    this.store = store;
    this.deployment = deployment;
    this.network = network;
    // batch: the blocks of a range are fetched in one HTTP request.
    // cacheTime 0: viem otherwise reuses eth_blockNumber for 4 s and the indexer would lag behind the chain.
    this.client = createPublicClient({
      cacheTime: 0,
      transport: http(opts.rpcUrl, { batch: { batchSize: 200 }, retryCount: 3, retryDelay: 50 }),
    });
    this.maxRange = opts.blockRange ?? 500;
    this.range = this.maxRange;
    this.startBlock = Number(opts.deployment.startBlock);
  }

  static async create(opts: IndexerOptions): Promise<Indexer> {
    const ds = loadDataSource(opts.buildDir);
    const deployment = deploymentId(opts.buildDir, opts.deployment, ds);
    const store = new SubgraphDb(opts.dbFile ?? ":memory:", loadSchema(ds.schemaFile), deployment);
    const ctx: HostContext = store.context(
      { address: hexToBytes(opts.deployment.market as Hex), network: ds.network, context: new Map() },
      opts.log,
    );
    const mapping = await MappingInstance.load(ds.wasmFile, ctx);
    return new Indexer(opts, mapping, ds.handlers, store, deployment, ds.network);
  }

  /** The last block indexed (startBlock - 1 before the first). */
  get head(): bigint {
    return BigInt(this.store.head()?.number ?? this.startBlock - 1);
  }

  close() {
    this.store.close();
  }

  /**
   * Indexes up to `toBlock` (default: the chain's head at the call). Throws IndexingFailed when a handler fails
   * (the failure is recorded in the store, as graph-node marks the deployment failed, and later calls throw it
   * again without indexing).
   */
  async syncTo(toBlock?: bigint): Promise<bigint> {
    // One sync at a time (follow() and a caller may both ask): each waits for the one before it.
    const run = this.syncing.then(() => this.syncOnce(toBlock));
    this.syncing = run.catch(() => {});
    return run;
  }

  private syncing: Promise<unknown> = Promise.resolve();

  private async syncOnce(toBlock?: bigint): Promise<bigint> {
    // While one range's handlers run, the next range is already being fetched (the node works on it meanwhile).
    let ahead: { from: number; range: Promise<FetchedRange> } | null = null;
    const drop = () => {
      ahead?.range.catch(() => {}); // a discarded prefetch may fail; nobody waits for it
      ahead = null;
    };
    try {
      for (;;) {
        this.throwIfFailed();
        const target = Number(toBlock ?? (await this.client.getBlockNumber()));
        const head = Number(this.head);
        if (head >= target) {
          drop();
          // Nothing new; still make sure what we have was not reorganised away.
          if (await this.checkHead()) continue;
          return this.head;
        }
        const from = head + 1;
        const pending = ahead as { from: number; range: Promise<FetchedRange> } | null;
        const current: Promise<FetchedRange> =
          pending && pending.from === from ? pending.range : this.fetchRange(from, target);
        if (pending && pending.from !== from) drop();
        ahead = null;
        const range: FetchedRange = await current;
        if (range.to < target) ahead = { from: range.to + 1, range: this.fetchRange(range.to + 1, target) };
        if (!(await this.applyRange(range))) drop();
      }
    } finally {
      drop();
    }
  }

  /** Keeps indexing new blocks every `pollMs` until `signal` aborts; errors are logged and retried. */
  async follow(signal: AbortSignal, pollMs = 500): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.syncTo();
      } catch (e) {
        if (e instanceof IndexingFailed) {
          this.opts.log?.(1, `subgraph failed at block ${e.block}: ${e.message}`);
          return; // graph-node stops a failed deployment; queries keep serving the data before the failure
        }
        this.opts.log?.(2, `indexer: ${(e as Error).message}; retrying`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private throwIfFailed() {
    const h = this.store.health();
    if (h.failed && h.error) throw new IndexingFailed(h.error.message, h.error.block);
  }

  /** Returns true when the stored head is no longer on the chain (and rolls back to the common ancestor). */
  private async checkHead(): Promise<boolean> {
    const head = this.store.head();
    if (!head) return false;
    const onChain = await this.client.getBlock({ blockNumber: BigInt(head.number) }).catch(() => null);
    if (onChain && onChain.hash?.toLowerCase() === head.hash.toLowerCase()) return false;
    await this.rollBack();
    return true;
  }

  /** Rolls the store back to the highest stored block whose hash is still the chain's at that height. */
  private async rollBack() {
    const head = this.store.head();
    if (!head) return;
    let below = head.number;
    for (;;) {
      const ptrs = this.store.blockPtrsDescending(below, 100);
      if (ptrs.length === 0) break;
      const chain = await Promise.all(
        ptrs.map((p) => this.client.getBlock({ blockNumber: BigInt(p.number) }).catch(() => null)),
      );
      for (let i = 0; i < ptrs.length; i++) {
        const p = ptrs[i] as (typeof ptrs)[number];
        if (chain[i]?.hash?.toLowerCase() === p.hash) {
          this.opts.log?.(2, `reorg: rolled back from block ${head.number} to ${p.number}`);
          this.store.revertTo(p);
          this.reorgs++;
          return;
        }
      }
      below = (ptrs[ptrs.length - 1] as (typeof ptrs)[number]).number - 1;
    }
    this.opts.log?.(
      2,
      `reorg: no stored block is on the chain any more; indexing again from ${this.startBlock}`,
    );
    this.store.reset();
    this.reorgs++;
  }

  private async getLogs(from: number, to: number): Promise<{ logs: RawLog[]; to: number }> {
    for (;;) {
      const end = Math.min(to, from + this.range - 1);
      try {
        const logs = (await this.client.getLogs({
          address: this.opts.deployment.market as Hex,
          fromBlock: BigInt(from),
          toBlock: BigInt(end),
        })) as unknown as (RawLog & { blockHash: Hex; removed?: boolean })[];
        if (++this.okSteps >= 10 && this.range < this.maxRange) {
          this.range = Math.min(this.maxRange, this.range * 2);
          this.okSteps = 0;
        }
        return { logs, to: end };
      } catch (e) {
        if (!isRangeLimitError(e) || this.range === 1) throw e;
        this.range = Math.max(1, Math.floor((end - from + 1) / 2));
        this.okSteps = 0;
        this.opts.log?.(
          3,
          `eth_getLogs ${from}..${end} hit a provider limit; range now ${this.range} blocks`,
        );
      }
    }
  }

  /** Fetches the logs of [from, ≤ target] and the blocks they need (no store access: it may run ahead). */
  private async fetchRange(from: number, target: number): Promise<FetchedRange> {
    const { logs, to } = await this.getLogs(from, target);
    const numbers = [...new Set(logs.map((l) => Number(l.blockNumber)))].sort((a, b) => a - b);
    const [firstHeader, toHeader, fetched] = await Promise.all([
      this.client.getBlock({ blockNumber: BigInt(from) }),
      this.client.getBlock({ blockNumber: BigInt(to) }),
      Promise.all(numbers.map((n) => this.fetchBlock(BigInt(n)))),
    ]);
    return { from, to, logs, numbers, firstHeader, toHeader, fetched };
  }

  /**
   * Runs the handlers of a fetched range and commits it. Returns false (after rolling back) when the range does
   * not continue the stored chain: a reorg.
   */
  private async applyRange(range: FetchedRange): Promise<boolean> {
    const { to, logs, numbers, firstHeader, toHeader, fetched } = range;
    const prev = this.store.head();
    if (prev && firstHeader.parentHash.toLowerCase() !== prev.hash.toLowerCase()) {
      await this.rollBack();
      return false;
    }
    const byNumber = new Map(fetched.map((f) => [Number(f.block.number), f]));
    for (const l of logs) {
      const b = byNumber.get(Number(l.blockNumber));
      if (!b || b.block.hash.toLowerCase() !== (l as { blockHash: string }).blockHash.toLowerCase())
        return false; // the chain changed between the calls; fetch again
    }
    logs.sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
    const logsByBlock = new Map<number, RawLog[]>();
    for (const l of logs) {
      const n = Number(l.blockNumber);
      const list = logsByBlock.get(n);
      if (list) list.push(l);
      else logsByBlock.set(n, [l]);
    }
    const ptr = (b: BlockInfo) => ({
      number: Number(b.number),
      hash: b.hash.toLowerCase(),
      parentHash: b.parentHash.toLowerCase(),
      timestamp: Number(b.timestamp),
    });
    const headPtr = {
      number: Number(toHeader.number),
      hash: (toHeader.hash as Hex).toLowerCase(),
      parentHash: toHeader.parentHash.toLowerCase(),
      timestamp: Number(toHeader.timestamp),
    };
    const blocks = numbers.map((n) => ptr((byNumber.get(n) as FetchedBlock).block));
    let current: { handler: string; log: RawLog } | null = null;
    const failure = this.store.commitBlocks(
      blocks,
      headPtr,
      (bp) => {
        const fb = byNumber.get(bp.number) as FetchedBlock;
        for (const log of logsByBlock.get(bp.number) ?? []) {
          const binding = this.handlers.get((log.topics[0] ?? "0x").toLowerCase() as Hex);
          if (!binding) continue;
          const tx = fb.txs.get(log.transactionHash.toLowerCase());
          if (!tx) throw new Error(`transaction ${log.transactionHash} not in block ${log.blockNumber}`);
          current = { handler: binding.handler, log };
          // transactionLogIndex: graph-node passes the log's index in the block (graph-node PRs #1618, #6042:
          // geth-style nodes have no per-transaction log index), so the host does too.
          // graph-node instantiates the module afresh for every trigger. Instantiating costs ~0.2 ms here, as much
          // as the rest of a handler, so the host starts a fresh instance only once the memory passes 16 MiB (the
          // stub runtime never frees). Equivalent for mappings without mutable module-level state: the ComputeHive
          // mappings have none (test/coverage.test.mjs checks that src/ declares no top-level `let`/`var`).
          this.mapping.renewIfMemoryOver(16 * 1024 * 1024);
          const ev = writeEvent(this.mapping, binding.spec, log, log.logIndex, fb.block, tx);
          this.mapping.callHandler(binding.handler, ev);
          this.handled++;
          this.opts.onHandled?.(this.handled);
        }
      },
      (e, bp) => {
        const c = current as { handler: string; log: RawLog } | null;
        const what = c
          ? `${c.handler} failed at block ${bp.number} log ${c.log.logIndex} (tx ${c.log.transactionHash})`
          : `block ${bp.number} failed`;
        return { message: `${what}: ${(e as Error).message}`, handler: c?.handler };
      },
    );
    if (failure) {
      const h = this.store.health();
      throw new IndexingFailed(h.error?.message ?? String(failure), h.error?.block ?? -1, { cause: failure });
    }
    this.opts.onCommitted?.(to);
    return true;
  }

  private async fetchBlock(number: bigint): Promise<FetchedBlock> {
    const blk = await this.client.getBlock({ blockNumber: number, includeTransactions: true });
    const block: BlockInfo = {
      hash: blk.hash as Hex,
      parentHash: blk.parentHash,
      sha3Uncles: blk.sha3Uncles,
      miner: blk.miner,
      stateRoot: blk.stateRoot,
      transactionsRoot: blk.transactionsRoot,
      receiptsRoot: blk.receiptsRoot,
      number: blk.number as bigint,
      gasUsed: blk.gasUsed,
      gasLimit: blk.gasLimit,
      timestamp: blk.timestamp,
      difficulty: blk.difficulty,
      totalDifficulty: blk.totalDifficulty ?? null,
      size: blk.size,
      baseFeePerGas: blk.baseFeePerGas ?? null,
    };
    const txs = new Map<string, TransactionInfo>();
    for (const t of blk.transactions) {
      txs.set(t.hash.toLowerCase(), {
        hash: t.hash,
        index: t.transactionIndex ?? 0,
        from: t.from,
        to: t.to ?? null,
        value: t.value,
        gas: t.gas,
        gasPrice: t.gasPrice ?? 0n,
        input: t.input,
        nonce: t.nonce,
      });
    }
    return { block, txs };
  }
}

/** The default build folder: subgraph/build next to this host. */
export const defaultBuildDir = join(dirname(new URL(import.meta.url).pathname), "..", "build");
