// Decodes logs with viem and writes graph-ts `ethereum.Event` objects into the mapping's memory, field by field as
// graph-ts lays its classes out (see wasm.ts for the runtime layout):
//   Event       {address, logIndex, transactionLogIndex, logType, block, transaction, parameters, receipt}
//   Block       {hash, parentHash, unclesHash, author, stateRoot, transactionsRoot, receiptsRoot, number, gasUsed,
//                gasLimit, timestamp, difficulty, totalDifficulty, size, baseFeePerGas}
//   Transaction {hash, index, from, to, value, gasLimit, gasPrice, input, nonce}
//   EventParam  {name, value: ethereum.Value}
import {
  type Abi,
  type AbiEvent,
  type AbiParameter,
  decodeEventLog,
  type Hex,
  hexToBytes,
  toEventSelector,
} from "viem";
import type { MappingInstance } from "./wasm.ts";

/** graph-ts `ethereum.ValueKind`. */
export enum EthKind {
  Address = 0,
  FixedBytes = 1,
  Bytes = 2,
  Int = 3,
  Uint = 4,
  Bool = 5,
  String = 6,
  FixedArray = 7,
  Array = 8,
  Tuple = 9,
}

export interface BlockInfo {
  hash: Hex;
  parentHash: Hex;
  sha3Uncles: Hex;
  miner: Hex;
  stateRoot: Hex;
  transactionsRoot: Hex;
  receiptsRoot: Hex;
  number: bigint;
  gasUsed: bigint;
  gasLimit: bigint;
  timestamp: bigint;
  difficulty: bigint;
  totalDifficulty: bigint | null;
  size: bigint | null;
  baseFeePerGas: bigint | null;
}

export interface TransactionInfo {
  hash: Hex;
  index: number;
  from: Hex;
  to: Hex | null;
  value: bigint;
  gas: bigint;
  gasPrice: bigint;
  input: Hex;
  nonce: number;
}

export interface RawLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  logIndex: number;
  transactionIndex: number;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
}

/** One ABI event: its canonical signature as a manifest writes it ("indexed " included) and its topic 0. */
export interface EventSpec {
  abi: AbiEvent;
  /** e.g. "Booked(indexed uint256,indexed uint256,...)" */
  manifestSignature: string;
  topic0: Hex;
}

function typeString(p: AbiParameter): string {
  if (p.type.startsWith("tuple")) {
    const comps = (p as { components?: readonly AbiParameter[] }).components ?? [];
    return `(${comps.map(typeString).join(",")})${p.type.slice("tuple".length)}`;
  }
  return p.type;
}

export function eventSpecs(abi: Abi): EventSpec[] {
  return abi
    .filter((x): x is AbiEvent => x.type === "event")
    .map((ev) => ({
      abi: ev,
      manifestSignature: `${ev.name}(${ev.inputs.map((i) => `${i.indexed ? "indexed " : ""}${typeString(i)}`).join(",")})`,
      topic0: toEventSelector(ev),
    }));
}

/** The arguments of a decoded log, in ABI order (viem gives an object keyed by name when all inputs are named). */
export function decodeLog(spec: EventSpec, log: RawLog): unknown[] {
  const { args } = decodeEventLog({
    abi: [spec.abi],
    topics: log.topics as [Hex, ...Hex[]],
    data: log.data,
    strict: true,
  });
  const a = args as unknown;
  if (Array.isArray(a)) return a;
  return spec.abi.inputs.map((inp, i) => (a as Record<string, unknown>)[inp.name ?? String(i)]);
}

const hexBytes = (h: Hex) => hexToBytes(h);

