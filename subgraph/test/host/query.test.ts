// The graph-node query API of the embedded host (host/api-schema.ts, host/query.ts, host/server.ts): a store written
// block by block through SubgraphDb.commitBlocks, served on a free port and queried over HTTP.
// Run: node --import tsx --test --test-reporter=spec subgraph/test/host/query.test.ts
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type GraphQLEnumType,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLObjectType,
  getNamedType,
  isListType,
  isNonNullType,
} from "graphql";
import { buildApiSchema, pluralFieldName, pluralize, singularFieldName } from "../../host/api-schema.ts";
import { type BlockPtr, SubgraphDb } from "../../host/db.ts";
import { parseDecimal } from "../../host/decimal.ts";
import { loadSchema, parseSchema } from "../../host/model.ts";
import { QueryEngine } from "../../host/query.ts";
import { type QueryServer, startQueryServer } from "../../host/server.ts";
import { StoreKind, type StoreValue } from "../../host/wasm.ts";

const schemaFile = join(import.meta.dirname, "../../schema.graphql");

// ---- store values ----
const S = (value: string): StoreValue => ({ kind: StoreKind.String, value });
const I = (value: number): StoreValue => ({ kind: StoreKind.Int, value });
const I8 = (value: bigint): StoreValue => ({ kind: StoreKind.Int8, value });
const N = (v: bigint | number | string): StoreValue => ({ kind: StoreKind.BigInt, value: BigInt(v) });
const D = (v: string): StoreValue => ({ kind: StoreKind.BigDecimal, value: parseDecimal(v) });
const T = (value: boolean): StoreValue => ({ kind: StoreKind.Bool, value });
const X = (hex: string): StoreValue => ({
  kind: StoreKind.Bytes,
  value: Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex")),
});
const L = (value: StoreValue[]): StoreValue => ({ kind: StoreKind.Array, value });
const entity = (o: Record<string, StoreValue>) => new Map(Object.entries(o));

const hashOf = (n: number) => `0x${`ab${n.toString(16).padStart(2, "0")}`.repeat(16)}`;
const ptr = (n: number): BlockPtr => ({
  number: n,
  hash: hashOf(n),
  parentHash: hashOf(n - 1),
  timestamp: 1_700_000_000 + n * 12,
});

const A1 = `0x${"a1".repeat(20)}`;
const A2 = `0x${"b2".repeat(20)}`;
const A3 = `0x${"c3".repeat(20)}`;
const NATIVE = `0x${"00".repeat(20)}`;
const TOKEN = `0x${"70".repeat(20)}`;
const evId = (i: number) => `0x${i.toString(16).padStart(8, "0")}`;
const HUGE = "123456789012345678901234567890";

/** Writes `blocks` (number → writes) through commitBlocks, each block its own version. */
function commit(db: SubgraphDb, blocks: Record<number, (db: SubgraphDb) => void>) {
  const ptrs = Object.keys(blocks).map(Number).map(ptr);
  const err = db.commitBlocks(
    ptrs,
    ptrs[ptrs.length - 1] as BlockPtr,
    (b) => blocks[b.number]?.(db),
    () => ({
      message: "unexpected",
    }),
  );
  assert.equal(err, null);
}

function host(id: string, lender: string, agent: string, bond: string, cid: string) {
  return entity({
    lender: X(lender),
    agent: X(agent),
    bond: N(bond),
    unbondAt: N(0),
    metadataCid: S(cid),
    registeredAt: N(1000),
    completed: I(0),
    noShows: I(0),
    declines: I(0),
    disputesLost: I(0),
    secondsServed: N(0),
    openBookings: I(0),
    slashed: N(0),
    id: S(id),
  });
}

function listing(
  id: string,
  hostId: string,
  gpuModel: string,
  gpuCount: number,
  region: string,
  confidential: string,
  price: number,
  active: boolean,
  asset = NATIVE,
) {
  return entity({
    id: S(id),
    host: S(hostId),
    gpuModel: S(gpuModel),
    gpuCount: I(gpuCount),
    vramMiBPerGpu: N(81920),
    cpuCores: I(64),
    ramMiB: N(1_000_000),
    diskGiB: N(2000),
    region: S(region),
    confidential: S(confidential),
    asset: X(asset),
    usdPriced: T(false),
    pricePerHour: N(price),
    minSlots: I(1),
    maxSlots: I(24),
    leadTime: N(60),
    active: T(active),
    metadataCid: S(`QmL${id}`),
    createdAt: N(1000),
    bookingCount: I(0),
  });
}

function booking(
  id: string,
  listingId: string,
  hostId: string,
  borrower: string,
  start: number,
  price: number,
  key: string,
) {
  return entity({
    id: S(id),
    listing: S(listingId),
    host: S(hostId),
    borrower: X(borrower),
    start: N(start),
    end: N(start + 3600),
    asset: X(NATIVE),
    price: N(price),
    feeBps: I(250),
    sessionPubKey: X(key),
    sshPubKey: X(Buffer.from("ssh-ed25519 AAAA").toString("hex")),
    status: S("Booked"),
    bookedAt: N(1100),
    endpointPublications: I(0),
  });
}

function event(
  i: number,
  kind: string,
  logIndex: number,
  block: number,
  extra: Record<string, StoreValue> = {},
) {
  return entity({
    id: X(evId(i)),
    kind: S(kind),
    actor: X(A2),
    txHash: X(`0x${"ee".repeat(32)}`),
    blockNumber: N(block),
    timestamp: N(1_700_000_000 + block * 12),
    logIndex: N(logIndex),
    ...extra,
  });
}

function day(id: string, gpuModel: string, hours: string) {
  return entity({
    id: S(id),
    gpuModel: S(gpuModel),
    day: I(1),
    date: N(86400),
    listingsCreated: I(1),
    bookings: I(1),
    model: S(gpuModel),
    hoursListed: D(hours),
    gpuHoursListed: D(hours),
    hoursBooked: D(hours),
    gpuHoursBooked: D(hours),
    settled: I(0),
    secondsServed: N(0),
    cancelled: I(0),
    declined: I(0),
    noShows: I(0),
  });
}

