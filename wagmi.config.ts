// Typed ABIs for the TypeScript parts, generated from forge's artifacts (never copied by hand):
//
//   forge build && npx wagmi generate      # writes sdk/src/generated.ts (gitignored)
//
// The artifacts are read from foundry.toml's `out` (./out). FOUNDRY_OUT, when set, is honoured the way forge
// honours it, so a build into another folder generates from that folder.
import { isAbsolute, relative } from "node:path";
import { defineConfig } from "@wagmi/cli";
import { foundry } from "@wagmi/cli/plugins";

const out = process.env.FOUNDRY_OUT;
// The plugin joins `artifacts` onto the project root, so an absolute folder must be made relative first.
const artifacts = out ? (isAbsolute(out) ? relative(process.cwd(), out) : out) : "out";

export default defineConfig({
  out: "sdk/src/generated.ts",
  plugins: [
    foundry({
      project: ".",
      artifacts,
      forge: { build: false, rebuild: false },
      // Exact artifact files: forge also emits e.g. `TestToken.via-ir.json` when a contract is compiled by both
      // pipelines, and that second copy would clash by name.
      include: [
        "Market.sol/Market.json",
        "TestToken.sol/TestToken.json",
        "MockV3Aggregator.sol/MockV3Aggregator.json",
      ],
    }),
  ],
});
