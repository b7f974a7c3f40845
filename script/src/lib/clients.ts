import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

/** A viem chain for a local or private RPC. */
export function chainFor(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? "Anvil (local)" : `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

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