/** The market fixture: blocks 1..5, with updates, a removal and 120 immutable audit entries. */
function buildMarket(db: SubgraphDb) {
  commit(db, {
    1: (db) => {
      db.set(
        "Market",
        "market",
        entity({
          address: X(`0x${"4d".repeat(20)}`),
          feeBps: I(250),
          usdFeedMaxAge: N(3600),
          paused: T(false),
          hostCount: I(5),
          listingCount: I(5),
          bookingCount: I(0),
          openBookings: I(0),
        }),
      );
      for (const [id, native] of [
        [NATIVE, true],
        [TOKEN, false],
      ] as const)
        db.set(
          "Asset",
          id,
          entity({
            allowed: T(native),
            native: T(native),
            volumeBooked: N(0),
            volumeToLenders: N(0),
            platformFees: N(0),
            refunds: N(0),
            withdrawn: N(0),
          }),
        );
      for (const a of [A1, A2, A3])
        db.set("Account", a, entity({ bookingCount: I(0), firstSeenAt: N(1000) }));
      db.set("Host", "1", host("1", A1, "0xdeadbeef01", HUGE, "QmHostOne"));
      db.set("Host", "2", host("2", A1, "0x00ff", "9", "QmHostTwo"));
      db.set("Host", "3", host("3", A3, "0xabcdef", "-5", ""));
      db.set("Host", "4", host("4", A3, "0x0100", "10", "bafyFour"));
      db.set("Host", "5", host("5", A3, "0xff", "100", "QmFive"));
      db.set("Listing", "1", listing("1", "1", "NVIDIA H100 80GB HBM3", 8, "us-east", "SevSnp", 3000, true));
      db.set("Listing", "2", listing("2", "1", "NVIDIA A100-SXM4-40GB", 4, "eu-west", "None", 1500, false));
      db.set("Listing", "3", listing("3", "2", "", 0, "us-east", "Tdx", 100, true));
      db.set("Listing", "4", listing("4", "4", "nvidia h100 pcie", 1, "ap-south", "None", 900, true));
      db.set(
        "Listing",
        "5",
        listing("5", "3", "RTX 4090 100% off_sale", 2, "eu-west", "None", 500, true, TOKEN),
      );
    },
    2: (db) => {
      db.set("Booking", "1", booking("1", "1", "1", A2, 10000, 3000, "0xdeadbeef"));
      db.set("Booking", "2", booking("2", "2", "1", A2, 20000, 1500, "0x00112233"));
      db.set("Booking", "3", booking("3", "3", "2", A3, 30000, 100, "0xcafe"));
      db.set("GpuModelDay", "H100-1", day("H100-1", "NVIDIA H100 80GB HBM3", "1.5"));
      db.set("GpuModelDay", "A100-1", day("A100-1", "NVIDIA A100-SXM4-40GB", "10"));
      db.set("GpuModelDay", "cpu-1", day("cpu-1", "cpu", "0.25"));
      db.set("GpuModelDay", "old-1", day("old-1", "old", "-0.5"));
      db.set("MarketEvent", evId(1), event(1, "Booked", 100, 2, { booking: S("1"), amount: N(3000) }));
      db.set("MarketEvent", evId(2), event(2, "Booked", 1, 2, { booking: S("2") }));
      db.set("MarketEvent", evId(3), event(3, "Booked", 2, 2, { booking: S("3") }));
      for (let i = 10; i < 120; i++) db.set("MarketEvent", evId(i), event(i, "Credited", i, 2));
    },
    3: (db) => {
      db.set(
        "Booking",
        "1",
        entity({ status: S("Active"), activatedAt: N(3000), endpointPublications: I(1) }),
      );
      db.set("Booking", "2", entity({ status: S("Cancelled"), cancelledAt: N(3100), refund: N(1500) }));
      db.set("Host", "1", entity({ metadataCid: S("QmHostOneV2") }));
      db.set("MarketEvent", evId(4), event(4, "EndpointPublished", 9, 3, { booking: S("1") }));
      db.set("MarketEvent", evId(5), event(5, "BookingCancelled", 1, 3, { booking: S("2") }));
    },
    4: (db) => {
      db.set("Booking", "1", entity({ status: S("Reported"), reportedAt: N(4000), usedSeconds: N(3000) }));
      db.set("MarketEvent", evId(6), event(6, "UsageReported", 10, 4, { booking: S("1") }));
      db.remove("GpuModelDay", "old-1");
    },
    5: (db) => {
      db.set("Booking", "1", entity({ status: S("Disputed"), disputedAt: N(5000), dispute: S("1") }));
      db.set("Booking", "3", entity({ status: S("Disputed"), disputedAt: N(5050), dispute: S("3") }));
      const dispute = (id: string, b: string, borrower: string, h: string, resolved: boolean) =>
        entity({
          id: S(id),
          booking: S(b),
          borrower: X(borrower),
          host: S(h),
          claimedSeconds: N(3000),
          reasonCid: S(`QmReason${id}`),
          openedAt: N(5000),
          resolved: T(resolved),
          ...(resolved ? { arbiter: X(A1), hostLost: T(true), resolvedAt: N(5100) } : {}),
        });
      db.set("Dispute", "1", dispute("1", "1", A2, "1", false));
      db.set("Dispute", "3", dispute("3", "3", A3, "2", true));
      db.set("MarketEvent", evId(7), event(7, "BookingDisputed", 3, 5, { booking: S("1") }));
    },
  });
}

// ---- HTTP helpers ----
type Json = Record<string, unknown> & { data?: Record<string, unknown>; errors?: { message: string }[] };

async function post(url: string, query: string, variables?: Record<string, unknown>, operationName?: string) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables, operationName }),
  });
  assert.equal(r.status, 200, "GraphQL answers are HTTP 200, errors included (graph-node)");
  return (await r.json()) as Json;
}

// biome-ignore lint/suspicious/noExplicitAny: query results of any shape, checked with deepEqual
type Data = Record<string, any>;

async function q(url: string, query: string, variables?: Record<string, unknown>) {
  const j = await post(url, query, variables);
  assert.equal(j.errors, undefined, JSON.stringify(j.errors));
  return j.data as Data;
}

async function err(url: string, query: string, variables?: Record<string, unknown>) {
  const j = await post(url, query, variables);
  assert.ok(j.errors && j.errors.length > 0, `expected an error, got ${JSON.stringify(j)}`);
  return (j.errors[0] as { message: string }).message;
}

const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

// ---- the API schema ----

