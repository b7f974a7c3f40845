// `npm start` end to end: script/src/start.ts as a child process on free ports with its own state folder and
// deployment folder (so it never meets a developer's running `npm start` or another test), up to its "ready"
// line; then the RPC, the subgraph (the lender's listing indexed), the dApp (`/api/config` and `/`) and the oracle
// status endpoint answer; then SIGINT: exit 0, every port free, no process of the tree alive, no libvirt domain
// of its host agent left. As root the local lender (host agent on qemu:///system + oracle daemon) is part of it;
// otherwise start.ts skips it loudly and so does this test. The dApp is built only when dapp/.next is missing
// (COMPUTEHIVE_DAPP_BUILD=if-missing): a stale build is served as it is.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { assertPortFree, freePort } from "../src/lib/anvil.ts";
import { deploymentsDir, repoRoot } from "../src/lib/paths.ts";

const execFileP = promisify(execFile);
const isRoot = process.getuid?.() === 0;

async function domainsUnder(dir: string): Promise<string[]> {
  let names: string[];
  try {
    const { stdout } = await execFileP("virsh", ["-c", "qemu:///system", "list", "--all", "--name"]);
    names = stdout
      .split("\n")
      .map((s) => s.trim())
      .filter((s) => s.startsWith("computehive-"));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of names) {
    const xml = await execFileP("virsh", ["-c", "qemu:///system", "dumpxml", name]).then(
      (r) => r.stdout,
      () => "",
    );
    if (xml.includes(`${dir}/`)) found.push(name);
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("npm start: the whole stack up, every service answering, Ctrl-C leaves nothing behind", {
  timeout: 300_000,
}, async (t) => {
  if (!isRoot)
    console.log(
      "!!! not root: start.ts skips the local lender (host agent + oracle daemon); this test checks the rest and skips the lender's part",
    );
  // /var/tmp, 0711: QEMU (libvirt-qemu) must traverse to the agent's files under it.
  const stateDir = await mkdtemp(
    isRoot ? "/var/tmp/computehive-start-test-" : join(tmpdir(), "computehive-start-test-"),
  );
  await chmod(stateDir, 0o711);
  const outDir = await mkdtemp(join(deploymentsDir, ".test-start-"));
  t.after(async () => {
    await rm(stateDir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  });
  const ports = {
    ANVIL_PORT: await freePort(),
    SUBGRAPH_PORT: await freePort(),
    DAPP_PORT: await freePort(),
    ORACLE_STATUS_PORT: await freePort(),
  };
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "script/src/start.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      COMPUTEHIVE_STATE_DIR: stateDir,
      COMPUTEHIVE_DEPLOYMENTS_DIR: outDir,
      COMPUTEHIVE_DAPP_BUILD: "if-missing",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const onData = (c: Buffer) => {
    output += c.toString();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  // Ready (or dead).
  const deadline = Date.now() + 240_000;
  while (!/\[start\] ready: /.test(output)) {
    if (child.exitCode !== null) assert.fail(`start.ts exited (${child.exitCode}) before ready:\n${output}`);
    if (Date.now() > deadline) assert.fail(`no ready line in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const summary = JSON.parse(await readFile(join(stateDir, "local-stack.json"), "utf8")) as {
    rpcUrl: string;
    subgraphUrl: string;
    dappUrl: string;
    oracleStatusUrl: string | null;
    listingId: number;
    seedListingId: number;
    pids: number[];
    lenderSkipped: string | null;
  };
  const pids = summary.pids;
  assert.ok(pids.length >= 2, `pids: ${pids}`);
  for (const pid of pids) assert.ok(alive(pid), `pid ${pid} is running`);

  // The chain.
  const rpc = await fetch(summary.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  assert.equal(((await rpc.json()) as { result: string }).result, "0x7a69");

  // The subgraph indexes the listing to book (the lender's own as root, the seed's otherwise).
  let listings: { id: string; active: boolean }[] = [];
  for (let i = 0; i < 40; i++) {
    const res = await fetch(summary.subgraphUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ listings { id active } }" }),
    });
    listings = ((await res.json()) as { data: { listings: { id: string; active: boolean }[] } }).data
      .listings;
    if (listings.some((l) => l.id === String(summary.listingId) && l.active)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(
    listings.some((l) => l.id === String(summary.listingId) && l.active),
    `listing ${summary.listingId} indexed and active: ${JSON.stringify(listings)}`,
  );

  // The dApp.
  const config = (await (await fetch(`${summary.dappUrl}/api/config`)).json()) as {
    rpcUrl: string;
    subgraphUrl: string;
  };
  assert.equal(config.rpcUrl, summary.rpcUrl);
  assert.equal(config.subgraphUrl, summary.subgraphUrl);
  const home = await fetch(`${summary.dappUrl}/`);
  assert.equal(home.status, 200);

  // The lender.
  const lenderUp = isRoot && !/another host agent is running VMs/.test(summary.lenderSkipped ?? "");
  if (isRoot && !lenderUp)
    console.log(
      `!!! lender part SKIPPED: ${summary.lenderSkipped} (run again when no other agent's VMs run)`,
    );
  if (lenderUp) {
    assert.equal(summary.lenderSkipped, null, output);
    assert.ok(summary.oracleStatusUrl);
    const status = (await (await fetch(summary.oracleStatusUrl)).json()) as {
      hostId: string;
      listings: string[];
    };
    assert.equal(status.hostId, "1");
    assert.notEqual(summary.listingId, summary.seedListingId);
    assert.ok(
      listings.some((l) => l.id === String(summary.seedListingId) && !l.active),
      "the seeded whole-machine listing is deactivated",
    );
    assert.match(output, /no passthrough GPU \(development host\)/);
  } else {
    if (!isRoot) console.log(`!!! lender part SKIPPED (not root): ${summary.lenderSkipped}`);
    assert.match(output, /NO LOCAL LENDER/);
  }

  // Ctrl-C.
  child.kill("SIGINT");
  const [code, signal] = await exited;
  assert.equal(signal, null, output);
  assert.equal(code, 0, output);
  assert.match(output, /\[start\] clean: /);
  for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is gone`);
  for (const [name, port] of Object.entries(ports)) {
    await assertPortFree("127.0.0.1", port).catch(() => assert.fail(`${name} ${port} still in use`));
  }
  if (lenderUp) assert.deepEqual(await domainsUnder(join(stateDir, "agent")), []);
  await assert.rejects(readFile(join(stateDir, "local-stack.json")), "the summary is removed");
});
