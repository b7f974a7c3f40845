import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseDeployment } from "@computehive/sdk";
import type { RuntimeConfig } from "./config.ts";

// Server side of the runtime configuration (app/api/config/route.ts). Relative paths resolve against the
// server's working directory, which is the dapp folder for `next start` and `npm -w dapp run start`.

export const DEFAULT_DEPLOYMENT = "../deployments/31337.json";
export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
export const DEFAULT_SUBGRAPH_URL = "http://127.0.0.1:8000/subgraphs/name/computehive";

export type Env = Record<string, string | undefined>;

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** Reads the deployment record named by COMPUTEHIVE_DEPLOYMENT and the URLs from the environment. */
export async function loadRuntimeConfig(env: Env, cwd: string): Promise<RuntimeConfig> {
  const path = resolve(cwd, nonEmpty(env.COMPUTEHIVE_DEPLOYMENT) ?? DEFAULT_DEPLOYMENT);
  let text: string;
  try {
    // The record is named at run time, never bundled: keep the bundler from tracing the whole project for it.
    text = await readFile(/* turbopackIgnore: true */ path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? `no deployment record at ${path}: deploy first (\`npm start\` for the local chain) or set COMPUTEHIVE_DEPLOYMENT`
        : `cannot read the deployment record ${path} (${(e as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const d = parseDeployment(json, path);
  const startBlock = Number(d.startBlock);
  if (!Number.isSafeInteger(startBlock)) throw new Error(`${path}: startBlock is out of range`);
  return {
    chainId: d.chainId,
    rpcUrl: nonEmpty(env.COMPUTEHIVE_RPC_URL) ?? DEFAULT_RPC_URL,
    market: d.market,
    startBlock,
    subgraphUrl: nonEmpty(env.COMPUTEHIVE_SUBGRAPH_URL) ?? DEFAULT_SUBGRAPH_URL,
    slotLength: d.params.slotLength,
    walletConnectProjectId: nonEmpty(env.NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID) ?? null,
  };
}