describe("API schema (graph-node's generated schema)", () => {
  const api = buildApiSchema(loadSchema(schemaFile));
  const type = (n: string) => api.schema.getType(n);
  const inputFields = (n: string) => Object.keys((type(n) as GraphQLInputObjectType).getFields());
  const enumValues = (n: string) => (type(n) as GraphQLEnumType).getValues().map((v) => v.name);

  it("names query fields in camelCase singular and Inflector plural", () => {
    assert.equal(pluralize("GpuModelDay"), "GpuModelDays");
    assert.equal(pluralize("Address"), "Addresses");
    assert.equal(pluralize("Category"), "Categories");
    assert.equal(pluralize("Box"), "Boxes");
    assert.equal(singularFieldName("GpuModelDay"), "gpuModelDay");
    assert.equal(pluralFieldName("AccountAsset"), "accountAssets");
    const fields = Object.keys((api.schema.getQueryType() as GraphQLObjectType).getFields());
    for (const f of [
      "gpuModelDay",
      "gpuModelDays",
      "booking",
      "bookings",
      "dispute",
      "disputes",
      "marketEvents",
      "_meta",
    ])
      assert.ok(fields.includes(f), f);
    assert.equal(fields.at(-1), "_meta");
    for (const t of [
      "Booking_orderBy",
      "Booking_filter",
      "OrderDirection",
      "Block_height",
      "_Meta_",
      "_Block_",
      "_SubgraphErrorPolicy_",
      "BlockChangedFilter",
      "BigInt",
      "BigDecimal",
      "Bytes",
      "Int8",
    ])
      assert.ok(type(t), t);
    assert.deepEqual(enumValues("OrderDirection"), ["asc", "desc"]);
    assert.deepEqual(enumValues("_SubgraphErrorPolicy_"), ["allow", "deny"]);
    assert.deepEqual(inputFields("Block_height"), ["hash", "number", "number_gte"]);
  });

  it("gives collection and by-id fields graph-node's arguments and defaults", () => {
    const query = api.schema.getQueryType() as GraphQLObjectType;
    const plural = query.getFields().bookings;
    assert.deepEqual(
      plural?.args.map((a) => a.name),
      ["skip", "first", "orderBy", "orderDirection", "where", "block", "subgraphError"],
    );
    assert.equal(plural?.args.find((a) => a.name === "first")?.defaultValue, 100);
    assert.equal(plural?.args.find((a) => a.name === "skip")?.defaultValue, 0);
    const sub = plural?.args.find((a) => a.name === "subgraphError");
    assert.ok(sub && isNonNullType(sub.type) && sub.defaultValue === "deny");
    assert.deepEqual(
      query.getFields().booking?.args.map((a) => `${a.name}: ${a.type}`),
      ["id: ID!", "block: Block_height", "subgraphError: _SubgraphErrorPolicy_!"],
    );
    assert.equal(String(plural?.type), "[Booking!]!");
    const events = (type("Booking") as GraphQLObjectType).getFields().events;
    assert.deepEqual(
      events?.args.map((a) => a.name),
      ["skip", "first", "orderBy", "orderDirection", "where"],
    );
    assert.equal((type("Booking") as GraphQLObjectType).getFields().listing?.args.length, 0);
  });

  it("generates every filter suffix per field type", () => {
    const f = inputFields("Listing_filter");
    const of = (name: string) =>
      f.filter((k) => k === name || k.startsWith(`${name}_`)).map((k) => k.slice(name.length));
    assert.deepEqual(of("gpuModel"), [
      "",
      "_not",
      "_gt",
      "_lt",
      "_gte",
      "_lte",
      "_in",
      "_not_in",
      "_contains",
      "_contains_nocase",
      "_not_contains",
      "_not_contains_nocase",
      "_starts_with",
      "_starts_with_nocase",
      "_not_starts_with",
      "_not_starts_with_nocase",
      "_ends_with",
      "_ends_with_nocase",
      "_not_ends_with",
      "_not_ends_with_nocase",
    ]);
    assert.deepEqual(of("gpuCount"), ["", "_not", "_gt", "_lt", "_gte", "_lte", "_in", "_not_in"]);
    assert.deepEqual(of("pricePerHour"), ["", "_not", "_gt", "_lt", "_gte", "_lte", "_in", "_not_in"]);
    assert.deepEqual(of("active"), ["", "_not", "_in", "_not_in"]);
    assert.deepEqual(of("confidential"), ["", "_not", "_in", "_not_in"]);
    // a reference: the id filters as String, plus the nested filter
    assert.equal(of("host").length, 21);
    assert.ok(f.includes("host_") && f.includes("host_contains_nocase"));
    // a derived field: only the nested filter
    assert.deepEqual(of("bookings"), ["_"]);
    assert.deepEqual(f.slice(-3), ["_change_block", "and", "or"]);
    const b = inputFields("Booking_filter");
    assert.deepEqual(
      b.filter((k) => k.startsWith("sessionPubKey")).map((k) => k.slice(13)),
      ["", "_not", "_gt", "_lt", "_gte", "_lte", "_in", "_not_in", "_contains", "_not_contains"],
    );
    const idType = (type("Account_filter") as GraphQLInputObjectType).getFields().id?.type;
    assert.equal(String(idType), "Bytes");
    const inType = (type("Booking_filter") as GraphQLInputObjectType).getFields().status_in?.type;
    assert.ok(inType && isListType(inType) && String(inType) === "[BookingStatus!]");
    assert.equal(
      getNamedType(
        (type("Booking_filter") as GraphQLInputObjectType).getFields().listing_?.type as GraphQLInputType,
      ).name,
      "Listing_filter",
    );
  });

  it("generates orderBy values for fields and single references' scalar fields", () => {
    const v = enumValues("Booking_orderBy");
    for (const name of [
      "id",
      "listing",
      "listing__id",
      "listing__gpuModel",
      "listing__pricePerHour",
      "events",
      "dispute__resolved",
    ])
      assert.ok(v.includes(name), name);
    for (const name of ["listing__host", "listing__bookings", "events__id"])
      assert.ok(!v.includes(name), name);
  });
});

// ---- queries over HTTP ----

