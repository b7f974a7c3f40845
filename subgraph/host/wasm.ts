// Loads a compiled AssemblyScript mapping (graph-ts 0.38, apiVersion 0.0.9) and implements the host functions it
// imports with graph-node's semantics. Memory layout (AssemblyScript runtime):
//   object header: 20 bytes before the pointer; class id at ptr-8, payload size at ptr-4
//   String: UTF-16LE payload; ArrayBuffer: raw payload
//   Uint8Array (Bytes, Address, BigInt): {buffer, dataStart, byteLength} (12 bytes)
//   Array<T>: {buffer, dataStart, byteLength, length} (16 bytes), elements of 4 bytes (pointers)
//   store Value / ethereum.Value: {kind: i32 @0, data: u64 @8} (16 bytes)
//   BigDecimal: {digits: BigInt @0, exp: BigInt @4}; TypedMap: {entries @0}; TypedMapEntry: {key @0, value @4}
import { readFileSync } from "node:fs";
import { hexToBytes, keccak256 } from "viem";
import {
  add,
  type Decimal,
  decimalEquals,
  div,
  formatDecimal,
  MAX_EXP,
  MIN_EXP,
  mul,
  normalize,
  parseBigIntStrict,
  parseDecimal,
  sub,
} from "./decimal.ts";
import { decodeEthValue, encodeEthValue, writeDecoded } from "./ethabi.ts";

/** graph-ts `ValueKind` of store values. */
export enum StoreKind {
  String = 0,
  Int = 1,
  BigDecimal = 2,
  Bool = 3,
  Array = 4,
  Null = 5,
  Bytes = 6,
  BigInt = 7,
  Int8 = 8,
  Timestamp = 9,
}

/** A store value on the host side. Bytes are Uint8Array, BigInt/Int8/Timestamp bigint, BigDecimal a Decimal. */
export type StoreValue =
  | { kind: StoreKind.String; value: string }
  | { kind: StoreKind.Int; value: number }
  | { kind: StoreKind.BigDecimal; value: Decimal }
  | { kind: StoreKind.Bool; value: boolean }
  | { kind: StoreKind.Array; value: StoreValue[] }
  | { kind: StoreKind.Null }
  | { kind: StoreKind.Bytes; value: Uint8Array }
  | { kind: StoreKind.BigInt; value: bigint }
  | { kind: StoreKind.Int8; value: bigint }
  | { kind: StoreKind.Timestamp; value: bigint };

export type EntityData = Map<string, StoreValue>;

/** `log.critical` from a mapping: graph-node fails the subgraph on it, so the handler call throws this. */
export class MappingCriticalLog extends Error {
  constructor(readonly logMessage: string) {
    super(`critical log from mapping: ${logMessage}`);
    this.name = "MappingCriticalLog";
  }
}

/** graph-ts `log.Level`; graph-node reads any other number as Debug. */
export enum LogLevel {
  Critical = 0,
  Error = 1,
  Warning = 2,
  Info = 3,
  Debug = 4,
}

/** The data source whose handler runs: what `dataSource.address()`, `.network()` and `.context()` return. */
export interface HostDataSource {
  /** The manifest's `source.address` (empty when it has none, as graph-node's `unwrap_or_default`). */
  address: Uint8Array;
  /** The manifest's `network`. */
  network: string;
  /** The data source context; an empty map when the manifest gives none. */
  context: EntityData;
}

/** What the host functions need from outside: the store, a log sink and the data source. */
export interface HostContext {
  get(entityType: string, id: string): EntityData | null;
  set(entityType: string, id: string, data: EntityData): void;
  remove(entityType: string, id: string): void;
  /** graph-ts `store.get_in_block`: the entity only if it was written in the block being indexed. */
  getInBlock?(entityType: string, id: string): EntityData | null;
  /** `level` is a LogLevel (graph-node's mapping of the number already applied). */
  log(level: LogLevel, message: string): void;
  dataSource: HostDataSource;
}

