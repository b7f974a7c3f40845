// `npm start`: the local stack's chain part. Starts anvil (the native binary from node_modules, so the PID held
// is anvil's own) on ANVIL_HOST:ANVIL_PORT (default 127.0.0.1:8545), deploys the market with
// script/DeployMarket.s.sol, seeds one honest demo host and listing, prints everything a developer needs, and
// runs until Ctrl-C / SIGTERM, then stops anvil and waits for it to exit.
//
// Then it builds the subgraph for that deployment (when stale) and runs the embedded subgraph host: the compiled
// mappings follow the chain and graph-node's query API is served at SUBGRAPH_PORT (default 8000).
//
//   ANVIL_HOST, ANVIL_PORT   where anvil listens
//   SUBGRAPH_PORT            the subgraph query API's port (on ANVIL_HOST)
//   MARKET_*                 deployment parameters (see script/DeployMarket.s.sol)
//
// Files: deployments/31337.json (the deployment record), .computehive/local-stack.json (this summary),
// .computehive/anvil.log (anvil's RPC log), .computehive/metadata/<cid>.json (the demo metadata documents),
// .computehive/subgraph/31337.sqlite (the subgraph store; recreated at each start, as the chain is).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { formatEther } from "viem";
import { ANVIL_MNEMONIC } from "./lib/accounts.ts";
import { assertPortFree, DEFAULT_HOST, DEFAULT_PORT } from "./lib/anvil.ts";
import { prepareArtifacts } from "./lib/artifacts.ts";
import { repoRoot, stateDir } from "./lib/paths.ts";
import type { LocalStack } from "./lib/stack.ts";
import { prepareSubgraph } from "./lib/subgraph.ts";

function log(line: string): void {
  console.log(`[start] ${line}`);
}

function parsePort(value: string | undefined, name = "ANVIL_PORT", fallback = DEFAULT_PORT): number {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a TCP port, got "${value}"`);
  return port;
}

function summary(stack: LocalStack, subgraph: { url: string; statusUrl: string }): string {
  const { anvil, deployment: d, seed, accounts } = stack;
  const hw = seed.hardware;
  const p = d.params;
  const rows = (pairs: [string, string][]) => pairs.map(([k, v]) => `  ${k.padEnd(26)} ${v}`).join("\n");
  const roles =
    d.owner === d.treasury && d.owner === d.arbiter
      ? [["owner/treasury/arbiter", d.owner]]
      : [
          ["owner", d.owner],
          ["treasury", d.treasury],
          ["arbiter", d.arbiter],
        ];
  return [
    "",
    "ComputeHive local chain is running",
    rows([
      ["chain id", String(anvil.chainId)],
      ["RPC URL", anvil.url],
      ["anvil pid", String(anvil.pid)],
      ["deployment record", `${relative(repoRoot, stack.deploymentFile)} (start block ${d.startBlock})`],
    ]),
    "subgraph (embedded host running the compiled mappings; graph-node's API)",
    rows([
      ["GraphQL (console on GET)", subgraph.url],
      ["indexing status", subgraph.statusUrl],
    ]),
    "contracts",
    rows([
      ["Market", d.market],
      ["USD feed (mock, 8 dec)", d.usdFeed ?? "(none)"],
      ["test token (tUSD, 6 dec)", d.testToken ?? "(none)"],
      ...(roles as [string, string][]),
    ]),
    "market parameters",
    rows([
      ["slot", `${p.slotLength / 60} min`],
      ["activation grace", `${p.activationGrace} s`],
      ["report grace", `${p.reportGrace} s`],
      ["dispute window", `${p.disputeWindow} s`],
      ["arbiter deadline", `${p.arbiterDeadline} s`],
      ["cancel cutoff / fee", `${p.cancelCutoff} s / ${p.cancelFeeBps / 100} %`],
      ["unbonding delay", `${p.unbondingDelay} s`],
      ["min bond / no-show slash", `${formatEther(p.minBond)} / ${formatEther(p.noShowSlash)} ETH`],
      ["platform fee", `${p.feeBps / 100} %`],
    ]),
    "demo",
    rows([
      [
        "host",
        `#${seed.hostId}  lender ${seed.lender}  agent ${seed.agent}  bond ${formatEther(seed.bond)} ETH`,
      ],
      ["host metadata", seed.hostMetadataCid],
      [
        "listing",
        `#${seed.listingId}  ${hw.cpuCores} CPU cores (${seed.cpuModel}), ${hw.ramMiB} MiB RAM, ${hw.diskGiB} GiB disk, ` +
          "no passthrough GPU (development host)",
      ],
      [
        "listing terms",
        `${formatEther(seed.pricePerHour)} ETH/h, ${seed.minSlots}–${seed.maxSlots} slots, lead time ${seed.leadTime} s, region ${hw.region}`,
      ],
      ["listing metadata", seed.listingMetadataCid],
    ]),
    `dev accounts (anvil's public test mnemonic "${ANVIL_MNEMONIC}" — never use them on a real network)`,
    ...Object.values(accounts).map((a) => `  #${a.index} ${a.address}  key ${a.privateKey}  ${a.role}`),
    "",
    "Press Ctrl-C to stop.",
  ].join("\n");
}

