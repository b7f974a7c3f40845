// The README's test command: every check and every test suite, in an order that fails fast on cheap checks.
// Prints a table of steps and a closing `tests: N passed, M failed` line; exits non-zero if anything failed.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { repoRoot } from "./lib/paths.ts";

interface Step {
  name: string;
  cmd: string;
  args: string[];
  /** Extracts [passed, failed] test counts from the step's output, for steps that run tests. */
  count?: (output: string) => [number, number];
}

const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);

const forgeCount = (out: string): [number, number] => {
  const m = /(\d+) tests passed, (\d+) failed/.exec(out);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
};
const nodeTestCount = (out: string): [number, number] => {
  const pass = /^ℹ pass (\d+)/m.exec(out);
  const fail = /^ℹ fail (\d+)/m.exec(out);
  return [Number(pass?.[1] ?? 0), Number(fail?.[1] ?? 0)];
};

const vitestCount = (out: string): [number, number] => {
  // vitest's summary: "Tests  91 passed (91)" or "Tests  2 failed | 89 passed (91)"
  const line = /^\s*Tests\s+(.*)$/m.exec(stripVTControlCharacters(out))?.[1] ?? "";
  const pass = /(\d+) passed/.exec(line);
  const fail = /(\d+) failed/.exec(line);
  return [Number(pass?.[1] ?? 0), Number(fail?.[1] ?? 0)];
};

const testFiles = (dir: string) =>
  readdirSync(join(repoRoot, dir))
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => join(dir, f));

const steps: Step[] = [
  { name: "solidity format (forge fmt --check)", cmd: bin("forge"), args: ["fmt", "--check"] },
  {
    name: "solidity lint (solhint: sources, scripts)",
    cmd: bin("solhint"),
    args: ["--max-warnings", "0", "--disc", "--noPoster", "contracts/src/**/*.sol", "script/**/*.sol"],
  },
  {
    // Tests keep require strings, many ghost variables and lower-case immutables: their own config says so.
    name: "solidity lint (solhint: tests)",
    cmd: bin("solhint"),
    args: [
      "--max-warnings",
      "0",
      "--disc",
      "--noPoster",
      "-c",
      "contracts/test/.solhint.json",
      "contracts/test/**/*.sol",
    ],
  },
  { name: "contracts build (forge build)", cmd: bin("forge"), args: ["build"] },
  {
    name: "subgraph: manifest, graph codegen + build, tests (node --test)",
    cmd: "npm",
    args: ["--workspace", "subgraph", "run", "verify"],
    count: nodeTestCount,
  },
  { name: "typed ABIs (wagmi generate)", cmd: bin("wagmi"), args: ["generate"] },
  // After the ABIs: the host test imports the SDK, whose generated.ts exists only now.
  {
    name: "subgraph: embedded host runs the compiled mappings against anvil (node --test)",
    cmd: "npm",
    args: ["--workspace", "subgraph", "run", "test:host"],
    count: nodeTestCount,
  },
  {
    name: "typescript format + lint (biome)",
    cmd: join(repoRoot, "tools", "biome"),
    args: ["check", "--error-on-warnings", "."],
  },
  { name: "typescript types (tsc sdk)", cmd: bin("tsc"), args: ["-p", "sdk"] },
  { name: "typescript types (tsc script)", cmd: bin("tsc"), args: ["-p", "script"] },
  { name: "typescript types (tsc subgraph/host)", cmd: bin("tsc"), args: ["-p", "subgraph/host"] },
  { name: "typescript types (tsc host-agent)", cmd: bin("tsc"), args: ["-p", "host-agent"] },
  { name: "typescript types (tsc oracle-node)", cmd: bin("tsc"), args: ["-p", "oracle-node"] },
  {
    name: "sdk: endpoint envelope and session key (test vectors), GPU facts, price model, scheduler, calendar (node --test)",
    cmd: "npm",
    args: ["--workspace", "sdk", "run", "test"],
    count: nodeTestCount,
  },
  {
    name: "host agent: inventory, SSH CA, guest image, VMs on libvirt and QEMU, guest isolation (node --test)",
    cmd: "npm",
    args: ["--workspace", "host-agent", "run", "test"],
    count: nodeTestCount,
  },
  {
    name: "oracle node: daemon, lender CLI, IPFS, crashes, reorg, a real VM with OpenSSH, price, calendar feed, boundaries (node --test)",
    cmd: "npm",
    args: ["--workspace", "oracle-node", "run", "test"],
    count: nodeTestCount,
  },
  {
    name: "dApp: unit tests (vitest)",
    cmd: "npm",
    args: ["--workspace", "dapp", "run", "test"],
    count: vitestCount,
  },
  {
    name: "dApp: production build (next build)",
    cmd: "npm",
    args: ["--workspace", "dapp", "run", "build"],
  },
  // After the build: Next writes next-env.d.ts and the route types the app's types refer to.
  { name: "typescript types (tsc dapp)", cmd: bin("tsc"), args: ["-p", "dapp"] },
  { name: "typescript types (tsc dapp/e2e)", cmd: bin("tsc"), args: ["-p", "dapp/e2e"] },
  {
    name: "dApp in Chromium: marketplace, booking to SSH login, audit, lender, market index, Find a slot; the full journey (node --test)",
    cmd: process.execPath,
    // One file at a time: every file's host agent shares qemu:///system and tears down booking domains it does not
    // know, so two stacks at once would destroy each other's VMs (node --test runs files in parallel on more cores).
    args: [
      "--import",
      "tsx",
      "--test",
      "--test-concurrency=1",
      "--test-reporter=spec",
      ...testFiles("dapp/e2e"),
    ],
    count: nodeTestCount,
  },
  {
    name: "contracts: unit, fuzz, invariant (forge test)",
    cmd: bin("forge"),
    args: ["test"],
    count: forgeCount,
  },
  {
    name: "deploy + seed against anvil (node --test)",
    cmd: process.execPath,
    args: [
      "--import",
      "tsx",
      "--test",
      "--test-concurrency=1",
      "--test-reporter=spec",
      ...testFiles("script/test"),
    ],
    count: nodeTestCount,
  },
];

