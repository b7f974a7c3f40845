/**
 * An injected wallet for the browser tests: an EIP-1193 provider announced by EIP-6963 (as real wallet
 * extensions do), forwarding every JSON-RPC call to anvil, whose dev accounts are unlocked, so `eth_sendTransaction`
 * and `personal_sign` are answered by the node itself. It is the page's wallet, not a mock of the chain: every
 * transaction is mined by anvil and every signature is anvil's secp256k1 signature with the account's key.
 *
 * Returned as the source of an init script (Playwright's `addInitScript`), run before any page script.
 */
export function injectedWalletScript(opts: { rpcUrl: string; account: string; chainId: number }): string {
  const config = JSON.stringify(opts);
  return `(() => {
  const { rpcUrl, account, chainId } = ${config};
  let id = 0;
  const listeners = new Map();
  const emit = (event, value) => (listeners.get(event) || []).forEach((fn) => fn(value));
  const provider = {
    isComputeHiveE2E: true,
    async request({ method, params }) {
      if (method === "eth_requestAccounts" || method === "eth_accounts") {
        if (method === "eth_requestAccounts") setTimeout(() => emit("connect", { chainId: "0x" + chainId.toString(16) }));
        return [account];
      }
      if (method === "eth_chainId") return "0x" + chainId.toString(16);
      if (method === "wallet_switchEthereumChain" || method === "wallet_addEthereumChain") return null;
      if (method === "wallet_requestPermissions" || method === "wallet_getPermissions") {
        return [{ parentCapability: "eth_accounts", caveats: [{ type: "restrictReturnedAccounts", value: [account] }] }];
      }
      if (method === "wallet_revokePermissions") return null;
      const res = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }),
      });
      const json = await res.json();
      if (json.error) {
        const err = new Error(json.error.message);
        err.code = json.error.code;
        err.data = json.error.data;
        throw err;
      }
      return json.result;
    },
    on(event, fn) {
      listeners.set(event, [...(listeners.get(event) || []), fn]);
      return provider;
    },
    removeListener(event, fn) {
      listeners.set(event, (listeners.get(event) || []).filter((f) => f !== fn));
      return provider;
    },
  };
  const info = Object.freeze({
    uuid: "5c1f3e0e-2a59-4c8e-9b1d-c0c0c0c0e2e0",
    name: "ComputeHive test wallet",
    icon: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIzMiIgaGVpZ2h0PSIzMiI+PHJlY3Qgd2lkdGg9IjMyIiBoZWlnaHQ9IjMyIiBmaWxsPSIjMjI4In0vPjwvc3ZnPg==",
    rdns: "dev.computehive.e2e",
  });
  window.ethereum = provider;
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;
}
