// A realistic market history for benchmarks, generated quickly on a running local stack (anvil + the deployed
// market). SYNTHETIC: the hosts, GPU listings and borrowers below exist only on the benchmark's throwaway anvil
// chain, and every host and listing says so in its metadata document.
//
// How it is fast: automine is off; time advances in ticks of one calendar slot (15 minutes); each tick's
// transactions are signed here with explicit nonces (one sequence per sender), sent in one JSON-RPC batch, and
// mined together with `evm_mine <timestamp>` (more blocks when they do not fit in one). Each tick's receipts are
// then checked: any revert is an error naming the call. Transactions of one tick never depend on each other;
// everything that depends on a transaction is scheduled in a later tick, from what its receipt says (booking ids,
// report and dispute times).
//
// Every booking goes through the contract's real paths (contracts/src/interfaces/IMarket.sol, DESIGN.md "Booking
// life"): book → activate (sometimes re-published) → report → settle (by the lender, or by a keeper's
// performUpkeep), with early ends, unreported sessions, free and late cancellations, cancellations after
// activation, declines, no-shows (claimed by the borrower or the keeper), disputes resolved by the arbiter (some
// with a bond slash) and disputes settled by the fallback after the arbiter deadline. Around them: hosts register
// (two join later), top up bonds after slashes, change prices and terms, pause listings for maintenance, one host
// unbonds and comes back, and everybody withdraws their credits from time to time.
import { pbkdf2Sync } from "node:crypto";
import {
  type Deployment,
  marketAbi,
  mockV3AggregatorAbi,
  rawCid,
  seededRandom,
  testTokenAbi,
} from "@computehive/sdk";
import {
  type AbiEvent,
  type Address,
  decodeErrorResult,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  type Hex,
  maxUint256,
  parseEther,
  parseGwei,
  toEventSelector,
  zeroAddress,
} from "viem";
import { type HDAccount, HDKey, hdKeyToAccount } from "viem/accounts";
import { ANVIL_MNEMONIC, devAccount } from "./accounts.ts";
import { encryptedEndpoint, reportCid, sshEd25519PublicKeyLine, x25519PublicKey } from "./payloads.ts";

export interface MarketHistoryOptions {
  rpcUrl: string;
  deployment: Deployment;
  /** Market events the generator's own transactions emit, at least (default 20,000). */
  targetEvents?: number;
  /** Days of chain time the history spans, at least (default 40). */
  days?: number;
  /** Expected bookings per day over all listings of the initial hosts (default 95). */
  bookingsPerDay?: number;
  /** Seed of the pseudo-random choices: the same seed gives the same history (default 1). */
  seed?: number;
  /** Progress lines (the bench prints them on stderr). */
  log?: (line: string) => void;
}

export type Fate =
  | "settled"
  | "endedEarly"
  | "unreported"
  | "cancelled"
  | "cancelledLate"
  | "cancelledAfterActivation"
  | "declined"
  | "noShow"
  | "disputedRuled"
  | "disputedUnreported"
  | "disputedFallback";

export const FATES: readonly Fate[] = [
  "settled",
  "endedEarly",
  "unreported",
  "cancelled",
  "cancelledLate",
  "cancelledAfterActivation",
  "declined",
  "noShow",
  "disputedRuled",
  "disputedUnreported",
  "disputedFallback",
];

export interface HistoryHost {
  id: string;
  lender: Address;
  agent: Address;
  region: string;
  registeredAt: number;
}

export interface HistoryListing {
  id: string;
  hostId: string;
  /** As on chain; "" for the CPU-only listing (the subgraph aggregates it under "cpu"). */
  gpuModel: string;
  gpuCount: number;
  payment: "native" | "usd" | "token";
}

export interface HistoryBooking {
  id: string;
  listingId: string;
  hostId: string;
  borrower: Address;
  start: number;
  end: number;
  fate: Fate;
  /** The status the booking reached (IMarket's Status name); not terminal when the history ended first. */
  status: string;
}

