// graph-node's query API schema, derived from the subgraph's entity model (model.ts) as graph-node derives it
// (graph/src/schema/api.rs, meta.graphql), built as a graphql-js GraphQLSchema so that graphql-js can parse,
// validate and introspect queries against it. Execution is query.ts.
//
// What graph-node generates, per entity type `T` (in schema order):
//   Query.t(id: ID!, block: Block_height, subgraphError: _SubgraphErrorPolicy_! = deny): T
//   Query.ts(skip: Int = 0, first: Int = 100, orderBy: T_orderBy, orderDirection: OrderDirection,
//            where: T_filter, block: Block_height, subgraphError: _SubgraphErrorPolicy_! = deny): [T!]!
// where `t` is the type name in camelCase and `ts` its plural (Inflector's rules), then `_meta(block:)`.
// `T_filter` has, per field, the suffix filters of its type (see `scalarOps`), `field_: U_filter` for references
// and derived fields, then `_change_block: BlockChangedFilter`, `and` and `or`. `T_orderBy` lists every field and,
// for single references, `field__sub` for each scalar field of the referenced type. List fields of entities take
// (skip, first, orderBy, orderDirection, where).
import {
  DirectiveLocation,
  GraphQLBoolean,
  GraphQLDirective,
  GraphQLEnumType,
  type GraphQLEnumValueConfigMap,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLFieldConfigMap,
  GraphQLID,
  type GraphQLInputFieldConfigMap,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  specifiedDirectives,
  type ValueNode,
} from "graphql";
import type { EntityModel, FieldModel, SchemaModel } from "./model.ts";

// ---- names (graph-node uses the Inflector crate: `to_camel_case` and `to_plural`) ----

/** Inflector's `to_camel_case`: words start after a separator, at an upper-case letter following a lower-case
 * one, and after digits; acronyms are not split ("NFTSale" → "nftsale"). */
export function camelCase(name: string): string {
  let out = "";
  let newWord = false;
  let lastChar = " ";
  let foundRealChar = false;
  for (const ch of name) {
    const alnum = /[\p{L}\p{N}]/u.test(ch);
    if (!alnum) {
      if (foundRealChar) newWord = true;
      continue;
    }
    if (/\p{N}/u.test(ch)) {
      foundRealChar = true;
      newWord = true;
      out += ch;
    } else if (newWord || (isLower(lastChar) && isUpper(ch))) {
      foundRealChar = true;
      newWord = false;
      out += out === "" ? ch.toLowerCase() : ch.toUpperCase();
    } else {
      foundRealChar = true;
      lastChar = ch;
      out += ch.toLowerCase();
    }
  }
  return out;
}
const isLower = (c: string) => c !== c.toUpperCase() && c === c.toLowerCase();
const isUpper = (c: string) => c !== c.toLowerCase() && c === c.toUpperCase();

// Inflector's plural rules, tried from the last to the first; the first that matches replaces the suffix.
const PLURAL_RULES: [RegExp, string][] = [
  [/^(\w*)s$/, "s"],
  [/^(\w*([^aeiou]ese))$/, ""],
  [/^(\w*(ax|test))is$/, "es"],
  [/^(\w*(alias|[^aou]us|tlas|gas|ris))$/, "es"],
  [/^(\w*(e[mn]u))s?$/, "s"],
  [/^(\w*([^l]ias|[aeiou]las|[emjzr]as|[iu]am))$/, ""],
  [
    /^(\w*(alumn|syllab|octop|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat))(?:us|i)$/,
    "i",
  ],
  [/^(\w*(alumn|alg|vertebr))(?:a|ae)$/, "ae"],
  [/^(\w*(seraph|cherub))(?:im)?$/, "im"],
  [/^(\w*(her|at|gr))o$/, "oes"],
  [
    /^(\w*(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi|curricul|automat|quor))(?:a|um)$/,
    "a",
  ],
  [
    /^(\w*(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat))(?:a|on)$/,
    "a",
  ],
  [/^(\w*)sis$/, "ses"],
  [/^(\w*(kni|wi|li))fe$/, "ves"],
  [/^(\w*(ar|l|ea|eo|oa|hoo))f$/, "ves"],
  [/^(\w*([^aeiouy]|qu))y$/, "ies"],
  [/^(\w*([^ch][ieo][ln]))ey$/, "ies"],
  [/^(\w*(x|ch|ss|sh|zz)es)$/, ""],
  [/^(\w*(x|ch|ss|sh|zz))$/, "es"],
  [/^(\w*(matr|cod|mur|sil|vert|ind|append))(?:ix|ex)$/, "ices"],
  [/^(\w*(m|l)(?:ice|ouse))$/, "ice"],
  [/^(\w*(pe)(?:rson|ople))$/, "ople"],
  [/^(\w*(child))(?:ren)?$/, "ren"],
  [/^(\w*eaux)$/, ""],
];
const PLURAL_SPECIAL: Record<string, string> = {
  ox: "oxen",
  man: "men",
  woman: "women",
  die: "dice",
  yes: "yeses",
  foot: "feet",
  eave: "eaves",
  goose: "geese",
  tooth: "teeth",
  quiz: "quizzes",
};

