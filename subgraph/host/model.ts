// The entity model of a subgraph schema (schema.graphql), and how the embedded host lays it out in SQLite.
//
// One table per entity type, named `e_<Type>`, with one row per entity *version*:
//   vid INTEGER PRIMARY KEY   insertion order of versions
//   id TEXT NOT NULL          the entity id in its stored form (see below)
//   block_from INTEGER        first block where this version is current
//   block_to INTEGER NULL     first block where it no longer is (NULL: current version)
//   "<field>" ...             one column per non-derived field (quoted: fields such as `end` are SQL keywords)
//   "<field>__k" TEXT         for BigInt and BigDecimal fields: an order-preserving key (see sortKey*)
// A version is visible at block B when block_from <= B AND (block_to IS NULL OR block_to > B), as graph-node's
// block ranges [block_from, block_to).
//
// Stored forms, by scalar: ID/String/enum TEXT; Bytes TEXT as lowercase 0x-hex; Int INTEGER; Int8/Timestamp
// INTEGER; BigInt TEXT (decimal); BigDecimal TEXT (graph-node's toString); Boolean INTEGER 0/1; a reference to
// another entity: the referenced id's stored form; lists: TEXT holding a JSON array of stored forms.
import { readFileSync } from "node:fs";
import { type FieldDefinitionNode, Kind, type ObjectTypeDefinitionNode, parse, type TypeNode } from "graphql";

export type Scalar =
  | "ID"
  | "String"
  | "Bytes"
  | "BigInt"
  | "BigDecimal"
  | "Int"
  | "Int8"
  | "Timestamp"
  | "Boolean";

const scalars = new Set<string>([
  "ID",
  "String",
  "Bytes",
  "BigInt",
  "BigDecimal",
  "Int",
  "Int8",
  "Timestamp",
  "Boolean",
]);

export interface FieldModel {
  name: string;
  /** The GraphQL type name: a scalar, an enum or an entity type. */
  typeName: string;
  kind: "scalar" | "enum" | "entity";
  /** The scalar that stores it: the scalar itself, String for enums, the referenced entity's id scalar. */
  storage: Scalar;
  list: boolean;
  /** Whether the (element) type is non-null. */
  nonNull: boolean;
  /** Whether the list elements are non-null. */
  listItemNonNull: boolean;
  /** `@derivedFrom(field:)`: the field of `typeName` that points back at this entity; no column. */
  derivedFrom?: string;
  description?: string;
  /** SQL column (quoted identifier), absent for derived fields. */
  column?: string;
  /** Order-preserving key column (quoted) for BigInt/BigDecimal scalars (not lists). */
  sortColumn?: string;
}

export interface EntityModel {
  name: string;
  table: string;
  immutable: boolean;
  /** The id field's scalar: ID/String, Bytes or Int8. */
  idStorage: Scalar;
  fields: FieldModel[];
  byName: Map<string, FieldModel>;
  description?: string;
}

export interface EnumModel {
  name: string;
  values: string[];
  description?: string;
}

