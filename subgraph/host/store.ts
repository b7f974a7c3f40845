// In-memory entity store: the latest version of each entity, keyed by (entity type, id). graph-node's `store.set`
// merges the new attributes into the existing entity and drops attributes set to null; `get` sees the merged
// version. Block ranges, persistence and time travel are later work.
import { type EntityData, type HostContext, StoreKind } from "./wasm.ts";

export class EntityStore {
  private readonly tables = new Map<string, Map<string, EntityData>>();

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

  /** A HostContext for MappingInstance over this store. */
  context(log: (level: number, message: string) => void = () => {}): HostContext {
    return {
      get: (t, id) => this.get(t, id),
      set: (t, id, d) => this.set(t, id, d),
      log,
    };
  }
}
