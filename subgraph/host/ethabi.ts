// ethereum.encode / ethereum.decode for the embedded host: graph-ts `ethereum.Value` trees in wasm memory ⇄ ABI
// bytes, through viem's encodeAbiParameters / decodeAbiParameters. graph-node (runtime/wasm/src/host_exports.rs)
// encodes one value as `encode(&[token])` — the ABI encoding of a single parameter, what
// encodeAbiParameters([param], [value]) produces — and decodes with `decode(&[Reader::read(types)], data)`;
// `ethereum.decode` returns null when the type string does not parse or the data does not decode
// (runtime/wasm/src/module/context.rs), and a Value that cannot become a token (an Address that is not 20 bytes, a
// negative Uint) fails the handler.
import { type AbiParameter, bytesToHex, decodeAbiParameters, encodeAbiParameters, hexToBytes } from "viem";
import { EthKind, writeEthValue } from "./events.ts";
import type { MappingInstance } from "./wasm.ts";

/** An ABI parameter type with the value viem encodes for it. */
export interface TypedValue {
  param: AbiParameter;
  value: unknown;
}

/**
 * The type a Value tree implies. An empty array says nothing about its elements (`elem` null): ethabi encodes it the
 * same whatever they are, and a sibling array may tell.
 */
type ValueType =
  | { kind: "base"; type: string }
  | { kind: "tuple"; components: ValueType[] }
  | { kind: "array"; elem: ValueType | null; length: number | null };

function typeName(t: ValueType | null): string {
  if (!t) return "?";
  if (t.kind === "base") return t.type;
  if (t.kind === "tuple") return `(${t.components.map(typeName).join(",")})`;
  return `${typeName(t.elem)}[${t.length ?? ""}]`;
}

/** The one type both describe (an unknown element type takes the other's), or null when they differ. */
function unify(a: ValueType | null, b: ValueType | null): ValueType | null {
  if (!a) return b;
  if (!b) return a;
  if (a.kind === "base" && b.kind === "base") return a.type === b.type ? a : null;
  if (a.kind === "tuple" && b.kind === "tuple") {
    if (a.components.length !== b.components.length) return null;
    const components: ValueType[] = [];
    for (const [i, c] of a.components.entries()) {
      const u = unify(c, b.components[i] ?? null);
      if (!u) return null;
      components.push(u);
    }
    return { kind: "tuple", components };
  }
  if (a.kind === "array" && b.kind === "array" && a.length === b.length) {
    if (!a.elem || !b.elem) return { ...a, elem: a.elem ?? b.elem };
    const elem = unify(a.elem, b.elem);
    return elem ? { ...a, elem } : null;
  }
  return null;
}

/** The viem parameter for a type; an element type nothing tells is uint256 (it encodes no element). */
function toParam(t: ValueType): AbiParameter {
  if (t.kind === "base") return { type: t.type };
  if (t.kind === "tuple") return { type: "tuple", components: t.components.map(toParam) };
  const inner = toParam(t.elem ?? { kind: "base", type: "uint256" });
  return { ...inner, type: `${inner.type}[${t.length ?? ""}]` } as AbiParameter;
}

const U256_LIMIT = 2n ** 256n;
const I256_MIN = -(2n ** 255n);

