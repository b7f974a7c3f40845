// In-memory entity store: the latest version of each entity, keyed by (entity type, id). graph-node's `store.set`
// merges the new attributes into the existing entity and drops attributes set to null; `get` sees the merged
// version. Block ranges, persistence and time travel are later work.
import { type EntityData, type HostContext, type HostDataSource, StoreKind } from "./wasm.ts";

export class EntityStore {
  private readonly tables = new Map<string, Map<string, EntityData>>();
  /** (type, id) keys set since the last clearBlock(), for store.get_in_block. */
  private readonly writtenInBlock = new Set<string>();

  get(entityType: string, id: string): EntityData | null {
    const e = this.tables.get(entityType)?.get(id);
    return e ? new Map(e) : null;
  }

  set(entityType: string, id: string, data: EntityData): void {
    let table = this.tables.get(entityType);
    if (!table) {
      table = new Map();
      this.tables.set(entityType, table);
    }
    const merged: EntityData = new Map(table.get(id) ?? []);
    for (const [k, v] of data) {
      if (v.kind === StoreKind.Null) merged.delete(k);
      else merged.set(k, v);
    }
    table.set(id, merged);
    this.writtenInBlock.add(`${entityType}\u0000${id}`);
  }

  remove(entityType: string, id: string): void {
    this.tables.get(entityType)?.delete(id);
  }

  /** The entity only if it was set since the last clearBlock() (graph-ts `store.get_in_block`). */
  getInBlock(entityType: string, id: string): EntityData | null {
    return this.writtenInBlock.has(`${entityType}\u0000${id}`) ? this.get(entityType, id) : null;
  }

  /** Starts a new block for getInBlock. */
  clearBlock(): void {
    this.writtenInBlock.clear();
  }

  /** All entities of a type, in insertion order. */
  all(entityType: string): EntityData[] {
    return [...(this.tables.get(entityType)?.values() ?? [])].map((e) => new Map(e));
  }

  count(entityType: string): number {
    return this.tables.get(entityType)?.size ?? 0;
  }

  types(): string[] {
    return [...this.tables.keys()];
  }

  /** A HostContext for MappingInstance over this store (no address, no network, empty context by default). */
  context(
    log: (level: number, message: string) => void = () => {},
    dataSource: HostDataSource = { address: new Uint8Array(), network: "", context: new Map() },
  ): HostContext {
    return {
      get: (t, id) => this.get(t, id),
      set: (t, id, d) => this.set(t, id, d),
      remove: (t, id) => this.remove(t, id),
      getInBlock: (t, id) => this.getInBlock(t, id),
      log,
      dataSource,
    };
  }
}
