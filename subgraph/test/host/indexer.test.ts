// The embedded host's durability: entity versions and time travel in the SQLite store, crash-and-resume at exact
// points (a child process SIGKILLs itself mid-block and between commits), eth_getLogs range shrinking behind a
// provider that limits ranges, and reorgs on anvil (evm_snapshot/evm_revert) rolled back to the common ancestor.
// Each chain test compares every entity version with a from-scratch index of the same chain.
// Run: node --import tsx --test subgraph/test/host/indexer.test.ts
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../../script/src/lib/anvil.ts";
import { prepareArtifacts } from "../../../script/src/lib/artifacts.ts";
import { deploymentsDir } from "../../../script/src/lib/paths.ts";
import type { LocalStack } from "../../../script/src/lib/stack.ts";
import { type BlockPtr, StoreError, SubgraphDb } from "../../host/db.ts";
import { parseDecimal } from "../../host/decimal.ts";
import { defaultBuildDir, Indexer, isRangeLimitError } from "../../host/indexer.ts";
import { loadSchema, parseSchema, sortKeyBigInt, sortKeyDecimal } from "../../host/model.ts";
import { type EntityData, StoreKind } from "../../host/wasm.ts";

await prepareArtifacts();
const { startLocalStack } = await import("../../../script/src/lib/stack.ts");
const { bookSome } = await import("./activity.ts");

const here = fileURLToPath(new URL(".", import.meta.url));
const schema = loadSchema(join(here, "..", "..", "schema.graphql"));
const s = (value: string) => ({ kind: StoreKind.String, value }) as const;
const i = (value: number) => ({ kind: StoreKind.Int, value }) as const;
const bi = (value: bigint) => ({ kind: StoreKind.BigInt, value }) as const;
const ptr = (n: number): BlockPtr => ({
  number: n,
  hash: `0x${n.toString(16).padStart(64, "0")}`,
  timestamp: 1000 + n,
});
const noDescribe = (e: unknown) => ({ message: (e as Error).message });

// The store tests use a schema of their own, so schema.graphql can grow without touching them.
const testSchema = parseSchema(`
  enum Kind { A B }
  "Mutable, with every scalar kind."
  type GpuModelDay @entity(immutable: false) {
    id: ID!
    gpuModel: String!
    day: Int!
    date: BigInt!
    bookings: Int!
    hoursBooked: BigDecimal!
    big: Int8
    note: String
  }
  type MarketEvent @entity(immutable: true) { id: Bytes! kind: Kind! }
  type Withdrawal @entity(immutable: true) {
    id: Bytes!
    account: Bytes!
    asset: Bytes!
    amount: BigInt!
    timestamp: BigInt!
    blockNumber: BigInt!
    txHash: Bytes!
  }
`);

/** A complete GpuModelDay (every non-null field set). */
function day(id: string, bookings: number): EntityData {
  return new Map<string, import("../../host/wasm.ts").StoreValue>([
    ["id", s(id)],
    ["gpuModel", s("cpu")],
    ["day", i(1)],
    ["date", bi(86400n)],
    ["bookings", i(bookings)],
    ["hoursBooked", { kind: StoreKind.BigDecimal, value: parseDecimal("1.5") }],
  ]);
}

