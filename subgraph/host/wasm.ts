// Loads a compiled AssemblyScript mapping (graph-ts 0.38, apiVersion 0.0.9) and implements the host functions it
// imports with graph-node's semantics. Memory layout (AssemblyScript runtime):
//   object header: 20 bytes before the pointer; class id at ptr-8, payload size at ptr-4
//   String: UTF-16LE payload; ArrayBuffer: raw payload
//   Uint8Array (Bytes, Address, BigInt): {buffer, dataStart, byteLength} (12 bytes)
//   Array<T>: {buffer, dataStart, byteLength, length} (16 bytes), elements of 4 bytes (pointers)
//   store Value / ethereum.Value: {kind: i32 @0, data: u64 @8} (16 bytes)
//   BigDecimal: {digits: BigInt @0, exp: BigInt @4}; TypedMap: {entries @0}; TypedMapEntry: {key @0, value @4}
import { readFileSync } from "node:fs";
import { add, type Decimal, div, formatDecimal, mul, normalize, parseDecimal, sub } from "./decimal.ts";

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

/** What the host functions need from outside: the store and a log sink. */
export interface HostContext {
  get(entityType: string, id: string): EntityData | null;
  set(entityType: string, id: string, data: EntityData): void;
  log(level: number, message: string): void;
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

export class MappingInstance {
  readonly exports: Exports;
  private readonly classIds = new Map<TypeName, number>();
  /** Objects pinned while the host builds something; released by `releasePinned`. */
  private pinned: number[] = [];

  private constructor(
    instance: WebAssembly.Instance,
    readonly importsUsed: string[],
  ) {
    this.exports = instance.exports as unknown as Exports;
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
      const fn =
        impl[key] ??
        (() => {
          throw new Error(`host function ${key} is not implemented by the embedded host`);
        });
      imports[imp.module] ??= {};
      (imports[imp.module] as Record<string, WebAssembly.ImportValue>)[imp.name] = fn;
    }
    const instance = new WebAssembly.Instance(module, imports);
    self = new MappingInstance(
      instance,
      needed.map((i) => `${i.module}.${i.name}`),
    );
    self.exports._start?.();
    return self;
  }

  // ---- raw memory ----

  private get dv() {
    return new DataView(this.exports.memory.buffer);
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

  readString(ptr: number): string {
    if (ptr === 0) throw new Error("null string pointer");
    const len = this.sizeOf(ptr);
    return Buffer.from(this.exports.memory.buffer, ptr, len).toString("utf16le");
  }
  writeString(s: string): number {
    const bytes = Buffer.from(s, "utf16le");
    const ptr = this.alloc(bytes.length, "String");
    new Uint8Array(this.exports.memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  }
  /** Any typed-array view (Bytes, Address, BigInt): a copy of its bytes. */
  readBytes(ptr: number): Uint8Array {
    if (ptr === 0) throw new Error("null bytes pointer");
    const dataStart = this.u32(ptr + 4);
    const len = this.u32(ptr + 8);
    return new Uint8Array(this.exports.memory.buffer.slice(dataStart, dataStart + len));
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
  readBigInt(ptr: number): bigint {
    return bigIntFromBytes(this.readBytes(ptr));
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

  readBigDecimal(ptr: number): Decimal {
    return { digits: this.readBigInt(this.u32(ptr)), exp: this.readBigInt(this.u32(ptr + 4)) };
  }
  writeBigDecimal(d: Decimal): number {
    const n = normalize(d);
    return this.writeObject([this.writeBigInt(n.digits), this.writeBigInt(n.exp)], "BigDecimal");
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
        return { kind, value: normalize(this.readBigDecimal(p)) };
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
  writeEntity(data: EntityData): number {
    const entries: number[] = [];
    for (const [k, v] of data) {
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

/** The host functions, keyed "module.name". Each one that allocates releases its pins before returning. */
function hostFunctions(
  me: () => MappingInstance,
  ctx: HostContext,
): Record<string, (...a: never[]) => unknown> {
  /** Runs `f`, keeping the pins the caller already had (the handler's argument) and dropping those `f` made. */
  const returning = (f: (m: MappingInstance) => number) => {
    const m = me();
    return m.withOwnPins(() => f(m));
  };
  const bigOp = (op: (a: bigint, b: bigint) => bigint) => (x: number, y: number) =>
    returning((m) => m.writeBigInt(op(m.readBigInt(x), m.readBigInt(y))));
  const decOp = (op: (a: Decimal, b: Decimal) => Decimal) => (x: number, y: number) =>
    returning((m) => m.writeBigDecimal(op(m.readBigDecimal(x), m.readBigDecimal(y))));
  return {
    "env.abort": (msg: number, file: number, line: number, column: number) => {
      const m = me();
      const s = (p: number) => (p === 0 ? "" : m.readString(p));
      throw new MappingAbort(s(msg), s(file), line, column);
    },
    "index.store.get": (entity: number, id: number) =>
      returning((m) => {
        const data = ctx.get(m.readString(entity), m.readString(id));
        return data ? m.writeEntity(data) : 0;
      }),
    "index.store.set": (entity: number, id: number, data: number) => {
      const m = me();
      ctx.set(m.readString(entity), m.readString(id), m.readEntity(data));
    },
    "index.log.log": (level: number, msg: number) => {
      const text = me().readString(msg);
      ctx.log(level, text);
      // graph-node: log.critical (level 0) fails the handler.
      if (level === 0) throw new MappingCriticalLog(text);
    },
    "conversion.typeConversion.bytesToHex": (bytes: number) =>
      returning((m) => m.writeString(toHex(m.readBytes(bytes)))),
    "conversion.typeConversion.bigIntToString": (big: number) =>
      returning((m) => m.writeString(m.readBigInt(big).toString())),
    "numbers.bigInt.plus": bigOp((a, b) => a + b),
    "numbers.bigInt.minus": bigOp((a, b) => a - b),
    "numbers.bigDecimal.fromString": (s: number) =>
      returning((m) => m.writeBigDecimal(parseDecimal(m.readString(s)))),
    "numbers.bigDecimal.toString": (d: number) =>
      returning((m) => m.writeString(formatDecimal(m.readBigDecimal(d)))),
    "numbers.bigDecimal.plus": decOp(add),
    "numbers.bigDecimal.minus": decOp(sub),
    "numbers.bigDecimal.times": decOp(mul),
    "numbers.bigDecimal.dividedBy": decOp(div),
  };
}
