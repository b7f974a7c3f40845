// The embedded host's graph-ts host functions, called directly on the real compiled mapping
// (subgraph/build/Market/Market.wasm; `npm -w subgraph run verify` builds it): arguments are built in the module's
// memory, each function is taken from the host's import table (MappingInstance.hostFunction) and its result read
// back. Expected values are graph-node's (runtime/wasm/src/host_exports.rs, graph's scalar BigInt/BigDecimal over
// num-bigint 0.2 and bigdecimal 0.1.2).
// Run: node --import tsx --test subgraph/test/host/hostfns.test.ts
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type AbiParameter, bytesToHex, encodeAbiParameters, hexToBytes, keccak256, stringToHex } from "viem";
import { type Decimal, formatDecimal, parseDecimalUnnormalized } from "../../host/decimal.ts";
import { readEthValue } from "../../host/ethabi.ts";
import { EthKind, writeEthValue } from "../../host/events.ts";
import { EntityStore } from "../../host/store.ts";
import {
  bigIntFromBytes,
  type EntityData,
  type HostContext,
  LogLevel,
  MappingCriticalLog,
  MappingInstance,
  StoreKind,
  type StoreValue,
} from "../../host/wasm.ts";

const wasmFile = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "build", "Market", "Market.wasm");

const DS_ADDRESS = hexToBytes("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const logs: [LogLevel, string][] = [];
const store = new EntityStore();
const dsContext: EntityData = new Map<string, StoreValue>([
  ["zeta", { kind: StoreKind.Int, value: 7 }],
  ["alpha", { kind: StoreKind.String, value: "first" }],
]);
const ctx: HostContext = store.context((level, message) => logs.push([level, message]), {
  address: DS_ADDRESS,
  network: "anvil",
  context: dsContext,
});

let m: MappingInstance;

before(async () => {
  assert.ok(existsSync(wasmFile), `${wasmFile} is missing: run npm -w subgraph run verify`);
  m = await MappingInstance.load(wasmFile, ctx);
});
// Test arguments are allocated pinned; release them after each test.
afterEach(() => m.releasePinned());

// ---- helpers: arguments in, results out (a result is read before anything else is allocated) ----

const call = (key: string, ...args: number[]) => m.hostFunction(key)(...args) as number;
const big = (x: bigint) => m.writeBigInt(x);
const str = (s: string) => m.writeString(s);
const bytes = (b: Uint8Array | number[]) => m.writeBytes(Uint8Array.from(b));
/** A BigDecimal argument exactly as written (no normalization on our side). */
const dec = (s: string) => {
  const d = parseDecimalUnnormalized(s);
  assert.ok(d, `test decimal ${s}`);
  return m.writeBigDecimal(d);
};
const rawDec = (p: number): Decimal => ({
  digits: bigIntFromBytes(m.readBytes(m.u32(p))),
  exp: bigIntFromBytes(m.readBytes(m.u32(p + 4))),
});
/** A string result as the host wrote it (readString would strip NULs). */
const rawString = (p: number) => Buffer.from(m.exports.memory.buffer, p, m.sizeOf(p)).toString("utf16le");

const bigFn = (key: string, ...args: number[]) => m.readBigInt(call(key, ...args));
const decFn = (key: string, ...args: number[]) => rawDec(call(key, ...args));
const decText = (key: string, ...args: number[]) => formatDecimal(decFn(key, ...args));
const textFn = (key: string, ...args: number[]) => rawString(call(key, ...args));

const BI = "numbers.bigInt.";
const BD = "numbers.bigDecimal.";
const TC = "conversion.typeConversion.";

describe("BigInt host functions (num-bigint 0.2 semantics)", () => {
  it("plus, minus and times over negative and 256-bit values", () => {
    assert.equal(bigFn(`${BI}plus`, big(-5n), big(3n)), -2n);
    assert.equal(bigFn(`${BI}minus`, big(3n), big(10n)), -7n);
    assert.equal(bigFn(`${BI}times`, big(-(2n ** 200n)), big(3n)), -3n * 2n ** 200n);
    assert.equal(bigFn(`${BI}plus`, big(2n ** 255n), big(2n ** 255n)), 2n ** 256n);
    // The result is written as minimal signed little-endian bytes: 128 needs a 0x00 sign byte.
    assert.deepEqual([...m.readBytes(call(`${BI}plus`, big(127n), big(1n)))], [0x80, 0x00]);
  });

  it("dividedBy truncates toward zero and fails deterministically on a zero divisor", () => {
    assert.equal(bigFn(`${BI}dividedBy`, big(7n), big(2n)), 3n);
    assert.equal(bigFn(`${BI}dividedBy`, big(-7n), big(2n)), -3n);
    assert.equal(bigFn(`${BI}dividedBy`, big(7n), big(-2n)), -3n);
    assert.equal(bigFn(`${BI}dividedBy`, big(-7n), big(-2n)), 3n);
    assert.throws(() => call(`${BI}dividedBy`, big(7n), big(0n)), {
      message: "attempted to divide BigInt `7` by zero",
    });
  });

  it("mod takes the sign of the dividend; a zero divisor fails", () => {
    assert.equal(bigFn(`${BI}mod`, big(7n), big(3n)), 1n);
    assert.equal(bigFn(`${BI}mod`, big(-7n), big(3n)), -1n);
    assert.equal(bigFn(`${BI}mod`, big(7n), big(-3n)), 1n);
    assert.equal(bigFn(`${BI}mod`, big(-7n), big(-3n)), -1n);
    assert.throws(() => call(`${BI}mod`, big(-7n), big(0n)), {
      message: "attempted to calculate the remainder of `-7` with a divisor of zero",
    });
  });

  it("pow takes a u8 exponent and enforces the BigInt size limit", () => {
    assert.equal(bigFn(`${BI}pow`, big(2n), 255), 2n ** 255n);
    assert.equal(bigFn(`${BI}pow`, big(-3n), 3), -27n);
    assert.equal(bigFn(`${BI}pow`, big(12345n), 0), 1n);
    assert.throws(() => call(`${BI}pow`, big(2n), 256), {
      message: "out of range integral type conversion attempted",
    });
    assert.throws(() => call(`${BI}pow`, big(2n), -1), /out of range integral type conversion/);
    // (2^4000)^255 has 1020001 bits, over graph-node's 435412.
    assert.throws(() => call(`${BI}pow`, big(2n ** 4000n), 255), {
      message: "BigInt is too big, total bits 1020002 (max 435412)",
    });
  });

  it("a BigInt argument over the size limit is rejected when read", () => {
    assert.throws(
      () => call(`${BI}plus`, big(2n ** 435411n), big(1n)),
      /BigInt is too big, total bits 435413/,
    );
    assert.equal(bigFn(`${BI}plus`, big(2n ** 435410n), big(0n)), 2n ** 435410n);
  });

  it("fromString parses as num-bigint does", () => {
    assert.equal(
      bigFn(`${BI}fromString`, str("123456789012345678901234567890")),
      123456789012345678901234567890n,
    );
    assert.equal(bigFn(`${BI}fromString`, str("-45")), -45n);
    assert.equal(bigFn(`${BI}fromString`, str("+7")), 7n);
    assert.equal(bigFn(`${BI}fromString`, str("1_000")), 1000n);
    assert.equal(bigFn(`${BI}fromString`, str("-0")), 0n);
    for (const bad of ["", " 1", "1.5", "0x10", "-+1", "--1", "++1", "_1", "1e3", "-"]) {
      assert.throws(
        () => call(`${BI}fromString`, str(bad)),
        { message: `string is not a BigInt: \`${bad}\`` },
        JSON.stringify(bad),
      );
    }
  });

  it("bitOr and bitAnd act on two's complement", () => {
    assert.equal(bigFn(`${BI}bitOr`, big(12n), big(10n)), 14n);
    assert.equal(bigFn(`${BI}bitAnd`, big(12n), big(10n)), 8n);
    assert.equal(bigFn(`${BI}bitAnd`, big(-1n), big(0xffn)), 255n);
    assert.equal(bigFn(`${BI}bitOr`, big(-256n), big(15n)), -241n);
    assert.equal(bigFn(`${BI}bitAnd`, big(-12n), big(-10n)), -12n);
    assert.equal(bigFn(`${BI}bitOr`, big(2n ** 200n), big(1n)), 2n ** 200n + 1n);
  });

  it("leftShift and rightShift take u8 bit counts; >> of a negative rounds toward -infinity", () => {
    assert.equal(bigFn(`${BI}leftShift`, big(-3n), 2), -12n);
    assert.equal(bigFn(`${BI}leftShift`, big(1n), 255), 2n ** 255n);
    assert.equal(bigFn(`${BI}rightShift`, big(5n), 1), 2n);
    assert.equal(bigFn(`${BI}rightShift`, big(-5n), 1), -3n);
    assert.equal(bigFn(`${BI}rightShift`, big(-1n), 200), -1n);
    assert.equal(bigFn(`${BI}rightShift`, big(2n ** 255n), 255), 1n);
    assert.throws(() => call(`${BI}leftShift`, big(1n), 256), /out of range integral type conversion/);
    assert.throws(() => call(`${BI}rightShift`, big(1n), 300), /out of range integral type conversion/);
  });

  it("dividedByDecimal normalizes the BigInt to 34 digits first, then divides", () => {
    assert.equal(decText(`${BI}dividedByDecimal`, big(1n), dec("3")), `0.${"3".repeat(34)}`);
    assert.equal(decText(`${BI}dividedByDecimal`, big(-10n), dec("4")), "-2.5");
    // 35 digits round half up to 34 before the division (by 1).
    assert.deepEqual(decFn(`${BI}dividedByDecimal`, big(12345678901234567890123456789012345n), dec("1")), {
      digits: 1234567890123456789012345678901235n,
      exp: 1n,
    });
    assert.throws(() => call(`${BI}dividedByDecimal`, big(10n), dec("0.0")), {
      message: "attempted to divide BigDecimal `10` by zero",
    });
  });
});

describe("BigDecimal host functions (bigdecimal 0.1.2 at 34 digits)", () => {
  it("plus, minus and times are exact, then normalized", () => {
    assert.deepEqual(decFn(`${BD}plus`, dec("0.1"), dec("0.2")), { digits: 3n, exp: -1n });
    assert.deepEqual(decFn(`${BD}minus`, dec("1"), dec("1.5")), { digits: -5n, exp: -1n });
    assert.deepEqual(decFn(`${BD}times`, dec("1.5e3"), dec("2")), { digits: 3n, exp: 3n });
    assert.deepEqual(decFn(`${BD}minus`, dec("2.50"), dec("2.5")), { digits: 0n, exp: 0n });
    // 1 + 1e-40 has 41 digits; the 35th and later are dropped.
    assert.deepEqual(decFn(`${BD}plus`, dec("1e-40"), dec("1")), { digits: 1n, exp: 0n });
    assert.equal(decText(`${BD}minus`, dec("-1"), dec("1e-40")), "-1");
  });

  it("a tie (0.5 ulp) rounds half up, away from zero, not to even", () => {
    // 1.0000000000000000000000000000000005: 35 digits, the dropped one a 5 → up (half-even would keep ...000).
    assert.equal(decText(`${BD}plus`, dec("1"), dec("5e-34")), "1.000000000000000000000000000000001");
    assert.equal(
      decText(`${BD}plus`, dec("1.000000000000000000000000000000001"), dec("5e-34")),
      "1.000000000000000000000000000000002",
    );
    // Only the first dropped digit counts: ...0049 rounds down.
    assert.equal(decText(`${BD}plus`, dec("1"), dec("4.9e-34")), "1");
    // A carry runs through the nines: 9.9999999999999999999999999999999995 → 10.
    assert.deepEqual(decFn(`${BD}plus`, dec(`9.${"9".repeat(33)}`), dec("5e-34")), { digits: 1n, exp: 1n });
  });

  it("negative results are truncated, never rounded, and may keep 35 digits", () => {
    // -1.0000000000000000000000000000000005: bigdecimal 0.1.2 counts 34 digits for this negative number.
    assert.equal(decText(`${BD}minus`, dec("-1"), dec("5e-34")), "-1.0000000000000000000000000000000005");
    // 36 digits: cut to 35 by truncation (the dropped 6 does not round).
    assert.equal(
      decText(`${BD}plus`, dec("-0.12345678901234567890123456789012346"), dec("-1e-36")),
      "-0.12345678901234567890123456789012346",
    );
    assert.deepEqual(decFn(`${BD}times`, dec("-123456789012345678901234567890123456"), dec("1")), {
      digits: -12345678901234567890123456789012345n,
      exp: 1n,
    });
  });

  it("dividedBy: 1/3, 2/3, 1/7 round half up at 34 digits; negative quotients truncate at 35", () => {
    assert.equal(decText(`${BD}dividedBy`, dec("1"), dec("3")), `0.${"3".repeat(34)}`);
    assert.equal(decText(`${BD}dividedBy`, dec("2"), dec("3")), `0.${"6".repeat(33)}7`);
    assert.equal(decText(`${BD}dividedBy`, dec("1"), dec("7")), "0.1428571428571428571428571428571429");
    assert.equal(decText(`${BD}dividedBy`, dec("-1"), dec("3")), `-0.${"3".repeat(35)}`);
    assert.equal(decText(`${BD}dividedBy`, dec("2"), dec("-3")), `-0.${"6".repeat(35)}`);
    assert.equal(decText(`${BD}dividedBy`, dec("-1"), dec("-7")), "0.1428571428571428571428571428571429");
    assert.deepEqual(decFn(`${BD}dividedBy`, dec("1e10"), dec("4e-2")), { digits: 25n, exp: 10n });
    assert.deepEqual(decFn(`${BD}dividedBy`, dec("0"), dec("7")), { digits: 0n, exp: 0n });
    assert.throws(() => call(`${BD}dividedBy`, dec("1.5"), dec("0")), {
      message: "attempted to divide BigDecimal `1.5` by zero",
    });
  });

  it("arguments are normalized when read (as graph-node's BigDecimal::new does)", () => {
    // 1.00 written as {100, -2} comes back as {1, 0}; a 40-digit argument is rounded to 34 digits.
    assert.deepEqual(decFn(`${BD}plus`, m.writeBigDecimal({ digits: 100n, exp: -2n }), dec("0")), {
      digits: 1n,
      exp: 0n,
    });
    assert.equal(
      decText(`${BD}plus`, dec("1234567890123456789012345678901234567890"), dec("0")),
      "1234567890123456789012345678901235000000",
    );
    // Normalizing is not idempotent for some negatives: this 35-digit normalized value loses a digit when read.
    const x = m.writeBigDecimal({ digits: -84281117711064278301003466132863055n, exp: 8n });
    assert.deepEqual(decFn(`${BD}times`, x, dec("1")), {
      digits: -8428111771106427830100346613286305n,
      exp: 9n,
    });
  });

  it("the normalized exponent must lie in -6143..6144", () => {
    assert.equal(textFn(`${BD}toString`, dec("1e6144")), `1${"0".repeat(6144)}`);
    assert.equal(textFn(`${BD}toString`, dec("1e-6143")), `0.${"0".repeat(6142)}1`);
    assert.throws(() => call(`${BD}toString`, dec("1e6145")), {
      message: "big decimal exponent `6145` is outside the `-6143` to `6144` range",
    });
    assert.throws(() => call(`${BD}toString`, dec("1e-6144")), /exponent `-6144` is outside/);
    // 10e6144 is only out of range once normalized to 1e6145.
    assert.throws(() => call(`${BD}toString`, m.writeBigDecimal({ digits: 10n, exp: 6144n })), /`6145`/);
  });

  it("toString prints plain notation, never an exponent", () => {
    assert.equal(textFn(`${BD}toString`, dec("1e40")), `1${"0".repeat(40)}`);
    assert.equal(textFn(`${BD}toString`, dec("1e-40")), `0.${"0".repeat(39)}1`);
    assert.equal(textFn(`${BD}toString`, dec("-1.5e-3")), "-0.0015");
    assert.equal(textFn(`${BD}toString`, dec("123.456")), "123.456");
    assert.equal(textFn(`${BD}toString`, dec("-120")), "-120");
    assert.equal(textFn(`${BD}toString`, dec("0.000")), "0");
    assert.equal(textFn(`${BD}toString`, m.writeBigDecimal({ digits: 2500n, exp: -3n })), "2.5");
  });

  it("fromString parses as bigdecimal 0.1.2 does and normalizes", () => {
    const from = (s: string) => decFn(`${BD}fromString`, str(s));
    assert.deepEqual(from("1.5e3"), { digits: 15n, exp: 2n });
    assert.deepEqual(from("-.5"), { digits: -5n, exp: -1n });
    assert.deepEqual(from("5."), { digits: 5n, exp: 0n });
    assert.deepEqual(from("+1_000"), { digits: 1n, exp: 3n });
    assert.deepEqual(from("1E+5"), { digits: 1n, exp: 5n });
    assert.deepEqual(from("0.0"), { digits: 0n, exp: 0n });
    assert.deepEqual(from("12345678901234567890123456789012345"), {
      digits: 1234567890123456789012345678901235n,
      exp: 1n,
    });
    // Out-of-range exponents parse; they fail when the value is next handed to the host.
    assert.deepEqual(from("1e7000"), { digits: 1n, exp: 7000n });
    for (const bad of ["", " 1", "1 ", "abc", "1e", "e5", ".", "1.2.3", "0x10", "1e1.5", "NaN"]) {
      assert.throws(
        () => call(`${BD}fromString`, str(bad)),
        { message: `string  is not a BigDecimal: '${bad}'` },
        JSON.stringify(bad),
      );
    }
  });

  it("equals compares normalized values", () => {
    const eq = (a: number, b: number) => call(`${BD}equals`, a, b);
    assert.equal(eq(dec("1.0"), dec("1")), 1);
    assert.equal(eq(dec("1e2"), dec("100")), 1);
    assert.equal(eq(dec("0.1"), dec("0.2")), 0);
    // 0.1 + 1e-35 has 35 digits and rounds to 0.1 when read...
    assert.equal(eq(dec("0.1"), dec("0.10000000000000000000000000000000001")), 1);
    // ...but its negative keeps its 35th digit.
    assert.equal(eq(dec("-0.1"), dec("-0.10000000000000000000000000000000001")), 0);
  });
});

describe("type conversions", () => {
  it("bytesToString decodes UTF-8 lossily, as String::from_utf8_lossy, and trims trailing NULs", () => {
    const s = (b: number[]) => textFn(`${TC}bytesToString`, bytes(b));
    assert.equal(s([...Buffer.from("héllo ✓")]), "héllo ✓");
    // graph-node's own test vector: invalid UTF-8 then NUL padding.
    const downcoin = [...Buffer.from("Downcoin WETH-USDT"), 160, ...new Array(13).fill(0)];
    assert.equal(s(downcoin), "Downcoin WETH-USDT\uFFFD");
    assert.equal(s([0x61, 0x00, 0x62, 0x00, 0x00]), "a\u0000b");
    assert.equal(s([0x66, 0x80, 0x6f]), "f\uFFFDo");
    // Maximal invalid subsequences: a truncated 3-byte sequence is one U+FFFD; a surrogate or an overlong form is
    // one per byte.
    assert.equal(s([0xe2, 0x82, 0x41]), "\uFFFDA");
    assert.equal(s([0xed, 0xa0, 0x80]), "\uFFFD\uFFFD\uFFFD");
    assert.equal(s([0xc0, 0x80]), "\uFFFD\uFFFD");
    assert.equal(s([0xf0, 0x9f, 0x98]), "\uFFFD");
    // A BOM is kept.
    assert.equal(s([0xef, 0xbb, 0xbf, 0x61]), "\uFEFFa");
    assert.equal(s([]), "");
  });

  it("bytesToHex writes 0x and two digits a byte", () => {
    assert.equal(textFn(`${TC}bytesToHex`, bytes([])), "0x");
    assert.equal(textFn(`${TC}bytesToHex`, bytes([0x00, 0xab, 0x0f])), "0x00ab0f");
  });

  it("bigIntToString and bigIntToHex (minimal hex of the magnitude, 0x0 for zero)", () => {
    assert.equal(
      textFn(`${TC}bigIntToString`, big(-123456789012345678901234567890n)),
      "-123456789012345678901234567890",
    );
    assert.equal(textFn(`${TC}bigIntToString`, big(0n)), "0");
    assert.equal(textFn(`${TC}bigIntToHex`, big(0n)), "0x0");
    assert.equal(textFn(`${TC}bigIntToHex`, big(255n)), "0xff");
    assert.equal(textFn(`${TC}bigIntToHex`, big(4096n)), "0x1000");
    assert.equal(textFn(`${TC}bigIntToHex`, big(-255n)), "0xff");
    assert.equal(textFn(`${TC}bigIntToHex`, big(2n ** 255n)), `0x8${"0".repeat(63)}`);
  });

  it("stringToH160 takes 40 hex digits after any leading 0x; anything else fails", () => {
    const h160 = (s: string) => bytesToHex(m.readBytes(call(`${TC}stringToH160`, str(s))));
    const want = "0xa16081f360e3847006db660bae1c6d1b2e17ec2a";
    assert.equal(h160("0xA16081F360e3847006dB660bae1c6d1b2e17eC2A"), want);
    assert.equal(h160("A16081F360e3847006dB660bae1c6d1b2e17eC2A"), want);
    assert.equal(h160("0x0xa16081f360e3847006db660bae1c6d1b2e17ec2a"), want);
    // rustc-hex skips ASCII whitespace.
    assert.equal(h160("a16081f360e3847006db660bae1c6d1b 2e17ec2a\n"), want);
    assert.equal(m.readBytes(call(`${TC}stringToH160`, str(want))).length, 20);
    for (const bad of [
      "0xa16081f360e3847006db660bae1c6d1b2e17ec2",
      "0xa16081f360e3847006db660bae1c6d1b2e17ec2a0",
      "0Xa16081f360e3847006db660bae1c6d1b2e17ec2a",
      "0xg16081f360e3847006db660bae1c6d1b2e17ec2a",
      "",
    ]) {
      const shown = bad.startsWith("0x") ? bad.slice(2) : bad;
      assert.throws(() => call(`${TC}stringToH160`, str(bad)), {
        message: `Failed to convert string to Address/H160: '${shown}'`,
      });
    }
  });

  it("bytesToBase58 uses the Bitcoin alphabet with a 1 per leading zero byte", () => {
    const b58 = (hex: `0x${string}`) => textFn(`${TC}bytesToBase58`, bytes(hexToBytes(hex)));
    assert.equal(b58("0x"), "");
    assert.equal(b58("0x61"), "2g");
    assert.equal(b58("0x626262"), "a3gV");
    assert.equal(b58("0x516b6fcd0f"), "ABnLTmg");
    assert.equal(b58("0x73696d706c792061206c6f6e6720737472696e67"), "2cFupjhnEsSn59qHXstmK2ffpLv2");
    assert.equal(
      b58("0x00eb15231dfceb60925886b67d065299925915aeb172c06647"),
      "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L",
    );
    assert.equal(b58("0x00000000000000000000"), "1111111111");
  });

  it("crypto.keccak256 hashes the bytes", () => {
    const out = m.readBytes(call("index.crypto.keccak256", bytes([])));
    assert.equal(bytesToHex(out), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    const abc = m.readBytes(call("index.crypto.keccak256", bytes([...Buffer.from("abc")])));
    assert.equal(bytesToHex(abc), keccak256(stringToHex("abc")));
  });
});

describe("ethereum.encode / ethereum.decode", () => {
  const value = (p: AbiParameter, v: unknown) => writeEthValue(m, p, v);
  const encode = (ptr: number) => bytesToHex(m.readBytes(call("ethereum.ethereum.encode", ptr)));
  const decode = (types: string, data: `0x${string}`) =>
    call("ethereum.ethereum.decode", str(types), bytes(hexToBytes(data)));
  const ADDR = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

  it("encodes single values as one ABI parameter", () => {
    assert.equal(encode(value({ type: "uint256" }, 1n)), `0x${"0".repeat(63)}1`);
    assert.equal(encode(value({ type: "int256" }, -1n)), `0x${"f".repeat(64)}`);
    assert.equal(encode(value({ type: "bool" }, true)), `0x${"0".repeat(63)}1`);
    assert.equal(encode(value({ type: "address" }, ADDR)), `0x${"0".repeat(24)}${ADDR.slice(2)}`);
    assert.equal(encode(value({ type: "bytes4" }, "0xdeadbeef")), `0xdeadbeef${"0".repeat(56)}`);
    // A dynamic value: offset 0x20, length, padded data.
    assert.equal(
      encode(value({ type: "string" }, "hi")),
      `0x${"0".repeat(62)}20${"0".repeat(63)}2${"6869"}${"0".repeat(60)}`,
    );
  });

  it("round-trips uint256, address, bytes, string, bool, tuples and arrays", () => {
    const cases: [string, AbiParameter, unknown][] = [
      ["uint256", { type: "uint256" }, 2n ** 256n - 1n],
      ["int256", { type: "int256" }, -(2n ** 255n)],
      ["address", { type: "address" }, ADDR],
      ["bytes", { type: "bytes" }, "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021"],
      ["bytes32", { type: "bytes32" }, `0x${"ab".repeat(32)}`],
      ["string", { type: "string" }, "ComputeHive ✓"],
      ["bool", { type: "bool" }, false],
      ["uint256[]", { type: "uint256[]" }, [1n, 2n, 3n]],
      ["bool[2]", { type: "bool[2]" }, [true, false]],
      ["string[]", { type: "string[]" }, ["a", "bc"]],
      [
        "(uint256,address,bytes,string,bool)",
        {
          type: "tuple",
          components: [
            { type: "uint256" },
            { type: "address" },
            { type: "bytes" },
            { type: "string" },
            { type: "bool" },
          ],
        },
        [42n, ADDR, "0xc0ffee", "gpu", true],
      ],
      [
        "(uint256,(bool,string)[])[]",
        {
          type: "tuple[]",
          components: [
            { type: "uint256" },
            { type: "tuple[]", components: [{ type: "bool" }, { type: "string" }] },
          ],
        },
        [
          [1n, [[true, "x"]]],
          [2n, []],
        ],
      ],
    ];
    for (const [types, param, v] of cases) {
      const encoded = encode(value(param, v));
      assert.equal(encoded, encodeAbiParameters([param], [v]), `encode ${types}`);
      const back = decode(types, encoded);
      assert.notEqual(back, 0, `decode ${types}`);
      const got = readEthValue(m, back);
      assert.equal(encodeAbiParameters([got.param], [got.value]), encoded, `round trip ${types}`);
    }
  });

  it("decode writes graph-ts value kinds: Uint/Int BigInts, FixedBytes, FixedArray, Array, Tuple", () => {
    const kind = (p: number) => m.i32(p);
    const payload = (p: number) => Number(m.u64(p + 8) & 0xffffffffn);
    const minusOne = decode("int8", `0x${"f".repeat(64)}`);
    assert.equal(kind(minusOne), EthKind.Int);
    assert.equal(m.readBigInt(payload(minusOne)), -1n);
    const u = decode("uint", `0x${"f".repeat(64)}`);
    assert.equal(kind(u), EthKind.Uint);
    assert.equal(m.readBigInt(payload(u)), 2n ** 256n - 1n);
    const fb = decode("bytes2", `0xbeef${"0".repeat(60)}`);
    assert.equal(kind(fb), EthKind.FixedBytes);
    assert.deepEqual([...m.readBytes(payload(fb))], [0xbe, 0xef]);
    const fixed = decode("bool[2]", encodeAbiParameters([{ type: "bool[2]" }], [[true, false]]));
    assert.equal(kind(fixed), EthKind.FixedArray);
    const dyn = decode("bool[]", encodeAbiParameters([{ type: "bool[]" }], [[true]]));
    assert.equal(kind(dyn), EthKind.Array);
    const tup = decode(
      "(bool,address)",
      encodeAbiParameters(
        [{ type: "tuple", components: [{ type: "bool" }, { type: "address" }] }],
        [[true, ADDR]],
      ),
    );
    assert.equal(kind(tup), EthKind.Tuple);
    const [b, a] = m.readArray(payload(tup)) as [number, number];
    assert.equal(kind(b), EthKind.Bool);
    assert.equal(kind(a), EthKind.Address);
    assert.equal(bytesToHex(m.readBytes(payload(a))), ADDR);
  });

  it("decode returns null for a bad type string or undecodable data", () => {
    assert.equal(decode("uint256", "0x01"), 0);
    assert.equal(decode("notatype", `0x${"0".repeat(64)}`), 0);
    assert.equal(decode("(uint256,bool", `0x${"0".repeat(128)}`), 0);
    assert.equal(decode("string", `0x${"0".repeat(62)}20${"0".repeat(62)}ff`), 0);
  });

  it("encode fails on a Value that is no ABI token", () => {
    const negUint = m.writeEnumValue(EthKind.Uint, m.writeBigInt(-1n), "EthereumValue");
    assert.throws(() => call("ethereum.ethereum.encode", negUint), {
      message: "negative value encountered for U256: -1",
    });
    const shortAddress = m.writeEnumValue(EthKind.Address, m.writeBytes(new Uint8Array(19)), "EthereumValue");
    assert.throws(() => call("ethereum.ethereum.encode", shortAddress), /Address must be 20 bytes, not 19/);
    const bigInt = m.writeEnumValue(EthKind.Int, m.writeBigInt(2n ** 255n), "EthereumValue");
    assert.throws(() => call("ethereum.ethereum.encode", bigInt), /does not fit into signed U256/);
    const mixed = m.writeEnumValue(
      EthKind.Array,
      m.writeArray([value({ type: "uint256" }, 1n), value({ type: "bool" }, true)], "ArrayEthereumValue"),
      "EthereumValue",
    );
    assert.throws(() => call("ethereum.ethereum.encode", mixed), {
      message: "ethereum.Value array elements differ in type: uint256 and bool",
    });
  });

  it("encodes empty arrays whatever their element type (a sibling may give it)", () => {
    const empty = (kind: EthKind) =>
      m.writeEnumValue(kind, m.writeArray([], "ArrayEthereumValue"), "EthereumValue");
    assert.equal(encode(empty(EthKind.Array)), encodeAbiParameters([{ type: "string[]" }], [[]]));
    assert.equal(encode(empty(EthKind.FixedArray)), "0x");
    // [[], ["a"]]: the first element's type comes from the second.
    const nested = m.writeEnumValue(
      EthKind.Array,
      m.writeArray([empty(EthKind.Array), value({ type: "string[]" }, ["a"])], "ArrayEthereumValue"),
      "EthereumValue",
    );
    assert.equal(encode(nested), encodeAbiParameters([{ type: "string[][]" }], [[[], ["a"]]]));
  });

  it("ethereum.call, getBalance and hasCode fail loudly: there is no Ethereum node", () => {
    for (const f of ["call", "getBalance", "hasCode"]) {
      assert.throws(() => call(`ethereum.ethereum.${f}`, 0), {
        message: `ethereum.${f} is not supported by the embedded host (the ComputeHive mappings make no calls)`,
      });
    }
  });
});

describe("log, store and dataSource", () => {
  it("log.log passes graph-ts levels through (others as debug); critical fails the handler", () => {
    logs.length = 0;
    for (const level of [LogLevel.Error, LogLevel.Warning, LogLevel.Info, LogLevel.Debug, 7]) {
      call("index.log.log", level, str(`level ${level}`));
    }
    assert.deepEqual(logs, [
      [LogLevel.Error, "level 1"],
      [LogLevel.Warning, "level 2"],
      [LogLevel.Info, "level 3"],
      [LogLevel.Debug, "level 4"],
      [LogLevel.Debug, "level 7"],
    ]);
    assert.throws(
      () => call("index.log.log", LogLevel.Critical, str("boom")),
      (e: unknown) => e instanceof MappingCriticalLog && e.logMessage === "boom",
    );
    assert.deepEqual(logs.at(-1), [LogLevel.Critical, "boom"]);
  });

  it("store.set, get (fields in key order) and remove", () => {
    const entity: EntityData = new Map<string, StoreValue>([
      ["id", { kind: StoreKind.String, value: "h1" }],
      ["name", { kind: StoreKind.String, value: "host" }],
      ["bond", { kind: StoreKind.BigInt, value: -5n }],
    ]);
    call("index.store.set", str("Host"), str("h1"), m.writeEntity(entity));
    const got = call("index.store.get", str("Host"), str("h1"));
    assert.notEqual(got, 0);
    const keys = m.readArray(m.u32(got)).map((e) => m.readString(m.u32(e)));
    assert.deepEqual(keys, ["bond", "id", "name"]);
    assert.deepEqual(m.readEntity(got).get("bond"), { kind: StoreKind.BigInt, value: -5n });
    call("index.store.remove", str("Host"), str("h1"));
    assert.equal(call("index.store.get", str("Host"), str("h1")), 0);
    assert.equal(store.get("Host", "h1"), null);
    call("index.store.remove", str("Host"), str("never-set")); // removing what is not there is no error
  });

  it("store.get_in_block sees only entities written since the block began", () => {
    const e: EntityData = new Map([["id", { kind: StoreKind.String, value: "a" }]]);
    call("index.store.set", str("Listing"), str("a"), m.writeEntity(e));
    assert.notEqual(call("index.store.get_in_block", str("Listing"), str("a")), 0);
    store.clearBlock();
    assert.equal(call("index.store.get_in_block", str("Listing"), str("a")), 0);
    assert.notEqual(call("index.store.get", str("Listing"), str("a")), 0);
    call("index.store.set", str("Listing"), str("a"), m.writeEntity(e));
    assert.notEqual(call("index.store.get_in_block", str("Listing"), str("a")), 0);
  });

  it("strings from the mapping lose their NULs (graph-node strips them) and must be valid UTF-16", () => {
    const e: EntityData = new Map([["id", { kind: StoreKind.String, value: "n" }]]);
    call("index.store.set", str("Nul\u0000Type"), str("n\u0000"), m.writeEntity(e));
    assert.ok(store.get("NulType", "n"));
    assert.throws(() => call("index.store.get", str("Host"), str("\uD800")), /lone surrogate/);
  });

  it("dataSource.address, network and context (keys in order)", () => {
    assert.deepEqual(m.readBytes(call("datasource.dataSource.address")), DS_ADDRESS);
    assert.equal(m.readString(call("datasource.dataSource.network")), "anvil");
    const c = call("datasource.dataSource.context");
    const keys = m.readArray(m.u32(c)).map((e) => m.readString(m.u32(e)));
    assert.deepEqual(keys, ["alpha", "zeta"]);
    assert.deepEqual(m.readEntity(c), dsContext);
  });

  it("dataSource.create and createWithContext fail: no dynamic data sources", () => {
    for (const f of ["create", "createWithContext"]) {
      assert.throws(() => call(`datasource.dataSource.${f}`, 0, 0, 0), {
        message: `dataSource.${f}: dynamic data sources are not supported by the embedded host`,
      });
    }
  });

  it("a store without get_in_block and a context without a data source fail by name", async () => {
    const bare = {
      get: () => null,
      set: () => {},
      remove: () => {},
      log: () => {},
    } as unknown as HostContext;
    const other = await MappingInstance.load(wasmFile, bare);
    const s = (x: string) => other.writeString(x);
    assert.throws(() => other.hostFunction("index.store.get_in_block")(s("A"), s("1")), {
      message: "store.get_in_block is not supported by this store",
    });
    assert.throws(() => other.hostFunction("datasource.dataSource.network")(), {
      message: "dataSource.network: the host context has no data source",
    });
    other.releasePinned();
    // The default context of the in-memory store: no address, no network, an empty context.
    const plain = await MappingInstance.load(wasmFile, new EntityStore().context());
    assert.equal(plain.readBytes(plain.hostFunction("datasource.dataSource.address")() as number).length, 0);
    assert.equal(
      plain.readArray(plain.u32(plain.hostFunction("datasource.dataSource.context")() as number)).length,
      0,
    );
  });
});

describe("the import table", () => {
  it("implements every host function the compiled mappings import", () => {
    const missing = m.importsUsed.filter((k) => !m.hostFunctionNames.includes(k));
    assert.deepEqual(missing, []);
  });

  it("implements graph-ts 0.38's BigInt, BigDecimal, conversion, store, log, dataSource and ethereum functions", () => {
    const want = [
      ...[
        "plus",
        "minus",
        "times",
        "dividedBy",
        "dividedByDecimal",
        "mod",
        "pow",
        "fromString",
        "bitOr",
        "bitAnd",
      ].map((f) => `numbers.bigInt.${f}`),
      "numbers.bigInt.leftShift",
      "numbers.bigInt.rightShift",
      ...["plus", "minus", "times", "dividedBy", "equals", "toString", "fromString"].map(
        (f) => `numbers.bigDecimal.${f}`,
      ),
      ...[
        "bytesToString",
        "bytesToHex",
        "bigIntToString",
        "bigIntToHex",
        "stringToH160",
        "bytesToBase58",
      ].map((f) => `conversion.typeConversion.${f}`),
      ...["get", "get_in_block", "set", "remove"].map((f) => `index.store.${f}`),
      "index.log.log",
      "index.crypto.keccak256",
      ...["address", "network", "context", "create", "createWithContext"].map(
        (f) => `datasource.dataSource.${f}`,
      ),
      ...["encode", "decode", "call", "getBalance", "hasCode"].map((f) => `ethereum.ethereum.${f}`),
      "env.abort",
    ];
    assert.deepEqual(
      want.filter((k) => !m.hostFunctionNames.includes(k)),
      [],
    );
  });

  it("anything else throws naming itself (json, ipfs, ens, yaml, store.loadRelated)", () => {
    for (const key of [
      "json.json.fromBytes",
      "json.json.toBigInt",
      "index.ipfs.cat",
      "index.ipfs.map",
      "index.ens.nameByHash",
      "yaml.yaml.fromBytes",
      "index.store.loadRelated",
    ]) {
      assert.equal(m.hostFunctionNames.includes(key), false, key);
      assert.throws(() => m.hostFunction(key)(0), {
        message: `host function ${key} is not implemented by the embedded host`,
      });
    }
  });
});
