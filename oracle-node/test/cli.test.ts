/**
 * `computehive-oracle` as a lender runs it: a child process against a real anvil with the market deployed by
 * script/DeployMarket.s.sol (60 s slots), and real host agent APIs on libvirt's test:///default driver, one with a
 * CPU-only inventory (fixture no-gpu) and one with a VFIO-ready RTX 4090 (fixture rtx4090-vfio plus a second GPU
 * still on the nvidia driver). Keys are anvil's dev accounts imported with `init --import-key-file`: 1 the
 * lender, 2 the agent, 3 a borrower, 4 another lender. Exit codes and stderr are checked: 0 done, 1 one clear line,
 * 2 usage. Each behaviour is checked at least once through the real program (`runCli`); follow-up steps and
 * variations call the same `main()` in this process (`inProcess`), which is about 1.5 s quicker per call.
 *
 * Run: node --import tsx --test oracle-node/test/cli.test.ts
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startApiServer } from "@computehive/host-agent";
import { marketAbi } from "@computehive/sdk";
import { pino } from "pino";
import { createWalletClient, formatEther, type Hex, http, parseEther, toHex, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { chainFor } from "../src/chain.ts";
import { main } from "../src/cli.ts";
import { openPinner } from "../src/ipfs.ts";
import { loadAccount } from "../src/keystore.ts";
import { fetchInventory, NO_GPU_TEXT } from "../src/lender.ts";
import {
  type CliResult,
  cpuOnlyInventory,
  devAccount,
  devKeyFile,
  freePort,
  gpuInventory,
  type Inventory,
  RTX4090,
  runCli,
  startChain,
  startTestAgent,
  type TestAgent,
  type TestChain,
  tempDir,
  writeSecretFile,
} from "./helpers.ts";

const PASSWORD = "correct horse battery staple";
// A cheap scrypt for the tests' keystores (production default: 131072).
const ENV = { COMPUTEHIVE_KEYSTORE_SCRYPT_N: "1024" };

let chain: TestChain;
let cpuAgent: TestAgent;
let gpuAgent: TestAgent;
let cpuInv: Inventory;
let dir: string;
let stateDir: string;
let passwordFile: string;

const lender = devAccount(1);
const agentKey = devAccount(2);
const borrower = devAccount(3);

const chainArgs = () => ["--rpc-url", chain.rpcUrl, "--deployment", chain.deploymentFile];
/** The lender's usual flags: chain, state dir, password, the CPU-only agent. */
const base = (over: { stateDir?: string; socket?: string } = {}) => [
  ...chainArgs(),
  "--state-dir",
  over.stateDir ?? stateDir,
  "--password-file",
  passwordFile,
  "--agent-socket",
  over.socket ?? cpuAgent.socketPath,
];
const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { env: { ...ENV, ...env } });

/** The CLI's main() in this process, with captured output and only `env` (plus ENV) as its environment. */
async function inProcess(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
  };
  const code = await main(args, io, { ...ENV, ...env });
  return { code, stdout, stderr };
}

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Exit 1 with exactly one line on stderr matching `re`. */
function failsWith(r: CliResult, re: RegExp): void {
  assert.equal(r.code, 1, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(r.stderr, re);
}

function usageError(r: CliResult, re: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, re);
  assert.match(r.stderr, /usage: computehive-oracle/);
}

const market = () => ({ address: chain.deployment.market, abi: marketAbi }) as const;
const readHost = (id: bigint) =>
  chain.client.readContract({ ...market(), functionName: "getHost", args: [id] });
const readListing = (id: bigint) =>
  chain.client.readContract({ ...market(), functionName: "getListing", args: [id] });
const readHardware = (id: bigint) =>
  chain.client.readContract({ ...market(), functionName: "getHardware", args: [id] });

function wallet(key: Hex) {
  return createWalletClient({
    account: privateKeyToAccount(key),
    chain: chainFor(chain.chainId, chain.rpcUrl),
    transport: http(chain.rpcUrl),
  });
}

async function send(key: Hex, functionName: string, args: readonly unknown[], value?: bigint): Promise<void> {
  const hash = await wallet(key).writeContract({
    ...market(),
    functionName,
    args,
    ...(value ? { value } : {}),
  } as unknown as Parameters<ReturnType<typeof wallet>["writeContract"]>[0]);
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", `${functionName} reverted`);
}

