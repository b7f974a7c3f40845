// Executes graph-node's query API (api-schema.ts) over the embedded host's SQLite store (model.ts, db.ts).
//
// Like graph-node (graphql/src/store/prefetch.rs) a query runs in two passes: first every entity collection the
// query selects is fetched level by level with one SQL query per (level, field) — the children of all parents of a
// level together, never one query per parent — then graphql-js executes the query over the prefetched tree, which
// takes care of aliases, fragments, `__typename`, introspection and result shapes. Each top-level field runs at the
// block its `block` argument names (the latest block without one); every nested field uses its top-level field's
// block. Filters, ordering and paging are compiled to parameterised SQL with graph-node's semantics
// (store/postgres/src/relational_queries.rs, graphql/src/store/query.rs); error texts are graph-node's
// (graph/src/data/query/error.rs).
//
// The index-node status API (`indexingStatusForCurrentVersion` and friends, graph-node's port 8030) is
// `IndexNodeApi` at the end.
import type Database from "better-sqlite3";
import {
  type DocumentNode,
  execute,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLObjectType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getVariableValues,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  specifiedRules,
  validate,
  visit,
} from "graphql";
import { type ApiSchema, buildApiSchema, type FilterKey } from "./api-schema.ts";
import type { BlockPtr, SubgraphDb } from "./db.ts";
import { formatDecimal, parseDecimal } from "./decimal.ts";
import { type EntityModel, type FieldModel, type Scalar, sortKeyBigInt, sortKeyDecimal } from "./model.ts";

export interface QueryOptions {
  /** Deepest field nesting a query may have (graph-node's GRAPH_GRAPHQL_MAX_DEPTH; introspection is exempt). */
  maxDepth?: number;
  /** Most entities one response may hold. */
  maxEntities?: number;
  /** Largest `first` (graph-node's GRAPH_GRAPHQL_MAX_FIRST, 1000). */
  maxFirst?: number;
  /** Largest `skip` (graph-node's GRAPH_GRAPHQL_MAX_SKIP, unlimited: u32::MAX). */
  maxSkip?: number;
  /** Most field selections and fragment spreads a query document may contain (graphql-js's validation of
   * overlapping fields is quadratic in repeated fields: 4000 copies of one field take seconds). */
  maxSelections?: number;
  /** Number of a block hash the store has no pointer for (e.g. asked of the chain), if known and canonical. */
  resolveBlockHash?: (hash: string) => Promise<number | undefined> | number | undefined;
}

export const DEFAULT_MAX_DEPTH = 10;
export const DEFAULT_MAX_ENTITIES = 100_000;
export const DEFAULT_MAX_FIRST = 1000;
export const DEFAULT_MAX_SKIP = 4_294_967_295;
export const DEFAULT_MAX_SELECTIONS = 1000;
/** Parser bound: far above any real query, below what a 256 KiB body could hold. */
const MAX_TOKENS = 50_000;

export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export interface ResponseError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
}

/** A response as graph-node sends it: `data` only when there is data, `errors` only when there are errors. */
export interface GraphQLResponse {
  data?: unknown;
  errors?: ResponseError[];
}

/** A query error with graph-node's message; the whole query fails with it (graph-node's prefetch errors). */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryError";
  }
}

const valueParseError = (what: string, msg: string) =>
  new QueryError(`Failed to decode \`${what}\` value: \`${msg}\``);
const INVALID_FILTER = "Filter must by an object"; // sic, graph-node's text

// ---- values: query input → stored form / sort key ----

/** graph-node's `Bytes::from_str`: optional 0x, then hex (the `hex` crate's errors). Returns lower-case 0x-hex. */
function hexOrError(s: string, what: string): string {
  const digits = s.startsWith("0x") ? s.slice(2) : s;
  if (digits.length % 2 !== 0) throw valueParseError(what, "Odd number of digits");
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw valueParseError(what, `Invalid character '${bad[0]}' at position ${bad.index}`);
  return `0x${digits.toLowerCase()}`;
}
export const normalizeHex = (s: string) => hexOrError(s, "Bytes");

function parseBigInt(v: unknown): bigint {
  const s = String(v);
  if (s === "") throw valueParseError("BigInt", "cannot parse integer from empty string");
  if (!/^[+-]?\d+$/.test(s)) throw valueParseError("BigInt", "invalid digit found in string");
  return BigInt(s);
}

function checkDecimal(v: unknown): string {
  const s = String(v);
  if (s === "") throw valueParseError("BigDecimal", "Failed to parse empty string");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s))
    throw valueParseError("BigDecimal", "invalid digit found in string");
  return s;
}

function parseInt8(v: unknown): bigint {
  const s = String(v);
  if (!/^[+-]?\d+$/.test(s)) throw valueParseError("Int8", "invalid digit found in string");
  return BigInt(s);
}

const int8Param = (x: bigint) => (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x);

/** The value a filter compares a column (or its sort key) with. */
function comparable(storage: Scalar, v: unknown): unknown {
  switch (storage) {
    case "String":
    case "ID":
      return String(v);
    case "Bytes":
      return normalizeHex(String(v));
    case "BigInt":
      return sortKeyBigInt(parseBigInt(v));
    case "BigDecimal":
      return sortKeyDecimal(checkDecimal(v));
    case "Int":
      return Number(v);
    case "Int8":
    case "Timestamp":
      return int8Param(parseInt8(v));
    case "Boolean":
      return v ? 1 : 0;
  }
}

