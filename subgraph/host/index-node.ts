// graph-node's index-node status API (its server/index-node schema, the subset that describes one subgraph), served
// by server.ts at /graphql next to the query API in query.ts.
import { buildSchema, type DocumentNode, execute, parse, specifiedRules, validate } from "graphql";
import type { SubgraphDb } from "./db.ts";
import { type GraphQLRequest, type GraphQLResponse, toResponseError } from "./query.ts";

const INDEX_NODE_SDL = `
scalar BigInt
scalar Bytes

type Query {
  indexingStatusForCurrentVersion(subgraphName: String!): SubgraphIndexingStatus
  indexingStatusForPendingVersion(subgraphName: String!): SubgraphIndexingStatus
  indexingStatusesForSubgraphName(subgraphName: String!): [SubgraphIndexingStatus!]!
  indexingStatuses(subgraphs: [String!]): [SubgraphIndexingStatus!]!
}

type SubgraphIndexingStatus {
  subgraph: String!
  synced: Boolean!
  health: Health!
  "If the subgraph has failed, this is the error caused it"
  fatalError: SubgraphError
  "Sorted from first to last, limited to first 1000"
  nonFatalErrors: [SubgraphError!]!
  chains: [ChainIndexingStatus!]!
  entityCount: BigInt!
  "null if deployment is not assigned to an indexing node"
  node: String
  "null if deployment is not assigned to an indexing node"
  paused: Boolean
  historyBlocks: Int!
}

interface ChainIndexingStatus {
  network: String!
  chainHeadBlock: Block
  earliestBlock: EarliestBlock
  latestBlock: Block
  lastHealthyBlock: Block
}

type EthereumIndexingStatus implements ChainIndexingStatus {
  network: String!
  chainHeadBlock: Block
  earliestBlock: EarliestBlock
  latestBlock: Block
  lastHealthyBlock: Block
}

type Block {
  hash: Bytes!
  number: BigInt!
}

type EarliestBlock {
  hash: Bytes!
  number: BigInt!
}

type SubgraphError {
  message: String!
  block: Block
  handler: String
  deterministic: Boolean!
}

enum Health {
  "Subgraph syncing normally"
  healthy
  "Subgraph syncing but with errors"
  unhealthy
  "Subgraph halted due to errors"
  failed
}
`;

export interface IndexNodeOptions {
  /** The subgraph name the query API is served under. */
  name: string;
  /** The chain's name as graph-node reports it (the manifest's `network`). */
  network?: string;
  /** The chain head, when the server owner knows it (graph-node's `chainHeadBlock`; `synced` compares with it): a
   * block number or a pointer. A callback that throws counts as unknown. */
  chainHead?: () => Promise<ChainHead | undefined> | ChainHead | undefined;
}
export type ChainHead = number | bigint | { number: number | bigint; hash?: string };

/** graph-node's index-node API (`/graphql` on port 8030) for the one subgraph the embedded host indexes. */
export class IndexNodeApi {
  readonly schema = buildSchema(INDEX_NODE_SDL);

  constructor(
    readonly db: SubgraphDb,
    private readonly opts: IndexNodeOptions,
  ) {}

  private entityCount(): string {
    let n = 0;
    for (const e of this.db.model.entities.values())
      n += (
        this.db.db.prepare(`SELECT count(*) AS n FROM ${e.table} WHERE block_to IS NULL`).get() as {
          n: number;
        }
      ).n;
    return String(n);
  }

  private async status() {
    const head = this.db.head();
    const health = this.db.health();
    let chainHead: { number: number; hash: string } | undefined;
    try {
      const h = await this.opts.chainHead?.();
      if (h !== undefined && h !== null) {
        const number = Number(typeof h === "object" ? h.number : h);
        const hash = (typeof h === "object" ? h.hash : undefined) ?? this.db.blockPtr(number)?.hash ?? "0x0";
        chainHead = { number, hash };
      }
    } catch {
      chainHead = undefined;
    }
    const earliest = this.db.db.prepare("SELECT min(number) AS n FROM block_ptr").get() as {
      n: number | null;
    };
    const ptr = (b: { number: number; hash: string } | null | undefined) =>
      b ? { number: String(b.number), hash: b.hash } : null;
    const fatal = health.error
      ? {
          message: health.error.message,
          block: { number: String(health.error.block), hash: health.error.blockHash },
          handler: health.error.handler ?? null,
          deterministic: true,
        }
      : null;
    return {
      subgraph: this.db.deployment,
      synced: !health.failed && head !== null && (chainHead ? head.number >= chainHead.number : true),
      health: health.failed ? "failed" : "healthy",
      fatalError: fatal,
      nonFatalErrors: [],
      entityCount: this.entityCount(),
      node: "default",
      paused: false,
      historyBlocks: 2_147_483_647,
      chains: [
        {
          __typename: "EthereumIndexingStatus",
          network: this.opts.network ?? "unknown",
          chainHeadBlock: ptr(chainHead),
          earliestBlock: earliest.n === null ? null : { number: String(earliest.n), hash: "0x0" },
          latestBlock: ptr(head),
          lastHealthyBlock: health.failed ? ptr(head) : null,
        },
      ],
    };
  }

  async execute(req: GraphQLRequest): Promise<GraphQLResponse> {
    let doc: DocumentNode;
    try {
      doc = parse(req.query);
    } catch (e) {
      return { errors: [toResponseError(e)] };
    }
    const errors = validate(this.schema, doc, specifiedRules);
    if (errors.length > 0) return { errors: errors.map(toResponseError) };
    const ours = (name: unknown) => name === this.opts.name;
    const rootValue = {
      indexingStatusForCurrentVersion: ({ subgraphName }: { subgraphName: string }) =>
        ours(subgraphName) ? this.status() : null,
      indexingStatusForPendingVersion: () => null,
      indexingStatusesForSubgraphName: async ({ subgraphName }: { subgraphName: string }) =>
        ours(subgraphName) ? [await this.status()] : [],
      indexingStatuses: async ({ subgraphs }: { subgraphs?: string[] | null }) =>
        !subgraphs || subgraphs.includes(this.db.deployment) ? [await this.status()] : [],
    };
    try {
      const result = await execute({
        schema: this.schema,
        document: doc,
        rootValue,
        variableValues: req.variables ?? undefined,
        operationName: req.operationName ?? undefined,
      });
      const out: GraphQLResponse = {};
      if (result.data !== undefined) out.data = result.data;
      if (result.errors?.length) out.errors = result.errors.map(toResponseError);
      return out;
    } catch (e) {
      return { errors: [toResponseError(e)] };
    }
  }
}
