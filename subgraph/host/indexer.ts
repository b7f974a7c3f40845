// Follows one data source: fetches the market's logs in block ranges with viem and calls the handler the built
// manifest (build/subgraph.yaml) names for each, in (block, logIndex) order. No reorg handling yet: it indexes up
// to the head it sees and returns.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Abi, createPublicClient, type Hex, http, type PublicClient } from "viem";
import YAML from "yaml";
import {
  type BlockInfo,
  type EventSpec,
  eventSpecs,
  type RawLog,
  type TransactionInfo,
  writeEvent,
} from "./events.ts";
import { EntityStore } from "./store.ts";
import { MappingInstance } from "./wasm.ts";

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
  /** Blocks per eth_getLogs call. */
  blockRange?: number;
  store?: EntityStore;
  log?: (level: number, message: string) => void;
}

interface ManifestDataSource {
  name: string;
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
  return { name: ds.name, wasmFile: join(buildDir, ds.mapping.file), handlers };
}

export class Indexer {
  readonly store: EntityStore;
  readonly client: PublicClient;
  /** Last block fully indexed (startBlock - 1 before the first run). */
  head: bigint;
  handled = 0;
  private constructor(
    private readonly opts: IndexerOptions,
    private readonly mapping: MappingInstance,
    private readonly handlers: Map<Hex, HandlerBinding>,
    store: EntityStore,
  ) {
    this.store = store;
    this.client = createPublicClient({ transport: http(opts.rpcUrl) });
    this.head = BigInt(opts.deployment.startBlock) - 1n;
  }

  static async create(opts: IndexerOptions): Promise<Indexer> {
    const store = opts.store ?? new EntityStore();
    const ds = loadDataSource(opts.buildDir);
    const mapping = await MappingInstance.load(ds.wasmFile, store.context(opts.log));
    return new Indexer(opts, mapping, ds.handlers, store);
  }

  /** Indexes every block from the last indexed one to `toBlock` (default: the chain's head). */
  async syncTo(toBlock?: bigint): Promise<bigint> {
    const target = toBlock ?? (await this.client.getBlockNumber());
    const range = BigInt(this.opts.blockRange ?? 2000);
    while (this.head < target) {
      const from = this.head + 1n;
      const to = from + range - 1n < target ? from + range - 1n : target;
      const logs = (await this.client.getLogs({
        address: this.opts.deployment.market as Hex,
        fromBlock: from,
        toBlock: to,
      })) as unknown as (RawLog & { removed?: boolean })[];
      logs.sort((a, b) =>
        a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
      );
      await this.handleLogs(logs);
      this.head = to;
    }
    return this.head;
  }

  private async handleLogs(logs: RawLog[]) {
    const blocks = new Map<bigint, { block: BlockInfo; txs: Map<string, TransactionInfo> }>();
    /** transaction hash → number of its logs seen so far (the transactionLogIndex). */
    const perTx = new Map<string, number>();
    // transactionLogIndex is counted among this address's logs of the transaction (the logs are address-filtered);
    // a transaction that also has other contracts' logs would need its receipt to count them all.
    for (const log of logs) {
      const binding = this.handlers.get((log.topics[0] ?? "0x").toLowerCase() as Hex);
      const txLogIndex = perTx.get(log.transactionHash) ?? 0;
      perTx.set(log.transactionHash, txLogIndex + 1);
      if (!binding) continue;
      let b = blocks.get(log.blockNumber);
      if (!b) {
        b = await this.fetchBlock(log.blockNumber);
        blocks.set(log.blockNumber, b);
      }
      const tx = b.txs.get(log.transactionHash.toLowerCase());
      if (!tx) throw new Error(`transaction ${log.transactionHash} not in block ${log.blockNumber}`);
      const ptr = writeEvent(this.mapping, binding.spec, log, txLogIndex, b.block, tx);
      try {
        this.mapping.callHandler(binding.handler, ptr);
      } catch (e) {
        throw new Error(
          `${binding.handler} failed at block ${log.blockNumber} log ${log.logIndex} (tx ${log.transactionHash}): ${(e as Error).message}`,
          { cause: e },
        );
      }
      this.handled++;
    }
  }

  private async fetchBlock(number: bigint) {
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
