/**
 * The oracle daemon against a real anvil with the real market and the real host agent API (libvirt's
 * test:///default driver): a booking's whole life, a decline for a bad SSH key, a no-show while the daemon is
 * down, a reorg that drops a booking before its confirmation, and the daemon killed (SIGKILL) at every step and
 * restarted. Chain time is moved with anvil's evm_increaseTime; the daemon follows the chain's clock.
 *
 * Run: node --import tsx --test --test-reporter=spec oracle-node/test/daemon.test.ts
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AgentClient, ssh } from "@computehive/host-agent";
import { EnvelopeError, generateSessionKey, marketAbi, openEndpoint, rawCid } from "@computehive/sdk";
import { pino } from "pino";
import { encodeAbiParameters, type Hex, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { freePort } from "../../script/src/lib/anvil.ts";
import { Daemon } from "../src/daemon.ts";
import { openPinner, type Pinner } from "../src/ipfs.ts";
import { importKeystore } from "../src/keystore.ts";
import { StateStore } from "../src/state.ts";
import { TxManager } from "../src/txs.ts";
import { startTestAgent, type TestAgent } from "./agent.ts";
import {
  ACTIVATION_GRACE,
  AGENT,
  argsOf,
  type Borrower,
  book,
  bookingStatus,
  borrower,
  type Chain,
  chainNow,
  DISPUTE_WINDOW,
  dev,
  devKey,
  eventsOf,
  hostWithListing,
  LENDER,
  Status,
  send,
  startChain,
  waitFor,
  warpTo,
} from "./fixture.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
let chain: Chain;
let agent: TestAgent;
let alice: Borrower;
let hostId: bigint;
let listingId: bigint;
const scratch: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

async function startDaemon(stateDir: string, over: { confirmations?: number } = {}) {
  const pinner = await openPinner({ dir: join(stateDir, "ipfs") });
  const daemon = await Daemon.start({
    market: chain.market,
    account: privateKeyToAccount(devKey(AGENT)),
    hostId,
    agent: new AgentClient({ socketPath: agent.socketPath }),
    pinner,
    stateDir,
    logger: pino({ level: process.env.ORACLE_LOG_LEVEL ?? "silent" }),
    confirmations: over.confirmations ?? 0,
    pollMs: 100,
    provisionLeadS: 3600,
    upkeepEveryMs: 200,
  });
  return {
    daemon,
    pinner,
    stop: async () => {
      await daemon.stop();
      await pinner.close();
    },
  };
}

const credits = (who: Hex) =>
  chain.market.client.readContract({
    address: chain.market.address,
    abi: marketAbi,
    functionName: "credits",
    args: [who, zeroAddress],
  });

before(async () => {
  chain = await startChain();
  agent = await startTestAgent();
  alice = await borrower();
  scratch.push(alice.dir);
  ({ hostId, listingId } = await hostWithListing(chain));
});

after(async () => {
  await agent?.close();
  await chain?.close();
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});

describe("oracle daemon (anvil + market + host agent on test:///default)", () => {
  test("book → activate → the borrower decrypts the endpoint → report (pinned) → settle → the lender withdraws", async () => {
    const d = await startDaemon(await tempDir("oracle-happy-"));
    try {
      const b = await book(chain, alice, listingId);
      await waitFor("activation", async () => (await bookingStatus(chain, b.bookingId)) === Status.Active);
      assert.equal(agent.intents(b.bookingId), 1, "one VM provisioned");

      // The borrower opens the envelope with the session key; it is the agent's endpoint for this booking.
      const [published] = await eventsOf(chain, "EndpointPublished", b.bookingId);
      const args = published?.args as { encryptedEndpoint: Hex; republished: boolean; agent: Hex };
      assert.equal(args.republished, false);
      assert.equal(args.agent, dev(AGENT).address);
      const context = { chainId: 31337, market: chain.market.address, bookingId: b.bookingId };
      const endpoint = ssh.SshEndpointSchema.parse(
        openEndpoint({
          recipientPrivateKey: alice.session.privateKey,
          envelope: args.encryptedEndpoint,
          context,
        }),
      );
      assert.equal(endpoint.bookingId, b.bookingId.toString());
      assert.equal(endpoint.validAfter, b.start);
      assert.equal(endpoint.validBefore, b.end);
      const status = await agent.client.status(b.bookingId.toString());
      assert.deepEqual(status.endpoint?.hostKeys, endpoint.hostKeys, "the VM's own host keys");
      // Nobody else can: not another key, not the same envelope replayed to another booking.
      assert.throws(
        () =>
          openEndpoint({
            recipientPrivateKey: generateSessionKey().privateKey,
            envelope: args.encryptedEndpoint,
            context,
          }),
        (e: unknown) => e instanceof EnvelopeError && e.code === "decrypt-failed",
      );
      assert.throws(
        () =>
          openEndpoint({
            recipientPrivateKey: alice.session.privateKey,
            envelope: args.encryptedEndpoint,
            context: { ...context, bookingId: b.bookingId + 1n },
          }),
        (e: unknown) => e instanceof EnvelopeError && e.code === "decrypt-failed",
      );

      // The window ends: the VM goes, the report is pinned and reported.
      await warpTo(chain, b.end + 1);
      await waitFor("report", async () => (await bookingStatus(chain, b.bookingId)) === Status.Reported);
      const st = await agent.client.status(b.bookingId.toString());
      assert.equal(st.state, "torn-down");
      const [reported] = await eventsOf(chain, "UsageReported", b.bookingId);
      const r = reported?.args as { usedSeconds: bigint; reportCid: string };
      assert.equal(r.usedSeconds, BigInt(b.end - b.start), "provisioned ahead: the whole window was served");
      const bytes = await d.pinner.get(r.reportCid);
      assert.equal(rawCid(bytes), r.reportCid, "the content matches its CID");
      const report = JSON.parse(new TextDecoder().decode(bytes));
      assert.equal(report.schema, "computehive/session-report@1");
      assert.equal(report.bookingId, b.bookingId.toString());
      assert.equal(report.usedSeconds, b.end - b.start);
      assert.equal(report.teardown.domainGone, true);
      assert.equal(report.teardown.overlayRemoved, true);
      assert.equal(report.teardown.keyDiscarded, true);
      assert.match(report.gpuTelemetry.note, /no passthrough GPU/);

      // The dispute window passes: the daemon's settlement loop settles it.
      await warpTo(chain, (await chainNow(chain)) + DISPUTE_WINDOW + 1);
      await waitFor("settlement", async () => (await bookingStatus(chain, b.bookingId)) === Status.Settled);
      const [settled] = await eventsOf(chain, "BookingSettled", b.bookingId);
      const s = settled?.args as { caller: Hex; lenderAmount: bigint; platformFee: bigint; refund: bigint };
      assert.equal(s.caller, dev(AGENT).address, "settled by the daemon's loop");
      assert.equal(s.lenderAmount + s.platformFee + s.refund, b.price, "to the wei");
      assert.equal(s.refund, 0n);

      // The lender withdraws exactly what was credited.
      const lender = dev(LENDER).address;
      const owed = await credits(lender);
      assert.equal(owed, s.lenderAmount);
      const w = await send(chain, LENDER, "withdraw", [zeroAddress]);
      const withdrawn = argsOf<{ amount: bigint }>(w.logs, "Withdrawn");
      assert.equal(withdrawn.amount, owed);
      assert.equal(await credits(lender), 0n);
      await waitFor("the daemon to close the booking", () => d.daemon.status().bookingsInFlight.length === 0);
      assert.equal(d.daemon.state.bookings[b.bookingId.toString()]?.finalStatus, "Settled");
    } finally {
      await d.stop();
    }
  });

  test("the borrower ends early: the VM goes at once and only the seconds up to the end are reported", async () => {
    const d = await startDaemon(await tempDir("oracle-early-"));
    try {
      const b = await book(chain, alice, listingId, { slots: 2 });
      await waitFor("activation", async () => (await bookingStatus(chain, b.bookingId)) === Status.Active);
      await warpTo(chain, b.start + 45);
      const ended = await send(chain, alice.index, "endSession", [b.bookingId]);
      const endedAt = Number(argsOf<{ endedAt: bigint }>(ended.logs, "SessionEndRequested").endedAt);
      await waitFor("the report", async () => (await bookingStatus(chain, b.bookingId)) === Status.Reported);
      const st = await agent.client.status(b.bookingId.toString());
      assert.equal(st.state, "torn-down");
      const r = argsOf<{ usedSeconds: bigint; reportCid: string }>(
        await eventsOf(chain, "UsageReported", b.bookingId),
        "UsageReported",
      );
      assert.equal(r.usedSeconds, BigInt(endedAt - b.start), "used up to the early end, not the window");
      const report = JSON.parse(new TextDecoder().decode(await d.pinner.get(r.reportCid)));
      assert.equal(report.endedEarlyAt, endedAt);
      assert.equal(report.sessionEnd, endedAt);
    } finally {
      await d.stop();
    }
  });

  test("the settlement loop settles every ripe booking, another host's too", async () => {
    // Host 2: lender 4, agent 5, whose agent never shows up.
    const reg = await send(chain, 4, "registerHost", [dev(5).address, ""], chain.deployment.params.minBond);
    const otherHost = argsOf<{ hostId: bigint }>(reg.logs, "HostRegistered").hostId;
    const created = await send(chain, 4, "createListing", [
      otherHost,
      {
        gpuModel: "",
        gpuCount: 0,
        vramMiBPerGpu: 0,
        cpuCores: 1,
        ramMiB: 512,
        diskGiB: 10,
        region: "local",
        confidential: 0,
      },
      zeroAddress,
      false,
      10n ** 16n,
      1,
      60,
      0,
      "",
    ]);
    const otherListing = argsOf<{ listingId: bigint }>(created.logs, "ListingCreated").listingId;
    const b = await book(chain, alice, otherListing);
    await warpTo(chain, b.start + ACTIVATION_GRACE + 1);
    const d = await startDaemon(await tempDir("oracle-others-"));
    try {
      await waitFor(
        "the other host's no-show",
        async () => (await bookingStatus(chain, b.bookingId)) === Status.NoShow,
      );
      const ns = argsOf<{ caller: Hex }>(
        await eventsOf(chain, "NoShowClaimed", b.bookingId),
        "NoShowClaimed",
      );
      assert.equal(ns.caller, dev(AGENT).address, "our daemon's loop did it");
      assert.equal(d.daemon.state.bookings[b.bookingId.toString()], undefined, "not one of ours to serve");
      assert.equal(agent.intents(b.bookingId), 0);
    } finally {
      await d.stop();
    }
  });

  test("a bad SSH key is declined on-chain with its reason code, and no VM is made", async () => {
    const carol = await borrower(8); // her own credits: other bookings' refunds go to alice
    scratch.push(carol.dir);
    const d = await startDaemon(await tempDir("oracle-decline-"));
    try {
      // A DSA key as OpenSSH writes it (well-formed; a type the market refuses), and a 1024-bit RSA key.
      const name = Buffer.from("ssh-dss");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(name.length);
      const mpint = Buffer.from([0, 0, 0, 1, 0x05]);
      const dss = `ssh-dss ${Buffer.concat([len, name, mpint, mpint, mpint, mpint]).toString("base64")} old@box`;
      execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", join(carol.dir, "weak")]);
      const weak = (await readFile(join(carol.dir, "weak.pub"), "utf8")).trim();
      const badKeys: [string, number][] = [
        ["ssh-ed25519 AAAA not-base64!", ssh.DeclineReason.SSH_KEY_MALFORMED],
        [dss, ssh.DeclineReason.SSH_KEY_UNSUPPORTED_TYPE],
        [weak, ssh.DeclineReason.SSH_KEY_TOO_WEAK],
      ];
      for (const [key, reason] of badKeys) {
        const verdict = ssh.validateBorrowerKey(key);
        assert.equal(verdict.ok ? 0 : verdict.reason, reason, "the validator's code");
        const before = await credits(carol.address);
        const b = await book(chain, carol, listingId, { sshKey: key });
        await waitFor("decline", async () => (await bookingStatus(chain, b.bookingId)) === Status.Declined);
        const [declined] = await eventsOf(chain, "BookingDeclined", b.bookingId);
        const a = declined?.args as { reason: number; refund: bigint };
        assert.equal(a.reason, reason);
        assert.equal(a.refund, b.price, "full refund");
        assert.equal((await credits(carol.address)) - before, b.price);
        assert.equal(agent.intents(b.bookingId), 0, "no VM");
      }
    } finally {
      await d.stop();
    }
  });

  test("daemon down at the start: no-show (borrower refunded, bond slashed) by the settlement loop once back", async () => {
    // A borrower of its own: other tests' bookings settle meanwhile and credit alice their refunds.
    const bob = await borrower(7);
    scratch.push(bob.dir);
    const b = await book(chain, bob, listingId);
    const bondBefore = (
      await chain.market.client.readContract({
        address: chain.market.address,
        abi: marketAbi,
        functionName: "getHost",
        args: [hostId],
      })
    ).bond;
    const before = await credits(bob.address);
    await warpTo(chain, b.start + ACTIVATION_GRACE + 1);
    const d = await startDaemon(await tempDir("oracle-noshow-"));
    try {
      await waitFor("no-show", async () => (await bookingStatus(chain, b.bookingId)) === Status.NoShow);
      const [ns] = await eventsOf(chain, "NoShowClaimed", b.bookingId);
      const a = ns?.args as { caller: Hex; refund: bigint; slash: bigint };
      assert.equal(a.caller, dev(AGENT).address, "the loop settles every ripe booking, its own no-shows too");
      assert.equal(a.refund, b.price);
      assert.equal(a.slash, chain.deployment.params.noShowSlash);
      assert.equal((await credits(bob.address)) - before, b.price + a.slash);
      const host = await chain.market.client.readContract({
        address: chain.market.address,
        abi: marketAbi,
        functionName: "getHost",
        args: [hostId],
      });
      assert.equal(host.bond, bondBefore - a.slash);
      // Below the minimum bond the host takes no bookings: the lender tops it up again.
      await send(chain, LENDER, "depositBond", [hostId], a.slash);
      assert.equal(agent.intents(b.bookingId), 0, "too late to activate: no VM");
      assert.equal((await eventsOf(chain, "EndpointPublished", b.bookingId)).length, 0);
    } finally {
      await d.stop();
    }
  });

  test("a reorg drops a booking before its confirmation: nothing is provisioned or sent", async () => {
    const stateDir = await tempDir("oracle-reorg-");
    const d = await startDaemon(stateDir, { confirmations: 2 });
    try {
      const snap = await chain.test.snapshot();
      await chain.test.mine({ blocks: 3 });
      await new Promise((r) => setTimeout(r, 500));
      const cursorBefore = d.daemon.state.cursor;
      const b = await book(chain, alice, listingId);
      await chain.test.mine({ blocks: 1 }); // one block on top: not yet 2 confirmations
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(
        d.daemon.state.bookings[b.bookingId.toString()],
        undefined,
        "not acted on before confirmation",
      );
      await chain.test.revert({ id: snap });
      await chain.test.mine({ blocks: 5 }); // a longer chain without the booking
      await new Promise((r) => setTimeout(r, 1000));
      assert.notDeepEqual(d.daemon.state.cursor, cursorBefore, "the cursor moved to the new chain");
      assert.equal(d.daemon.state.bookings[b.bookingId.toString()], undefined);
      assert.equal(agent.intents(b.bookingId), 0, "no VM for the dropped booking");
      assert.equal(d.daemon.status().pendingTxs.length, 0);
      // A booking that stays gets its 2 confirmations and is served.
      const kept = await book(chain, alice, listingId);
      assert.equal(kept.bookingId, b.bookingId, "the id the dropped booking had");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await bookingStatus(chain, kept.bookingId), Status.Booked, "waits for confirmations");
      await chain.test.mine({ blocks: 2 });
      await waitFor("activation", async () => (await bookingStatus(chain, kept.bookingId)) === Status.Active);
      assert.equal(agent.intents(kept.bookingId), 1);
    } finally {
      await d.stop();
    }
  });
});

/* TRANSACTIONS */