describe("query API over HTTP", () => {
  let dir: string;
  let db: SubgraphDb;
  let server: QueryServer;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "query-test-"));
    db = new SubgraphDb(join(dir, "store.sqlite"), loadSchema(schemaFile), "QmTest");
    buildMarket(db);
    server = await startQueryServer({
      db,
      port: 0,
      network: "localhost",
      resolveBlockHash: (h) => (h === `0x${"77".repeat(32)}` ? 3 : undefined),
    });
    url = server.url;
  });
  after(async () => {
    await server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves entity(id:) with graph-node's scalar serialization and nested references", async () => {
    const d = await q(
      url,
      `{ booking(id: "1") { id price start sessionPubKey sshPubKey feeBps status endedAt dispute { id resolved }
         listing { id gpuModel active confidential pricePerHour host { id bond lender { id } } } borrower { id } } }`,
    );
    assert.deepEqual(d.booking, {
      id: "1",
      price: "3000",
      start: "10000",
      sessionPubKey: "0xdeadbeef",
      sshPubKey: `0x${Buffer.from("ssh-ed25519 AAAA").toString("hex")}`,
      feeBps: 250,
      status: "Disputed",
      endedAt: null,
      dispute: { id: "1", resolved: false },
      listing: {
        id: "1",
        gpuModel: "NVIDIA H100 80GB HBM3",
        active: true,
        confidential: "SevSnp",
        pricePerHour: "3000",
        host: { id: "1", bond: HUGE, lender: { id: A1 } },
      },
      borrower: { id: A2 },
    });
    assert.deepEqual((await q(url, `{ booking(id: "99") { id } }`)).booking, null);
    const hours = await q(url, `{ gpuModelDay(id: "H100-1") { hoursBooked day } }`);
    assert.deepEqual(hours.gpuModelDay, { hoursBooked: "1.5", day: 1 });
  });

  it("finds Bytes ids given in any case, and rejects malformed hex as graph-node does", async () => {
    const d = await q(url, `{ account(id: "${A2.toUpperCase().replace("0X", "0x")}") { id bookingCount } }`);
    assert.deepEqual(d.account, { id: A2, bookingCount: 0 });
    assert.match(
      await err(url, `{ account(id: "0xzz") { id } }`),
      /Failed to decode `Bytes` value: `Invalid character 'z' at position 0`/,
    );
  });

  it("returns 100 entities by default, ordered by id, and pages with first/skip", async () => {
    const all = await q(url, "{ marketEvents { id } }");
    assert.equal(all.marketEvents.length, 100);
    assert.deepEqual(ids(all.marketEvents).slice(0, 3), [evId(1), evId(2), evId(3)]);
    const more = await q(url, "{ marketEvents(first: 1000) { id } }");
    assert.equal(more.marketEvents.length, 117);
    const page = await q(url, "{ marketEvents(first: 2, skip: 3) { id } }");
    assert.deepEqual(ids(page.marketEvents), [evId(4), evId(5)]);
    const strings = await q(url, `{ hosts(where: { id_in: ["1", "2", "10"] }) { id } }`);
    assert.deepEqual(ids(strings.hosts), ["1", "2"]);
  });

  it("bounds first and skip with graph-node's errors", async () => {
    assert.equal(
      await err(url, "{ bookings(first: 1001) { id } }"),
      "The `first` argument must be between 0 and 1000, but is 1001",
    );
    assert.equal(
      await err(url, "{ bookings(first: 0) { id } }"),
      "The `first` argument must be between 0 and 1000, but is 0",
    );
    assert.equal(
      await err(url, "{ bookings(skip: -1) { id } }"),
      "The `skip` argument must be between 0 and 4294967295, but is -1",
    );
    assert.equal(
      await err(url, `{ booking(id: "1") { events(first: 5000) { id } } }`),
      "The `first` argument must be between 0 and 1000, but is 5000",
    );
  });

  it("filters String fields with every suffix, LIKE semantics included", async () => {
    const listings = async (where: string) =>
      ids((await q(url, `{ listings(where: { ${where} }) { id } }`)).listings);
    assert.deepEqual(await listings(`region: "us-east"`), ["1", "3"]);
    assert.deepEqual(await listings(`region_not: "us-east"`), ["2", "4", "5"]);
    assert.deepEqual(await listings(`region_gt: "eu-west"`), ["1", "3"]);
    assert.deepEqual(await listings(`region_gte: "eu-west"`), ["1", "2", "3", "5"]);
    assert.deepEqual(await listings(`region_lt: "eu-west"`), ["4"]);
    assert.deepEqual(await listings(`region_lte: "eu-west"`), ["2", "4", "5"]);
    assert.deepEqual(await listings(`region_in: ["ap-south", "eu-west"]`), ["2", "4", "5"]);
    assert.deepEqual(await listings(`region_not_in: ["ap-south", "eu-west"]`), ["1", "3"]);
    assert.deepEqual(await listings(`gpuModel_contains: "H100"`), ["1"]);
    assert.deepEqual(await listings(`gpuModel_contains_nocase: "H100"`), ["1", "4"]);
    assert.deepEqual(await listings(`gpuModel_not_contains: "H100"`), ["2", "3", "4", "5"]);
    assert.deepEqual(await listings(`gpuModel_not_contains_nocase: "h100"`), ["2", "3", "5"]);
    assert.deepEqual(await listings(`gpuModel_starts_with: "NVIDIA"`), ["1", "2"]);
    assert.deepEqual(await listings(`gpuModel_starts_with_nocase: "nvidia"`), ["1", "2", "4"]);
    assert.deepEqual(await listings(`gpuModel_not_starts_with: "NVIDIA"`), ["3", "4", "5"]);
    assert.deepEqual(await listings(`gpuModel_not_starts_with_nocase: "NVIDIA"`), ["3", "5"]);
    assert.deepEqual(await listings(`gpuModel_ends_with: "HBM3"`), ["1"]);
    assert.deepEqual(await listings(`gpuModel_ends_with_nocase: "PCIE"`), ["4"]);
    assert.deepEqual(await listings(`gpuModel_not_ends_with: "GB"`), ["1", "3", "4", "5"]);
    assert.deepEqual(await listings(`gpuModel_not_ends_with_nocase: "pcie"`), ["1", "2", "3", "5"]);
    // graph-node passes the value to LIKE: `_` matches one character, `%` any run, `\` escapes
    assert.deepEqual(await listings(`gpuModel_contains: "H_00"`), ["1"]);
    // … and uses a value that starts or ends with `%` as the whole pattern
    assert.deepEqual(await listings(`gpuModel_contains: "%H100"`), []);
    assert.deepEqual(await listings(`gpuModel_contains: "%HBM3"`), ["1"]);
    assert.deepEqual(await listings(`gpuModel_contains: "0\\\\% "`), ["5"]);
    assert.deepEqual(await listings(`gpuModel_contains: "f\\\\_s"`), ["5"]);
    assert.deepEqual(await listings(`gpuModel_contains: "[*?"`), []);
  });

  it("filters Bytes fields on their hex, `_contains` by whole bytes", async () => {
    const hosts = async (where: string) => ids((await q(url, `{ hosts(where: { ${where} }) { id } }`)).hosts);
    assert.deepEqual(await hosts(`agent: "0xDEADBEEF01"`), ["1"]);
    assert.deepEqual(await hosts(`agent: "deadbeef01"`), ["1"]);
    assert.deepEqual(await hosts(`agent_not: "0xff"`), ["1", "2", "3", "4"]);
    assert.deepEqual(await hosts(`agent_gt: "0x0100"`), ["1", "3", "5"]);
    assert.deepEqual(await hosts(`agent_gte: "0x0100"`), ["1", "3", "4", "5"]);
    assert.deepEqual(await hosts(`agent_lt: "0x0100"`), ["2"]);
    assert.deepEqual(await hosts(`agent_lte: "0x0100"`), ["2", "4"]);
    assert.deepEqual(await hosts(`agent_in: ["0xff", "0x00ff"]`), ["2", "5"]);
    assert.deepEqual(await hosts(`agent_not_in: ["0xff", "0x00ff"]`), ["1", "3", "4"]);
    assert.deepEqual(await hosts(`agent_contains: "0xbeef"`), ["1"]);
    assert.deepEqual(await hosts(`agent_contains: "0xadbe"`), ["1"]);
    assert.deepEqual(await hosts(`agent_contains: "0xeadb"`), [], "half-byte offsets do not match");
    assert.deepEqual(await hosts(`agent_not_contains: "0xff"`), ["1", "3", "4"]);
    assert.match(
      await err(url, `{ hosts(where: { agent: "0xabc" }) { id } }`),
      /Failed to decode `Bytes` value: `Odd number of digits`/,
    );
  });

  it("filters BigInt fields numerically: negatives, huge values, strings or Int literals", async () => {
    const hosts = async (where: string) => ids((await q(url, `{ hosts(where: { ${where} }) { id } }`)).hosts);
    assert.deepEqual(await hosts(`bond: "${HUGE}"`), ["1"]);
    assert.deepEqual(await hosts(`bond: -5`), ["3"]);
    assert.deepEqual(await hosts(`bond_not: "9"`), ["1", "3", "4", "5"]);
    assert.deepEqual(await hosts(`bond_gt: "9"`), ["1", "4", "5"]);
    assert.deepEqual(await hosts(`bond_gte: "9"`), ["1", "2", "4", "5"]);
    assert.deepEqual(await hosts(`bond_lt: "10"`), ["2", "3"]);
    assert.deepEqual(await hosts(`bond_lte: 10`), ["2", "3", "4"]);
    assert.deepEqual(await hosts(`bond_lt: "-4"`), ["3"]);
    assert.deepEqual(await hosts(`bond_gt: "123456789012345678901234567889"`), ["1"]);
    assert.deepEqual(await hosts(`bond_in: ["100", "-5"]`), ["3", "5"]);
    assert.deepEqual(await hosts(`bond_not_in: ["100", "-5"]`), ["1", "2", "4"]);
    assert.match(
      await err(url, `{ hosts(where: { bond: "1.5" }) { id } }`),
      /Failed to decode `BigInt` value/,
    );
  });

  it("filters BigDecimal fields numerically", async () => {
    const days = async (where: string) =>
      ids((await q(url, `{ gpuModelDays(where: { ${where} }) { id } }`)).gpuModelDays);
    assert.deepEqual(await days(`hoursBooked: "10.000"`), ["A100-1"]);
    assert.deepEqual(await days(`hoursBooked_not: "10"`), ["H100-1", "cpu-1"], "ids sort bytewise");
    assert.deepEqual(await days(`hoursBooked_gt: 1`), ["A100-1", "H100-1"]);
    assert.deepEqual(await days(`hoursBooked_gte: 1.5`), ["A100-1", "H100-1"]);
    assert.deepEqual(await days(`hoursBooked_lt: "1.5"`), ["cpu-1"]);
    assert.deepEqual(await days(`hoursBooked_lte: "1.5"`), ["H100-1", "cpu-1"]);
    assert.deepEqual(await days(`hoursBooked_in: ["0.25", "1E1"]`), ["A100-1", "cpu-1"]);
    assert.deepEqual(await days(`hoursBooked_not_in: ["0.25"]`), ["A100-1", "H100-1"]);
  });

  it("filters Int, Boolean and enum fields", async () => {
    const listings = async (where: string) =>
      ids((await q(url, `{ listings(where: { ${where} }) { id } }`)).listings);
    assert.deepEqual(await listings("gpuCount: 4"), ["2"]);
    assert.deepEqual(await listings("gpuCount_not: 4"), ["1", "3", "4", "5"]);
    assert.deepEqual(await listings("gpuCount_gt: 2"), ["1", "2"]);
    assert.deepEqual(await listings("gpuCount_gte: 2"), ["1", "2", "5"]);
    assert.deepEqual(await listings("gpuCount_lt: 1"), ["3"]);
    assert.deepEqual(await listings("gpuCount_lte: 1"), ["3", "4"]);
    assert.deepEqual(await listings("gpuCount_in: [0, 8]"), ["1", "3"]);
    assert.deepEqual(await listings("gpuCount_not_in: [0, 8]"), ["2", "4", "5"]);
    assert.deepEqual(await listings("active: false"), ["2"]);
    assert.deepEqual(await listings("active_not: false"), ["1", "3", "4", "5"]);
    assert.deepEqual(await listings("active_in: [false]"), ["2"]);
    assert.deepEqual(await listings("active_not_in: [false]"), ["1", "3", "4", "5"]);
    assert.deepEqual(await listings("confidential: None"), ["2", "4", "5"]);
    assert.deepEqual(await listings("confidential_not: None"), ["1", "3"]);
    assert.deepEqual(await listings("confidential_in: [Tdx, SevSnp]"), ["1", "3"]);
    assert.deepEqual(await listings("confidential_not_in: [Tdx, SevSnp]"), ["2", "4", "5"]);
    assert.deepEqual(await listings("gpuCount_in: []"), [], "an empty list matches nothing");
    assert.deepEqual(await listings("gpuCount_not_in: []"), [], "graph-node: for `_not_in` too");
    assert.match(
      await err(url, "{ listings(where: { confidential: Nope }) { id } }"),
      /Value "Nope" does not exist in "Confidential" enum/,
    );
  });

  it("filters references by id, as Strings, and nulls with IS NULL", async () => {
    const bookings = async (where: string) =>
      ids((await q(url, `{ bookings(where: { ${where} }) { id } }`)).bookings);
    assert.deepEqual(await bookings(`listing: "2"`), ["2"]);
    assert.deepEqual(await bookings(`listing_not: "2"`), ["1", "3"]);
    assert.deepEqual(await bookings(`listing_in: ["1", "3"]`), ["1", "3"]);
    assert.deepEqual(await bookings(`listing_not_in: ["1", "3"]`), ["2"]);
    assert.deepEqual(await bookings(`host_starts_with: "1"`), ["1", "2"]);
    assert.deepEqual(await bookings(`borrower: "${A2.toUpperCase().replace("0X", "0x")}"`), ["1", "2"]);
    assert.deepEqual(await bookings(`borrower_not: "${A2}"`), ["3"]);
    assert.deepEqual(await bookings("activatedAt: null"), ["2", "3"]);
    assert.deepEqual(await bookings("activatedAt_not: null"), ["1"]);
    assert.deepEqual(await bookings("activatedAt_gt: 0"), ["1"], "NULLs never compare");
  });

  it("filters through references and derived fields with `field_`", async () => {
    const bookings = async (where: string) =>
      ids((await q(url, `{ bookings(where: { ${where} }) { id } }`)).bookings);
    assert.deepEqual(await bookings(`listing_: { gpuModel_contains: "A100" }`), ["2"]);
    assert.deepEqual(await bookings(`listing_: { region: "us-east" }, status: Disputed`), ["1", "3"]);
    assert.deepEqual(await bookings(`events_: { kind: BookingCancelled }`), ["2"]);
    assert.deepEqual(await bookings(`dispute_: { resolved: true }`), ["3"]);
    const hosts = await q(url, "{ hosts(where: { listings_: { active: false } }) { id } }");
    assert.deepEqual(ids(hosts.hosts), ["1"]);
    const accounts = await q(url, `{ accounts(where: { bookings_: { status: Cancelled } }) { id } }`);
    assert.deepEqual(ids(accounts.accounts), [A2]);
    assert.match(
      await err(url, `{ bookings(where: { listing_: { host_: { bond_gt: 0 } } }) { id } }`),
      /^Child filter nesting not supported by value `host`/,
    );
  });

  it("combines filters with and/or, and rejects mixing `or` with column filters like graph-node", async () => {
    const bookings = async (where: string) =>
      ids((await q(url, `{ bookings(where: { ${where} }) { id } }`)).bookings);
    assert.deepEqual(await bookings("or: [{ status: Cancelled }, { price_gt: 2000 }]"), ["1", "2"]);
    assert.deepEqual(await bookings(`and: [{ borrower: "${A2}" }, { status_not: Cancelled }]`), ["1"]);
    assert.deepEqual(
      await bookings(
        `or: [{ and: [{ status: Disputed }, { price_lt: 200 }] }, { listing_: { active: false } }]`,
      ),
      ["2", "3"],
    );
    assert.deepEqual(await bookings("or: []"), []);
    assert.deepEqual(await bookings("and: []"), ["1", "2", "3"]);
    assert.equal(
      await err(url, `{ bookings(where: { or: [{ status: Cancelled }], price_gt: 1 }) { id } }`),
      "Filter must by an object",
    );
  });

  it("filters on the block an entity last changed in with `_change_block`", async () => {
    const d = await q(url, "{ bookings(where: { _change_block: { number_gte: 5 } }) { id } }");
    assert.deepEqual(ids(d.bookings), ["1", "3"]);
    const h = await q(url, "{ hosts(where: { _change_block: { number_gte: 2 } }) { id } }");
    assert.deepEqual(ids(h.hosts), ["1"]);
  });

  it("orders by each kind of field, numerically for BigInt and BigDecimal, ties by id", async () => {
    const order = async (coll: string, args: string) =>
      ids((await q(url, `{ ${coll}(${args}) { id } }`))[coll] as { id: string }[]);
    assert.deepEqual(
      await order("hosts", "orderBy: bond"),
      ["3", "2", "4", "5", "1"],
      "-5 < 9 < 10 < 100 < huge",
    );
    assert.deepEqual(await order("hosts", "orderBy: bond, orderDirection: desc"), ["1", "5", "4", "2", "3"]);
    assert.deepEqual(await order("hosts", "orderBy: agent"), ["2", "4", "3", "1", "5"]);
    assert.deepEqual(await order("hosts", "orderBy: metadataCid"), ["3", "5", "1", "2", "4"]);
    assert.deepEqual(await order("gpuModelDays", "orderBy: hoursBooked"), ["cpu-1", "H100-1", "A100-1"]);
    assert.deepEqual(await order("listings", "orderBy: gpuCount, orderDirection: desc"), [
      "1",
      "2",
      "5",
      "4",
      "3",
    ]);
    assert.deepEqual(
      await order("listings", "orderBy: active"),
      ["2", "1", "3", "4", "5"],
      "false first, ties by id",
    );
    assert.deepEqual(
      await order("listings", "orderBy: active, orderDirection: desc"),
      ["5", "4", "3", "1", "2"],
      "ties by id in the same direction",
    );
    assert.deepEqual(await order("listings", "orderBy: host"), ["1", "2", "3", "5", "4"]);
    // enums sort in declaration order, as graph-node's Postgres enums do: Booked < Active < … < Disputed < Cancelled
    assert.deepEqual(await order("bookings", "orderBy: status"), ["1", "3", "2"]);
    assert.deepEqual(await order("marketEvents", "first: 3, orderBy: logIndex, orderDirection: desc"), [
      evId(119),
      evId(118),
      evId(117),
    ]);
    assert.deepEqual(await order("marketEvents", "where: { logIndex: 100 }, orderBy: logIndex"), [
      evId(1),
      evId(100),
    ]);
    assert.deepEqual(
      await order("marketEvents", "where: { logIndex: 100 }, orderBy: logIndex, orderDirection: desc"),
      [evId(100), evId(1)],
    );
    // NULLs last ascending, first descending (Postgres)
    assert.deepEqual(await order("bookings", "orderBy: activatedAt"), ["1", "2", "3"]);
    assert.deepEqual(await order("bookings", "orderBy: cancelledAt, orderDirection: desc"), ["3", "1", "2"]);
    // graph-node: orderDirection without orderBy keeps `id asc`
    assert.deepEqual(await order("bookings", "orderDirection: desc"), ["1", "2", "3"]);
    assert.match(
      await err(url, "{ hosts(orderBy: listings) { id } }"),
      /Ordering by `listings` is not supported for type `Host`/,
    );
  });

  it("orders by a referenced entity's field (`field__child`)", async () => {
    const order = async (args: string) => ids((await q(url, `{ bookings(${args}) { id } }`)).bookings);
    assert.deepEqual(await order("orderBy: listing__gpuModel"), ["3", "2", "1"]);
    assert.deepEqual(await order("orderBy: listing__pricePerHour, orderDirection: desc"), ["1", "2", "3"]);
    assert.deepEqual(await order("orderBy: host__bond"), ["3", "1", "2"], "ties (host 1) by booking id");
    assert.deepEqual(await order("orderBy: dispute__reasonCid"), ["1", "3", "2"], "no dispute: NULL, last");
    const l = await q(url, "{ listings(orderBy: host__bond, orderDirection: desc) { id } }");
    assert.deepEqual(ids(l.listings), ["2", "1", "4", "3", "5"]);
  });

  it("travels in time with block: {number} — older versions, removed entities before removal", async () => {
    const status = async (n: number) =>
      (await q(url, `{ booking(id: "1", block: { number: ${n} }) { status activatedAt } }`)).booking;
    assert.equal(await status(1), null, "created at block 2");
    assert.deepEqual(await status(2), { status: "Booked", activatedAt: null });
    assert.deepEqual(await status(3), { status: "Active", activatedAt: "3000" });
    assert.deepEqual(await status(4), { status: "Reported", activatedAt: "3000" });
    assert.deepEqual(await status(5), { status: "Disputed", activatedAt: "3000" });
    const days = async (n: number) =>
      ids((await q(url, `{ gpuModelDays(block: { number: ${n} }) { id } }`)).gpuModelDays);
    assert.deepEqual(await days(3), ["A100-1", "H100-1", "cpu-1", "old-1"]);
    assert.deepEqual(await days(4), ["A100-1", "H100-1", "cpu-1"], "removed at block 4");
    // nested fields use the top-level field's block; each top-level field has its own
    const d = await q(
      url,
      `{ before: host(id: "1", block: { number: 2 }) { metadataCid listings(where: { active: true }) { id } }
         now: host(id: "1") { metadataCid } events: marketEvents(block: { number: 2 }, where: { booking_not: null }) { id } }`,
    );
    assert.deepEqual(d.before, { metadataCid: "QmHostOne", listings: [{ id: "1" }] });
    assert.deepEqual(d.now, { metadataCid: "QmHostOneV2" });
    assert.deepEqual(ids(d.events), [evId(1), evId(2), evId(3)]);
  });

  it("resolves block: {hash} from the store or the callback, and errors like graph-node", async () => {
    const d = await q(
      url,
      `{ booking(id: "1", block: { hash: "${hashOf(3).toUpperCase().replace("0X", "0x")}" }) { status } }`,
    );
    assert.deepEqual(d.booking, { status: "Active" });
    const cb = await q(url, `{ booking(id: "1", block: { hash: "0x${"77".repeat(32)}" }) { status } }`);
    assert.deepEqual(cb.booking, { status: "Active" }, "resolveBlockHash said block 3");
    assert.equal(
      await err(url, `{ booking(id: "1", block: { hash: "0x${"12".repeat(32)}" }) { status } }`),
      "Failed to decode `block.hash` value: `no block with that hash found`",
    );
    assert.match(
      await err(url, `{ bookings(block: { hash: "0xnothex" }) { id } }`),
      /^Failed to decode `block.hash` value/,
    );
  });

  it("refuses blocks beyond the head with graph-node's message; number_gte runs at the head", async () => {
    assert.equal(
      await err(url, "{ bookings(block: { number: 6 }) { id } }"),
      "Failed to decode `block.number` value: `subgraph QmTest has only indexed up to block number 5 and data for block number 6 is therefore not yet available`",
    );
    assert.equal(
      await err(url, "{ bookings(block: { number_gte: 9 }) { id } }"),
      "Failed to decode `block.number_gte` value: `subgraph QmTest has only indexed up to block number 5 and data for block number 9 is therefore not yet available`",
    );
    const d = await q(
      url,
      `{ booking(id: "1", block: { number_gte: 3 }) { status } _meta(block: { number_gte: 3 }) { block { number } } }`,
    );
    assert.deepEqual(d, { booking: { status: "Disputed" }, _meta: { block: { number: 5 } } });
  });

  it("answers _meta like graph-node", async () => {
    const d = await q(
      url,
      `{ _meta { block { number hash timestamp parentHash } deployment hasIndexingErrors }
         old: _meta(block: { number: 2 }) { block { number hash timestamp } }
         byHash: _meta(block: { hash: "${hashOf(4)}" }) { block { number hash timestamp } } }`,
    );
    assert.deepEqual(d._meta, {
      block: { number: 5, hash: hashOf(5), timestamp: ptr(5).timestamp, parentHash: hashOf(4) },
      deployment: "QmTest",
      hasIndexingErrors: false,
    });
    assert.deepEqual(
      d.old,
      { block: { number: 2, hash: null, timestamp: null } },
      "no hash for a block by number",
    );
    assert.deepEqual(d.byHash, { block: { number: 4, hash: hashOf(4), timestamp: ptr(4).timestamp } });
  });

  it("resolves @derivedFrom lists with where/orderBy/first/skip, per parent", async () => {
    const d = await q(
      url,
      `{ booking(id: "1") { events(orderBy: logIndex) { kind logIndex } }
         host(id: "1") { listings(orderBy: gpuModel, first: 1, skip: 1) { id } bookings: listings(where: { active: true }) { id } }
         account(id: "${A2}") { bookings(orderBy: start, orderDirection: desc) { id } } }`,
    );
    assert.deepEqual(
      d.booking.events,
      [
        { kind: "EndpointPublished", logIndex: "9" },
        { kind: "UsageReported", logIndex: "10" },
        { kind: "BookingDisputed", logIndex: "3" },
        { kind: "Booked", logIndex: "100" },
      ].sort((a, b) => Number(a.logIndex) - Number(b.logIndex)),
    );
    assert.deepEqual(d.host, { listings: [{ id: "1" }], bookings: [{ id: "1" }] });
    assert.deepEqual(ids(d.account.bookings), ["2", "1"]);
    // several parents: each gets its own first/skip window
    const many = await q(
      url,
      "{ bookings { id events(first: 2, orderBy: logIndex, orderDirection: desc) { logIndex } } }",
    );
    assert.deepEqual(
      many.bookings.map((b: { id: string; events: { logIndex: string }[] }) => [
        b.id,
        b.events.map((e) => e.logIndex),
      ]),
      [
        ["1", ["100", "10"]],
        ["2", ["1", "1"]],
        ["3", ["2"]],
      ],
    );
    const at2 = await q(url, `{ booking(id: "1", block: { number: 2 }) { events { kind } } }`);
    assert.deepEqual(at2.booking.events, [{ kind: "Booked" }], "children at the parent's block");
    assert.equal(
      await err(url, `{ host(id: "1") { listings(orderBy: host__bond) { id } } }`),
      "Store error: SortKey::ChildKey cannot be used for parent ordering (yet)",
    );
  });

  it("supports variables, fragments, aliases, directives and operationName", async () => {
    const j = await post(
      url,
      `query A($id: ID!, $skip: Boolean!) { booking(id: $id) { ...F p: price listing @skip(if: $skip) { id } } }
       query B { markets { id } }
       fragment F on Booking { id status }`,
      { id: "2", skip: true },
      "A",
    );
    assert.deepEqual(j, { data: { booking: { id: "2", status: "Cancelled", p: "1500" } } });
    assert.equal(
      await err(url, "query A { markets { id } } query B { markets { id } }"),
      "Operation name required",
    );
  });

  it("answers malformed and invalid queries with errors, not crashes", async () => {
    const bad = await post(url, "{ bookings { id ");
    assert.equal(bad.data, undefined);
    const first = (bad.errors ?? [])[0] as { message: string; locations?: unknown[] } | undefined;
    assert.match(first?.message ?? "", /Syntax Error/);
    assert.ok(first?.locations?.length, "with the location");
    assert.equal(await err(url, "{ bookings { nope } }"), 'Cannot query field "nope" on type "Booking".');
    assert.match(
      await err(url, "{ bookings(where: { nope: 1 }) { id } }"),
      /"nope" is not defined by type "Booking_filter"/,
    );
    assert.match(
      await err(url, "query($n: Int!) { bookings(first: $n) { id } }"),
      /Variable "\$n" of required type "Int!" was not provided/,
    );
    assert.match(
      await err(url, `{ hosts(where: { bond: true }) { id } }`),
      /Expected value of type "BigInt"/,
    );
    // still serving
    assert.equal((await q(url, "{ markets { id } }")).markets.length, 1);
  });

  it("limits query depth and result size", async () => {
    const small = await startQueryServer({ db, port: 0, maxDepth: 3, maxEntities: 50, maxSelections: 40 });
    try {
      assert.equal(
        await err(small.url, `{ booking(id: "1") { listing { host { id } } } }`),
        "query has a depth that exceeds the limit of `3`",
      );
      assert.deepEqual((await q(small.url, `{ booking(id: "1") { listing { id } } }`)).booking, {
        listing: { id: "1" },
      });
      assert.match(
        await err(small.url, "{ marketEvents(first: 60) { id } }"),
        /^the result size of 51 entities is larger than the allowed limit of 50/,
      );
      assert.match(
        await err(
          small.url,
          "{ a: marketEvents(first: 30) { id } b: marketEvents(first: 30, skip: 30) { id } }",
        ),
        /larger than the allowed limit of 50/,
      );
      assert.equal(
        await err(small.url, `{ markets { ${"id ".repeat(40)} } }`),
        "query has 41 selections, more than the limit of `40`",
      );
      // introspection is exempt from the depth limit
      const intro = await q(
        small.url,
        "{ __schema { queryType { fields { type { ofType { ofType { name } } } } } } }",
      );
      assert.ok(intro.__schema.queryType.fields.length > 20);
    } finally {
      await small.close();
    }
    assert.equal(
      await err(
        url,
        `{ booking(id: "1") { listing { host { listings { bookings { listing { host { listings { bookings { listing { id } } } } } } } } } } }`,
      ),
      "query has a depth that exceeds the limit of `10`",
    );
  });

  it("answers bad HTTP requests with graph-node's client errors", async () => {
    const big = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ markets { id } } # ${"x".repeat(300 * 1024)}` }),
    });
    assert.equal(big.status, 413);
    assert.match(((await big.json()) as { error: string }).error, /larger than the limit of 262144 bytes/);
    const notJson = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    assert.equal(notJson.status, 400);
    assert.ok(((await notJson.json()) as { error: string }).error);
    const noQuery = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(noQuery.status, 400);
    assert.deepEqual(await noQuery.json(), { error: 'The "query" field is missing in request data' });
    const vars = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ markets { id } }", variables: [1] }),
    });
    assert.deepEqual([vars.status, await vars.json()], [400, { error: "Invalid query variables provided" }]);
    const missing = await fetch(`${server.url.replace(/\/subgraphs.*/, "")}/nowhere`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { message: "Not found" });
    const other = await post(url.replace("computehive", "other"), "{ markets { id } }");
    assert.deepEqual(other, { errors: [{ message: "deployment `other` does not exist" }] });
    const get = await fetch(`${url}?query=${encodeURIComponent(`{ booking(id: "3") { status } }`)}`);
    assert.deepEqual([get.status, await get.json()], [200, { data: { booking: { status: "Disputed" } } }]);
    const byId = await post(url.replace("/name/computehive", "/id/QmTest"), "{ markets { id } }");
    assert.deepEqual(byId, { data: { markets: [{ id: "market" }] } });
    assert.equal((await q(url, "{ markets { id } }")).markets.length, 1, "the server survived");
  });

  it("serves an offline query console on GET (no external URL)", async () => {
    for (const path of [url, `${url}/graphql`]) {
      const r = await fetch(path, { headers: { accept: "text/html" } });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /text\/html/);
      const html = await r.text();
      assert.match(html, /<textarea id="query"/);
      const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
      assert.deepEqual(
        urls.filter((u) => !/^https?:\/\/(127\.0\.0\.1|localhost)([:/]|$)/.test(u)),
        [],
        "no external URL",
      );
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import/);
    }
  });

  it("reports a mapping failure in _meta and the index-node status", async () => {
    const status = `{ indexingStatusForCurrentVersion(subgraphName: "computehive") {
        subgraph synced health fatalError { message block { number hash } handler }
        chains { network latestBlock { number hash } chainHeadBlock { number } } } }`;
    const healthy = await q(server.indexNodeUrl, status);
    assert.deepEqual(healthy.indexingStatusForCurrentVersion, {
      subgraph: "QmTest",
      synced: true,
      health: "healthy",
      fatalError: null,
      chains: [{ network: "localhost", latestBlock: { number: "5", hash: hashOf(5) }, chainHeadBlock: null }],
    });
    const failure = db.commitBlocks(
      [ptr(6)],
      ptr(6),
      () => {
        throw new Error("mapping aborted: booking not found (market.ts:42:7)");
      },
      (e) => ({ message: (e as Error).message, handler: "handleBookingSettled" }),
    );
    assert.ok(failure);
    const meta = await q(url, "{ _meta { hasIndexingErrors block { number } } bookings { id } }");
    assert.deepEqual(meta._meta, { hasIndexingErrors: true, block: { number: 5 } });
    assert.equal(meta.bookings.length, 3, "data up to the failed block is still served");
    const failed = await q(server.indexNodeUrl, status);
    assert.deepEqual(failed.indexingStatusForCurrentVersion, {
      subgraph: "QmTest",
      synced: false,
      health: "failed",
      fatalError: {
        message: "mapping aborted: booking not found (market.ts:42:7)",
        block: { number: "6", hash: hashOf(6) },
        handler: "handleBookingSettled",
      },
      chains: [{ network: "localhost", latestBlock: { number: "5", hash: hashOf(5) }, chainHeadBlock: null }],
    });
    assert.deepEqual(
      await q(server.indexNodeUrl, `{ indexingStatusForCurrentVersion(subgraphName: "x") { health } }`),
      {
        indexingStatusForCurrentVersion: null,
      },
    );
  });
});

