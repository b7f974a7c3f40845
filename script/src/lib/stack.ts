import type { Deployment } from "@computehive/sdk";
import { type DevAccount, localRoles } from "./accounts.ts";
import {
  type Anvil,
  assertPortFree,
  DEFAULT_HOST,
  DEFAULT_PORT,
  LOCAL_CHAIN_ID,
  startAnvil,
} from "./anvil.ts";
import { deployMarket } from "./deploy.ts";
import { type DemoSeed, seedDemo } from "./seed.ts";

export interface LocalStackOptions {
  host?: string;
  port?: number;
  /** anvil's log; without it anvil runs silently. */
  anvilLogFile?: string;
  /** Folder of the deployment record (under <repo>/deployments). Default: deployments/. */
  deploymentsDir?: string;
  /** Folder of the demo metadata documents. Default: .computehive/metadata. */
  metadataDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Extra anvil flags (e.g. `--timestamp`). */
  anvilArgs?: string[];
  /** Deployment parameters for script/DeployMarket.s.sol (MARKET_SLOT_LENGTH, …); default its own. */
  deployEnv?: Record<string, string>;
}

export interface LocalStack {
  anvil: Anvil;
  deployment: Deployment;
  deploymentFile: string;
  seed: DemoSeed;
  accounts: ReturnType<typeof localRoles>;
  stop(): Promise<void>;
}

/**
 * anvil on host:port (chain 31337), the market deployed by script/DeployMarket.s.sol (with the mock USD feed and
 * the test token), and the demo host and listing seeded. `npm start` and the tests both go through here.
 * Artifacts must be built first (prepareArtifacts).
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? DEFAULT_HOST;
  const port = opts.port ?? DEFAULT_PORT;
  const accounts = localRoles();

  await assertPortFree(host, port);

  log(`starting anvil on ${host}:${port}…`);
  const anvil = await startAnvil({
    host,
    port,
    chainId: LOCAL_CHAIN_ID,
    logFile: opts.anvilLogFile,
    args: opts.anvilArgs,
  });
  try {
    log(`anvil is up (pid ${anvil.pid}); deploying the market (forge script script/DeployMarket.s.sol)…`);
    const { deployment, file } = await deployMarket({
      rpcUrl: anvil.url,
      privateKey: accounts.deployer.privateKey,
      outDir: opts.deploymentsDir,
      env: opts.deployEnv,
    });
    log(`market deployed at ${deployment.market} in block ${deployment.startBlock}; seeding the demo host…`);
    const seed = await seedDemo({
      rpcUrl: anvil.url,
      deployment,
      lender: accounts.lender.account,
      agent: accounts.agent.account,
      metadataDir: opts.metadataDir,
    });
    log(`demo host ${seed.hostId} and listing ${seed.listingId} registered`);
    return { anvil, deployment, deploymentFile: file, seed, accounts, stop: () => anvil.stop() };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

export type { DevAccount };
