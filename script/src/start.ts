// `npm start`: the whole local marketplace, all real, each part a process of its own:
//
//   1. anvil (the native binary from node_modules, so the PID held is anvil's own) on ANVIL_HOST:ANVIL_PORT
//      (default 127.0.0.1:8545), the market deployed with script/DeployMarket.s.sol and one demo host and
//      listing seeded;
//   2. the subgraph for that deployment (built when stale) on the embedded subgraph host: graph-node's query
//      API at SUBGRAPH_PORT (default 8000);
//   3. a local lender (lib/lender-stack.ts), as root: the host agent's `serve` on qemu:///system (the guest
//      image built from Debian packages on first run, cached in .computehive/guest) and the oracle node: the
//      demo host's dev keys in keystores, one honest listing from the agent's inventory, the daemon (`run`) with
//      its status endpoint at ORACLE_STATUS_PORT (default 8547). Not root: skipped, with the reason;
//   4. the dApp (lib/dapp-server.ts): `next build` when dapp/.next is missing or older than its sources, then
//      `next start` on DAPP_PORT (default 3000).
//
// Then it prints every URL and a short guide, writes "[start] ready: …", and runs until Ctrl-C / SIGTERM /
// SIGHUP: it stops the parts in reverse order (dApp, daemon, agent — after destroying its VMs —, subgraph,
// anvil), waits for each to exit, checks that no process, port or computehive libvirt domain is left, and
// exits 0.
//
//   ANVIL_HOST, ANVIL_PORT        where anvil listens (every service listens on ANVIL_HOST)
//   SUBGRAPH_PORT                 the subgraph query API's port
//   DAPP_PORT                     the dApp's port
//   ORACLE_STATUS_PORT            the oracle daemon's status endpoint
//   COMPUTEHIVE_LENDER=0          no local lender;  COMPUTEHIVE_DAPP=0  no dApp
//   COMPUTEHIVE_DAPP_BUILD        auto (default: `next build` when dapp/.next is missing or stale), if-missing, never
//   COMPUTEHIVE_STATE_DIR         the state folder (default .computehive; tests use their own)
//   COMPUTEHIVE_DEPLOYMENTS_DIR   where the deployment record goes (default deployments/; must be under it)
//   MARKET_*                      deployment parameters (see script/DeployMarket.s.sol)
//
// Files: deployments/31337.json (the deployment record); under the state folder: local-stack.json (this
// summary, with every PID and URL), anvil.log (anvil's RPC log), metadata/<cid>.json (the demo metadata
// documents), subgraph/31337.sqlite (the subgraph store; recreated at each start, as the chain is), agent/ (the
// host agent's state, emptied at each start), oracle/ (keystores, dev password, the daemon's state and pins).
// Kept between runs: .computehive/guest (the guest image), dapp/.next, subgraph/build.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { formatEther } from "viem";
import { ANVIL_MNEMONIC } from "./lib/accounts.ts";
import { assertPortFree, DEFAULT_HOST, DEFAULT_PORT } from "./lib/anvil.ts";
import { prepareArtifacts } from "./lib/artifacts.ts";
import { buildDapp, type DappServer, dappBuildReason, startDapp } from "./lib/dapp-server.ts";
import {
  foreignDomains,
  type LenderStack,
  lenderUnusable,
  type ManagedChild,
  startLenderStack,
} from "./lib/lender-stack.ts";
import { stateDir as defaultStateDir, deploymentsDir, repoRoot } from "./lib/paths.ts";
import type { LocalStack } from "./lib/stack.ts";
import { prepareSubgraph } from "./lib/subgraph.ts";

function log(line: string): void {
  console.log(`[start] ${line}`);
}

function loud(lines: string[]): void {
  const bar = "!".repeat(100);
  console.log([bar, ...lines.map((l) => `!! ${l}`), bar].join("\n"));
}