export class MappingAbort extends Error {
  constructor(
    readonly abortMessage: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`mapping aborted: ${abortMessage} (${file}:${line}:${column})`);
    this.name = "MappingAbort";
  }
}

// ---- BigInt bytes (signed little-endian two's complement, minimal; zero is [0] as num-bigint writes it) ----

export function bigIntFromBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i] as number);
  if (((b[b.length - 1] as number) & 0x80) !== 0) x -= 1n << BigInt(8 * b.length);
  return x;
}

export function bigIntToBytes(x: bigint): Uint8Array {
  const out: number[] = [];
  let v = x;
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n; // arithmetic shift: sign preserved
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

export const toHex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

/**
 * graph-node's BigInt limit (graph/src/data/store/scalar/bigint.rs `MAX_BITS`, 131072 decimal digits): checked when
 * a BigInt is read from the mapping, parsed, or produced by `pow`, not on the results of the other operations.
 */
export const BIGINT_MAX_BITS = 435_412;

export function checkBigIntSize(x: bigint): bigint {
  // num-bigint's bits() counts the magnitude; graph-node adds one for the sign.
  const bits = (x === 0n ? 0 : (x < 0n ? -x : x).toString(2).length) + 1;
  if (bits > BIGINT_MAX_BITS)
    throw new Error(`BigInt is too big, total bits ${bits} (max ${BIGINT_MAX_BITS})`);
  return x;
}

const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** The bs58 crate's encoding (Bitcoin alphabet; each leading zero byte is a "1"), as `bytesToBase58` uses. */
export function toBase58(b: Uint8Array): string {
  let zeros = 0;
  while (zeros < b.length && b[zeros] === 0) zeros++;
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  let out = "";
  while (n > 0n) {
    out = (BASE58_ALPHABET[Number(n % 58n)] as string) + out;
    n /= 58n;
  }
  return "1".repeat(zeros) + out;
}

/**
 * graph-node `string_to_h160`: every leading "0x" trimmed (`trim_start_matches`), then `H160::from_str` (rustc-hex):
 * exactly 40 hex digits, either case, with ASCII whitespace ignored anywhere.
 */
export function stringToH160(input: string): Uint8Array {
  let s = input;
  while (s.startsWith("0x")) s = s.slice(2);
  const hex = s.replace(/[ \r\n\t]/g, "");
  if (hex.length !== 40 || !/^[0-9a-fA-F]*$/.test(hex))
    throw new Error(`Failed to convert string to Address/H160: '${s}'`);
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/**
 * graph-node `bytes_to_string`: `String::from_utf8_lossy` (each maximal invalid subsequence becomes U+FFFD, as the
 * WHATWG decoder does; a BOM is kept), then trailing NULs trimmed.
 */
export function bytesToString(b: Uint8Array): string {
  const s = new TextDecoder("utf-8", { ignoreBOM: true }).decode(b);
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0) end--;
  return s.slice(0, end);
}

/** graph-node `big_int_to_hex`: the magnitude in minimal hex ("0x0" for zero); the sign is dropped. */
export function bigIntToHex(x: bigint): string {
  return `0x${(x < 0n ? -x : x).toString(16)}`;
}

/** The TypeId names the host allocates (graph-ts `TypeId`, exported by the module as globals `TypeId.<name>`). */
type TypeName =
  | "String"
  | "ArrayBuffer"
  | "Uint8Array"
  | "BigDecimal"
  | "ArrayEthereumValue"
  | "ArrayStoreValue"
  | "ArrayEventParam"
  | "ArrayTypedMapEntryStringStoreValue"
  | "EventParam"
  | "EthereumTransaction"
  | "EthereumBlock"
  | "EthereumValue"
  | "StoreValue"
  | "EthereumEvent"
  | "TypedMapEntryStringStoreValue"
  | "TypedMapStringStoreValue";

interface Exports {
  memory: WebAssembly.Memory;
  _start?: () => void;
  __new(size: number, id: number): number;
  __pin(ptr: number): number;
  __unpin(ptr: number): void;
  id_of_type(typeId: number): number;
  [name: string]: unknown;
}

/** A host function as the module calls it: i32 arguments (pointers, u8/u32 numbers), an i32 pointer or nothing back. */
export type HostFunction = (...args: number[]) => unknown;

/** The stand-in for an import the host does not implement: it throws, naming the import. */
function unimplemented(key: string): HostFunction {
  return () => {
    throw new Error(`host function ${key} is not implemented by the embedded host`);
  };
}

export class MappingInstance {
  exports: Exports;
  private readonly classIds = new Map<TypeName, number>();
  /** Objects pinned while the host builds something; released by `releasePinned`. */
  private pinned: number[] = [];
  private module: WebAssembly.Module | null = null;
  private imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};

  private constructor(
    instance: WebAssembly.Instance,
    readonly importsUsed: string[],
    private readonly implemented: Readonly<Record<string, HostFunction>>,
  ) {
    this.exports = instance.exports as unknown as Exports;
  }

  /**
   * Replaces the instance with a fresh one of the same compiled module, as graph-node instantiates the module
   * anew for every trigger: no memory or globals carry over from one handler to the next, and the memory a
   * handler allocated is dropped with its instance.
   */
  /** `renew()` once the instance's memory has grown past `bytes` (see Indexer for why not on every trigger). */
  renewIfMemoryOver(bytes: number) {
    if (this.exports.memory.buffer.byteLength > bytes) this.renew();
  }

  renew() {
    if (!this.module) return;
    const instance = new WebAssembly.Instance(this.module, this.imports);
    this.exports = instance.exports as unknown as Exports;
    this.viewBuffer = null;
    this.pinned = [];
    this.exports._start?.();
  }

  static async load(wasmPath: string, ctx: HostContext): Promise<MappingInstance> {
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    const needed = WebAssembly.Module.imports(module);
    let self: MappingInstance | undefined;
    const me = () => {
      if (!self) throw new Error("host function called before the module was instantiated");
      return self;
    };
    const impl = hostFunctions(me, ctx);
    const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
    for (const imp of needed) {
      const key = `${imp.module}.${imp.name}`;
      imports[imp.module] ??= {};
      (imports[imp.module] as Record<string, WebAssembly.ImportValue>)[imp.name] =
        impl[key] ?? unimplemented(key);
    }
    const instance = new WebAssembly.Instance(module, imports);
    self = new MappingInstance(
      instance,
      needed.map((i) => `${i.module}.${i.name}`),
      impl,
    );
    self.module = module;
    self.imports = imports;
    self.exports._start?.();
    return self;
  }

  /** Keys ("module.name", graph-ts 0.38's import modules) of every host function the host implements. */
  get hostFunctionNames(): string[] {
    return Object.keys(this.implemented);
  }

  /**
   * The function the host links for import `key` ("module.name"), whether or not this module imports it: the
   * implementation, or the stand-in that throws naming it. Lets tests call any host function directly.
   */
  hostFunction(key: string): HostFunction {
    return this.implemented[key] ?? unimplemented(key);
  }

  // ---- raw memory ----

  private view: DataView | null = null;
  private bytesView: Uint8Array | null = null;
  private viewBuffer: ArrayBuffer | null = null;
  /** Views of the memory, remade only when it grew (growing detaches the old buffer: its byteLength becomes 0). */
  private refreshViews() {
    if (this.viewBuffer && this.viewBuffer.byteLength !== 0) return;
    this.viewBuffer = this.exports.memory.buffer;
    this.view = new DataView(this.viewBuffer);
    this.bytesView = new Uint8Array(this.viewBuffer);
  }
  private get dv(): DataView {
    this.refreshViews();
    return this.view as DataView;
  }
  private get u8(): Uint8Array {
    this.refreshViews();
    return this.bytesView as Uint8Array;
  }
  u32(ptr: number): number {
    return this.dv.getUint32(ptr, true);
  }
  i32(ptr: number): number {
    return this.dv.getInt32(ptr, true);
  }
  u64(ptr: number): bigint {
    return this.dv.getBigUint64(ptr, true);
  }
  setU32(ptr: number, v: number) {
    this.dv.setUint32(ptr, v, true);
  }
  setU64(ptr: number, v: bigint) {
    this.dv.setBigUint64(ptr, BigInt.asUintN(64, v), true);
  }
  classIdOf(ptr: number): number {
    return this.u32(ptr - 8);
  }
  sizeOf(ptr: number): number {
    return this.u32(ptr - 4);
  }

  classId(name: TypeName): number {
    let id = this.classIds.get(name);
    if (id === undefined) {
      const g = this.exports[`TypeId.${name}`] as WebAssembly.Global | undefined;
      if (!g) throw new Error(`the module exports no TypeId.${name}`);
      id = this.exports.id_of_type(g.value as number);
      this.classIds.set(name, id);
    }
    return id;
  }

  /** Allocates and pins (so a collection during later allocations cannot free it). */
  alloc(size: number, type: TypeName): number {
    const ptr = this.exports.__new(size, this.classId(type));
    this.exports.__pin(ptr);
    this.pinned.push(ptr);
    return ptr;
  }
  releasePinned() {
    const p = this.pinned;
    this.pinned = [];
    for (const ptr of p) this.exports.__unpin(ptr);
  }
  /** Runs `build` with its own pin set (released on return) and keeps the caller's pins (a handler's argument). */
  withOwnPins(build: () => number): number {
    const outer = this.pinned;
    this.pinned = [];
    try {
      return build();
    } finally {
      this.releasePinned();
      this.pinned = outer;
    }
  }

  // ---- strings, bytes, arrays ----

  /** graph-node reads a string with `String::from_utf16` (a lone surrogate is an error) and strips NULs. */
  readString(ptr: number): string {
    if (ptr === 0) throw new Error("null string pointer");
    const len = this.sizeOf(ptr);
    const s = Buffer.from(this.exports.memory.buffer, ptr, len).toString("utf16le");
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s))
      throw new Error("invalid utf-16: lone surrogate found");
    return s.replaceAll("\u0000", "");
  }
  writeString(s: string): number {
    const ptr = this.alloc(s.length * 2, "String");
    const dv = this.dv; // after alloc: the allocation may have grown the memory
    for (let i = 0; i < s.length; i++) dv.setUint16(ptr + 2 * i, s.charCodeAt(i), true); // UTF-16LE code units
    return ptr;
  }
  /** Any typed-array view (Bytes, Address, BigInt): a copy of its bytes. */
  readBytes(ptr: number): Uint8Array {
    if (ptr === 0) throw new Error("null bytes pointer");
    const dataStart = this.u32(ptr + 4);
    const len = this.u32(ptr + 8);
    return this.u8.slice(dataStart, dataStart + len);
  }
  writeBytes(b: Uint8Array): number {
    const buf = this.alloc(b.length, "ArrayBuffer");
    new Uint8Array(this.exports.memory.buffer, buf, b.length).set(b);
    const view = this.alloc(12, "Uint8Array");
    this.setU32(view, buf);
    this.setU32(view + 4, buf);
    this.setU32(view + 8, b.length);
    return view;
  }
  /** A BigInt the mapping hands over; graph-node rejects one over BIGINT_MAX_BITS. */
  readBigInt(ptr: number): bigint {
    return checkBigIntSize(bigIntFromBytes(this.readBytes(ptr)));
  }
  writeBigInt(x: bigint): number {
    return this.writeBytes(bigIntToBytes(x));
  }
  /** Elements (4-byte pointers or i32) of an Array<T>. */
  readArray(ptr: number): number[] {
    const dataStart = this.u32(ptr + 4);
    const length = this.i32(ptr + 12);
    const out: number[] = [];
    for (let i = 0; i < length; i++) out.push(this.u32(dataStart + 4 * i));
    return out;
  }
  writeArray(elements: number[], type: TypeName): number {
    const bytes = elements.length * 4;
    const buf = this.alloc(bytes, "ArrayBuffer");
    for (const [i, e] of elements.entries()) this.setU32(buf + 4 * i, e);
    const arr = this.alloc(16, type);
    this.setU32(arr, buf);
    this.setU32(arr + 4, buf);
    this.setU32(arr + 8, bytes);
    this.setU32(arr + 12, elements.length);
    return arr;
  }
  /** A class instance whose fields are all pointers. */
  writeObject(fields: number[], type: TypeName): number {
    const ptr = this.alloc(fields.length * 4, type);
    for (const [i, f] of fields.entries()) this.setU32(ptr + 4 * i, f);
    return ptr;
  }
  /** {kind: i32, data: u64} — store Value or ethereum.Value. */
  writeEnumValue(kind: number, data: bigint | number, type: "StoreValue" | "EthereumValue"): number {
    const ptr = this.alloc(16, type);
    this.setU32(ptr, kind);
    this.setU64(ptr + 8, BigInt(data));
    return ptr;
  }

  // ---- BigDecimal ----

  /**
   * A BigDecimal the mapping hands over, as graph-node reads one (runtime/wasm/src/to_from/external.rs): the
   * exponent must fit an i64, the value is normalized (34 digits), and the normalized exponent must lie in
   * MIN_EXP..MAX_EXP.
   */
  readBigDecimal(ptr: number): Decimal {
    const digits = this.readBigInt(this.u32(ptr));
    const rawExp = this.readBigInt(this.u32(ptr + 4));
    if (rawExp !== BigInt.asIntN(64, rawExp))
      throw new Error(`big decimal exponent ${rawExp} does not fit an i64`);
    const d = normalize({ digits, exp: rawExp });
    if (d.exp < MIN_EXP || d.exp > MAX_EXP)
      throw new Error(
        `big decimal exponent \`${d.exp}\` is outside the \`${MIN_EXP}\` to \`${MAX_EXP}\` range`,
      );
    return d;
  }
  /** Writes `d` as given (graph-node writes its already normalized values unchanged). */
  writeBigDecimal(d: Decimal): number {
    return this.writeObject([this.writeBigInt(d.digits), this.writeBigInt(d.exp)], "BigDecimal");
  }

  // ---- store values and entities ----

  readStoreValue(ptr: number): StoreValue {
    const kind = this.i32(ptr) as StoreKind;
    const data = this.u64(ptr + 8);
    const p = Number(data & 0xffffffffn);
    switch (kind) {
      case StoreKind.String:
        return { kind, value: this.readString(p) };
      case StoreKind.Int:
        return { kind, value: Number(BigInt.asIntN(32, data)) };
      case StoreKind.BigDecimal:
        return { kind, value: this.readBigDecimal(p) };
      case StoreKind.Bool:
        return { kind, value: data !== 0n };
      case StoreKind.Array:
        return { kind, value: this.readArray(p).map((e) => this.readStoreValue(e)) };
      case StoreKind.Null:
        return { kind };
      case StoreKind.Bytes:
        return { kind, value: this.readBytes(p) };
      case StoreKind.BigInt:
        return { kind, value: this.readBigInt(p) };
      case StoreKind.Int8:
      case StoreKind.Timestamp:
        return { kind, value: BigInt.asIntN(64, data) };
      default:
        throw new Error(`unknown store value kind ${kind}`);
    }
  }
  writeStoreValue(v: StoreValue): number {
    switch (v.kind) {
      case StoreKind.String:
        return this.writeEnumValue(v.kind, this.writeString(v.value), "StoreValue");
      case StoreKind.Int:
        return this.writeEnumValue(v.kind, BigInt.asUintN(64, BigInt(v.value)), "StoreValue");
      case StoreKind.BigDecimal:
        return this.writeEnumValue(v.kind, this.writeBigDecimal(v.value), "StoreValue");
      case StoreKind.Bool:
        return this.writeEnumValue(v.kind, v.value ? 1 : 0, "StoreValue");
      case StoreKind.Array: {
        const elems = v.value.map((e) => this.writeStoreValue(e));
        return this.writeEnumValue(v.kind, this.writeArray(elems, "ArrayStoreValue"), "StoreValue");
      }
      case StoreKind.Null:
        return this.writeEnumValue(v.kind, 0, "StoreValue");
      case StoreKind.Bytes:
        return this.writeEnumValue(v.kind, this.writeBytes(v.value), "StoreValue");
      case StoreKind.BigInt:
        return this.writeEnumValue(v.kind, this.writeBigInt(v.value), "StoreValue");
      case StoreKind.Int8:
      case StoreKind.Timestamp:
        return this.writeEnumValue(v.kind, v.value, "StoreValue");
    }
  }
  readEntity(ptr: number): EntityData {
    const out: EntityData = new Map();
    for (const entry of this.readArray(this.u32(ptr))) {
      out.set(this.readString(this.u32(entry)), this.readStoreValue(this.u32(entry + 4)));
    }
    return out;
  }
  /** An entity (or data source context) with its fields in key order, as graph-node's `sorted()` hands them over. */
  writeEntity(data: EntityData): number {
    const entries: number[] = [];
    // graph-node's order: by the keys' bytes. Field names are GraphQL names (ASCII), where comparing the strings
    // is comparing their bytes.
    const fields = [...data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, v] of fields) {
      entries.push(
        this.writeObject([this.writeString(k), this.writeStoreValue(v)], "TypedMapEntryStringStoreValue"),
      );
    }
    return this.writeObject(
      [this.writeArray(entries, "ArrayTypedMapEntryStringStoreValue")],
      "TypedMapStringStoreValue",
    );
  }

  /** Calls an exported handler with one pointer argument, then releases what the host pinned for it. */
  callHandler(name: string, argPtr: number): void {
    const fn = this.exports[name];
    if (typeof fn !== "function") throw new Error(`the module exports no handler ${name}`);
    try {
      (fn as (p: number) => void)(argPtr);
    } finally {
      this.releasePinned();
    }
  }
}

