/**
 * Sends the agent's transactions so that none is ever sent twice and none is lost:
 *
 * - **Idempotent by key** (`activate:42`, `report:42`, …): the signed transaction is written to the state file
 *   *before* it is broadcast. After a crash the same signed bytes are broadcast again (same nonce, same hash),
 *   so a second transaction for the same action cannot exist; a key whose transaction was mined is done.
 * - **Nonces** are managed here, one sender at a time: the next nonce is the larger of the chain's pending count
 *   and the last one used, so transactions sent back to back never collide.
 * - **Fee bumping**: a transaction not mined within `bumpAfterMs` is signed again with the same nonce and fees
 *   raised by 12.5 % (nodes accept a replacement from +10 %); every version is kept, since any may be mined.
 * - **Retries with backoff** on RPC failures (1, 2, 4, 8 s …, capped).
 * - A call that would revert is never sent: it is simulated first and the contract's error comes back decoded.
 *
 * viem's `writeContract` does none of the persistence, so this wraps viem's signing and raw broadcast.
 */
import type { Logger } from "pino";
import {
  type Abi,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  encodeFunctionData,
  type Hex,
  keccak256,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
} from "viem";
import { isNetworkError, type Market, shortError } from "./chain.ts";
import type { StateStore, TxRecord } from "./state.ts";

type MarketAbi = Market["abi"];
type WriteName = ContractFunctionName<MarketAbi, "nonpayable" | "payable">;

export interface TxCall<N extends WriteName = WriteName> {
  functionName: N;
  args: ContractFunctionArgs<MarketAbi, "nonpayable" | "payable", N>;
  value?: bigint;
}

export interface TxManagerOptions {
  market: Market;
  account: LocalAccount;
  store: StateStore;
  logger: Logger;
  /** Sign again with higher fees when not mined after this long. Default 30 s. */
  bumpAfterMs?: number;
  /** Give up (and throw) after this many replacements. Default 6. */
  maxBumps?: number;
  /** Crash injection for the restart tests: called with `before-broadcast:<action>` / `after-broadcast:<action>`. */
  checkpoint?: (point: string) => void;
}