function run(step: Step): Promise<{ ok: boolean; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(step.cmd, step.args, { cwd: repoRoot, env: { ...process.env, FORCE_COLOR: "0" } });
    let output = "";
    const tee = (chunk: Buffer, to: NodeJS.WriteStream) => {
      output += chunk.toString();
      to.write(chunk);
    };
    child.stdout.on("data", (c: Buffer) => tee(c, process.stdout));
    child.stderr.on("data", (c: Buffer) => tee(c, process.stderr));
    child.on("error", (err) => {
      output += String(err);
      resolve({ ok: false, output, seconds: (Date.now() - started) / 1000 });
    });
    child.on("close", (code) => resolve({ ok: code === 0, output, seconds: (Date.now() - started) / 1000 }));
  });
}

const results: { name: string; ok: boolean; seconds: number }[] = [];
let passed = 0;
let failed = 0;
for (const step of steps) {
  process.stdout.write(`\n=== ${step.name}\n`);
  const r = await run(step);
  results.push({ name: step.name, ok: r.ok, seconds: r.seconds });
  if (step.count) {
    const [p, f] = step.count(r.output);
    passed += p;
    // A runner that died before counting still counts as one failure.
    failed += f === 0 && !r.ok ? 1 : f;
  }
}

process.stdout.write("\n=== summary\n");
for (const r of results) {
  process.stdout.write(`${r.ok ? "ok  " : "FAIL"}  ${r.seconds.toFixed(1).padStart(7)} s  ${r.name}\n`);
}
const stepsFailed = results.filter((r) => !r.ok).length;
if (stepsFailed > 0) process.stdout.write(`${stepsFailed} step(s) failed\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
process.exit(stepsFailed > 0 ? 1 : 0);
