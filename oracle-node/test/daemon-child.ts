/**
 * The daemon as its own process, for the crash tests: configured by ORACLE_TEST_CONFIG (JSON), crashing with
 * SIGKILL at ORACLE_CRASH_AT when set. Stops cleanly on SIGTERM.
 */
import { AgentClient } from "@computehive/host-agent";
import { loadDeploymentFile } from "@computehive/sdk/node";
import { pino } from "pino";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { connectMarket } from "../src/chain.ts";
import { Daemon } from "../src/daemon.ts";
import { openPinner } from "../src/ipfs.ts";

const cfg = JSON.parse(process.env.ORACLE_TEST_CONFIG ?? "{}") as {
  rpcUrl: string;
  deploymentFile: string;
  agentKey: Hex;
  hostId: string;
  socketPath: string;
  stateDir: string;
  confirmations?: number;
};
const logger = pino({ level: process.env.ORACLE_LOG_LEVEL ?? "warn" });
const market = await connectMarket(cfg.rpcUrl, await loadDeploymentFile(cfg.deploymentFile));
const pinner = await openPinner({ dir: `${cfg.stateDir}/ipfs` });
const daemon = await Daemon.start({
  market,
  account: privateKeyToAccount(cfg.agentKey),
  hostId: BigInt(cfg.hostId),
  agent: new AgentClient({ socketPath: cfg.socketPath }),
  pinner,
  stateDir: cfg.stateDir,
  logger,
  confirmations: cfg.confirmations ?? 0,
  pollMs: 100,
  provisionLeadS: 3600,
  upkeepEveryMs: 200,
  crashAt: process.env.ORACLE_CRASH_AT,
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void daemon
    .stop()
    .then(() => pinner.close())
    .then(() => process.exit(0));
});