describe("transactions", () => {
  test("a transaction not mined in time is replaced with higher fees (same nonce); a restart finishes it, no second one", async () => {
    const account = privateKeyToAccount(devKey(6));
    const stateDir = await tempDir("oracle-txs-");
    const identity = { chainId: 31337, market: chain.market.address, hostId: 99n, agent: account.address };
    const store = await StateStore.open(stateDir, identity);
    const logger = pino({ level: "silent" });
    const txs = new TxManager({ market: chain.market, account, store, logger, bumpAfterMs: 300 });
    const empty = encodeAbiParameters([{ type: "uint256[]" }], [[]]);
    const nonceBefore = await chain.market.client.getTransactionCount({ address: account.address });
    await chain.test.setAutomine(false);
    let sent: Promise<unknown> | undefined;
    try {
      sent = txs.send("upkeep:bump-test", { functionName: "performUpkeep", args: [empty] });
      await waitFor(
        "two fee bumps",
        () => (store.state.txs["upkeep:bump-test"]?.hashes.length ?? 0) >= 3,
        10_000,
      );
    } finally {
      await chain.test.setAutomine(true);
    }
    const rec = store.state.txs["upkeep:bump-test"];
    assert.ok(rec);
    assert.equal(rec.nonce, nonceBefore, "every version shares the nonce");
    assert.ok(BigInt(rec.maxFeePerGas) > 0n);
    // A second manager on the same state (a restart) finishes the same transaction instead of signing another.
    const again = new TxManager({
      market: chain.market,
      account,
      store: await StateStore.open(stateDir, identity),
      logger,
    });
    await chain.test.mine({ blocks: 1 });
    const receipt = await again.send("upkeep:bump-test", { functionName: "performUpkeep", args: [empty] });
    await sent?.catch(() => {});
    assert.ok(rec.hashes.includes(receipt.transactionHash), "one of the signed versions was mined");
    assert.equal(
      await chain.market.client.getTransactionCount({ address: account.address }),
      nonceBefore + 1,
      "exactly one transaction from this account",
    );
  });
});

