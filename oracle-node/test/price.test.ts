/// <reference path="../../subgraph/host/webassembly.d.ts" />
/**
 * `npm run price` end to end, run as users run it (a child process of oracle-node/src/price-cli.ts): the cold
 * start on the hardware prior, the errors and usage exits, and a model trained from a real market: anvil with the
 * market deployed by the forge script, a bonded host with five GPU listings (four native-priced, one USD-priced)
 * in three regions, their prices moved ±10 % between 60 bookings by two borrowers (durations and lead times
 * varied), indexed by the embedded subgraph host, the native/USD rate read
 * from the local mock feed over RPC. The saved model is then used with the subgraph stopped.
 *
 * Chain time starts at a fixed noon UTC in the past (anvil --timestamp), so every booking falls on one UTC day with
 * no GpuModelDay before it: utilization is unknown in training and in the suggestion, whatever today's date.
 *
 * Run: cd oracle-node && node --import tsx --test test/price.test.ts
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { marketAbi, mockV3AggregatorAbi } from "@computehive/sdk";
import { hardwarePrior } from "@computehive/sdk/ai";
import { createWalletClient, type Hex, http, parseEventLogs, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { prepareSubgraph } from "../../script/src/lib/subgraph.ts";
import { type SubgraphHost, startSubgraphHost } from "../../subgraph/host/main.ts";
import { chainFor } from "../src/chain.ts";
import { devAccount, REPO_ROOT, startChain, TEST_MARKET_ENV, type TestChain, tempDir } from "./helpers.ts";

const PRICE_CLI = join(REPO_ROOT, "oracle-node", "src", "price-cli.ts");
const TSX_LOADER = import.meta.resolve("tsx");
const SLOT = Number(TEST_MARKET_ENV.MARKET_SLOT_LENGTH);
/** 2025-06-02T12:00:00Z: chain time starts here (noon, so the bookings stay on one UTC day). */
const GENESIS = Date.UTC(2025, 5, 2, 12) / 1000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node --import tsx oracle-node/src/price-cli.ts ...args` from the repository root, without COMPUTEHIVE_* env. */
function runPrice(args: readonly string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COMPUTEHIVE_")) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, PRICE_CLI, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Answer {
  usdPerHour: number;
  low: number;
  high: number;
  reasons: string[];
}

/** stdout must be exactly one JSON line with exactly the four keys. */
function answerOf(r: Run): Answer {
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[^\n]+\n$/, "exactly one line on stdout");
  const a = JSON.parse(r.stdout) as Answer;
  assert.deepEqual(Object.keys(a), ["usdPerHour", "low", "high", "reasons"]);
  assert.ok(a.reasons.every((x) => typeof x === "string"));
  assert.ok(a.low < a.usdPerHour && a.usdPerHour < a.high, `${a.low} < ${a.usdPerHour} < ${a.high}`);
  return a;
}

const USAGE_FIRST_LINE = 'usage: npm run price -- --gpu "<name as nvidia-smi prints it>" --count N [--json]';

const scratch: string[] = [];
async function scratchDir(): Promise<string> {
  const d = await tempDir("oracle-price-");
  scratch.push(d);
  return d;
}
after(async () => {
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});

describe("npm run price: cold start and errors", () => {
  test("no market, no model: the hardware prior (8 × Lambda's $2.99), one JSON line", async () => {
    const model = join(await scratchDir(), "none", "model.json");
    const r = await runPrice([
      "--gpu",
      "NVIDIA H100 80GB HBM3",
      "--count",
      "8",
      "--json",
      "--offline",
      "--model",
      model,
    ]);
    const a = answerOf(r);
    assert.equal(r.stderr, "");
    assert.equal(a.usdPerHour, 23.92);
    const band = hardwarePrior("NVIDIA H100 80GB HBM3")?.bandFactor ?? Number.NaN;
    assert.equal(a.low, Math.round((23.92 / band) * 100) / 100);
    assert.equal(a.high, Math.round(23.92 * band * 100) / 100);
    assert.equal(a.reasons.length, 3);
    assert.equal(
      a.reasons[0],
      "8× NVIDIA H100 SXM5 80 GB: hardware prior: Lambda's list price for the NVIDIA H100 SXM5 80 GB, $2.99/GPU-h",
    );
    assert.match(a.reasons[1] ?? "", /^cold start: /);
    assert.equal(existsSync(model), false, "a cold start saves no model");
  });

  test("an unknown GPU: exit 1, one line naming it", async () => {
    const r = await runPrice(["--gpu", "Matrox G200", "--count", "1", "--json", "--offline"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      'price: unknown GPU "Matrox G200": not in the GPU facts table (sdk/src/ai/gpus.ts)\n',
    );
  });

  test("an ambiguous family: exit 1, listing the four A100s by their nvidia-smi names", async () => {
    const r = await runPrice(["--gpu", "A100", "--json", "--offline"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      'price: "A100" matches several GPUs; name one as nvidia-smi prints it: "NVIDIA A100-SXM4-80GB", ' +
        '"NVIDIA A100-SXM4-40GB", "NVIDIA A100 80GB PCIe", "NVIDIA A100-PCIE-40GB"\n',
    );
  });

  test("a loose name with one match: exit 1, suggesting the exact name", async () => {
    const r = await runPrice(["--gpu", "4090", "--offline"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'price: "4090" is not a GPU name as nvidia-smi prints it; did you mean "NVIDIA GeForce RTX 4090"?\n',
    );
  });

  test("usage errors exit 2 with the usage: --count 0, no --gpu, --offline with a market", async () => {
    const H100 = ["--gpu", "NVIDIA H100 80GB HBM3"];
    const cases: Array<[string[], string | RegExp]> = [
      [[...H100, "--count", "0", "--json"], "--count: not a valid value: 0"],
      [["--count", "2", "--json"], "--gpu is required"],
      [
        [...H100, "--offline", "--subgraph", "http://127.0.0.1:9/"],
        "--offline asks no market: not with --subgraph",
      ],
      [[...H100, "--colour"], /^Unknown option '--colour'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runPrice(args)));
    cases.forEach(([args, first], i) => {
      const r = runs[i] as Run;
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n");
      if (typeof first === "string") assert.equal(lines[0], first);
      else assert.match(lines[0] ?? "", first);
      assert.equal(lines[1], USAGE_FIRST_LINE);
      assert.equal(lines.length, 5, "the error, the three usage lines, a final newline");
    });
  });
});

/* TRAINED FROM A REAL MARKET */

const LENDER = 1;
const AGENT = 2;
const BORROWERS = [3, 4] as const;

interface ListingPlan {
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: number;
  region: string;
  /** What the lender asks per GPU-hour, USD (converted to wei at the feed's rate unless usdPriced). */
  usdPerGpuHour: number;
  usdPriced: boolean;
}

// Per GPU-hour, against the prior ($1.79 A100 80GB, $0.69 RTX 4090, $2.99 H100): this market is cheaper than the
// clouds, by a factor that differs per model, region and size.
const PLANS: readonly ListingPlan[] = [
  {
    gpuModel: "NVIDIA A100-SXM4-80GB",
    gpuCount: 1,
    vramMiBPerGpu: 81920,
    region: "us-east",
    usdPerGpuHour: 1.2,
    usdPriced: false,
  },
  {
    gpuModel: "NVIDIA A100-SXM4-80GB",
    gpuCount: 4,
    vramMiBPerGpu: 81920,
    region: "eu-west",
    usdPerGpuHour: 1.05,
    usdPriced: false,
  },
  {
    gpuModel: "NVIDIA GeForce RTX 4090",
    gpuCount: 1,
    vramMiBPerGpu: 24564,
    region: "us-east",
    usdPerGpuHour: 0.45,
    usdPriced: false,
  },
  {
    gpuModel: "NVIDIA GeForce RTX 4090",
    gpuCount: 1,
    vramMiBPerGpu: 24564,
    region: "eu-west",
    usdPerGpuHour: 0.4,
    usdPriced: true,
  },
  {
    gpuModel: "NVIDIA H100 80GB HBM3",
    gpuCount: 8,
    vramMiBPerGpu: 81559,
    region: "ap-southeast",
    usdPerGpuHour: 2.1,
    usdPriced: false,
  },
];
const BOOKINGS = 60;
/** A listing's price against its plan at its k-th booking (cycled): lenders adjust prices as they go. */
const DRIFT = [1, 1.08, 0.93, 1.04, 0.96, 1.1, 0.9, 1.02, 0.98, 1.06, 0.95, 1];

describe("npm run price: trained from a real market", () => {
  let chain: TestChain;
  let subgraph: SubgraphHost | undefined;
  let dir: string;
  let modelFile: string;
  /** Per listing, what each of its bookings charged per hour of the whole listing, USD at the feed's rate. */
  const charged: number[][] = PLANS.map(() => []);
  let made = 0;

  before(async () => {
    chain = await startChain({ anvilArgs: ["--timestamp", String(GENESIS)] });
    dir = await scratchDir();
    modelFile = join(dir, "pricing", "model.json");
    const { market, usdFeed } = chain.deployment;
    assert.ok(usdFeed, "the local deployment has a mock USD feed");
    const [[, answer], decimals] = await Promise.all([
      chain.client.readContract({
        address: usdFeed,
        abi: mockV3AggregatorAbi,
        functionName: "latestRoundData",
      }),
      chain.client.readContract({ address: usdFeed, abi: mockV3AggregatorAbi, functionName: "decimals" }),
    ]);
    const usdPerEth = Number(answer) / 10 ** decimals;

    const walletOf = (i: number) =>
      createWalletClient({
        account: privateKeyToAccount(devAccount(i).privateKey),
        chain: chainFor(chain.chainId, chain.rpcUrl),
        transport: http(chain.rpcUrl),
      });
    const write = async (i: number, functionName: string, args: readonly unknown[], value?: bigint) => {
      // biome-ignore lint/suspicious/noExplicitAny: any market function by name, payable or not.
      const call: any = { address: market, abi: marketAbi, functionName, args, value };
      const hash = await walletOf(i).writeContract(call);
      const receipt = await chain.client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      assert.equal(receipt.status, "success", `${functionName} reverted`);
      return parseEventLogs({ abi: marketAbi, logs: receipt.logs });
    };
    const argOf = <T>(
      logs: readonly { eventName: string; args: unknown }[],
      name: string,
      key: string,
    ): T => {
      const l = logs.find((x) => x.eventName === name);
      if (!l) throw new Error(`no ${name}`);
      return (l.args as Record<string, T>)[key] as T;
    };

    const reg = await write(
      LENDER,
      "registerHost",
      [devAccount(AGENT).address, ""],
      chain.deployment.params.minBond,
    );
    const hostId = argOf<bigint>(reg, "HostRegistered", "hostId");
    /** The listing's price per hour at `factor` × its plan, and what that is in USD at the feed's rate. */
    const priceOf = (p: ListingPlan, factor: number) => {
      const micro = BigInt(Math.round(p.usdPerGpuHour * p.gpuCount * factor * 1e6));
      if (p.usdPriced) return { pricePerHour: micro * 10n ** 12n, usd: Number(micro) / 1e6 };
      // Native: wei per hour at the feed's rate, a multiple of 60 so that a one-minute slot costs it exactly.
      const wei = ((micro * 10n ** BigInt(12 + decimals)) / answer / 60n) * 60n;
      return { pricePerHour: wei, usd: (Number(wei) / 1e18) * usdPerEth };
    };
    const listingIds: bigint[] = [];
    for (const p of PLANS) {
      const { pricePerHour } = priceOf(p, 1);
      const hw = {
        gpuModel: p.gpuModel,
        gpuCount: p.gpuCount,
        vramMiBPerGpu: p.vramMiBPerGpu,
        cpuCores: 8 * p.gpuCount,
        ramMiB: 65536 * p.gpuCount,
        diskGiB: 500,
        region: p.region,
        confidential: 0,
      };
      const logs = await write(LENDER, "createListing", [
        hostId,
        hw,
        zeroAddress,
        p.usdPriced,
        pricePerHour,
        1,
        60,
        0,
        "",
      ]);
      listingIds.push(argOf<bigint>(logs, "ListingCreated", "listingId"));
    }

    // 60 bookings: each listing in turn, two borrowers, durations of 1–13 slots, lead times of 1–240 slots, each
    // window the first free one at or after the lead time asked (a listing's calendar takes no overlap). Lenders
    // move their prices by up to ±10 % between bookings (setListingPrice), so history is not a constant per listing.
    const taken = listingIds.map(() => new Set<number>());
    const current = PLANS.map(() => 1);
    const durations = [1, 2, 3, 5, 8, 13];
    const leads = [1, 4, 15, 40, 120, 240];
    const session = (i: number): Hex => `0x${(i + 1).toString(16).padStart(64, "0")}`;
    const ssh = `0x${Buffer.from("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHGd6m5W6lbVaeD9N0d3pIr0CfgzmsG2tH0DT4gV7lVh borrower@test").toString("hex")}`;
    for (let i = 0; i < BOOKINGS; i++) {
      const l = i % PLANS.length;
      const slots = durations[(i * 5 + Math.floor(i / PLANS.length)) % durations.length] ?? 1;
      const lead = leads[(i * 7 + 3 * Math.floor(i / PLANS.length)) % leads.length] ?? 1;
      const now = Number((await chain.client.getBlock()).timestamp);
      let first = Math.ceil((now + 5) / SLOT) + lead;
      const cal = taken[l] ?? new Set<number>();
      const free = (s: number) => Array.from({ length: slots }, (_, k) => s + k).every((x) => !cal.has(x));
      while (!free(first)) first++;
      for (let k = 0; k < slots; k++) cal.add(first + k);
      const listingId = listingIds[l] ?? 0n;
      const plan = PLANS[l] as ListingPlan;
      const factor = DRIFT[Math.floor(i / PLANS.length) % DRIFT.length] ?? 1;
      const { pricePerHour, usd } = priceOf(plan, factor);
      if (factor !== current[l]) {
        await write(LENDER, "setListingPrice", [listingId, pricePerHour]);
        current[l] = factor;
      }
      charged[l]?.push(usd);
      const start = first * SLOT;
      const end = start + slots * SLOT;
      const [price] = await chain.client.readContract({
        address: market,
        abi: marketAbi,
        functionName: "quote",
        args: [listingId, start, end],
      });
      const who = BORROWERS[i % BORROWERS.length] ?? 3;
      await write(who, "book", [listingId, start, end, session(i), ssh], price);
      made++;
    }

    await prepareSubgraph(chain.deploymentFile);
    subgraph = await startSubgraphHost({
      rpcUrl: chain.rpcUrl,
      deployment: chain.deployment,
      dbFile: ":memory:",
      port: 0,
      pollMs: 100,
    });
    const head = Number(await chain.client.getBlockNumber());
    const url = subgraph.url;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ _meta { block { number } } }" }),
      }).catch(() => null);
      const body = (await res?.json().catch(() => null)) as {
        data?: { _meta?: { block: { number: number } } };
      } | null;
      if ((body?.data?._meta?.block.number ?? -1) >= head) break;
      if (Date.now() > deadline) throw new Error(`the subgraph did not reach block ${head}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await subgraph?.stop().catch(() => {});
    await chain?.stop();
  });

  const A100 = ["--gpu", "NVIDIA A100-SXM4-80GB", "--count", "1", "--region", "us-east", "--hours", "0.1"];
  const A100_ARGS = [...A100, "--lead-hours", "0.5", "--json"];
  let trained: Answer;

  test("--retrain reads the bookings, fits, saves the model and beats the prior", async (t) => {
    assert.equal(made, BOOKINGS);
    const r = await runPrice([
      ...A100_ARGS,
      "--retrain",
      ...["--subgraph", subgraph?.url ?? "", "--rpc", chain.rpcUrl, "--market", chain.deployment.market],
      ...["--model", modelFile],
    ]);
    for (const line of `${r.stderr}${r.stdout}`.trimEnd().split("\n")) t.diagnostic(line);
    trained = answerOf(r);
    assert.match(r.stderr, /^price: native\/USD rate 3000 from feed 0x[0-9a-fA-F]{40}$/m);
    assert.match(r.stderr, new RegExp(`^price: read ${BOOKINGS} bookings$`, "m"));
    assert.match(r.stderr, /^price: trained on 48 bookings in \d+ ms; held-out error \d+\.\d% on 12 \(/m);
    assert.match(
      r.stderr,
      new RegExp(`^price: saved ${modelFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"),
    );
    assert.doesNotMatch(r.stderr, /left out/);

    const saved = JSON.parse(await readFile(modelFile, "utf8")) as {
      report: { used: number; examples: number; mape: number; priorMape: number; heldOut: number };
      models: string[];
    };
    assert.equal(saved.report.examples, BOOKINGS);
    assert.equal(saved.report.used, made);
    assert.equal(saved.report.heldOut, 12);
    assert.deepEqual(saved.models, ["A100-SXM4-80GB", "H100-SXM5-80GB", "RTX-4090-24GB"]);
    assert.ok(
      saved.report.mape < saved.report.priorMape,
      `held-out ${saved.report.mape} vs prior ${saved.report.priorMape}`,
    );

    // The A100 × 1 listing charged $1.08–$1.32/h (mean ≈ $1.20); the prior says Lambda's $1.79.
    const paid = charged[0] ?? [];
    assert.equal(paid.length, BOOKINGS / PLANS.length);
    const mean = paid.reduce((s, x) => s + x, 0) / paid.length;
    const prior = 1.79;
    assert.notEqual(trained.usdPerHour, prior);
    assert.ok(
      Math.abs(trained.usdPerHour - mean) / mean < 0.25,
      `suggested $${trained.usdPerHour}/h, charged $${mean}/h`,
    );
    assert.ok(
      Math.abs(trained.usdPerHour - mean) < Math.abs(prior - mean) / 2,
      "the market's history beats the prior",
    );
    assert.match(
      trained.reasons[0] ?? "",
      /^1× NVIDIA A100 SXM4 80 GB: hardware prior: Lambda's list price for the NVIDIA A100 SXM4 80 GB, \$1\.79\/GPU-h; this market's history moves it −\d+(\.\d)?%$/,
    );
    assert.match(
      trained.reasons.at(-1) ?? "",
      new RegExp(
        `^model fitted on ${BOOKINGS} bookings; held-out error \\d+% \\(median-per-model baseline \\d+%\\)$`,
      ),
    );
    assert.ok(!trained.reasons.some((x) => x.includes("cold start")));
  });

  test("without --retrain and with the subgraph stopped: the saved model, the same figure", async () => {
    const url = subgraph?.url ?? "";
    await subgraph?.stop();
    subgraph = undefined;
    const r = await runPrice([...A100_ARGS, "--subgraph", url, "--model", modelFile]);
    const again = answerOf(r);
    assert.deepEqual(again, trained);
    assert.match(
      r.stderr,
      new RegExp(`^price: model from ${modelFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(trained `, "m"),
    );
    assert.doesNotMatch(r.stderr, /read \d+ bookings|trained on/);
  });
});
