// BigDecimal exactly as graph-node computes it. No library: a Decimal is digits × 10^exp over bigint (graph-ts's
// convention; the Rust crate's `scale` is -exp).
//
// graph-node's BigDecimal (graph/src/data/store/scalar/bigdecimal.rs) wraps the `bigdecimal` crate pinned at =0.1.2
// (graph/Cargo.toml: "Updating to later versions has caused PoI differences") over num-bigint =0.2.6. Every value it
// builds goes through `BigDecimal::normalized()`: `with_prec(34)` of bigdecimal 0.1.2, then trailing zeros are moved
// into the exponent; zero is {0, 0}. What that means, read from bigdecimal-rs v0.1.2 src/lib.rs (`with_prec`,
// `count_decimal_digits`, `get_rounding_term`, `impl_division`, `Display`, `from_str_radix`) and confirmed by the
// normalization vectors of StreamingFast's ports of it (Go `bigdecimal` package "port of bigdecimal-rs v0.1.2" and
// a Rust test suite that runs the crate itself):
//
// - Rounding is half-up on the first dropped digit for positive values: 0.5 ulp rounds away from zero, a carry
//   propagates (19999999999999999999999999999999995 → 2e34).
// - Negative values are never rounded, only truncated: `p < 10 * r` is false for the negative remainder that
//   `div_rem` (truncating) leaves, so no rounding term is added.
// - Negative values may keep 35 significant digits: `count_decimal_digits` guesses floor(bits / 3.3219280949) digits
//   and then counts up while `int >= 10^digits`, a comparison that never holds for a negative int, so a negative
//   number's digit count is that (often one too small) guess. -1/3 is therefore -0.(3 × 35).
// - Division (`impl_division`, max_precision 100) computes the quotient of the magnitudes digit by digit to 100
//   significant digits, rounds that half-up on the 101st digit, applies the sign, and only then normalizes to 34:
//   a double rounding, reproduced here (with operands of at most 35 digits, which is all a read can give, the
//   quotient's fraction is a multiple of 1/divisor and can never sit within 1e-65 of a rounding boundary, so the
//   intermediate rounding cannot change a result; it is kept for fidelity).
// - Normalizing is not idempotent for such negatives (-84281117711064278301003466132863055 e8, 35 digits, loses a
//   digit when normalized again), so the host normalizes exactly where graph-node does: a BigDecimal read from the
//   mapping and each operation's result, never one written back.
// - add/sub/mul are exact before the normalization.
// - Display prints plain notation, never an exponent: 1e40 prints as 1 followed by 40 zeros, 1e-40 as 0.000…1.

export const MAX_SIGNIFICANT_DIGITS = 34;
/** bigdecimal 0.1.2's `max_precision` for `/`. */
const DIVISION_PRECISION = 100;
/** The constant bigdecimal 0.1.2 divides a bit count by to guess a digit count (not exactly log2(10)). */
const BITS_PER_DIGIT_GUESS = 3.3219280949;
/** graph-node's BigDecimal::MIN_EXP / MAX_EXP, the exponent range checked when a mapping hands a BigDecimal over. */
export const MIN_EXP = -6143n;
export const MAX_EXP = 6144n;

export interface Decimal {
  digits: bigint;
  exp: bigint;
}

const abs = (x: bigint) => (x < 0n ? -x : x);
const pow10 = (n: number | bigint) => 10n ** BigInt(n);
/** num-bigint `bits()`: bits of the magnitude, 0 for zero. */
const bitLength = (x: bigint) => (x === 0n ? 0 : abs(x).toString(2).length);

/** bigdecimal 0.1.2 `count_decimal_digits`, including its undercount for negative numbers (see above). */
export function countDecimalDigits(int: bigint): number {
  if (int === 0n) return 1;
  let digits = Math.floor(bitLength(int) / BITS_PER_DIGIT_GUESS);
  let num = pow10(digits);
  while (int >= num) {
    num *= 10n;
    digits += 1;
  }
  return digits;
}

