import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { marketAbi, mockV3AggregatorAbi } from "@computehive/sdk";
import { fairness, generateMarket, PricingError, priorSuggestion, suggestPrice } from "@computehive/sdk/ai";
import { decodeFunctionData, encodeFunctionResult, type Hex, zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { parsePrice } from "../lib/listing-form.ts";
import {
  askedInUsd,
  CPU_ONLY_WORDS,
  Expiring,
  fairnessWords,
  fetchPriceEstimate,
  formatUsdFigure,
  formPriceRequest,
  historyWords,
  listingPriceRequest,
  otherCurrencyLine,
  parsePriceAnswer,
  parsePriceQuery,
  plainDecimal,
  pricingErrorWords,
  suggestedPriceInput,
  usdToNative,
  weiToUsd,
} from "../lib/pricing.ts";

const H100 = "NVIDIA H100 80GB HBM3";
const q = (o: Record<string, string>) => new URLSearchParams(o);

describe("GET /api/price parameters", () => {
  test("a full query becomes the model's context; missing optional fields take their defaults", () => {
    const r = parsePriceQuery(
      q({
        gpuModel: ` ${H100} `,
        gpuCount: "2",
        region: "eu-west",
        confidential: "tdx",
        leadTimeHours: "1.5",
        durationHours: "4",
        reliability: "0.9",
        askedUsd: "5.5",
      }),
    );
    expect(r).toEqual({
      ok: true,
      value: {
        ctx: {
          gpuModel: H100,
          gpuCount: 2,
          region: "eu-west",
          confidential: true,
          leadTimeHours: 1.5,
          durationHours: 4,
          reliability: 0.9,
        },
        asked: { usd: 5.5 },
      },
    });
    const d = parsePriceQuery(q({ gpuModel: H100, gpuCount: "1", askedWei: "1000000000000000" }));
    expect(d.ok && d.value).toEqual({
      ctx: {
        gpuModel: H100,
        gpuCount: 1,
        region: "",
        confidential: false,
        leadTimeHours: 0,
        durationHours: 1,
        reliability: null,
      },
      asked: { wei: 10n ** 15n },
    });
  });

  test("CPU-only (no model or no GPU) is its own answer, in words", () => {
    for (const params of [q({ gpuModel: "", gpuCount: "0" }), q({ gpuModel: H100, gpuCount: "0" })]) {
      expect(parsePriceQuery(params)).toEqual({ ok: false, code: "cpu-only", error: CPU_ONLY_WORDS });
    }
    expect(CPU_ONLY_WORDS).toMatch(/No price estimate exists for CPU-only listings/);
  });

  test.each([
    [{ gpuModel: H100, gpuCount: "two" }, /GPU count must be a whole number from 0 to 255 \(got “two”\)/],
    [{ gpuModel: H100, gpuCount: "300" }, /GPU count/],
    [{ gpuModel: "x".repeat(65), gpuCount: "1" }, /at most 64 bytes/],
    [{ gpuModel: H100, gpuCount: "1", confidential: "maybe" }, /Confidential computing must be/],
    [{ gpuModel: H100, gpuCount: "1", leadTimeHours: "-1" }, /notice .* must be a number of hours from 0/],
    [{ gpuModel: H100, gpuCount: "1", durationHours: "0" }, /duration must be a number of hours above 0/],
    [{ gpuModel: H100, gpuCount: "1", durationHours: "NaN" }, /duration/],
    [{ gpuModel: H100, gpuCount: "1", reliability: "1.5" }, /reliability must be a share from 0 to 1/],
    [{ gpuModel: H100, gpuCount: "1", askedUsd: "0" }, /asked price must be a positive number/],
    [{ gpuModel: H100, gpuCount: "1", askedWei: "1.5" }, /in wei must be a positive whole number/],
    [{ gpuModel: H100, gpuCount: "1", askedWei: "1", askedUsd: "1" }, /Give the asked price once/],
  ])("refuses %o in words", (params, words) => {
    const r = parsePriceQuery(q(params));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe("bad-input");
      expect(r.error).toMatch(words);
    }
  });

  test("the sdk's PricingError codes in words a person can act on", () => {
    let err: unknown;
    try {
      suggestPrice(
        {
          gpuModel: "Acme Turbo 9000",
          gpuCount: 1,
          region: "",
          confidential: false,
          utilization: null,
          leadTimeHours: 0,
          durationHours: 1,
          reliability: null,
        },
        null,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PricingError);
    const e = err as PricingError;
    const w = pricingErrorWords(e.code, "Acme Turbo 9000", e.message);
    expect(w.code).toBe("unknown-gpu");
    expect(w.error).toMatch(/No price estimate for “Acme Turbo 9000”: it is not in the table of known GPUs/);
    expect(pricingErrorWords("cpu-only", "", "x").error).toBe(CPU_ONLY_WORDS);
    expect(
      pricingErrorWords("bad-input", H100, "GPU count must be a whole number from 1 to 64, not 65"),
    ).toEqual({
      ok: false,
      code: "bad-input",
      error: "GPU count must be a whole number from 1 to 64, not 65.",
    });
  });

  test("the estimate's basis in words", () => {
    expect(historyWords({ kind: "model", used: 1234, mape: 0.084 })).toBe(
      "Learnt from 1,234 bookings of this market (typical error on recent bookings it had not seen: 8%).",
    );
    expect(historyWords({ kind: "too-little", used: 1, needed: 40 })).toMatch(
      /^This market has 1 usable booking with a USD price; 40 are needed .* hardware and public list prices only\.$/,
    );
    expect(historyWords({ kind: "unreachable", why: "subgraph unreachable" })).toMatch(
      /could not be read \(subgraph unreachable\)/,
    );
  });
});

describe("USD and native amounts", () => {
  test("native wei ↔ USD at the feed's rate", () => {
    expect(weiToUsd(10n ** 18n, 3000)).toBe(3000);
    expect(weiToUsd(5n * 10n ** 14n, 3000)).toBeCloseTo(1.5, 12);
    expect(usdToNative(2.99, 3000)).toBe("0.000996667");
    expect(usdToNative(6000, 3000)).toBe("2");
  });

  test("plain decimals never use exponent notation and fit a price field's 18 decimals", () => {
    expect(plainDecimal(1.23456789e-7, 6)).toBe("0.000000123457");
    expect(plainDecimal(1234567.891, 6)).toBe("1234570");
    expect(plainDecimal(1e-20)).toBe("0");
    expect(plainDecimal(0)).toBe("0");
    expect(plainDecimal(Number.NaN)).toBe("0");
    for (const x of [2.99 / 3000, 1e-9, 0.5, 12.345678]) {
      const errors: Record<string, string> = {};
      parsePrice(errors, "price", plainDecimal(x), 18);
      expect(errors).toEqual({});
    }
  });

  test("USD figures for people", () => {
    expect(formatUsdFigure(2.5)).toBe("$2.50");
    expect(formatUsdFigure(1234.567)).toBe("$1,234.57");
    expect(formatUsdFigure(0.0125)).toBe("$0.013");
    expect(formatUsdFigure(0.1)).toBe("$0.10");
    expect(formatUsdFigure(0.676)).toBe("$0.676");
    expect(formatUsdFigure(0)).toBe("$0.00");
    expect(formatUsdFigure(0.0004)).toBe("less than $0.001");
  });

  test("the price in the other currency: native → USD, USD → native, nothing for tokens or without a feed", () => {
    const native = {
      usdPriced: false,
      pricePerHour: String(10n ** 15n),
      asset: { id: zeroAddress, native: true },
    };
    const usd = {
      usdPriced: true,
      pricePerHour: String(3n * 10n ** 18n),
      asset: { id: zeroAddress, native: true },
    };
    const token = { usdPriced: false, pricePerHour: "5000000", asset: { id: "0xabc", native: false } };
    expect(otherCurrencyLine(native, 3000)).toBe(
      "≈ $3.00 per hour at the price feed's rate (1 ETH = $3,000.00)",
    );
    expect(otherCurrencyLine(usd, 3000)).toBe(
      "≈ 0.001 ETH per hour at the price feed's current rate (1 ETH = $3,000.00)",
    );
    expect(otherCurrencyLine(token, 3000)).toBeNull();
    expect(otherCurrencyLine(native, null)).toBeNull();
  });

  test("the asked price in USD: as given, converted at the feed, or why not", () => {
    expect(askedInUsd({ usd: 2 }, null)).toEqual({ usd: 2 });
    expect(askedInUsd({ wei: 10n ** 15n }, 2000)).toEqual({ usd: 2 });
    expect(askedInUsd({ wei: 10n ** 15n }, null)).toEqual({
      note: expect.stringMatching(/^No USD rate for ETH could be read .* cannot be compared/),
    });
  });

  test("a suggestion for the price field, in the form's currency", () => {
    expect(suggestedPriceInput(2.99, "usd", null)).toEqual({
      ok: true,
      value: "2.99",
      words: "$2.99 per hour",
    });
    expect(suggestedPriceInput(2.99, "native", 3000)).toEqual({
      ok: true,
      value: "0.000996667",
      words: "0.000996667 ETH per hour",
    });
    expect(suggestedPriceInput(2.99, "native", null)).toEqual({
      ok: false,
      why: expect.stringMatching(/^No USD rate for ETH could be read .* cannot be put in ETH here/),
    });
    expect(suggestedPriceInput(2.99, "token", 3000)).toEqual({
      ok: false,
      why: expect.stringMatching(/token has no USD rate/),
    });
  });
});

describe("fairness marks", () => {
  const s = priorSuggestion({
    gpuModel: H100,
    gpuCount: 1,
    region: "us-east",
    confidential: false,
    utilization: null,
    leadTimeHours: 0,
    durationHours: 1,
    reliability: null,
  });

  test("below, within and above the sdk's usual range, with the range in USD", () => {
    const range = `${formatUsdFigure(s.low)}–${formatUsdFigure(s.high)}/h`;
    expect(fairnessWords(fairness(s.usdPerHour, s).verdict, s)).toBe(
      `Fair: within the usual range (${range})`,
    );
    expect(fairnessWords(fairness(s.high * 1.5, s).verdict, s)).toBe(`Above the usual range (${range})`);
    expect(fairnessWords(fairness(s.low / 2, s).verdict, s)).toBe(
      `Below the usual range (${range}): a good price`,
    );
    expect(range).toMatch(/^\$\d+\.\d\d–\$\d+\.\d\d\/h$/);
  });
});

describe("requests from the pages", () => {
  const listing = {
    gpuModel: H100,
    gpuCount: 2,
    region: "eu-west",
    confidential: "SevSnp" as const,
    leadTime: "5400",
    minSlots: 1,
    maxSlots: 48,
    usdPriced: false,
    pricePerHour: "1500000000000000",
    asset: { id: zeroAddress, native: true },
  };

  test("a listing's page asks for its hardware, a one-hour window at its notice, and its own price", () => {
    const r = listingPriceRequest(listing, 1800, 0.95);
    expect(Object.fromEntries(new URLSearchParams(r.params))).toEqual({
      gpuModel: H100,
      gpuCount: "2",
      region: "eu-west",
      confidential: "sevsnp",
      leadTimeHours: "1.5",
      durationHours: "1",
      reliability: "0.95",
      askedWei: "1500000000000000",
    });
    expect(r.askedNote).toBeNull();
    const ok = parsePriceQuery(new URLSearchParams(r.params));
    expect(ok.ok).toBe(true);
  });

  test("USD listings are judged in USD, token listings not at all; the window stays within the terms", () => {
    const usd = listingPriceRequest(
      { ...listing, usdPriced: true, pricePerHour: "2500000000000000000", minSlots: 8 },
      1800,
      null,
    );
    const p = new URLSearchParams(usd.params);
    expect([p.get("askedUsd"), p.get("askedWei"), p.get("durationHours"), p.get("reliability")]).toEqual([
      "2.5",
      null,
      "4",
      "",
    ]);
    const token = listingPriceRequest(
      { ...listing, asset: { id: "0xabc", native: false }, maxSlots: 1 },
      1800,
      1,
    );
    const t = new URLSearchParams(token.params);
    expect([t.get("askedUsd"), t.get("askedWei"), t.get("durationHours")]).toEqual([null, null, "0.5"]);
    expect(token.askedNote).toMatch(/priced in a token/);
  });

  test("the create-listing form's hardware, or what to fill in first", () => {
    const f = {
      gpuModel: H100,
      gpuCount: "4",
      region: " us-east ",
      confidential: "2",
      minHours: "2",
      leadMinutes: "90",
    };
    const r = formPriceRequest(f, null);
    expect(r.ok && Object.fromEntries(new URLSearchParams(r.params))).toEqual({
      gpuModel: H100,
      gpuCount: "4",
      region: "us-east",
      confidential: "tdx",
      leadTimeHours: "1.5",
      durationHours: "2",
      reliability: "",
    });
    expect(formPriceRequest({ ...f, gpuCount: "" }, null)).toEqual({
      ok: false,
      error: "Fill in the GPU count first (a whole number).",
    });
    expect(formPriceRequest({ ...f, gpuModel: "", gpuCount: "0" }, null)).toEqual({
      ok: false,
      error: CPU_ONLY_WORDS,
    });
    const odd = formPriceRequest({ ...f, minHours: "half", leadMinutes: "" }, 1);
    expect(odd.ok && Object.fromEntries(new URLSearchParams(odd.params))).toMatchObject({
      leadTimeHours: "0",
      durationHours: "1",
      reliability: "1",
    });
  });

  test("the server's answers are checked: an estimate, a refusal in words, or an error", async () => {
    const answer = {
      usdPerHour: 3,
      low: 2,
      high: 4,
      reasons: ["r"],
      basis: "prior",
      nativeUsd: 3000,
      history: "h",
      askedUsd: 3,
      fairness: { verdict: "fair", text: "fair" },
      fairnessNote: null,
    };
    expect(parsePriceAnswer(200, answer)).toEqual({ ok: true, answer });
    expect(parsePriceAnswer(400, { error: "no", code: "unknown-gpu", nativeUsd: null })).toEqual({
      ok: false,
      problem: { error: "no", code: "unknown-gpu", nativeUsd: null },
    });
    expect(() => parsePriceAnswer(500, null)).toThrow(/HTTP 500/);
    const fetchImpl = vi.fn(async () => Response.json(answer)) as unknown as typeof fetch;
    await expect(fetchPriceEstimate("gpuModel=x", { fetchImpl })).resolves.toEqual({ ok: true, answer });
    expect(vi.mocked(fetchImpl).mock.calls[0]?.[0]).toBe("/api/price?gpuModel=x");
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    await expect(fetchPriceEstimate("", { fetchImpl: down })).rejects.toThrow(
      /cannot reach the dApp's server/,
    );
  });
});

describe("the server's expiring cache", () => {
  test("keeps a value for its time, loads once for concurrent callers, serves the old value while refreshing", async () => {
    let now = 0;
    const c = new Expiring<string>(
      (v) => (v.startsWith("bad") ? 10 : 100),
      () => now,
    );
    let loads = 0;
    const load = async () => `v${++loads}`;
    const [a, b] = await Promise.all([c.get("k", load), c.get("k", load)]);
    expect([a, b, loads]).toEqual(["v1", "v1", 1]);
    now = 99;
    expect(await c.get("k", load)).toBe("v1");
    now = 100;
    expect(await c.get("k", load)).toBe("v1"); // stale, served while v2 loads
    await Promise.resolve();
    expect(await c.get("k", load)).toBe("v2");
    expect(loads).toBe(2);
    expect(await c.get("other", async () => "bad")).toBe("bad");
    now = 111;
    expect(await c.get("other", async () => "good")).toBe("bad");
  });

  test("a load that fails is not kept: the next call tries again; a stale value survives a failed refresh", async () => {
    let now = 0;
    const c = new Expiring<number>(
      () => 10,
      () => now,
    );
    await expect(
      c.get("k", async () => {
        throw new Error("down");
      }),
    ).rejects.toThrow("down");
    expect(await c.get("k", async () => 1)).toBe(1);
    now = 20;
    expect(
      await c.get("k", async () => {
        throw new Error("down again");
      }),
    ).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(await c.get("k", async () => 2)).toBe(1); // stale again, refreshing
    await new Promise((r) => setTimeout(r, 0));
    expect(await c.get("k", async () => 3)).toBe(2);
  });
});

// The route itself, against a fake subgraph and a fake chain (a market with a feed at $2,000 per ETH): the model
// trained from the subgraph's bookings, the prior when the subgraph is down, refusals in words.
describe("GET /api/price", () => {
  const dir = mkdtempSync(join(tmpdir(), "dapp-price-"));
  const MARKET = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
  const FEED = "0x00000000000000000000000000000000000000fe";
  const RPC = "http://rpc.test/";
  const env = { ...process.env };
  const market = generateMarket({ seed: 7, bookings: 240, days: 40 });
  const bookings = market.examples.map((e, i) => {
    const start = e.at + Math.round(e.ctx.leadTimeHours * 3600);
    const rel = e.ctx.reliability;
    return {
      id: String(i + 1).padStart(6, "0"),
      start: String(start),
      end: String(start + Math.round(e.ctx.durationHours * 3600)),
      bookedAt: String(e.at),
      price: "0",
      asset: { native: true },
      listing: {
        gpuModel: e.ctx.gpuModel,
        gpuCount: e.ctx.gpuCount,
        region: e.ctx.region,
        confidential: e.ctx.confidential ? "SevSnp" : "None",
        usdPriced: true,
        pricePerHour: (BigInt(Math.round(e.usdPerHour * 1e6)) * 10n ** 12n).toString(),
      },
      host:
        rel === null
          ? { completed: 0, noShows: 0, declines: 0, disputesLost: 0 }
          : {
              completed: Math.round(rel * 100),
              noShows: 100 - Math.round(rel * 100),
              declines: 0,
              disputesLost: 0,
            },
    };
  });

  function rpc(body: { id: number; method: string; params: [{ to: string; data: Hex }] }) {
    if (body.method !== "eth_call")
      return { jsonrpc: "2.0", id: body.id, error: { code: -32601, message: "no" } };
    const { to, data } = body.params[0];
    let result: Hex;
    if (to.toLowerCase() === MARKET) {
      decodeFunctionData({ abi: marketAbi, data });
      result = encodeFunctionResult({ abi: marketAbi, functionName: "usdFeed", result: FEED });
    } else {
      const { functionName } = decodeFunctionData({ abi: mockV3AggregatorAbi, data });
      result =
        functionName === "decimals"
          ? encodeFunctionResult({ abi: mockV3AggregatorAbi, functionName: "decimals", result: 8 })
          : encodeFunctionResult({
              abi: mockV3AggregatorAbi,
              functionName: "latestRoundData",
              result: [1n, 2000n * 10n ** 8n, 0n, 1_700_000_000n, 1n],
            });
    }
    return { jsonrpc: "2.0", id: body.id, result };
  }

  beforeAll(() => {
    writeFileSync(
      join(dir, "31337.json"),
      JSON.stringify({
        chainId: 31337,
        market: MARKET,
        startBlock: "1",
        deployer: MARKET,
        owner: MARKET,
        treasury: MARKET,
        arbiter: MARKET,
        usdFeed: FEED,
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
      }),
    );
    process.env.COMPUTEHIVE_DEPLOYMENT = join(dir, "31337.json");
    process.env.COMPUTEHIVE_RPC_URL = RPC;
    vi.stubGlobal("fetch", async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      const body = JSON.parse(String(init?.body ?? "{}"));
      if (url === RPC) return Response.json(Array.isArray(body) ? body.map(rpc) : rpc(body));
      if (url.startsWith("http://down.test")) throw new TypeError("fetch failed");
      if (url.startsWith("http://subgraph.test")) {
        const after = String(body.variables?.after ?? "");
        const rows = /rows: bookings\(/.test(body.query)
          ? bookings.filter((b) => b.id > after).slice(0, 1000)
          : [];
        return Response.json({ data: { rows } });
      }
      throw new Error(`unexpected request to ${url}`);
    });
  });
  afterAll(() => {
    vi.unstubAllGlobals();
    process.env = env;
    rmSync(dir, { recursive: true, force: true });
  });

  async function get(params: string, subgraph: string) {
    process.env.COMPUTEHIVE_SUBGRAPH_URL = subgraph;
    const { GET } = await import("../app/api/price/route.ts");
    const res = await GET(new Request(`http://dapp.test/api/price?${params}`));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  test("trains on the subgraph's bookings and judges a native price converted at the feed", async () => {
    const r = await get(
      `gpuModel=${encodeURIComponent(H100)}&gpuCount=1&region=us-east&askedWei=${10n ** 15n}`,
      "http://subgraph.test/a",
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ basis: "model", nativeUsd: 2000, askedUsd: 2, fairnessNote: null });
    expect(r.body.history).toMatch(/^Learnt from 240 bookings of this market/);
    const s = r.body as unknown as { low: number; high: number; usdPerHour: number };
    expect(s.low).toBeLessThanOrEqual(s.usdPerHour);
    expect(s.high).toBeGreaterThanOrEqual(s.usdPerHour);
    expect(r.body.fairness).toEqual(fairness(2, { ...s, reasons: [], basis: "model" }));
  });

  test("falls back to the hardware prior when the subgraph is unreachable", async () => {
    const r = await get(`gpuModel=${encodeURIComponent(H100)}&gpuCount=2&askedUsd=100`, "http://down.test/");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ basis: "prior", nativeUsd: 2000, askedUsd: 100 });
    expect((r.body.fairness as { verdict: string }).verdict).toBe("above");
    expect(r.body.history).toMatch(
      /history could not be read \(subgraph unreachable at http:\/\/down\.test\//,
    );
  });

  test("refuses CPU-only, unknown GPUs and bad input with status 400 and words; answers the rate alone", async () => {
    const cpu = await get("gpuModel=&gpuCount=0", "http://subgraph.test/b");
    expect(cpu).toEqual({ status: 400, body: { error: CPU_ONLY_WORDS, code: "cpu-only", nativeUsd: 2000 } });
    const unknown = await get("gpuModel=Acme%20Turbo%209000&gpuCount=1", "http://subgraph.test/b");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      code: "unknown-gpu",
      error: expect.stringMatching(/not in the table/),
    });
    const bad = await get(
      `gpuModel=${encodeURIComponent(H100)}&gpuCount=1&reliability=2`,
      "http://subgraph.test/b",
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("bad-input");
    expect(await get("only=rate", "http://subgraph.test/b")).toEqual({
      status: 200,
      body: { nativeUsd: 2000 },
    });
  });
});
