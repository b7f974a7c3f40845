// Every booking path of the market driven on anvil as real users (one local stack for the file), indexed by the
// embedded host running the compiled mappings (subgraph/build/Market/Market.wasm), and checked field by field:
// Booking, Host, Listing, Dispute, Withdrawal, Account, AccountAsset, Asset, Market, GpuModel, GpuModelDay(Asset)
// and the audit log (one MarketEvent per market log, compared with the decoded receipt of each transaction).
//
// Expected values never come from the entity under test: they come from the contract's own events and reads,
// or from an independent computation of the contract's rules (PricingLib, cancel fee, no-show slash, the
// schema's documented semantics), kept in the models below. Listed hours (GpuModelDay.hoursListed) are accrued
// from the chain timestamps of each model's events, with BigDecimal's rounding modelled independently (quotient).
//
// Timeline (slot 900 s; t0 is 01:00 UTC of the day after the stack starts, so that days never split a phase):
//   t0        setup (host 2: registered, topped up by anyone, new agent and metadata; four listings);
//             B book → cancel early (USD-priced, excess paid); C book → cancel late (token); D book → decline
//             (while paused); A, F, G, K book → activate (A republishes a minute later); E book (host 2);
//             listing price/terms/active/metadata updates and a fee change; H, J book → activate; I book (host 2)
//   T1 2.5 h  F endSession → report → dispute → arbiter rules below the claim with a slash; host 1 topped up;
//             K disputed unreported → arbiter upholds the claim; E claimNoShow; A report
//   T2 5 h    G disputed unreported (claim = full use); treasury changed; J reports zero use
//   T3 +1 d   A settled after the dispute window; performUpkeep settles H (never reported) and J (zero use) and
//             no-shows I; lender, both treasuries and a borrower withdraw in one block; host 2 requestUnbond →
//             cancelUnbond → requestUnbond
//   23:00     an 8 × H200 listing created at 23:00 UTC, listed across two midnights without an event, turned off
//             at 01:30 two days later (and off again: no change), on at 02:00, off at 03:15, on for good at 03:45
//   T4 +8 d   G settled by the fallback after the arbiter deadline; host 2 withdraws its bond in two parts;
//             owner config (USD feed bound, asset disallowed, ownership transfer started and accepted)
//
// Needs `npm -w subgraph run build` first.
// Run: node --import tsx --test --test-reporter=spec subgraph/test/host/paths.test.ts
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DefinitionNode, Kind, parse, type TypeNode } from "graphql";
import {
  type ContractEventName,
  createTestClient,
  decodeAbiParameters,
  type Hex,
  http,
  type Log,
  parseAbi,
  parseEther,
  parseEventLogs,
  zeroAddress,
} from "viem";
import { type DevAccount, devAccount } from "../../../script/src/lib/accounts.ts";
import { freePort } from "../../../script/src/lib/anvil.ts";
import { prepareArtifacts } from "../../../script/src/lib/artifacts.ts";
import { deploymentsDir } from "../../../script/src/lib/paths.ts";
import {
  encryptedEndpoint,
  reportCid,
  sshEd25519PublicKeyLine,
  x25519PublicKey,
} from "../../../script/src/lib/payloads.ts";
import type { LocalStack } from "../../../script/src/lib/stack.ts";
import { defaultBuildDir, Indexer } from "../../host/indexer.ts";
import { type EntityData, StoreKind, type StoreValue, toHex } from "../../host/wasm.ts";

await prepareArtifacts();
const { marketAbi, rawCid } = await import("@computehive/sdk");
const { startLocalStack } = await import("../../../script/src/lib/stack.ts");
const { publicClientFor, walletClientFor } = await import("../../../script/src/lib/clients.ts");

type MarketAbi = typeof marketAbi;
type Wallet = ReturnType<typeof walletClientFor>;
type Plain = string | number | bigint | boolean | null;
type Fields = Record<string, Plain>;

const NATIVE = zeroAddress;
const SLOT = 900n;
const HOUR = 3600n;
const DAY = 86400n;
const BPS = 10_000n;
const STATUS = [
  "None",
  "Booked",
  "Active",
  "Reported",
  "Disputed",
  "Settled",
  "Cancelled",
  "Declined",
  "NoShow",
];
const TERMINAL = new Set(["Settled", "Cancelled", "Declined", "NoShow"]);
const feedAbi = parseAbi([
  "function latestRoundData() view returns (uint80, int256, uint256, uint256, uint80)",
  "function decimals() view returns (uint8)",
]);
const tokenAbi = parseAbi([
  "function mint(address to, uint256 amount)",
  "function approve(address spender, uint256 amount) returns (bool)",
]);

/* ASSERTIONS: counted, so the report can say how many ran. */

let assertions = 0;
function eq(actual: unknown, expected: unknown, message: string): void {
  assertions++;
  assert.deepStrictEqual(actual, expected, message);
}
function ok(value: unknown, message: string): asserts value {
  assertions++;
  assert.ok(value, message);
}

/* INDEPENDENT ARITHMETIC: the contract's rules (PricingLib, cancel, no-show) and exact decimals. */

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
/** PricingLib.price */
const priceOf = (pricePerHour: bigint, seconds: bigint) => ceilDiv(pricePerHour * seconds, HOUR);
/** PricingLib.usdToWei */
const usdToWei = (usdPerHour: bigint, seconds: bigint, answer: bigint, decimals: number) =>
  ceilDiv(usdPerHour * seconds * 10n ** BigInt(decimals), HOUR * answer);
/** PricingLib.split */
function split(price: bigint, used: bigint, duration: bigint, feeBps: bigint) {
  const gross = (price * used) / duration;
  const fee = (gross * feeBps) / BPS;
  return { lender: gross - fee, fee, refund: price - gross };
}
const lower = (a: string) => a.toLowerCase() as Hex;