/* THE COMMAND */

describe("computehive-oracle run", () => {
  const cli = join(here, "..", "src", "cli.ts");
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("COMPUTEHIVE_")),
  );

  async function keyedStateDir(): Promise<{ stateDir: string; passwordFile: string }> {
    const stateDir = await tempDir("oracle-run-");
    await importKeystore(stateDir, "agent", devKey(AGENT), "correct horse", { n: 1024 });
    const passwordFile = join(stateDir, "password");
    await writeFile(passwordFile, "correct horse\n", { mode: 0o600 });
    return { stateDir, passwordFile };
  }

  const args = (stateDir: string, passwordFile: string, socket: string, extra: string[] = []) => [
    "--import",
    "tsx",
    cli,
    "run",
    "--host",
    hostId.toString(),
    "--rpc-url",
    chain.anvil.url,
    "--deployment",
    chain.deploymentFile,
    "--state-dir",
    stateDir,
    "--agent-socket",
    socket,
    "--password-file",
    passwordFile,
    "--poll-ms",
    "100",
    "--upkeep-every-ms",
    "500",
    "--provision-lead",
    "3600",
    "--log-level",
    "warn",
    ...extra,
  ];

  test("serves /status, drives a booking, stops cleanly on SIGTERM", async () => {
    const { stateDir, passwordFile } = await keyedStateDir();
    const port = await freePort();
    const proc = spawn(
      process.execPath,
      args(stateDir, passwordFile, agent.socketPath, ["--status-listen", `127.0.0.1:${port}`]),
      { env: cleanEnv, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    proc.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      await waitFor("the daemon's start line", () => stderr.includes("/status"), 30_000);
      assert.match(stderr, new RegExp(`running for host ${hostId} as ${dev(AGENT).address}`));
      const b = await book(chain, alice, listingId);
      await waitFor("activation", async () => (await bookingStatus(chain, b.bookingId)) === Status.Active);
      const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
        hostId: string;
        agent: string;
        lastBlock: string;
        bookingsInFlight: { id: string; phase: string }[];
        errors: unknown[];
      };
      assert.equal(status.hostId, hostId.toString());
      assert.equal(status.agent, dev(AGENT).address);
      assert.ok(BigInt(status.lastBlock) >= b.block);
      assert.ok(status.bookingsInFlight.some((x) => x.id === b.bookingId.toString()));
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
      // Leave nothing open for the tests after this one.
      await agent.client.destroy(b.bookingId.toString());
    } finally {
      proc.kill("SIGTERM");
    }
    const [code] = await once(proc, "exit");
    assert.equal(code, 0, stderr);
  });

  test("errors a lender can act on: agent not running, wrong password", async () => {
    const { stateDir, passwordFile } = await keyedStateDir();
    const noAgent = spawnSync(
      process.execPath,
      args(stateDir, passwordFile, join(stateDir, "nope.sock"), ["--status-listen", "off"]),
      {
        env: cleanEnv,
        encoding: "utf8",
      },
    );
    assert.equal(noAgent.status, 1, noAgent.stderr);
    assert.match(
      noAgent.stderr,
      /host agent is not running at .*nope\.sock: start it with `computehive-host-agent serve`/,
    );
    await writeFile(passwordFile, "wrong\n", { mode: 0o600 });
    const wrong = spawnSync(
      process.execPath,
      args(stateDir, passwordFile, agent.socketPath, ["--status-listen", "off"]),
      {
        env: cleanEnv,
        encoding: "utf8",
      },
    );
    assert.equal(wrong.status, 1, wrong.stderr);
    assert.match(wrong.stderr, /password/i);
    const noHost = spawnSync(
      process.execPath,
      args(stateDir, passwordFile, agent.socketPath).filter(
        (a, i, all) => a !== "--host" && all[i - 1] !== "--host",
      ),
      {
        env: cleanEnv,
        encoding: "utf8",
      },
    );
    assert.equal(noHost.status, 2, noHost.stderr);
    assert.match(noHost.stderr, /--host ID is required/);
  });
});

