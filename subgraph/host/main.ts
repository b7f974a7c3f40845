// The embedded subgraph host as one service: an Indexer following the chain into a SQLite store, and the
// graph-node-style query server over that store. Used by `npm start` (script/src/start.ts) and by the CLI
// (subgraph/host/cli.ts).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type DeploymentRecord, defaultBuildDir, Indexer } from "./indexer.ts";
import { startQueryServer } from "./server.ts";

export interface SubgraphHostOptions {
  rpcUrl: string;
  deployment: DeploymentRecord;
  /** SQLite file (its folder is created); ":memory:" keeps nothing. */
  dbFile: string;
  buildDir?: string;
  /** Subgraph name in the URL path (default "computehive"). */
  name?: string;
  host?: string;
  /** Query server port (default 8000, as graph-node); 0 picks a free one. */
  port?: number;
  /** How often to look for new blocks, ms. */
  pollMs?: number;
  log?: (level: number, message: string) => void;
}

export interface SubgraphHost {
  indexer: Indexer;
  /** The query endpoint: http://host:port/subgraphs/name/<name>. */
  url: string;
  /** The index-node status endpoint (indexingStatusForCurrentVersion). */
  statusUrl: string;
  stop(): Promise<void>;
}

export async function startSubgraphHost(opts: SubgraphHostOptions): Promise<SubgraphHost> {
  if (opts.dbFile !== ":memory:") mkdirSync(dirname(opts.dbFile), { recursive: true });
  const indexer = await Indexer.create({
    rpcUrl: opts.rpcUrl,
    deployment: opts.deployment,
    buildDir: opts.buildDir ?? defaultBuildDir,
    dbFile: opts.dbFile,
    log: opts.log,
  });
  const server = await startQueryServer({
    db: indexer.store,
    name: opts.name ?? "computehive",
    host: opts.host ?? "127.0.0.1",
    port: opts.port ?? 8000,
    network: indexer.network,
    chainHead: async () => Number(await indexer.client.getBlockNumber()),
    // `block: { hash }` for a block the store did not keep: ask the node, and accept it only if it is canonical.
    resolveBlockHash: async (hash: string) => {
      const b = await indexer.client.getBlock({ blockHash: hash as `0x${string}` }).catch(() => null);
      if (!b || b.number === null) return undefined;
      const canonical = await indexer.client.getBlock({ blockNumber: b.number }).catch(() => null);
      return canonical?.hash === b.hash ? Number(b.number) : undefined;
    },
  });
  const abort = new AbortController();
  const following = indexer.follow(abort.signal, opts.pollMs ?? 500);
  const statusUrl = server.url.replace(/\/subgraphs\/name\/.*$/, "/graphql");
  return {
    indexer,
    url: server.url,
    statusUrl,
    async stop() {
      abort.abort();
      await following;
      await server.close();
      indexer.close();
    },
  };
}
