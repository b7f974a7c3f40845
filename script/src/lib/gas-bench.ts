import { rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { type Deployment, marketAbi } from "@computehive/sdk";
import {
  type Address,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  type Hash,
  type Hex,
  http,
  numberToHex,
  parseEther,
  parseEventLogs,
  parseGwei,
  zeroAddress,
} from "viem";
import { type DevAccount, devAccount } from "./accounts.ts";
import { type Anvil, freePort, startAnvil } from "./anvil.ts";
import { chainFor, publicClientFor, walletClientFor } from "./clients.ts";
import { deployMarket } from "./deploy.ts";
import { readLocalHardware } from "./hardware.ts";
import { deploymentsDir } from "./paths.ts";
import { encryptedEndpoint, reportCid, sshEd25519PublicKeyLine, x25519PublicKey } from "./payloads.ts";

/** bench/gas.json: total transaction gas (receipt.gasUsed) of each operation. */
export interface GasReport {
  book4h: number;
  activate: number;
  report: number;
  settle: number;
  withdraw: number;
  cancel: number;
  claimNoShow: number;
  bookAtPrior: { "1": number; "100": number; "1000": number; "10000": number };
}

export interface GasRow {
  operation: string;
  gas: number;
  target: string;
  pass: boolean;
  scenario: string;
}

export const PRIOR_COUNTS = [1, 100, 1000, 10000] as const;

// What each figure measures. Every figure is a whole transaction's receipt.gasUsed (21,000 base + calldata +
// execution, after refunds) on anvil's latest hardfork, against a market deployed by script/DeployMarket.s.sol
// with its default parameters (15-minute slots) on a fresh chain.
export const SCENARIOS = {
  book4h:
    "first booking of a fresh deployment: 4 h (16 slots) on a listing with no bookings, in an empty calendar word; " +
    "native price paid exactly (no change credited); 96-byte ed25519 SSH key line",
  activate: "agent publishes a 700-byte encrypted endpoint: Booked -> Active, before the start",
  report: "agent reports full use of the 4 h session with a CIDv1 report string, just after the end",
  settle:
    "first settlement of the deployment (by a keeper, after the dispute window): the lender and treasury credits " +
    "are written from zero; full use, so no borrower refund",
  withdraw: "lender's first withdrawal of its native credit (credit -> 0, ether sent to an EOA)",
  cancel:
    "borrower cancels a 4 h booking more than the cutoff before start (free): full refund credited from zero; " +
    "the freed slots share their calendar word with another booking, so no storage refund",
  claimNoShow:
    "borrower claims a never-activated 4 h booking at start + grace: refund and bond slash credited from zero; " +
    "the freed slots share their calendar word with another booking",
  bookAtPrior:
    "4 h booking on a listing already holding N one-slot bookings (real transactions), into an empty calendar word",
} as const;

export interface BenchOptions {
  log?: (line: string) => void;
}

type Market = { address: Address };

const BOOK_GAS_LIMIT = 400_000n;

/**
 * Starts a private anvil on a free port, deploys the market, and measures each operation (see SCENARIOS).
 * The prior bookings are real `book` transactions, sent in batches with explicit nonces while automine is off and
 * then mined together, so 10,000 of them take seconds.
 */
export async function runGasBench(opts: BenchOptions = {}): Promise<{ report: GasReport; rows: GasRow[] }> {
  const log = opts.log ?? (() => {});
  const port = await freePort();
  const anvil = await startAnvil({
    port,
    // Large blocks so the prior bookings mine in a few blocks.
    args: ["--gas-limit", "1000000000"],
  });
  const outDir = join(deploymentsDir, ".tmp", `bench-${process.pid}`);
  try {
    log(`anvil on ${anvil.url} (pid ${anvil.pid}); deploying…`);
    const { deployment } = await deployMarket({
      rpcUrl: anvil.url,
      privateKey: devAccount(0).privateKey,
      outDir,
    });
    return await measure(anvil, deployment, log);
  } finally {
    await anvil.stop();
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {}); // only when empty
  }
}

