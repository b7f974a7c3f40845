/**
 * The whole path for real, in real time: anvil with the market, the real host agent (QEMU/TCG on
 * qemu:///system, the Debian-built guest with OpenSSH's sshd) and the daemon. A borrower books; the daemon
 * provisions and activates; the borrower decrypts the endpoint with the session key and logs in with OpenSSH's
 * `ssh` and the certificate; the window ends, the VM goes, the daemon pins and reports; the settlement loop
 * settles; the lender withdraws. Needs root (skipped loudly otherwise). About two minutes: the window is one
 * 60 s slot and starts on the next slot boundary.
 *
 * Run: node --import tsx --test --test-reporter=spec oracle-node/test/realvm.test.ts
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { marketAbi, rawCid } from "@computehive/sdk";
import { pino } from "pino";
import { zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { Daemon } from "../src/daemon.ts";
import { openPinner } from "../src/ipfs.ts";
import { realAgentUnusable, startRealAgent, type TestAgent } from "./agent.ts";
import {
  AGENT,
  argsOf,
  type Borrower,
  book,
  bookingStatus,
  borrower,
  borrowerSession,
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

const say = (msg: string) => process.stderr.write(`[oracle realvm] ${msg}\n`);
const why = await realAgentUnusable(say);
if (why) {
  say(`!!! SKIPPED the real VM path: ${why}.`);
  say("!!! Run it as root: sudo node --import tsx --test oracle-node/test/realvm.test.ts");
}

describe("the whole path on a real VM (QEMU/TCG) with OpenSSH", { skip: why ?? false }, () => {
  let chain: Chain;
  let agent: TestAgent;
  let alice: Borrower;
  let clientDir: string;
  const t0 = Date.now();
  const mark = (what: string) => say(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);

  before(async () => {
    chain = await startChain();
    agent = await startRealAgent();
    alice = await borrower();
    clientDir = await mkdtemp("/var/tmp/computehive-oracle-client-");
    mark(`chain and agent up (accel ${agent.agent.accel})`);
  });

  after(async () => {
    await agent?.close();
    await chain?.close();
    if (alice) await rm(alice.dir, { recursive: true, force: true });
    if (clientDir) await rm(clientDir, { recursive: true, force: true });
  });

  test("book → activate → decrypt → ssh with the certificate → window ends → report → settle → withdraw", async () => {
    const { hostId, listingId } = await hostWithListing(chain, { cpuCores: 1, ramMiB: 512, diskGiB: 10 });
    const stateDir = await mkdtemp(join(clientDir, "oracle-"));
    const pinner = await openPinner({ dir: join(stateDir, "ipfs") });
    const daemon = await Daemon.start({
      market: chain.market,
      account: privateKeyToAccount(devKey(AGENT)),
      hostId,
      agent: agent.client,
      pinner,
      stateDir,
      logger: pino({ level: process.env.ORACLE_LOG_LEVEL ?? "warn" }),
      confirmations: 0,
      pollMs: 250,
      provisionLeadS: 600,
      upkeepEveryMs: 500,
    });
    try {
      const b = await book(chain, alice, listingId);
      mark(
        `booked #${b.bookingId}: [${b.start}, ${b.end}), starts in ${b.start - Math.floor(Date.now() / 1000)} s`,
      );
      await waitFor(
        "activation",
        async () => (await bookingStatus(chain, b.bookingId)) === Status.Active,
        60_000,
      );
      mark("active: endpoint published");

      const { login: ssh } = await borrowerSession(chain, alice, b.bookingId);
      const login = () => ssh("id -un; nproc");
      // The certificate is valid from the start; the guest boots meanwhile (about 10 s under TCG).
      let out = await login();
      while (out.code !== 0 && Date.now() / 1000 < b.end - 5) {
        await new Promise((r) => setTimeout(r, 1000));
        out = await login();
      }
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.split("\n")[0], "computehive");
      mark(`logged in with OpenSSH and the certificate: ${out.stdout.trim().replace("\n", ", ")} vCPU`);

      // The window ends: the agent tears the VM down, the daemon reports.
      await waitFor(
        "the report",
        async () => (await bookingStatus(chain, b.bookingId)) === Status.Reported,
        (b.end - Math.floor(Date.now() / 1000) + 60) * 1000,
      );
      mark("reported");
      const after = await login();
      assert.notEqual(after.code, 0, "no login once the window is over");
      const st = await agent.client.status(b.bookingId.toString());
      assert.equal(st.state, "torn-down");
      assert.equal(st.facts?.domainGone, true);
      assert.equal(st.facts?.overlayRemoved, true);
      const [reported] = await eventsOf(chain, "UsageReported", b.bookingId);
      const r = reported?.args as { usedSeconds: bigint; reportCid: string };
      const bytes = await pinner.get(r.reportCid);
      assert.equal(rawCid(bytes), r.reportCid);
      assert.ok(r.usedSeconds > 0n && r.usedSeconds <= BigInt(b.end - b.start), `used ${r.usedSeconds} s`);

      await warpTo(chain, (await chainNow(chain)) + DISPUTE_WINDOW + 1);
      await waitFor("settlement", async () => (await bookingStatus(chain, b.bookingId)) === Status.Settled);
      const [settled] = await eventsOf(chain, "BookingSettled", b.bookingId);
      const s = settled?.args as { lenderAmount: bigint; platformFee: bigint; refund: bigint };
      assert.equal(s.lenderAmount + s.platformFee + s.refund, b.price);
      const w = await send(chain, LENDER, "withdraw", [zeroAddress]);
      assert.equal(argsOf<{ amount: bigint }>(w.logs, "Withdrawn").amount, s.lenderAmount);
      const left = await chain.market.client.readContract({
        address: chain.market.address,
        abi: marketAbi,
        functionName: "credits",
        args: [dev(LENDER).address, zeroAddress],
      });
      assert.equal(left, 0n);
      mark(`settled (lender ${s.lenderAmount} wei, refund ${s.refund} wei) and withdrawn`);
    } finally {
      await daemon.stop();
      await pinner.close();
    }
  });
});
