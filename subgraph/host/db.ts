// The embedded host's store: entity versions with block ranges in SQLite (better-sqlite3), the indexing cursor,
// the hashes of the blocks it processed (for reorg detection) and the deployment's health. The table layout is
// described in model.ts.
//
// Writes of one block are buffered in memory while the handlers run (graph-node's entity cache: `get` sees the
// block's own writes) and written by `commitBlocks` in one SQLite transaction together with the cursor, so a
// crash at any point leaves either the whole block or none of it, and the cursor always matches the data.
import Database from "better-sqlite3";
import { formatDecimal, parseDecimalUnnormalized } from "./decimal.ts";
import {
  type EntityModel,
  entityDdl,
  type FieldModel,
  type Scalar,
  type SchemaModel,
  sortKeyBigInt,
  sortKeyDecimal,
} from "./model.ts";
import {
  type EntityData,
  type HostContext,
  type HostDataSource,
  StoreKind,
  type StoreValue,
  toHex,
} from "./wasm.ts";

export interface BlockPtr {
  number: number;
  hash: string;
  parentHash?: string;
  timestamp: number;
}

export interface Health {
  failed: boolean;
  /** The error that stopped indexing, as graph-node's fatalError. */
  error?: { message: string; block: number; blockHash: string; handler?: string };
}

/** A deterministic error in the data a mapping stored (graph-node fails the subgraph on these). */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

const SCHEMA_VERSION = "1";

/** One block's buffered writes: entity type → id → full entity (null: removed). */
type Pending = Map<string, Map<string, EntityData | null>>;

export class SubgraphDb {
  readonly db: Database.Database;
  readonly model: SchemaModel;
  private pending: Pending = new Map();
  /**
   * Committed current versions (graph-node keeps such an entity cache too): type → id → entity, null for "no such
   * entity". Filled on reads, updated after each block's flush, cleared when a transaction fails or on revert.
   */
  private cache: Pending = new Map();
  /** Row id and first block of a cached current version, so a flush need not look them up. */
  private rowOf = new WeakMap<EntityData, { vid: number; from: number }>();
  private cached = 0;
  private static readonly CACHE_LIMIT = 200_000;
  private pendingBlock: BlockPtr | null = null;
  private readonly stmts = new Map<string, Database.Statement>();

