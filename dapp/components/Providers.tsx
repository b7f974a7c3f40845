"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { fetchRuntimeConfig, type RuntimeConfig } from "../lib/config.ts";
import type { WalletStack } from "./WalletStack.tsx";

// The runtime configuration comes from /api/config once; the wallet stack (wagmi, RainbowKit and its modal)
// is loaded in parallel as a separate chunk, so pages that only read the subgraph (the marketplace, the audit
// explorer) do not wait for it or carry it in their first load.

interface Runtime {
  config: RuntimeConfig | null;
  error: string | null;
  /** Null until the wallet chunk has loaded and been configured for this deployment. */
  wallet: WalletStack | null;
}

const RuntimeContext = createContext<Runtime>({ config: null, error: null, wallet: null });

export function useRuntime(): Runtime {
  return useContext(RuntimeContext);
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } }),
  );
  const [runtime, setRuntime] = useState<Runtime>({ config: null, error: null, wallet: null });

  useEffect(() => {
    let cancelled = false;
    const walletModule = import("./WalletStack.tsx");
    fetchRuntimeConfig()
      .then(async (config) => {
        if (cancelled) return;
        setRuntime({ config, error: null, wallet: null });
        const wallet = await (await walletModule).createWalletStack(config);
        if (!cancelled) setRuntime({ config, error: null, wallet });
      })
      .catch((e: unknown) => {
        if (!cancelled) setRuntime({ config: null, error: (e as Error).message, wallet: null });
      });
    return () => {
      cancelled = true;
    };
  }, []);

  const wallet = runtime.wallet;
  return (
    <QueryClientProvider client={queryClient}>
      <RuntimeContext.Provider value={runtime}>
        {/* The wallet provider wraps the pages once it exists: components below it mount afresh at that
            moment, so pages keep their form state in useStickyState, and wallet forms wait for it. */}
        {wallet ? <wallet.Provider wagmiConfig={wallet.wagmiConfig}>{children}</wallet.Provider> : children}
      </RuntimeContext.Provider>
    </QueryClientProvider>
  );
}
