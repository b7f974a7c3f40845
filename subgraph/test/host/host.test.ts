// The embedded subgraph host end to end: the local stack (anvil + DeployMarket + demo seed), a booking by anvil
// account 3 activated by the agent (account 2), then subgraph/build/Market/Market.wasm run over every market log by
// subgraph/host, and the entities checked in the in-memory store. Needs `npm -w subgraph run build` first.
// Run: node --import tsx --test "subgraph/test/host/*.test.ts"
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Hex, parseEventLogs } from "viem";
import { freePort } from "../../../script/src/lib/anvil.ts";
import { prepareArtifacts } from "../../../script/src/lib/artifacts.ts";
import { deploymentsDir } from "../../../script/src/lib/paths.ts";
import {
  encryptedEndpoint,
  sshEd25519PublicKeyLine,
  x25519PublicKey,
} from "../../../script/src/lib/payloads.ts";
import type { LocalStack } from "../../../script/src/lib/stack.ts";
import { add, div, formatDecimal, mul, parseDecimal, sub } from "../../host/decimal.ts";
import { defaultBuildDir, Indexer } from "../../host/indexer.ts";
import { EntityStore } from "../../host/store.ts";
import {
  bigIntFromBytes,
  bigIntToBytes,
  type EntityData,
  MappingAbort,
  MappingCriticalLog,
  MappingInstance,
  StoreKind,
  type StoreValue,
  toHex,
} from "../../host/wasm.ts";

await prepareArtifacts();
const { marketAbi } = await import("@computehive/sdk");
const { startLocalStack } = await import("../../../script/src/lib/stack.ts");
const { publicClientFor, walletClientFor } = await import("../../../script/src/lib/clients.ts");

function field(e: EntityData | null, name: string): StoreValue {
  assert.ok(e, "entity exists");
  const v = e.get(name);
  assert.ok(v, `field ${name} is set`);
  return v;
}
const str = (e: EntityData | null, n: string) => {
  const v = field(e, n);
  assert.equal(v.kind, StoreKind.String, `${n} is a String`);
  return (v as { value: string }).value;
};
const big = (e: EntityData | null, n: string) => {
  const v = field(e, n);
  assert.equal(v.kind, StoreKind.BigInt, `${n} is a BigInt`);
  return (v as { value: bigint }).value;
};
const int = (e: EntityData | null, n: string) => {
  const v = field(e, n);
  assert.equal(v.kind, StoreKind.Int, `${n} is an Int`);
  return (v as { value: number }).value;
};
const bytes = (e: EntityData | null, n: string) => {
  const v = field(e, n);
  assert.equal(v.kind, StoreKind.Bytes, `${n} is Bytes`);
  return toHex((v as { value: Uint8Array }).value);
};