/** graph-node `big_decimal_divided_by`: a zero divisor is a deterministic error naming the dividend. */
function decimalDiv(x: Decimal, y: Decimal): Decimal {
  if (y.digits === 0n) throw new Error(`attempted to divide BigDecimal \`${formatDecimal(x)}\` by zero`);
  return div(x, y);
}

/** graph-node turns these u32 arguments (declared u8 by graph-ts) into u8 with `u8::try_from`. */
function u8Arg(x: number): number {
  const v = x >>> 0;
  if (v > 255) throw new Error("out of range integral type conversion attempted");
  return v;
}

/** For host functions that would need an Ethereum node: the ComputeHive mappings make no calls. */
function noEthereumNode(name: string): HostFunction {
  return () => {
    throw new Error(`${name} is not supported by the embedded host (the ComputeHive mappings make no calls)`);
  };
}

function noDynamicDataSources(name: string): HostFunction {
  return () => {
    throw new Error(`${name}: dynamic data sources are not supported by the embedded host`);
  };
}

/**
 * The host functions, keyed "module.name" with graph-ts 0.38's import modules (`index`, `numbers`, `conversion`,
 * `datasource`, `ethereum`). Semantics and error messages follow graph-node's runtime/wasm/src/host_exports.rs and
 * module/context.rs; a thrown Error is the deterministic host error that fails the handler. Each function that
 * allocates releases its own pins before returning. Not here (so they throw naming themselves): json.*, ipfs.*,
 * ens.*, yaml.*, store.loadRelated and other chains' functions.
 */