async function measure(
  anvil: Anvil,
  d: Deployment,
  log: (line: string) => void,
): Promise<{ report: GasReport; rows: GasRow[] }> {
  const chain = chainFor(d.chainId, anvil.url);
  const pub = publicClientFor(anvil.url, d.chainId);
  const test = createTestClient({ mode: "anvil", chain, transport: http(anvil.url) });
  // Batched JSON-RPC for the bulk sends: many eth_sendTransaction calls per HTTP request.
  const bulk = createWalletClient({
    chain,
    transport: http(anvil.url, { batch: { batchSize: 500, wait: 0 }, timeout: 60_000 }),
  });
  const market: Market = { address: d.market };
  const slot = BigInt(d.params.slotLength);
  const WORD = 256n * slot; // seconds covered by one calendar word
  const FOUR_HOURS = 4n * 3600n;

  const lender = devAccount(1);
  const agent = devAccount(2);
  const borrowerX = devAccount(3); // the lifecycle booking
  const borrowerY = devAccount(4); // the cancelled booking
  const borrowerZ = devAccount(5); // the no-show booking
  const neighbour = devAccount(6); // bookings that share a calendar word with the cancelled / no-show ones
  const bulkBorrower = devAccount(7); // the prior bookings (unlocked in anvil: anvil signs them)
  const priorBorrower = devAccount(8); // the measured bookings on listing B
  const keeper = devAccount(9); // settles, as anyone may
  const wallet = (a: DevAccount) => walletClientFor(anvil.url, d.chainId, a.account);

  // Automine is on outside the bulk sends, so the receipt exists once the send returns. (viem's
  // waitForTransactionReceipt is not used: while it waits it may fetch whole blocks, and a block of prior
  // bookings is larger than its response limit.)
  async function receiptOf(hash: Hash) {
    for (let i = 0; ; i++) {
      try {
        return await pub.getTransactionReceipt({ hash });
      } catch (e) {
        if (i >= 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  async function gasOf(what: string, hash: Promise<Hash>) {
    const receipt = await receiptOf(await hash);
    if (receipt.status !== "success")
      throw new Error(`${what}: transaction ${receipt.transactionHash} reverted`);
    return { gas: Number(receipt.gasUsed), logs: receipt.logs };
  }
  async function now(): Promise<bigint> {
    return (await pub.getBlock()).timestamp;
  }
  async function warpTo(timestamp: bigint): Promise<void> {
    await test.setNextBlockTimestamp({ timestamp });
    await test.mine({ blocks: 1 });
  }
  const ceilTo = (t: bigint, unit: bigint) => ((t + unit - 1n) / unit) * unit;
  /** A 16-slot window starting at the first slot >= t whose word has room for it and one more slot. */
  const windowWithRoom = (t: bigint) => {
    let start = ceilTo(t, slot);
    if ((start / slot) % 256n > 256n - (FOUR_HOURS / slot + 1n)) start = ceilTo(start, WORD);
    return { start, end: start + FOUR_HOURS };
  };

  const sshKey = sshEd25519PublicKeyLine();
  const session = x25519PublicKey();
  async function book(
    who: DevAccount,
    listingId: bigint,
    start: bigint,
    end: bigint,
  ): Promise<{ gas: number; bookingId: bigint }> {
    const [price] = await pub.readContract({
      ...market,
      abi: marketAbi,
      functionName: "quote",
      args: [listingId, Number(start), Number(end)],
    });
    const { gas, logs } = await gasOf(
      "book",
      wallet(who).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "book",
        args: [listingId, Number(start), Number(end), session, sshKey],
        value: price,
      }),
    );
    const [booked] = parseEventLogs({ abi: marketAbi, logs, eventName: "Booked" });
    if (!booked) throw new Error("no Booked event");
    return { gas, bookingId: booked.args.bookingId };
  }

  // Host and two listings of this machine's honest hardware: A for the lifecycle, B for the prior bookings.
  const { hardware } = readLocalHardware();
  const price = parseEther("0.01");
  await gasOf(
    "registerHost",
    wallet(lender).writeContract({
      ...market,
      abi: marketAbi,
      functionName: "registerHost",
      args: [agent.address, ""],
      value: d.params.minBond,
    }),
  );
  for (let i = 0; i < 2; i++) {
    await gasOf(
      "createListing",
      wallet(lender).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "createListing",
        args: [1n, hardware, zeroAddress, false, price, 1, 96, 0, ""],
      }),
    );
  }
  const listingA = 1n;
  const listingB = 2n;

  // Lifecycle on listing A.
  log("measuring book4h, activate, report, settle, withdraw…");
  const b1Start = ceilTo((await now()) + 2n * 3600n, WORD); // first slot of an empty word
  const b1 = await book(borrowerX, listingA, b1Start, b1Start + FOUR_HOURS);
  const book4h = b1.gas;
  const activate = (
    await gasOf(
      "activate",
      wallet(agent).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "activate",
        args: [b1.bookingId, encryptedEndpoint()],
      }),
    )
  ).gas;
  await warpTo(b1Start + FOUR_HOURS);
  const report = (
    await gasOf(
      "report",
      wallet(agent).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "report",
        args: [b1.bookingId, Number(FOUR_HOURS), reportCid(b1.bookingId, Number(FOUR_HOURS))],
      }),
    )
  ).gas;
  await warpTo((await now()) + BigInt(d.params.disputeWindow) + 1n);
  const settle = (
    await gasOf(
      "settle",
      wallet(keeper).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "settle",
        args: [b1.bookingId],
      }),
    )
  ).gas;
  const withdraw = (
    await gasOf(
      "withdraw",
      wallet(lender).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "withdraw",
        args: [zeroAddress],
      }),
    )
  ).gas;

  log("measuring cancel and claimNoShow…");
  const w2 = windowWithRoom((await now()) + BigInt(d.params.cancelCutoff) + 3600n);
  await book(neighbour, listingA, w2.end, w2.end + slot);
  const b2 = await book(borrowerY, listingA, w2.start, w2.end);
  const cancel = (
    await gasOf(
      "cancel",
      wallet(borrowerY).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "cancel",
        args: [b2.bookingId],
      }),
    )
  ).gas;

  const w3 = windowWithRoom((await now()) + 60n);
  await book(neighbour, listingA, w3.end, w3.end + slot);
  const b3 = await book(borrowerZ, listingA, w3.start, w3.end);
  await warpTo(w3.start + BigInt(d.params.activationGrace));
  const claimNoShow = (
    await gasOf(
      "claimNoShow",
      wallet(borrowerZ).writeContract({
        ...market,
        abi: marketAbi,
        functionName: "claimNoShow",
        args: [b3.bookingId],
      }),
    )
  ).gas;

  // The slash left the bond below the minimum: the lender tops it up, as a host must to take bookings again.
  await gasOf(
    "depositBond",
    wallet(lender).writeContract({
      ...market,
      abi: marketAbi,
      functionName: "depositBond",
      args: [1n],
      value: d.params.noShowSlash,
    }),
  );

  // Listing B: one-slot prior bookings from a run of consecutive slots; each measured 4 h booking starts an
  // empty calendar word beyond them, so every figure pays the same first write to its word.
  const t4 = await now();
  const priorBase = ceilTo(t4 + 3600n, WORD) / slot; // first slot of the prior run
  const priorWords = BigInt(Math.ceil(Math.max(...PRIOR_COUNTS) / 256));
  const measuredWord = (k: number) => priorBase / 256n + priorWords + 1n + BigInt(k);
  const [slotPrice] = await pub.readContract({
    ...market,
    abi: marketAbi,
    functionName: "quote",
    args: [listingB, Number(priorBase * slot), Number((priorBase + 1n) * slot)],
  });
  let nonce = await pub.getTransactionCount({ address: bulkBorrower.address });
  let held = 0;

  async function addPriorBookings(count: number): Promise<void> {
    const before = await pub.readContract({ ...market, abi: marketAbi, functionName: "bookingCount" });
    const block = await pub.getBlock();
    const maxFee = numberToHex((block.baseFeePerGas ?? parseGwei("1")) * 4n + parseGwei("2"));
    await test.setAutomine(false);
    try {
      const CHUNK = 2000;
      for (let sent = 0; sent < count; sent += CHUNK) {
        const requests: Promise<Hash>[] = [];
        for (let i = sent; i < Math.min(count, sent + CHUNK); i++) {
          const s = priorBase + BigInt(held + i);
          const data: Hex = encodeFunctionData({
            abi: marketAbi,
            functionName: "book",
            args: [listingB, Number(s * slot), Number((s + 1n) * slot), session, sshKey],
          });
          requests.push(
            bulk.request({
              method: "eth_sendTransaction",
              params: [
                {
                  from: bulkBorrower.address,
                  to: market.address,
                  data,
                  value: numberToHex(slotPrice),
                  gas: numberToHex(BOOK_GAS_LIMIT),
                  nonce: numberToHex(nonce++),
                  maxFeePerGas: maxFee,
                  maxPriorityFeePerGas: numberToHex(parseGwei("1")),
                },
              ],
            }),
          );
        }
        await Promise.all(requests);
      }
      for (let blocks = 0; ; blocks++) {
        const { pending, queued } = await test.getTxpoolStatus();
        if (pending === 0 && queued === 0) break;
        if (blocks > 1000) throw new Error(`prior bookings not mined: ${pending} pending, ${queued} queued`);
        await test.mine({ blocks: 1 });
      }
    } finally {
      await test.setAutomine(true);
    }
    const after = await pub.readContract({ ...market, abi: marketAbi, functionName: "bookingCount" });
    if (after - before !== BigInt(count)) {
      throw new Error(`only ${after - before} of ${count} prior bookings succeeded`);
    }
    held += count;
  }

  const bookAtPrior = {} as GasReport["bookAtPrior"];
  let measuredOnB = 0;
  for (const [k, n] of PRIOR_COUNTS.entries()) {
    const t = Date.now();
    await addPriorBookings(n - held - measuredOnB);
    const holds = held + measuredOnB;
    if (holds !== n) throw new Error(`listing B holds ${holds} bookings, expected ${n}`);
    const start = measuredWord(k) * WORD;
    bookAtPrior[String(n) as keyof GasReport["bookAtPrior"]] = (
      await book(priorBorrower, listingB, start, start + FOUR_HOURS)
    ).gas;
    measuredOnB++;
    log(`bookAtPrior[${n}] measured (${Date.now() - t} ms)`);
  }

  const result: GasReport = { book4h, activate, report, settle, withdraw, cancel, claimNoShow, bookAtPrior };
  return { report: result, rows: tableRows(result) };
}