export class TxRevertedError extends Error {
  constructor(
    readonly key: string,
    readonly receipt: TransactionReceipt,
  ) {
    super(`${key}: transaction ${receipt.transactionHash} reverted in block ${receipt.blockNumber}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TxManager {
  readonly #o: Required<Omit<TxManagerOptions, "checkpoint">> & Pick<TxManagerOptions, "checkpoint">;
  readonly #client: PublicClient<Transport, Chain>;
  #lock: Promise<unknown> = Promise.resolve();
  #nextNonce = 0;

  constructor(opts: TxManagerOptions) {
    this.#o = { ...opts, bumpAfterMs: opts.bumpAfterMs ?? 30_000, maxBumps: opts.maxBumps ?? 6 };
    this.#client = opts.market.client;
  }

  /** Transactions signed but not known to be mined. */
  pending(): TxRecord[] {
    return Object.values(this.#o.store.state.txs).filter((t) => t.status === "pending");
  }

  /**
   * Sends `call` once for `key` (or finishes the transaction already signed for it) and returns its receipt.
   * Throws the simulation's error (decoded by viem) when the call would revert, `TxRevertedError` when the
   * mined transaction reverted.
   */
  send<N extends WriteName>(key: string, call: TxCall<N>): Promise<TransactionReceipt> {
    const run = this.#lock.then(() => this.#send(key, call));
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Finishes every transaction left pending by an earlier run (rebroadcast, wait, bump). */
  resumePending(): Promise<void> {
    const run = this.#lock.then(async () => {
      for (const rec of this.pending()) {
        try {
          await this.#finish(rec);
        } catch (err) {
          this.#o.logger.warn({ tx: rec.key, err: shortError(err) }, "pending transaction not finished");
        }
      }
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  async #send<N extends WriteName>(key: string, call: TxCall<N>): Promise<TransactionReceipt> {
    const existing = this.#o.store.state.txs[key];
    if (existing && existing.status !== "dropped") {
      if (existing.status === "mined" && existing.minedHash) {
        return this.#client.getTransactionReceipt({ hash: existing.minedHash });
      }
      const receipt = await this.#finish(existing);
      if (receipt) return receipt;
    }
    const { market, account } = this.#o;
    // Simulate: a call that would revert is never sent, and its custom error comes back decoded.
    await this.#retry(`simulate ${key}`, () =>
      this.#client.simulateContract({
        address: market.address,
        abi: market.abi as Abi,
        functionName: call.functionName,
        args: call.args as readonly unknown[],
        value: call.value,
        account,
        // The next block's view: with a node that mines only on demand (anvil), "latest" is the last
        // transaction's block and its clock may be long past (a report would look too early).
        blockTag: "pending",
      }),
    );
    const data = encodeFunctionData({
      abi: market.abi as Abi,
      functionName: call.functionName as string,
      args: call.args as readonly unknown[],
    });
    const [gas, fees, chainNonce] = await this.#retry(`prepare ${key}`, () =>
      Promise.all([
        this.#client.estimateGas({
          account,
          to: market.address,
          data,
          value: call.value,
          blockTag: "pending",
        }),
        this.#client.estimateFeesPerGas(),
        this.#client.getTransactionCount({ address: account.address, blockTag: "pending" }),
      ]),
    );
    const nonce = Math.max(chainNonce, this.#nextNonce);
    this.#nextNonce = nonce + 1;
    const gasLimit = (gas * 6n) / 5n; // 20 % headroom: state may change between estimate and inclusion
    const rec: TxRecord = {
      key,
      nonce,
      data,
      gas: gasLimit.toString(),
      value: (call.value ?? 0n).toString(),
      hashes: [],
      raws: [],
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      createdAt: Date.now(),
      status: "pending",
    };
    const raw = await account.signTransaction({
      chainId: market.deployment.chainId,
      type: "eip1559",
      to: market.address,
      data,
      value: call.value,
      gas: gasLimit,
      nonce,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    rec.raws.push(raw);
    rec.hashes.push(keccak256(raw));
    // Written before it leaves: after a crash this exact transaction is what gets broadcast again.
    this.#o.store.state.txs[key] = rec;
    await this.#o.store.save();
    this.#o.checkpoint?.(`before-broadcast:${key.split(":")[0]}`);
    const receipt = await this.#finish(rec);
    if (!receipt) throw new Error(`${key}: transaction dropped before it was mined`);
    return receipt;
  }

  /** Broadcasts (again) and waits; bumps fees when slow. Undefined when the nonce went to another tx. */
  async #finish(rec: TxRecord): Promise<TransactionReceipt | undefined> {
    const { logger } = this.#o;
    for (let bump = 0; ; bump++) {
      const mined = await this.#minedReceipt(rec);
      if (mined) return mined;
      const latestNonce = await this.#retry(`nonce ${rec.key}`, () =>
        this.#client.getTransactionCount({ address: this.#o.account.address, blockTag: "latest" }),
      );
      if (latestNonce > rec.nonce) {
        // The nonce was used, but by none of our versions (mined meanwhile? check once more).
        const again = await this.#minedReceipt(rec);
        if (again) return again;
        rec.status = "dropped";
        await this.#o.store.save();
        logger.warn({ tx: rec.key, nonce: rec.nonce }, "nonce consumed by another transaction; dropped");
        return undefined;
      }
      const raw = rec.raws[rec.raws.length - 1] as Hex;
      await this.#retry(`broadcast ${rec.key}`, async () => {
        try {
          await this.#client.sendRawTransaction({ serializedTransaction: raw });
        } catch (err) {
          // Already in the pool or already mined: both fine, the receipt wait decides.
          if (/already known|nonce too low|already imported|replacement transaction/i.test(shortError(err)))
            return;
          throw err;
        }
      });
      this.#o.checkpoint?.(`after-broadcast:${rec.key.split(":")[0]}`);
      logger.info(
        { tx: rec.key, hash: rec.hashes[rec.hashes.length - 1], nonce: rec.nonce },
        "transaction sent",
      );
      const deadline = Date.now() + this.#o.bumpAfterMs;
      while (Date.now() < deadline) {
        const r = await this.#minedReceipt(rec);
        if (r) return r;
        await sleep(100);
      }
      if (bump >= this.#o.maxBumps) {
        throw new Error(`${rec.key}: not mined after ${bump} fee bumps (nonce ${rec.nonce})`);
      }
      await this.#bump(rec);
    }
  }

  async #minedReceipt(rec: TxRecord): Promise<TransactionReceipt | undefined> {
    for (const hash of rec.hashes) {
      const receipt = await this.#retry(`receipt ${rec.key}`, () =>
        this.#client.getTransactionReceipt({ hash }).catch((err) => {
          if (/could not be found|not found/i.test(shortError(err))) return undefined;
          throw err;
        }),
      );
      if (receipt) {
        rec.status = receipt.status === "success" ? "mined" : "reverted";
        rec.minedHash = hash;
        rec.blockNumber = receipt.blockNumber.toString();
        await this.#o.store.save();
        if (receipt.status !== "success") throw new TxRevertedError(rec.key, receipt);
        return receipt;
      }
    }
    return undefined;
  }

  async #bump(rec: TxRecord): Promise<void> {
    const { market, account } = this.#o;
    const fees = await this.#client.estimateFeesPerGas();
    const bumpFee = (old: bigint, now: bigint) => {
      const up = (old * 1125n) / 1000n + 1n;
      return up > now ? up : now;
    };
    const maxFeePerGas = bumpFee(BigInt(rec.maxFeePerGas), fees.maxFeePerGas);
    const maxPriorityFeePerGas = bumpFee(BigInt(rec.maxPriorityFeePerGas), fees.maxPriorityFeePerGas);
    const raw = await account.signTransaction({
      chainId: market.deployment.chainId,
      type: "eip1559",
      to: market.address,
      data: rec.data,
      value: BigInt(rec.value),
      gas: BigInt(rec.gas),
      nonce: rec.nonce,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    rec.raws.push(raw);
    rec.hashes.push(keccak256(raw));
    rec.maxFeePerGas = maxFeePerGas.toString();
    rec.maxPriorityFeePerGas = maxPriorityFeePerGas.toString();
    await this.#o.store.save();
    this.#o.logger.warn(
      { tx: rec.key, nonce: rec.nonce, maxFeePerGas: rec.maxFeePerGas },
      "not mined in time; fees bumped",
    );
  }

  /** Retries RPC failures (not reverts) with exponential backoff: 1, 2, 4, 8, 8 … s, for about a minute. */
  async #retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isNetworkError(err) || attempt >= 9) throw err;
        const ms = Math.min(8000, 1000 * 2 ** attempt);
        this.#o.logger.warn({ what, err: shortError(err), retryInMs: ms }, "RPC failed; retrying");
        await sleep(ms);
      }
    }
  }
}
