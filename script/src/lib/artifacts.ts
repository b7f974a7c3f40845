import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { exec } from "./exec.ts";
import { bin, forgeOutDir, repoRoot } from "./paths.ts";

export const generatedAbiFile = join(repoRoot, "sdk", "src", "generated.ts");

export function artifactPath(contract: string): string {
  return join(forgeOutDir(), `${contract}.sol`, `${contract}.json`);
}

/** `forge build` of the sources and scripts (incremental: quick when nothing changed). */
export async function forgeBuild(): Promise<void> {
  // Only what the launcher deploys (and its imports): a half-edited test elsewhere must not stop the stack.
  await exec(bin("forge"), ["build", "contracts/src", "script"]);
}

/** Runs `wagmi generate` when sdk/src/generated.ts is missing or older than any artifact it is made from. */
export async function ensureGeneratedAbis(): Promise<boolean> {
  const sources = ["Market", "TestToken", "MockV3Aggregator"].map(artifactPath);
  for (const s of sources) {
    if (!existsSync(s)) throw new Error(`missing forge artifact ${s}: run \`forge build\` first`);
  }
  const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs));
  if (existsSync(generatedAbiFile) && statSync(generatedAbiFile).mtimeMs >= newest) return false;
  await exec(bin("wagmi"), ["generate"]);
  return true;
}

/** Builds the contracts and generates the typed ABIs the TypeScript side imports. */
export async function prepareArtifacts(log: (line: string) => void = () => {}): Promise<void> {
  log("building contracts (forge build; the first build takes a minute)…");
  await forgeBuild();
  if (await ensureGeneratedAbis()) log("generated typed ABIs (sdk/src/generated.ts)");
}