/** n/d as graph-node prints a BigDecimal (plain, no trailing zeros); the test's values keep it exact. */
function dec(n: bigint, d: bigint): string {
  if (n === 0n) return "0";
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const g = gcd(n < 0n ? -n : n, d);
  let [num, den] = [n / g, d / g];
  let k = 0;
  while (den % 10n === 0n) [den, k] = [den / 10n, k + 1];
  while (den % 2n === 0n) [num, den, k] = [num * 5n, den / 2n, k + 1];
  while (den % 5n === 0n) [num, den, k] = [num * 2n, den / 5n, k + 1];
  if (den !== 1n) throw new Error(`${n}/${d} is no terminating decimal: pick other test values`);
  return decString(num, BigInt(-k));
}
/** digits × 10^exp in plain notation, trailing zeros dropped. */
function decString(digits: bigint, exp: bigint): string {
  const neg = digits < 0n;
  let s = (neg ? -digits : digits).toString();
  if (exp >= 0n) s += "0".repeat(Number(exp));
  else {
    const scale = Number(-exp);
    s = s.padStart(scale + 1, "0");
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`.replace(/\.?0+$/, "");
  }
  if (
    s
      .replace(/[^0-9]/g, "")
      .replace(/^0+/, "")
      .replace(/0+$/, "").length > 34
  )
    throw new Error(`${s} has more than 34 significant digits`);
  return (neg ? "-" : "") + s;
}

/** A positive decimal digits × 10^exp (the test's own model of graph-node's BigDecimal, positive values only). */
interface Dec {
  digits: bigint;
  exp: bigint;
}
/** Half-up to 34 significant digits: how graph-node normalizes every positive BigDecimal result. */
function round34({ digits, exp }: Dec): Dec {
  const extra = digits.toString().length - 34;
  if (extra <= 0) return { digits, exp };
  const p = 10n ** BigInt(extra);
  const q = digits / p;
  return { digits: 2n * (digits % p) >= p ? q + 1n : q, exp: exp + BigInt(extra) };
}
/**
 * n/d (n ≥ 0, d > 0) as a BigDecimal division gives it: the exact quotient half-up to 34 significant digits (the
 * crate's intermediate rounding to 100 digits never changes a quotient by 3600, whose decimals repeat one digit).
 */
function quotient(n: bigint, d: bigint): Dec {
  if (n === 0n) return { digits: 0n, exp: 0n };
  const k = 34n + BigInt(d.toString().length); // n·10^k / d ≥ 10^34
  const num = n * 10n ** k;
  const extra = BigInt((num / d).toString().length - 34);
  const den = d * 10n ** extra;
  const q = num / den;
  return { digits: 2n * (num % den) >= den ? q + 1n : q, exp: extra - k };
}
/** a + b, exact, then rounded as a BigDecimal sum is. */
function plus(a: Dec, b: Dec): Dec {
  if (a.exp > b.exp) return plus(b, a);
  return round34({ digits: a.digits + b.digits * 10n ** (b.exp - a.exp), exp: a.exp });
}

/** The audit-log and Withdrawal id: tx hash ++ logIndex as graph-ts Bytes.concatI32 writes it (4 bytes, LE). */
function eventId(txHash: string, logIndex: number): string {
  const le = Buffer.alloc(4);
  le.writeInt32LE(logIndex);
  return `${txHash.toLowerCase()}${le.toString("hex")}`;
}

/* SCHEMA: the stored (non-derived) fields of every entity and the store kind each must have. */

interface FieldSpec {
  kind: StoreKind;
  nonNull: boolean;
}
async function readSchema(): Promise<Map<string, Map<string, FieldSpec>>> {
  const doc = parse(await readFile(join(defaultBuildDir, "..", "schema.graphql"), "utf8"));
  const defs = doc.definitions as readonly DefinitionNode[];
  const enums = new Set(defs.flatMap((d) => (d.kind === Kind.ENUM_TYPE_DEFINITION ? [d.name.value] : [])));
  const objects = defs.flatMap((d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION ? [d] : []));
  const named = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : named(t.type));
  const idType = new Map(
    objects.map((o) => [o.name.value, named(o.fields?.find((f) => f.name.value === "id")?.type as TypeNode)]),
  );
  const scalar: Record<string, StoreKind> = {
    ID: StoreKind.String,
    String: StoreKind.String,
    Int: StoreKind.Int,
    BigInt: StoreKind.BigInt,
    BigDecimal: StoreKind.BigDecimal,
    Bytes: StoreKind.Bytes,
    Boolean: StoreKind.Bool,
  };
  const kindOf = (name: string): StoreKind => {
    if (enums.has(name)) return StoreKind.String;
    const ref = idType.get(name);
    const k = scalar[ref ?? name];
    if (k === undefined) throw new Error(`no store kind for ${name}`);
    return k;
  };
  const out = new Map<string, Map<string, FieldSpec>>();
  for (const o of objects) {
    const fields = new Map<string, FieldSpec>();
    for (const f of o.fields ?? []) {
      if (f.directives?.some((d) => d.name.value === "derivedFrom")) continue;
      fields.set(f.name.value, { kind: kindOf(named(f.type)), nonNull: f.type.kind === Kind.NON_NULL_TYPE });
    }
    out.set(o.name.value, fields);
  }
  return out;
}

function plain(v: StoreValue): Plain {
  switch (v.kind) {
    case StoreKind.String:
    case StoreKind.Int:
    case StoreKind.Bool:
    case StoreKind.BigInt:
      return v.value;
    case StoreKind.Bytes:
      return toHex(v.value);
    case StoreKind.BigDecimal:
      return decString(v.value.digits, v.value.exp);
    case StoreKind.Null:
      return null;
    default:
      throw new Error(`unexpected store kind ${v.kind}`);
  }
}

// forge may write deployment records only under deployments/: a private folder there, removed afterwards.
const outDir = join(deploymentsDir, ".tmp", `paths-test-${process.pid}`);

describe("every booking path of the market, indexed by the embedded host", () => {
  let stack: LocalStack;
  let dir: string;
  let indexer: Indexer;
  let schema: Map<string, Map<string, FieldSpec>>;
  let pub: ReturnType<typeof publicClientFor>;
  let testClient: ReturnType<typeof createTestClient>;
  let market: { address: Hex; abi: MarketAbi };
  let token: Hex;
  let feed: Hex;
  let t0: bigint;
  const started = Date.now();

  // Roles. Each path has its own borrower, so each borrower's totals belong to one path.
  const acct = {
    owner: devAccount(0, "deployer: owner, treasury, arbiter"),
    lender: devAccount(1, "lender of host 1"),
    agent: devAccount(2, "agent of host 1"),
    borrowerA: devAccount(3, "A: book, activate, report, settle"),
    lender2: devAccount(4, "lender of host 2"),
    agent2: devAccount(5, "first agent of host 2"),
    keeper: devAccount(6, "anyone: settle, claimNoShow, performUpkeep, depositBond"),
    treasury2: devAccount(7, "treasury from T2"),
    arbiter2: devAccount(8, "arbiter from T1"),
    owner2: devAccount(9, "owner after the transfer"),
    borrowerB: devAccount(10, "B: USD booking cancelled early"),
    borrowerC: devAccount(11, "C: token booking cancelled late"),
    borrowerD: devAccount(12, "D: declined"),
    borrowerE: devAccount(13, "E: no-show"),
    borrowerF: devAccount(14, "F: early end, dispute, arbiter ruling"),
    borrowerG: devAccount(15, "G: dispute unreported, fallback"),
    borrowerH: devAccount(16, "H: settled by performUpkeep"),
    borrowerI: devAccount(17, "I: no-show by performUpkeep"),
    agent2b: devAccount(18, "second agent of host 2"),
    borrowerJ: devAccount(19, "J: reported zero use, settled by performUpkeep"),
    borrowerK: devAccount(20, "K: dispute the arbiter rules for the host"),
  };
  const wallets = new Map<string, Wallet>();
  const w = (a: DevAccount): Wallet => {
    const x = wallets.get(a.address);
    if (!x) throw new Error(`no wallet for ${a.role}`);
    return x;
  };
  const addr = (a: DevAccount) => lower(a.address);

  /* MODELS: what the entities must hold, built from the contract's rules and events. */

  interface HostModel {
    id: bigint;
    lender: Hex;
    agent: Hex;
    bond: bigint;
    unbondAt: bigint;
    metadataCid: string;
    registeredAt: bigint;
    completed: number;
    noShows: number;
    declines: number;
    disputesLost: number;
    secondsServed: bigint;
    openBookings: number;
    slashed: bigint;
  }
  interface ListingModel {
    id: bigint;
    host: bigint;
    gpuModel: string;
    gpuCount: number;
    vramMiBPerGpu: number;
    cpuCores: number;
    ramMiB: number;
    diskGiB: number;
    region: string;
    confidential: number;
    asset: Hex;
    usdPriced: boolean;
    pricePerHour: bigint;
    minSlots: number;
    maxSlots: number;
    leadTime: number;
    active: boolean;
    metadataCid: string;
    createdAt: bigint;
    bookingCount: number;
  }
  interface BookingModel {
    id: bigint;
    listing: ListingModel;
    borrower: Hex;
    start: bigint;
    end: bigint;
    asset: Hex;
    price: bigint;
    feeBps: number;
    f: Fields; // every other Booking field
  }
  interface Totals {
    escrowed: bigint;
    spent: bigint;
    refunded: bigint;
    earned: bigint;
    slashReceived: bigint;
    credited: bigint;
    withdrawn: bigint;
  }
  interface AssetModel {
    allowed: boolean;
    volumeBooked: bigint;
    volumeToLenders: bigint;
    platformFees: bigint;
    refunds: bigint;
    withdrawn: bigint;
  }
  // Every event that touches a model's daily aggregates, in chain order: the events that accrue its listed hours.
  type DayRecord =
    | { type: "cancelled" | "declined" | "noShows"; ts: bigint; model: string }
    | { type: "listing"; ts: bigint; model: string; gpuCount: number }
    | { type: "active"; ts: bigint; model: string; active: boolean; gpuCount: number }
    | {
        type: "book";
        ts: bigint;
        model: string;
        kind: string;
        asset: Hex;
        seconds: bigint;
        gpuCount: number;
        price: bigint;
      }
    | { type: "settle"; ts: bigint; model: string; kind: string; asset: Hex; used: bigint; revenue: bigint };

  const hosts = new Map<bigint, HostModel>();
  const listings = new Map<bigint, ListingModel>();
  const bookings = new Map<bigint, BookingModel>();
  const totals = new Map<string, { account: Hex; asset: Hex; t: Totals }>();
  const assets = new Map<Hex, AssetModel>();
  const days: DayRecord[] = [];
  let treasury: Hex;
  let arbiter: Hex;

  const totalsOf = (account: Hex, asset: Hex) => {
    const key = `${account}${asset.slice(2)}`;
    let x = totals.get(key);
    if (!x) {
      x = {
        account,
        asset,
        t: {
          escrowed: 0n,
          spent: 0n,
          refunded: 0n,
          earned: 0n,
          slashReceived: 0n,
          credited: 0n,
          withdrawn: 0n,
        },
      };
      totals.set(key, x);
    }
    return x.t;
  };
  const assetOf = (a: Hex) => {
    const x = assets.get(a);
    if (!x) throw new Error(`asset ${a} not modelled`);
    return x;
  };
  const ledger = {
    credit(account: Hex, asset: Hex, amount: bigint) {
      if (amount !== 0n) totalsOf(account, asset).credited += amount;
    },
    escrow(b: BookingModel) {
      const t = totalsOf(b.borrower, b.asset);
      t.escrowed += b.price;
      t.spent += b.price;
      assetOf(b.asset).volumeBooked += b.price;
    },
    refund(b: BookingModel, amount: bigint) {
      if (amount === 0n) return;
      const t = totalsOf(b.borrower, b.asset);
      t.refunded += amount;
      t.spent -= amount;
      t.credited += amount;
      assetOf(b.asset).refunds += amount;
    },
    payout(b: BookingModel, lenderAmount: bigint, fee: bigint) {
      const lender = hostOf(b).lender;
      if (lenderAmount !== 0n) {
        const t = totalsOf(lender, b.asset);
        t.earned += lenderAmount;
        t.credited += lenderAmount;
      }
      this.credit(treasury, b.asset, fee);
      assetOf(b.asset).volumeToLenders += lenderAmount;
      assetOf(b.asset).platformFees += fee;
    },
    slash(b: BookingModel, amount: bigint) {
      const t = totalsOf(b.borrower, NATIVE);
      t.slashReceived += amount;
      t.credited += amount;
      const h = hostOf(b);
      h.bond -= amount;
      h.slashed += amount;
      b.f.slash = ((b.f.slash as bigint | null) ?? 0n) + amount;
    },
    withdrawable(account: Hex, asset: Hex) {
      const t = totalsOf(account, asset);
      return t.credited - t.withdrawn;
    },
  };
  const hostOf = (b: BookingModel) => {
    const h = hosts.get(b.listing.host);
    if (!h) throw new Error(`host ${b.listing.host} not modelled`);
    return h;
  };
  const listingOf = (id: bigint) => {
    const l = listings.get(id);
    if (!l) throw new Error(`listing ${id} not modelled`);
    return l;
  };
  const bookingOf = (id: bigint) => {
    const b = bookings.get(id);
    if (!b) throw new Error(`booking ${id} not modelled`);
    return b;
  };
  const modelOf = (l: ListingModel) => (l.gpuModel === "" ? "cpu" : l.gpuModel);
  const kindOf = (l: ListingModel) => (l.usdPriced ? "Usd" : l.asset === NATIVE ? "Native" : "Token");

  /* CHAIN HELPERS */

  interface Mined {
    hash: Hex;
    block: bigint;
    ts: bigint;
    from: Hex;
    raw: Log[];
  }
  const sent: Hex[] = [];
  async function mined(p: Promise<Hex>): Promise<Mined> {
    const hash = await p;
    const r = await pub.waitForTransactionReceipt({ hash });
    eq(r.status, "success", `transaction ${hash} succeeded`);
    const blk = await pub.getBlock({ blockNumber: r.blockNumber });
    sent.push(hash);
    const raw = r.logs.filter((l) => lower(l.address) === lower(market.address));
    return { hash, block: r.blockNumber, ts: blk.timestamp, from: lower(r.from), raw };
  }
  const names = (tx: Mined) => parseEventLogs({ abi: marketAbi, logs: tx.raw }).map((l) => l.eventName);
  function one<N extends ContractEventName<MarketAbi>>(tx: Mined, name: N, i = 0) {
    const all = parseEventLogs({ abi: marketAbi, logs: tx.raw, eventName: name });
    const x = all[i];
    ok(x, `${name} #${i} emitted by ${tx.hash}`);
    return x;
  }
  /** The Credited events of a transaction as [account, asset, amount], in order. */
  const credits = (tx: Mined) =>
    parseEventLogs({ abi: marketAbi, logs: tx.raw, eventName: "Credited" }).map((c) => [
      lower(c.args.account),
      lower(c.args.asset),
      c.args.amount,
    ]);
  async function warpTo(ts: bigint) {
    await testClient.setNextBlockTimestamp({ timestamp: ts });
    await testClient.mine({ blocks: 1 });
  }
  async function chainNow() {
    return (await pub.getBlock()).timestamp;
  }

  /* ACTIONS, each updating the models by the contract's rules */

  async function createListing(
    lender: DevAccount,
    hostId: bigint,
    hw: {
      gpuModel: string;
      gpuCount: number;
      vramMiBPerGpu: number;
      cpuCores: number;
      ramMiB: number;
      diskGiB: number;
      region: string;
      confidential: number;
    },
    asset: Hex,
    usdPriced: boolean,
    pricePerHour: bigint,
  ): Promise<ListingModel> {
    const cid = rawCid(`listing ${hw.gpuModel} ${pricePerHour}`);
    const tx = await mined(
      w(lender).writeContract({
        ...market,
        functionName: "createListing",
        args: [hostId, hw, asset, usdPriced, pricePerHour, 1, 96, 0, cid],
      }),
    );
    const id = one(tx, "ListingCreated").args.listingId;
    const l: ListingModel = {
      id,
      host: hostId,
      ...hw,
      asset: lower(asset),
      usdPriced,
      pricePerHour,
      minSlots: 1,
      maxSlots: 96,
      leadTime: 0,
      active: true,
      metadataCid: cid,
      createdAt: tx.ts,
      bookingCount: 0,
    };
    listings.set(id, l);
    days.push({ type: "listing", ts: tx.ts, model: modelOf(l), gpuCount: l.gpuCount });
    return l;
  }

  /** Books `slots` slots from `start` on `l` as `who`, paying `excess` more than the price (USD listings). */
  async function book(who: DevAccount, l: ListingModel, start: bigint, slots: bigint, excess = 0n) {
    const end = start + slots * SLOT;
    const seconds = end - start;
    let price: bigint;
    if (l.usdPriced) {
      const [, answer] = await pub.readContract({
        address: feed,
        abi: feedAbi,
        functionName: "latestRoundData",
      });
      const decimals = await pub.readContract({ address: feed, abi: feedAbi, functionName: "decimals" });
      price = usdToWei(l.pricePerHour, seconds, answer, decimals);
    } else price = priceOf(l.pricePerHour, seconds);
    const [quoted, quotedAsset] = await pub.readContract({
      ...market,
      functionName: "quote",
      args: [l.id, Number(start), Number(end)],
    });
    eq([quoted, lower(quotedAsset)], [price, l.asset], "quote() follows PricingLib");
    if (l.asset !== NATIVE) {
      await mined(
        w(who).writeContract({
          address: token,
          abi: tokenAbi,
          functionName: "mint",
          args: [who.address, price],
        }),
      );
      await mined(
        w(who).writeContract({
          address: token,
          abi: tokenAbi,
          functionName: "approve",
          args: [market.address, price],
        }),
      );
    }
    const sessionPubKey = x25519PublicKey();
    const sshPubKey = sshEd25519PublicKeyLine(`${who.role.slice(0, 1)}@paths`);
    const tx = await mined(
      w(who).writeContract({
        ...market,
        functionName: "book",
        args: [l.id, Number(start), Number(end), sessionPubKey, sshPubKey],
        value: l.asset === NATIVE ? price + excess : 0n,
      }),
    );
    const ev = one(tx, "Booked");
    const feeBps = Number(await pub.readContract({ ...market, functionName: "feeBps" }));
    eq(
      [ev.args.listingId, lower(ev.args.borrower), ev.args.start, ev.args.end, ev.args.price, ev.args.feeBps],
      [l.id, addr(who), start, end, price, BigInt(feeBps)],
      "Booked carries the window, the rule price and the current fee",
    );
    eq(
      names(tx),
      excess ? ["Booked", "Credited"] : ["Booked"],
      "book emits Booked (and Credited for an excess)",
    );
    const b: BookingModel = {
      id: ev.args.bookingId,
      listing: l,
      borrower: addr(who),
      start,
      end,
      asset: l.asset,
      price,
      feeBps,
      f: {
        sessionPubKey: lower(sessionPubKey),
        sshPubKey: lower(sshPubKey),
        status: "Booked",
        bookedAt: tx.ts,
        activatedAt: null,
        endedAt: null,
        reportedAt: null,
        disputedAt: null,
        settledAt: null,
        cancelledAt: null,
        declinedAt: null,
        noShowAt: null,
        usedSeconds: null,
        lenderAmount: null,
        platformFee: null,
        refund: null,
        slash: null,
        declineReason: null,
        reportCid: null,
        disputeReasonCid: null,
        dispute: null,
        endpointPublications: 0,
        encryptedEndpoint: null,
        lastEndpointAt: null,
      },
    };
    bookings.set(b.id, b);
    l.bookingCount++;
    const h = hostOf(b);
    h.openBookings++;
    ledger.escrow(b);
    if (excess) {
      eq(credits(tx), [[b.borrower, NATIVE, excess]], "the excess over a USD price is credited back");
      ledger.credit(b.borrower, NATIVE, excess);
    }
    days.push({
      type: "book",
      ts: tx.ts,
      model: modelOf(l),
      kind: kindOf(l),
      asset: l.asset,
      seconds,
      gpuCount: l.gpuCount,
      price,
    });
    return { b, tx };
  }

  async function activate(b: BookingModel, agent: DevAccount) {
    const endpoint = encryptedEndpoint();
    const tx = await mined(
      w(agent).writeContract({ ...market, functionName: "activate", args: [b.id, endpoint] }),
    );
    const ev = one(tx, "EndpointPublished");
    const republished = b.f.status === "Active";
    eq(
      [ev.args.bookingId, lower(ev.args.agent), ev.args.encryptedEndpoint, ev.args.republished],
      [b.id, addr(agent), endpoint, republished],
      "EndpointPublished carries the endpoint and whether it is a republication",
    );
    if (!republished) {
      b.f.status = "Active";
      b.f.activatedAt = tx.ts;
    }
    b.f.endpointPublications = (b.f.endpointPublications as number) + 1;
    b.f.encryptedEndpoint = lower(endpoint);
    b.f.lastEndpointAt = tx.ts;
    return tx;
  }

  /** setListingActive; only a change of the flag is an event of the model's listed hours (the contract emits either). */
  async function setActive(l: ListingModel, active: boolean) {
    const lender = hosts.get(l.host)?.lender;
    const who = Object.values(acct).find((a) => addr(a) === lender);
    if (!who) throw new Error(`no lender account for listing ${l.id}`);
    const tx = await mined(
      w(who).writeContract({ ...market, functionName: "setListingActive", args: [l.id, active] }),
    );
    eq(
      [one(tx, "ListingActiveSet").args.listingId, one(tx, "ListingActiveSet").args.active],
      [l.id, active],
      "ListingActiveSet carries the flag, changed or not",
    );
    if (l.active !== active)
      days.push({ type: "active", ts: tx.ts, model: modelOf(l), active, gpuCount: l.gpuCount });
    l.active = active;
    return tx;
  }

  /** Settlement bookkeeping shared by settle, performUpkeep and resolveDispute. */
  function settled(b: BookingModel, tx: Mined, used: bigint, i = 0) {
    const s = split(b.price, used, b.end - b.start, BigInt(b.feeBps));
    const ev = one(tx, "BookingSettled", i);
    eq(
      [ev.args.bookingId, ev.args.usedSeconds, ev.args.lenderAmount, ev.args.platformFee, ev.args.refund],
      [b.id, used, s.lender, s.fee, s.refund],
      `BookingSettled of ${b.id} is PricingLib.split of the price`,
    );
    Object.assign(b.f, {
      status: "Settled",
      settledAt: tx.ts,
      usedSeconds: used,
      lenderAmount: s.lender,
      platformFee: s.fee,
      refund: s.refund,
    });
    const h = hostOf(b);
    h.openBookings--;
    if (used !== 0n) {
      h.completed++;
      h.secondsServed += used;
    }
    ledger.payout(b, s.lender, s.fee);
    ledger.refund(b, s.refund);
    days.push({
      type: "settle",
      ts: tx.ts,
      model: modelOf(b.listing),
      kind: kindOf(b.listing),
      asset: b.asset,
      used,
      revenue: s.lender + s.fee,
    });
    return s;
  }

  function noShow(b: BookingModel, tx: Mined, caller: Hex, i = 0) {
    const h = hostOf(b);
    const slash = h.bond < 10n ** 17n ? h.bond : 10n ** 17n; // min(noShowSlash, bond)
    const ev = one(tx, "NoShowClaimed", i);
    eq(
      [ev.args.bookingId, lower(ev.args.caller), ev.args.refund, ev.args.slash],
      [b.id, caller, b.price, slash],
      `NoShowClaimed of ${b.id}: full refund and min(noShowSlash, bond)`,
    );
    Object.assign(b.f, { status: "NoShow", noShowAt: tx.ts, refund: b.price });
    h.openBookings--;
    h.noShows++;
    ledger.slash(b, slash);
    ledger.refund(b, b.price);
    days.push({ type: "noShows", ts: tx.ts, model: modelOf(b.listing) });
    eq(one(tx, "BondSlashed", i).args.bond, h.bond, "BondSlashed carries the bond left");
  }

  /** Withdraws each (account, asset) credit, all in ONE block (automine paused), so log indexes run across txs. */
  async function withdrawInOneBlock(plan: [DevAccount, Hex][]) {
    const amounts = plan.map(([who, asset]) => ledger.withdrawable(addr(who), asset));
    for (const [i, [who]] of plan.entries())
      ok((amounts[i] ?? 0n) > 0n, `${who.role} has something to withdraw`);
    const hashes: Hex[] = [];
    await testClient.setAutomine(false);
    try {
      for (const [who, asset] of plan) {
        hashes.push(await w(who).writeContract({ ...market, functionName: "withdraw", args: [asset] }));
      }
      await testClient.mine({ blocks: 1 });
    } finally {
      await testClient.setAutomine(true);
    }
    const out: { tx: Mined; amount: bigint; logIndex: number }[] = [];
    for (const [i, [who, asset]] of plan.entries()) {
      const amount = amounts[i] ?? 0n;
      const tx = await mined(Promise.resolve(hashes[i] as Hex));
      const ev = one(tx, "Withdrawn");
      eq(
        [lower(ev.args.account), lower(ev.args.asset), ev.args.amount],
        [addr(who), asset, amount],
        "withdraws it all",
      );
      totalsOf(addr(who), asset).withdrawn += amount;
      assetOf(asset).withdrawn += amount;
      out.push({ tx, amount, logIndex: ev.logIndex });
    }
    eq(new Set(out.map((o) => o.tx.block)).size, 1, "the withdrawals share one block");
    ok(
      out.every((o, i) => i === 0 || o.logIndex > (out[i - 1]?.logIndex ?? 0)),
      "log indexes count across the block's transactions, not within each one",
    );
    return out;
  }

  /* ENTITY CHECKS */

  /** Compares every stored field of the schema type with `expected`: kind, value, and null where expected. */
  function expectEntity(type: string, id: string, expected: Fields): EntityData {
    const fields = schema.get(type);
    if (!fields) throw new Error(`no entity type ${type}`);
    eq(
      Object.keys(expected).sort(),
      [...fields.keys()].sort(),
      `the test's expectation of ${type} names every stored field of the schema`,
    );
    const e = indexer.store.get(type, id);
    ok(e, `${type} ${id} is stored`);
    for (const k of e.keys()) ok(fields.has(k), `${type} ${id} stores no field ${k} outside the schema`);
    for (const [name, spec] of fields) {
      const v = e.get(name);
      const want = expected[name] ?? null;
      if (want === null) {
        eq(v === undefined ? null : plain(v), null, `${type} ${id}.${name} is null`);
      } else {
        eq(v?.kind, spec.kind, `${type} ${id}.${name} has the store kind of its schema type`);
        eq(v === undefined ? null : plain(v), want, `${type} ${id}.${name}`);
      }
    }
    return e;
  }

  async function expectBooking(b: BookingModel) {
    expectEntity("Booking", b.id.toString(), {
      id: b.id.toString(),
      listing: b.listing.id.toString(),
      host: b.listing.host.toString(),
      borrower: b.borrower,
      start: b.start,
      end: b.end,
      asset: b.asset,
      price: b.price,
      feeBps: b.feeBps,
      ...b.f,
    });
    // And the model agrees with the contract's own record.
    const c = await pub.readContract({ ...market, functionName: "getBooking", args: [b.id] });
    eq(
      [
        STATUS[c.status],
        c.price,
        c.feeBps,
        BigInt(c.start),
        BigInt(c.end),
        lower(c.borrower),
        BigInt(c.listingId),
      ],
      [b.f.status, b.price, b.feeBps, b.start, b.end, b.borrower, b.listing.id],
      `getBooking(${b.id}) agrees with the model`,
    );
    if (b.f.usedSeconds !== null)
      eq(BigInt(c.usedSeconds), b.f.usedSeconds, `getBooking(${b.id}).usedSeconds`);
    eq(BigInt(c.endedAt), (b.f.endedAt as bigint | null) ?? 0n, `getBooking(${b.id}).endedAt`);
  }

  async function expectHosts() {
    for (const h of hosts.values()) {
      const c = await pub.readContract({ ...market, functionName: "getHost", args: [h.id] });
      eq(
        {
          lender: lower(c.lender),
          agent: lower(c.agent),
          bond: c.bond,
          unbondAt: BigInt(c.unbondAt),
          metadataCid: c.metadataCid,
          registeredAt: BigInt(c.registeredAt),
          completed: c.completed,
          noShows: c.noShows,
          declines: c.declines,
          disputesLost: c.disputesLost,
          secondsServed: BigInt(c.secondsServed),
          openBookings: c.openBookings,
        },
        {
          lender: h.lender,
          agent: h.agent,
          bond: h.bond,
          unbondAt: h.unbondAt,
          metadataCid: h.metadataCid,
          registeredAt: h.registeredAt,
          completed: h.completed,
          noShows: h.noShows,
          declines: h.declines,
          disputesLost: h.disputesLost,
          secondsServed: h.secondsServed,
          openBookings: h.openBookings,
        },
        `getHost(${h.id}) agrees with the rule model`,
      );
      expectEntity("Host", h.id.toString(), { ...h, id: h.id.toString() });
    }
  }

  async function expectListings() {
    for (const l of listings.values()) {
      const [c, hw] = await Promise.all([
        pub.readContract({ ...market, functionName: "getListing", args: [l.id] }),
        pub.readContract({ ...market, functionName: "getHardware", args: [l.id] }),
      ]);
      eq(
        [
          BigInt(c.hostId),
          c.pricePerHour,
          c.minSlots,
          c.maxSlots,
          c.leadTime,
          c.active,
          c.usdPriced,
          lower(c.asset),
          c.metadataCid,
        ],
        [
          l.host,
          l.pricePerHour,
          l.minSlots,
          l.maxSlots,
          l.leadTime,
          l.active,
          l.usdPriced,
          l.asset,
          l.metadataCid,
        ],
        `getListing(${l.id}) agrees with the model`,
      );
      eq(
        { ...hw },
        {
          gpuModel: l.gpuModel,
          gpuCount: l.gpuCount,
          vramMiBPerGpu: l.vramMiBPerGpu,
          cpuCores: l.cpuCores,
          ramMiB: l.ramMiB,
          diskGiB: l.diskGiB,
          region: l.region,
          confidential: l.confidential,
        },
        `getHardware(${l.id}) agrees with the model`,
      );
      expectEntity("Listing", l.id.toString(), {
        id: l.id.toString(),
        host: l.host.toString(),
        gpuModel: l.gpuModel,
        gpuCount: l.gpuCount,
        vramMiBPerGpu: BigInt(l.vramMiBPerGpu),
        cpuCores: l.cpuCores,
        ramMiB: BigInt(l.ramMiB),
        diskGiB: BigInt(l.diskGiB),
        region: l.region,
        confidential: ["None", "SevSnp", "Tdx"][l.confidential] ?? "?",
        asset: l.asset,
        usdPriced: l.usdPriced,
        pricePerHour: l.pricePerHour,
        minSlots: l.minSlots,
        maxSlots: l.maxSlots,
        leadTime: BigInt(l.leadTime),
        active: l.active,
        metadataCid: l.metadataCid,
        createdAt: l.createdAt,
        bookingCount: l.bookingCount,
      });
    }
  }

  /** Market entity against the contract's reads; openBookings counted from getBooking. */
  async function expectMarket() {
    const r = async (functionName: "owner" | "pendingOwner" | "treasury" | "arbiter" | "usdFeed") =>
      (await pub.readContract({ ...market, functionName })) as string;
    const count = await pub.readContract({ ...market, functionName: "bookingCount" });
    let open = 0;
    for (let id = 1n; id <= count; id++) {
      const b = await pub.readContract({ ...market, functionName: "getBooking", args: [id] });
      if (!TERMINAL.has(STATUS[b.status] ?? "")) open++;
    }
    const orNull = (a: string) => (a === zeroAddress ? null : lower(a));
    expectEntity("Market", "market", {
      id: "market",
      address: lower(market.address),
      owner: lower(await r("owner")),
      pendingOwner: orNull(await r("pendingOwner")),
      feeBps: Number(await pub.readContract({ ...market, functionName: "feeBps" })),
      treasury: lower(await r("treasury")),
      arbiter: lower(await r("arbiter")),
      usdFeed: orNull(await r("usdFeed")),
      usdFeedMaxAge: BigInt(await pub.readContract({ ...market, functionName: "usdFeedMaxAge" })),
      paused: await pub.readContract({ ...market, functionName: "paused" }),
      hostCount: Number(await pub.readContract({ ...market, functionName: "hostCount" })),
      listingCount: Number(await pub.readContract({ ...market, functionName: "listingCount" })),
      bookingCount: Number(count),
      openBookings: open,
    });
    eq(
      open,
      [...hosts.values()].reduce((s, h) => s + h.openBookings, 0),
      "open bookings add up over hosts",
    );
  }

  /** Every AccountAsset and Asset against the ledger, and each balance against credits() on chain. */
  async function expectFunds() {
    eq(
      indexer.store
        .all("AccountAsset")
        .map((e) => plain(e.get("id") as StoreValue))
        .sort(),
      [...totals.keys()].sort(),
      "an AccountAsset exists exactly for each (account, asset) the ledger moved",
    );
    for (const [key, { account, asset, t }] of totals) {
      const onChain = await pub.readContract({ ...market, functionName: "credits", args: [account, asset] });
      eq(
        onChain,
        t.credited - t.withdrawn,
        `credits(${account}, ${asset}) = credited − withdrawn of the ledger`,
      );
      expectEntity("AccountAsset", key, { id: key, account, asset, ...t, balance: onChain });
    }
    eq(
      indexer.store
        .all("Asset")
        .map((e) => plain(e.get("id") as StoreValue))
        .sort(),
      [...assets.keys()].sort(),
      "an Asset exists for native currency and the test token only",
    );
    for (const [id, a] of assets) expectEntity("Asset", id, { id, native: id === NATIVE, ...a });
  }

  /** Decoded market logs of the whole chain, in order. */
  async function allMarketLogs() {
    const logs = await pub.getLogs({
      address: market.address,
      fromBlock: BigInt(stack.deployment.startBlock),
      toBlock: "latest",
    });
    return parseEventLogs({ abi: marketAbi, logs });
  }
  type Decoded = Awaited<ReturnType<typeof allMarketLogs>>[number];

  /** The MarketEvent a log must produce, by the schema's documented semantics of each kind. */
  function expectedAudit(log: Decoded, from: Hex, ts: bigint): Fields {
    const a = log.args as Record<string, unknown>;
    const n = (k: string) => a[k] as bigint;
    const ad = (k: string) => lower(a[k] as string);
    const e: Fields = {
      id: eventId(log.transactionHash, log.logIndex),
      kind: log.eventName,
      booking: null,
      host: null,
      listing: null,
      actor: from,
      account: null,
      asset: null,
      amount: null,
      refund: null,
      lenderAmount: null,
      platformFee: null,
      slash: null,
      bond: null,
      seconds: null,
      cid: null,
      flag: null,
      code: null,
      txHash: lower(log.transactionHash),
      blockNumber: log.blockNumber,
      timestamp: ts,
      logIndex: BigInt(log.logIndex),
    };
    const onListing = (id: bigint) =>
      Object.assign(e, { listing: id.toString(), host: listingOf(id).host.toString() });
    const onBooking = (id: bigint) => {
      const b = bookingOf(id);
      onListing(b.listing.id);
      e.booking = id.toString();
      return b;
    };
    switch (log.eventName) {
      case "HostRegistered":
        return {
          ...e,
          host: `${n("hostId")}`,
          actor: ad("lender"),
          account: ad("agent"),
          amount: n("bond"),
          bond: n("bond"),
          cid: a.metadataCid as string,
        };
      case "AgentChanged":
        return { ...e, host: `${n("hostId")}`, account: ad("newAgent") };
      case "HostMetadataUpdated":
        return { ...e, host: `${n("hostId")}`, cid: a.metadataCid as string };
      case "BondDeposited":
        return { ...e, host: `${n("hostId")}`, actor: ad("from"), amount: n("amount"), bond: n("bond") };
      case "UnbondRequested":
        return { ...e, host: `${n("hostId")}`, amount: n("unlocksAt") };
      case "UnbondCancelled":
        return { ...e, host: `${n("hostId")}` };
      case "BondWithdrawn":
        return {
          ...e,
          host: `${n("hostId")}`,
          actor: ad("to"),
          account: ad("to"),
          amount: n("amount"),
          bond: n("bond"),
        };
      case "BondSlashed":
        onBooking(n("bookingId"));
        return { ...e, account: ad("to"), amount: n("amount"), slash: n("amount"), bond: n("bond") };
      case "ListingCreated":
        onListing(n("listingId"));
        return {
          ...e,
          asset: ad("asset"),
          amount: n("pricePerHour"),
          flag: a.usdPriced as boolean,
          cid: a.metadataCid as string,
        };
      case "ListingPriceUpdated":
        onListing(n("listingId"));
        return { ...e, amount: n("pricePerHour") };
      case "ListingTermsUpdated":
        onListing(n("listingId"));
        return { ...e, amount: n("leadTime") };
      case "ListingActiveSet":
        onListing(n("listingId"));
        return { ...e, flag: a.active as boolean };
      case "ListingMetadataUpdated":
        onListing(n("listingId"));
        return { ...e, cid: a.metadataCid as string };
      case "Booked":
        onBooking(n("bookingId"));
        return {
          ...e,
          actor: ad("borrower"),
          account: ad("borrower"),
          asset: ad("asset"),
          amount: n("price"),
          seconds: n("end") - n("start"),
        };
      case "EndpointPublished":
        onBooking(n("bookingId"));
        return { ...e, actor: ad("agent"), flag: a.republished as boolean };
      case "BookingDeclined": {
        const b = onBooking(n("bookingId"));
        return {
          ...e,
          actor: ad("agent"),
          account: b.borrower,
          asset: b.asset,
          amount: n("refund"),
          refund: n("refund"),
          code: Number(a.reason),
        };
      }
      case "BookingCancelled": {
        const b = onBooking(n("bookingId"));
        return {
          ...e,
          actor: b.borrower,
          account: b.borrower,
          asset: b.asset,
          amount: n("refund"),
          refund: n("refund"),
          lenderAmount: n("lenderFee"),
          platformFee: n("platformFee"),
        };
      }
      case "SessionEndRequested": {
        const b = onBooking(n("bookingId"));
        return { ...e, actor: b.borrower, account: b.borrower, amount: n("endedAt") };
      }
      case "UsageReported":
        onBooking(n("bookingId"));
        return { ...e, actor: ad("agent"), seconds: n("usedSeconds"), cid: a.reportCid as string };
      case "BookingDisputed": {
        const b = onBooking(n("bookingId"));
        return {
          ...e,
          actor: b.borrower,
          account: b.borrower,
          seconds: n("claimedSeconds"),
          cid: a.reasonCid as string,
        };
      }
      case "DisputeResolved": {
        const b = onBooking(n("bookingId"));
        const fallback = ad("arbiter") === NATIVE;
        return {
          ...e,
          actor: fallback ? from : ad("arbiter"),
          account: b.borrower,
          seconds: n("usedSeconds"),
          slash: n("slash"),
          amount: n("slash"),
          flag: fallback,
        };
      }
      case "NoShowClaimed": {
        const b = onBooking(n("bookingId"));
        return {
          ...e,
          actor: ad("caller"),
          account: b.borrower,
          asset: b.asset,
          amount: n("refund"),
          refund: n("refund"),
          slash: n("slash"),
        };
      }
      case "BookingSettled": {
        const b = onBooking(n("bookingId"));
        return {
          ...e,
          actor: ad("caller"),
          account: b.borrower,
          asset: b.asset,
          amount: n("lenderAmount"),
          seconds: n("usedSeconds"),
          lenderAmount: n("lenderAmount"),
          platformFee: n("platformFee"),
          refund: n("refund"),
        };
      }
      case "Credited":
        return { ...e, account: ad("account"), asset: ad("asset"), amount: n("amount") };
      case "Withdrawn":
        return {
          ...e,
          actor: ad("account"),
          account: ad("account"),
          asset: ad("asset"),
          amount: n("amount"),
        };
      case "FeeSet":
        return { ...e, amount: n("feeBps") };
      case "TreasurySet":
        return { ...e, account: ad("treasury") };
      case "ArbiterSet":
        return { ...e, account: ad("arbiter") };
      case "AssetAllowed":
        return { ...e, asset: ad("asset"), flag: a.allowed as boolean };
      case "UsdFeedSet":
        return { ...e, account: ad("feed"), amount: n("maxAge") };
      case "Paused":
      case "Unpaused":
        return { ...e, actor: ad("account") };
      case "OwnershipTransferStarted":
        return { ...e, actor: ad("previousOwner"), account: ad("newOwner") };
      case "OwnershipTransferred":
        // The transaction's sender acted (the deployer in the constructor, the new owner in acceptOwnership);
        // the previous owner did not.
        return { ...e, account: ad("newOwner") };
      default:
        throw new Error(`no audit expectation for ${(log as { eventName: string }).eventName}`);
    }
  }

  /**
   * For each transaction: its receipt's market logs, decoded, against the MarketEvents with its txHash — the same
   * number, one per log with id txHash ++ logIndex, every field as the kind documents it.
   */
  async function expectAudit(hashes: Hex[]) {
    const byTx = new Map<string, EntityData[]>();
    for (const e of indexer.store.all("MarketEvent")) {
      const h = plain(e.get("txHash") as StoreValue) as string;
      byTx.set(h, [...(byTx.get(h) ?? []), e]);
    }
    for (const hash of new Set(hashes)) {
      const [r, tx] = await Promise.all([pub.getTransactionReceipt({ hash }), pub.getTransaction({ hash })]);
      const blk = await pub.getBlock({ blockNumber: r.blockNumber });
      const logs = parseEventLogs({
        abi: marketAbi,
        logs: r.logs.filter((l) => lower(l.address) === lower(market.address)),
      });
      eq(
        logs.length,
        r.logs.filter((l) => lower(l.address) === lower(market.address)).length,
        `every market log of ${hash} decodes with marketAbi`,
      );
      eq((byTx.get(lower(hash)) ?? []).length, logs.length, `${hash}: one MarketEvent per market log`);
      for (const log of logs) {
        expectEntity(
          "MarketEvent",
          eventId(hash, log.logIndex),
          expectedAudit(log, lower(tx.from), blk.timestamp),
        );
      }
    }
  }

  const sentAt = () => sent.length;
  /** Indexes to the head, then checks the audit of the transactions sent since `mark` and every shared total. */
  async function indexAndCheck(mark: number) {
    await indexer.syncTo();
    await expectAudit(sent.slice(mark));
    await expectFunds();
    await expectHosts();
    await expectMarket();
  }

  before(async () => {
    const wasm = join(defaultBuildDir, "Market", "Market.wasm");
    assert.ok(existsSync(wasm), `${wasm} is missing: run npm -w subgraph run build`);
    schema = await readSchema();
    dir = await mkdtemp(join(tmpdir(), "computehive-paths-test-"));
    stack = await startLocalStack({
      port: await freePort(),
      deploymentsDir: outDir,
      metadataDir: join(dir, "metadata"),
    });
    const { url, chainId } = stack.anvil;
    pub = publicClientFor(url, chainId);
    testClient = createTestClient({ mode: "anvil", transport: http(url) });
    market = { address: stack.deployment.market, abi: marketAbi };
    token = stack.deployment.testToken as Hex;
    feed = stack.deployment.usdFeed as Hex;
    ok(token && feed, "the local deployment has a test token and a USD feed");
    for (const a of Object.values(acct)) {
      wallets.set(a.address, walletClientFor(url, chainId, a.account));
      if (a.index >= 10) await testClient.setBalance({ address: a.address, value: parseEther("100") });
    }
    const p = stack.deployment.params;
    eq(
      [p.slotLength, p.activationGrace, p.reportGrace, p.disputeWindow, p.arbiterDeadline, p.cancelCutoff],
      [900, 600, 3600, 86400, 604800, 86400],
      "the deployment has the default timing this timeline is planned for",
    );
    eq(
      [p.cancelFeeBps, p.unbondingDelay, p.minBond, p.noShowSlash, p.feeBps],
      [2000, 604800, 10n ** 18n, 10n ** 17n, 250],
      "the deployment has the default fees and bonds the expectations assume",
    );
    treasury = lower(stack.deployment.treasury);
    arbiter = lower(stack.deployment.arbiter);
    assets.set(NATIVE, {
      allowed: true,
      volumeBooked: 0n,
      volumeToLenders: 0n,
      platformFees: 0n,
      refunds: 0n,
      withdrawn: 0n,
    });
    assets.set(lower(token), {
      allowed: true,
      volumeBooked: 0n,
      volumeToLenders: 0n,
      platformFees: 0n,
      refunds: 0n,
      withdrawn: 0n,
    });

    // The seed's host and listing, from its events.
    const seedLogs = await allMarketLogs();
    for (const log of seedLogs) {
      const blk = await pub.getBlock({ blockNumber: log.blockNumber });
      if (log.eventName === "HostRegistered") {
        const x = log.args;
        hosts.set(x.hostId, {
          id: x.hostId,
          lender: lower(x.lender),
          agent: lower(x.agent),
          bond: x.bond,
          unbondAt: 0n,
          metadataCid: x.metadataCid,
          registeredAt: blk.timestamp,
          completed: 0,
          noShows: 0,
          declines: 0,
          disputesLost: 0,
          secondsServed: 0n,
          openBookings: 0,
          slashed: 0n,
        });
      }
      if (log.eventName === "ListingCreated") {
        const x = log.args;
        const l: ListingModel = {
          id: x.listingId,
          host: x.hostId,
          ...x.hardware,
          asset: lower(x.asset),
          usdPriced: x.usdPriced,
          pricePerHour: x.pricePerHour,
          minSlots: Number(x.minSlots),
          maxSlots: Number(x.maxSlots),
          leadTime: Number(x.leadTime),
          active: true,
          metadataCid: x.metadataCid,
          createdAt: blk.timestamp,
          bookingCount: 0,
        };
        listings.set(l.id, l);
        days.push({ type: "listing", ts: blk.timestamp, model: modelOf(l), gpuCount: l.gpuCount });
      }
    }
    eq(
      [...hosts.keys(), ...listings.keys()],
      [stack.seed.hostId, stack.seed.listingId],
      "the seed made one host, one listing",
    );

    // t0: 01:00 UTC of the next day.
    t0 = ((await chainNow()) / DAY + 1n) * DAY + HOUR;
    await warpTo(t0);

    indexer = await Indexer.create({
      rpcUrl: url,
      deployment: stack.deployment,
      buildDir: defaultBuildDir,
      blockRange: 7,
    });
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {});
    console.log(
      `# paths.test.ts: ${assertions} assertions in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  // Host 1 (seed), host 2 (registered here) and the listings of the paths.
  let L1: ListingModel; // seed: CPU-only, native, 0.01 ETH/h
  let L2: ListingModel; // 2 × H100, native, odd price (rounding)
  let L3: ListingModel; // 1 × L4, test token
  let L4: ListingModel; // 1 × RTX 4090, USD-priced
  let L5: ListingModel; // host 2: 4 × A100, native
  let H1: bigint;
  let H2: bigint;

  it("indexes the deployment, the seed, a second host (registered, topped up by anyone, new agent, new metadata) and four listings", async () => {
    const mark = sentAt();
    L1 = listingOf(stack.seed.listingId);
    H1 = stack.seed.hostId;
    const cid2 = rawCid("host 2");
    const reg = await mined(
      w(acct.lender2).writeContract({
        ...market,
        functionName: "registerHost",
        args: [acct.agent2.address, cid2],
        value: 2n * 10n ** 18n,
      }),
    );
    H2 = one(reg, "HostRegistered").args.hostId;
    hosts.set(H2, {
      id: H2,
      lender: addr(acct.lender2),
      agent: addr(acct.agent2),
      bond: 2n * 10n ** 18n,
      unbondAt: 0n,
      metadataCid: cid2,
      registeredAt: reg.ts,
      completed: 0,
      noShows: 0,
      declines: 0,
      disputesLost: 0,
      secondsServed: 0n,
      openBookings: 0,
      slashed: 0n,
    });
    const h2 = hosts.get(H2) as HostModel;
    const dep = await mined(
      w(acct.keeper).writeContract({
        ...market,
        functionName: "depositBond",
        args: [H2],
        value: 3n * 10n ** 17n,
      }),
    );
    h2.bond += 3n * 10n ** 17n;
    eq(one(dep, "BondDeposited").args.bond, h2.bond, "BondDeposited carries the new bond");
    await mined(
      w(acct.lender2).writeContract({
        ...market,
        functionName: "setAgent",
        args: [H2, acct.agent2b.address],
      }),
    );
    h2.agent = addr(acct.agent2b);
    const cid2b = rawCid("host 2, v2");
    await mined(
      w(acct.lender2).writeContract({ ...market, functionName: "setHostMetadata", args: [H2, cid2b] }),
    );
    h2.metadataCid = cid2b;

    const hw = (gpuModel: string, gpuCount: number, vram: number, confidential: number) => ({
      gpuModel,
      gpuCount,
      vramMiBPerGpu: vram,
      cpuCores: 16 * gpuCount,
      ramMiB: 65536 * gpuCount,
      diskGiB: 500,
      region: "eu-west",
      confidential,
    });
    L2 = await createListing(
      acct.lender,
      H1,
      hw("NVIDIA H100 80GB HBM3", 2, 81559, 1),
      NATIVE,
      false,
      1_234_567_890_123_456_789n,
    );
    L3 = await createListing(acct.lender, H1, hw("NVIDIA L4", 1, 23034, 0), lower(token), false, 1_500_000n);
    L4 = await createListing(
      acct.lender,
      H1,
      hw("NVIDIA GeForce RTX 4090", 1, 24564, 0),
      NATIVE,
      true,
      2n * 10n ** 18n,
    );
    L5 = await createListing(
      acct.lender2,
      H2,
      hw("NVIDIA A100-SXM4-80GB", 4, 81920, 2),
      NATIVE,
      false,
      5n * 10n ** 17n,
    );

    // Everything since the market's creation: deployment, seed and this setup.
    await indexer.syncTo();
    const all = await allMarketLogs();
    await expectAudit([...new Set(all.map((l) => l.transactionHash))]);
    eq(sent.length - mark, 8, "this setup sent 8 transactions");
    await expectFunds();
    await expectHosts();
    await expectListings();
    await expectMarket();
  });

  let B: BookingModel;
  it("book → cancel two days ahead: the whole USD-priced escrow comes back, no lender or platform fee, and the excess paid at booking is credited at once", async () => {
    const mark = sentAt();
    const start = t0 + 2n * DAY;
    const { b } = await book(acct.borrowerB, L4, start, 4n, 12_345n);
    B = b;
    const tx = await mined(
      w(acct.borrowerB).writeContract({ ...market, functionName: "cancel", args: [B.id] }),
    );
    ok(tx.ts + DAY <= start, "cancelled before start − cancelCutoff");
    const ev = one(tx, "BookingCancelled");
    eq(
      [ev.args.refund, ev.args.lenderFee, ev.args.platformFee],
      [B.price, 0n, 0n],
      "an early cancel is free",
    );
    eq(credits(tx), [[B.borrower, NATIVE, B.price]], "only the borrower is credited");
    Object.assign(B.f, {
      status: "Cancelled",
      cancelledAt: tx.ts,
      refund: B.price,
      lenderAmount: 0n,
      platformFee: 0n,
    });
    hostOf(B).openBookings--;
    ledger.refund(B, B.price);
    days.push({ type: "cancelled", ts: tx.ts, model: modelOf(L4) });
    await indexAndCheck(mark);
    await expectBooking(B);
    eq(totalsOf(B.borrower, NATIVE).spent, 0n, "B spent nothing in the end");
  });

  let C: BookingModel;
  it("book → cancel within the cutoff (token): the lender gets cancelFeeBps of the price less the platform fee, the treasury the fee, the borrower the rest", async () => {
    const mark = sentAt();
    const start = t0 + 3n * HOUR;
    C = (await book(acct.borrowerC, L3, start, 4n)).b;
    const tx = await mined(
      w(acct.borrowerC).writeContract({ ...market, functionName: "cancel", args: [C.id] }),
    );
    ok(tx.ts + DAY > start && tx.ts < start, "cancelled after start − cancelCutoff, before start");
    const late = (C.price * 2000n) / BPS;
    const fee = (late * BigInt(C.feeBps)) / BPS;
    eq([late, fee], [300_000n, 7_500n], "20 % of 1.5 tUSD, 2.5 % of that");
    const ev = one(tx, "BookingCancelled");
    eq(
      [ev.args.refund, ev.args.lenderFee, ev.args.platformFee],
      [C.price - late, late - fee, fee],
      "late-cancel split",
    );
    eq(
      credits(tx),
      [
        [C.borrower, C.asset, C.price - late],
        [addr(acct.lender), C.asset, late - fee],
        [treasury, C.asset, fee],
      ],
      "borrower, lender and treasury are credited in the token",
    );
    Object.assign(C.f, {
      status: "Cancelled",
      cancelledAt: tx.ts,
      refund: C.price - late,
      lenderAmount: late - fee,
      platformFee: fee,
    });
    hostOf(C).openBookings--;
    ledger.refund(C, C.price - late);
    ledger.payout(C, late - fee, fee);
    days.push({ type: "cancelled", ts: tx.ts, model: modelOf(L3) });
    await indexAndCheck(mark);
    await expectBooking(C);
    eq(totalsOf(C.borrower, C.asset).spent, late, "C spent exactly the late fee");
  });

  let D: BookingModel;
  it("book → decline with a reason code while the market is paused: pause blocks booking but not the refund; full refund, a host decline", async () => {
    let mark = sentAt();
    D = (await book(acct.borrowerD, L1, t0 + HOUR, 4n)).b;
    await mined(w(acct.owner).writeContract({ ...market, functionName: "pause" }));
    await indexAndCheck(mark);
    eq(
      plain(indexer.store.get("Market", "market")?.get("paused") as StoreValue),
      true,
      "Market.paused after Paused",
    );
    await assert.rejects(
      pub.simulateContract({
        ...market,
        account: acct.borrowerD.account,
        functionName: "book",
        args: [
          L1.id,
          Number(t0 + 6n * HOUR),
          Number(t0 + 7n * HOUR),
          x25519PublicKey(),
          sshEd25519PublicKeyLine(),
        ],
        value: priceOf(L1.pricePerHour, HOUR),
      }),
      /EnforcedPause/,
    );
    mark = sentAt();
    const tx = await mined(
      w(acct.agent).writeContract({ ...market, functionName: "decline", args: [D.id, 6] }),
    );
    const ev = one(tx, "BookingDeclined");
    eq(
      [lower(ev.args.agent), ev.args.reason, ev.args.refund],
      [addr(acct.agent), 6, D.price],
      "decline: code 6, full refund",
    );
    eq(credits(tx), [[D.borrower, NATIVE, D.price]], "only the borrower is credited");
    Object.assign(D.f, { status: "Declined", declinedAt: tx.ts, declineReason: 6, refund: D.price });
    const h = hostOf(D);
    h.openBookings--;
    h.declines++;
    ledger.refund(D, D.price);
    days.push({ type: "declined", ts: tx.ts, model: modelOf(L1) });
    await mined(w(acct.owner).writeContract({ ...market, functionName: "unpause" }));
    await indexAndCheck(mark);
    await expectBooking(D);
    eq(hosts.get(H1)?.declines, 1, "host 1 declined once");
  });

  let A: BookingModel;
  let F: BookingModel;
  let G: BookingModel;
  let K: BookingModel;
  it("book → activate before the start: Active with activatedAt; a republication counts but keeps the activation time", async () => {
    const mark = sentAt();
    A = (await book(acct.borrowerA, L2, t0 + HOUR, 4n)).b;
    const first = await activate(A, acct.agent);
    await warpTo(first.ts + 60n); // a republication later than the activation
    await activate(A, acct.agent);
    F = (await book(acct.borrowerF, L1, t0 + 2n * HOUR, 8n)).b;
    await activate(F, acct.agent);
    G = (await book(acct.borrowerG, L2, t0 + 2n * HOUR, 6n)).b;
    await activate(G, acct.agent);
    K = (await book(acct.borrowerK, L4, t0 + HOUR, 4n)).b;
    await activate(K, acct.agent);
    eq([A.f.endpointPublications, F.f.endpointPublications], [2, 1], "A published twice, F once");
    ok((A.f.lastEndpointAt as bigint) > (A.f.activatedAt as bigint), "republished after the activation");
    await indexAndCheck(mark);
    for (const b of [A, F, G, K]) await expectBooking(b);
    eq(hosts.get(H1)?.openBookings, 4, "host 1 has A, F, G and K open");
  });

  let E: BookingModel;
  it("book on host 2 without activation: Booked, host 2 and the market count it open", async () => {
    const mark = sentAt();
    E = (await book(acct.borrowerE, L5, t0 + HOUR, 4n)).b;
    await indexAndCheck(mark);
    await expectBooking(E);
  });

  let H: BookingModel;
  let J: BookingModel;
  let I: BookingModel;
  it("listing price, terms, active and metadata updates and a fee change apply to later bookings only", async () => {
    const mark = sentAt();
    const lw = w(acct.lender);
    await mined(
      lw.writeContract({ ...market, functionName: "setListingPrice", args: [L1.id, 3n * 10n ** 16n] }),
    );
    L1.pricePerHour = 3n * 10n ** 16n;
    await mined(lw.writeContract({ ...market, functionName: "setListingTerms", args: [L1.id, 2, 48, 0] }));
    Object.assign(L1, { minSlots: 2, maxSlots: 48, leadTime: 0 });
    await setActive(L1, false);
    await indexAndCheck(mark);
    await expectListings();
    await assert.rejects(
      pub.simulateContract({
        ...market,
        account: acct.borrowerH.account,
        functionName: "book",
        args: [
          L1.id,
          Number(t0 + 4n * HOUR),
          Number(t0 + 5n * HOUR),
          x25519PublicKey(),
          sshEd25519PublicKeyLine(),
        ],
        value: priceOf(L1.pricePerHour, HOUR),
      }),
      /ListingInactive/,
    );
    const mark2 = sentAt();
    await setActive(L1, true);
    const cid = rawCid("listing 1, v2");
    await mined(lw.writeContract({ ...market, functionName: "setListingMetadata", args: [L1.id, cid] }));
    L1.metadataCid = cid;
    await mined(w(acct.owner).writeContract({ ...market, functionName: "setFee", args: [500] }));
    H = (await book(acct.borrowerH, L1, t0 + 4n * HOUR, 4n)).b;
    await activate(H, acct.agent);
    I = (await book(acct.borrowerI, L5, t0 + 2n * HOUR, 4n)).b;
    J = (await book(acct.borrowerJ, L2, t0 + 3n * HOUR + 30n * 60n, 6n)).b;
    await activate(J, acct.agent);
    eq(
      [H.price, H.feeBps, I.feeBps, J.feeBps],
      [3n * 10n ** 16n, 500, 500, 500],
      "H pays the new price; H, I and J carry the new fee",
    );
    eq(
      [A.feeBps, F.feeBps, G.feeBps, F.price],
      [250, 250, 250, 2n * 10n ** 16n],
      "earlier bookings keep fee and price",
    );
    await indexAndCheck(mark2);
    await expectListings();
    for (const b of [A, F, G, H, I, J, K]) await expectBooking(b);
  });

  it("requestEnd early → report → dispute → the (new) arbiter rules below the claim and slashes: Settled by the ruling, Dispute closed, host loses once", async () => {
    const T1 = t0 + 2n * HOUR + 30n * 60n;
    await warpTo(T1);
    const mark = sentAt();
    await mined(
      w(acct.owner).writeContract({ ...market, functionName: "setArbiter", args: [acct.arbiter2.address] }),
    );
    arbiter = addr(acct.arbiter2);
    const end = await mined(
      w(acct.borrowerF).writeContract({ ...market, functionName: "endSession", args: [F.id] }),
    );
    eq(one(end, "SessionEndRequested").args.endedAt, end.ts, "endedAt is the block time");
    F.f.endedAt = end.ts;
    const used = end.ts - F.start; // full use of the shortened session
    const rcid = reportCid(F.id, Number(used));
    const rep = await mined(
      w(acct.agent).writeContract({ ...market, functionName: "report", args: [F.id, Number(used), rcid] }),
    );
    Object.assign(F.f, { status: "Reported", reportedAt: rep.ts, usedSeconds: used, reportCid: rcid });
    await indexer.syncTo();
    await expectBooking(F);
    const why = rawCid("F: the GPU was throttled");
    const dis = await mined(
      w(acct.borrowerF).writeContract({ ...market, functionName: "dispute", args: [F.id, why] }),
    );
    eq(one(dis, "BookingDisputed").args.claimedSeconds, used, "the claim is the report");
    Object.assign(F.f, {
      status: "Disputed",
      disputedAt: dis.ts,
      disputeReasonCid: why,
      dispute: F.id.toString(),
    });
    await indexer.syncTo();
    await expectBooking(F);
    const open: Fields = {
      id: F.id.toString(),
      booking: F.id.toString(),
      borrower: F.borrower,
      host: F.listing.host.toString(),
      claimedSeconds: used,
      reasonCid: why,
      openedAt: dis.ts,
      resolved: false,
      arbiter: null,
      fallback: null,
      ruledSeconds: null,
      slash: null,
      resolvedAt: null,
      hostLost: null,
    };
    expectEntity("Dispute", F.id.toString(), open);

    const ruled = used / 2n;
    const slash = 5n * 10n ** 16n;
    const res = await mined(
      w(acct.arbiter2).writeContract({
        ...market,
        functionName: "resolveDispute",
        args: [F.id, Number(ruled), slash],
      }),
    );
    eq(
      names(res),
      ["DisputeResolved", "BondSlashed", "Credited", "BookingSettled", "Credited", "Credited", "Credited"],
      "a ruling: resolved, slash and its credit, settlement and its three credits",
    );
    const r = one(res, "DisputeResolved");
    eq([lower(r.args.arbiter), r.args.usedSeconds, r.args.slash], [arbiter, ruled, slash], "DisputeResolved");
    const h1 = hostOf(F);
    h1.disputesLost++; // ruled below the claim and slashed
    ledger.slash(F, slash);
    eq(one(res, "BondSlashed").args.bond, h1.bond, "bond after the slash");
    const s = settled(F, res, ruled);
    const treasuryCredits = credits(res).filter(([acc]) => acc === treasury);
    eq(treasuryCredits, [[treasury, NATIVE, s.fee]], "the platform fee goes to the treasury of the moment");
    ok(h1.bond < 10n ** 18n, "the slash took host 1 below the minimum bond");
    const top = await mined(
      w(acct.lender).writeContract({ ...market, functionName: "depositBond", args: [H1], value: slash }),
    );
    h1.bond += slash;
    eq(one(top, "BondDeposited").args.bond, 10n ** 18n, "topped up to the minimum again");
    await indexAndCheck(mark);
    await expectBooking(F);
    eq(
      [h1.disputesLost, h1.slashed, h1.completed, h1.secondsServed],
      [1, slash, 1, ruled],
      "host 1 after the ruling",
    );
    expectEntity("Dispute", F.id.toString(), {
      ...open,
      resolved: true,
      arbiter,
      fallback: false,
      ruledSeconds: ruled,
      slash,
      resolvedAt: res.ts,
      hostLost: true,
    });
  });

  it("dispute of an unreported session → the arbiter upholds the full-use claim without a slash: Settled at the claim, the host does not lose", async () => {
    const mark = sentAt();
    const why = rawCid("K: slow network");
    const dis = await mined(
      w(acct.borrowerK).writeContract({ ...market, functionName: "dispute", args: [K.id, why] }),
    );
    const full = K.end - K.start;
    eq(one(dis, "BookingDisputed").args.claimedSeconds, full, "unreported: the claim is the whole session");
    Object.assign(K.f, {
      status: "Disputed",
      disputedAt: dis.ts,
      usedSeconds: full,
      disputeReasonCid: why,
      dispute: K.id.toString(),
    });
    const res = await mined(
      w(acct.arbiter2).writeContract({
        ...market,
        functionName: "resolveDispute",
        args: [K.id, Number(full), 0n],
      }),
    );
    eq(
      names(res),
      ["DisputeResolved", "BookingSettled", "Credited", "Credited"],
      "no slash, no refund: lender and treasury credits only",
    );
    const s = settled(K, res, full);
    eq(s.refund, 0n, "the claim is full use");
    await indexAndCheck(mark);
    await expectBooking(K);
    expectEntity("Dispute", K.id.toString(), {
      id: K.id.toString(),
      booking: K.id.toString(),
      borrower: K.borrower,
      host: K.listing.host.toString(),
      claimedSeconds: full,
      reasonCid: why,
      openedAt: dis.ts,
      resolved: true,
      arbiter,
      fallback: false,
      ruledSeconds: full,
      slash: 0n,
      resolvedAt: res.ts,
      hostLost: false,
    });
    eq(hosts.get(H1)?.disputesLost, 1, "a ruling at the claim without a slash is no lost dispute");
  });

  it("no activation → claimNoShow after start + activation grace: NoShow, full refund plus the no-show slash from host 2's bond to the borrower", async () => {
    const mark = sentAt();
    const tx = await mined(
      w(acct.keeper).writeContract({ ...market, functionName: "claimNoShow", args: [E.id] }),
    );
    ok(tx.ts >= E.start + 600n, "after start + activation grace");
    eq(
      names(tx),
      ["NoShowClaimed", "BondSlashed", "Credited", "Credited"],
      "no-show: slash credit, then refund credit",
    );
    noShow(E, tx, addr(acct.keeper));
    eq(
      credits(tx),
      [
        [E.borrower, NATIVE, 10n ** 17n],
        [E.borrower, NATIVE, E.price],
      ],
      "slash and refund to E",
    );
    await indexAndCheck(mark);
    await expectBooking(E);
    const t = totalsOf(E.borrower, NATIVE);
    eq([t.slashReceived, t.spent, t.refunded], [10n ** 17n, 0n, E.price], "E's totals by the rules");
  });

  it("report after the session end: Reported with the usage, its CID and the report time", async () => {
    const mark = sentAt();
    const used = 3000n;
    const rcid = reportCid(A.id, Number(used));
    const tx = await mined(
      w(acct.agent).writeContract({ ...market, functionName: "report", args: [A.id, Number(used), rcid] }),
    );
    ok(tx.ts >= A.end && tx.ts < A.end + HOUR, "within [end, end + reportGrace)");
    Object.assign(A.f, { status: "Reported", reportedAt: tx.ts, usedSeconds: used, reportCid: rcid });
    await indexAndCheck(mark);
    await expectBooking(A);
  });

  it("dispute of an unreported session after its end claims full use; a new treasury is indexed", async () => {
    await warpTo(t0 + 5n * HOUR + 60n);
    const mark = sentAt();
    const why = rawCid("G: never got access");
    const tx = await mined(
      w(acct.borrowerG).writeContract({ ...market, functionName: "dispute", args: [G.id, why] }),
    );
    const full = G.end - G.start;
    eq(one(tx, "BookingDisputed").args.claimedSeconds, full, "unreported: the claim is the whole session");
    Object.assign(G.f, {
      status: "Disputed",
      disputedAt: tx.ts,
      usedSeconds: full,
      disputeReasonCid: why,
      dispute: G.id.toString(),
    });
    await mined(
      w(acct.owner).writeContract({ ...market, functionName: "setTreasury", args: [acct.treasury2.address] }),
    );
    treasury = addr(acct.treasury2);
    await indexAndCheck(mark);
    await expectBooking(G);
    expectEntity("Dispute", G.id.toString(), {
      id: G.id.toString(),
      booking: G.id.toString(),
      borrower: G.borrower,
      host: G.listing.host.toString(),
      claimedSeconds: full,
      reasonCid: why,
      openedAt: tx.ts,
      resolved: false,
      arbiter: null,
      fallback: null,
      ruledSeconds: null,
      slash: null,
      resolvedAt: null,
      hostLost: null,
    });
  });

  it("a report of zero use: Reported with usedSeconds 0", async () => {
    const mark = sentAt();
    const rcid = reportCid(J.id, 0);
    const tx = await mined(
      w(acct.agent).writeContract({ ...market, functionName: "report", args: [J.id, 0, rcid] }),
    );
    ok(tx.ts >= J.end && tx.ts < J.end + HOUR, "within [end, end + reportGrace)");
    Object.assign(J.f, { status: "Reported", reportedAt: tx.ts, usedSeconds: 0n, reportCid: rcid });
    await indexAndCheck(mark);
    await expectBooking(J);
  });

  it("settle by anyone after the dispute window: Settled with PricingLib's split, host completed and secondsServed", async () => {
    const T3 = t0 + DAY + 6n * HOUR + 60n;
    await warpTo(T3);
    const mark = sentAt();
    const tx = await mined(w(acct.keeper).writeContract({ ...market, functionName: "settle", args: [A.id] }));
    ok(tx.ts >= (A.f.reportedAt as bigint) + DAY, "after reportedAt + disputeWindow");
    eq(
      names(tx),
      ["BookingSettled", "Credited", "Credited", "Credited"],
      "settlement credits lender, treasury, borrower",
    );
    const s = settled(A, tx, 3000n);
    eq(
      credits(tx),
      [
        [addr(acct.lender), NATIVE, s.lender],
        [treasury, NATIVE, s.fee],
        [A.borrower, NATIVE, s.refund],
      ],
      "lender, the new treasury and the borrower are credited",
    );
    eq(s.lender + s.fee + s.refund, A.price, "the split adds up to the escrow");
    await indexAndCheck(mark);
    await expectBooking(A);
  });

  it("checkUpkeep finds exactly the ripe bookings; performUpkeep settles the unreported one (full use) and the zero-use one (all refunded, no completed session) and no-shows the unactivated one", async () => {
    const mark = sentAt();
    const [needed, data] = await pub.readContract({ ...market, functionName: "checkUpkeep", args: ["0x"] });
    const [ids] = decodeAbiParameters([{ type: "uint256[]" }], data);
    eq(
      [needed, [...ids]],
      [true, [H.id, I.id, J.id]],
      "H (Active past end + grace + window), I (Booked past grace), J (Reported past the window)",
    );
    const tx = await mined(
      w(acct.keeper).writeContract({ ...market, functionName: "performUpkeep", args: [data] }),
    );
    eq(
      names(tx),
      [
        "BookingSettled",
        "Credited",
        "Credited",
        "NoShowClaimed",
        "BondSlashed",
        "Credited",
        "Credited",
        "BookingSettled",
        "Credited",
      ],
      "H settled with no refund, I no-show, J settled with only a refund",
    );
    const s = settled(H, tx, H.end - H.start);
    eq([s.refund, s.fee], [0n, (H.price * 500n) / BPS], "full use: no refund, the booking's 5 % fee");
    noShow(I, tx, addr(acct.keeper));
    const completed = hostOf(J).completed;
    const z = settled(J, tx, 0n, 1);
    eq(
      [z.lender, z.fee, z.refund],
      [0n, 0n, J.price],
      "zero use: everything back, nothing to lender or treasury",
    );
    eq(hostOf(J).completed, completed, "a zero-use settlement is no completed session");
    await indexAndCheck(mark);
    await expectBooking(H);
    await expectBooking(I);
    await expectBooking(J);
    eq(
      [hosts.get(H2)?.noShows, hosts.get(H2)?.slashed],
      [2, 2n * 10n ** 17n],
      "host 2: two no-shows slashed",
    );
  });

  it("lender, both treasuries and a borrower withdraw their credits in one block: Withdrawal entities, balances back to 0 = credits()", async () => {
    const mark = sentAt();
    const out = await withdrawInOneBlock([
      [acct.lender, NATIVE],
      [acct.lender, lower(token)],
      [acct.treasury2, NATIVE],
      [acct.owner, NATIVE],
      [acct.owner, lower(token)],
      [acct.borrowerA, NATIVE],
    ]);
    await indexAndCheck(mark);
    for (const { tx, amount, logIndex } of out) {
      const [account, asset] = [tx.from, lower(one(tx, "Withdrawn").args.asset)];
      const id = eventId(tx.hash, logIndex);
      expectEntity("Withdrawal", id, {
        id,
        account,
        asset,
        amount,
        timestamp: tx.ts,
        blockNumber: tx.block,
        txHash: tx.hash,
      });
      eq(ledger.withdrawable(account, asset), 0n, `${account} has nothing left in ${asset}`);
    }
    eq(indexer.store.all("Withdrawal").length, out.length, "one Withdrawal per Withdrawn");
  });

  let unlockAt: bigint;
  it("bond: requestUnbond blocks new bookings, cancelUnbond resets unbondAt, a second requestUnbond sets it again", async () => {
    const mark = sentAt();
    const lw = w(acct.lender2);
    const h2 = hosts.get(H2) as HostModel;
    const r1 = await mined(lw.writeContract({ ...market, functionName: "requestUnbond", args: [H2] }));
    eq(one(r1, "UnbondRequested").args.unlocksAt, r1.ts + 604800n, "unlocks after the unbonding delay");
    h2.unbondAt = r1.ts + 604800n;
    await indexer.syncTo();
    await expectHosts();
    const start = ((r1.ts + 3n * HOUR) / SLOT) * SLOT;
    await assert.rejects(
      pub.simulateContract({
        ...market,
        account: acct.borrowerI.account,
        functionName: "book",
        args: [L5.id, Number(start), Number(start + HOUR), x25519PublicKey(), sshEd25519PublicKeyLine()],
        value: priceOf(L5.pricePerHour, HOUR),
      }),
      /HostUnbonding/,
    );
    await mined(lw.writeContract({ ...market, functionName: "cancelUnbond", args: [H2] }));
    h2.unbondAt = 0n;
    await indexer.syncTo();
    await expectHosts();
    const r2 = await mined(lw.writeContract({ ...market, functionName: "requestUnbond", args: [H2] }));
    h2.unbondAt = r2.ts + 604800n;
    unlockAt = h2.unbondAt;
    await indexAndCheck(mark);
  });

  it("listed hours: a listing active across two UTC midnights with no event between is credited to each day it spanned; an unchanged ListingActiveSet moves nothing", async () => {
    const mark = sentAt();
    const created = ((await chainNow()) / DAY + 1n) * DAY - HOUR; // 23:00 UTC
    const day0 = created / DAY;
    await testClient.setNextBlockTimestamp({ timestamp: created });
    const L6 = await createListing(
      acct.lender,
      H1,
      {
        gpuModel: "NVIDIA H200",
        gpuCount: 8,
        vramMiBPerGpu: 143771,
        cpuCores: 128,
        ramMiB: 1048576,
        diskGiB: 2000,
        region: "us-east",
        confidential: 0,
      },
      NATIVE,
      false,
      20n * 10n ** 18n,
    );
    eq(L6.createdAt, created, "created at 23:00:00");
    // Two midnights pass without a block.
    const off = (day0 + 2n) * DAY + HOUR + 30n * 60n; // 01:30 two days later
    await testClient.setNextBlockTimestamp({ timestamp: off });
    const offTx = await setActive(L6, false);
    eq(offTx.ts, off, "turned off at 01:30:00");
    const again = await setActive(L6, false);
    ok(again.block > offTx.block, "turned off again, in a later block");
    // On 02:00 → 03:15 (accrued when turned off), off 03:15 → 03:45, then on for good.
    const at = async (ts: bigint, active: boolean) => {
      await testClient.setNextBlockTimestamp({ timestamp: ts });
      eq(
        (await setActive(L6, active)).ts,
        ts,
        `turned ${active ? "on" : "off"} at ${ts % DAY} s past midnight`,
      );
    };
    const on = (day0 + 2n) * DAY + 3n * HOUR + 45n * 60n;
    await at((day0 + 2n) * DAY + 2n * HOUR, true);
    await at((day0 + 2n) * DAY + 3n * HOUR + 15n * 60n, false);
    await at(on, true);
    await indexAndCheck(mark);
    await expectListings();

    const model = "NVIDIA H200";
    const row = (day: bigint, listingsCreated: number, hoursListed: string, gpuHoursListed: string) => ({
      id: `${model}-${day}`,
      gpuModel: model,
      model,
      day: Number(day),
      date: day * DAY,
      listingsCreated,
      bookings: 0,
      hoursBooked: "0",
      gpuHoursBooked: "0",
      settled: 0,
      secondsServed: 0n,
      cancelled: 0,
      declined: 0,
      noShows: 0,
      hoursListed,
      gpuHoursListed,
    });
    expectEntity("GpuModelDay", `${model}-${day0}`, row(day0, 1, "1", "8")); // 23:00 → 24:00
    expectEntity("GpuModelDay", `${model}-${day0 + 1n}`, row(day0 + 1n, 0, "24", "192")); // the whole day
    expectEntity("GpuModelDay", `${model}-${day0 + 2n}`, row(day0 + 2n, 0, "2.75", "22")); // 00:00 → 01:30, 02:00 → 03:15
    expectEntity("GpuModel", model, {
      id: model,
      activeListings: 1,
      activeGpus: 8,
      listings: 1,
      accruedThrough: on,
    });
    eq(
      indexer.store
        .all("GpuModelDay")
        .map((e) => plain(e.get("id") as StoreValue))
        .filter((id) => (id as string).startsWith(`${model}-`)),
      [0n, 1n, 2n].map((k) => `${model}-${day0 + k}`),
      "no day after the model's latest event: 03:45 onwards is accrued at its next event (there is none)",
    );
  });

  it("a dispute the arbiter leaves past its deadline is settled by the fallback: the claim stands, no slash, the host does not lose", async () => {
    await warpTo(
      (unlockAt > (G.f.disputedAt as bigint) + 604800n ? unlockAt : (G.f.disputedAt as bigint) + 604800n) +
        60n,
    );
    const mark = sentAt();
    const tx = await mined(w(acct.keeper).writeContract({ ...market, functionName: "settle", args: [G.id] }));
    eq(
      names(tx),
      ["DisputeResolved", "BookingSettled", "Credited", "Credited"],
      "fallback: resolved, settled, 2 credits",
    );
    const r = one(tx, "DisputeResolved");
    const claim = G.end - G.start;
    eq(
      [lower(r.args.arbiter), r.args.usedSeconds, r.args.slash],
      [NATIVE, claim, 0n],
      "arbiter 0, the claim, no slash",
    );
    const s = settled(G, tx, claim);
    eq(s.refund, 0n, "full use: nothing back");
    await indexAndCheck(mark);
    await expectBooking(G);
    expectEntity("Dispute", G.id.toString(), {
      id: G.id.toString(),
      booking: G.id.toString(),
      borrower: G.borrower,
      host: G.listing.host.toString(),
      claimedSeconds: claim,
      reasonCid: G.f.disputeReasonCid as string,
      openedAt: G.f.disputedAt as bigint,
      resolved: true,
      arbiter: null,
      fallback: true,
      ruledSeconds: claim,
      slash: 0n,
      resolvedAt: tx.ts,
      hostLost: false,
    });
    eq(hosts.get(H1)?.disputesLost, 1, "the fallback is no lost dispute");
  });

  it("withdrawBond after the unbonding delay with no open bookings, in two parts, down to 0", async () => {
    const mark = sentAt();
    const h2 = hosts.get(H2) as HostModel;
    eq(h2.bond, 2n * 10n ** 18n + 3n * 10n ** 17n - 2n * 10n ** 17n, "registration + deposit − two slashes");
    const lw = w(acct.lender2);
    const before = await pub.getBalance({ address: acct.lender2.address });
    const w1 = await mined(
      lw.writeContract({ ...market, functionName: "withdrawBond", args: [H2, 10n ** 18n] }),
    );
    h2.bond -= 10n ** 18n;
    eq(
      [one(w1, "BondWithdrawn").args.amount, one(w1, "BondWithdrawn").args.bond],
      [10n ** 18n, h2.bond],
      "first part",
    );
    const rest = h2.bond;
    const w2 = await mined(lw.writeContract({ ...market, functionName: "withdrawBond", args: [H2, rest] }));
    h2.bond = 0n;
    eq(one(w2, "BondWithdrawn").args.bond, 0n, "nothing left");
    const after = await pub.getBalance({ address: acct.lender2.address });
    ok(after > before + rest, "the bond reached the lender (less gas)");
    await indexAndCheck(mark);
  });

  it("owner configuration: USD feed bound, asset disallowed, ownership transfer started and accepted", async () => {
    const mark = sentAt();
    const ow = w(acct.owner);
    await mined(ow.writeContract({ ...market, functionName: "setUsdFeed", args: [feed, 7200] }));
    await mined(ow.writeContract({ ...market, functionName: "setAssetAllowed", args: [token, false] }));
    assetOf(lower(token)).allowed = false;
    await mined(
      ow.writeContract({ ...market, functionName: "transferOwnership", args: [acct.owner2.address] }),
    );
    await indexer.syncTo();
    await expectMarket();
    await mined(w(acct.owner2).writeContract({ ...market, functionName: "acceptOwnership" }));
    await indexAndCheck(mark);
    const m = indexer.store.get("Market", "market");
    eq(
      [
        plain(m?.get("owner") as StoreValue),
        m?.get("pendingOwner"),
        plain(m?.get("usdFeedMaxAge") as StoreValue),
      ],
      [addr(acct.owner2), undefined, 7200n],
      "new owner, no pending owner, the new staleness bound",
    );
  });

  it("the audit log is complete: one MarketEvent per market log on chain, id = txHash ++ logIndex (4 bytes LE), in chain order", async () => {
    await indexer.syncTo();
    const logs = await allMarketLogs();
    const events = indexer.store.all("MarketEvent");
    eq(events.length, logs.length, "as many MarketEvents as market logs since the start block");
    eq(indexer.handled, logs.length, "a handler ran for every log");
    const ids = events.map((e) => plain(e.get("id") as StoreValue));
    eq(new Set(ids).size, ids.length, "ids are unique");
    eq(
      ids.sort(),
      logs.map((l) => eventId(l.transactionHash, l.logIndex)).sort(),
      "every log maps to exactly its id",
    );
    const order = events.map((e) => [
      plain(e.get("blockNumber") as StoreValue),
      plain(e.get("logIndex") as StoreValue),
    ]);
    eq(
      order,
      logs.map((l) => [l.blockNumber, BigInt(l.logIndex)]),
      "stored in chain order",
    );
    // Every field of every entry, against its transaction's receipt (also those of the deployment and seed).
    await expectAudit([...new Set(logs.map((l) => l.transactionHash))]);
    const kinds = new Set(events.map((e) => plain(e.get("kind") as StoreValue)));
    eq(
      [...kinds].sort(),
      [
        "AgentChanged",
        "ArbiterSet",
        "AssetAllowed",
        "BondDeposited",
        "BondSlashed",
        "BondWithdrawn",
        "Booked",
        "BookingCancelled",
        "BookingDeclined",
        "BookingDisputed",
        "BookingSettled",
        "Credited",
        "DisputeResolved",
        "EndpointPublished",
        "FeeSet",
        "HostMetadataUpdated",
        "HostRegistered",
        "ListingActiveSet",
        "ListingCreated",
        "ListingMetadataUpdated",
        "ListingPriceUpdated",
        "ListingTermsUpdated",
        "NoShowClaimed",
        "OwnershipTransferStarted",
        "OwnershipTransferred",
        "Paused",
        "SessionEndRequested",
        "TreasurySet",
        "UnbondCancelled",
        "UnbondRequested",
        "Unpaused",
        "UsageReported",
        "UsdFeedSet",
        "Withdrawn",
      ],
      "all 34 event kinds were exercised and indexed",
    );
  });

  it("every Account: one per lender, agent, borrower, treasury, arbiter and credited account, with its first-seen time and booking count", async () => {
    const logs = await allMarketLogs();
    const expected = new Map<string, { firstSeenAt: bigint; bookingCount: number }>();
    for (const log of logs) {
      const a = log.args as Record<string, unknown>;
      const mentions: Record<string, string[]> = {
        HostRegistered: ["lender", "agent"],
        AgentChanged: ["newAgent"],
        Booked: ["borrower"],
        TreasurySet: ["treasury"],
        ArbiterSet: ["arbiter"],
        Credited: ["account"],
        Withdrawn: ["account"],
        BondSlashed: ["to"],
      };
      for (const k of mentions[log.eventName] ?? []) {
        const who = lower(a[k] as string);
        if (!expected.has(who)) {
          const blk = await pub.getBlock({ blockNumber: log.blockNumber });
          expected.set(who, { firstSeenAt: blk.timestamp, bookingCount: 0 });
        }
      }
      if (log.eventName === "Booked") {
        const x = expected.get(lower(log.args.borrower));
        if (x) x.bookingCount++;
      }
    }
    eq(
      indexer.store
        .all("Account")
        .map((e) => plain(e.get("id") as StoreValue))
        .sort(),
      [...expected.keys()].sort(),
      "exactly these accounts",
    );
    for (const [id, x] of expected) expectEntity("Account", id, { id, ...x });
    for (const b of bookings.values())
      eq(expected.get(b.borrower)?.bookingCount, 1, "one booking per path borrower");
  });

  it("GpuModel, GpuModelDay and GpuModelDayAsset equal an independent aggregate of every listing, activity change, booking and outcome by UTC day", () => {
    const dayOf = (ts: bigint) => ts / DAY;
    const dayRows = new Map<string, Fields & { hours: bigint; gpuSeconds: bigint }>();
    /** Listed hours and GPU-hours of each day row, as BigDecimal sums. */
    const listed = new Map<string, { hours: Dec; gpuHours: Dec }>();
    const ZERO_DEC: Dec = { digits: 0n, exp: 0n };
    const assetRows = new Map<string, Fields & { seconds: bigint; gpuSeconds: bigint; vol: bigint }>();
    const dayRow = (model: string, ts: bigint) => {
      const id = `${model}-${dayOf(ts)}`;
      let r = dayRows.get(id);
      if (!r) {
        r = {
          id,
          gpuModel: model,
          day: Number(dayOf(ts)),
          date: dayOf(ts) * DAY,
          listingsCreated: 0,
          bookings: 0,
          hoursBooked: "0",
          gpuHoursBooked: "0",
          settled: 0,
          secondsServed: 0n,
          cancelled: 0,
          declined: 0,
          noShows: 0,
          model,
          hoursListed: "0",
          gpuHoursListed: "0",
          hours: 0n,
          gpuSeconds: 0n,
        };
        dayRows.set(id, r);
      }
      return r;
    };
    const assetRow = (day: string, kind: string, asset: Hex) => {
      const id = `${day}-${kind}-${asset}`;
      let r = assetRows.get(id);
      if (!r) {
        r = {
          id,
          day,
          kind,
          asset,
          bookings: 0,
          hoursBooked: "0",
          volume: 0n,
          avgPricePerHour: "0",
          avgPricePerGpuHour: "0",
          gpuHoursBooked: "0",
          revenue: 0n,
          seconds: 0n,
          gpuSeconds: 0n,
          vol: 0n,
        };
        assetRows.set(id, r);
      }
      return r;
    };
    // Listed hours: each model's events in chain order; before each, [accruedThrough, event) is credited to the days
    // it spans, activeListings × seconds / 3600 per day (activeGpus for GPU-hours), one BigDecimal quotient each.
    const models = new Map<
      string,
      { activeListings: number; activeGpus: number; listings: number; accruedThrough: bigint }
    >();
    let midnightsCrossed = 0;
    for (const rec of [...days].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))) {
      let m = models.get(rec.model);
      if (!m) {
        m = { activeListings: 0, activeGpus: 0, listings: 0, accruedThrough: rec.ts };
        models.set(rec.model, m);
      }
      if (m.activeListings > 0) {
        for (let from = m.accruedThrough; from < rec.ts; ) {
          const until = (dayOf(from) + 1n) * DAY < rec.ts ? (dayOf(from) + 1n) * DAY : rec.ts;
          if (until < rec.ts) midnightsCrossed++;
          const id = dayRow(rec.model, from).id as string;
          const l = listed.get(id) ?? { hours: ZERO_DEC, gpuHours: ZERO_DEC };
          listed.set(id, {
            hours: plus(l.hours, quotient(BigInt(m.activeListings) * (until - from), HOUR)),
            gpuHours: plus(l.gpuHours, quotient(BigInt(m.activeGpus) * (until - from), HOUR)),
          });
          from = until;
        }
      }
      m.accruedThrough = rec.ts;
      if (rec.type === "listing") {
        m.listings++;
        m.activeListings++;
        m.activeGpus += rec.gpuCount;
      }
      if (rec.type === "active") {
        m.activeListings += rec.active ? 1 : -1;
        m.activeGpus += (rec.active ? 1 : -1) * rec.gpuCount;
      }
    }
    ok(midnightsCrossed >= 3, "listed time crossed UTC midnights without events (seed day, t0 → T3, H200)");
    eq(
      indexer.store
        .all("GpuModel")
        .map((e) => plain(e.get("id") as StoreValue))
        .sort(),
      [...models.keys()].sort(),
      "a GpuModel for each model listed",
    );
    for (const [id, m] of models) expectEntity("GpuModel", id, { id, ...m });
    eq(
      [...listings.values()].filter((l) => l.active).length,
      [...models.values()].reduce((s, m) => s + m.activeListings, 0),
      "the active listings of the models add up to the active listings",
    );
    for (const rec of days) {
      const d = dayRow(rec.model, rec.ts);
      switch (rec.type) {
        case "listing":
          (d.listingsCreated as number)++;
          break;
        case "active":
          break;
        case "cancelled":
        case "declined":
        case "noShows":
          (d[rec.type] as number)++;
          break;
        case "book": {
          (d.bookings as number)++;
          d.hours += rec.seconds;
          d.gpuSeconds += rec.seconds * BigInt(rec.gpuCount);
          const a = assetRow(d.id as string, rec.kind, rec.asset);
          (a.bookings as number)++;
          a.seconds += rec.seconds;
          a.gpuSeconds += rec.seconds * BigInt(rec.gpuCount);
          a.vol += rec.price;
          break;
        }
        case "settle": {
          if (rec.used !== 0n) (d.settled as number)++;
          d.secondsServed = (d.secondsServed as bigint) + rec.used;
          const a = assetRow(d.id as string, rec.kind, rec.asset);
          a.revenue = (a.revenue as bigint) + rec.revenue;
          break;
        }
      }
    }
    eq(
      indexer.store
        .all("GpuModelDay")
        .map((e) => plain(e.get("id") as StoreValue))
        .sort(),
      [...dayRows.keys()].sort(),
      "a GpuModelDay for each (model, day) with activity or listed hours",
    );
    for (const { hours, gpuSeconds, ...r } of dayRows.values()) {
      const l = listed.get(r.id as string) ?? { hours: ZERO_DEC, gpuHours: ZERO_DEC };
      expectEntity("GpuModelDay", r.id as string, {
        ...r,
        hoursBooked: dec(hours, HOUR),
        gpuHoursBooked: dec(gpuSeconds, HOUR),
        hoursListed: decString(l.hours.digits, l.hours.exp),
        gpuHoursListed: decString(l.gpuHours.digits, l.gpuHours.exp),
      });
    }
    eq(
      indexer.store
        .all("GpuModelDayAsset")
        .map((e) => plain(e.get("id") as StoreValue))
        .sort(),
      [...assetRows.keys()].sort(),
      "a GpuModelDayAsset for each (model, day, kind, asset) with bookings or settlements",
    );
    for (const { seconds, gpuSeconds, vol, ...r } of assetRows.values()) {
      expectEntity("GpuModelDayAsset", r.id as string, {
        ...r,
        volume: vol,
        hoursBooked: dec(seconds, HOUR),
        gpuHoursBooked: dec(gpuSeconds, HOUR),
        avgPricePerHour: seconds === 0n ? "0" : dec(vol * HOUR, seconds),
        avgPricePerGpuHour: gpuSeconds === 0n ? "0" : dec(vol * HOUR, gpuSeconds),
      });
    }
    // The t0 day saw every booking: spot-check the GPU listing whose odd price rounds.
    const h100 = assetRows.get(`NVIDIA H100 80GB HBM3-${dayOf(t0)}-Native-${NATIVE}`);
    eq(h100?.vol, A.price + G.price + J.price, "H100 volume = A + G + J escrows");
    eq(
      [A.price, G.price, J.price],
      [1_234_567_890_123_456_789n, 1_851_851_835_185_185_184n, 1_851_851_835_185_185_184n],
      "ceil-rounded prices of 1 h and 1.5 h",
    );
  });
});