/** A value as db.ts stores it inside a list column (JSON). */
function storedForm(storage: Scalar, v: unknown): unknown {
  switch (storage) {
    case "BigInt":
      return parseBigInt(v).toString();
    case "BigDecimal":
      return formatDecimal(parseDecimal(checkDecimal(v)));
    case "Int8":
    case "Timestamp":
      return Number(parseInt8(v));
    default:
      return comparable(storage, v);
  }
}

/** JSON for json_each(): bigints as numbers when exact (so that they match INTEGER columns), else as text. */
const jsonArray = (xs: unknown[]) =>
  JSON.stringify(xs, (_k, x) => {
    if (typeof x !== "bigint") return x;
    const n = int8Param(x);
    return typeof n === "number" ? n : n.toString();
  });

/** graph-node's LIKE pattern (`%`, `_`, `\` escapes) as an equivalent SQLite GLOB pattern. */
function likeToGlob(like: string, lower: boolean): string {
  let out = "";
  for (let i = 0; i < like.length; i++) {
    let ch = like[i] as string;
    if (ch === "\\" && i + 1 < like.length) {
      ch = like[++i] as string;
    } else if (ch === "%") {
      out += "*";
      continue;
    } else if (ch === "_") {
      out += "?";
      continue;
    }
    if (lower) ch = ch.replace(/[A-Z]/g, (c) => c.toLowerCase());
    out += ch === "*" || ch === "?" || ch === "[" ? `[${ch}]` : ch;
  }
  return out;
}