/** The document pinned under `cid` in the state dir's local IPFS store. */
async function pinned(cid: string): Promise<Record<string, unknown>> {
  const pinner = await openPinner({ dir: join(stateDir, "ipfs") });
  try {
    return JSON.parse(new TextDecoder().decode(await pinner.get(cid)));
  } finally {
    await pinner.close();
  }
}

before(async () => {
  dir = await tempDir();
  stateDir = join(dir, "lender");
  passwordFile = await writeSecretFile(join(dir, "password"), `${PASSWORD}\n`);
  cpuInv = await cpuOnlyInventory();
  [chain, cpuAgent, gpuAgent] = await Promise.all([
    startChain(),
    startTestAgent({ inventory: cpuInv }),
    gpuInventory().then((inventory) => startTestAgent({ inventory })),
  ]);
});

after(async () => {
  await Promise.all([chain?.stop(), cpuAgent?.stop(), gpuAgent?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("computehive-oracle", () => {
  test("init imports the agent and lender keys into 0600 keystores and refuses to overwrite them", async () => {
    const [agentFile, lenderFile] = await Promise.all([devKeyFile(dir, 2), devKeyFile(dir, 1)]);
    const [a, l] = await Promise.all([
      cli([
        "init",
        "--import-key-file",
        agentFile.path,
        "--state-dir",
        stateDir,
        "--password-file",
        passwordFile,
      ]),
      cli(["init", "--role", "lender", "--import-key-file", lenderFile.path, "--state-dir", stateDir], {
        COMPUTEHIVE_KEYSTORE_PASSWORD: PASSWORD,
      }),
    ]);
    assert.match(ok(a).stdout, new RegExp(`agent key imported: ${agentKey.address}`));
    assert.match(ok(l).stdout, new RegExp(`lender key imported: ${lender.address}`));
    assert.equal((await stat(join(stateDir, "keys"))).mode & 0o777, 0o700);
    for (const role of ["agent", "lender"]) {
      const path = join(stateDir, "keys", `${role}.json`);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const v3 = JSON.parse(await readFile(path, "utf8"));
      assert.equal(v3.version, 3);
      assert.equal(v3.crypto.kdf, "scrypt");
      assert.equal(v3.crypto.kdfparams.n, 1024);
      assert.ok(!JSON.stringify(v3).includes(lender.privateKey.slice(2)), "no key in clear");
    }
    assert.equal((await loadAccount(stateDir, "lender", PASSWORD)).address, lender.address);

    const again = await cli([
      "init",
      "--role",
      "lender",
      "--import-key-file",
      lenderFile.path,
      "--state-dir",
      stateDir,
      "--password-file",
      passwordFile,
    ]);
    failsWith(again, /already exists at .*keys\/lender\.json.*refusing to overwrite/);
  });

  test("init creates a new key; wrong, empty, missing or command-line passwords are refused", async () => {
    const other = join(dir, "fresh");
    const empty = await writeSecretFile(join(dir, "empty-password"), "\n");
    const loose = join(dir, "loose-password");
    await writeFile(loose, PASSWORD, { mode: 0o644 });
    // The refusals run in this process (main() with captured output), to keep the file quick.
    const [created, emptyPw, noPw, onCommandLine, looseFile] = await Promise.all([
      cli(["init", "--state-dir", other, "--password-file", passwordFile, "--json"]),
      inProcess(["init", "--state-dir", join(dir, "x"), "--password-file", empty]),
      inProcess(["init", "--state-dir", join(dir, "x")]),
      inProcess(["init", "--state-dir", join(dir, "x"), "--password", PASSWORD]),
      inProcess(["init", "--state-dir", join(dir, "x"), "--password-file", loose]),
    ]);
    const out = JSON.parse(ok(created).stdout);
    assert.equal(out.role, "agent");
    assert.equal(out.imported, false);
    assert.equal(out.keystore, join(other, "keys", "agent.json"));
    assert.equal((await loadAccount(other, "agent", PASSWORD)).address, out.address);
    await assert.rejects(loadAccount(other, "agent", "wrong"), /wrong password/);
    await assert.rejects(loadAccount(other, "lender", PASSWORD), /run `init --role lender` first/);
    failsWith(emptyPw, /password is empty/);
    failsWith(noPw, /no keystore password: pass --password-file/);
    usageError(onCommandLine, /Unknown option '--password'/);
    failsWith(looseFile, /may be read by others.*chmod 600/);

    const wrong = await writeSecretFile(join(dir, "wrong-password"), "not it");
    failsWith(
      await cli(["withdraw", ...chainArgs(), "--state-dir", stateDir, "--password-file", wrong]),
      /wrong password for the lender keystore/,
    );
  });

  test("host register refuses a bond below minBond before sending anything", async () => {
    const nonce = await chain.client.getTransactionCount({ address: lender.address });
    const r = await cli(["host", "register", "--bond", "0.5", ...base()]);
    failsWith(r, /insufficient bond: 0\.5 ETH offered, the market needs at least 1 ETH/);
    assert.equal(await chain.client.getTransactionCount({ address: lender.address }), nonce, "nothing sent");
    assert.equal(await chain.client.readContract({ ...market(), functionName: "hostCount" }), 0n);
  });

  test("host register: bond, agent from the keystore, metadata pinned from the inventory; prints the host id", async () => {
    const r = ok(await cli(["host", "register", "--bond", "2", ...base()]));
    assert.match(r.stdout, /^host id: 1$/m);
    const h = await readHost(1n);
    assert.equal(h.lender, lender.address);
    assert.equal(h.agent, agentKey.address);
    assert.equal(h.bond, parseEther("2"));
    assert.match(h.metadataCid, /^bafkrei[a-z2-7]+$/);
    const doc = await pinned(h.metadataCid);
    assert.equal(doc.mode, "cpu-only-development");
    assert.equal(doc.gpus, NO_GPU_TEXT);
    assert.deepEqual(doc.cpu, { model: cpuInv.cpu.model, cores: cpuInv.cpu.cores });
  });

  test("listing create on the CPU-only host: an honest CPU-only listing whose metadata says so", async () => {
    const r = ok(await cli(["listing", "create", "--host", "1", "--price", "0.01", ...base()]));
    assert.match(r.stdout, /^listing id: 1$/m);
    const hw = await readHardware(1n);
    assert.deepEqual(
      { ...hw },
      {
        gpuModel: "",
        gpuCount: 0,
        vramMiBPerGpu: 0,
        cpuCores: cpuInv.cpu.cores,
        ramMiB: Math.min(Math.floor((cpuInv.ramMiB ?? 0) / 2), 8192),
        diskGiB: 10,
        region: "local",
        confidential: 0,
      },
    );
    const l = await readListing(1n);
    assert.equal(l.pricePerHour, parseEther("0.01"));
    assert.equal(l.active, true);
    assert.equal(l.hostId, 1);
    const doc = await pinned(l.metadataCid);
    assert.equal(doc.gpu, NO_GPU_TEXT);
    assert.equal(doc.gpuCount, 0);
    assert.equal(doc.hostMode, "cpu-only-development");
    assert.equal(doc.confidential, "none");
  });

  test("listing create refuses GPUs the host cannot pass through, and more CPU than it has", async () => {
    const before = await chain.client.readContract({ ...market(), functionName: "listingCount" });
    const [gpuOnCpuHost, tooManyGpus, tooManyCores] = await Promise.all([
      cli(["listing", "create", "--host", "1", "--price", "0.01", "--gpus", "1", ...base()]),
      cli([
        "listing",
        "create",
        "--host",
        "1",
        "--price",
        "0.01",
        "--gpus",
        "2",
        ...base({ socket: gpuAgent.socketPath }),
      ]),
      inProcess([
        "listing",
        "create",
        "--host",
        "1",
        "--price",
        "0.01",
        "--cpu-cores",
        String(cpuInv.cpu.cores + 1),
        ...base(),
      ]),
    ]);
    failsWith(
      gpuOnCpuHost,
      /host not VFIO-ready: asked for 1 GPU; this host's mode is cpu-only-development\. no NVIDIA GPU/,
    );
    assert.match(gpuOnCpuHost.stderr, /`computehive-host-agent doctor`/);
    failsWith(tooManyGpus, /host not VFIO-ready: asked for 2 GPUs, 1 VFIO-ready/);
    assert.match(tooManyGpus.stderr, /GPU 0000:02:00\.0 \(NVIDIA GeForce RTX 4090\): driver-not-vfio/);
    assert.equal(tooManyCores.code, 2, tooManyCores.stderr);
    assert.match(tooManyCores.stderr, new RegExp(`this host has ${cpuInv.cpu.cores} logical CPUs`));
    assert.equal(await chain.client.readContract({ ...market(), functionName: "listingCount" }), before);
  });

  test("listing create on the GPU host: model and VRAM exactly the inventory's", async () => {
    const gpuInv = await gpuAgent.agent.inventory();
    const r = ok(
      await cli([
        "listing",
        "create",
        "--host",
        "1",
        "--price",
        "1.25",
        "--region",
        "eu-west",
        "--json",
        ...base({ socket: gpuAgent.socketPath }),
      ]),
    );
    const out = JSON.parse(r.stdout);
    assert.equal(out.listingId, "2");
    assert.deepEqual(out.gpus, ["0000:01:00.0"]);
    const hw = await readHardware(2n);
    assert.equal(hw.gpuModel, RTX4090.name);
    assert.equal(hw.gpuModel, gpuInv.gpus[0]?.name);
    assert.equal(hw.gpuCount, 1);
    assert.equal(hw.vramMiBPerGpu, RTX4090.vramMiB);
    assert.equal(hw.cpuCores, gpuInv.cpu.cores);
    assert.equal(hw.region, "eu-west");
    assert.equal(hw.confidential, 0);
    const doc = await pinned((await readListing(2n)).metadataCid);
    assert.equal(doc.gpu, `1× ${RTX4090.name} (${RTX4090.vramMiB} MiB each, VFIO passthrough)`);
    assert.equal(doc.hostMode, "gpu-passthrough");
  });

  test("listing price, terms, deactivate, activate and list", async () => {
    ok(await cli(["listing", "price", "--listing", "1", "--price", "0.02", ...base()]));
    assert.equal((await readListing(1n)).pricePerHour, parseEther("0.02"));
    ok(await inProcess(["listing", "terms", "--listing", "1", "--max-slots", "60", ...base()]));
    const t = await readListing(1n);
    assert.deepEqual([t.minSlots, t.maxSlots, t.leadTime], [1, 60, 0]);
    ok(await cli(["listing", "deactivate", "--listing", "2", ...base()]));
    assert.equal((await readListing(2n)).active, false);
    const [text, json] = await Promise.all([
      cli(["listing", "list", "--host", "1", ...chainArgs()]),
      inProcess(["listing", "list", "--host", "1", "--json", ...chainArgs()]),
    ]);
    assert.match(
      ok(text).stdout,
      /listing 1 \[active\] 0\.02 ETH\/h: CPU-only \(no passthrough GPU \(development host\)\)/,
    );
    assert.match(
      text.stdout,
      /listing 2 \[inactive\] 1\.25 ETH\/h: 1× NVIDIA GeForce RTX 4090 \(24564 MiB each\)/,
    );
    const listings = JSON.parse(ok(json).stdout).listings;
    assert.deepEqual(
      listings.map((l: { listingId: string; active: boolean }) => [l.listingId, l.active]),
      [
        ["1", true],
        ["2", false],
      ],
    );
    ok(await inProcess(["listing", "activate", "--listing", "2", ...base()]));
    assert.equal((await readListing(2n)).active, true);
  });

  test("bookings, earnings and reputation after one settled and one cancelled booking", async () => {
    const slot = 60;
    const now = await chain.now();
    const start = (Math.floor(now / slot) + 3) * slot;
    const end = start + 2 * slot;
    const sessionKey = toHex(new Uint8Array(32).fill(7));
    const ssh = toHex(
      new TextEncoder().encode(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2UgYm9ycm93ZXIga2V5IGZvciB0ZXN0cw borrower",
      ),
    );
    const quote = async (s: number, e: number) =>
      (await chain.client.readContract({ ...market(), functionName: "quote", args: [1n, s, e] }))[0];
    const price = await quote(start, end);
    const price2 = await quote(start + 3600, start + 3600 + slot);
    await send(borrower.privateKey, "book", [1n, start, end, sessionKey, ssh], price);
    await send(borrower.privateKey, "book", [1n, start + 3600, start + 3600 + slot, sessionKey, ssh], price2);
    await send(agentKey.privateKey, "activate", [1n, "0x01"]);
    await send(borrower.privateKey, "cancel", [2n]);
    await chain.increaseTime(end - now + 1);
    await send(agentKey.privateKey, "report", [1n, 120, "bafkreireport"]);
    await chain.increaseTime(61);
    await send(devAccount(0).privateKey, "settle", [1n]);
    const lenderAmount = await chain.client.readContract({
      ...market(),
      functionName: "credits",
      args: [lender.address, zeroAddress],
    });
    assert.ok(lenderAmount > 0n && lenderAmount < price);

    const [text, json, earnings, reputation] = await Promise.all([
      cli(["bookings", "--host", "1", ...chainArgs()]),
      inProcess(["bookings", "--host", "1", "--json", ...chainArgs()]),
      cli(["earnings", "--json", ...chainArgs(), "--state-dir", stateDir]),
      cli(["reputation", "--host", "1", "--json", ...chainArgs()]),
    ]);
    assert.match(
      ok(text).stdout,
      new RegExp(
        `booking 1 listing 1 Settled: ${new Date(start * 1000).toISOString().replace(".000Z", "Z")} → .* \\(2 min\\), ${formatEther(price).replace(".", "\\.")} ETH, borrower ${borrower.address}, used 2 min`,
      ),
    );
    assert.match(text.stdout, /booking 2 listing 1 Cancelled: .*\(1 min\)/);
    const bookings = JSON.parse(ok(json).stdout).bookings;
    assert.deepEqual(
      bookings.map((b: { bookingId: string; status: string; price: string }) => [
        b.bookingId,
        b.status,
        b.price,
      ]),
      [
        ["1", "Settled", String(price)],
        ["2", "Cancelled", String(price2)],
      ],
    );

    const e = JSON.parse(ok(earnings).stdout);
    assert.equal(e.lender, lender.address);
    assert.deepEqual(e.hostIds, ["1"]);
    assert.equal(e.assets.length, 1);
    assert.deepEqual(e.assets[0], {
      asset: "0x0000000000000000000000000000000000000000",
      symbol: "ETH",
      decimals: 18,
      credit: String(lenderAmount),
      settled: String(lenderAmount),
      settledBookings: 1,
      cancellationFees: "0",
      cancelledBookings: 1,
      withdrawn: "0",
    });

    const h = JSON.parse(ok(reputation).stdout);
    assert.deepEqual(
      [h.completed, h.secondsServed, h.noShows, h.declines, h.disputesLost, h.openBookings, h.bond],
      [1, "120", 0, 0, 0, 0, String(parseEther("2"))],
    );
  });

  test("withdraw sends the credit and then says there is nothing to withdraw", async () => {
    const credits = () =>
      chain.client.readContract({
        ...market(),
        functionName: "credits",
        args: [lender.address, zeroAddress],
      });
    const credit = await credits();
    assert.ok(credit > 0n);
    const balance = await chain.client.getBalance({ address: lender.address });
    const r = ok(await cli(["withdraw", ...base()]));
    assert.equal(r.stdout.trim(), `withdrew ${formatEther(credit)} ETH to ${lender.address}`);
    assert.equal(await credits(), 0n);
    assert.ok((await chain.client.getBalance({ address: lender.address })) > balance - parseEther("0.001"));
    failsWith(await cli(["withdraw", ...base()]), /nothing to withdraw: .* has no native credit/);
  });

  test("bond deposit, unbond, withdraw after the delay, cancel-unbond", async () => {
    assert.match(
      ok(await cli(["bond", "deposit", "--host", "1", "--amount", "1", ...base()])).stdout,
      /bond now 3 ETH/,
    );
    assert.match(ok(await cli(["bond", "unbond", "--host", "1", ...base()])).stdout, /host 1 is unbonding/);
    assert.ok((await readHost(1n)).unbondAt > 0);
    failsWith(
      await inProcess(["bond", "withdraw", "--host", "1", "--amount", "1", ...base()]),
      /the unbonding delay of host 1 ends at /,
    );
    await chain.increaseTime(121);
    assert.match(
      ok(await inProcess(["bond", "withdraw", "--host", "1", "--amount", "1", ...base()])).stdout,
      /withdrew 1 ETH of bond, 2 ETH left/,
    );
    ok(await inProcess(["bond", "cancel-unbond", "--host", "1", ...base()]));
    const h = await readHost(1n);
    assert.equal(h.unbondAt, 0);
    assert.equal(h.bond, parseEther("2"));
  });

  test("another lender's key is refused: not the lender", async () => {
    const otherState = join(dir, "other-lender");
    const key = await devKeyFile(dir, 4);
    ok(
      await inProcess([
        "init",
        "--role",
        "lender",
        "--import-key-file",
        key.path,
        "--state-dir",
        otherState,
        "--password-file",
        passwordFile,
      ]),
    );
    const [price, unbond] = await Promise.all([
      cli(["listing", "price", "--listing", "1", "--price", "1", ...base({ stateDir: otherState })]),
      inProcess(["bond", "unbond", "--host", "1", ...base({ stateDir: otherState })]),
    ]);
    failsWith(price, /not the lender: this lender key \(0x[0-9a-fA-F]{40}\) is not the lender of listing 1/);
    failsWith(unbond, /not the lender: .* is not the lender of host 1/);
  });

  test("RPC unreachable, wrong chain, missing deployment, host agent not running", async () => {
    const closed = await freePort();
    const wrongChain = join(dir, "wrong-chain.json");
    const record = JSON.parse(await readFile(chain.deploymentFile, "utf8"));
    await writeFile(wrongChain, JSON.stringify({ ...record, chainId: 999 }));
    const missingSocket = join(dir, "no-agent", "agent.sock");
    const [rpc, wrong, noRecord, noAgent] = await Promise.all([
      cli([
        "reputation",
        "--host",
        "1",
        "--rpc-url",
        `http://127.0.0.1:${closed}`,
        "--deployment",
        chain.deploymentFile,
      ]),
      cli(["reputation", "--host", "1", "--rpc-url", chain.rpcUrl, "--deployment", wrongChain]),
      runCli(["reputation", "--host", "1", "--rpc-url", chain.rpcUrl], { cwd: dir }),
      cli(["listing", "create", "--host", "1", "--price", "0.01", ...base({ socket: missingSocket })]),
    ]);
    failsWith(rpc, new RegExp(`the RPC at http://127\\.0\\.0\\.1:${closed} does not answer`));
    failsWith(wrong, /serves chain 31337, but the deployment record is for chain 999/);
    failsWith(noRecord, /deployments\/31337\.json: no deployment record/);
    failsWith(
      noAgent,
      new RegExp(
        `the host agent is not running at ${missingSocket}: start it with \`computehive-host-agent serve\``,
      ),
    );
  });

  test("the agent's loopback TCP API with a bearer token (--agent-url, --agent-token-file)", async () => {
    const token = randomBytes(24).toString("hex");
    const tokenFile = await writeSecretFile(join(dir, "agent-token"), `${token}\n`);
    const badFile = await writeSecretFile(join(dir, "bad-token"), "x".repeat(48));
    const tcp = await startApiServer({
      agent: cpuAgent.agent,
      listen: { host: "127.0.0.1", port: 0 },
      token,
      logger: pino({ level: "silent" }),
    });
    try {
      const url = `http://127.0.0.1:${tcp.port}`;
      const got = await fetchInventory({ url, tokenFile });
      assert.equal(got.mode, "cpu-only-development");
      assert.equal(got.cpu.model, cpuInv.cpu.model);
      await assert.rejects(fetchInventory({ url, tokenFile: badFile }), /refused the inventory request: 401/);
    } finally {
      await tcp.close();
    }
  });

  test("usage errors exit 2 with the usage; --help exits 0", async () => {
    // One as a child process (the exit status of the real program), the rest through main() in this process.
    const [missing, none, unknown, badId, help, cmdHelp, group] = await Promise.all([
      runCli(["listing", "create", "--host", "1"]),
      inProcess([]),
      inProcess(["frobnicate"]),
      inProcess(["bookings", "--host", "x"]),
      inProcess(["--help"]),
      inProcess(["listing", "create", "--help"]),
      inProcess(["bond"]),
    ]);
    assert.equal(none.code, 2);
    usageError(unknown, /unknown command frobnicate/);
    usageError(missing, /--price is required/);
    usageError(badId, /--host must be a positive integer id/);
    assert.equal(help.code, 0);
    for (const c of [
      "init",
      "host register",
      "bond deposit",
      "listing create",
      "bookings",
      "earnings",
      "withdraw",
      "run",
    ]) {
      assert.ok(help.stdout.includes(`  ${c} `), `help lists ${c}`);
    }
    assert.equal(cmdHelp.code, 0);
    assert.match(cmdHelp.stdout, /--gpus N/);
    assert.match(cmdHelp.stdout, /SEV-SNP or TDX/);
    assert.equal(group.code, 2);
    assert.match(group.stderr, /bond <deposit\|unbond\|cancel-unbond\|withdraw>/);
  });
});