async function main(): Promise<void> {
  const host = process.env.ANVIL_HOST || DEFAULT_HOST;
  const port = parsePort(process.env.ANVIL_PORT);
  const subgraphPort = parsePort(process.env.SUBGRAPH_PORT, "SUBGRAPH_PORT", 8000);

  // Until the stack is up, a signal just exits: anvil.ts kills any anvil this process started on exit.
  let stack: LocalStack | undefined;
  let subgraph: { stop(): Promise<void> } | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!stack) {
      log(`${signal} during startup; exiting`);
      process.exit(130);
    }
    const chain = stack;
    log(`${signal}: stopping the subgraph host and anvil (pid ${chain.anvil.pid})…`);
    (subgraph ? subgraph.stop() : Promise.resolve())
      .then(() => chain.stop())
      .then(() => rm(join(stateDir, "local-stack.json"), { force: true }))
      .then(
        () => {
          log("stopped. Bye.");
          process.exit(0);
        },
        (e: unknown) => {
          console.error(e);
          process.exit(1);
        },
      );
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);

  // Fail fast on a taken port, before a build that may take a minute.
  await assertPortFree(host, port);
  await assertPortFree(host, subgraphPort);
  await prepareArtifacts(log);
  // The stack imports the generated ABIs, which exist only now.
  const { startLocalStack } = await import("./lib/stack.ts");
  stack = await startLocalStack({
    host,
    port,
    anvilLogFile: join(stateDir, "anvil.log"),
    log,
  });
  const running = stack;

  await prepareSubgraph(running.deploymentFile, log);
  const subgraphDb = join(stateDir, "subgraph", `${running.anvil.chainId}.sqlite`);
  // A fresh anvil is a fresh chain: index it from scratch.
  for (const suffix of ["", "-wal", "-shm"]) await rm(`${subgraphDb}${suffix}`, { force: true });
  // …and a price model learnt from the previous chain's history no longer describes this market.
  await rm(join(stateDir, "pricing"), { recursive: true, force: true });
  const { startSubgraphHost } = await import("../../subgraph/host/main.ts");
  const { LogLevel } = await import("../../subgraph/host/wasm.ts");
  const sg = await startSubgraphHost({
    rpcUrl: running.anvil.url,
    deployment: running.deployment,
    dbFile: subgraphDb,
    host,
    port: subgraphPort,
    pollMs: 250,
    log: (level, message) => {
      if (level <= LogLevel.Warning) log(`subgraph ${LogLevel[level]?.toLowerCase() ?? level}: ${message}`);
    },
  });
  subgraph = sg;

  await mkdir(stateDir, { recursive: true });
  await writeFile(
    join(stateDir, "local-stack.json"),
    `${JSON.stringify(
      {
        chainId: running.anvil.chainId,
        rpcUrl: running.anvil.url,
        anvilPid: running.anvil.pid,
        deploymentFile: relative(repoRoot, running.deploymentFile),
        market: running.deployment.market,
        hostId: Number(running.seed.hostId),
        listingId: Number(running.seed.listingId),
        subgraphUrl: sg.url,
        subgraphStatusUrl: sg.statusUrl,
        accounts: Object.fromEntries(
          Object.entries(running.accounts).map(([k, a]) => [k, { index: a.index, address: a.address }]),
        ),
        mnemonic: ANVIL_MNEMONIC,
      },
      null,
      2,
    )}\n`,
  );
  console.log(summary(running, sg));

  void running.anvil.exited.then(({ code, signal }) => {
    if (stopping) return;
    console.error(
      `[start] anvil exited on its own (${signal ?? `code ${code}`}); see .computehive/anvil.log`,
    );
    process.exit(1);
  });
}

main().catch((e: unknown) => {
  console.error(`[start] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