describe("host helpers", () => {
  it("BigInt bytes are signed little-endian two's complement", () => {
    for (const x of [
      0n,
      1n,
      -1n,
      127n,
      128n,
      -128n,
      -129n,
      255n,
      256n,
      2n ** 255n,
      -(2n ** 255n),
      10n ** 30n,
    ]) {
      assert.equal(bigIntFromBytes(bigIntToBytes(x)), x, String(x));
    }
    assert.deepEqual([...bigIntToBytes(128n)], [0x80, 0x00]);
    assert.deepEqual([...bigIntToBytes(-1n)], [0xff]);
    assert.deepEqual([...bigIntToBytes(0n)], [0]);
  });
  it("an import the host does not implement throws an Error naming it", async () => {
    // (module (import "index" "ethereum.call" (func)) (func (export "run") call 0))
    const wasm = Uint8Array.from([
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      0x01,
      0x04,
      0x01,
      0x60,
      0x00,
      0x00,
      0x02,
      0x17,
      0x01,
      0x05,
      ...Buffer.from("index"),
      0x0d,
      ...Buffer.from("ethereum.call"),
      0x00,
      0x00,
      0x03,
      0x02,
      0x01,
      0x00,
      0x07,
      0x07,
      0x01,
      0x03,
      ...Buffer.from("run"),
      0x00,
      0x01,
      0x0a,
      0x06,
      0x01,
      0x04,
      0x00,
      0x10,
      0x00,
      0x0b,
    ]);
    const dir = await mkdtemp(join(tmpdir(), "computehive-host-wasm-"));
    try {
      const file = join(dir, "m.wasm");
      await writeFile(file, wasm);
      const m = await MappingInstance.load(file, new EntityStore().context());
      assert.deepEqual(m.importsUsed, ["index.ethereum.call"]);
      assert.throws(
        () => (m.exports.run as () => void)(),
        /host function index\.ethereum\.call is not implemented/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("env.abort throws a MappingAbort with message, file, line and column", async () => {
    // (module (import "env" "abort" (func (param i32 i32 i32 i32))) (memory (export "memory") 1)
    //   (data (i32.const 0) <16-byte header, size 4 at 16, "hi" UTF-16 at 20>)
    //   (func (export "run") (call 0 (i32.const 20) (i32.const 20) (i32.const 7) (i32.const 3))))
    const wasm = Uint8Array.from([
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      0x01,
      0x0b,
      0x02,
      0x60,
      0x04,
      0x7f,
      0x7f,
      0x7f,
      0x7f,
      0x00,
      0x60,
      0x00,
      0x00,
      0x02,
      0x0d,
      0x01,
      0x03,
      ...Buffer.from("env"),
      0x05,
      ...Buffer.from("abort"),
      0x00,
      0x00,
      0x03,
      0x02,
      0x01,
      0x01,
      0x05,
      0x03,
      0x01,
      0x00,
      0x01,
      0x07,
      0x10,
      0x02,
      0x03,
      ...Buffer.from("run"),
      0x00,
      0x01,
      0x06,
      ...Buffer.from("memory"),
      0x02,
      0x00,
      0x0a,
      0x0e,
      0x01,
      0x0c,
      0x00,
      0x41,
      0x14,
      0x41,
      0x14,
      0x41,
      0x07,
      0x41,
      0x03,
      0x10,
      0x00,
      0x0b,
      0x0b,
      0x1e,
      0x01,
      0x00,
      0x41,
      0x00,
      0x0b,
      0x18,
      ...new Uint8Array(16),
      0x04,
      0x00,
      0x00,
      0x00,
      0x68,
      0x00,
      0x69,
      0x00,
    ]);
    const dir = await mkdtemp(join(tmpdir(), "computehive-host-wasm-"));
    try {
      const file = join(dir, "m.wasm");
      await writeFile(file, wasm);
      const m = await MappingInstance.load(file, new EntityStore().context());
      assert.throws(
        () => (m.exports.run as () => void)(),
        (e: unknown) =>
          e instanceof MappingAbort &&
          e.abortMessage === "hi" &&
          e.file === "hi" &&
          e.line === 7 &&
          e.column === 3 &&
          e.message === "mapping aborted: hi (hi:7:3)",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("BigDecimal keeps 34 significant digits and prints plainly", () => {
    const d = (s: string) => parseDecimal(s);
    assert.equal(formatDecimal(div(d("1"), d("3"))), `0.${"3".repeat(34)}`);
    assert.equal(formatDecimal(div(d("2"), d("3"))), `0.${"6".repeat(33)}7`);
    assert.equal(formatDecimal(add(d("0.1"), d("0.2"))), "0.3");
    assert.equal(formatDecimal(sub(d("1"), d("1.5"))), "-0.5");
    assert.equal(formatDecimal(mul(d("1.5e3"), d("2"))), "3000");
    assert.equal(formatDecimal(d("100.000")), "100");
    assert.throws(() => div(d("1"), d("0")), /division by zero/);
  });
});

// forge may write deployment records only under deployments/: a private folder there, removed afterwards.
const outDir = join(deploymentsDir, ".tmp", `host-test-${process.pid}`);

describe("embedded host indexes the local stack", () => {
  let stack: LocalStack;
  let dir: string;
  let indexer: Indexer;
  let bookingId: bigint;
  let marketLogCount = 0;
  let bookedBlock: bigint;

  before(async () => {
    const wasm = join(defaultBuildDir, "Market", "Market.wasm");
    assert.ok(existsSync(wasm), `${wasm} is missing: run npm -w subgraph run build`);
    dir = await mkdtemp(join(tmpdir(), "computehive-host-test-"));
    stack = await startLocalStack({
      port: await freePort(),
      deploymentsDir: outDir,
      metadataDir: join(dir, "metadata"),
    });
    const { url, chainId } = stack.anvil;
    const pub = publicClientFor(url, chainId);
    const market = { address: stack.deployment.market as Hex, abi: marketAbi } as const;
    const borrower = walletClientFor(url, chainId, stack.accounts.borrower.account);
    const agent = walletClientFor(url, chainId, stack.accounts.agent.account);

    const { listingId, leadTime, minSlots } = stack.seed;
    const slot = BigInt(stack.deployment.params.slotLength);
    const now = (await pub.getBlock()).timestamp;
    const start = ((now + BigInt(leadTime) + 3600n + slot - 1n) / slot) * slot;
    const end = start + BigInt(minSlots) * slot;
    const [price] = await pub.readContract({
      ...market,
      functionName: "quote",
      args: [listingId, Number(start), Number(end)],
    });
    const bookTx = await borrower.writeContract({
      ...market,
      functionName: "book",
      args: [listingId, Number(start), Number(end), x25519PublicKey(), sshEd25519PublicKeyLine()],
      value: price,
    });
    const bookReceipt = await pub.waitForTransactionReceipt({ hash: bookTx });
    assert.equal(bookReceipt.status, "success");
    const [booked] = parseEventLogs({ abi: marketAbi, logs: bookReceipt.logs, eventName: "Booked" });
    assert.ok(booked, "Booked emitted");
    bookingId = booked.args.bookingId;
    bookedBlock = bookReceipt.blockNumber;
    const actTx = await agent.writeContract({
      ...market,
      functionName: "activate",
      args: [bookingId, encryptedEndpoint()],
    });
    assert.equal((await pub.waitForTransactionReceipt({ hash: actTx })).status, "success");

    marketLogCount = (
      await pub.getLogs({
        address: market.address,
        fromBlock: BigInt(stack.deployment.startBlock),
        toBlock: "latest",
      })
    ).length;

    indexer = await Indexer.create({
      rpcUrl: url,
      deployment: stack.deployment,
      buildDir: defaultBuildDir,
      blockRange: 3, // several getLogs ranges even on a short chain
    });
    await indexer.syncTo();
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {});
  });

  it("called a handler for every market log", () => {
    assert.ok(marketLogCount >= 5, `the stack emitted market logs (${marketLogCount})`);
    assert.equal(indexer.handled, marketLogCount);
    // One immutable audit entry per event.
    assert.equal(indexer.store.count("MarketEvent"), marketLogCount);
    const kinds = indexer.store.all("MarketEvent").map((e) => str(e, "kind"));
    for (const k of ["HostRegistered", "ListingCreated", "Booked", "EndpointPublished"]) {
      assert.ok(kinds.includes(k), `a ${k} MarketEvent (got ${kinds.join(",")})`);
    }
  });

  it("turns a failing handler (log.critical) into an error naming the handler and the log", async () => {
    // A fresh store that starts at the booking's block: handleBooked finds no listing and aborts.
    const fresh = await Indexer.create({
      rpcUrl: stack.anvil.url,
      deployment: { ...stack.deployment, startBlock: bookedBlock },
      buildDir: defaultBuildDir,
    });
    await assert.rejects(fresh.syncTo(bookedBlock), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`^handleBooked failed at block ${bookedBlock} log \\d+ \\(tx 0x[0-9a-f]{64}\\)`),
      );
      assert.ok(e.cause instanceof MappingCriticalLog, `cause is a MappingCriticalLog: ${e.message}`);
      assert.equal(e.cause.logMessage, `unknown listing ${stack.seed.listingId}`);
      return true;
    });
    assert.equal(fresh.store.count("Booking"), 0);
    // The deployment is failed, as graph-node marks it: the error is kept and the cursor stays before the block.
    const health = fresh.store.health();
    assert.equal(health.failed, true);
    assert.equal(health.error?.block, Number(bookedBlock));
    assert.match(health.error?.message ?? "", /^handleBooked failed at block \d+ log \d+ .*unknown listing/);
    assert.equal(health.error?.handler, "handleBooked");
    assert.equal(fresh.head, bookedBlock - 1n);
    await assert.rejects(fresh.syncTo(), /handleBooked failed/, "a failed deployment stays failed");
    fresh.close();
  });

  it("stores the demo host", () => {
    const h = indexer.store.get("Host", stack.seed.hostId.toString());
    assert.equal(bytes(h, "lender"), stack.accounts.lender.address.toLowerCase());
    assert.equal(bytes(h, "agent"), stack.accounts.agent.address.toLowerCase());
    assert.equal(big(h, "bond"), stack.seed.bond);
    assert.equal(str(h, "metadataCid"), stack.seed.hostMetadataCid);
    assert.equal(int(h, "openBookings"), 1);
  });

  it("stores the listing with its hardware tuple", () => {
    const l = indexer.store.get("Listing", stack.seed.listingId.toString());
    assert.equal(str(l, "host"), stack.seed.hostId.toString());
    assert.equal(str(l, "gpuModel"), stack.seed.hardware.gpuModel);
    assert.equal(int(l, "gpuCount"), stack.seed.hardware.gpuCount);
    assert.equal(int(l, "cpuCores"), stack.seed.hardware.cpuCores);
    assert.equal(big(l, "ramMiB"), BigInt(stack.seed.hardware.ramMiB));
    assert.equal(str(l, "region"), stack.seed.hardware.region);
    assert.equal(big(l, "pricePerHour"), stack.seed.pricePerHour);
    assert.equal(int(l, "minSlots"), stack.seed.minSlots);
    assert.equal(int(l, "bookingCount"), 1);
  });

  it("stores the booking as Active, borrowed by account 3", () => {
    const b = indexer.store.get("Booking", bookingId.toString());
    assert.equal(str(b, "status"), "Active");
    assert.equal(str(b, "listing"), stack.seed.listingId.toString());
    assert.equal(bytes(b, "borrower"), stack.accounts.borrower.address.toLowerCase());
    assert.ok(big(b, "activatedAt") > 0n);
  });
});