export interface MarketHistory {
  /** Market events emitted by the generator's transactions (logs of the market address in their receipts). */
  events: number;
  eventsByKind: Record<string, number>;
  /** First and last block the generator mined. */
  fromBlock: bigint;
  toBlock: bigint;
  /** Their timestamps (unix seconds). */
  fromTime: number;
  toTime: number;
  blocks: number;
  transactions: number;
  hosts: HistoryHost[];
  listings: HistoryListing[];
  bookings: HistoryBooking[];
  /** How many bookings were planned for each fate (those still open at the end included). */
  fates: Record<Fate, number>;
  borrowers: number;
  /** Wall-clock seconds the generation took. */
  seconds: number;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* The synthetic catalogue                                                                                     */
/* ---------------------------------------------------------------------------------------------------------- */

// USD per GPU-hour, roughly what GPU clouds ask; native prices use ETH = 3,000 USD, token prices the local
// test token (6 decimals, "Test USD").
const GPUS = {
  H200: { model: "NVIDIA H200", vramMiB: 143771, usdPerHour: 3.49 },
  H100: { model: "NVIDIA H100 80GB HBM3", vramMiB: 81559, usdPerHour: 2.49 },
  A100: { model: "NVIDIA A100-SXM4-80GB", vramMiB: 81920, usdPerHour: 1.39 },
  L40S: { model: "NVIDIA L40S", vramMiB: 46068, usdPerHour: 0.86 },
  A6000: { model: "NVIDIA RTX A6000", vramMiB: 49140, usdPerHour: 0.49 },
  RTX4090: { model: "NVIDIA GeForce RTX 4090", vramMiB: 24564, usdPerHour: 0.39 },
} as const;
type GpuKey = keyof typeof GPUS;
const CPU_ONLY_USD_PER_HOUR = 0.12;
const ETH_USD = 3000;

type Payment = "native" | "usd" | "token";
interface ListingSpec {
  gpu: GpuKey | "cpu";
  count: number;
  pay: Payment;
  confidential?: 0 | 1 | 2;
}
interface HostSpec {
  region: string;
  /** Day of the history the host registers on (0: at the start). */
  joinDay: number;
  listings: ListingSpec[];
}

const HOSTS: HostSpec[] = [
  {
    region: "eu-west",
    joinDay: 0,
    listings: [
      { gpu: "H100", count: 8, pay: "native", confidential: 1 },
      { gpu: "H100", count: 4, pay: "native" },
      { gpu: "H100", count: 1, pay: "usd" },
      { gpu: "A100", count: 8, pay: "native" },
    ],
  },
  {
    region: "us-east",
    joinDay: 0,
    listings: [
      { gpu: "A100", count: 4, pay: "native" },
      { gpu: "A100", count: 1, pay: "native" },
      { gpu: "RTX4090", count: 2, pay: "token" },
      { gpu: "RTX4090", count: 1, pay: "native" },
    ],
  },
  {
    region: "us-west",
    joinDay: 0,
    listings: [
      { gpu: "H200", count: 8, pay: "native", confidential: 2 },
      { gpu: "H100", count: 2, pay: "usd" },
      { gpu: "L40S", count: 4, pay: "native" },
    ],
  },
  {
    region: "eu-central",
    joinDay: 0,
    listings: [
      { gpu: "RTX4090", count: 4, pay: "native" },
      { gpu: "RTX4090", count: 1, pay: "usd" },
      { gpu: "A6000", count: 2, pay: "native" },
    ],
  },
  {
    region: "ap-southeast",
    joinDay: 0,
    listings: [
      { gpu: "L40S", count: 1, pay: "native" },
      { gpu: "L40S", count: 8, pay: "token" },
      { gpu: "A100", count: 2, pay: "native" },
    ],
  },
  {
    region: "us-east",
    joinDay: 0,
    listings: [
      { gpu: "H100", count: 8, pay: "native" },
      { gpu: "H100", count: 1, pay: "native" },
      { gpu: "cpu", count: 0, pay: "native" },
    ],
  },
  {
    region: "eu-north",
    joinDay: 0,
    listings: [
      { gpu: "A6000", count: 1, pay: "native" },
      { gpu: "A6000", count: 4, pay: "native" },
      { gpu: "RTX4090", count: 8, pay: "token" },
    ],
  },
  {
    region: "sa-east",
    joinDay: 0,
    listings: [
      { gpu: "RTX4090", count: 1, pay: "native" },
      { gpu: "A100", count: 1, pay: "usd" },
      { gpu: "L40S", count: 2, pay: "native" },
    ],
  },
  {
    region: "us-central",
    joinDay: 9,
    listings: [
      { gpu: "H200", count: 1, pay: "native" },
      { gpu: "H200", count: 4, pay: "native" },
      { gpu: "H100", count: 8, pay: "token" },
    ],
  },
  {
    region: "eu-west",
    joinDay: 19,
    listings: [
      { gpu: "RTX4090", count: 2, pay: "native" },
      { gpu: "A100", count: 8, pay: "native" },
      { gpu: "L40S", count: 1, pay: "usd" },
    ],
  },
];

const BORROWERS = 64;
/** Host index (into HOSTS) that requests unbonding for a while. */
const UNBONDING_HOST = 7;

// anvil dev-account indices (anvil's mnemonic, m/44'/60'/0'/0/i): 0 is the local stack's deployer (owner,
// treasury, arbiter); 1-3 are the demo host and the dApp's borrower, left alone; the bench's own accounts start
// at 10 and are funded with anvil_setBalance.
const LENDER_BASE = 10;
const AGENT_BASE = 10 + HOSTS.length;
const KEEPER_INDEX = 10 + 2 * HOSTS.length;
const BORROWER_BASE = KEEPER_INDEX + 1;

/* ---------------------------------------------------------------------------------------------------------- */
/* Plumbing: JSON-RPC batches, accounts, randomness                                                            */
/* ---------------------------------------------------------------------------------------------------------- */

interface RpcCall {
  method: string;
  params: unknown[];
  /** Named in the error when the call fails. */
  what?: string;
}

/** Minimal JSON-RPC client: one HTTP request per batch (chunks of 500 calls). */
class JsonRpc {
  constructor(readonly url: string) {}

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const [r] = await this.batch<T>([{ method, params }]);
    return r as T;
  }

  async batch<T = unknown>(calls: RpcCall[]): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < calls.length; i += 500) {
      const chunk = calls.slice(i, i + 500);
      const res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          chunk.map((c, k) => ({ jsonrpc: "2.0", id: k, method: c.method, params: c.params })),
        ),
      });
      if (!res.ok)
        throw new Error(`${this.url}: HTTP ${res.status} for ${chunk[0]?.what ?? chunk[0]?.method}`);
      const replies = (await res.json()) as {
        id: number;
        result?: T;
        error?: { code: number; message: string };
      }[];
      const byId = new Map(replies.map((r) => [r.id, r]));
      for (const [k, c] of chunk.entries()) {
        const r = byId.get(k);
        if (!r) throw new Error(`no reply to ${c.what ?? c.method}`);
        if (r.error) throw new Error(`${c.what ?? c.method} failed: ${r.error.message}`);
        out.push(r.result as T);
      }
    }
    return out;
  }
}

interface Actor {
  index: number;
  role: string;
  address: Address;
  account: HDAccount;
  nonce: number;
}

