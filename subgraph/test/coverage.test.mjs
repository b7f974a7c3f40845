// node --test: every event in the market's ABI is handled, logged and up to date with the Foundry artifact.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const read = (p) => readFileSync(resolve(root, p), "utf8");
const abi = JSON.parse(read("abis/Market.json"));
const events = abi
  .filter((x) => x.type === "event")
  .map((x) => x.name)
  .sort();
const sig = (i) => (i.type === "tuple" ? `(${i.components.map(sig).join(",")})` : i.type);

test("abis/Market.json matches the Foundry artifact (run npm run abi)", {
  skip: !existsSync(resolve(root, "../out/Market.sol/Market.json")) && "no artifact: forge build first",
}, () => {
  const artifact = JSON.parse(readFileSync(resolve(root, "../out/Market.sol/Market.json"), "utf8"));
  assert.deepEqual(abi, artifact.abi);
});

test("every ABI event has a handler in the template with its exact signature", () => {
  const template = read("subgraph.template.yaml");
  for (const e of abi.filter((x) => x.type === "event")) {
    const s = `${e.name}(${e.inputs.map((i) => (i.indexed ? "indexed " : "") + sig(i)).join(",")})`;
    assert.ok(
      template.includes(`- event: ${s}\n          handler: handle${e.name}\n`),
      `template lacks ${s}`,
    );
  }
});

test("every ABI event has a mapping export and a MarketEventKind value", () => {
  const mappings = read("src/mappings/market.ts");
  const schema = read("schema.graphql");
  const kinds = /enum MarketEventKind \{([^}]*)\}/.exec(schema)[1].split(/\s+/).filter(Boolean).sort();
  assert.deepEqual(kinds, events);
  for (const e of events) {
    assert.match(
      mappings,
      new RegExp(`export function handle${e}\\(event: ${e}\\): void`),
      `no handler for ${e}`,
    );
    assert.match(
      mappings,
      new RegExp(`new(Market|Booking)Event\\(event, "${e}"`),
      `${e} writes no MarketEvent`,
    );
  }
});

test("the mappings keep no mutable module-level state (the embedded host reuses an instance across triggers)", async () => {
  const { readdirSync } = await import("node:fs");
  const { join } = await import("node:path");
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) files.push(p);
    }
  };
  walk(resolve(root, "src"));
  assert.ok(files.length >= 3, "found the mapping sources");
  for (const f of files) {
    const topLevel = readFileSync(f, "utf8")
      .split("\n")
      .filter((line) => /^(export\s+)?(let|var)\s/.test(line));
    assert.deepEqual(
      topLevel,
      [],
      `${f} declares module-level let/var: graph-node would reset it per trigger`,
    );
  }
});