// ---- list fields, lists of references and Int8 (a schema of its own: the market schema has none) ----

const LIST_SCHEMA = `
enum Color { Red Green Blue }
type Tag @entity {
  id: ID!
  names: [String!]!
  nums: [BigInt!]
  colors: [Color!]
  owners: [Owner!]!
  big: Int8!
}
type Owner @entity {
  id: ID!
  name: String!
  tags: [Tag!]! @derivedFrom(field: "owners")
}
`;

describe("list fields (own schema)", () => {
  let dir: string;
  let db: SubgraphDb;
  let engine: QueryEngine;
  const run = async (query: string) => {
    const r = await engine.execute({ query });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return JSON.parse(JSON.stringify(r.data)) as Data;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "query-lists-"));
    db = new SubgraphDb(join(dir, "lists.sqlite"), parseSchema(LIST_SCHEMA), "QmLists");
    commit(db, {
      1: (db) => {
        for (const o of ["o1", "o2", "o3"]) db.set("Owner", o, entity({ name: S(o.toUpperCase()) }));
        const tag = (
          names: string[],
          nums: string[] | null,
          colors: string[],
          owners: string[],
          big: bigint,
        ) =>
          entity({
            names: L(names.map(S)),
            ...(nums ? { nums: L(nums.map(N)) } : {}),
            colors: L(colors.map(S)),
            owners: L(owners.map(S)),
            big: I8(big),
          });
        db.set("Tag", "t1", tag(["alpha", "Beta"], ["1", "10"], ["Red"], ["o1", "o2"], 5_000_000_000n));
        db.set("Tag", "t2", tag(["beta", "gamma"], ["100"], ["Green", "Blue"], ["o2"], -3n));
        db.set("Tag", "t3", tag([], null, [], ["o3", "o1"], 7n));
      },
    });
    engine = new QueryEngine(db);
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("generates graph-node's list filters", () => {
    const f = Object.keys((engine.schema.getType("Tag_filter") as GraphQLInputObjectType).getFields());
    assert.deepEqual(
      f.filter((k) => k.startsWith("names")),
      [
        "names",
        "names_not",
        "names_contains",
        "names_contains_nocase",
        "names_not_contains",
        "names_not_contains_nocase",
      ],
    );
    assert.ok(f.includes("owners_") && f.includes("owners_contains"));
    assert.deepEqual(
      f.filter((k) => k.startsWith("tags")),
      [],
    );
    assert.ok(
      Object.keys((engine.schema.getType("Owner_filter") as GraphQLInputObjectType).getFields()).includes(
        "tags_",
      ),
    );
  });

  it("filters lists: _contains all of, _not_contains none of, equality", async () => {
    const tags = async (where: string) => ids((await run(`{ tags(where: { ${where} }) { id } }`)).tags);
    assert.deepEqual(await tags(`names_contains: ["beta"]`), ["t2"]);
    assert.deepEqual(await tags(`names_contains: ["beta", "gamma"]`), ["t2"]);
    assert.deepEqual(await tags(`names_contains: ["alpha", "gamma"]`), []);
    assert.deepEqual(
      await tags(`names_contains_nocase: ["beta"]`),
      ["t2"],
      "graph-node: case-sensitive on lists",
    );
    assert.deepEqual(await tags(`names_not_contains: ["alpha", "gamma"]`), ["t3"]);
    assert.deepEqual(await tags(`names_not_contains_nocase: ["alpha"]`), ["t2", "t3"]);
    assert.deepEqual(await tags(`names: ["alpha", "Beta"]`), ["t1"]);
    assert.deepEqual(await tags(`names_not: []`), ["t1", "t2"]);
    assert.deepEqual(await tags(`nums_contains: ["10"]`), ["t1"]);
    assert.deepEqual(await tags(`nums_contains: [100]`), ["t2"]);
    assert.deepEqual(await tags(`nums: null`), ["t3"]);
    assert.deepEqual(await tags(`nums_not_contains: ["1"]`), ["t2"], "a NULL list is not matched");
    assert.deepEqual(await tags(`colors_contains: [Blue]`), ["t2"]);
    assert.deepEqual(await tags(`owners_contains: ["o1"]`), ["t1", "t3"]);
    assert.deepEqual(await tags(`owners_: { name: "O3" }`), ["t3"]);
  });

  it("resolves lists of references and lists derived from them, with Int8 as strings", async () => {
    const d = await run(
      `{ tags(orderBy: big) { id big owners(orderBy: name, orderDirection: desc) { id } } owner(id: "o1") { tags(first: 1, skip: 1) { id } } }`,
    );
    assert.deepEqual(d.tags, [
      { id: "t2", big: "-3", owners: [{ id: "o2" }] },
      { id: "t3", big: "7", owners: [{ id: "o3" }, { id: "o1" }] },
      { id: "t1", big: "5000000000", owners: [{ id: "o2" }, { id: "o1" }] },
    ]);
    assert.deepEqual(d.owner, { tags: [{ id: "t3" }] });
    const owners = await run(`{ owners(where: { tags_: { big_gt: 6, big_lt: 10 } }) { id } }`);
    assert.deepEqual(ids(owners.owners), ["o1", "o3"]);
    assert.deepEqual(ids((await run("{ tags(where: { big_lt: 5000000000 }) { id } }")).tags), ["t2", "t3"]);
  });

  it("fetches each level with one SQL statement, whatever the number of parents", async () => {
    const original = engine.stmt.bind(engine);
    const sql: string[] = [];
    engine.stmt = (text: string, safe: boolean) => {
      sql.push(text);
      return original(text, safe);
    };
    try {
      const d = await run("{ tags { id owners { id tags(orderBy: big) { id owners { name } } } } }");
      assert.equal(d.tags.length, 3);
      assert.deepEqual(
        d.tags[0].owners.map((o: { tags: { id: string }[] }) => ids(o.tags)),
        [
          ["t3", "t1"],
          ["t2", "t1"],
        ],
      );
      assert.equal(sql.length, 4, sql.join("\n"));
    } finally {
      engine.stmt = original;
    }
  });
});