export interface SchemaModel {
  entities: Map<string, EntityModel>;
  enums: Map<string, EnumModel>;
  /** The schema's SDL, as read. */
  sdl: string;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function unwrap(t: TypeNode): { name: string; list: boolean; nonNull: boolean; listItemNonNull: boolean } {
  let nonNull = false;
  let list = false;
  let listItemNonNull = false;
  let cur = t;
  if (cur.kind === Kind.NON_NULL_TYPE) {
    nonNull = true;
    cur = cur.type;
  }
  if (cur.kind === Kind.LIST_TYPE) {
    list = true;
    cur = cur.type;
    if (cur.kind === Kind.NON_NULL_TYPE) {
      listItemNonNull = true;
      cur = cur.type;
    }
  }
  if (cur.kind !== Kind.NAMED_TYPE) throw new Error("nested lists are not supported in entity fields");
  return { name: cur.name.value, list, nonNull, listItemNonNull };
}

function directiveArg(node: FieldDefinitionNode | ObjectTypeDefinitionNode, directive: string, arg: string) {
  const d = node.directives?.find((x) => x.name.value === directive);
  if (!d) return undefined;
  const a = d.arguments?.find((x) => x.name.value === arg);
  if (!a) return null;
  if (a.value.kind === Kind.STRING || a.value.kind === Kind.ENUM) return a.value.value;
  if (a.value.kind === Kind.BOOLEAN) return a.value.value;
  return null;
}

/** Parses a subgraph schema into the entity model. Throws on what the embedded host does not support. */
export function parseSchema(sdl: string): SchemaModel {
  const doc = parse(sdl);
  const enums = new Map<string, EnumModel>();
  const types: ObjectTypeDefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      enums.set(def.name.value, {
        name: def.name.value,
        values: (def.values ?? []).map((v) => v.name.value),
        description: def.description?.value,
      });
    } else if (def.kind === Kind.OBJECT_TYPE_DEFINITION) {
      if (!def.directives?.some((d) => d.name.value === "entity"))
        throw new Error(`type ${def.name.value}: only @entity types are supported`);
      types.push(def);
    } else {
      throw new Error(`schema: ${def.kind} definitions are not supported by the embedded host`);
    }
  }
  const entityNames = new Set(types.map((t) => t.name.value));
  const entities = new Map<string, EntityModel>();
  // First pass: id scalars, needed to store references.
  const idStorage = new Map<string, Scalar>();
  for (const t of types) {
    const idField = t.fields?.find((f) => f.name.value === "id");
    if (!idField) throw new Error(`type ${t.name.value} has no id field`);
    const u = unwrap(idField.type);
    if (!["ID", "String", "Bytes", "Int8"].includes(u.name) || u.list || !u.nonNull)
      throw new Error(`type ${t.name.value}: id must be ID!, String!, Bytes! or Int8!`);
    idStorage.set(t.name.value, u.name === "ID" ? "String" : (u.name as Scalar));
  }
  for (const t of types) {
    const fields: FieldModel[] = [];
    for (const f of t.fields ?? []) {
      const u = unwrap(f.type);
      const derived = directiveArg(f, "derivedFrom", "field");
      let kind: FieldModel["kind"];
      let storage: Scalar;
      if (scalars.has(u.name)) {
        kind = "scalar";
        storage = u.name === "ID" ? "String" : (u.name as Scalar);
      } else if (enums.has(u.name)) {
        kind = "enum";
        storage = "String";
      } else if (entityNames.has(u.name)) {
        kind = "entity";
        storage = idStorage.get(u.name) as Scalar;
      } else throw new Error(`${t.name.value}.${f.name.value}: unknown type ${u.name}`);
      if (derived !== undefined && kind !== "entity")
        throw new Error(`${t.name.value}.${f.name.value}: @derivedFrom on a non-entity field`);
      const field: FieldModel = {
        name: f.name.value,
        typeName: u.name,
        kind,
        storage,
        list: u.list,
        nonNull: u.nonNull,
        listItemNonNull: u.listItemNonNull,
        description: f.description?.value,
      };
      if (typeof derived === "string") field.derivedFrom = derived;
      else {
        field.column = q(f.name.value);
        if (!u.list && (storage === "BigInt" || storage === "BigDecimal"))
          field.sortColumn = q(`${f.name.value}__k`);
      }
      fields.push(field);
    }
    const immutable = directiveArg(t, "entity", "immutable") === true;
    entities.set(t.name.value, {
      name: t.name.value,
      table: q(`e_${t.name.value}`),
      immutable,
      idStorage: idStorage.get(t.name.value) as Scalar,
      fields,
      byName: new Map(fields.map((f) => [f.name, f])),
      description: t.description?.value,
    });
  }
  for (const e of entities.values())
    for (const f of e.fields)
      if (f.derivedFrom) {
        const target = entities.get(f.typeName)?.byName.get(f.derivedFrom);
        if (target?.kind !== "entity" || target.typeName !== e.name)
          throw new Error(
            `${e.name}.${f.name}: @derivedFrom(field: "${f.derivedFrom}") is not a ${e.name} reference`,
          );
      }
  return { entities, enums, sdl };
}

