import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { type Deployment, parseDeployment } from "@computehive/sdk";
import { createPublicClient, getAddress, type Hex, http } from "viem";
import { exec } from "./exec.ts";
import { bin, deploymentsDir } from "./paths.ts";

export interface DeployOptions {
  rpcUrl: string;
  /** Deployer key (sends every transaction). */
  privateKey: Hex;
  /** Folder of the record `<chainId>.json`; must lie under <repo>/deployments (forge's write permission). */
  outDir?: string;
  /** Extra environment for the script: MARKET_OWNER, MARKET_SLOT_LENGTH, … (see script/DeployMarket.s.sol). */
  env?: Record<string, string>;
}

export interface DeployResult {
  deployment: Deployment;
  /** Path of the record written. */
  file: string;
  /** forge's script output (logs and summary), for diagnostics. */
  forgeOutput: string;
}

interface BroadcastRecord {
  receipts: { transactionHash: Hex; status: string; contractAddress: string | null }[];
}

function assertUnderDeployments(dir: string): string {
  const abs = resolve(dir);
  const rel = relative(deploymentsDir, abs);
  if (rel.startsWith("..") || resolve(deploymentsDir, rel) !== abs) {
    throw new Error(
      `deployment records must go under ${deploymentsDir} (forge may write only there), not ${abs}`,
    );
  }
  return abs;
}

/**
 * Deploys the market with script/DeployMarket.s.sol and returns its record with the exact start block.
 *
 * Start block: forge simulates `run()` before broadcasting, so the script can only record `block.number` at
 * simulation time (a lower bound). Here the script writes into a private staging folder and its broadcast log
 * into a private temporary folder (FOUNDRY_BROADCAST, so concurrent deploys never read each other's logs); the
 * market's creation transaction is then looked up in that log, its receipt fetched from the chain, the code
 * checked to be there, and the record moved into place with `startBlock` = the receipt's block. A failed deploy
 * therefore never leaves a record behind.
 */
export async function deployMarket(opts: DeployOptions): Promise<DeployResult> {
  const outDir = assertUnderDeployments(opts.outDir ?? deploymentsDir);
  const client = createPublicClient({ transport: http(opts.rpcUrl) });
  const chainId = await client.getChainId();

  const staging = join(deploymentsDir, `.staging-${process.pid}-${randomBytes(4).toString("hex")}`);
  const broadcastDir = await mkdtemp(join(tmpdir(), "computehive-broadcast-"));
  try {
    const args = [
      "script",
      "script/DeployMarket.s.sol",
      "--rpc-url",
      opts.rpcUrl,
      "--broadcast",
      "--slow",
      "--non-interactive",
    ];
    const { stdout, stderr } = await exec(bin("forge"), args, {
      env: {
        ...opts.env,
        PRIVATE_KEY: opts.privateKey,
        DEPLOYMENTS_DIR: staging,
        FOUNDRY_BROADCAST: broadcastDir,
      },
    });

    const staged = join(staging, `${chainId}.json`);
    const record = JSON.parse(await readFile(staged, "utf8")) as Record<string, unknown>;
    const market = getAddress(String(record.market));

    const logFile = join(broadcastDir, "DeployMarket.s.sol", String(chainId), "run-latest.json");
    const broadcast = JSON.parse(await readFile(logFile, "utf8")) as BroadcastRecord;
    const failed = broadcast.receipts.filter((r) => BigInt(r.status) !== 1n);
    if (failed.length)
      throw new Error(`deploy transactions reverted: ${failed.map((r) => r.transactionHash).join(", ")}`);
    // The market's creation is found by its receipt's contractAddress (a fact from the chain). The `hash` forge
    // records per transaction has been seen paired with the wrong transaction when sends overlap, so it is not
    // used; --slow above also keeps the sends sequential.
    const created = broadcast.receipts.find(
      (r) => r.contractAddress && getAddress(r.contractAddress) === market,
    );
    if (!created) throw new Error(`${logFile}: no receipt creating the market at ${market}`);
    const receipt = await client.getTransactionReceipt({ hash: created.transactionHash });
    if (
      receipt.status !== "success" ||
      !receipt.contractAddress ||
      getAddress(receipt.contractAddress) !== market
    ) {
      throw new Error(`transaction ${created.transactionHash} did not create the market at ${market}`);
    }
    const code = await client.getCode({ address: market });
    if (!code || code === "0x") throw new Error(`no code at the market address ${market} after deployment`);

    record.startBlock = Number(receipt.blockNumber);
    const deployment = parseDeployment(record, staged);

    await mkdir(outDir, { recursive: true });
    const file = join(outDir, `${chainId}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(tmp, file);
    return { deployment, file, forgeOutput: stdout + stderr };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(broadcastDir, { recursive: true, force: true });
  }
}