  /**
   * Opens (or creates) the store. `deployment` identifies the build: a store made for another deployment is
   * refused rather than silently mixed.
   */
  constructor(
    file: string,
    model: SchemaModel,
    readonly deployment: string,
    opts: { readonly?: boolean } = {},
  ) {
    this.model = model;
    this.db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    if (opts.readonly) return;
    this.db.pragma("journal_mode = WAL");
    // WAL + NORMAL: a committed transaction survives a process crash; after a power loss the last transactions
    // may be lost but the file stays consistent (cursor and data roll back together).
    this.db.pragma("synchronous = NORMAL");
    // 64 MiB of page cache (default 2 MiB): index pages of busy tables stay in memory while indexing.
    this.db.pragma("cache_size = -65536");
    this.db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS block_ptr (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, parent_hash TEXT,
        timestamp INTEGER NOT NULL);`);
    const existing = this.meta("deployment");
    if (existing && existing !== deployment)
      throw new Error(
        `${file} holds deployment ${existing}, not ${deployment}: remove it (or use another path) to index from scratch`,
      );
    const tx = this.db.transaction(() => {
      for (const e of model.entities.values()) for (const s of entityDdl(e)) this.db.exec(s);
      this.setMeta("deployment", deployment);
      this.setMeta("schema_version", SCHEMA_VERSION);
    });
    tx();
  }

  close() {
    this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** A statement reading entity rows: 64-bit integers intact (Int8, Timestamp); scalarFromColumn narrows Int. */
  private rowStmt(sql: string): Database.Statement {
    return this.stmt(sql).safeIntegers(true);
  }

  meta(key: string): string | undefined {
    try {
      return (this.stmt("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)
        ?.value;
    } catch {
      return undefined; // no meta table yet (read-only open of a fresh file)
    }
  }

  private setMeta(key: string, value: string) {
    this.stmt(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(key, value);
  }

  private deleteMeta(key: string) {
    this.stmt("DELETE FROM meta WHERE key = ?").run(key);
  }

  /** The last block fully indexed, or null before the first one. */
  head(): BlockPtr | null {
    const v = this.meta("head");
    return v ? (JSON.parse(v) as BlockPtr) : null;
  }

  health(): Health {
    const v = this.meta("fatal_error");
    return v ? { failed: true, error: JSON.parse(v) } : { failed: false };
  }

  /** The stored pointer of a processed block (one with triggers, or a cursor position). */
  blockPtr(number: number): BlockPtr | undefined {
    const r = this.stmt("SELECT number, hash, parent_hash, timestamp FROM block_ptr WHERE number = ?").get(
      number,
    ) as { number: number; hash: string; parent_hash: string | null; timestamp: number } | undefined;
    return r
      ? { number: r.number, hash: r.hash, parentHash: r.parent_hash ?? undefined, timestamp: r.timestamp }
      : undefined;
  }

  blockPtrByHash(hash: string): BlockPtr | undefined {
    const r = this.stmt("SELECT number FROM block_ptr WHERE hash = ?").get(hash.toLowerCase()) as
      | { number: number }
      | undefined;
    return r ? this.blockPtr(r.number) : undefined;
  }

  /** Stored block pointers at or below `number`, highest first (candidates for the common ancestor of a reorg). */
  blockPtrsDescending(below: number, limit = 1000): BlockPtr[] {
    return (
      this.stmt("SELECT number FROM block_ptr WHERE number <= ? ORDER BY number DESC LIMIT ?").all(
        below,
        limit,
      ) as {
        number: number;
      }[]
    ).map((r) => this.blockPtr(r.number) as BlockPtr);
  }

  // ---- the current block's writes (the HostContext the mappings use) ----

  /** Starts buffering the writes of `block`. */
  beginBlock(block: BlockPtr) {
    if (this.pendingBlock) throw new Error(`block ${this.pendingBlock.number} is still open`);
    this.pendingBlock = block;
    this.pending = new Map();
  }

  /** Drops the open block's writes (its handler failed). */
  discardBlock() {
    this.pendingBlock = null;
    this.pending = new Map();
  }

  private pendingOf(type: string) {
    let m = this.pending.get(type);
    if (!m) {
      m = new Map();
      this.pending.set(type, m);
    }
    return m;
  }

  private entityModel(type: string): EntityModel {
    const e = this.model.entities.get(type);
    if (!e) throw new StoreError(`unknown entity type \`${type}\``);
    return e;
  }

  /** The latest version: this block's write if any, else the stored current version (a copy). */
  get(type: string, id: string): EntityData | null {
    const e = this.peek(type, id);
    return e ? new Map(e) : null;
  }

  /** As `get`, without the copy: the caller must not change it (the mappings' store.get only reads it). */
  peek(type: string, id: string): EntityData | null {
    const p = this.pending.get(type);
    if (p?.has(id)) return p.get(id) ?? null;
    let c = this.cache.get(type);
    if (c?.has(id)) return c.get(id) ?? null;
    const e = this.load(type, id, null);
    if (!c) {
      c = new Map();
      this.cache.set(type, c);
    }
    this.remember(c, id, e);
    return e;
  }

  private remember(c: Map<string, EntityData | null>, id: string, e: EntityData | null) {
    if (this.cached >= SubgraphDb.CACHE_LIMIT) this.forget();
    if (!c.has(id)) this.cached++;
    c.set(id, e);
  }

  private forget() {
    for (const c of this.cache.values()) c.clear();
    this.cached = 0;
  }

  /** The entity only if this block wrote it (graph-ts `store.get_in_block`). */
  getInBlock(type: string, id: string): EntityData | null {
    const e = this.pending.get(type)?.get(id);
    return e ? new Map(e) : null;
  }

  set(type: string, id: string, data: EntityData) {
    if (!this.pendingBlock) throw new Error("store.set outside a block");
    const model = this.entityModel(type);
    const merged: EntityData = new Map(this.peek(type, id) ?? []);
    for (const [k, v] of data) {
      if (!model.byName.has(k))
        throw new StoreError(`entity ${type}[${id}]: no field \`${k}\` in the schema`);
      if (v.kind === StoreKind.Null) merged.delete(k);
      else merged.set(k, v);
    }
    this.pendingOf(type).set(id, merged);
  }

  remove(type: string, id: string) {
    if (!this.pendingBlock) throw new Error("store.remove outside a block");
    const model = this.entityModel(type);
    if (model.immutable) throw new StoreError(`entity ${type}[${id}] is immutable and cannot be removed`);
    this.pendingOf(type).set(id, null);
  }

  /** A HostContext over this store for MappingInstance, for the data source the mapping belongs to. */
  context(dataSource: HostDataSource, log: (level: number, message: string) => void = () => {}): HostContext {
    return {
      get: (t, id) => this.peek(t, id),
      set: (t, id, d) => this.set(t, id, d),
      remove: (t, id) => this.remove(t, id),
      getInBlock: (t, id) => this.getInBlock(t, id),
      log,
      dataSource,
    };
  }

  /**
   * Writes several blocks in one transaction: `step(block)` runs the handlers of each (between beginBlock and
   * flush) and may throw; blocks before the failing one are kept, its writes dropped, and the failure recorded.
   * Returns the error, or null when every block succeeded and the cursor is at `head`.
   */
  commitBlocks(
    blocks: BlockPtr[],
    head: BlockPtr,
    step: (block: BlockPtr) => void,
    describe: (e: unknown, block: BlockPtr) => { message: string; handler?: string },
  ): Error | null {
    let failure: Error | null = null;
    const run = this.db.transaction(() => {
      let last = this.head();
      for (const b of blocks) {
        this.beginBlock(b);
        try {
          step(b);
          // In a savepoint: a deterministic store error (a missing field, ...) fails the block like a handler
          // and leaves none of its rows.
          this.db.transaction(() => this.flushPending())();
        } catch (e) {
          this.discardBlock();
          // SQLite's own errors (disk full, locked, I/O) are not the mapping's fault: graph-node retries those, so
          // roll back the whole batch and let the caller retry instead of failing the deployment.
          if (e instanceof Database.SqliteError) throw e;
          const d = describe(e, b);
          this.setMeta("fatal_error", JSON.stringify({ ...d, block: b.number, blockHash: b.hash }));
          if (last) this.setMeta("head", JSON.stringify(last));
          failure = e instanceof Error ? e : new Error(String(e));
          return;
        }
        this.recordPtr(b);
        this.setMeta("head", JSON.stringify(b));
        last = b;
      }
      this.recordPtr(head);
      this.setMeta("head", JSON.stringify(head));
    });
    try {
      run();
    } catch (e) {
      this.forget(); // the cache may hold versions of blocks the failed transaction rolled back
      throw e;
    }
    return failure;
  }

  private recordPtr(b: BlockPtr) {
    this.stmt(
      "INSERT INTO block_ptr (number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?) ON CONFLICT(number) DO UPDATE SET hash = excluded.hash, parent_hash = excluded.parent_hash, timestamp = excluded.timestamp",
    ).run(b.number, b.hash.toLowerCase(), b.parentHash?.toLowerCase() ?? null, b.timestamp);
  }

  /** Writes the open block's buffered entities as versions starting at its number (inside a transaction). */
  private flushPending() {
    const block = this.pendingBlock;
    if (!block) return;
    const B = block.number;
    for (const [type, entities] of this.pending) {
      const model = this.entityModel(type);
      for (const [id, data] of entities) {
        const c = this.cache.get(type);
        let current: { vid: number; block_from: number } | undefined;
        const known = c?.has(id) ? c.get(id) : undefined;
        const row = known ? this.rowOf.get(known) : undefined;
        if (row) current = { vid: row.vid, block_from: row.from };
        else if (known === null)
          current = undefined; // cached as absent
        else
          current = this.stmt(
            `SELECT vid, block_from FROM ${model.table} WHERE id = ? AND block_to IS NULL`,
          ).get(id) as { vid: number; block_from: number } | undefined;
        if (current) {
          if (model.immutable && data)
            throw new StoreError(
              `entity ${type}[${id}] is immutable; it was already written at block ${current.block_from}`,
            );
          if (current.block_from === B)
            this.stmt(`DELETE FROM ${model.table} WHERE vid = ?`).run(current.vid);
          else this.stmt(`UPDATE ${model.table} SET block_to = ? WHERE vid = ?`).run(B, current.vid);
        }
        if (data) this.rowOf.set(data, { vid: this.insertVersion(model, id, data, B), from: B });
      }
    }
    for (const [type, entities] of this.pending) {
      let c = this.cache.get(type);
      if (!c) {
        c = new Map();
        this.cache.set(type, c);
      }
      for (const [id, data] of entities) this.remember(c, id, data);
    }
    this.pendingBlock = null;
    this.pending = new Map();
  }

  private insertVersion(model: EntityModel, id: string, data: EntityData, block: number): number {
    const cols = ["id", "block_from"];
    const vals: unknown[] = [id, block];
    for (const f of model.fields) {
      if (!f.column || f.name === "id") continue;
      const v = data.get(f.name);
      if (!v || v.kind === StoreKind.Null) {
        if (f.nonNull)
          throw new StoreError(
            `entity ${model.name}[${id}]: missing value for non-nullable field \`${f.name}\``,
          );
        continue;
      }
      cols.push(f.column);
      vals.push(toColumn(model, id, f, v, this.model.enums));
      if (f.sortColumn) {
        cols.push(f.sortColumn);
        vals.push(
          f.storage === "BigInt"
            ? sortKeyBigInt((v as { value: bigint }).value)
            : sortKeyDecimal(String(vals[vals.length - 1])),
        );
      }
    }
    const idField = model.byName.get("id");
    const idValue = data.get("id");
    if (idField && idValue && idValue.kind !== StoreKind.Null && toColumn(model, id, idField, idValue) !== id)
      throw new StoreError(
        `entity ${model.name}[${id}]: the id field does not match the id it is stored under`,
      );
    const sql = `INSERT INTO ${model.table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
    return Number(this.stmt(sql).run(...vals).lastInsertRowid);
  }

  /** The version current at `block` (null: the latest committed). */
  load(type: string, id: string, block: number | null): EntityData | null {
    const model = this.entityModel(type);
    const row = (
      block === null
        ? this.rowStmt(`SELECT * FROM ${model.table} WHERE id = ? AND block_to IS NULL`).get(id)
        : this.rowStmt(
            `SELECT * FROM ${model.table} WHERE id = ? AND block_from <= ? AND (block_to IS NULL OR block_to > ?)`,
          ).get(id, block, block)
    ) as Record<string, unknown> | undefined;
    if (!row) return null;
    const e = rowToEntity(model, row);
    if (block === null) this.rowOf.set(e, { vid: Number(row.vid), from: Number(row.block_from) });
    return e;
  }

  /** Every current entity of a type, in the order they were first written. */
  all(type: string): EntityData[] {
    const model = this.entityModel(type);
    return (
      this.rowStmt(`SELECT * FROM ${model.table} WHERE block_to IS NULL ORDER BY vid`).all() as Record<
        string,
        unknown
      >[]
    ).map((r) => rowToEntity(model, r));
  }

  count(type: string): number {
    const model = this.entityModel(type);
    return (
      this.stmt(`SELECT count(*) AS n FROM ${model.table} WHERE block_to IS NULL`).get() as { n: number }
    ).n;
  }

  /** Every version of every entity (for tests comparing two stores): type → rows without vid. */
  dump(): Record<string, Record<string, unknown>[]> {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const m of this.model.entities.values()) {
      out[m.name] = (
        this.db.prepare(`SELECT * FROM ${m.table} ORDER BY id, block_from`).all() as Record<string, unknown>[]
      ).map(({ vid: _vid, ...rest }) => rest);
    }
    return out;
  }

  /**
   * Rolls back to block `ancestor` (a reorg's common ancestor): versions created after it are deleted, versions
   * closed after it are reopened, later block pointers forgotten, and a failure recorded after it cleared.
   */
  revertTo(ancestor: BlockPtr) {
    this.forget();
    const run = this.db.transaction(() => {
      for (const m of this.model.entities.values()) {
        this.db.prepare(`DELETE FROM ${m.table} WHERE block_from > ?`).run(ancestor.number);
        this.db.prepare(`UPDATE ${m.table} SET block_to = NULL WHERE block_to > ?`).run(ancestor.number);
      }
      this.stmt("DELETE FROM block_ptr WHERE number > ?").run(ancestor.number);
      this.recordPtr(ancestor);
      this.setMeta("head", JSON.stringify(ancestor));
      const h = this.health();
      if (h.error && h.error.block > ancestor.number) this.deleteMeta("fatal_error");
    });
    run();
  }

  /** Forgets everything indexed (the chain has no block the store knows). */
  reset() {
    this.forget();
    const run = this.db.transaction(() => {
      for (const m of this.model.entities.values()) this.db.prepare(`DELETE FROM ${m.table}`).run();
      this.stmt("DELETE FROM block_ptr").run();
      this.deleteMeta("head");
      this.deleteMeta("fatal_error");
    });
    run();
  }
}

// ---- value conversions between graph-ts store values and columns ----

function scalarToColumn(s: Scalar, v: StoreValue, where: string): string | number | bigint {
  switch (v.kind) {
    case StoreKind.String:
      if (s === "String") return v.value;
      break;
    case StoreKind.Bytes:
      if (s === "Bytes") return toHex(v.value);
      break;
    case StoreKind.Int:
      if (s === "Int") return v.value;
      break;
    case StoreKind.Int8:
    case StoreKind.Timestamp:
      if (s === "Int8" || s === "Timestamp") return v.value; // bound as a 64-bit integer, exactly
      break;
    case StoreKind.BigInt:
      if (s === "BigInt") return v.value.toString();
      break;
    case StoreKind.BigDecimal:
      if (s === "BigDecimal") return formatDecimal(v.value);
      break;
    case StoreKind.Bool:
      if (s === "Boolean") return v.value ? 1 : 0;
      break;
    default:
      break;
  }
  throw new StoreError(`${where}: a ${StoreKind[v.kind]} value where the schema has ${s}`);
}

function toColumn(
  model: EntityModel,
  id: string,
  f: FieldModel,
  v: StoreValue,
  enums?: SchemaModel["enums"],
): string | number | bigint {
  const where = `entity ${model.name}[${id}] field \`${f.name}\``;
  if (f.kind === "enum" && enums) {
    const allowed = enums.get(f.typeName)?.values ?? [];
    const values = v.kind === StoreKind.Array ? v.value : [v];
    for (const x of values)
      if (x.kind === StoreKind.String && !allowed.includes(x.value))
        throw new StoreError(`${where}: \`${x.value}\` is not a value of enum ${f.typeName}`);
  }
  if (f.list) {
    if (v.kind !== StoreKind.Array) throw new StoreError(`${where}: expected a list`);
    return JSON.stringify(
      v.value.map((x) => (x.kind === StoreKind.Null ? null : scalarToColumn(f.storage, x, where))),
    );
  }
  return scalarToColumn(f.storage, v, where);
}