/** anvil's dev accounts `indices`, derived as accounts.ts does (one seed computation for all of them). */
function deriveActors(roles: Map<number, string>): Map<number, Actor> {
  const seed = pbkdf2Sync(ANVIL_MNEMONIC.normalize("NFKD"), "mnemonic", 2048, 64, "sha512");
  const root = HDKey.fromMasterSeed(seed);
  const out = new Map<number, Actor>();
  for (const [index, role] of roles) {
    const account = hdKeyToAccount(root, { addressIndex: index });
    out.set(index, { index, role, address: account.address, account, nonce: 0 });
  }
  const first = out.values().next().value;
  if (first && first.address !== devAccount(first.index).address)
    throw new Error("account derivation disagrees with accounts.ts");
  return out;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* State of the simulation                                                                                     */
/* ---------------------------------------------------------------------------------------------------------- */

interface HostState {
  n: number;
  spec: HostSpec;
  lender: Actor;
  agent: Actor;
  id: bigint;
  registeredAt: number;
  bond: bigint;
  topUpPending: boolean;
  unbonding: boolean;
  listings: ListingState[];
  /** Tick of the day the lender withdraws its credits. */
  withdrawPhase: number;
}

interface ListingState {
  host: HostState;
  spec: ListingSpec;
  id: bigint;
  gpuModel: string;
  asset: Address;
  usdPriced: boolean;
  pricePerHour: bigint;
  minSlots: number;
  maxSlots: number;
  leadTime: number;
  active: boolean;
  /** Expected bookings per day. */
  rate: number;
  /** Calendar reserved up to here (unix seconds): new windows start at or after it. */
  cursor: number;
  /** Ticks at which a listing or host change is sent: no booking is sent in the same tick. */
  busy: Set<number>;
}

interface BookingState {
  id: bigint;
  listing: ListingState;
  borrower: Borrower;
  start: number;
  end: number;
  price: bigint;
  fate: Fate;
  status: string;
  bookedTick: number;
  endedAt?: number;
  used?: number;
}

interface Borrower {
  actor: Actor;
  sessionKey: Hex;
  sshKey: Hex;
  /** Relative share of the bookings (a few heavy users, many occasional ones). */
  weight: number;
}

/** One transaction to send in the current tick. */
interface Action {
  from: Actor;
  to: Address;
  data: Hex;
  value?: bigint;
  gas: bigint;
  /** Names the call in errors: "book listing 12 (borrower 0x…)". */
  what: string;
  onMined?: (m: Mined) => void;
}

interface RawLog {
  address: Address;
  topics: Hex[];
  data: Hex;
  transactionHash: Hex;
  logIndex: Hex;
}

interface Mined {
  hash: Hex;
  block: bigint;
  timestamp: number;
  logs: RawLog[];
}

const SLOT = 900; // one tick; checked against the deployment's slot length

/* ---------------------------------------------------------------------------------------------------------- */
/* The generator                                                                                               */
/* ---------------------------------------------------------------------------------------------------------- */

/**
 * Generates a market history on the local stack at `rpcUrl` (chain 31337, the market of `deployment`, deployed
 * by script/DeployMarket.s.sol with its defaults and anvil account 0 as owner, treasury and arbiter). Runs until
 * at least `days` of chain time have passed and the generator's transactions have emitted at least
 * `targetEvents` market events. Leaves automine on when it returns.
 */
export async function generateMarketHistory(opts: MarketHistoryOptions): Promise<MarketHistory> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const d = opts.deployment;
  const target = opts.targetEvents ?? 20_000;
  const days = opts.days ?? 40;
  const rand = seededRandom(opts.seed ?? 1);
  const rpc = new JsonRpc(opts.rpcUrl);
  const market = getAddress(d.market);
  const p = d.params;

  if (p.slotLength !== SLOT)
    throw new Error(`the history assumes 900-second slots, the market has ${p.slotLength}`);
  if (!d.usdFeed || !d.testToken)
    throw new Error("the history needs the local deployment's USD feed and test token (chain 31337)");
  const usdFeed = d.usdFeed;
  const token = d.testToken;

  // Accounts.
  const roles = new Map<number, string>([[0, "deployer, treasury, arbiter"]]);
  HOSTS.forEach((_, i) => {
    roles.set(LENDER_BASE + i, `lender ${i + 1}`);
    roles.set(AGENT_BASE + i, `agent ${i + 1}`);
  });
  roles.set(KEEPER_INDEX, "keeper");
  for (let i = 0; i < BORROWERS; i++) roles.set(BORROWER_BASE + i, `borrower ${i + 1}`);
  const actors = deriveActors(roles);
  const actor = (i: number) => actors.get(i) as Actor;
  const owner = actor(0);
  for (const [what, addr] of [
    ["arbiter", d.arbiter],
    ["treasury", d.treasury],
  ] as const) {
    if (getAddress(addr) !== owner.address)
      throw new Error(`the history needs the ${what} to be anvil account 0, the local stack's deployer`);
  }
  const keeper = actor(KEEPER_INDEX);
  const borrowers: Borrower[] = [];
  for (let i = 0; i < BORROWERS; i++) {
    borrowers.push({
      actor: actor(BORROWER_BASE + i),
      sessionKey: x25519PublicKey(),
      sshKey: sshEd25519PublicKeyLine(`borrower${i + 1}@bench`),
      weight: 1 / (i + 1) ** 0.7,
    });
  }
  const borrowerWeight = borrowers.reduce((s, b) => s + b.weight, 0);

  // Chain facts.
  const [feedRound, feedDecimals, latest] = await rpc.batch<Hex | { timestamp: Hex; number: Hex }>([
    {
      method: "eth_call",
      params: [
        {
          to: usdFeed,
          data: encodeFunctionData({ abi: mockV3AggregatorAbi, functionName: "latestRoundData" }),
        },
        "latest",
      ],
    },
    {
      method: "eth_call",
      params: [
        { to: usdFeed, data: encodeFunctionData({ abi: mockV3AggregatorAbi, functionName: "decimals" }) },
        "latest",
      ],
    },
    { method: "eth_getBlockByNumber", params: ["latest", false] },
  ]);
  const answer = BigInt(`0x${(feedRound as Hex).slice(2 + 64, 2 + 128)}`); // second word: int256 answer
  const decimals = Number(BigInt(feedDecimals as Hex));
  if (answer <= 0n) throw new Error("the USD feed answers no price");
  const head = latest as { timestamp: Hex; number: Hex };
  const t0 = Math.ceil((Number(BigInt(head.timestamp)) + SLOT) / SLOT) * SLOT;
  const timeOf = (tick: number) => t0 + tick * SLOT;
  /** The first tick at or after unix time t. */
  const tickAt = (t: number) => Math.max(0, Math.ceil((t - t0) / SLOT));
  const endTick = (days * 86400) / SLOT;

  // Prices: native wei, token units (6 decimals) or USD with 18 decimals, per hour of the whole listing.
  const usdPerHour = (s: ListingSpec) =>
    s.gpu === "cpu" ? CPU_ONLY_USD_PER_HOUR : GPUS[s.gpu].usdPerHour * s.count * (0.85 + rand() * 0.35);
  const priceFor = (s: ListingSpec, usd: number): bigint => {
    const micro = BigInt(Math.round(usd * 1e6)); // USD with 6 decimals
    if (s.pay === "token") return micro;
    if (s.pay === "usd") return micro * 10n ** 12n;
    return (micro * 10n ** 12n) / BigInt(ETH_USD);
  };
  const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
  /** What `book` charges (PricingLib.price / usdToWei) for `seconds` of the listing. */
  const chargeFor = (l: ListingState, seconds: number): bigint =>
    l.usdPriced
      ? ceilDiv(l.pricePerHour * BigInt(seconds) * 10n ** BigInt(decimals), 3600n * answer)
      : ceilDiv(l.pricePerHour * BigInt(seconds), 3600n);

  // Hosts and listings (ids are filled in from the receipts).
  const hosts: HostState[] = HOSTS.map((spec, n) => ({
    n,
    spec,
    lender: actor(LENDER_BASE + n),
    agent: actor(AGENT_BASE + n),
    id: 0n,
    registeredAt: 0,
    bond: 0n,
    topUpPending: false,
    unbonding: false,
    listings: [],
    withdrawPhase: Math.floor(rand() * 96),
  }));
  const rateOf = (s: ListingSpec) =>
    s.gpu === "cpu" ? 2 : s.count >= 8 ? 1.8 : s.count >= 4 ? 2.8 : s.count >= 2 ? 3.5 : 4.5;
  for (const h of hosts) {
    for (const s of h.spec.listings) {
      const l: ListingState = {
        host: h,
        spec: s,
        id: 0n,
        gpuModel: s.gpu === "cpu" ? "" : GPUS[s.gpu].model,
        asset: s.pay === "token" ? token : zeroAddress,
        usdPriced: s.pay === "usd",
        pricePerHour: priceFor(s, usdPerHour(s)),
        minSlots: s.count >= 8 ? 8 : 4,
        maxSlots: 96,
        leadTime: s.count >= 8 ? 3600 : 0,
        active: false,
        rate: rateOf(s),
        cursor: 0,
        busy: new Set(),
      };
      h.listings.push(l);
    }
  }
  const initialRate = hosts
    .filter((h) => h.spec.joinDay === 0)
    .flatMap((h) => h.listings)
    .reduce((s, l) => s + l.rate, 0);
  const rateScale = (opts.bookingsPerDay ?? 95) / initialRate;
  const allListings = () => hosts.flatMap((h) => h.listings);

  // Bookkeeping from the receipts.
  const eventName = new Map<string, string>();
  for (const item of marketAbi) {
    if (item.type === "event") eventName.set(toEventSelector(item as AbiEvent), item.name);
  }
  const topicOf = (name: string) => {
    for (const [t, n] of eventName) if (n === name) return t;
    throw new Error(`no event ${name} in the ABI`);
  };
  const T = {
    HostRegistered: topicOf("HostRegistered"),
    ListingCreated: topicOf("ListingCreated"),
    Booked: topicOf("Booked"),
    Credited: topicOf("Credited"),
    Withdrawn: topicOf("Withdrawn"),
    BondSlashed: topicOf("BondSlashed"),
    BondDeposited: topicOf("BondDeposited"),
    BookingSettled: topicOf("BookingSettled"),
    NoShowClaimed: topicOf("NoShowClaimed"),
    SessionEndRequested: topicOf("SessionEndRequested"),
  };
  const eventsByKind: Record<string, number> = {};
  let events = 0;
  let transactions = 0;
  let blocks = 0;
  let fromBlock = -1n;
  let toBlock = -1n;
  let fromTime = 0;
  let toTime = 0;
  const credits = new Map<string, bigint>(); // account ++ asset → withdrawable
  const creditKey = (account: Address, asset: Address) => `${account.toLowerCase()}${asset.toLowerCase()}`;
  const creditOf = (account: Address, asset: Address) => credits.get(creditKey(account, asset)) ?? 0n;
  const hostById = new Map<bigint, HostState>();
  const topicAddress = (t: Hex | undefined) => getAddress(`0x${(t ?? "0x").slice(26)}`);
  const word = (data: Hex, i: number) => BigInt(`0x${data.slice(2 + 64 * i, 2 + 64 * (i + 1)) || "0"}`);

  function account(l: RawLog) {
    const topic = l.topics[0] ?? "0x";
    const name = eventName.get(topic) ?? `unknown ${topic}`;
    eventsByKind[name] = (eventsByKind[name] ?? 0) + 1;
    events++;
    if (topic === T.Credited) {
      const k = creditKey(topicAddress(l.topics[1]), topicAddress(l.topics[2]));
      credits.set(k, (credits.get(k) ?? 0n) + word(l.data, 0));
    } else if (topic === T.Withdrawn) {
      const k = creditKey(topicAddress(l.topics[1]), topicAddress(l.topics[2]));
      credits.set(k, (credits.get(k) ?? 0n) - word(l.data, 0));
    } else if (topic === T.BondSlashed || topic === T.BondDeposited) {
      // BondSlashed(hostId, bookingId, to, amount, bond) / BondDeposited(hostId, from, amount, bond)
      const h = hostById.get(BigInt(l.topics[1] ?? "0x0"));
      if (h) h.bond = word(l.data, 1);
    }
  }
  const logsOf = (m: Mined, topic: string) => m.logs.filter((l) => l.topics[0] === topic);

  // The schedule: tick → jobs that build that tick's transactions when it comes.
  type Job = () => Action | Action[] | null;
  const queue = new Map<number, Job[]>();
  let tick = 0;
  const at = (t: number, job: Job) => {
    const k = Math.max(t, tick + 1);
    const list = queue.get(k);
    if (list) list.push(job);
    else queue.set(k, [job]);
  };
  const randInt = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const call = (functionName: string, args: unknown[]): Hex =>
    encodeFunctionData({ abi: marketAbi, functionName, args } as never);

  // The keeper settles what is ripe with performUpkeep every two hours.
  const keeperQueue: { ripe: number; b: BookingState }[] = [];

  const bookings: BookingState[] = [];
  const fates = Object.fromEntries(FATES.map((f) => [f, 0])) as Record<Fate, number>;

  /* ---- host lifecycle ---- */

  function registerHost(h: HostState): Action {
    const doc = JSON.stringify({
      schema: "computehive/host-metadata@1",
      name: `bench host ${h.n + 1} (${h.spec.region})`,
      description:
        "SYNTHETIC benchmark history on a throwaway anvil chain: this host and its GPUs do not exist.",
    });
    return {
      from: h.lender,
      to: market,
      data: call("registerHost", [h.agent.address, rawCid(doc)]),
      value: parseEther("5"),
      gas: 300_000n,
      what: `registerHost (lender ${h.lender.address})`,
      onMined: (m) => {
        const [ev] = logsOf(m, T.HostRegistered);
        if (!ev) throw new Error("registerHost: no HostRegistered event");
        h.id = BigInt(ev.topics[1] ?? "0x0");
        h.registeredAt = m.timestamp;
        hostById.set(h.id, h);
        h.bond = word(ev.data, 0);
        at(tick + 1, () => h.listings.map(createListing));
        scheduleHostChanges(h);
      },
    };
  }

  function createListing(l: ListingState): Action {
    const s = l.spec;
    const gpu = s.gpu === "cpu" ? null : GPUS[s.gpu];
    const hardware = {
      gpuModel: gpu?.model ?? "",
      gpuCount: s.count,
      vramMiBPerGpu: gpu?.vramMiB ?? 0,
      cpuCores: Math.max(8, s.count * 16),
      ramMiB: Math.max(32, s.count * 128) * 1024,
      diskGiB: Math.max(200, s.count * 1000),
      region: l.host.spec.region,
      confidential: s.confidential ?? 0,
    };
    const doc = JSON.stringify({
      schema: "computehive/listing-metadata@1",
      title: `${s.count ? `${s.count}x ${gpu?.model}` : "CPU-only VM"} (bench)`,
      description: "SYNTHETIC benchmark listing on a throwaway anvil chain: this hardware does not exist.",
    });
    return {
      from: l.host.lender,
      to: market,
      data: call("createListing", [
        l.host.id,
        hardware,
        l.asset,
        l.usdPriced,
        l.pricePerHour,
        l.minSlots,
        l.maxSlots,
        l.leadTime,
        rawCid(doc),
      ]),
      gas: 600_000n,
      what: `createListing (host ${l.host.id}, ${hardware.gpuModel || "cpu"})`,
      onMined: (m) => {
        const ev = logsOf(m, T.ListingCreated)[0];
        if (!ev) throw new Error("createListing: no ListingCreated event");
        l.id = BigInt(ev.topics[1] ?? "0x0");
        l.active = true;
        l.cursor = m.timestamp;
        scheduleListingChanges(l);
      },
    };
  }

  /** Price changes every week or so, and for some listings a maintenance pause or new terms. */
  function scheduleListingChanges(l: ListingState) {
    const busyAt = (t: number, job: Job) => {
      l.busy.add(t);
      at(t, job);
    };
    for (let t = tick + randInt(5 * 96, 9 * 96); t < endTick; t += randInt(5 * 96, 9 * 96)) {
      busyAt(t, () => {
        const next = (l.pricePerHour * BigInt(Math.round((0.9 + rand() * 0.22) * 1000))) / 1000n;
        return {
          from: l.host.lender,
          to: market,
          data: call("setListingPrice", [l.id, next]),
          gas: 120_000n,
          what: `setListingPrice (listing ${l.id})`,
          onMined: () => {
            l.pricePerHour = next;
          },
        };
      });
    }
    const r = rand();
    if (r < 0.15) {
      const off = tick + randInt(4 * 96, endTick - tick - 4 * 96);
      const on = off + randInt(96, 3 * 96);
      busyAt(off, () => ({
        from: l.host.lender,
        to: market,
        data: call("setListingActive", [l.id, false]),
        gas: 120_000n,
        what: `setListingActive false (listing ${l.id})`,
        onMined: () => {
          l.active = false;
        },
      }));
      busyAt(on, () => ({
        from: l.host.lender,
        to: market,
        data: call("setListingActive", [l.id, true]),
        gas: 120_000n,
        what: `setListingActive true (listing ${l.id})`,
        onMined: () => {
          l.active = true;
        },
      }));
    } else if (r < 0.25) {
      busyAt(tick + randInt(3 * 96, 20 * 96), () => {
        const minSlots = l.minSlots === 4 ? 8 : 4;
        return {
          from: l.host.lender,
          to: market,
          data: call("setListingTerms", [l.id, minSlots, l.maxSlots, l.leadTime]),
          gas: 120_000n,
          what: `setListingTerms (listing ${l.id})`,
          onMined: () => {
            l.minSlots = minSlots;
          },
        };
      });
    } else if (r < 0.35) {
      at(tick + randInt(2 * 96, 30 * 96), () => ({
        from: l.host.lender,
        to: market,
        data: call("setListingMetadata", [
          l.id,
          rawCid(`{"schema":"computehive/listing-metadata@1","note":"SYNTHETIC bench listing, revised"}`),
        ]),
        gas: 150_000n,
        what: `setListingMetadata (listing ${l.id})`,
      }));
    }
  }

  function scheduleHostChanges(h: HostState) {
    at(tick + randInt(96, 25 * 96), () => ({
      from: h.lender,
      to: market,
      data: call("setHostMetadata", [
        h.id,
        rawCid(`{"schema":"computehive/host-metadata@1","note":"SYNTHETIC bench host ${h.n + 1}, revised"}`),
      ]),
      gas: 150_000n,
      what: `setHostMetadata (host ${h.id})`,
    }));
    if (h.n === UNBONDING_HOST) {
      const from = 30 * 96 + randInt(0, 48);
      const to = from + randInt(2 * 96, 3 * 96);
      for (const l of h.listings) {
        l.busy.add(from);
        l.busy.add(to);
      }
      at(from, () => ({
        from: h.lender,
        to: market,
        data: call("requestUnbond", [h.id]),
        gas: 120_000n,
        what: `requestUnbond (host ${h.id})`,
        onMined: () => {
          h.unbonding = true;
        },
      }));
      at(to, () => ({
        from: h.lender,
        to: market,
        data: call("cancelUnbond", [h.id]),
        gas: 120_000n,
        what: `cancelUnbond (host ${h.id})`,
        onMined: () => {
          h.unbonding = false;
        },
      }));
    }
  }

  /* ---- bookings ---- */

  function pickFate(leadTicks: number, durTicks: number): Fate {
    const r = rand();
    let f: Fate =
      r < 0.57
        ? "settled"
        : r < 0.62
          ? "endedEarly"
          : r < 0.65
            ? "unreported"
            : r < 0.72
              ? "cancelled"
              : r < 0.76
                ? "cancelledLate"
                : r < 0.78
                  ? "cancelledAfterActivation"
                  : r < 0.83
                    ? "declined"
                    : r < 0.88
                      ? "noShow"
                      : r < 0.955
                        ? "disputedRuled"
                        : r < 0.97
                          ? "disputedUnreported"
                          : "disputedFallback";
    if (f === "cancelled" && leadTicks < 96 + 3) f = "cancelledLate";
    if ((f === "cancelledLate" || f === "declined") && leadTicks < 2) f = "settled";
    if (f === "cancelledAfterActivation" && leadTicks < 3) f = "settled";
    if (f === "endedEarly" && durTicks < 2) f = "settled";
    return f;
  }

  function pickBorrower(): Borrower {
    let x = rand() * borrowerWeight;
    for (const b of borrowers) {
      x -= b.weight;
      if (x <= 0) return b;
    }
    return borrowers[borrowers.length - 1] as Borrower;
  }

  function pickSlots(l: ListingState): number {
    const r = rand();
    const hours = r < 0.25 ? 1 : r < 0.45 ? 2 : r < 0.7 ? 4 : r < 0.85 ? 8 : r < 0.95 ? 12 : 24;
    return Math.min(l.maxSlots, Math.max(l.minSlots, hours * 4));
  }

  /** A booking arriving now on `l`, or null when the listing is booked solid for days. */
  function arrive(l: ListingState): Action | null {
    const now = timeOf(tick);
    const r = rand();
    const lead =
      r < 0.3 ? 1800 + rand() * 5400 : r < 0.7 ? 7200 + rand() * 79200 : 86400 + rand() * 3 * 86400;
    const start = Math.ceil(Math.max(now + lead, now + l.leadTime + SLOT, l.cursor) / SLOT) * SLOT;
    if (start - now > 6 * 86400) return null;
    const slots = pickSlots(l);
    const end = start + slots * SLOT;
    l.cursor = end + (rand() < 0.5 ? 0 : SLOT * randInt(1, 8));
    const borrower = pickBorrower();
    const fate = pickFate((start - now) / SLOT, slots);
    const price = chargeFor(l, end - start);
    // A USD price moves with the feed: the dApp sends a little more and the market credits the excess back.
    const value = l.usdPriced ? price + price / 200n : l.spec.pay === "token" ? 0n : price;
    const b: BookingState = {
      id: 0n,
      listing: l,
      borrower,
      start,
      end,
      price,
      fate,
      status: "Booked",
      bookedTick: tick,
    };
    fates[fate]++;
    return {
      from: borrower.actor,
      to: market,
      data: call("book", [l.id, start, end, borrower.sessionKey, borrower.sshKey]),
      value,
      gas: l.usdPriced || l.spec.pay === "token" ? 450_000n : 350_000n,
      what: `book listing ${l.id} [${start}, ${end}) (borrower ${borrower.actor.address})`,
      onMined: (m) => {
        const ev = logsOf(m, T.Booked)[0];
        if (!ev) throw new Error(`book listing ${l.id}: no Booked event`);
        b.id = BigInt(ev.topics[1] ?? "0x0");
        bookings.push(b);
        planLifecycle(b);
      },
    };
  }

  const bookingTx = (
    b: BookingState,
    from: Actor,
    data: Hex,
    gas: bigint,
    what: string,
    onMined?: (m: Mined) => void,
  ): Action => ({
    from,
    to: market,
    data,
    gas,
    what: `${what} (booking ${b.id})`,
    onMined,
  });

  function activate(b: BookingState, republish = false): Action {
    return bookingTx(
      b,
      b.listing.host.agent,
      call("activate", [b.id, encryptedEndpoint()]),
      200_000n,
      republish ? "activate again" : "activate",
      () => {
        b.status = "Active";
      },
    );
  }

  /** Settlement once ripe: the lender (or borrower) settles it, or the keeper's next upkeep does. */
  function settleWhenRipe(b: BookingState, ripeAt: number, by: Actor | null) {
    const ripe = tickAt(ripeAt);
    if (by) {
      at(ripe + randInt(0, 6), () =>
        bookingTx(b, by, call("settle", [b.id]), 300_000n, "settle", () => {
          b.status = "Settled";
        }),
      );
    } else keeperQueue.push({ ripe, b });
  }

  function report(b: BookingState): Action {
    const sessionEnd = b.endedAt ?? b.end;
    const full = sessionEnd - b.start;
    const used = b.endedAt
      ? Math.floor(full * (0.9 + rand() * 0.1))
      : rand() < 0.75
        ? full
        : Math.floor(full * (0.55 + rand() * 0.44));
    b.used = used;
    return bookingTx(
      b,
      b.listing.host.agent,
      call("report", [b.id, used, reportCid(b.id, used)]),
      200_000n,
      "report",
      (m) => {
        b.status = "Reported";
        const reportedAt = m.timestamp;
        if (b.fate === "disputedRuled" || b.fate === "disputedFallback") {
          at(tick + randInt(1, 40), () => dispute(b));
        } else {
          settleWhenRipe(b, reportedAt + p.disputeWindow, rand() < 0.35 ? b.listing.host.lender : null);
        }
      },
    );
  }

  function dispute(b: BookingState): Action {
    const reason = rawCid(
      JSON.stringify({
        schema: "computehive/dispute-reason@1",
        bookingId: b.id.toString(),
        text: "GPU unreachable part of the session",
      }),
    );
    return bookingTx(b, b.borrower.actor, call("dispute", [b.id, reason]), 200_000n, "dispute", (m) => {
      b.status = "Disputed";
      if (b.fate === "disputedFallback") {
        settleWhenRipe(b, m.timestamp + p.arbiterDeadline, rand() < 0.5 ? b.borrower.actor : null);
      } else {
        at(tick + randInt(8, 96), () => resolve(b));
      }
    });
  }

  function resolve(b: BookingState): Action {
    const claimed = b.used ?? (b.endedAt ?? b.end) - b.start;
    const r = rand();
    const ruled = r < 0.35 ? claimed : r < 0.85 ? Math.floor(claimed * (0.5 + rand() * 0.45)) : 0;
    const slash = rand() < 0.4 ? parseEther(["0.05", "0.1", "0.25"][randInt(0, 2)] as string) : 0n;
    return bookingTx(
      b,
      owner,
      call("resolveDispute", [b.id, ruled, slash]),
      450_000n,
      "resolveDispute",
      () => {
        b.status = "Settled";
      },
    );
  }

  function planLifecycle(b: BookingState) {
    const startTick = tickAt(b.start);
    const endTick_ = tickAt(b.end);
    const agent = b.listing.host.agent;
    const borrower = b.borrower.actor;
    const activationTick = Math.min(startTick, Math.max(tick + 1, startTick - randInt(1, 4)));
    const cutoffTick = tickAt(b.start - p.cancelCutoff); // first tick at or after start - cutoff
    switch (b.fate) {
      case "cancelled":
        at(randInt(tick + 1, cutoffTick - 2), () =>
          bookingTx(b, borrower, call("cancel", [b.id]), 250_000n, "cancel", () => {
            b.status = "Cancelled";
          }),
        );
        return;
      case "cancelledLate":
        at(randInt(Math.max(tick + 1, cutoffTick + 1), startTick - 1), () =>
          bookingTx(b, borrower, call("cancel", [b.id]), 250_000n, "late cancel", () => {
            b.status = "Cancelled";
          }),
        );
        return;
      case "declined":
        at(randInt(tick + 1, Math.min(tick + 4, startTick - 1)), () =>
          bookingTx(b, agent, call("decline", [b.id, randInt(1, 7)]), 200_000n, "decline", () => {
            b.status = "Declined";
          }),
        );
        return;
      case "cancelledAfterActivation":
        at(tick + 1, () => activate(b));
        at(randInt(tick + 2, startTick - 1), () =>
          bookingTx(b, borrower, call("cancel", [b.id]), 250_000n, "cancel after activation", () => {
            b.status = "Cancelled";
          }),
        );
        return;
      case "noShow": {
        const ripe = b.start + p.activationGrace;
        if (rand() < 0.6) {
          at(tickAt(ripe) + randInt(0, 3), () =>
            bookingTx(b, borrower, call("claimNoShow", [b.id]), 300_000n, "claimNoShow", () => {
              b.status = "NoShow";
            }),
          );
        } else keeperQueue.push({ ripe: tickAt(ripe), b });
        return;
      }
      default:
        break;
    }
    // Every other fate starts with the endpoint.
    at(activationTick, () => activate(b));
    const republishTick = Math.max(activationTick + 1, startTick) + randInt(0, 1);
    if (b.fate !== "endedEarly" && republishTick < endTick_ && rand() < 0.1) {
      at(republishTick, () => activate(b, true));
    }
    switch (b.fate) {
      case "settled":
      case "disputedRuled":
      case "disputedFallback":
        at(endTick_ + randInt(0, 2), () => report(b));
        return;
      case "endedEarly":
        at(randInt(startTick + 1, endTick_ - 1), () =>
          bookingTx(b, borrower, call("endSession", [b.id]), 150_000n, "endSession", (m) => {
            const ev = logsOf(m, T.SessionEndRequested)[0];
            b.endedAt = ev ? Number(word(ev.data, 0)) : m.timestamp;
            at(tickAt(b.endedAt) + randInt(0, 2), () => report(b));
          }),
        );
        return;
      case "unreported":
        settleWhenRipe(
          b,
          b.end + p.reportGrace + p.disputeWindow,
          rand() < 0.35 ? b.listing.host.lender : null,
        );
        return;
      case "disputedUnreported":
        at(endTick_ + randInt(2, 40), () => dispute(b));
        return;
      default:
        throw new Error(`unplanned fate ${b.fate}`);
    }
  }

  function keeperUpkeep(): Action[] {
    const ripe: BookingState[] = [];
    for (let i = keeperQueue.length - 1; i >= 0; i--) {
      const e = keeperQueue[i] as { ripe: number; b: BookingState };
      if (e.ripe <= tick) {
        ripe.push(e.b);
        keeperQueue.splice(i, 1);
      }
    }
    ripe.sort((a, b) => (a.id < b.id ? -1 : 1));
    const out: Action[] = [];
    for (let i = 0; i < ripe.length; i += 20) {
      const chunk = ripe.slice(i, i + 20);
      const ids = chunk.map((b) => b.id);
      out.push({
        from: keeper,
        to: market,
        data: call("performUpkeep", [encodeAbiParameters([{ type: "uint256[]" }], [ids])]),
        gas: 100_000n + 160_000n * BigInt(ids.length),
        what: `performUpkeep (bookings ${ids.join(", ")})`,
        onMined: (m) => {
          const done = new Set(
            [...logsOf(m, T.BookingSettled), ...logsOf(m, T.NoShowClaimed)].map((l) =>
              BigInt(l.topics[1] ?? "0x0"),
            ),
          );
          for (const b of chunk) {
            if (!done.has(b.id))
              throw new Error(`performUpkeep skipped booking ${b.id}, which should be ripe`);
            b.status = b.status === "Booked" ? "NoShow" : "Settled";
          }
        },
      });
    }
    return out;
  }

  function withdrawals(a: Actor): Action[] {
    const out: Action[] = [];
    for (const asset of [zeroAddress, token]) {
      if (creditOf(a.address, asset) > 0n) {
        out.push({
          from: a,
          to: market,
          data: call("withdraw", [asset]),
          gas: 150_000n,
          what: `withdraw ${asset === zeroAddress ? "native" : "token"} (${a.role} ${a.address})`,
        });
      }
    }
    return out;
  }

  /* ---- the loop ---- */

  // Fund every account (the borrowers also mint test tokens and approve the market once).
  await rpc.batch(
    [...actors.values()].map((a) => ({
      method: "anvil_setBalance",
      params: [a.address, `0x${parseEther("1000000").toString(16)}`],
      what: `anvil_setBalance ${a.address}`,
    })),
  );
  const nonces = await rpc.batch<Hex>(
    [...actors.values()].map((a) => ({ method: "eth_getTransactionCount", params: [a.address, "pending"] })),
  );
  [...actors.values()].forEach((a, i) => {
    a.nonce = Number(BigInt(nonces[i] as Hex));
  });
  at(0, () =>
    borrowers.flatMap((b) => [
      {
        from: b.actor,
        to: token,
        data: encodeFunctionData({
          abi: testTokenAbi,
          functionName: "mint",
          args: [b.actor.address, 10n ** 15n],
        }),
        gas: 120_000n,
        what: `mint test tokens (${b.actor.address})`,
      },
      {
        from: b.actor,
        to: token,
        data: encodeFunctionData({ abi: testTokenAbi, functionName: "approve", args: [market, maxUint256] }),
        gas: 120_000n,
        what: `approve the market (${b.actor.address})`,
      },
    ]),
  );
  for (const h of hosts) {
    at(h.spec.joinDay * 96, () => registerHost(h));
  }

  const maxFeePerGas = parseGwei("100");
  const maxPriorityFeePerGas = parseGwei("1");
  await rpc.call("evm_setAutomine", [false]);
  let nextProgress = 2000;
  try {
    for (tick = 0; ; tick++) {
      const now = timeOf(tick);
      if (tick >= endTick && events >= target) break;
      if (tick > endTick + 30 * 96)
        throw new Error(`only ${events} events after ${days + 30} days of history; expected ${target}`);
      const jobs = queue.get(tick) ?? [];
      queue.delete(tick);
      const actions: Action[] = [];
      for (const job of jobs) {
        const a = job();
        if (Array.isArray(a)) actions.push(...a);
        else if (a) actions.push(a);
      }
      // Arrivals: fewer at night and at weekends.
      const hour = Math.floor((now % 86400) / 3600);
      const dow = (Math.floor(now / 86400) + 4) % 7; // 0 = Sunday
      const shape =
        (hour < 6 ? 0.4 : hour < 9 ? 0.9 : hour < 18 ? 1.45 : 0.9) * (dow === 0 || dow === 6 ? 0.75 : 1.08);
      for (const l of allListings()) {
        if (!l.active || l.host.unbonding || l.busy.has(tick) || l.host.bond < p.minBond + parseEther("0.5"))
          continue;
        if (rand() < ((l.rate * rateScale) / 96) * shape) {
          const a = arrive(l);
          if (a) actions.push(a);
        }
      }
      // Upkeep, withdrawals, bond top-ups.
      if (tick % 8 === 0) actions.push(...keeperUpkeep());
      for (const h of hosts) {
        if (h.id === 0n) continue;
        if (tick % 96 === h.withdrawPhase) actions.push(...withdrawals(h.lender));
        if (h.bond < parseEther("3") && !h.topUpPending) {
          h.topUpPending = true;
          actions.push({
            from: h.lender,
            to: market,
            data: call("depositBond", [h.id]),
            value: parseEther("2"),
            gas: 120_000n,
            what: `depositBond (host ${h.id})`,
            onMined: () => {
              h.topUpPending = false;
            },
          });
        }
      }
      for (const b of borrowers) if (rand() < 1 / (96 * 4)) actions.push(...withdrawals(b.actor));
      if (tick % (7 * 96) === 50) actions.push(...withdrawals(owner));
      if (actions.length === 0) continue;

      await runTick(now, actions);
      if (events >= nextProgress) {
        log(
          `generated ${events.toLocaleString("en-US")} / ${target.toLocaleString("en-US")} events ` +
            `(day ${Math.floor(tick / 96)} of ${days}, ${bookings.length.toLocaleString("en-US")} bookings, block ${toBlock})`,
        );
        while (nextProgress <= events) nextProgress += 2000;
      }
    }
  } finally {
    await rpc.call("evm_setAutomine", [true]).catch(() => {});
  }

  async function runTick(now: number, actions: Action[]) {
    const signed = await Promise.all(
      actions.map((a) =>
        a.from.account.signTransaction({
          chainId: d.chainId,
          type: "eip1559",
          nonce: a.from.nonce++,
          to: a.to,
          data: a.data,
          value: a.value ?? 0n,
          gas: a.gas,
          maxFeePerGas,
          maxPriorityFeePerGas,
        }),
      ),
    );
    const hashes = await rpc.batch<Hex>(
      signed.map((raw, i) => ({ method: "eth_sendRawTransaction", params: [raw], what: actions[i]?.what })),
    );
    const pending = new Map<string, Action>();
    for (const [i, h] of hashes.entries()) pending.set(h.toLowerCase(), actions[i] as Action);
    const mined: { action: Action; m: Mined; status: Hex }[] = [];
    for (let i = 0; pending.size > 0; i++) {
      if (i > 50) throw new Error(`${pending.size} transactions not mined after 50 blocks`);
      await rpc.call("evm_mine", [now + i]);
      const [header, receipts] = (await rpc.batch([
        { method: "eth_getBlockByNumber", params: ["latest", false] },
        { method: "eth_getBlockReceipts", params: ["latest"] },
      ])) as [
        { number: Hex; timestamp: Hex },
        { transactionHash: Hex; status: Hex; blockNumber: Hex; logs: RawLog[] }[],
      ];
      const block = BigInt(header.number);
      const timestamp = Number(BigInt(header.timestamp));
      if (fromBlock < 0n) {
        fromBlock = block;
        fromTime = timestamp;
      }
      toBlock = block;
      toTime = timestamp;
      blocks++;
      let ours = 0;
      for (const r of receipts) {
        const action = pending.get(r.transactionHash.toLowerCase());
        if (!action) continue;
        ours++;
        pending.delete(r.transactionHash.toLowerCase());
        const logs = r.logs.filter((l) => l.address.toLowerCase() === market.toLowerCase());
        mined.push({
          action,
          m: { hash: r.transactionHash, block, timestamp, logs },
          status: r.status,
        });
      }
      if (ours === 0) throw new Error(`block ${block} holds none of the ${pending.size} transactions sent`);
    }
    // Logs in chain order (credits and bonds), then the follow-ups in the order the transactions were sent, so
    // that the pseudo-random choices do not depend on how anvil ordered the block.
    const byAction = new Map<Action, Mined>();
    for (const { action, m, status } of mined) {
      transactions++;
      if (BigInt(status) !== 1n)
        throw new Error(`${action.what} reverted: ${await revertReason(m.hash, m.block)}`);
      for (const l of m.logs) account(l);
      byAction.set(action, m);
    }
    for (const a of actions) a.onMined?.(byAction.get(a) as Mined);
  }

  async function revertReason(hash: Hex, block: bigint): Promise<string> {
    try {
      const trace = await rpc.call<{ output?: Hex; error?: string }>("debug_traceTransaction", [
        hash,
        { tracer: "callTracer" },
      ]);
      if (trace.output && trace.output !== "0x") {
        const e = decodeErrorResult({ abi: marketAbi, data: trace.output });
        return `${e.errorName}(${(e.args ?? []).map(String).join(", ")}) in tx ${hash}, block ${block}`;
      }
      return `${trace.error ?? "reverted"} in tx ${hash}, block ${block}`;
    } catch {
      return `tx ${hash}, block ${block}`;
    }
  }

  const hostOut: HistoryHost[] = hosts
    .filter((h) => h.id !== 0n)
    .map((h) => ({
      id: h.id.toString(),
      lender: h.lender.address,
      agent: h.agent.address,
      region: h.spec.region,
      registeredAt: h.registeredAt,
    }));
  const listingOut: HistoryListing[] = allListings()
    .filter((l) => l.id !== 0n)
    .map((l) => ({
      id: l.id.toString(),
      hostId: l.host.id.toString(),
      gpuModel: l.gpuModel,
      gpuCount: l.spec.count,
      payment: l.spec.pay,
    }));
  const bookingOut: HistoryBooking[] = bookings.map((b) => ({
    id: b.id.toString(),
    listingId: b.listing.id.toString(),
    hostId: b.listing.host.id.toString(),
    borrower: b.borrower.actor.address,
    start: b.start,
    end: b.end,
    fate: b.fate,
    status: b.status,
  }));
  return {
    events,
    eventsByKind,
    fromBlock,
    toBlock,
    fromTime,
    toTime,
    blocks,
    transactions,
    hosts: hostOut,
    listings: listingOut,
    bookings: bookingOut,
    fates,
    borrowers: borrowers.length,
    seconds: (Date.now() - started) / 1000,
  };
}