function readValue(m: MappingInstance, ptr: number): { t: ValueType; value: unknown } {
  const base = (type: string, value: unknown) => ({ t: { kind: "base", type } as ValueType, value });
  const kind = m.i32(ptr) as EthKind;
  const data = m.u64(ptr + 8);
  const p = Number(data & 0xffffffffn);
  switch (kind) {
    case EthKind.Address: {
      const b = m.readBytes(p);
      if (b.length !== 20) throw new Error(`an ethereum.Value Address must be 20 bytes, not ${b.length}`);
      return base("address", bytesToHex(b));
    }
    case EthKind.FixedBytes: {
      const b = m.readBytes(p);
      if (b.length < 1 || b.length > 32)
        throw new Error(`an ethereum.Value FixedBytes must be 1 to 32 bytes, not ${b.length}`);
      return base(`bytes${b.length}`, bytesToHex(b));
    }
    case EthKind.Bytes:
      return base("bytes", bytesToHex(m.readBytes(p)));
    case EthKind.Int: {
      const n = m.readBigInt(p);
      // graph-node BigInt::to_signed_u256
      if (n < I256_MIN || n >= -I256_MIN) throw new Error("BigInt value does not fit into signed U256");
      return base("int256", n);
    }
    case EthKind.Uint: {
      const n = m.readBigInt(p);
      // graph-node BigInt::to_unsigned_u256
      if (n < 0n) throw new Error(`negative value encountered for U256: ${n}`);
      if (n >= U256_LIMIT) throw new Error(`BigInt value does not fit into U256: ${n}`);
      return base("uint256", n);
    }
    case EthKind.Bool:
      return base("bool", data !== 0n);
    case EthKind.String:
      return base("string", m.readString(p));
    case EthKind.Tuple: {
      const elems = m.readArray(p).map((e) => readValue(m, e));
      return { t: { kind: "tuple", components: elems.map((e) => e.t) }, value: elems.map((e) => e.value) };
    }
    case EthKind.FixedArray:
    case EthKind.Array: {
      const elems = m.readArray(p).map((e) => readValue(m, e));
      let elem: ValueType | null = null;
      for (const e of elems) {
        const u = unify(elem, e.t);
        if (!u)
          throw new Error(
            `ethereum.Value array elements differ in type: ${typeName(elem)} and ${typeName(e.t)}`,
          );
        elem = u;
      }
      const length = kind === EthKind.FixedArray ? elems.length : null;
      return { t: { kind: "array", elem, length }, value: elems.map((e) => e.value) };
    }
    default:
      throw new Error(`unknown ethereum.Value kind ${kind}`);
  }
}

/** Reads the ethereum.Value at `ptr` (graph-ts layout {kind: i32, data: u64}) as a type and a viem value. */
export function readEthValue(m: MappingInstance, ptr: number): TypedValue {
  const { t, value } = readValue(m, ptr);
  return { param: toParam(t), value };
}

/** ethereum.encode: the ABI encoding of the value as one parameter. */
export function encodeEthValue(m: MappingInstance, ptr: number): Uint8Array {
  const { param, value } = readEthValue(m, ptr);
  return hexToBytes(encodeAbiParameters([param], [value]));
}

/**
 * Parses a type string as ethabi's `Reader::read` does: "uint256", "int"/"uint" (256 bits), "bytes32", "address[]",
 * "bool[3]", "(uint256,address)", "(uint256,(bool,string))[]", "tuple" (the empty tuple). Null when malformed.
 */
export function parseEthabiType(name: string): AbiParameter | null {
  if (name.endsWith("]")) {
    const open = name.lastIndexOf("[");
    if (open <= 0) return null;
    const len = name.slice(open + 1, -1);
    if (len !== "" && !/^[0-9]+$/.test(len)) return null;
    const inner = parseEthabiType(name.slice(0, open));
    if (!inner) return null;
    return { ...inner, type: `${inner.type}[${len}]` } as AbiParameter;
  }
  if (name.endsWith(")")) {
    if (!name.startsWith("(")) return null;
    const parts: string[] = [];
    let depth = 0;
    let start = 1;
    for (let i = 1; i < name.length - 1; i++) {
      const c = name[i];
      if (c === "(") depth++;
      else if (c === ")") {
        depth--;
        if (depth < 0) return null;
      } else if (c === "," && depth === 0) {
        parts.push(name.slice(start, i));
        start = i + 1;
      }
    }
    if (depth !== 0) return null;
    const last = name.slice(start, -1);
    if (last !== "" || parts.length > 0) parts.push(last);
    const components: AbiParameter[] = [];
    for (const part of parts) {
      const c = parseEthabiType(part);
      if (!c) return null;
      components.push(c);
    }
    return { type: "tuple", components };
  }
  if (name === "int" || name === "uint") return { type: `${name}256` };
  if (name === "tuple") return { type: "tuple", components: [] };
  if (/^(address|bool|string|bytes|u?int[0-9]+|bytes[0-9]+)$/.test(name)) return { type: name };
  return null;
}

/** ethereum.decode: the decoded value with its type, or null where graph-node returns null. */
export function decodeEthValue(types: string, data: Uint8Array): TypedValue | null {
  const param = parseEthabiType(types);
  if (!param) return null;
  try {
    const [value] = decodeAbiParameters([param], bytesToHex(data));
    return { param, value };
  } catch {
    return null;
  }
}

/** Writes a decoded value back as an ethereum.Value (graph-node's Token → ethereum.Value mapping). */
export function writeDecoded(m: MappingInstance, decoded: TypedValue): number {
  return writeEthValue(m, decoded.param, decoded.value);
}
