import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is script/src/lib/paths.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Native binaries and CLIs installed by npm: forge/anvil/cast are the real executables, not Node launchers. */
export const binDir = join(repoRoot, "node_modules", ".bin");
export function bin(name: "anvil" | "forge" | "cast" | "wagmi"): string {
  return join(binDir, name);
}

/** forge's artifact folder: FOUNDRY_OUT when set (as forge itself honours it), else foundry.toml's `out`. */
export function forgeOutDir(): string {
  const out = process.env.FOUNDRY_OUT;
  return out ? resolve(repoRoot, out) : join(repoRoot, "out");
}

/** Where deploy records go; forge may write only under ./deployments (foundry.toml fs_permissions). */
export const deploymentsDir = join(repoRoot, "deployments");

/** Local, gitignored state of the local stack (logs, metadata documents). */
export const stateDir = join(repoRoot, ".computehive");

/** The environment for child processes, with node_modules/.bin first on PATH. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}` };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}