/** bigdecimal 0.1.2 `get_rounding_term`: 1 when the most significant digit of `num` (> 0) is at least 5. */
function roundingTerm(num: bigint): bigint {
  if (num === 0n) return 0n;
  let n = pow10(Math.floor(bitLength(num) / BITS_PER_DIGIT_GUESS));
  for (;;) {
    if (num < n) return 1n;
    n *= 5n;
    if (num < n) return 0n;
    n *= 2n;
  }
}

/** bigdecimal 0.1.2 `with_prec` (exp = -scale). */
export function withPrec(d: Decimal, prec: number): Decimal {
  const digits = countDecimalDigits(d.digits);
  if (digits > prec) {
    const diff = digits - prec;
    const p = pow10(diff);
    let q = d.digits / p; // truncating, as num-bigint's div_rem
    const r = d.digits % p; // sign of the dividend
    // "check for leading zero in remainder term; otherwise round" — never true for a negative remainder.
    if (p < 10n * r) q += roundingTerm(r);
    return { digits: q, exp: d.exp + BigInt(diff) };
  }
  if (digits < prec) {
    const diff = prec - digits;
    return { digits: d.digits * pow10(diff), exp: d.exp - BigInt(diff) };
  }
  return d;
}

/** graph-node `BigDecimal::normalized`: 34 digits as bigdecimal 0.1.2 rounds them, trailing zeros stripped. */
export function normalize(d: Decimal): Decimal {
  if (d.digits === 0n) return { digits: 0n, exp: 0n };
  let { digits, exp } = withPrec(d, MAX_SIGNIFICANT_DIGITS);
  while (digits % 10n === 0n) {
    digits /= 10n;
    exp += 1n;
  }
  return { digits, exp };
}