/** Rust-Debug-like rendering of an input value, for graph-node's InvalidArgument / type error texts. */
function showValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(showValue).join(", ")}]`;
  if (typeof v === "object")
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}: ${showValue(x)}`)
      .join(", ")}}`;
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// ---- SQL helpers ----

class Params {
  readonly values: Record<string, unknown> = {};
  private n = 0;
  add(v: unknown): string {
    const k = `p${this.n++}`;
    this.values[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
    return `@${k}`;
  }
}

/** Bytes `_contains`: a byte-aligned substring of the hex (graph-node: `position(value in column) > 0`). */
function bytesContains(hay: unknown, needle: unknown): number | null {
  if (typeof hay !== "string" || typeof needle !== "string") return null;
  const h = hay.slice(2);
  const n = needle.slice(2);
  if (n === "") return 1;
  for (let i = h.indexOf(n); i !== -1; i = h.indexOf(n, i + 1)) if (i % 2 === 0) return 1;
  return 0;
}

const registered = new WeakSet<Database.Database>();
/** Registers the SQL functions the compiled queries use on a connection (idempotent). */
export function registerQueryFunctions(db: Database.Database) {
  if (registered.has(db)) return;
  db.function("gn_bytes_contains", { deterministic: true }, bytesContains);
  registered.add(db);
}

// ---- the executor ----

type Row = Record<string, unknown>;
type Obj = Record<string, unknown>;
const RAW = Symbol("row");
type Parent = Obj & { [RAW]: Row };

interface BlockRef {
  number: number;
  hash: string | null;
  timestamp: number | null;
  parentHash: string | null;
}

type Fields = Map<string, FieldNode[]>;

export class QueryEngine {
  readonly api: ApiSchema;
  readonly maxDepth: number;
  readonly maxEntities: number;
  readonly maxFirst: number;
  readonly maxSkip: number;
  readonly maxSelections: number;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly entityTypes: Set<string>;

  constructor(
    readonly db: SubgraphDb,
    private readonly opts: QueryOptions = {},
  ) {
    this.api = buildApiSchema(db.model);
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxEntities = opts.maxEntities ?? DEFAULT_MAX_ENTITIES;
    this.maxFirst = opts.maxFirst ?? DEFAULT_MAX_FIRST;
    this.maxSkip = opts.maxSkip ?? DEFAULT_MAX_SKIP;
    this.maxSelections = opts.maxSelections ?? DEFAULT_MAX_SELECTIONS;
    this.entityTypes = new Set(db.model.entities.keys());
    registerQueryFunctions(db.db);
  }

  get schema(): GraphQLSchema {
    return this.api.schema;
  }

  /** Runs one GraphQL request; never throws for anything the request contains. */
  async execute(req: GraphQLRequest): Promise<GraphQLResponse> {
    let doc: DocumentNode;
    try {
      doc = parse(req.query, { maxTokens: MAX_TOKENS });
    } catch (e) {
      return { errors: [toResponseError(e)] };
    }
    let selections = 0;
    visit(doc, {
      Field: () => void selections++,
      FragmentSpread: () => void selections++,
    });
    if (selections > this.maxSelections)
      return {
        errors: [
          { message: `query has ${selections} selections, more than the limit of \`${this.maxSelections}\`` },
        ],
      };
    try {
      const errors = validate(this.api.schema, doc, specifiedRules);
      if (errors.length > 0) return { errors: errors.map(toResponseError) };
      const fragments: Record<string, FragmentDefinitionNode> = {};
      const ops: OperationDefinitionNode[] = [];
      for (const d of doc.definitions) {
        if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
        else if (d.kind === Kind.OPERATION_DEFINITION) ops.push(d);
      }
      let op: OperationDefinitionNode | undefined;
      if (req.operationName) {
        op = ops.find((o) => o.name?.value === req.operationName);
        if (!op) throw new QueryError(`Operation name not found \`${req.operationName}\``);
      } else if (ops.length > 1) throw new QueryError("Operation name required");
      else op = ops[0];
      if (!op) throw new QueryError("The query is empty");
      const depth = selectionDepth(op.selectionSet, fragments, new Map());
      if (depth > this.maxDepth)
        throw new QueryError(`query has a depth that exceeds the limit of \`${this.maxDepth}\``);

      let rootValue: Obj = {};
      if (op.operation === "query") {
        const coerced = getVariableValues(this.api.schema, op.variableDefinitions ?? [], req.variables ?? {});
        if (coerced.errors) return { errors: coerced.errors.map(toResponseError) };
        const run = new Run(this, fragments, coerced.coerced);
        rootValue = await run.prefetchRoot(op.selectionSet);
      }
      const result = await execute({
        schema: this.api.schema,
        document: doc,
        rootValue,
        variableValues: req.variables ?? undefined,
        operationName: req.operationName ?? undefined,
        fieldResolver: (source, _args, _ctx, info) => {
          const named = getNamedType(info.returnType);
          const src = source as Obj;
          if (info.parentType.name === "Query" || (isObjectType(named) && this.entityTypes.has(named.name))) {
            const v = src[`@${info.path.key}`];
            if ((v === null || v === undefined) && isNonNullType(info.returnType))
              throw new GraphQLError(`Null value resolved for non-null field \`${info.fieldName}\``);
            return v;
          }
          return src[info.fieldName];
        },
      });
      const out: GraphQLResponse = {};
      if (result.data !== undefined && result.data !== null) out.data = result.data;
      else if (result.data === null && !result.errors) out.data = null;
      if (result.errors?.length) out.errors = result.errors.map(toResponseError);
      return out;
    } catch (e) {
      if (e instanceof QueryError) return { errors: [{ message: e.message }] };
      if (e instanceof GraphQLError) return { errors: [toResponseError(e)] };
      return { errors: [{ message: `Store error: ${e instanceof Error ? e.message : String(e)}` }] };
    }
  }

  // ---- block constraints ----

  /** The latest indexed block; one snapshot per query, as graph-node's deployment state. */
  head(): BlockPtr {
    const head = this.db.head();
    if (!head) throw new QueryError(`subgraph ${this.db.deployment} has not started syncing yet`);
    return head;
  }

  private notYet(what: string, head: BlockPtr, n: number) {
    return valueParseError(
      what,
      `subgraph ${this.db.deployment} has only indexed up to block number ${head.number} and data for block number ${n} is therefore not yet available`,
    );
  }

  /** The block a `block: Block_height` argument names (graph-node's `locate_blocks`). */
  async resolveBlock(arg: unknown, head: BlockPtr): Promise<BlockRef> {
    const b = isPlainObject(arg) ? arg : {};
    if (typeof b.hash === "string") {
      const hash = hexOrError(b.hash, "block.hash");
      const ptr = this.db.blockPtrByHash(hash);
      const number = ptr?.number ?? (await this.opts.resolveBlockHash?.(hash));
      if (number === undefined) throw valueParseError("block.hash", "no block with that hash found");
      if (number > head.number) throw this.notYet("block.number", head, number);
      return { number, hash, timestamp: ptr?.timestamp ?? null, parentHash: ptr?.parentHash ?? null };
    }
    if (typeof b.number === "number") {
      if (b.number > head.number) throw this.notYet("block.number", head, b.number);
      // graph-node has no hash for a block asked by number (its `_meta.block.hash` is null then).
      return { number: b.number, hash: null, timestamp: null, parentHash: null };
    }
    if (typeof b.number_gte === "number" && head.number < b.number_gte)
      throw this.notYet("block.number_gte", head, b.number_gte);
    return {
      number: head.number,
      hash: head.hash,
      timestamp: head.timestamp,
      parentHash: head.parentHash ?? null,
    };
  }

  // ---- statements ----

  stmt(sql: string, safeIntegers: boolean): Database.Statement {
    const key = `${safeIntegers ? 1 : 0}${sql}`;
    let s = this.stmts.get(key);
    if (!s) {
      if (this.stmts.size > 500) this.stmts.clear();
      s = this.db.db.prepare(sql);
      if (safeIntegers) s.safeIntegers(true);
      this.stmts.set(key, s);
    }
    return s;
  }
}

export function toResponseError(e: unknown): ResponseError {
  if (e instanceof GraphQLError) {
    const out: ResponseError = { message: e.message };
    if (e.locations?.length) out.locations = e.locations.map((l) => ({ line: l.line, column: l.column }));
    if (e.path) out.path = [...e.path];
    return out;
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/** Deepest field nesting of a selection set (top-level fields are depth 1); `__schema`/`__type` are exempt. */
function selectionDepth(
  ss: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  memo: Map<string, number>,
): number {
  let max = 0;
  for (const sel of ss.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value === "__schema" || sel.name.value === "__type") continue;
      max = Math.max(max, 1 + (sel.selectionSet ? selectionDepth(sel.selectionSet, fragments, memo) : 0));
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, selectionDepth(sel.selectionSet, fragments, memo));
    } else {
      const name = sel.name.value;
      let d = memo.get(name);
      if (d === undefined) {
        memo.set(name, 0); // cycles are rejected by validation; this guards the walk anyway
        const f = fragments[name];
        d = f ? selectionDepth(f.selectionSet, fragments, memo) : 0;
        memo.set(name, d);
      }
      max = Math.max(max, d);
    }
  }
  return max;
}

