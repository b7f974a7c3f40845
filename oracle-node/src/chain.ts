/**
 * The oracle-node's view of the chain: viem clients for the market of one deployment record, the checks a
 * lender can act on (RPC unreachable, wrong chain, no market there), and reverts decoded into the
 * contract's own error names and arguments.
 */
import {
  type BookingStatus,
  bookingStatusName,
  chainFor,
  type Deployment,
  marketAbi,
} from "@computehive/sdk";

export { chainFor };

import {
  type Account,
  type Address,
  BaseError,
  type Chain,
  type ContractEventArgs,
  type ContractEventName,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  formatEther,
  type GetContractEventsParameters,
  HttpRequestError,
  http,
  type Log,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

/** An error a lender can act on, with what to do next. `code` is stable for scripts and tests. */
export class OracleError extends Error {
  constructor(
    readonly code:
      | "rpc-unreachable"
      | "wrong-chain"
      | "no-market"
      | "not-agent"
      | "not-lender"
      | "insufficient-bond"
      | "agent-not-running"
      | "host-not-vfio-ready"
      | "revert"
      | "keystore"
      | "usage"
      | "not-found",
    message: string,
  ) {
    super(message);
    this.name = "OracleError";
  }
}

export interface Market {
  deployment: Deployment;
  rpcUrl: string;
  address: Address;
  abi: typeof marketAbi;
  client: PublicClient<Transport, Chain>;
}

/**
 * Connects to `rpcUrl` and checks it serves the deployment's chain and that the market's code is there.
 * Errors: `rpc-unreachable`, `wrong-chain`, `no-market`.
 */
export async function connectMarket(rpcUrl: string, deployment: Deployment): Promise<Market> {
  const client = createPublicClient({
    chain: chainFor(deployment.chainId, rpcUrl),
    transport: http(rpcUrl, { retryCount: 2, timeout: 10_000 }),
    pollingInterval: 100,
  });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (err) {
    throw new OracleError(
      "rpc-unreachable",
      `the RPC at ${rpcUrl} does not answer (${shortError(err)}); check --rpc-url and that the node runs`,
    );
  }
  if (chainId !== deployment.chainId) {
    throw new OracleError(
      "wrong-chain",
      `the RPC at ${rpcUrl} serves chain ${chainId}, but the deployment record is for chain ${deployment.chainId}; ` +
        "point --rpc-url at the right network or pick the matching --deployment",
    );
  }
  const code = await client.getCode({ address: deployment.market });
  if (!code || code === "0x") {
    throw new OracleError(
      "no-market",
      `no contract at ${deployment.market} on chain ${chainId}: the deployment record does not match this chain's state (was anvil restarted?)`,
    );
  }
  return { deployment, rpcUrl, address: deployment.market, abi: marketAbi, client };
}

export function walletFor(market: Market, account: Account): WalletClient<Transport, Chain, Account> {
  return createWalletClient({
    chain: chainFor(market.deployment.chainId, market.rpcUrl),
    transport: http(market.rpcUrl, { retryCount: 2, timeout: 20_000 }),
    account,
    pollingInterval: 100,
  });
}

/** A revert decoded: the contract's error name and its arguments, when the error came from the contract. */
export interface DecodedRevert {
  name: string;
  args: readonly unknown[];
}

export function decodeRevert(err: unknown): DecodedRevert | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
    return { name: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  return undefined;
}

/** True when the RPC could not be reached at all (as opposed to answering with an error). */
export function isNetworkError(err: unknown): boolean {
  if (err instanceof BaseError) return Boolean(err.walk((e) => e instanceof HttpRequestError));
  return false;
}

export type StatusName = BookingStatus;
export const statusName = (s: number): StatusName => bookingStatusName(s);

/** A revert in words a lender understands: the contract's error, explained where it is a common one. */
export function explainError(err: unknown): string {
  const r = decodeRevert(err);
  if (r) {
    const a = r.args.map((x) => (typeof x === "bigint" ? x : String(x)));
    switch (r.name) {
      case "InsufficientBond":
        return `insufficient bond: ${formatEther(a[0] as bigint)} sent or kept, the market needs at least ${formatEther(a[1] as bigint)}`;
      case "NotLender":
        return `this key (${a[1]}) is not the lender of host ${a[0]}`;
      case "NotAgent":
        return `this key (${a[1]}) is not the agent of booking ${a[0]}'s host`;
      case "OpenBookings":
        return `host ${a[0]} still has ${a[1]} open booking(s); the bond stays until they end`;
      case "UnbondingNotOver":
        return `the unbonding delay of host ${a[0]} ends at ${new Date(Number(a[1]) * 1000).toISOString()}`;
      case "NotUnbonding":
        return `host ${a[0]} is not unbonding: run \`bond unbond\` first`;
      case "WrongStatus":
        return `booking ${a[0]} is ${statusName(Number(a[1]))}, which does not allow this`;
      case "TooLate":
        return `too late for booking ${a[0]} (deadline ${new Date(Number(a[1]) * 1000).toISOString()})`;
      case "TooEarly":
        return `too early for booking ${a[0]} (not before ${new Date(Number(a[1]) * 1000).toISOString()})`;
      case "NothingToWithdraw":
        return `nothing to withdraw for ${a[0]} in ${a[1] === "0x0000000000000000000000000000000000000000" ? "the native currency" : a[1]}`;
      case "BondTooSmall":
        return `asked for ${formatEther(a[0] as bigint)}, the bond holds ${formatEther(a[1] as bigint)}`;
      default:
        return `the market refused: ${r.name}(${a.join(", ")})`;
    }
  }
  if (isNetworkError(err)) return `RPC unreachable: ${shortError(err)}`;
  if (err instanceof OracleError) return err.message;
  return shortError(err);
}

export function shortError(err: unknown): string {
  if (err instanceof BaseError) return err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

/** The chain id the RPC at `rpcUrl` serves. Errors: `rpc-unreachable`. */
export async function rpcChainId(rpcUrl: string): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 2, timeout: 10_000 }) });
  try {
    return await client.getChainId();
  } catch (err) {
    throw new OracleError(
      "rpc-unreachable",
      `the RPC at ${rpcUrl} does not answer (${shortError(err)}); check --rpc-url and that the node runs`,
    );
  }
}

