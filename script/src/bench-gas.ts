// `npm run bench:gas`: measures the market's gas per operation on a private anvil and writes bench/gas.json.
// Exits non-zero only when something could not be measured; a figure over its target is printed as MISS.
// What each figure means (fresh deployment, first credits, …) is in script/src/lib/gas-bench.ts (SCENARIOS) and
// printed under the table.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { prepareArtifacts } from "./lib/artifacts.ts";
import { repoRoot } from "./lib/paths.ts";

function log(line: string): void {
  console.log(`[bench:gas] ${line}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  await prepareArtifacts(log);
  // Imports the generated ABIs, which exist only after prepareArtifacts.
  const { formatTable, runGasBench } = await import("./lib/gas-bench.ts");
  const { report, rows } = await runGasBench({ log });
  const dir = join(repoRoot, "bench");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "gas.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${formatTable(rows)}\n`);
  const misses = rows.filter((r) => !r.pass).length;
  log(
    `wrote bench/gas.json in ${((Date.now() - started) / 1000).toFixed(1)} s; ${misses ? `${misses} MISS` : "all targets met"}`,
  );
}

main().catch((e: unknown) => {
  console.error(`[bench:gas] failed to measure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