const hasStorage = (e: EntityModel, kinds: Scalar[]) =>
  kinds.includes(e.idStorage) || e.fields.some((f) => f.column && kinds.includes(f.storage));

/** A stored column value as the API returns it (graph-node: BigInt, BigDecimal, Int8 and Bytes as strings). */
function outScalar(s: Scalar, c: unknown): unknown {
  switch (s) {
    case "Int":
      return Number(c);
    case "Boolean":
      return c === 1 || c === 1n || c === true;
    default:
      return typeof c === "bigint" ? c.toString() : String(c);
  }
}

/** One query's prefetch: the entity tree under the root fields, at their blocks. */
class Run {
  private count = 0;
  private aliasN = 0;

  constructor(
    private readonly engine: QueryEngine,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
  ) {}

  private get api() {
    return this.engine.api;
  }

  private entity(name: string): EntityModel {
    return this.api.model.entities.get(name) as EntityModel;
  }

  // ---- field collection (graphql-js `collectFields`, for object types without interfaces) ----

  private include(node: { directives?: readonly unknown[] }): boolean {
    const n = node as FieldNode;
    if (!n.directives?.length) return true;
    if (getDirectiveValues(GraphQLSkipDirective, n, this.variables)?.if === true) return false;
    if (getDirectiveValues(GraphQLIncludeDirective, n, this.variables)?.if === false) return false;
    return true;
  }

  private collect(type: string, ss: SelectionSetNode, out: Fields, seen: Set<string>): Fields {
    for (const sel of ss.selections) {
      if (!this.include(sel)) continue;
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const list = out.get(key);
        if (list) list.push(sel);
        else out.set(key, [sel]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (!sel.typeCondition || sel.typeCondition.name.value === type)
          this.collect(type, sel.selectionSet, out, seen);
      } else {
        const name = sel.name.value;
        if (seen.has(name)) continue;
        seen.add(name);
        const f = this.fragments[name];
        if (f && f.typeCondition.name.value === type) this.collect(type, f.selectionSet, out, seen);
      }
    }
    return out;
  }

  private subfields(type: string, nodes: readonly FieldNode[]): Fields {
    const out: Fields = new Map();
    const seen = new Set<string>();
    for (const n of nodes) if (n.selectionSet) this.collect(type, n.selectionSet, out, seen);
    return out;
  }

  private args(type: GraphQLObjectType, node: FieldNode): Record<string, unknown> {
    const def = type.getFields()[node.name.value] as GraphQLField<unknown, unknown>;
    return getArgumentValues(def, node, this.variables);
  }

  // ---- root ----

  /** Resolves every top-level field's block first (the only awaits: a block hash may be asked of the chain),
   * then fetches all data synchronously, so no commit of the indexer can interleave with a query's reads. */
  async prefetchRoot(ss: SelectionSetNode): Promise<Obj> {
    const query = this.api.schema.getQueryType() as GraphQLObjectType;
    const fields = [...this.collect("Query", ss, new Map(), new Set())]
      .map(([key, nodes]) => ({ key, nodes, node: nodes[0] as FieldNode }))
      .filter((f) => !f.node.name.value.startsWith("__"));
    if (fields.length === 0) return {};
    const head = this.engine.head();
    const planned: {
      key: string;
      nodes: FieldNode[];
      name: string;
      args: Record<string, unknown>;
      b: BlockRef;
    }[] = [];
    for (const { key, nodes, node } of fields) {
      const args = this.args(query, node);
      planned.push({
        key,
        nodes,
        name: node.name.value,
        args,
        b: await this.engine.resolveBlock(args.block, head),
      });
    }
    const root: Obj = {};
    for (const { key, nodes, name, args, b } of planned) {
      if (name === "_meta") {
        root[`@${key}`] = {
          deployment: this.engine.db.deployment,
          // The embedded host stops before the failing block (graph-node records a deterministic error from that
          // block on, so that a query at the head would not see it); a recorded failure is reported at every block.
          hasIndexingErrors: this.engine.db.health().failed,
          block: { number: b.number, hash: b.hash, timestamp: b.timestamp, parentHash: b.parentHash },
        };
        continue;
      }
      const qf = this.api.queryFields.get(name);
      if (!qf) continue;
      if (qf.kind === "single") {
        const obj = this.single(qf.entity, args.id, nodes, b.number);
        if (obj) {
          this.counted(1);
          this.children(qf.entity, [obj], nodes, b.number);
        }
        root[`@${key}`] = obj;
      } else {
        const objs = this.collection(qf.entity, args, nodes, b.number);
        this.children(qf.entity, objs, nodes, b.number);
        root[`@${key}`] = objs;
      }
    }
    return root;
  }

  private counted(n: number) {
    this.count += n;
    if (this.count > this.engine.maxEntities)
      throw new QueryError(
        `the result size of ${this.count} entities is larger than the allowed limit of ${this.engine.maxEntities}`,
      );
  }