/** Inflector's `to_plural` (without its list of uncountable lower-case words, which no type name matches). */
export function pluralize(name: string): string {
  const special = PLURAL_SPECIAL[name];
  if (special) return special;
  for (let i = PLURAL_RULES.length - 1; i >= 0; i--) {
    const [re, replace] = PLURAL_RULES[i] as [RegExp, string];
    const m = re.exec(name);
    if (m?.[1] !== undefined) return m[1] + replace;
  }
  return `${name}s`;
}

export const singularFieldName = (typeName: string) => camelCase(typeName);
export const pluralFieldName = (typeName: string) => camelCase(pluralize(typeName));

// ---- scalars (graph-node's input coercion: graphql/src/values/coercion.rs; output as graph-node serializes) ----

const literalError = (scalar: string, ast: ValueNode) =>
  new TypeError(`${scalar} cannot represent a literal of kind ${ast.kind}`);

const stringOut = (v: unknown) => (typeof v === "bigint" ? v.toString() : String(v));

/** Arbitrary-precision integer: a decimal string in responses; a string or an Int in queries. */
export const BigIntScalar = new GraphQLScalarType({
  name: "BigInt",
  serialize: stringOut,
  parseValue(v) {
    if (typeof v === "string") return v;
    if (typeof v === "number" && Number.isInteger(v)) return String(v);
    throw new TypeError(`BigInt cannot represent value: ${JSON.stringify(v)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return ast.value;
    throw literalError("BigInt", ast);
  },
});

/** Decimal: a string in responses; a string, Int or Float in queries. */
export const BigDecimalScalar = new GraphQLScalarType({
  name: "BigDecimal",
  serialize: stringOut,
  parseValue(v) {
    if (typeof v === "string") return v;
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    throw new TypeError(`BigDecimal cannot represent value: ${JSON.stringify(v)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return ast.value;
    throw literalError("BigDecimal", ast);
  },
});

/** Byte array: lower-case 0x-hex in responses; a hex string in queries (checked when used). */
export const BytesScalar = new GraphQLScalarType({
  name: "Bytes",
  serialize: stringOut,
  parseValue(v) {
    if (typeof v === "string") return v;
    throw new TypeError(`Bytes cannot represent value: ${JSON.stringify(v)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING) return ast.value;
    throw literalError("Bytes", ast);
  },
});

/** 8 bytes signed integer: a string in responses (graph-node returns i64 as strings); an Int in queries. */
export const Int8Scalar = new GraphQLScalarType({
  name: "Int8",
  description: "8 bytes signed integer",
  serialize: stringOut,
  parseValue(v) {
    if (typeof v === "number" && Number.isInteger(v)) return String(v);
    throw new TypeError(`Int8 cannot represent value: ${JSON.stringify(v)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.INT) return ast.value;
    throw literalError("Int8", ast);
  },
});

/** Microseconds since the epoch: a string in responses and in queries. */
export const TimestampScalar = new GraphQLScalarType({
  name: "Timestamp",
  description: "A string representation of microseconds UNIX timestamp (16 digits)",
  serialize: stringOut,
  parseValue(v) {
    if (typeof v === "string") return v;
    throw new TypeError(`Timestamp cannot represent value: ${JSON.stringify(v)}`);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING) return ast.value;
    throw literalError("Timestamp", ast);
  },
});

const scalarTypes: Record<string, GraphQLScalarType> = {
  ID: GraphQLID,
  String: GraphQLString,
  Int: GraphQLInt,
  Boolean: GraphQLBoolean,
  BigInt: BigIntScalar,
  BigDecimal: BigDecimalScalar,
  Bytes: BytesScalar,
  Int8: Int8Scalar,
  Timestamp: TimestampScalar,
};

// ---- the filter and orderBy vocabulary ----

export type FilterOp =
  | ""
  | "not"
  | "gt"
  | "lt"
  | "gte"
  | "lte"
  | "in"
  | "not_in"
  | "contains"
  | "contains_nocase"
  | "not_contains"
  | "not_contains_nocase"
  | "starts_with"
  | "starts_with_nocase"
  | "not_starts_with"
  | "not_starts_with_nocase"
  | "ends_with"
  | "ends_with_nocase"
  | "not_ends_with"
  | "not_ends_with_nocase"
  | "child";

const ORDERED: FilterOp[] = ["", "not", "gt", "lt", "gte", "lte", "in", "not_in"];
const STRING_OPS: FilterOp[] = [
  ...ORDERED,
  "contains",
  "contains_nocase",
  "not_contains",
  "not_contains_nocase",
  "starts_with",
  "starts_with_nocase",
  "not_starts_with",
  "not_starts_with_nocase",
  "ends_with",
  "ends_with_nocase",
  "not_ends_with",
  "not_ends_with_nocase",
];
/** The suffixes graph-node generates for a scalar of each type (api.rs `field_scalar_filter_input_values`). */
export function scalarOps(scalar: string): FilterOp[] {
  switch (scalar) {
    case "BigInt":
    case "BigDecimal":
    case "ID":
    case "Int":
    case "Int8":
      return ORDERED;
    case "Boolean":
      return ["", "not", "in", "not_in"];
    case "Bytes":
      return [...ORDERED, "contains", "not_contains"];
    case "String":
      return STRING_OPS;
    default:
      return ["", "not"];
  }
}
const ENUM_OPS: FilterOp[] = ["", "not", "in", "not_in"];
const LIST_OPS: FilterOp[] = [
  "",
  "not",
  "contains",
  "contains_nocase",
  "not_contains",
  "not_contains_nocase",
];

/** What one key of a `T_filter` input means. */
export interface FilterKey {
  field: FieldModel;
  op: FilterOp;
  /** The GraphQL type of the field (for error messages), e.g. `Booking!`. */
  typeString: string;
}

/** What one value of a `T_orderBy` enum means: a field, or a field of a single reference (`field__child`). */
export interface OrderKey {
  field: FieldModel;
  child?: FieldModel;
}

export interface ApiSchema {
  schema: GraphQLSchema;
  model: SchemaModel;
  /** Root Query field name → the entity it queries and whether by id or as a collection. */
  queryFields: Map<string, { entity: EntityModel; kind: "single" | "plural" }>;
  /** Entity name → filter key → meaning. */
  filterKeys: Map<string, Map<string, FilterKey>>;
  /** Entity name → orderBy enum value → meaning. */
  orderKeys: Map<string, Map<string, OrderKey>>;
}

/** The scalar a reference's `field`/`field_in` filters take: graph-node uses String for String and Bytes ids and
 * Int for Int8 ids (api.rs `id_type_as_scalar`). */
const refScalar = (target: EntityModel) => (target.idStorage === "Int8" ? "Int" : "String");

function typeString(f: FieldModel): string {
  let t = f.typeName;
  if (f.list) t = `[${t}${f.listItemNonNull ? "!" : ""}]`;
  return f.nonNull ? `${t}!` : t;
}

export function buildApiSchema(model: SchemaModel): ApiSchema {
  const enums = new Map<string, GraphQLEnumType>();
  for (const e of model.enums.values()) {
    const values: GraphQLEnumValueConfigMap = {};
    for (const v of e.values) values[v] = { value: v };
    enums.set(e.name, new GraphQLEnumType({ name: e.name, description: e.description, values }));
  }

  const OrderDirection = new GraphQLEnumType({
    name: "OrderDirection",
    description: "Defines the order direction, either ascending or descending",
    values: { asc: { value: "asc" }, desc: { value: "desc" } },
  });
  const ErrorPolicy = new GraphQLEnumType({
    name: "_SubgraphErrorPolicy_",
    values: {
      allow: {
        value: "allow",
        description: "Data will be returned even if the subgraph has indexing errors",
      },
      deny: {
        value: "deny",
        description: "If the subgraph has indexing errors, data will be omitted. The default.",
      },
    },
  });
  const AggregationInterval = new GraphQLEnumType({
    name: "Aggregation_interval",
    values: { hour: { value: "hour" }, day: { value: "day" } },
  });
  const BlockHeight = new GraphQLInputObjectType({
    name: "Block_height",
    description: "The block at which the query should be executed.",
    fields: {
      hash: { type: BytesScalar, description: "Value containing a block hash" },
      number: { type: GraphQLInt, description: "Value containing a block number" },
      number_gte: {
        type: GraphQLInt,
        description:
          "Value containing the minimum block number. In the case of `number_gte`, the query will be executed on the latest block only if the subgraph has progressed to or past the minimum block number. Defaults to the latest block when omitted.",
      },
    },
  });
  const BlockChangedFilter = new GraphQLInputObjectType({
    name: "BlockChangedFilter",
    fields: { number_gte: { type: new GraphQLNonNull(GraphQLInt) } },
  });
  const BlockType = new GraphQLObjectType({
    name: "_Block_",
    fields: {
      hash: { type: BytesScalar, description: "The hash of the block" },
      number: { type: new GraphQLNonNull(GraphQLInt), description: "The block number" },
      timestamp: {
        type: GraphQLInt,
        description: "Integer representation of the timestamp stored in blocks for the chain",
      },
      parentHash: { type: BytesScalar, description: "The hash of the parent block" },
    },
  });
  const MetaType = new GraphQLObjectType({
    name: "_Meta_",
    description: "The type for the top-level _meta field",
    fields: {
      block: {
        type: new GraphQLNonNull(BlockType),
        description:
          "Information about a specific subgraph block. The hash of the block will be null if the _meta field has a block constraint that asks for a block number. It will be filled if the _meta field has no block constraint and therefore asks for the latest  block",
      },
      deployment: { type: new GraphQLNonNull(GraphQLString), description: "The deployment ID" },
      hasIndexingErrors: {
        type: new GraphQLNonNull(GraphQLBoolean),
        description: "If `true`, the subgraph encountered indexing errors at some past block",
      },
    },
  });

  const entities = [...model.entities.values()];
  const objectTypes = new Map<string, GraphQLObjectType>();
  const filterTypes = new Map<string, GraphQLInputObjectType>();
  const orderByTypes = new Map<string, GraphQLEnumType>();
  const filterKeys = new Map<string, Map<string, FilterKey>>();
  const orderKeys = new Map<string, Map<string, OrderKey>>();
  const entity = (name: string) => model.entities.get(name) as EntityModel;

  const blockArg = {
    type: BlockHeight,
    description:
      "The block at which the query should be executed. Can either be a `{ hash: Bytes }` value containing a block hash, a `{ number: Int }` containing the block number, or a `{ number_gte: Int }` containing the minimum block number. In the case of `number_gte`, the query will be executed on the latest block only if the subgraph has progressed to or past the minimum block number. Defaults to the latest block when omitted.",
  };
  const errorPolicyArg = {
    type: new GraphQLNonNull(ErrorPolicy),
    defaultValue: "deny",
    description: "Set to `allow` to receive data even if the subgraph has skipped over errors while syncing.",
  };
  const collectionArgs = (target: string): GraphQLFieldConfigArgumentMap => ({
    skip: { type: GraphQLInt, defaultValue: 0 },
    first: { type: GraphQLInt, defaultValue: 100 },
    orderBy: { type: orderByTypes.get(target) as GraphQLEnumType },
    orderDirection: { type: OrderDirection },
    where: { type: filterTypes.get(target) as GraphQLInputObjectType },
  });

  // orderBy enums and their meaning
  for (const e of entities) {
    const keys = new Map<string, OrderKey>();
    const values: GraphQLEnumValueConfigMap = {};
    for (const f of e.fields) {
      keys.set(f.name, { field: f });
      values[f.name] = { value: f.name };
      if (f.kind === "entity" && !f.list) {
        for (const c of entity(f.typeName).fields) {
          if (c.list || c.kind === "entity") continue;
          const name = `${f.name}__${c.name}`;
          keys.set(name, { field: f, child: c });
          values[name] = { value: name };
        }
      }
    }
    orderKeys.set(e.name, keys);
    orderByTypes.set(e.name, new GraphQLEnumType({ name: `${e.name}_orderBy`, values }));
  }

  // filter inputs and their meaning
  for (const e of entities) {
    const keys = new Map<string, FilterKey>();
    filterKeys.set(e.name, keys);
    filterTypes.set(
      e.name,
      new GraphQLInputObjectType({
        name: `${e.name}_filter`,
        fields: () => {
          const out: GraphQLInputFieldConfigMap = {};
          const add = (f: FieldModel, op: FilterOp, type: GraphQLInputType) => {
            const name = op === "" ? f.name : op === "child" ? `${f.name}_` : `${f.name}_${op}`;
            out[name] = { type };
            keys.set(name, { field: f, op, typeString: typeString(f) });
          };
          const opType = (op: FilterOp, t: GraphQLInputType) =>
            op === "in" || op === "not_in" ? new GraphQLList(new GraphQLNonNull(t)) : t;
          for (const f of e.fields) {
            if (f.kind === "entity") {
              const target = entity(f.typeName);
              const idType = scalarTypes[refScalar(target)] as GraphQLScalarType;
              if (!f.derivedFrom) {
                if (f.list)
                  for (const op of LIST_OPS) add(f, op, new GraphQLList(new GraphQLNonNull(idType)));
                else for (const op of scalarOps(refScalar(target))) add(f, op, opType(op, idType));
              }
              add(f, "child", filterTypes.get(f.typeName) as GraphQLInputObjectType);
              continue;
            }
            const t: GraphQLInputType =
              f.kind === "enum"
                ? (enums.get(f.typeName) as GraphQLEnumType)
                : (scalarTypes[f.typeName] as GraphQLScalarType);
            if (f.list) for (const op of LIST_OPS) add(f, op, new GraphQLList(new GraphQLNonNull(t)));
            else
              for (const op of f.kind === "enum" ? ENUM_OPS : scalarOps(f.typeName))
                add(f, op, opType(op, t));
          }
          out._change_block = {
            type: BlockChangedFilter,
            description: "Filter for the block changed event.",
          };
          const self = filterTypes.get(e.name) as GraphQLInputObjectType;
          out.and = { type: new GraphQLList(self) };
          out.or = { type: new GraphQLList(self) };
          return out;
        },
      }),
    );
  }

  // entity object types
  for (const e of entities) {
    objectTypes.set(
      e.name,
      new GraphQLObjectType({
        name: e.name,
        description: e.description,
        fields: () => {
          const out: GraphQLFieldConfigMap<unknown, unknown> = {};
          for (const f of e.fields) {
            let t: GraphQLOutputType =
              f.kind === "entity"
                ? (objectTypes.get(f.typeName) as GraphQLObjectType)
                : f.kind === "enum"
                  ? (enums.get(f.typeName) as GraphQLEnumType)
                  : (scalarTypes[f.typeName] as GraphQLScalarType);
            if (f.list) {
              if (f.listItemNonNull) t = new GraphQLNonNull(t);
              t = new GraphQLList(t);
            }
            if (f.nonNull) t = new GraphQLNonNull(t);
            out[f.name] = {
              type: t,
              description: f.description,
              args: f.kind === "entity" && f.list ? collectionArgs(f.typeName) : undefined,
            };
          }
          return out;
        },
      }),
    );
  }

  const queryFields = new Map<string, { entity: EntityModel; kind: "single" | "plural" }>();
  const Query = new GraphQLObjectType({
    name: "Query",
    fields: () => {
      const out: GraphQLFieldConfigMap<unknown, unknown> = {};
      for (const e of entities) {
        const type = objectTypes.get(e.name) as GraphQLObjectType;
        const single = singularFieldName(e.name);
        const plural = pluralFieldName(e.name);
        out[single] = {
          type,
          args: {
            id: { type: new GraphQLNonNull(GraphQLID) },
            block: blockArg,
            subgraphError: errorPolicyArg,
          },
        };
        out[plural] = {
          type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))),
          args: { ...collectionArgs(e.name), block: blockArg, subgraphError: errorPolicyArg },
        };
      }
      out._meta = {
        type: MetaType,
        description: "Access to subgraph metadata",
        args: { block: { type: BlockHeight } },
      };
      return out;
    },
  });
  for (const e of entities) {
    queryFields.set(singularFieldName(e.name), { entity: e, kind: "single" });
    queryFields.set(pluralFieldName(e.name), { entity: e, kind: "plural" });
  }

  const schema = new GraphQLSchema({
    query: Query,
    types: [
      ...Object.values(scalarTypes),
      ...enums.values(),
      OrderDirection,
      ErrorPolicy,
      AggregationInterval,
      BlockHeight,
      BlockChangedFilter,
      ...objectTypes.values(),
    ],
    directives: [
      ...specifiedDirectives,
      new GraphQLDirective({
        name: "entity",
        description:
          "Marks the GraphQL type as indexable entity.  Each type that should be an entity is required to be annotated with this directive.",
        locations: [DirectiveLocation.OBJECT],
      }),
      new GraphQLDirective({
        name: "subgraphId",
        description: "Defined a Subgraph ID for an object type",
        locations: [DirectiveLocation.OBJECT],
        args: { id: { type: new GraphQLNonNull(GraphQLString) } },
      }),
      new GraphQLDirective({
        name: "derivedFrom",
        description:
          "creates a virtual field on the entity that may be queried but cannot be set manually through the mappings API.",
        locations: [DirectiveLocation.FIELD_DEFINITION],
        args: { field: { type: new GraphQLNonNull(GraphQLString) } },
      }),
    ],
  });
  // Materialise the thunks so that filterKeys is complete before any query runs.
  for (const t of filterTypes.values()) t.getFields();
  return { schema, model, queryFields, filterKeys, orderKeys };
}