function parsePort(value: string | undefined, name = "ANVIL_PORT", fallback = DEFAULT_PORT): number {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a TCP port, got "${value}"`);
  return port;
}

const off = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());

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
  ].join("\n");
}

interface Extras {
  lender?: LenderStack;
  lenderSkipped?: string;
  dapp?: DappServer;
  statePath: string;
}

function urlsAndGuide(stack: LocalStack, sg: { url: string; statusUrl: string }, x: Extras): string {
  const { accounts: a, seed } = stack;
  const rows = (pairs: [string, string][]) => pairs.map(([k, v]) => `  ${k.padEnd(26)} ${v}`).join("\n");
  const rel = (p: string) => {
    const r = relative(repoRoot, p);
    return r.startsWith("..") ? p : r || ".";
  };
  const listing = x.lender ? x.lender.listingId : seed.listingId;
  const slotMin = stack.deployment.params.slotLength / 60;
  // The oracle CLI: the command first, then these options.
  const oracleOpts = x.lender
    ? `--state-dir ${rel(x.lender.oracleStateDir)} --password-file ${rel(x.lender.passwordFile)} --rpc-url ${stack.anvil.url} --deployment ${rel(stack.deploymentFile)} --agent-socket ${x.lender.agentSocket}`
    : "";
  const oracle = (command: string) => `npx tsx oracle-node/src/cli.ts ${command} ${oracleOpts}`;
  const lines = [
    "",
    "URLs",
    rows([
      ["chain RPC (id 31337)", stack.anvil.url],
      ["subgraph GraphQL", sg.url],
      ["subgraph indexing status", sg.statusUrl],
      ["dApp", x.dapp ? x.dapp.url : "(not started)"],
      [
        "oracle status",
        x.lender ? `${x.lender.statusUrl}/status  (health ${x.lender.statusUrl}/healthz)` : "(no lender)",
      ],
      [
        "calendar feed (lender)",
        x.lender ? `${x.lender.statusUrl}/calendar/${a.lender.address}.ics` : "(no lender)",
      ],
      ["host agent API", x.lender ? `unix socket ${x.lender.agentSocket}` : "(no lender)"],
    ]),
  ];
  if (x.lender) {
    lines.push(
      "local lender",
      rows([
        ["host agent", `pid ${x.lender.agent.pid}, state ${x.lender.agentStateDir}`],
        [
          "oracle daemon",
          `pid ${x.lender.daemon.pid}, state ${rel(x.lender.oracleStateDir)} (host #${seed.hostId})`,
        ],
        [
          "listing",
          `#${x.lender.listingId} (from the agent's inventory; seeded #${seed.listingId} deactivated)`,
        ],
      ]),
    );
  } else {
    lines.push(`local lender: NOT running — ${x.lenderSkipped ?? "disabled"}`);
  }
  lines.push(
    "",
    "Try it",
    `  as a borrower: open ${x.dapp?.url ?? "the dApp (npm -w dapp run dev)"}; in a browser wallet (MetaMask…) add the network`,
    `    "ComputeHive local" (RPC ${stack.anvil.url}, chain id 31337, ETH), import dev account #${a.borrower.index}`,
    `    (private key ${a.borrower.privateKey}), connect, and book listing #${listing} for a few`,
    `    ${slotMin}-minute slots with your SSH public key. ${x.lender ? "The oracle activates it before the start; open the booking to get the SSH command." : "No lender runs here, so nobody will activate it (sudo npm start runs one)."}`,
    "  as a lender (the oracle CLI; every command takes the same options):",
    x.lender
      ? [
          `    ${oracle(`bookings --host ${seed.hostId}`)}`,
          `    … earnings --host ${seed.hostId} | listing price --listing ${x.lender.listingId} --price 0.02 | listing list --host ${seed.hostId}`,
          `    watch the daemon: curl ${x.lender.statusUrl}/status ; the VMs: curl --unix-socket ${x.lender.agentSocket} http://agent/v1/bookings`,
        ].join("\n")
      : "    run as root (sudo npm start) to get a host agent and an oracle daemon serving the demo host",
    "  as an auditor:",
    `    curl -s ${sg.url} -H 'content-type: application/json' -d '{"query":"{ listings { id active pricePerHour } bookings { id status } }"}'`,
    x.lender ? `    ${oracle(`reputation --host ${seed.hostId}`).replace(/ --password-file \S+/, "")}` : "",
    `    or the dApp's market, booking and audit pages (${x.dapp?.url ?? "dApp"}); session reports are pinned under ${rel(x.statePath)}/oracle/ipfs`,
    "",
    "Press Ctrl-C to stop everything.",
  );
  return lines.filter((l) => l !== "").join("\n");
}