export function tableRows(r: GasReport): GasRow[] {
  const flat = (operation: keyof typeof SCENARIOS, gas: number, limit: number): GasRow => ({
    operation,
    gas,
    target: `<= ${limit.toLocaleString("en-US")}`,
    pass: gas <= limit,
    scenario: SCENARIOS[operation],
  });
  const base = r.bookAtPrior["1"];
  const rows: GasRow[] = [
    flat("book4h", r.book4h, 150_000),
    flat("activate", r.activate, 100_000),
    flat("report", r.report, 100_000),
    flat("settle", r.settle, 100_000),
    flat("withdraw", r.withdraw, 100_000),
    flat("cancel", r.cancel, 100_000),
    flat("claimNoShow", r.claimNoShow, 100_000),
  ];
  for (const n of PRIOR_COUNTS) {
    const gas = r.bookAtPrior[String(n) as keyof GasReport["bookAtPrior"]];
    // A booking's target (as book4h); the largest N must in addition cost what N = 1 costs.
    const limit = 150_000;
    rows.push(
      n === 10000
        ? {
            operation: `bookAtPrior[${n}]`,
            gas,
            target: `within 1% of bookAtPrior[1] (${base.toLocaleString("en-US")})`,
            pass: Math.abs(gas - base) <= base * 0.01,
            scenario: `${SCENARIOS.bookAtPrior}; N = ${n}`,
          }
        : {
            operation: `bookAtPrior[${n}]`,
            gas,
            target: `<= ${limit.toLocaleString("en-US")}`,
            pass: gas <= limit,
            scenario: `${SCENARIOS.bookAtPrior}; N = ${n}`,
          },
    );
  }
  return rows;
}

export function formatTable(rows: GasRow[]): string {
  const head = ["operation", "gas", "target", "result"];
  const body = rows.map((r) => [
    r.operation,
    r.gas.toLocaleString("en-US"),
    r.target,
    r.pass ? "pass" : "MISS",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  const out = [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  out.push("", "scenarios:");
  for (const r of rows) out.push(`  ${r.operation}: ${r.scenario}`);
  return out.join("\n");
}