  private idValue(e: EntityModel, id: unknown): unknown {
    if (e.idStorage === "Bytes") return normalizeHex(String(id));
    if (e.idStorage === "Int8") return int8Param(parseInt8(id));
    return String(id);
  }

  private blockCond(e: EntityModel, a: string, p: Params, block: number): string {
    const b = p.add(block);
    return e.immutable
      ? `${a}.block_from <= ${b}`
      : `${a}.block_from <= ${b} AND (${a}.block_to IS NULL OR ${a}.block_to > ${b})`;
  }

  private rows(e: EntityModel, sql: string, p: Params): IterableIterator<Row> {
    const safe = hasStorage(e, ["Int8", "Timestamp"]);
    return this.engine.stmt(sql, safe).iterate(p.values) as IterableIterator<Row>;
  }

  /** The columns a selection needs: the id, the selected fields' columns (references' too: their ids link the
   * next level). Fetching only these matters: materialising every column costs ~20x on wide tables. */
  private selectList(e: EntityModel, nodes: readonly FieldNode[]): string {
    const cols = new Set<string>(["c.id"]);
    for (const fnodes of this.subfields(e.name, nodes).values()) {
      const f = e.byName.get((fnodes[0] as FieldNode).name.value);
      if (f?.column && f.name !== "id") cols.add(`c.${f.column}`);
    }
    return [...cols].join(", ");
  }

  private toObject(e: EntityModel, row: Row): Parent {
    const o = { [RAW]: row } as Parent;
    for (const f of e.fields) {
      if (!f.column || f.kind === "entity") continue;
      const c = f.name === "id" ? row.id : row[f.name];
      if (c === undefined) continue; // not selected
      if (c === null) o[f.name] = null;
      else if (f.list)
        o[f.name] = (JSON.parse(String(c)) as unknown[]).map((x) =>
          x === null ? null : outScalar(f.storage, x),
        );
      else o[f.name] = outScalar(f.storage, c);
    }
    o.id = outScalar(e.idStorage, row.id);
    return o;
  }

  private single(e: EntityModel, id: unknown, nodes: readonly FieldNode[], block: number): Parent | null {
    const p = new Params();
    const sql = `SELECT ${this.selectList(e, nodes)} FROM ${e.table} c WHERE c.id = ${p.add(this.idValue(e, id))} AND ${this.blockCond(e, "c", p, block)}`;
    for (const row of this.rows(e, sql, p)) return this.toObject(e, row);
    return null;
  }

  // ---- paging, ordering ----

  private range(args: Record<string, unknown>): { first: number; skip: number } {
    const first = typeof args.first === "number" ? args.first : 100;
    if (!(first > 0 && first <= this.engine.maxFirst))
      throw new QueryError(
        `The \`first\` argument must be between 0 and ${this.engine.maxFirst}, but is ${first}`,
      );
    const skip = typeof args.skip === "number" ? args.skip : 0;
    if (!(skip >= 0 && skip <= this.engine.maxSkip))
      throw new QueryError(
        `The \`skip\` argument must be between 0 and ${this.engine.maxSkip}, but is ${skip}`,
      );
    return { first, skip };
  }

  private idExpr(e: EntityModel, a: string) {
    return e.idStorage === "Int8" ? `CAST(${a}.id AS INTEGER)` : `${a}.id`;
  }

  /** The expression a field sorts by: BigInt/BigDecimal by their order-preserving keys, enums in declaration
   * order (graph-node's columns are Postgres enums), the rest by the column. */
  private sortExpr(f: FieldModel, a: string): string {
    if (f.name === "id") return `${a}.id`;
    if (f.sortColumn) return `${a}.${f.sortColumn}`;
    if (f.kind === "enum" && !f.list) {
      const values = this.api.model.enums.get(f.typeName)?.values ?? [];
      const whens = values.map((v, i) => `WHEN '${v.replace(/'/g, "''")}' THEN ${i}`).join(" ");
      return `(CASE ${a}.${f.column} ${whens} END)`;
    }
    return `${a}.${f.column}`;
  }

  /** `ORDER BY` terms and the joins they need (graph-node: `attr dir, id dir`; NULLs last ascending and first
   * descending, as Postgres sorts them). */
  private order(
    e: EntityModel,
    a: string,
    args: Record<string, unknown>,
    p: Params,
    block: number,
    nested: boolean,
  ): { joins: string; terms: string } {
    const orderBy = typeof args.orderBy === "string" ? args.orderBy : undefined;
    // graph-node: without orderBy the order is `id asc`, whatever orderDirection says.
    if (!orderBy) return { joins: "", terms: `${this.idExpr(e, a)} ASC` };
    const dir = args.orderDirection === "desc" ? "DESC" : "ASC";
    const nulls = dir === "ASC" ? "NULLS LAST" : "NULLS FIRST";
    const key = this.api.orderKeys.get(e.name)?.get(orderBy);
    if (!key) throw new QueryError(`Entity \`${e.name}\` has no attribute \`${orderBy}\``);
    const f = key.field;
    if (!key.child) {
      if (f.name === "id") return { joins: "", terms: `${this.idExpr(e, a)} ${dir}` };
      if (f.kind === "entity" && (f.list || f.derivedFrom))
        throw new QueryError(`Ordering by \`${f.name}\` is not supported for type \`${e.name}\``);
      const n = f.nonNull ? "" : ` ${nulls}`;
      return { joins: "", terms: `${this.sortExpr(f, a)} ${dir}${n}, ${this.idExpr(e, a)} ${dir}` };
    }
    if (nested)
      // graph-node's window queries for nested collections cannot sort by a child (relational_queries.rs).
      throw new QueryError("Store error: SortKey::ChildKey cannot be used for parent ordering (yet)");
    const target = this.entity(f.typeName);
    const cc = `o${this.aliasN++}`;
    const on = f.derivedFrom
      ? `${cc}.${(target.byName.get(f.derivedFrom) as FieldModel).column} = ${a}.id`
      : `${cc}.id = ${a}.${f.column}`;
    const joins = ` LEFT JOIN ${target.table} ${cc} ON ${on} AND ${this.blockCond(target, cc, p, block)}`;
    // Ties on the child's value (several parents with the same child) are broken by the parent's id.
    const expr = key.child.name === "id" ? this.idExpr(target, cc) : this.sortExpr(key.child, cc);
    return { joins, terms: `${expr} ${dir} ${nulls}, ${this.idExpr(e, a)} ${dir}` };
  }