async function main(): Promise<void> {
  const host = process.env.ANVIL_HOST || DEFAULT_HOST;
  const port = parsePort(process.env.ANVIL_PORT);
  const subgraphPort = parsePort(process.env.SUBGRAPH_PORT, "SUBGRAPH_PORT", 8000);
  const dappPort = parsePort(process.env.DAPP_PORT, "DAPP_PORT", 3000);
  const statusPort = parsePort(process.env.ORACLE_STATUS_PORT, "ORACLE_STATUS_PORT", 8547);
  const wantLender = !off(process.env.COMPUTEHIVE_LENDER);
  const wantDapp = !off(process.env.COMPUTEHIVE_DAPP);
  const stateDir = process.env.COMPUTEHIVE_STATE_DIR
    ? resolve(process.env.COMPUTEHIVE_STATE_DIR)
    : defaultStateDir;
  const outDir = process.env.COMPUTEHIVE_DEPLOYMENTS_DIR
    ? resolve(process.env.COMPUTEHIVE_DEPLOYMENTS_DIR)
    : undefined;
  if (outDir && relative(deploymentsDir, outDir).startsWith(".."))
    throw new Error(
      `COMPUTEHIVE_DEPLOYMENTS_DIR must be under ${deploymentsDir} (forge may write only there)`,
    );

  // Everything started, in order; stopped in reverse. Until anvil is up, anvil.ts kills it on exit.
  const parts: { name: string; stop: () => Promise<void> }[] = [];
  const pids: number[] = [];
  const ports: number[] = [port, subgraphPort];
  let stack: LocalStack | undefined;
  let lender: LenderStack | undefined;
  let stopping: Promise<void> | undefined;
  let ready = false;
  let failed = false;

  const shutdown = async (): Promise<boolean> => {
    for (const part of [...parts].reverse()) {
      log(`stopping ${part.name}…`);
      await part
        .stop()
        .catch((e: unknown) => log(`  ${part.name}: ${e instanceof Error ? e.message : String(e)}`));
    }
    await rm(join(stateDir, "local-stack.json"), { force: true });
    // Verify: no process, port or VM of ours left.
    let clean = true;
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (alive.length > 0) {
      clean = false;
      log(`still alive: pid ${alive.join(", ")}`);
    }
    const busy: number[] = [];
    for (const p of ports) await assertPortFree(host, p).catch(() => busy.push(p));
    if (busy.length > 0) {
      clean = false;
      log(`ports still in use: ${busy.join(", ")}`);
    }
    const ours = lender ? await lender.leftDomains() : [];
    if (ours.length > 0) {
      clean = false;
      log(`libvirt domains left: ${ours.join(", ")}`);
    }
    if (clean)
      log(
        `clean: no process left (${pids.length} checked), ports ${ports.join(", ")} free` +
          (lender ? ", no computehive VM of ours left" : ""),
      );
    return clean;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    if (parts.length === 0) {
      log(`${signal} during startup; exiting`);
      process.exit(130);
    }
    const up = stack !== undefined && ready;
    log(`${signal}: stopping everything in reverse order…`);
    stopping = shutdown().then(
      (clean) => {
        log("stopped. Bye.");
        process.exit(failed ? 1 : up ? (clean ? 0 : 1) : 130);
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
  const own = (name: string, child: { pid: number; stop: () => Promise<void> }) => {
    pids.push(child.pid);
    parts.push({ name: `${name} (pid ${child.pid})`, stop: () => child.stop() });
  };

  try {
    // Fail fast on a taken port, before a build that may take a minute.
    await assertPortFree(host, port);
    await assertPortFree(host, subgraphPort);
    if (wantDapp) await assertPortFree(host, dappPort);
    if (wantLender) await assertPortFree(host, statusPort);
    await prepareArtifacts(log);
    // The stack imports the generated ABIs, which exist only now.
    const { startLocalStack } = await import("./lib/stack.ts");
    stack = await startLocalStack({
      host,
      port,
      anvilLogFile: join(stateDir, "anvil.log"),
      deploymentsDir: outDir,
      metadataDir: join(stateDir, "metadata"),
      log,
    });
    const running = stack;
    own("anvil", { pid: running.anvil.pid, stop: () => running.stop() });
    void running.anvil.exited.then(({ code, signal }) => {
      if (stopping) return;
      console.error(
        `[start] anvil exited on its own (${signal ?? `code ${code}`}); see ${join(stateDir, "anvil.log")}`,
      );
      failed = true;
      onSignal("SIGTERM");
    });

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
        // Once stopping, anvil may be gone first (a terminal's Ctrl-C reaches it too): no retry noise.
        if (level <= LogLevel.Warning && !stopping)
          log(`subgraph ${LogLevel[level]?.toLowerCase() ?? level}: ${message}`);
      },
    });
    parts.push({ name: "the subgraph host", stop: () => sg.stop() });

    const writeSummary = async (x: Partial<Extras> = {}) => {
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
            listingId: Number(x.lender?.listingId ?? running.seed.listingId),
            seedListingId: Number(running.seed.listingId),
            subgraphUrl: sg.url,
            subgraphStatusUrl: sg.statusUrl,
            dappUrl: x.dapp?.url ?? null,
            dappPid: x.dapp?.pid ?? null,
            oracleStatusUrl: x.lender ? `${x.lender.statusUrl}/status` : null,
            oraclePid: x.lender?.daemon.pid ?? null,
            agentPid: x.lender?.agent.pid ?? null,
            agentSocket: x.lender?.agentSocket ?? null,
            oracleStateDir: x.lender?.oracleStateDir ?? null,
            lenderSkipped: x.lenderSkipped ?? null,
            pids,
            ports,
            accounts: Object.fromEntries(
              Object.entries(running.accounts).map(([k, a]) => [k, { index: a.index, address: a.address }]),
            ),
            mnemonic: ANVIL_MNEMONIC,
          },
          null,
          2,
        )}\n`,
      );
    };
    await writeSummary();
    console.log(summary(running, sg));

    // The local lender.
    let lenderSkipped: string | undefined;
    if (!wantLender) lenderSkipped = "COMPUTEHIVE_LENDER=0";
    else {
      let why = await lenderUnusable();
      const foreign = why ? [] : await foreignDomains(join(stateDir, "agent"));
      if (foreign.length > 0)
        why =
          `another host agent is running VMs on this machine (${foreign.join(", ")}); a second agent on ` +
          "qemu:///system tears down every computehive-booking-* domain it does not know, so it is not started";
      if (why) {
        lenderSkipped = why;
        loud([
          "NO LOCAL LENDER: the host agent and the oracle daemon are not started.",
          `Why: ${why}.`,
          `The chain, the subgraph and the dApp run; listing #${running.seed.listingId} can be booked, but no one will`,
          "activate the booking (it ends as a no-show, refunded). `sudo npm start` runs the whole lender.",
        ]);
      } else {
        ports.push(statusPort);
        lender = await startLenderStack({
          rpcUrl: running.anvil.url,
          deploymentFile: running.deploymentFile,
          hostId: running.seed.hostId,
          seedListingId: running.seed.listingId,
          pricePerHour: running.seed.pricePerHour,
          lender: running.accounts.lender,
          agent: running.accounts.agent,
          stateDir,
          statusHost: host,
          statusPort,
          log,
          onSpawn: (child: ManagedChild) => own(child.name, child),
        });
        const l = lender;
        // Stopped as one part (daemon, then the agent after destroying its VMs): replace the two entries.
        const names = new Set([`host agent (pid ${l.agent.pid})`, `oracle daemon (pid ${l.daemon.pid})`]);
        for (let i = parts.length - 1; i >= 0; i--) if (names.has(parts[i]?.name ?? "")) parts.splice(i, 1);
        parts.push({
          name: "the local lender (oracle daemon, then the host agent and its VMs)",
          stop: () => l.stop(log),
        });
      }
    }

    // The dApp.
    let dapp: DappServer | undefined;
    if (wantDapp) {
      // COMPUTEHIVE_DAPP_BUILD: auto (default: when missing or stale), if-missing, never.
      const mode = process.env.COMPUTEHIVE_DAPP_BUILD || "auto";
      if (!["auto", "if-missing", "never"].includes(mode))
        throw new Error(`COMPUTEHIVE_DAPP_BUILD must be auto, if-missing or never, got "${mode}"`);
      let reason = mode === "never" ? undefined : dappBuildReason();
      if (reason && mode === "if-missing" && !reason.includes("missing")) {
        log(`the dApp's build is older than its sources; not rebuilding (COMPUTEHIVE_DAPP_BUILD=${mode})`);
        reason = undefined;
      }
      if (reason) {
        log(`building the dApp (${reason}; next build, about a minute)…`);
        await buildDapp(log);
      } else log("the dApp's build (dapp/.next) is up to date");
      ports.push(dappPort);
      log(`starting the dApp (next start) on ${host}:${dappPort}…`);
      dapp = await startDapp({
        host,
        port: dappPort,
        deploymentFile: running.deploymentFile,
        rpcUrl: running.anvil.url,
        subgraphUrl: sg.url,
        log,
        onSpawn: (s) => own("the dApp", s),
      });
      const d = dapp;
      void d.exited.then(({ code, signal }) => {
        if (stopping) return;
        console.error(`[start] the dApp exited on its own (${signal ?? `code ${code}`})`);
      });
    }

    const extras: Extras = { lender, lenderSkipped, dapp, statePath: stateDir };
    await writeSummary(extras);
    console.log(urlsAndGuide(running, sg, extras));
    if (stopping) return;
    ready = true;
    log(
      `ready: rpc ${running.anvil.url} subgraph ${sg.url} dapp ${dapp?.url ?? "-"} ` +
        `oracle ${lender ? `${lender.statusUrl}/status` : "-"} pids ${pids.join(",")}` +
        (lenderSkipped ? ` (no lender: ${lenderSkipped})` : ""),
    );
  } catch (e) {
    if (stopping) return; // a signal during start-up: its shutdown is running and exits
    console.error(`[start] failed: ${e instanceof Error ? e.message : String(e)}`);
    stopping = shutdown().then(
      () => process.exit(1),
      () => process.exit(1),
    );
  }
}

main().catch((e: unknown) => {
  console.error(`[start] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
