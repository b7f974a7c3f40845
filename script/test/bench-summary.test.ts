// bench/summary.md (script/src/bench-summary.ts): figures against targets, misses marked, missing files "not run".
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { summarize } from "../src/bench-summary.ts";

describe("bench summary", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bench-summary-"));
  after(() => rm(dir, { recursive: true, force: true }));

  it("marks passes and misses against the issues' targets and says which benchmarks have not run", async () => {
    await writeFile(
      join(dir, "ai.json"),
      JSON.stringify({ modelMape: 0.1, baselineMape: 0.12, listings: 10000, schedulerP95Ms: 120 }),
    );
    await writeFile(
      join(dir, "oracle.json"),
      JSON.stringify({
        runs: 5,
        blockToActivationMsMedian: 900,
        blockToActivationMsMax: 1000,
        blockToSshMsMedian: 1,
        blockToSshMsMax: 2,
      }),
    );
    const md = await summarize(dir);
    assert.match(
      md,
      /\| ai \| modelMape \| 0\.1 \| ≥ 30 % below baselineMape \(16\.7 % below\) \| \*\*miss\*\* \|/,
    );
    assert.match(md, /\| ai \| schedulerP95Ms \| 120 \| ≤ 100 \| \*\*miss\*\* \|/);
    assert.match(md, /\| ai \| listings \| 10,000 \| 10,000 \| pass \|/);
    assert.match(md, /\| oracle \| blockToActivationMsMedian \| 900 \| ≤ 2,000 \| pass \|/);
    for (const f of ["gas", "indexer", "vm", "dapp"])
      assert.match(md, new RegExp(`\\| ${f} \\| \\(bench/${f}\\.json\\) \\| not run \\|`));
    assert.match(md, /2 targets met,\n6 missed or not run/);
  });

  it("a file without a required figure is reported, not filled in", async () => {
    await writeFile(join(dir, "vm.json"), JSON.stringify({ runs: 5, accel: "tcg" }));
    const md = await summarize(dir);
    assert.match(
      md,
      /\| vm \| \(bench\/vm\.json\) \| unreadable: agentOverheadMsMedian is missing or not a number \|/,
    );
  });
});
