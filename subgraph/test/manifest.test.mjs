// node --test: subgraph.yaml is generated from a deployment record, never hand-edited.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { networkName, parseDeployment } from "../scripts/manifest.mjs";

const script = resolve(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "manifest.mjs");
const dir = mkdtempSync(join(tmpdir(), "subgraph-manifest-"));
const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

function record(obj) {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof obj === "string" ? obj : JSON.stringify(obj));
  return file;
}

function run(...args) {
  return spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });
}

test("writes address, start block and network from the record", () => {
  const out = join(dir, "subgraph.yaml");
  execFileSync(process.execPath, [
    script,
    "--deployment",
    record({ chainId: 31337, market: MARKET, startBlock: "7" }),
    "--out",
    out,
  ]);
  const yaml = readFileSync(out, "utf8");
  assert.match(yaml, /^# GENERATED/);
  assert.match(yaml, /network: localhost\n/);
  assert.match(yaml, new RegExp(`address: "${MARKET.toLowerCase()}"`));
  assert.match(yaml, /startBlock: 7\n/);
  assert.doesNotMatch(yaml, /__[A-Z_]+__/);
});

test("accepts numeric start blocks and known chain ids", () => {
  assert.deepEqual(parseDeployment("x", JSON.stringify({ chainId: 8453, market: MARKET, startBlock: 12 })), {
    chainId: 8453,
    market: MARKET.toLowerCase(),
    startBlock: "12",
  });
  assert.equal(networkName(11155111), "sepolia");
  assert.equal(networkName(5, "goerli"), "goerli");
});

test("fails clearly on bad records", () => {
  const cases = [
    [{ chainId: 31337, market: "0x1234", startBlock: 1 }, /field "market" must be a non-zero address/],
    [{ chainId: 31337, market: `0x${"0".repeat(40)}`, startBlock: 1 }, /non-zero address/],
    [{ chainId: 31337, market: MARKET }, /field "startBlock" must be/],
    [{ chainId: 31337, market: MARKET, startBlock: "-1" }, /field "startBlock" must be/],
    [{ chainId: "31337", market: MARKET, startBlock: 1 }, /field "chainId" must be a positive integer/],
    [
      { chainId: 999999, market: MARKET, startBlock: 1 },
      /no graph-node network name known for chainId 999999; pass --network/,
    ],
    ["{not json", /not JSON/],
  ];
  for (const [obj, re] of cases) {
    const r = run("--deployment", record(obj), "--out", join(dir, "never.yaml"));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  const missing = run("--deployment", join(dir, "missing.json"));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read deployment record .*missing\.json: ENOENT/);
  const unknown = run("--deployment");
  assert.match(unknown.stderr, /--deployment needs a value/);
});
