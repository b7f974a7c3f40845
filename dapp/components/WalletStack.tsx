"use client";

import "@rainbow-me/rainbowkit/styles.css";
import { chainFor } from "@computehive/sdk";
import {
  ConnectButton,
  connectorsForWallets,
  lightTheme,
  RainbowKitProvider,
  type WalletList,
} from "@rainbow-me/rainbowkit";
import { injectedWallet } from "@rainbow-me/rainbowkit/wallets";
import type { ReactNode } from "react";
import { type Config, createConfig, http, WagmiProvider } from "wagmi";
import type { RuntimeConfig } from "../lib/config.ts";

// Loaded on demand by Providers. Wallets: the browser's injected wallets only (EIP-6963 discovery on, so every
// installed extension shows by name); WalletConnect, which calls out to its relay, only when a project id is
// configured. No getDefaultConfig: it adds wallets that make requests off the machine.

const theme = lightTheme({ accentColor: "#1d4ed8", borderRadius: "small", fontStack: "system" });

export function WalletProvider({ wagmiConfig, children }: { wagmiConfig: Config; children: ReactNode }) {
  return (
    <WagmiProvider config={wagmiConfig}>
      <RainbowKitProvider theme={theme} modalSize="compact" appInfo={{ appName: "ComputeHive" }}>
        {children}
      </RainbowKitProvider>
    </WagmiProvider>
  );
}

export function WalletConnectButton() {
  return <ConnectButton showBalance={{ smallScreen: false, largeScreen: true }} chainStatus="icon" />;
}

export interface WalletStack {
  wagmiConfig: Config;
  Provider: typeof WalletProvider;
  ConnectButton: typeof WalletConnectButton;
}

export async function createWalletStack(runtime: RuntimeConfig): Promise<WalletStack> {
  const chain = chainFor(runtime.chainId, runtime.rpcUrl);
  const groups: WalletList = [{ groupName: "Installed in this browser", wallets: [injectedWallet] }];
  if (runtime.walletConnectProjectId) {
    const { walletConnectWallet } = await import("@rainbow-me/rainbowkit/wallets");
    groups.push({ groupName: "Other wallets", wallets: [walletConnectWallet] });
  }
  const connectors = connectorsForWallets(groups, {
    appName: "ComputeHive",
    // Used by WalletConnect only, which is off unless configured.
    projectId: runtime.walletConnectProjectId ?? "walletconnect-disabled",
  });
  const wagmiConfig = createConfig({
    chains: [chain],
    connectors,
    transports: { [chain.id]: http(runtime.rpcUrl, { batch: true }) },
    multiInjectedProviderDiscovery: true,
    ssr: false,
  });
  return { wagmiConfig, Provider: WalletProvider, ConnectButton: WalletConnectButton };
}