describe("SQLite store", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-db-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps one version per block with [from, to) ranges, so older blocks read older values", () => {
    const db = new SubgraphDb(join(dir, "versions.sqlite"), testSchema, "QmA");
    db.commitBlocks([ptr(5)], ptr(5), () => db.set("GpuModelDay", "cpu-1", day("cpu-1", 1)), noDescribe);
    db.commitBlocks(
      [ptr(7)],
      ptr(8),
      () => {
        db.set("GpuModelDay", "cpu-1", new Map([["bookings", i(2)]]));
        // a second write in the same block replaces the block's version, it does not add one
        db.set("GpuModelDay", "cpu-1", new Map([["bookings", i(3)]]));
      },
      noDescribe,
    );
    db.commitBlocks([ptr(9)], ptr(9), () => db.remove("GpuModelDay", "cpu-1"), noDescribe);
    const bookingsAt = (b: number | null) => db.load("GpuModelDay", "cpu-1", b)?.get("bookings");
    assert.equal(bookingsAt(4), undefined);
    assert.deepEqual(bookingsAt(5), i(1));
    assert.deepEqual(bookingsAt(6), i(1));
    assert.deepEqual(bookingsAt(7), i(3));
    assert.deepEqual(bookingsAt(8), i(3));
    assert.equal(bookingsAt(9), undefined, "removed at block 9");
    assert.equal(db.get("GpuModelDay", "cpu-1"), null);
    const rows = db.dump().GpuModelDay?.map((r) => [r.block_from, r.block_to, r.bookings]);
    assert.deepEqual(rows, [
      [5, 7, 1],
      [7, 9, 3],
    ]);
    assert.deepEqual(db.head(), ptr(9));
    db.close();
  });

  it("keeps Int8 values exactly (beyond 2^53) and drops fields set to null", () => {
    const db = new SubgraphDb(join(dir, "int8.sqlite"), testSchema, "QmA");
    const big = 2n ** 62n + 1n;
    const e = day("x", 1);
    e.set("big", { kind: StoreKind.Int8, value: big });
    e.set("note", s("hello"));
    db.commitBlocks([ptr(1)], ptr(1), () => db.set("GpuModelDay", "x", e), noDescribe);
    assert.deepEqual(db.get("GpuModelDay", "x")?.get("big"), { kind: StoreKind.Int8, value: big });
    db.commitBlocks(
      [ptr(2)],
      ptr(2),
      () => db.set("GpuModelDay", "x", new Map([["note", { kind: StoreKind.Null }]])),
      noDescribe,
    );
    assert.equal(db.get("GpuModelDay", "x")?.has("note"), false);
    assert.deepEqual(db.load("GpuModelDay", "x", 1)?.get("note"), s("hello"));
    db.close();
  });

  it("reverting to an ancestor deletes later versions and reopens the ones they closed", () => {
    const db = new SubgraphDb(join(dir, "revert.sqlite"), testSchema, "QmA");
    db.commitBlocks([ptr(5)], ptr(5), () => db.set("GpuModelDay", "d", day("d", 1)), noDescribe);
    db.commitBlocks([ptr(6)], ptr(6), () => db.set("GpuModelDay", "d", day("d", 2)), noDescribe);
    db.commitBlocks([ptr(7)], ptr(7), () => db.remove("GpuModelDay", "d"), noDescribe);
    db.revertTo(ptr(5));
    assert.deepEqual(db.get("GpuModelDay", "d")?.get("bookings"), i(1));
    assert.deepEqual(
      db.dump().GpuModelDay?.map((r) => [r.block_from, r.block_to]),
      [[5, null]],
    );
    assert.equal(db.blockPtr(6), undefined);
    assert.deepEqual(db.head(), ptr(5));
    db.close();
  });

  it("a block whose handler throws leaves no trace; earlier blocks of the batch are kept and the failure recorded", () => {
    const db = new SubgraphDb(join(dir, "fail.sqlite"), testSchema, "QmA");
    const err = db.commitBlocks(
      [ptr(3), ptr(4)],
      ptr(10),
      (b) => {
        db.set("GpuModelDay", `d${b.number}`, day(`d${b.number}`, b.number));
        if (b.number === 4) throw new Error("boom");
      },
      (e) => ({ message: `handleX: ${(e as Error).message}`, handler: "handleX" }),
    );
    assert.match(String(err), /boom/);
    assert.ok(db.get("GpuModelDay", "d3"));
    assert.equal(db.get("GpuModelDay", "d4"), null);
    assert.deepEqual(db.head(), ptr(3), "the cursor stays on the last good block");
    assert.deepEqual(db.health(), {
      failed: true,
      error: { message: "handleX: boom", handler: "handleX", block: 4, blockHash: ptr(4).hash },
    });
    db.close();
  });

  it("rejects what graph-node rejects: a missing non-null field, an unknown field, a bad enum, a second immutable write", () => {
    const db = new SubgraphDb(join(dir, "errors.sqlite"), testSchema, "QmA");
    const incomplete = day("x", 1);
    incomplete.delete("date");
    const step = (f: () => void) => db.commitBlocks([ptr(1)], ptr(1), f, noDescribe);
    assert.match(
      String(step(() => db.set("GpuModelDay", "x", incomplete))),
      /missing value for non-nullable field `date`/,
    );
    assert.match(
      String(step(() => db.set("GpuModelDay", "x", new Map([["nope", i(1)]])))),
      /no field `nope` in the schema/,
    );
    const bytes = (h: string) =>
      ({ kind: StoreKind.Bytes, value: Uint8Array.from(Buffer.from(h, "hex")) }) as const;
    const badEnum = new Map<string, import("../../host/wasm.ts").StoreValue>([
      ["id", bytes("01")],
      ["kind", s("Wrong")],
    ]);
    assert.match(
      String(step(() => db.set("MarketEvent", "0x01", badEnum))),
      /`Wrong` is not a value of enum Kind/,
    );
    const withdrawal = new Map<string, import("../../host/wasm.ts").StoreValue>([
      ["id", bytes("aa")],
      ["account", bytes("01")],
      ["asset", bytes("00")],
      ["amount", bi(5n)],
      ["timestamp", bi(1n)],
      ["blockNumber", bi(2n)],
      ["txHash", bytes("bb")],
    ]);
    assert.equal(
      db.commitBlocks([ptr(2)], ptr(2), () => db.set("Withdrawal", "0xaa", withdrawal), noDescribe),
      null,
    );
    assert.match(
      String(db.commitBlocks([ptr(3)], ptr(3), () => db.set("Withdrawal", "0xaa", withdrawal), noDescribe)),
      /immutable; it was already written at block 2/,
    );
    assert.ok(db.health().failed);
    assert.throws(
      () => new SubgraphDb(join(dir, "errors.sqlite"), testSchema, "QmOther"),
      /holds deployment QmA/,
    );
    assert.ok(new StoreError("x") instanceof Error);
    db.close();
  });

  it("sort keys order BigInts and BigDecimals numerically (random pairs)", () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const randBig = () => {
      const digits = 1 + (rnd() % 80);
      let x = 0n;
      for (let k = 0; k < digits; k++) x = x * 10n + BigInt(rnd() % 10);
      return rnd() % 2 ? -x : x;
    };
    for (let k = 0; k < 3000; k++) {
      const a = randBig();
      const b = randBig();
      const ka = sortKeyBigInt(a);
      const kb = sortKeyBigInt(b);
      assert.equal(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0), a < b ? -1 : a > b ? 1 : 0, `${a} vs ${b}`);
      // decimals: a × 10^-ea vs b × 10^-eb, compared exactly through integers
      const ea = rnd() % 50;
      const eb = rnd() % 50;
      const da = decimalString(a, ea);
      const db_ = decimalString(b, eb);
      const exact = a * 10n ** BigInt(eb) - b * 10n ** BigInt(ea);
      const kda = sortKeyDecimal(da);
      const kdb = sortKeyDecimal(db_);
      assert.equal(
        Math.sign(kda < kdb ? -1 : kda > kdb ? 1 : 0),
        exact < 0n ? -1 : exact > 0n ? 1 : 0,
        `${da} vs ${db_}`,
      );
    }
    assert.equal(sortKeyDecimal("1E+40") > sortKeyDecimal("99999999999999999999"), true);
    assert.equal(sortKeyDecimal("-0.000"), sortKeyDecimal("0"));
  });
});