/**
 * Any failure of a market call as an OracleError: reverts decoded and explained (`explainError`), with the codes a
 * lender can act on (InsufficientBond → `insufficient-bond`, NotLender → `not-lender`, NotAgent → `not-agent`,
 * UnknownHost/UnknownListing/UnknownBooking → `not-found`, other reverts → `revert`), an unreachable RPC as
 * `rpc-unreachable`. An OracleError passes through unchanged.
 */
export function toOracleError(err: unknown): OracleError {
  if (err instanceof OracleError) return err;
  const r = decodeRevert(err);
  if (r) {
    const code: OracleError["code"] =
      r.name === "InsufficientBond"
        ? "insufficient-bond"
        : r.name === "NotLender"
          ? "not-lender"
          : r.name === "NotAgent"
            ? "not-agent"
            : /^Unknown(Host|Listing|Booking)$/.test(r.name)
              ? "not-found"
              : "revert";
    return new OracleError(code, explainError(err));
  }
  if (isNetworkError(err)) return new OracleError("rpc-unreachable", explainError(err));
  return new OracleError("revert", explainError(err));
}

type MarketAbi = typeof marketAbi;

/**
 * The market's `eventName` logs matching `args` (indexed arguments; an array means any of them), from the
 * deployment's start block to the latest block, fetched in ranges of `chunk` blocks (public RPCs cap the
 * range of one eth_getLogs), oldest first.
 */
export async function getMarketEvents<const E extends ContractEventName<MarketAbi>>(
  market: Market,
  eventName: E,
  args?: ContractEventArgs<MarketAbi, E>,
  opts: { fromBlock?: bigint; toBlock?: bigint; chunk?: bigint } = {},
): Promise<Log<bigint, number, false, undefined, true, MarketAbi, E>[]> {
  const chunk = opts.chunk ?? 10_000n;
  const to = opts.toBlock ?? (await market.client.getBlockNumber());
  const out: Log<bigint, number, false, undefined, true, MarketAbi, E>[] = [];
  for (let from = opts.fromBlock ?? market.deployment.startBlock; from <= to; from += chunk) {
    const end = from + chunk - 1n < to ? from + chunk - 1n : to;
    const logs = await market.client.getContractEvents({
      address: market.address,
      abi: market.abi,
      eventName,
      args,
      fromBlock: from,
      toBlock: end,
      strict: true,
    } as GetContractEventsParameters<MarketAbi, E, true, bigint, bigint>);
    out.push(...(logs as unknown as Log<bigint, number, false, undefined, true, MarketAbi, E>[]));
  }
  return out;
}