function scalarFromColumn(s: Scalar, c: unknown): StoreValue {
  switch (s) {
    case "String":
    case "ID":
      return { kind: StoreKind.String, value: String(c) };
    case "Bytes":
      return { kind: StoreKind.Bytes, value: Uint8Array.from(Buffer.from(String(c).slice(2), "hex")) };
    case "Int":
      return { kind: StoreKind.Int, value: Number(c) };
    case "Int8":
      return { kind: StoreKind.Int8, value: BigInt(c as bigint | string) };
    case "Timestamp":
      return { kind: StoreKind.Timestamp, value: BigInt(c as bigint | string) };
    case "BigInt":
      return { kind: StoreKind.BigInt, value: BigInt(String(c)) };
    case "BigDecimal": {
      const d = parseDecimalUnnormalized(String(c));
      if (!d) throw new StoreError(`stored BigDecimal ${String(c)} does not parse`);
      return { kind: StoreKind.BigDecimal, value: d };
    }
    case "Boolean":
      return { kind: StoreKind.Bool, value: Number(c) === 1 };
  }
}

export function rowToEntity(model: EntityModel, row: Record<string, unknown>): EntityData {
  const e: EntityData = new Map();
  for (const f of model.fields) {
    if (!f.column) continue;
    const c = f.name === "id" ? row.id : row[f.name];
    if (c === null || c === undefined) continue;
    if (f.list) {
      const arr = JSON.parse(String(c)) as unknown[];
      e.set(f.name, {
        kind: StoreKind.Array,
        value: arr.map((x) => (x === null ? { kind: StoreKind.Null } : scalarFromColumn(f.storage, x))),
      });
    } else e.set(f.name, scalarFromColumn(f.storage, c));
  }
  return e;
}