function decimalString(x: bigint, scale: number): string {
  const neg = x < 0n;
  const d = (neg ? -x : x).toString().padStart(scale + 1, "0");
  const out = scale === 0 ? d : `${d.slice(0, d.length - scale)}.${d.slice(d.length - scale)}`;
  return neg ? `-${out}` : out;
}

// ---- against anvil ----

const rpc = async (url: string, method: string, params: unknown[] = []) => {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const j = (await r.json()) as { result?: unknown; error?: { message: string } };
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
};

function runChild(
  args: object,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        "--import",
        "tsx",
        join(here, "fixtures", "index-child.ts"),
        JSON.stringify(args, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      ],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number; signal?: string }) | null;
        resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

describe("indexer against anvil", () => {
  let stack: LocalStack;
  let dir: string;
  let target: number;
  let reference: ReturnType<SubgraphDb["dump"]>;
  let handledTotal: number;
  const outDir = join(deploymentsDir, ".tmp", `indexer-test-${process.pid}`);

  const freshDump = async (to: number, rpcUrl = stack.anvil.url) => {
    const ix = await Indexer.create({ rpcUrl, deployment: stack.deployment, buildDir: defaultBuildDir });
    await ix.syncTo(BigInt(to));
    const d = ix.store.dump();
    ix.close();
    return d;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-indexer-test-"));
    stack = await startLocalStack({
      port: await freePort(),
      deploymentsDir: outDir,
      metadataDir: join(dir, "m"),
    });
    await bookSome(stack, 6, { cancelEvery: 3 });
    target = Number(await rpc(stack.anvil.url, "eth_blockNumber"));
    const ix = await Indexer.create({
      rpcUrl: stack.anvil.url,
      deployment: stack.deployment,
      buildDir: defaultBuildDir,
    });
    await ix.syncTo(BigInt(target));
    reference = ix.store.dump();
    handledTotal = ix.handled;
    ix.close();
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {});
  });

  it("indexed a history with several entity versions", () => {
    assert.ok(handledTotal >= 15, `handled ${handledTotal}`);
    assert.ok((reference.Booking?.length ?? 0) > 6, "bookings have more than one version");
  });

  it("resumes after a SIGKILL at any point with exactly the same entity versions as an uninterrupted run", async () => {
    const base = {
      rpcUrl: stack.anvil.url,
      deployment: { ...stack.deployment, startBlock: Number(stack.deployment.startBlock) },
      buildDir: defaultBuildDir,
      target,
      blockRange: 4,
    };
    const points = [
      { killAfterHandled: 1 },
      { killAfterHandled: Math.floor(handledTotal / 2) },
      { killAfterHandled: handledTotal - 1 },
      { killAfterCommits: 2 },
    ];
    for (const [k, point] of points.entries()) {
      const dbFile = join(dir, `crash-${k}.sqlite`);
      const killed = await runChild({ ...base, ...point, dbFile });
      assert.equal(
        killed.signal,
        "SIGKILL",
        `child was killed at ${JSON.stringify(point)} (${killed.stderr})`,
      );
      // a second crash during the resume, then a clean run
      const again = await runChild({ ...base, dbFile, killAfterHandled: 2 });
      assert.ok(again.signal === "SIGKILL" || again.code === 0, again.stderr);
      const done = await runChild({ ...base, dbFile });
      assert.equal(done.code, 0, done.stderr);
      assert.equal(JSON.parse(done.stdout).head, target);
      const db = new SubgraphDb(dbFile, schema, "ignored", { readonly: true });
      assert.deepEqual(db.dump(), reference, `same versions after a crash at ${JSON.stringify(point)}`);
      db.close();
    }
  });

  it("halves the eth_getLogs range when the provider refuses it, and indexes the same data", async () => {
    const maxSpan = 3;
    let refused = 0;
    let largestAccepted = 0;
    const proxy: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const calls = Array.isArray(body) ? body : [body];
      const limited = calls.find(
        (c: { method: string; params: { fromBlock: string; toBlock: string }[] }) => {
          if (c.method !== "eth_getLogs") return false;
          const p = c.params[0] as { fromBlock: string; toBlock: string };
          const span = Number(p.toBlock) - Number(p.fromBlock) + 1;
          if (span > maxSpan) return true;
          largestAccepted = Math.max(largestAccepted, span);
          return false;
        },
      );
      if (limited) {
        refused++;
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: limited.id,
            error: { code: -32005, message: `query exceeds max block range ${maxSpan}` },
          }),
        );
        return;
      }
      const r = await fetch(stack.anvil.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      res.setHeader("content-type", "application/json");
      res.end(await r.text());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as { port: number }).port;
    try {
      const ix = await Indexer.create({
        rpcUrl: `http://127.0.0.1:${port}`,
        deployment: stack.deployment,
        buildDir: defaultBuildDir,
        blockRange: 1000,
      });
      await ix.syncTo(BigInt(target));
      assert.ok(refused >= 1, "the proxy refused at least one range");
      assert.ok(largestAccepted <= maxSpan && largestAccepted >= 1);
      assert.deepEqual(ix.store.dump(), reference);
      ix.close();
    } finally {
      proxy.close();
    }
    assert.equal(isRangeLimitError(new Error("Internal error")), false, "other errors are not range limits");
  });

  it("rolls back a reorg to the common ancestor (longer and shorter replacement chains)", async () => {
    const url = stack.anvil.url;
    const dbFile = join(dir, "reorg.sqlite");
    const ix = await Indexer.create({
      rpcUrl: url,
      deployment: stack.deployment,
      buildDir: defaultBuildDir,
      dbFile,
    });
    await ix.syncTo();
    const snap = (await rpc(url, "evm_snapshot")) as string;
    const forkPoint = Number(await rpc(url, "eth_blockNumber"));
    await bookSome(stack, 3, { offsetSlots: 100 });
    await ix.syncTo();
    const oldHead = ix.store.head();
    assert.equal(oldHead?.number, forkPoint + 3);

    // Replacement chain 1: two other bookings plus empty blocks, longer than the old one.
    await rpc(url, "evm_revert", [snap]);
    const snap2 = (await rpc(url, "evm_snapshot")) as string;
    await bookSome(stack, 2, { offsetSlots: 200, comment: "replacement@chain" });
    await rpc(url, "anvil_mine", ["0x3"]);
    const head1 = await ix.syncTo();
    assert.equal(ix.reorgs, 1, "one reorg detected");
    assert.deepEqual(
      ix.store.dump(),
      await freshDump(Number(head1)),
      "same versions as indexing the new chain from scratch",
    );

    // Replacement chain 2: shorter than what is indexed (the stored head no longer exists).
    await rpc(url, "evm_revert", [snap2]);
    await bookSome(stack, 1, { offsetSlots: 300, comment: "short@chain" });
    const head2 = await ix.syncTo();
    assert.ok(Number(head2) < Number(head1));
    assert.equal(ix.reorgs, 2);
    assert.deepEqual(ix.store.dump(), await freshDump(Number(head2)));
    ix.close();
  });
});