export function loadSchema(file: string): SchemaModel {
  return parseSchema(readFileSync(file, "utf8"));
}

const sqlType = (f: FieldModel) => {
  if (f.list) return "TEXT";
  switch (f.storage) {
    case "Int":
    case "Int8":
    case "Timestamp":
    case "Boolean":
      return "INTEGER";
    default:
      return "TEXT";
  }
};

/** CREATE statements for one entity table and its indexes. */
export function entityDdl(e: EntityModel): string[] {
  const cols = [
    "vid INTEGER PRIMARY KEY",
    "id TEXT NOT NULL",
    "block_from INTEGER NOT NULL",
    "block_to INTEGER",
  ];
  for (const f of e.fields) {
    if (!f.column || f.name === "id") continue;
    cols.push(`${f.column} ${sqlType(f)}`);
    if (f.sortColumn) cols.push(`${f.sortColumn} TEXT`);
  }
  const base = e.table.slice(1, -1);
  const idx = (suffix: string, cols: string) =>
    `CREATE INDEX IF NOT EXISTS ${q(`${base}_${suffix}`)} ON ${e.table} (${cols})`;
  const out = [
    `CREATE TABLE IF NOT EXISTS ${e.table} (${cols.join(", ")})`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${base}_id_from`)} ON ${e.table} (id, block_from)`,
    // The current version of an id without walking its history (a singleton such as Market has thousands).
    `CREATE UNIQUE INDEX IF NOT EXISTS ${q(`${base}_current`)} ON ${e.table} (id) WHERE block_to IS NULL`,
  ];
  // graph-node indexes every attribute; the embedded host indexes what auditors filter and join on (references
  // and enums), because every index slows each version written (bench:indexer measures both sides).
  for (const f of e.fields) {
    if (!f.column || f.name === "id" || f.list) continue;
    if (f.kind === "entity" || f.kind === "enum") out.push(idx(f.name, `${f.column}, block_from`));
  }
  return out;
}

// ---- order-preserving keys ----
// SQLite compares TEXT bytewise, so these keys sort exactly as the numbers do (graph-node compares BigInt and
// BigDecimal numerically). No library provides this encoding; it is small and tested in db.test.ts.

const pad = (n: number, width: number) => n.toString().padStart(width, "0");
const complement = (digits: string) => digits.replace(/\d/g, (d) => String(9 - Number(d)));

/** Key of an integer: sign, digit count, digits (complemented for negatives). */
export function sortKeyBigInt(x: bigint): string {
  if (x === 0n) return "1";
  if (x > 0n) {
    const d = x.toString();
    return `2${pad(d.length, 6)}${d}`;
  }
  const d = (-x).toString();
  return `0${pad(999999 - d.length, 6)}${complement(d)}`;
}

/** Key of a decimal string ("-12.50", "1E+40", "0.001"): sign, exponent, mantissa digits. */
export function sortKeyDecimal(s: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`not a decimal: ${s}`);
  const neg = m[1] === "-";
  const int = m[2] ?? "";
  const frac = m[3] ?? "";
  let digits = (int + frac).replace(/^0+/, "");
  // value = 0.digits × 10^exp
  let exp = int.length + Number(m[4] ?? 0);
  const lead = (int + frac).length - (int + frac).replace(/^0+/, "").length;
  exp -= lead;
  digits = digits.replace(/0+$/, "");
  if (digits === "") return "1";
  const e = exp + 500000; // exponents within ±500000
  if (!neg) return `2${pad(e, 7)}${digits}`;
  // Negative: larger magnitude sorts first; "~" ends the complemented digits so a longer mantissa (larger
  // magnitude) sorts before its prefix.
  return `0${pad(9999999 - e, 7)}${complement(digits)}~`;
}