  // ---- filters ----

  private where(e: EntityModel, a: string, filter: unknown, p: Params, block: number): string {
    if (filter === undefined || filter === null) return "1";
    if (!isPlainObject(filter)) throw new QueryError(INVALID_FILTER);
    return this.filter(e, a, filter, p, block, false);
  }

  /** An object of `T_filter`: its entries ANDed (graph-node's `build_filter_from_object`). */
  private filter(
    e: EntityModel,
    a: string,
    obj: Record<string, unknown>,
    p: Params,
    block: number,
    inChild: boolean,
  ): string {
    const keys = this.api.filterKeys.get(e.name) as Map<string, FilterKey>;
    const parts: string[] = [];
    for (const [key, value] of Object.entries(obj)) {
      if (key === "_change_block") {
        const n = isPlainObject(value) ? value.number_gte : undefined;
        if (typeof n !== "number") throw new QueryError(INVALID_FILTER);
        parts.push(`${a}.block_from >= ${p.add(n)}`);
        continue;
      }
      if (key === "and" || key === "or") {
        // graph-node builds `and`/`or` from every value of the object, each of which must be a list of filters;
        // mixing them with column filters at the same level is an error ("Filter must by an object").
        const subs: string[] = [];
        for (const v of Object.values(obj)) {
          if (!Array.isArray(v)) throw new QueryError(INVALID_FILTER);
          for (const item of v) {
            if (!isPlainObject(item)) throw new QueryError(INVALID_FILTER);
            subs.push(this.filter(e, a, item, p, block, inChild));
          }
        }
        if (key === "and") parts.push(subs.length ? `(${subs.join(" AND ")})` : "1");
        else parts.push(subs.length ? `(${subs.join(" OR ")})` : "0");
        continue;
      }
      const k = keys.get(key);
      if (!k) throw new QueryError(`Entity \`${e.name}\` has no attribute \`${key}\``);
      parts.push(this.op(e, a, k, value, p, block, inChild));
    }
    return parts.length ? `(${parts.join(" AND ")})` : "1";
  }

  private op(
    e: EntityModel,
    a: string,
    k: FilterKey,
    value: unknown,
    p: Params,
    block: number,
    inChild: boolean,
  ): string {
    const f = k.field;
    if (k.op === "child") return this.child(a, k, value, p, block, inChild);
    const col = `${a}.${f.column}`;
    const storage: Scalar = f.kind === "enum" ? "String" : f.storage;
    const unsupported = (op: string) =>
      new QueryError(`Store error: unsupported filter \`${op}\` for value \`${showValue(value)}\``);

    if (f.list) {
      if (value === null) {
        if (k.op === "") return `${col} IS NULL`;
        if (k.op === "not") return `${col} IS NOT NULL`;
        throw unsupported(k.op.startsWith("not") ? "not_contains" : "contains");
      }
      const items = (value as unknown[]).map((x) => storedForm(storage, x));
      if (k.op === "" || k.op === "not")
        return `${col} ${k.op === "" ? "=" : "!="} ${p.add(jsonArray(items))}`;
      const arr = p.add(jsonArray(items));
      // graph-node: `_contains` is `column @> values` (every value present), `_not_contains` is
      // `not column && values` (no value present); the `_nocase` forms behave the same on lists.
      if (k.op === "contains" || k.op === "contains_nocase")
        return `(${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(${arr}) v WHERE NOT EXISTS (SELECT 1 FROM json_each(${col}) w WHERE w.value = v.value)))`;
      return `(${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(${col}) w WHERE w.value IN (SELECT value FROM json_each(${arr}))))`;
    }

    const cmp = f.name === "id" ? this.idExpr(e, a) : this.sortExpr(f, a);
    const cmpCol = f.sortColumn || f.name === "id" ? cmp : col; // enums compare by text, sort by position
    switch (k.op) {
      case "":
        return value === null ? `${col} IS NULL` : `${cmpCol} = ${p.add(comparable(storage, value))}`;
      case "not":
        return value === null ? `${col} IS NOT NULL` : `${cmpCol} != ${p.add(comparable(storage, value))}`;
      case "gt":
      case "lt":
      case "gte":
      case "lte": {
        const sqlOp = { gt: ">", lt: "<", gte: ">=", lte: "<=" }[k.op];
        if (value === null) throw unsupported(` ${sqlOp} `);
        return `${cmpCol} ${sqlOp} ${p.add(comparable(storage, value))}`;
      }
      case "in":
      case "not_in": {
        if (!Array.isArray(value)) throw new QueryError(`Non-list value passed to \`_${k.op}\` filter`);
        if (value.length === 0) return "0"; // graph-node: an empty list matches nothing, for `_not_in` too
        const arr = p.add(jsonArray(value.map((x) => comparable(storage, x))));
        return `${cmpCol} ${k.op === "in" ? "IN" : "NOT IN"} (SELECT value FROM json_each(${arr}))`;
      }
      default:
        break;
    }
    if (value === null) throw unsupported(k.op.startsWith("not") ? "not_contains" : "contains");
    if (storage === "Bytes" && f.kind === "scalar") {
      // Bytes `_contains`: byte substring (graph-node: `position(value in column)`).
      const needle = p.add(normalizeHex(String(value)));
      return `gn_bytes_contains(${col}, ${needle}) = ${k.op === "contains" ? 1 : 0}`;
    }
    // String operators: graph-node's LIKE/ILIKE patterns (`_contains` wraps the value in `%…%` unless it
    // already starts or ends with `%`).
    const s = String(value);
    const nocase = k.op.endsWith("_nocase");
    const negated = k.op.startsWith("not_");
    const base = k.op.replace(/^not_/, "").replace(/_nocase$/, "");
    const like =
      base === "contains"
        ? s.startsWith("%") || s.endsWith("%")
          ? s
          : `%${s}%`
        : base === "starts_with"
          ? `${s}%`
          : `%${s}`;
    const target = nocase ? `lower(${col})` : col;
    const test = `${target} GLOB ${p.add(likeToGlob(like, nocase))}`;
    return negated ? `NOT (${test})` : test;
  }

