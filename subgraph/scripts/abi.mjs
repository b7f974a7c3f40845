#!/usr/bin/env node
// Copies the market's ABI from the Foundry artifact (out/Market.sol/Market.json, field "abi") into
// subgraph/abis/Market.json. Never edit abis/Market.json by hand: run `forge build` then `npm run abi`.
//
// Usage: node scripts/abi.mjs [--artifact <path>] [--out <path>]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i === -1) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith("--")) fail(`${name} needs a path`);
  return resolve(v);
}

function fail(msg) {
  console.error(`abi: ${msg}`);
  process.exit(1);
}

const artifact = arg("--artifact", resolve(root, "..", "out", "Market.sol", "Market.json"));
const out = arg("--out", resolve(root, "abis", "Market.json"));

let json;
try {
  json = JSON.parse(readFileSync(artifact, "utf8"));
} catch (e) {
  fail(
    `cannot read ${artifact} (${e.code ?? e.message}); run \`forge build\` (npm run build:contracts) first`,
  );
}
const abi = json.abi;
if (!Array.isArray(abi) || abi.length === 0) fail(`${artifact} has no "abi" array`);
const events = abi.filter((x) => x.type === "event").map((x) => x.name);
for (const needed of ["HostRegistered", "ListingCreated", "Booked", "BookingSettled", "Withdrawn"]) {
  if (!events.includes(needed)) fail(`${artifact}: ABI lacks event ${needed}; is this the Market artifact?`);
}

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(abi, null, 2)}\n`);
console.log(
  `abi: wrote ${relative(process.cwd(), out) || out} (${abi.length} entries, ${events.length} events)`,
);
