"use client";

import { type DeploymentParams, marketAbi } from "@computehive/sdk";
import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useCallback, useState } from "react";
import type { Abi, Address, Hash, TransactionReceipt } from "viem";
import { useAccount, usePublicClient, useSwitchChain, useWalletClient } from "wagmi";
import { errorToWords } from "../lib/errors.ts";
import { formatLocal } from "../lib/time.ts";
import { useNow, useTimeZone } from "./hooks.ts";
import { useRuntime } from "./Providers.tsx";

// Chain reads and writes through wagmi. Only rendered below <RequireWallet>, where the wagmi provider exists.

export function useMarket() {
  const { config } = useRuntime();
  if (!config) throw new Error("useMarket outside the configured app");
  const publicClient = usePublicClient({ chainId: config.chainId });
  if (!publicClient) throw new Error("no chain client for the configured chain");
  return { config, publicClient, market: config.market };
}

/**
 * Unix seconds by the chain's clock: the contract judges windows and deadlines by block time, which can run
 * ahead of the browser's clock (a local chain moved forward, a clock that lags). The later of the two.
 */
export function useChainNow(everyMs = 1000): number {
  const now = useNow(everyMs);
  const { publicClient, market } = useMarket();
  const block = useQuery({
    queryKey: ["chain-time", market],
    refetchInterval: 15_000,
    queryFn: async () => ({
      timestamp: Number((await publicClient.getBlock({ blockTag: "latest" })).timestamp),
      at: Date.now() / 1000,
    }),
  });
  if (now === 0 || !block.data) return now;
  return Math.max(now, Math.floor(block.data.timestamp + (now - block.data.at)));
}

/** `params()` and the current `feeBps()` (the record's own `usdFeedMaxAge` is not read here). */
export type MarketParamsView = Omit<DeploymentParams, "usdFeedMaxAge">;

/** `params()` and the current `feeBps()`: deployment constants, read once. */
export function useMarketParams() {
  const { publicClient, market } = useMarket();
  return useQuery({
    queryKey: ["market-params", market],
    staleTime: 60_000,
    queryFn: async (): Promise<MarketParamsView> => {
      const [p, feeBps] = await Promise.all([
        publicClient.readContract({ address: market, abi: marketAbi, functionName: "params" }),
        publicClient.readContract({ address: market, abi: marketAbi, functionName: "feeBps" }),
      ]);
      return { ...p, feeBps };
    },
  });
}

/** Formats errors with the user's time zone and the deployment's chain. */
export function useErrorWords(): (e: unknown) => string {
  const { config } = useRuntime();
  const [tz] = useTimeZone();
  return useCallback(
    (e: unknown) =>
      errorToWords(e, {
        formatTime: (t) => formatLocal(t, tz, true),
        chainId: config?.chainId,
        rpcUrl: config?.rpcUrl,
      }),
    [config, tz],
  );
}

export type TxPhase = "idle" | "checking" | "wallet" | "mining" | "done" | "error";

export interface TxState {
  phase: TxPhase;
  label: string;
  hash?: Hash;
  error?: string;
}

export interface ContractCall {
  address: Address;
  abi: Abi | readonly unknown[];
  functionName: string;
  args?: readonly unknown[];
  value?: bigint;
}

/**
 * Sends one contract call: simulated first (so a revert is explained before the wallet asks anything),
 * then signed in the wallet, then awaited. Errors become words in `state.error`.
 */
export function useTx() {
  const { config } = useRuntime();
  const { address, chainId } = useAccount();
  const { data: walletClient } = useWalletClient();
  const publicClient = usePublicClient({ chainId: config?.chainId });
  const words = useErrorWords();
  const [state, setState] = useState<TxState>({ phase: "idle", label: "" });

  const send = useCallback(
    async (label: string, call: ContractCall): Promise<TransactionReceipt | null> => {
      if (!address || !walletClient || !publicClient) {
        setState({ phase: "error", label, error: "Connect a wallet first." });
        return null;
      }
      if (chainId !== config?.chainId) {
        setState({
          phase: "error",
          label,
          error: `Your wallet is on another network. Switch it to chain ${config?.chainId} first.`,
        });
        return null;
      }
      try {
        setState({ phase: "checking", label });
        // biome-ignore lint/suspicious/noExplicitAny: one helper for every call of several ABIs
        const { request } = await publicClient.simulateContract({ account: address, ...(call as any) });
        setState({ phase: "wallet", label });
        const hash = await walletClient.writeContract(request);
        setState({ phase: "mining", label, hash });
        const receipt = await publicClient.waitForTransactionReceipt({ hash });
        if (receipt.status !== "success") {
          setState({ phase: "error", label, hash, error: "The transaction was mined but reverted." });
          return null;
        }
        setState({ phase: "done", label, hash });
        return receipt;
      } catch (e) {
        setState({ phase: "error", label, error: words(e) });
        return null;
      }
    },
    [address, walletClient, publicClient, chainId, config, words],
  );
  const reset = useCallback(() => setState({ phase: "idle", label: "" }), []);
  return {
    state,
    send,
    reset,
    busy: state.phase === "checking" || state.phase === "wallet" || state.phase === "mining",
  };
}

const PHASE_WORDS: Record<TxPhase, string> = {
  idle: "",
  checking: "Checking with the contract…",
  wallet: "Confirm in your wallet…",
  mining: "Waiting for the transaction to be mined…",
  done: "Done.",
  error: "",
};

export function TxStatus({ state }: { state: TxState }) {
  if (state.phase === "idle") return null;
  if (state.phase === "error") {
    return (
      <p className="error" role="alert">
        {state.label}: {state.error}
        {state.hash ? <TxHash hash={state.hash} /> : null}
      </p>
    );
  }
  return (
    <p className={state.phase === "done" ? "ok" : "muted"} role="status">
      {state.label}: {PHASE_WORDS[state.phase]}
      {state.hash ? (
        <>
          {" "}
          Transaction <TxHash hash={state.hash} />
        </>
      ) : null}
    </p>
  );
}

export function TxHash({ hash }: { hash: string }) {
  return (
    <code className="hash" title={hash}>
      {hash}
    </code>
  );
}

/** Renders children when a wallet is connected on the market's chain; otherwise says what to do. */
export function RequireAccount({ children, why }: { children: ReactNode; why: string }) {
  const { config, wallet } = useRuntime();
  const { address, chainId, isConnected } = useAccount();
  const { switchChain, isPending, error } = useSwitchChain();
  const words = useErrorWords();
  if (!isConnected || !address) {
    const Connect = wallet?.ConnectButton;
    return (
      <div className="panel">
        <p>Connect a wallet {why}.</p>
        {Connect ? <Connect /> : null}
      </div>
    );
  }
  if (config && chainId !== config.chainId) {
    return (
      <div className="panel" role="alert">
        <p>
          Your wallet is on chain {chainId}; this market is on chain {config.chainId}.
        </p>
        <button type="button" disabled={isPending} onClick={() => switchChain({ chainId: config.chainId })}>
          Switch to chain {config.chainId}
        </button>
        {error ? <p className="error">{words(error)}</p> : null}
      </div>
    );
  }
  return <>{children}</>;
}