  /** `field_: {…}`: the entities whose referenced (or referencing, for derived fields) entities match. */
  private child(a: string, k: FilterKey, value: unknown, p: Params, block: number, inChild: boolean): string {
    const f = k.field;
    if (!isPlainObject(value))
      throw new QueryError(
        `Query contains value with invalid type \`${k.typeString}\`: \`${showValue(value)}\``,
      );
    const attr = f.derivedFrom ?? f.name;
    if (inChild)
      throw new QueryError(
        `Child filter nesting not supported by value \`${attr}\`: \`${f.name}_: ${showValue(value)}\``,
      );
    const target = this.entity(f.typeName);
    const i = `i${this.aliasN++}`;
    let join: string;
    if (f.derivedFrom) {
      const back = target.byName.get(f.derivedFrom) as FieldModel;
      join = back.list
        ? `EXISTS (SELECT 1 FROM json_each(${i}.${back.column}) j WHERE j.value = ${a}.id)`
        : `${i}.${back.column} = ${a}.id`;
    } else {
      join = f.list
        ? `${i}.id IN (SELECT value FROM json_each(${a}.${f.column}))`
        : `${i}.id = ${a}.${f.column}`;
    }
    const inner = this.filter(target, i, value, p, block, true);
    return `EXISTS (SELECT 1 FROM ${target.table} ${i} WHERE ${join} AND ${this.blockCond(target, i, p, block)} AND ${inner})`;
  }

  // ---- collections ----

  /** A top-level collection: `SELECT … WHERE block AND filter ORDER BY … LIMIT first OFFSET skip`. */
  private collection(
    e: EntityModel,
    args: Record<string, unknown>,
    nodes: readonly FieldNode[],
    block: number,
  ): Parent[] {
    const { first, skip } = this.range(args);
    const p = new Params();
    const { joins, terms } = this.order(e, "c", args, p, block, false);
    const where = this.where(e, "c", args.where, p, block);
    const sql = `SELECT ${this.selectList(e, nodes)} FROM ${e.table} c${joins} WHERE ${this.blockCond(e, "c", p, block)} AND ${where} ORDER BY ${terms} LIMIT ${p.add(first)} OFFSET ${p.add(skip)}`;
    const out: Parent[] = [];
    for (const row of this.rows(e, sql, p)) {
      this.counted(1);
      out.push(this.toObject(e, row));
    }
    return out;
  }

  /** Fetches every entity-valued field selected on `objs` (all of type `e`), one SQL query per field. */
  private children(e: EntityModel, objs: Parent[], nodes: readonly FieldNode[], block: number) {
    if (objs.length === 0) return;
    const type = this.api.schema.getType(e.name) as GraphQLObjectType;
    for (const [key, fnodes] of this.subfields(e.name, nodes)) {
      const node = fnodes[0] as FieldNode;
      const f = e.byName.get(node.name.value);
      if (f?.kind !== "entity") continue;
      const target = this.entity(f.typeName);
      const args = this.args(type, node);
      const slot = `@${key}`;
      let fetched: Parent[];
      const cols = this.selectList(target, fnodes);
      if (!f.list && !f.derivedFrom) fetched = this.references(f, target, cols, objs, slot, block);
      else if (!f.list) fetched = this.derivedSingle(f, target, cols, objs, slot, block);
      else fetched = this.lists(f, target, cols, objs, slot, args, block);
      this.children(target, fetched, fnodes, block);
    }
  }

