import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Deployment, DeploymentError, parseDeploymentJson } from "./deployments.ts";

// Node-only helpers (file system). Import from '@computehive/sdk/node'; the main entry stays browser-safe.

/** `<dir>/<chainId>.json`; `dir` defaults to `./deployments` under the current directory. */
export function deploymentPath(chainId: number, dir = "deployments"): string {
  return resolve(join(dir, `${chainId}.json`));
}

/** Reads and checks a deployment record file. Throws DeploymentError with the path and the problem. */
export async function loadDeploymentFile(path: string): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new DeploymentError(
        `${path}: no deployment record. Deploy first: \`npm start\` for the local chain, or ` +
          "`PRIVATE_KEY=… forge script script/DeployMarket.s.sol --rpc-url <url> --broadcast`.",
      );
    }
    throw new DeploymentError(`${path}: cannot be read (${(e as Error).message})`);
  }
  return parseDeploymentJson(text, path);
}

/** Reads `deployments/<chainId>.json` and checks that it describes that chain. */
export async function loadDeployment(chainId: number, dir = "deployments"): Promise<Deployment> {
  const path = deploymentPath(chainId, dir);
  const d = await loadDeploymentFile(path);
  if (d.chainId !== chainId) {
    throw new DeploymentError(`${path}: records chain ${d.chainId}, expected ${chainId}`);
  }
  return d;
}
