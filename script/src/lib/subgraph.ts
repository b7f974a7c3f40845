// The subgraph's build for the local stack: subgraph.yaml generated from the deployment record, then
// `graph codegen && graph build` when the build is missing or older than its sources.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { exec } from "./exec.ts";
import { binDir, repoRoot } from "./paths.ts";

export const subgraphDir = join(repoRoot, "subgraph");
export const subgraphBuildDir = join(subgraphDir, "build");

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

/** Whether build/ is missing or older than the schema, mappings, ABI or template. */
export function subgraphBuildStale(): boolean {
  const wasm = join(subgraphBuildDir, "Market", "Market.wasm");
  if (!existsSync(wasm) || !existsSync(join(subgraphBuildDir, "subgraph.yaml"))) return true;
  const built = statSync(wasm).mtimeMs;
  const sources = ["schema.graphql", "src", "abis", "subgraph.template.yaml"].map((p) =>
    join(subgraphDir, p),
  );
  return sources.some((p) => existsSync(p) && newest(p) > built);
}

/** Writes subgraph.yaml for `deploymentFile` and rebuilds the subgraph if its build is stale. */
export async function prepareSubgraph(deploymentFile: string, log: (line: string) => void = () => {}) {
  await exec(process.execPath, [
    join(subgraphDir, "scripts", "manifest.mjs"),
    "--deployment",
    deploymentFile,
  ]);
  if (!subgraphBuildStale()) return false;
  log("building the subgraph (graph codegen && graph build, ~15 s)…");
  const graph = join(binDir, "graph");
  await exec(graph, ["codegen", "--output-dir", "generated"], { cwd: subgraphDir });
  await exec(graph, ["build"], { cwd: subgraphDir });
  return true;
}