/** Writes one ABI value as an ethereum.Value. */
export function writeEthValue(m: MappingInstance, p: AbiParameter, v: unknown, indexed = false): number {
  const t = p.type;
  const val = (kind: EthKind, data: number | bigint) => m.writeEnumValue(kind, data, "EthereumValue");
  // Indexed dynamic values are only their keccak hash in the topic: graph-node passes them as FixedBytes.
  if (indexed && (t === "string" || t === "bytes" || t.endsWith("]") || t.startsWith("tuple"))) {
    return val(EthKind.FixedBytes, m.writeBytes(hexBytes(v as Hex)));
  }
  if (t.endsWith("]")) {
    const inner = { ...p, type: t.slice(0, t.lastIndexOf("[")) } as AbiParameter;
    const elems = (v as unknown[]).map((e) => writeEthValue(m, inner, e));
    const fixed = /\[\d+\]$/.test(t);
    return val(fixed ? EthKind.FixedArray : EthKind.Array, m.writeArray(elems, "ArrayEthereumValue"));
  }
  if (t === "tuple") {
    const comps = (p as { components?: readonly AbiParameter[] }).components ?? [];
    const elems = comps.map((c, i) => {
      const cv = Array.isArray(v) ? v[i] : (v as Record<string, unknown>)[c.name ?? String(i)];
      return writeEthValue(m, c, cv);
    });
    return val(EthKind.Tuple, m.writeArray(elems, "ArrayEthereumValue"));
  }
  if (t === "address") return val(EthKind.Address, m.writeBytes(hexBytes(v as Hex)));
  if (t === "bool") return val(EthKind.Bool, v ? 1 : 0);
  if (t === "string") return val(EthKind.String, m.writeString(v as string));
  if (t === "bytes") return val(EthKind.Bytes, m.writeBytes(hexBytes(v as Hex)));
  if (/^bytes\d+$/.test(t)) return val(EthKind.FixedBytes, m.writeBytes(hexBytes(v as Hex)));
  if (/^uint\d*$/.test(t)) return val(EthKind.Uint, m.writeBigInt(BigInt(v as bigint | number)));
  if (/^int\d*$/.test(t)) return val(EthKind.Int, m.writeBigInt(BigInt(v as bigint | number)));
  throw new Error(`unsupported ABI type ${t}`);
}

const optBig = (m: MappingInstance, x: bigint | null) => (x === null ? 0 : m.writeBigInt(x));

export function writeBlock(m: MappingInstance, b: BlockInfo): number {
  return m.writeObject(
    [
      m.writeBytes(hexBytes(b.hash)),
      m.writeBytes(hexBytes(b.parentHash)),
      m.writeBytes(hexBytes(b.sha3Uncles)),
      m.writeBytes(hexBytes(b.miner)),
      m.writeBytes(hexBytes(b.stateRoot)),
      m.writeBytes(hexBytes(b.transactionsRoot)),
      m.writeBytes(hexBytes(b.receiptsRoot)),
      m.writeBigInt(b.number),
      m.writeBigInt(b.gasUsed),
      m.writeBigInt(b.gasLimit),
      m.writeBigInt(b.timestamp),
      m.writeBigInt(b.difficulty),
      // graph-ts declares totalDifficulty non-null; graph-node writes 0 when the node gives none.
      m.writeBigInt(b.totalDifficulty ?? 0n),
      optBig(m, b.size),
      optBig(m, b.baseFeePerGas),
    ],
    "EthereumBlock",
  );
}

export function writeTransaction(m: MappingInstance, t: TransactionInfo): number {
  return m.writeObject(
    [
      m.writeBytes(hexBytes(t.hash)),
      m.writeBigInt(BigInt(t.index)),
      m.writeBytes(hexBytes(t.from)),
      t.to === null ? 0 : m.writeBytes(hexBytes(t.to)),
      m.writeBigInt(t.value),
      m.writeBigInt(t.gas),
      m.writeBigInt(t.gasPrice),
      m.writeBytes(hexBytes(t.input)),
      m.writeBigInt(BigInt(t.nonce)),
    ],
    "EthereumTransaction",
  );
}

/**
 * Builds the ethereum.Event for `log` in wasm memory (all objects pinned until the handler call releases them).
 * `transactionLogIndex` is the log's index within its transaction; `receipt` is null (no `receipt: true` handlers).
 */
export function writeEvent(
  m: MappingInstance,
  spec: EventSpec,
  log: RawLog,
  transactionLogIndex: number,
  block: BlockInfo,
  tx: TransactionInfo,
): number {
  const args = decodeLog(spec, log);
  const params = spec.abi.inputs.map((inp, i) =>
    m.writeObject(
      [m.writeString(inp.name ?? ""), writeEthValue(m, inp, args[i], inp.indexed === true)],
      "EventParam",
    ),
  );
  return m.writeObject(
    [
      m.writeBytes(hexBytes(log.address)),
      m.writeBigInt(BigInt(log.logIndex)),
      m.writeBigInt(BigInt(transactionLogIndex)),
      0, // logType: null (graph-node passes the node's `logType`, which anvil and most nodes leave out)
      writeBlock(m, block),
      writeTransaction(m, tx),
      m.writeArray(params, "ArrayEventParam"),
      0, // receipt
    ],
    "EthereumEvent",
  );
}