  /** A single reference (`booking.listing`): the referenced entities of all parents, by id. */
  private references(
    f: FieldModel,
    target: EntityModel,
    cols: string,
    objs: Parent[],
    slot: string,
    block: number,
  ): Parent[] {
    const ids = [...new Set(objs.map((o) => o[RAW][f.name]).filter((x) => x !== null && x !== undefined))];
    const byId = new Map<string, Parent>();
    if (ids.length > 0) {
      const p = new Params();
      const sql = `SELECT ${cols} FROM ${target.table} c WHERE c.id IN (SELECT value FROM json_each(${p.add(jsonArray(ids))})) AND ${this.blockCond(target, "c", p, block)}`;
      for (const row of this.rows(target, sql, p)) byId.set(String(row.id), this.toObject(target, row));
    }
    for (const o of objs) {
      const id = o[RAW][f.name];
      const child = id === null || id === undefined ? null : (byId.get(String(id)) ?? null);
      if (child) this.counted(1);
      o[slot] = child;
    }
    return [...byId.values()];
  }

  /** A derived single-valued field: the one entity pointing back at each parent. */
  private derivedSingle(
    f: FieldModel,
    target: EntityModel,
    cols: string,
    objs: Parent[],
    slot: string,
    block: number,
  ): Parent[] {
    const back = target.byName.get(f.derivedFrom as string) as FieldModel;
    const ids = [...new Set(objs.map((o) => o[RAW].id))];
    const p = new Params();
    const from = back.list
      ? `${target.table} c, json_each(c.${back.column}) j WHERE j.value`
      : `${target.table} c WHERE c.${back.column}`;
    const pcol = back.list ? "j.value" : `c.${back.column}`;
    const sql = `SELECT ${cols}, ${pcol} AS "__p" FROM ${from} IN (SELECT value FROM json_each(${p.add(jsonArray(ids))})) AND ${this.blockCond(target, "c", p, block)}`;
    const byParent = new Map<string, Parent>();
    for (const row of this.rows(target, sql, p)) {
      const pid = String(row.__p);
      if (byParent.has(pid))
        throw new QueryError(
          `Ambiguous result for derived field \`${f.name}\`: Multiple \`${target.name}\` entities refer back via \`${back.name}\``,
        );
      byParent.set(pid, this.toObject(target, row));
    }
    for (const o of objs) {
      const child = byParent.get(String(o[RAW].id)) ?? null;
      if (child) this.counted(1);
      o[slot] = child;
    }
    return [...byParent.values()];
  }

  /**
   * A list field (derived, or a list of references) of every parent in one query: the children matching the
   * filter, numbered per parent in the requested order (a window function), cut to [skip, skip + first).
   */
  private lists(
    f: FieldModel,
    target: EntityModel,
    cols: string,
    objs: Parent[],
    slot: string,
    args: Record<string, unknown>,
    block: number,
  ): Parent[] {
    const { first, skip } = this.range(args);
    const p = new Params();
    const { terms } = this.order(target, "c", args, p, block, true);
    let from: string;
    let pcol: string;
    let keyOf: (o: Parent, i: number) => string;
    if (f.derivedFrom) {
      const back = target.byName.get(f.derivedFrom) as FieldModel;
      const ids = p.add(jsonArray([...new Set(objs.map((o) => o[RAW].id))]));
      if (back.list) {
        from = `${target.table} c, json_each(c.${back.column}) j WHERE j.value IN (SELECT value FROM json_each(${ids}))`;
        pcol = "j.value";
      } else {
        from = `${target.table} c WHERE c.${back.column} IN (SELECT value FROM json_each(${ids}))`;
        pcol = `c.${back.column}`;
      }
      keyOf = (o) => String(o[RAW].id);
    } else {
      const links: [number, unknown][] = [];
      objs.forEach((o, i) => {
        const raw = o[RAW][f.name];
        if (raw === null || raw === undefined) return;
        for (const id of new Set(JSON.parse(String(raw)) as unknown[])) if (id !== null) links.push([i, id]);
      });
      from = `(SELECT json_extract(value, '$[0]') AS p, json_extract(value, '$[1]') AS cid FROM json_each(${p.add(jsonArray(links))})) l JOIN ${target.table} c ON c.id = l.cid WHERE 1`;
      pcol = "l.p";
      keyOf = (_o, i) => String(i);
    }
    const where = this.where(target, "c", args.where, p, block);
    const sql = `SELECT * FROM (SELECT ${cols}, ${pcol} AS "__p", row_number() OVER (PARTITION BY ${pcol} ORDER BY ${terms}) AS "__rn" FROM ${from} AND ${this.blockCond(target, "c", p, block)} AND ${where}) WHERE "__rn" > ${p.add(skip)} AND "__rn" <= ${p.add(skip + first)} ORDER BY "__p", "__rn"`;
    const byParent = new Map<string, Parent[]>();
    const all: Parent[] = [];
    for (const row of this.rows(target, sql, p)) {
      this.counted(1);
      const key = String(row.__p);
      const child = this.toObject(target, row);
      all.push(child);
      const list = byParent.get(key);
      if (list) list.push(child);
      else byParent.set(key, [child]);
    }
    objs.forEach((o, i) => {
      o[slot] = byParent.get(keyOf(o, i)) ?? [];
    });
    return all;
  }
}