/* CRASHES */

const POINTS = [
  "after-provision",
  "before-broadcast:activate",
  "after-broadcast:activate",
  "after-pin",
  "before-broadcast:report",
  "after-broadcast:report",
  "before-broadcast:upkeep",
  "after-broadcast:upkeep",
];

function child(stateDir: string, crashAt?: string): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(here, "daemon-child.ts")], {
    env: {
      ...process.env,
      ORACLE_CRASH_AT: crashAt ?? "",
      ORACLE_TEST_CONFIG: JSON.stringify({
        rpcUrl: chain.anvil.url,
        deploymentFile: chain.deploymentFile,
        agentKey: devKey(AGENT),
        hostId: hostId.toString(),
        socketPath: agent.socketPath,
        stateDir,
      }),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

describe("the daemon killed at every step and restarted", () => {
  for (const point of POINTS) {
    test(`SIGKILL at ${point}: one endpoint, one report, one settlement, one VM`, async () => {
      const stateDir = await tempDir("oracle-crash-");
      const b = await book(chain, alice, listingId);
      let proc = child(stateDir, point);
      let crashed = false;
      const exited = once(proc, "exit").then(([code, signal]) => {
        crashed = signal === "SIGKILL";
        return { code, signal };
      });
      try {
        // Drive the chain's clock whenever the booking waits on it, until it is settled.
        await waitFor(
          `settlement through a crash at ${point}`,
          async () => {
            const s = await bookingStatus(chain, b.bookingId);
            if (s === Status.Settled) return true;
            if (crashed && proc.exitCode === null && proc.signalCode === null) {
              // the restarted process is running
            } else if (crashed) {
              proc = child(stateDir);
            }
            const now = await chainNow(chain);
            if (s === Status.Active && now < b.end) await warpTo(chain, b.end + 1);
            if (s === Status.Reported && now < b.end + DISPUTE_WINDOW + 5)
              await warpTo(chain, now + DISPUTE_WINDOW + 5);
            return false;
          },
          60_000,
        );
        // The last step can settle the booking in the same instant the process is killed: wait for its exit.
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        assert.ok(crashed, `the daemon was killed at ${point}`);
        assert.equal((await eventsOf(chain, "EndpointPublished", b.bookingId)).length, 1, "one endpoint");
        assert.equal(
          (await eventsOf(chain, "UsageReported", b.bookingId)).length,
          1,
          "one report, none missed",
        );
        assert.equal((await eventsOf(chain, "BookingSettled", b.bookingId)).length, 1);
        assert.equal(agent.intents(b.bookingId), 1, "one VM, never two");
        const st = await agent.client.status(b.bookingId.toString());
        assert.equal(st.state, "torn-down");
      } finally {
        proc.kill("SIGTERM");
        if (proc.exitCode === null && proc.signalCode === null) await once(proc, "exit");
      }
    });
  }
});

export type { Pinner };
