import { chainFor } from "@computehive/sdk";
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

export function publicClientFor(rpcUrl: string, chainId: number): PublicClient<Transport, Chain> {
  return createPublicClient({
    chain: chainFor(chainId, rpcUrl),
    transport: http(rpcUrl),
    pollingInterval: 50,
  });
}

export function walletClientFor(
  rpcUrl: string,
  chainId: number,
  account: Account,
): WalletClient<Transport, Chain, Account> {
  return createWalletClient({
    chain: chainFor(chainId, rpcUrl),
    transport: http(rpcUrl),
    account,
    pollingInterval: 50,
  });
}

export { chainFor };
