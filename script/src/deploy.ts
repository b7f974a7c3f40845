// Deploys the market to any RPC URL and writes deployments/<chainId>.json with the exact start block:
//
//   RPC_URL=https://… PRIVATE_KEY=0x… [MARKET_OWNER=0x… MARKET_*=…] tsx script/src/deploy.ts
//
// Every MARKET_* variable of script/DeployMarket.s.sol passes through.
import { isHex } from "viem";
import { prepareArtifacts } from "./lib/artifacts.ts";

function log(line: string): void {
  console.log(`[deploy] ${line}`);
}

async function main(): Promise<void> {
  const rpcUrl = process.env.RPC_URL;
  const privateKey = process.env.PRIVATE_KEY;
  if (!rpcUrl) throw new Error("set RPC_URL to the chain's JSON-RPC endpoint");
  if (!privateKey || !isHex(privateKey) || privateKey.length !== 66) {
    throw new Error("set PRIVATE_KEY to the deployer's 32-byte key (0x + 64 hex digits)");
  }
  await prepareArtifacts(log);
  // deploy.ts reads the record through the SDK, whose generated ABIs exist only now.
  const { deployMarket } = await import("./lib/deploy.ts");
  log(`deploying to ${rpcUrl}…`);
  const { deployment, file } = await deployMarket({
    rpcUrl,
    privateKey,
  });
  log(
    `market ${deployment.market} on chain ${deployment.chainId}, created in block ${deployment.startBlock}`,
  );
  if (deployment.pendingOwner)
    log(`${deployment.pendingOwner} must call acceptOwnership() to become the owner`);
  log(`record: ${file}`);
}

main().catch((e: unknown) => {
  console.error(`[deploy] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