function hostFunctions(me: () => MappingInstance, ctx: HostContext): Record<string, HostFunction> {
  /** Runs `f`, keeping the pins the caller already had (the handler's argument) and dropping those `f` made. */
  const returning = (f: (m: MappingInstance) => number) => {
    const m = me();
    return m.withOwnPins(() => f(m));
  };
  const bigOp = (op: (a: bigint, b: bigint) => bigint) => (x: number, y: number) =>
    returning((m) => m.writeBigInt(op(m.readBigInt(x), m.readBigInt(y))));
  const bigShift = (op: (a: bigint, bits: bigint) => bigint) => (x: number, bits: number) =>
    returning((m) => {
      const n = u8Arg(bits);
      return m.writeBigInt(op(m.readBigInt(x), BigInt(n)));
    });
  const decOp = (op: (a: Decimal, b: Decimal) => Decimal) => (x: number, y: number) =>
    returning((m) => m.writeBigDecimal(op(m.readBigDecimal(x), m.readBigDecimal(y))));
  const text = (f: (m: MappingInstance, p: number) => string) => (p: number) =>
    returning((m) => m.writeString(f(m, p)));
  const dataSource = (fn: string) => {
    // A context built without one (a cast elsewhere) fails here by name rather than on `undefined`.
    if (!ctx.dataSource) throw new Error(`dataSource.${fn}: the host context has no data source`);
    return ctx.dataSource;
  };
  return {
    "env.abort": (msg: number, file: number, line: number, column: number) => {
      const m = me();
      const s = (p: number) => (p === 0 ? "" : m.readString(p));
      throw new MappingAbort(s(msg), s(file), line, column);
    },

    // ---- store ----
    "index.store.get": (entity: number, id: number) =>
      returning((m) => {
        const data = ctx.get(m.readString(entity), m.readString(id));
        return data ? m.writeEntity(data) : 0;
      }),
    "index.store.get_in_block": (entity: number, id: number) =>
      returning((m) => {
        if (!ctx.getInBlock) throw new Error("store.get_in_block is not supported by this store");
        const data = ctx.getInBlock(m.readString(entity), m.readString(id));
        return data ? m.writeEntity(data) : 0;
      }),
    "index.store.set": (entity: number, id: number, data: number) => {
      const m = me();
      ctx.set(m.readString(entity), m.readString(id), m.readEntity(data));
    },
    "index.store.remove": (entity: number, id: number) => {
      const m = me();
      ctx.remove(m.readString(entity), m.readString(id));
    },

    // ---- log ----
    "index.log.log": (level: number, msg: number) => {
      const text = me().readString(msg);
      // graph-node's `LogLevel::from(u32)`: 0..4 as graph-ts numbers them, anything else Debug.
      const l = level >>> 0;
      const lvl: LogLevel = Math.min(l, LogLevel.Debug);
      ctx.log(lvl, text);
      // graph-node fails the handler on log.critical.
      if (lvl === LogLevel.Critical) throw new MappingCriticalLog(text);
    },

    // ---- crypto ----
    "index.crypto.keccak256": (input: number) =>
      returning((m) => m.writeBytes(hexToBytes(keccak256(m.readBytes(input))))),

    // ---- BigInt ----
    "numbers.bigInt.plus": bigOp((a, b) => a + b),
    "numbers.bigInt.minus": bigOp((a, b) => a - b),
    "numbers.bigInt.times": bigOp((a, b) => a * b),
    // num-bigint's `/` and `%` truncate toward zero (the remainder takes the dividend's sign), as JS bigint does.
    "numbers.bigInt.dividedBy": bigOp((a, b) => {
      if (b === 0n) throw new Error(`attempted to divide BigInt \`${a}\` by zero`);
      return a / b;
    }),
    "numbers.bigInt.mod": bigOp((a, b) => {
      if (b === 0n)
        throw new Error(`attempted to calculate the remainder of \`${a}\` with a divisor of zero`);
      return a % b;
    }),
    "numbers.bigInt.pow": (x: number, exp: number) =>
      returning((m) => {
        const e = u8Arg(exp);
        return m.writeBigInt(checkBigIntSize(m.readBigInt(x) ** BigInt(e)));
      }),
    "numbers.bigInt.fromString": (s: number) =>
      returning((m) => {
        const str = m.readString(s);
        const n = parseBigIntStrict(str); // num-bigint's parser
        if (n === null) throw new Error(`string is not a BigInt: \`${str}\``);
        return m.writeBigInt(checkBigIntSize(n));
      }),
    // num-bigint 0.2 BigInt bit operations act on the two's complement (an infinite sign prefix), as JS bigint.
    "numbers.bigInt.bitOr": bigOp((a, b) => a | b),
    "numbers.bigInt.bitAnd": bigOp((a, b) => a & b),
    "numbers.bigInt.leftShift": bigShift((a, n) => a << n),
    // num-bigint 0.2: `>>` on a negative BigInt rounds toward negative infinity, as JS bigint does.
    "numbers.bigInt.rightShift": bigShift((a, n) => a >> n),
    "numbers.bigInt.dividedByDecimal": (x: number, y: number) =>
      returning((m) => {
        // graph-node: BigDecimal::new(x, 0) (normalized to 34 digits) / y
        const xd = normalize({ digits: m.readBigInt(x), exp: 0n });
        return m.writeBigDecimal(decimalDiv(xd, m.readBigDecimal(y)));
      }),

    // ---- BigDecimal ----
    "numbers.bigDecimal.plus": decOp(add),
    "numbers.bigDecimal.minus": decOp(sub),
    "numbers.bigDecimal.times": decOp(mul),
    "numbers.bigDecimal.dividedBy": decOp(decimalDiv),
    "numbers.bigDecimal.equals": (x: number, y: number) => {
      const m = me();
      return decimalEquals(m.readBigDecimal(x), m.readBigDecimal(y)) ? 1 : 0;
    },
    "numbers.bigDecimal.toString": text((m, d) => formatDecimal(m.readBigDecimal(d))),
    "numbers.bigDecimal.fromString": (s: number) =>
      returning((m) => m.writeBigDecimal(parseDecimal(m.readString(s)))),

    // ---- type conversions ----
    "conversion.typeConversion.bytesToString": text((m, b) => bytesToString(m.readBytes(b))),
    "conversion.typeConversion.bytesToHex": text((m, b) => toHex(m.readBytes(b))),
    "conversion.typeConversion.bigIntToString": text((m, b) => m.readBigInt(b).toString()),
    "conversion.typeConversion.bigIntToHex": text((m, b) => bigIntToHex(m.readBigInt(b))),
    "conversion.typeConversion.stringToH160": (s: number) =>
      returning((m) => m.writeBytes(stringToH160(m.readString(s)))),
    "conversion.typeConversion.bytesToBase58": text((m, b) => toBase58(m.readBytes(b))),

    // ---- data source ----
    "datasource.dataSource.address": () => returning((m) => m.writeBytes(dataSource("address").address)),
    "datasource.dataSource.network": () => returning((m) => m.writeString(dataSource("network").network)),
    "datasource.dataSource.context": () => returning((m) => m.writeEntity(dataSource("context").context)),
    "datasource.dataSource.create": noDynamicDataSources("dataSource.create"),
    "datasource.dataSource.createWithContext": noDynamicDataSources("dataSource.createWithContext"),

    // ---- ethereum ----
    "ethereum.ethereum.encode": (value: number) => returning((m) => m.writeBytes(encodeEthValue(m, value))),
    "ethereum.ethereum.decode": (types: number, data: number) =>
      returning((m) => {
        const decoded = decodeEthValue(m.readString(types), m.readBytes(data));
        return decoded ? writeDecoded(m, decoded) : 0;
      }),
    "ethereum.ethereum.call": noEthereumNode("ethereum.call"),
    "ethereum.ethereum.getBalance": noEthereumNode("ethereum.getBalance"),
    "ethereum.ethereum.hasCode": noEthereumNode("ethereum.hasCode"),
  };
}
