/**
 * Everything the browser tests run against, all real: anvil with the market deployed by the forge script and
 * the demo host seeded (as `npm start` does, with one-minute slots so a booking's life fits in a test), the
 * compiled subgraph mappings on the embedded host, the host agent behind its API (libvirt's test:///default
 * driver, or QEMU/TCG with a real guest for the SSH test), the oracle daemon, and `next start` of the built dApp.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { marketAbi } from "@computehive/sdk";
import { pino } from "pino";
import { parseEther, parseEventLogs, zeroAddress } from "viem";
import { connectMarket } from "../../oracle-node/src/chain.ts";
import { Daemon } from "../../oracle-node/src/daemon.ts";
import { openPinner, type Pinner } from "../../oracle-node/src/ipfs.ts";
import { startRealAgent, startTestAgent, type TestAgent } from "../../oracle-node/test/agent.ts";
import { freePort } from "../../script/src/lib/anvil.ts";
import { walletClientFor } from "../../script/src/lib/clients.ts";
import { deploymentsDir, repoRoot } from "../../script/src/lib/paths.ts";
import { type LocalStack, startLocalStack } from "../../script/src/lib/stack.ts";
import { prepareSubgraph } from "../../script/src/lib/subgraph.ts";
import { type SubgraphHost, startSubgraphHost } from "../../subgraph/host/main.ts";

export const SLOT = 60;

export interface E2eStack {
  local: LocalStack;
  rpcUrl: string;
  subgraph: SubgraphHost;
  agent: TestAgent;
  daemon: Daemon;
  /** The daemon's pinner: where it pins the session reports whose CIDs go on-chain. */
  pinner: Pinner;
  /** The small listing the tests book: 1 vCPU, 512 MiB, 10 GiB, no GPU. */
  listingId: bigint;
  appUrl: string;
  stop(): Promise<void>;
}

export async function startE2eStack(
  opts: { realVm?: boolean; log?: (line: string) => void } = {},
): Promise<E2eStack> {
  const log = opts.log ?? (() => {});
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const outDir = await mkdtemp(join(deploymentsDir, ".test-e2e-"));
    stops.push(() => rm(outDir, { recursive: true, force: true }));
    const local = await startLocalStack({
      port: await freePort(),
      deploymentsDir: outDir,
      metadataDir: join(outDir, "metadata"),
      deployEnv: {
        MARKET_SLOT_LENGTH: String(SLOT),
        MARKET_ACTIVATION_GRACE: "120",
        MARKET_REPORT_GRACE: "600",
        MARKET_DISPUTE_WINDOW: "300",
        MARKET_CANCEL_CUTOFF: "60",
      },
      log,
    });
    stops.push(() => local.stop());
    const rpcUrl = local.anvil.url;

    // A listing sized for a TCG guest (the demo listing offers the whole machine).
    const lender = walletClientFor(rpcUrl, 31337, local.accounts.lender.account);
    const market = await connectMarket(rpcUrl, local.deployment);
    const hash = await lender.writeContract({
      address: local.deployment.market,
      abi: marketAbi,
      functionName: "createListing",
      args: [
        local.seed.hostId,
        {
          gpuModel: "",
          gpuCount: 0,
          vramMiBPerGpu: 0,
          cpuCores: 1,
          ramMiB: 512,
          diskGiB: 10,
          region: "local",
          confidential: 0,
        },
        zeroAddress,
        false,
        parseEther("0.36"),
        1,
        60,
        0,
        "",
      ],
    });
    const receipt = await market.client.waitForTransactionReceipt({ hash });
    const created = parseEventLogs({ abi: marketAbi, logs: receipt.logs, eventName: "ListingCreated" })[0];
    if (!created) throw new Error("no ListingCreated");
    const listingId = created.args.listingId;

    log("building the subgraph for this deployment…");
    await prepareSubgraph(local.deploymentFile, log);
    const subgraph = await startSubgraphHost({
      rpcUrl,
      deployment: local.deployment,
      dbFile: ":memory:",
      port: 0,
      pollMs: 200,
    });
    stops.push(() => subgraph.stop());

    const agent = opts.realVm ? await startRealAgent() : await startTestAgent();
    stops.push(() => agent.close());
    const stateDir = await mkdtemp(join(tmpdir(), "e2e-oracle-"));
    stops.push(() => rm(stateDir, { recursive: true, force: true }));
    const pinner = await openPinner({ dir: join(stateDir, "ipfs") });
    stops.push(() => pinner.close());
    const daemon = await Daemon.start({
      market,
      account: local.accounts.agent.account,
      hostId: local.seed.hostId,
      agent: agent.client,
      pinner,
      stateDir,
      logger: pino({ level: process.env.E2E_LOG_LEVEL ?? "warn" }),
      confirmations: 0,
      pollMs: 250,
      provisionLeadS: 600,
      upkeepEveryMs: 1000,
    });
    stops.push(() => daemon.stop());

    const port = await freePort();
    const app = spawn(
      join(repoRoot, "dapp", "node_modules", ".bin", "next"),
      ["start", "-p", String(port), "-H", "127.0.0.1"],
      {
        cwd: join(repoRoot, "dapp"),
        env: {
          ...process.env,
          NEXT_TELEMETRY_DISABLED: "1",
          COMPUTEHIVE_DEPLOYMENT: local.deploymentFile,
          COMPUTEHIVE_RPC_URL: rpcUrl,
          COMPUTEHIVE_SUBGRAPH_URL: subgraph.url,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    stops.push(() => stopChild(app));
    const appUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${appUrl}/api/config`, 60_000, app);
    log(`dApp at ${appUrl}`);
    return { local, rpcUrl, subgraph, agent, daemon, pinner, listingId, appUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await once(child, "exit");
  clearTimeout(timer);
}

async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  });
  child.stderr?.on("data", (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}): ${output}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms: ${output}`);
}
