// The auditor queries in subgraph/README.md run as written: each ```graphql block is sent to the embedded host's
// query server over a local stack with some history (bookings, a cancellation, an activation), and must come
// back without errors and with data.
// Run: node --import tsx --test subgraph/test/host/readme.test.ts
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import { freePort } from "../../../script/src/lib/anvil.ts";
import { prepareArtifacts } from "../../../script/src/lib/artifacts.ts";
import { deploymentsDir } from "../../../script/src/lib/paths.ts";
import { encryptedEndpoint } from "../../../script/src/lib/payloads.ts";
import type { LocalStack } from "../../../script/src/lib/stack.ts";
import type { SubgraphHost } from "../../host/main.ts";

await prepareArtifacts();
const { marketAbi } = await import("@computehive/sdk");
const { startLocalStack } = await import("../../../script/src/lib/stack.ts");
const { publicClientFor, walletClientFor } = await import("../../../script/src/lib/clients.ts");
const { startSubgraphHost } = await import("../../host/main.ts");
const { bookSome } = await import("./activity.ts");

const here = fileURLToPath(new URL(".", import.meta.url));
const readme = readFileSync(join(here, "..", "..", "README.md"), "utf8");
const queries = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] as string);

describe("README auditor queries", () => {
  let stack: LocalStack;
  let host: SubgraphHost;
  let dir: string;
  const outDir = join(deploymentsDir, ".tmp", `readme-test-${process.pid}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-readme-test-"));
    stack = await startLocalStack({
      port: await freePort(),
      deploymentsDir: outDir,
      metadataDir: join(dir, "m"),
    });
    const [first] = await bookSome(stack, 3, { cancelEvery: 3 });
    const { url, chainId } = stack.anvil;
    const agent = walletClientFor(url, chainId, stack.accounts.agent.account);
    const pub = publicClientFor(url, chainId);
    const tx = await agent.writeContract({
      address: stack.deployment.market as Hex,
      abi: marketAbi,
      functionName: "activate",
      args: [first as bigint, encryptedEndpoint()],
    });
    assert.equal((await pub.waitForTransactionReceipt({ hash: tx })).status, "success");
    // The window passes unreported and the borrower disputes it: an open dispute for the disputes query.
    const market = { address: stack.deployment.market as Hex, abi: marketAbi } as const;
    const b = await pub.readContract({ ...market, functionName: "getBooking", args: [first as bigint] });
    await pub.request({
      method: "evm_setNextBlockTimestamp" as never,
      params: [Number(b.end) + 60] as never,
    });
    const borrower = walletClientFor(url, chainId, stack.accounts.borrower.account);
    const d = await borrower.writeContract({
      ...market,
      functionName: "dispute",
      args: [first as bigint, "bafkreireason"],
    });
    assert.equal((await pub.waitForTransactionReceipt({ hash: d })).status, "success");
    host = await startSubgraphHost({
      rpcUrl: url,
      deployment: stack.deployment,
      dbFile: join(dir, "subgraph.sqlite"),
      port: 0,
      pollMs: 100,
    });
    await host.indexer.syncTo();
  });

  after(async () => {
    await host?.stop();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {});
  });

  it("the README has the auditor queries", () => {
    assert.ok(queries.length >= 6, `found ${queries.length} graphql blocks`);
  });

  it("every README query runs as written, without errors and with data", async () => {
    for (const q of queries) {
      const r = await fetch(host.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: q }),
      });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
      assert.equal(body.errors, undefined, `${q}\n→ ${JSON.stringify(body.errors)}`);
      assert.ok(body.data, q);
      const nonEmpty = Object.values(body.data).some(
        (v) => v !== null && !(Array.isArray(v) && v.length === 0),
      );
      assert.ok(nonEmpty, `some data for:\n${q}\n→ ${JSON.stringify(body.data)}`);
    }
  });

  it("the booking story query returns every event of booking 1 with its transaction", async () => {
    const r = await fetch(host.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: queries[0] }),
    });
    const body = (await r.json()) as {
      data: { booking: { status: string; events: { kind: string; txHash: string }[] } };
    };
    assert.equal(body.data.booking.status, "Disputed");
    assert.deepEqual(
      body.data.booking.events.map((e) => e.kind),
      ["Booked", "EndpointPublished", "BookingDisputed"],
    );
    for (const e of body.data.booking.events) assert.match(e.txHash, /^0x[0-9a-f]{64}$/);
  });
});