/** num-bigint 0.2 `BigInt::from_str` (radix 10): an optional sign, then digits where `_` separators are skipped. */
export function parseBigIntStrict(s: string): bigint | null {
  let t = s;
  let negative = false;
  if (t.startsWith("-") && !t.startsWith("-+")) {
    t = t.slice(1);
    negative = true;
  } else if (t.startsWith("+") && !t.startsWith("++")) {
    t = t.slice(1);
  }
  if (t === "" || t.startsWith("_") || !/^[0-9_]+$/.test(t)) return null;
  const v = BigInt(t.replaceAll("_", ""));
  return negative ? -v : v;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * bigdecimal 0.1.2's `from_str` without graph-node's normalization: base, optional `e`/`E` exponent that Rust's i64
 * parser reads after one stripped `+`, one optional `.`, digits as num-bigint reads them. Rejects whitespace, accepts
 * `_` in the digits, ".5" and "5.". Null where the crate fails. A store that loads a value it saved should use this
 * (graph-node loads its Postgres numerics without renormalizing them).
 */
export function parseDecimalUnnormalized(s: string): Decimal | null {
  let base = s;
  let exponent = 0n;
  const e = s.search(/[eE]/);
  if (e !== -1) {
    base = s.slice(0, e);
    let expPart = s.slice(e + 1);
    if (expPart.startsWith("+")) expPart = expPart.slice(1);
    if (!/^[+-]?[0-9]+$/.test(expPart)) return null; // Rust i64::from_str
    exponent = BigInt(expPart);
    if (exponent < I64_MIN || exponent > I64_MAX) return null;
  }
  if (base === "") return null;
  let digitString = base;
  let offset = 0n;
  const dot = base.indexOf(".");
  if (dot !== -1) {
    const trail = base.slice(dot + 1);
    digitString = base.slice(0, dot) + trail;
    offset = BigInt(Buffer.byteLength(trail));
  }
  const digits = parseBigIntStrict(digitString);
  if (digits === null) return null;
  const scale = offset - exponent;
  if (scale < I64_MIN || scale > I64_MAX) return null;
  return { digits, exp: -scale };
}

/** graph-node `BigDecimal::from_str`: the crate's parser, then normalized. Null where graph-node fails. */
export function tryParseDecimal(s: string): Decimal | null {
  const d = parseDecimalUnnormalized(s);
  return d ? normalize(d) : null;
}

export function parseDecimal(s: string): Decimal {
  const d = tryParseDecimal(s);
  // graph-node's message, double space included.
  if (!d) throw new Error(`string  is not a BigDecimal: '${s}'`);
  return d;
}

/** bigdecimal 0.1.2 `Display`: plain notation of the value as given (no exponent, no normalization). */
export function formatDecimal(d: Decimal): string {
  const neg = d.digits < 0n;
  const s = abs(d.digits).toString();
  const scale = -d.exp;
  let out: string;
  if (scale >= BigInt(s.length)) out = `0.${"0".repeat(Number(scale) - s.length)}${s}`;
  else if (scale <= 0n) out = s + "0".repeat(Number(-scale));
  else out = `${s.slice(0, s.length - Number(scale))}.${s.slice(s.length - Number(scale))}`;
  return neg ? `-${out}` : out;
}

/** Value equality (bigdecimal's PartialEq aligns the scales). */
export function decimalEquals(a: Decimal, b: Decimal): boolean {
  const [x, y] = align(a, b);
  return x === y;
}

/** Both digit strings at the smaller exponent (exact). */
function align(a: Decimal, b: Decimal): [bigint, bigint, bigint] {
  let e = a.exp;
  if (b.exp < e) e = b.exp;
  return [a.digits * pow10(a.exp - e), b.digits * pow10(b.exp - e), e];
}

export function add(a: Decimal, b: Decimal): Decimal {
  const [x, y, e] = align(a, b);
  return normalize({ digits: x + y, exp: e });
}

export function sub(a: Decimal, b: Decimal): Decimal {
  const [x, y, e] = align(a, b);
  return normalize({ digits: x - y, exp: e });
}

export function mul(a: Decimal, b: Decimal): Decimal {
  return normalize({ digits: a.digits * b.digits, exp: a.exp + b.exp });
}

/** bigdecimal 0.1.2 `impl_division(num, den, scale, max_precision)` (exp = -scale). */
function implDivision(num: bigint, den: bigint, exp: bigint): Decimal {
  if (num === 0n) return { digits: 0n, exp: 0n };
  const negative = num < 0n !== den < 0n;
  let n = abs(num);
  const dd = abs(den);
  let e = exp;
  while (n < dd) {
    e -= 1n;
    n *= 10n;
  }
  let quotient = n / dd;
  let remainder = n % dd;
  if (remainder !== 0n) {
    let precision = countDecimalDigits(quotient);
    remainder *= 10n;
    while (remainder !== 0n && precision < DIVISION_PRECISION) {
      quotient = quotient * 10n + remainder / dd;
      remainder = (remainder % dd) * 10n;
      precision += 1;
      e -= 1n;
    }
    if (remainder !== 0n) quotient += roundingTerm(remainder / dd);
  }
  return { digits: negative ? -quotient : quotient, exp: e };
}

/** graph-node `x / y` on BigDecimal (the host functions check for a zero divisor first, with their own message). */
export function div(a: Decimal, b: Decimal): Decimal {
  if (b.digits === 0n) throw new Error("BigDecimal division by zero");
  // bigdecimal 0.1.2's shortcuts: 0 / y and x / 1 are x; equal digits give 1 × 10^(scale difference).
  if (a.digits === 0n || decimalEquals(b, { digits: 1n, exp: 0n })) return normalize(a);
  const exp = a.exp - b.exp;
  if (a.digits === b.digits) return normalize({ digits: 1n, exp });
  return normalize(implDivision(a.digits, b.digits, exp));
}
