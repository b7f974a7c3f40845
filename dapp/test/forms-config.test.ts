import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ConfigError, fetchRuntimeConfig, parseRuntimeConfig } from "../lib/config.ts";
import { type ListingFormInput, validateListingForm, validateRegisterHost } from "../lib/listing-form.ts";
import { DEFAULT_RPC_URL, DEFAULT_SUBGRAPH_URL, loadRuntimeConfig } from "../lib/server-config.ts";
import { accountId, entityId, lenderQuery, querySubgraph, SubgraphError } from "../lib/subgraph.ts";
import { fetchAssetInfo } from "../lib/token-info.ts";

const form: ListingFormInput = {
  hostId: "1",
  gpuModel: "NVIDIA H100 80GB HBM3",
  gpuCount: "2",
  vramGiB: "80",
  cpuCores: "32",
  ramGiB: "256",
  diskGiB: "2000",
  region: "eu-west",
  confidential: "1",
  payment: "native",
  tokenAddress: "",
  tokenDecimals: null,
  pricePerHour: "1.5",
  minHours: "0.5",
  maxHours: "48",
  leadMinutes: "30",
  metadataCid: "",
};

describe("the create-listing form, checked as Market.createListing checks it", () => {
  test("a valid form becomes the contract's arguments", () => {
    const r = validateListingForm(form, 900);
    expect(r).toEqual({
      ok: true,
      value: {
        hostId: 1n,
        hardware: {
          gpuModel: "NVIDIA H100 80GB HBM3",
          gpuCount: 2,
          vramMiBPerGpu: 81920,
          cpuCores: 32,
          ramMiB: 262144,
          diskGiB: 2000,
          region: "eu-west",
          confidential: 1,
        },
        asset: "0x0000000000000000000000000000000000000000",
        usdPriced: false,
        pricePerHour: 1_500_000_000_000_000_000n,
        minSlots: 2,
        maxSlots: 192,
        leadTime: 1800,
        metadataCid: "",
      },
    });
  });

  test("an honest CPU-only development host: no model, 0 GPUs, 0 VRAM", () => {
    const r = validateListingForm({ ...form, gpuModel: "", gpuCount: "0", vramGiB: "0" }, 900);
    expect(r.ok && r.value.hardware).toMatchObject({ gpuModel: "", gpuCount: 0, vramMiBPerGpu: 0 });
    const lying = validateListingForm({ ...form, gpuModel: "H100", gpuCount: "0", vramGiB: "0" }, 900);
    expect(!lying.ok && lying.errors.gpuCount).toMatch(/no passthrough GPU/);
    const noModel = validateListingForm({ ...form, gpuModel: "" }, 900);
    expect(!noModel.ok && noModel.errors.gpuModel).toMatch(/Name the GPU model/);
    const noVram = validateListingForm({ ...form, vramGiB: "0" }, 900);
    expect(!noVram.ok && noVram.errors.vramGiB).toMatch(/VRAM/);
  });

  test("each field says what is wrong", () => {
    const r = validateListingForm(
      {
        ...form,
        hostId: "",
        gpuCount: "300",
        cpuCores: "0",
        ramGiB: "lots",
        region: "x".repeat(33),
        pricePerHour: "0",
        minHours: "0.1",
        maxHours: "1000",
        leadMinutes: String(31 * 24 * 60),
        metadataCid: "not a cid!",
      },
      900,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toMatchObject({
      hostId: "Choose one of your hosts.",
      gpuCount: "GPU count must be between 0 and 255.",
      cpuCores: "CPU cores must be between 1 and 65,535.",
      ramGiB: "RAM must be a number (e.g. 24 or 1.5).",
      region: "The region is at most 32 bytes.",
      pricePerHour: "The price must be more than zero.",
      minHours: "The shortest booking must be a whole number of 15-minute slots.",
      maxHours: "The longest booking is at most 720 hours.",
      leadMinutes: "The lead time is at most 30 days.",
      metadataCid: "A CID has only letters and digits.",
    });
    const order = validateListingForm({ ...form, minHours: "4", maxHours: "2" }, 900);
    expect(!order.ok && order.errors.maxHours).toMatch(/not be shorter/);
  });

  test("token prices use the token's decimals; USD prices 18", () => {
    const token = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
    const t = validateListingForm(
      { ...form, payment: "token", tokenAddress: token, tokenDecimals: 6, pricePerHour: "2.5" },
      900,
    );
    expect(t.ok && [t.value.asset, t.value.pricePerHour]).toEqual([token, 2_500_000n]);
    const tooPrecise = validateListingForm(
      { ...form, payment: "token", tokenAddress: token, tokenDecimals: 6, pricePerHour: "0.0000001" },
      900,
    );
    expect(!tooPrecise.ok && tooPrecise.errors.pricePerHour).toMatch(/more than 6 decimals/);
    const notToken = validateListingForm(
      { ...form, payment: "token", tokenAddress: token, tokenDecimals: null },
      900,
    );
    expect(!notToken.ok && notToken.errors.tokenAddress).toMatch(/does not answer as an ERC-20/);
    const usd = validateListingForm({ ...form, payment: "usd", pricePerHour: "3" }, 900);
    expect(usd.ok && [usd.value.usdPriced, usd.value.pricePerHour]).toEqual([true, 3n * 10n ** 18n]);
  });

  test("registering a host: agent address, bond at least the minimum", () => {
    const ok = validateRegisterHost(
      { agent: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", bondEth: "1", metadataCid: "" },
      10n ** 18n,
    );
    expect(ok).toEqual({
      ok: true,
      value: { agent: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", bond: 10n ** 18n, metadataCid: "" },
    });
    const bad = validateRegisterHost({ agent: "0x0", bondEth: "0.5", metadataCid: "" }, 10n ** 18n);
    expect(!bad.ok && bad.errors).toMatchObject({
      agent: expect.stringMatching(/address/),
      bondEth: expect.stringMatching(/minimum/),
    });
  });
});

describe("runtime configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "dapp-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const record = {
    chainId: 84532,
    market: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    startBlock: "123",
    deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    owner: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    treasury: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    arbiter: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    usdFeed: null,
    testToken: null,
    params: {
      slotLength: 1800,
      activationGrace: 600,
      reportGrace: 3600,
      disputeWindow: 86400,
      arbiterDeadline: 604800,
      cancelCutoff: 86400,
      cancelFeeBps: 2000,
      unbondingDelay: 604800,
      minBond: "1000000000000000000",
      noShowSlash: "100000000000000000",
      feeBps: 250,
      usdFeedMaxAge: 0,
    },
  };

  test("the server reads the record named by COMPUTEHIVE_DEPLOYMENT, relative to its working directory", async () => {
    writeFileSync(join(dir, "84532.json"), JSON.stringify(record));
    const c = await loadRuntimeConfig(
      { COMPUTEHIVE_DEPLOYMENT: "84532.json", COMPUTEHIVE_RPC_URL: "https://rpc.example" },
      dir,
    );
    expect(c).toEqual({
      chainId: 84532,
      rpcUrl: "https://rpc.example",
      market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      startBlock: 123,
      subgraphUrl: DEFAULT_SUBGRAPH_URL,
      slotLength: 1800,
      walletConnectProjectId: null,
    });
    expect(parseRuntimeConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  test("defaults: ../deployments/31337.json, the local RPC and subgraph", async () => {
    const dapp = join(dir, "dapp");
    const deployments = join(dir, "deployments");
    for (const d of [dapp, deployments]) rmSync(d, { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dapp);
    mkdirSync(deployments);
    writeFileSync(join(deployments, "31337.json"), JSON.stringify({ ...record, chainId: 31337 }));
    const c = await loadRuntimeConfig({ NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID: " abc " }, dapp);
    expect([c.chainId, c.rpcUrl, c.subgraphUrl, c.walletConnectProjectId]).toEqual([
      31337,
      DEFAULT_RPC_URL,
      DEFAULT_SUBGRAPH_URL,
      "abc",
    ]);
  });

  test("a missing or malformed record is explained", async () => {
    await expect(loadRuntimeConfig({ COMPUTEHIVE_DEPLOYMENT: "nope.json" }, dir)).rejects.toThrow(
      /no deployment record .*nope.json.*npm start/,
    );
    writeFileSync(
      join(dir, "bad.json"),
      JSON.stringify({ ...record, market: "0x0000000000000000000000000000000000000000" }),
    );
    await expect(loadRuntimeConfig({ COMPUTEHIVE_DEPLOYMENT: "bad.json" }, dir)).rejects.toThrow(/market/);
  });

  test("the browser checks what it got", async () => {
    expect(() => parseRuntimeConfig({ error: "no deployment record" })).toThrow(
      /no usable configuration: no deployment record/,
    );
    expect(() =>
      parseRuntimeConfig({
        chainId: 1,
        rpcUrl: "ftp://x",
        market: record.market,
        startBlock: 0,
        subgraphUrl: "http://x",
        slotLength: 900,
      }),
    ).toThrow(ConfigError);
    const fake = (async () =>
      new Response(JSON.stringify({ error: "boom" }), { status: 500 })) as unknown as typeof fetch;
    await expect(fetchRuntimeConfig(fake)).rejects.toThrow(/boom/);
  });
});

describe("subgraph and token reads", () => {
  test("ids are checked before they reach a query", () => {
    expect(entityId(" 12 ")).toBe("12");
    expect(() => entityId('1") { id } x: booking(id: "2')).toThrow(SubgraphError);
    expect(accountId("0x90F79bf6EB2c4f870365E785982E1f101E93b906")).toBe(
      "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
    );
    expect(() => accountId("0x123")).toThrow(/not an address/);
    expect(lenderQuery("0x90F79bf6EB2c4f870365E785982E1f101E93b906", 1700000000.5)).toContain(
      'end_gt: "1700000000"',
    );
  });

  test("GraphQL errors and unreachable servers become SubgraphErrors in words", async () => {
    const answer = (body: unknown, status = 200) =>
      (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;
    await expect(
      querySubgraph("http://x", "{a}", {}, { fetchImpl: answer({ data: { a: 1 } }) }),
    ).resolves.toEqual({ a: 1 });
    await expect(
      querySubgraph("http://x", "{a}", {}, { fetchImpl: answer({ errors: [{ message: "Unknown field" }] }) }),
    ).rejects.toThrow("the subgraph refused the query: Unknown field");
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    await expect(querySubgraph("http://x", "{a}", {}, { fetchImpl: down })).rejects.toThrow(
      /cannot reach the subgraph at http:\/\/x/,
    );
  });

  test("token symbol and decimals from two eth_calls; a silent token keeps its address", async () => {
    const symbolHex =
      "0x0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000474555344" +
      "00000000000000000000000000000000000000000000000000000000";
    const rpc = (async (_url: string, init: RequestInit) => {
      const { params } = JSON.parse(String(init.body));
      const data = params[0].data;
      const result = data === "0x95d89b41" ? symbolHex : `0x${"6".padStart(64, "0")}`;
      return new Response(JSON.stringify({ jsonrpc: "2.0", id: 1, result }));
    }) as unknown as typeof fetch;
    await expect(
      fetchAssetInfo("http://rpc", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", rpc),
    ).resolves.toEqual({
      address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
      symbol: "tUSD",
      decimals: 6,
    });
    const silent = (async () =>
      new Response(
        JSON.stringify({ jsonrpc: "2.0", id: 1, error: { message: "execution reverted" } }),
      )) as unknown as typeof fetch;
    const info = await fetchAssetInfo("http://rpc", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", silent);
    expect(info).toMatchObject({ symbol: "token 0x9fE4…a6e0", decimals: 18 });
    await expect(
      fetchAssetInfo("http://rpc", "0x0000000000000000000000000000000000000000", silent),
    ).resolves.toMatchObject({ symbol: "ETH" });
  });
});
