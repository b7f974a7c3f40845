// A small exact decimal (digits × 10^exp over bigint) with graph-node's BigDecimal rules: results are rounded to
// 34 significant digits and normalized (trailing zeros moved into the exponent). No library. Rounding is half away
// from zero on the dropped digits; that graph-node's bigdecimal `with_prec` rounds every tie the same way is unverified.

export const MAX_SIGNIFICANT_DIGITS = 34;
/** Extra digits computed before rounding a quotient. */
const DIVISION_GUARD = 10;

export interface Decimal {
  digits: bigint;
  exp: bigint;
}

const abs = (x: bigint) => (x < 0n ? -x : x);
const pow10 = (n: bigint) => 10n ** n;
const digitCount = (x: bigint) => (x === 0n ? 1 : abs(x).toString().length);

/** Rounds to 34 significant digits and strips trailing zeros; zero is {0, 0}. */
export function normalize(d: Decimal): Decimal {
  let { digits, exp } = d;
  if (digits === 0n) return { digits: 0n, exp: 0n };
  const n = digitCount(digits);
  if (n > MAX_SIGNIFICANT_DIGITS) {
    const drop = BigInt(n - MAX_SIGNIFICANT_DIGITS);
    const p = pow10(drop);
    const sign = digits < 0n ? -1n : 1n;
    const a = abs(digits);
    let q = a / p;
    const r = a % p;
    if (r * 2n >= p) q += 1n;
    digits = sign * q;
    exp += drop;
  }
  while (digits !== 0n && digits % 10n === 0n) {
    digits /= 10n;
    exp += 1n;
  }
  return { digits, exp };
}

export function parseDecimal(s: string): Decimal {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(s);
  if (!m || ((m[2] ?? "") === "" && (m[3] ?? "") === ""))
    throw new Error(`invalid BigDecimal string: "${s}"`);
  const int = m[2] ?? "";
  const frac = m[3] ?? "";
  let digits = BigInt(int + frac || "0");
  if (m[1] === "-") digits = -digits;
  const exp = BigInt(m[4] ?? "0") - BigInt(frac.length);
  return normalize({ digits, exp });
}

/** Plain notation (no exponent), as graph-node prints BigDecimal. */
export function formatDecimal(d: Decimal): string {
  const { digits, exp } = normalize(d);
  const neg = digits < 0n;
  const s = abs(digits).toString();
  let out: string;
  if (exp >= 0n) out = s + "0".repeat(Number(exp));
  else {
    const scale = Number(-exp);
    if (s.length > scale) out = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
    else out = `0.${"0".repeat(scale - s.length)}${s}`;
  }
  return neg ? `-${out}` : out;
}

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

export function div(a: Decimal, b: Decimal): Decimal {
  if (b.digits === 0n) throw new Error("BigDecimal division by zero");
  if (a.digits === 0n) return { digits: 0n, exp: 0n };
  // Scale the numerator so the integer quotient has at least 34 + guard digits, then round once.
  const want = MAX_SIGNIFICANT_DIGITS + DIVISION_GUARD;
  const shift = BigInt(Math.max(0, want - digitCount(a.digits) + digitCount(b.digits)));
  const num = a.digits * pow10(shift);
  let q = num / b.digits;
  // Keep the information that the quotient was inexact (a sticky digit) so rounding at 34 digits is right.
  if (num % b.digits !== 0n) q = q * 10n + (q < 0n || (q === 0n && num < 0n !== b.digits < 0n) ? -1n : 1n);
  else q *= 10n;
  return normalize({ digits: q, exp: a.exp - b.exp - shift - 1n });
}
