import {
  BaseError,
  ChainDisconnectedError,
  ChainMismatchError,
  ChainNotFoundError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  HttpRequestError,
  InsufficientFundsError,
  IntrinsicGasTooLowError,
  NonceTooLowError,
  SwitchChainError,
  TimeoutError,
  UserRejectedRequestError,
} from "viem";
import { STATUS_NAMES } from "./types.ts";

// Every failure a person may meet in the dApp, in words that say what happened and what to do. Contract
// reverts are decoded by the custom error's name (viem: BaseError.walk → ContractFunctionRevertedError.data).

export interface ErrorContext {
  /** Formats unix seconds in the user's time zone. */
  formatTime?: (unix: number) => string;
  /** The chain the dApp is configured for (for wrong-network messages). */
  chainId?: number;
  rpcUrl?: string;
}

const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(String(v ?? 0)));

function time(ctx: ErrorContext, v: unknown): string {
  const n = Number(big(v));
  return ctx.formatTime ? ctx.formatTime(n) : new Date(n * 1000).toISOString().replace(".000Z", " UTC");
}

function statusWord(v: unknown): string {
  return STATUS_NAMES[Number(v)] ?? `status ${String(v)}`;
}

/** A revert of the market (or of a token inside it), by the custom error's name and decoded arguments. */
export function revertToWords(name: string, args: readonly unknown[], ctx: ErrorContext = {}): string {
  const a = (i: number) => args[i];
  switch (name) {
    case "NotLender":
      return `Only the lender who registered host ${a(0)} can do this; the connected account is another one.`;
    case "NotAgent":
      return `Only the host's agent key can act on booking ${a(0)}.`;
    case "NotBorrower":
      return `Only the borrower of booking ${a(0)} can do this; connect the account that booked it.`;
    case "NotArbiter":
      return "Only the market's arbiter can rule on disputes.";
    case "UnknownHost":
      return `There is no host ${a(0)} on this market.`;
    case "UnknownListing":
      return `There is no listing ${a(0)} on this market.`;
    case "UnknownBooking":
      return `There is no booking ${a(0)} on this market.`;
    case "ZeroAddress":
      return "An address that must be set is empty (0x000…0).";
    case "InsufficientBond":
      return `The bond is too small: the market needs at least ${a(1)} wei bonded (this would leave ${a(0)} wei).`;
    case "HostUnbonding":
      return `Host ${a(0)} is unbonding: it takes no new bookings or listings until the lender cancels the unbonding.`;
    case "NotUnbonding":
      return `Host ${a(0)} is not unbonding: request unbonding first, then wait the unbonding delay.`;
    case "UnbondingNotOver":
      return `The bond of host ${a(0)} is locked until ${time(ctx, a(1))}.`;
    case "OpenBookings":
      return `Host ${a(0)} still has ${a(1)} open booking(s); the bond can leave only when all are finished.`;
    case "BondTooSmall":
      return `The host's bond holds only ${a(1)} wei; ${a(0)} wei was asked for.`;
    case "BadLength":
      return Number(big(a(1))) === 0
        ? "A required text field is empty."
        : `A text field is too long or empty: ${a(0)} bytes, at most ${a(1)} allowed.`;
    case "BadHardware":
      return "The hardware does not add up: a GPU model needs a GPU count and VRAM (and no model means 0 GPUs and 0 VRAM); CPU cores and RAM must not be 0.";
    case "ZeroPrice":
      return "The price per hour must be more than zero.";
    case "AssetNotAllowed":
      return `The token ${a(0)} is not allowed as a payment asset on this market.`;
    case "UsdPricingUnavailable":
      return "USD pricing is not available on this market (no price feed), or was combined with a token.";
    case "BadDurationBounds":
      return `The duration bounds are wrong: minimum ${a(0)} and maximum ${a(1)} slots (the minimum must be at least 1 and not above the maximum, the maximum at most the market's cap).`;
    case "LeadTimeTooLong":
      return `The lead time is too long: ${a(0)} s, at most ${a(1)} s.`;
    case "ListingInactive":
      return `Listing ${a(0)} is deactivated and takes no bookings.`;
    case "EmptyWindow":
      return "The window's end must be after its start.";
    case "MisalignedWindow":
      return `The window must start and end on ${Number(big(a(2))) / 60}-minute slot boundaries.`;
    case "StartTooSoon":
      return `The window starts too soon: the earliest possible start is ${time(ctx, a(1))}. Pick a later start.`;
    case "StartTooFar":
      return `The window starts too far ahead: the latest possible start is ${time(ctx, a(1))}.`;
    case "DurationOutOfRange":
      return `The listing takes bookings of ${a(1)} to ${a(2)} slots; this one is ${a(0)}.`;
    case "SlotTaken":
      return `That time is already booked (between ${time(ctx, a(1))} and ${time(ctx, a(2))}). Pick another window.`;
    case "WrongPayment":
      return `The payment did not match the price: ${a(0)} sent, ${a(1)} needed (in the smallest unit). The price may have changed: get a new quote and try again.`;
    case "TokenTransferMismatch":
      return `The token moved ${a(0)} instead of ${a(1)}: tokens that take a fee on transfer are not supported.`;
    case "BadSessionKey":
      return "The session public key is empty. Derive or paste a session key first.";
    case "SelfBooking":
      return "You cannot book your own host.";
    case "BadFeedAnswer":
      return "The USD price feed gave an invalid price; USD-priced listings cannot be booked right now.";
    case "StalePrice":
      return `The USD price feed is out of date (last update ${time(ctx, a(0))}); USD-priced listings cannot be booked until it is updated.`;
    case "WrongStatus":
      return `Booking ${a(0)} is ${statusWord(a(1))}, which does not allow this action (it may have just changed: reload).`;
    case "TooLate":
      return `Too late for this on booking ${a(0)}: the deadline was ${time(ctx, a(1))}.`;
    case "TooEarly":
      return `Too early for this on booking ${a(0)}: possible from ${time(ctx, a(1))}.`;
    case "BadReason":
      return `Decline reason ${a(0)} is not a defined code.`;
    case "UsageTooHigh":
      return `More seconds (${a(0)}) than the session could have used (${a(1)}).`;
    case "FeeTooHigh":
      return `The fee ${a(0)} bps is above the hard cap of ${a(1)} bps.`;
    case "NothingToWithdraw":
      return "There is nothing to withdraw in this currency.";
    case "NativeTransferFailed":
      return "Sending the currency to your address failed (a contract account that refuses payments?).";
    case "UnexpectedValue":
      return "This listing is paid in a token: no native currency may be sent with the booking.";
    case "BadParams":
      return "A market parameter is out of range.";
    case "RenounceDisabled":
      return "The market's ownership cannot be renounced.";
    case "OwnableInvalidOwner":
      return "That address cannot own the market.";
    case "EnforcedPause":
      return "The market is paused: no new listings or bookings for now. Refunds, settlement and withdrawals still work.";
    case "PauseUnchanged":
      return "The market is already in that pause state.";
    case "OwnableUnauthorizedAccount":
      return "Only the market's owner can do this.";
    case "ReentrancyGuardReentrantCall":
      return "The call re-entered the market, which is refused.";
    case "SafeCastOverflowedUintDowncast":
      return "A number is too large for the contract.";
    case "SafeERC20FailedOperation":
      return `The token ${a(0)} refused the transfer.`;
    case "ERC20InsufficientAllowance":
      return `The market may take only ${a(1)} of your tokens but needs ${a(2)}: approve the amount first.`;
    case "ERC20InsufficientBalance":
      return `Your token balance (${a(1)}) is less than the price (${a(2)}).`;
    default:
      return `The contract refused the transaction (${name}).`;
  }
}

function isRejection(e: unknown): boolean {
  if (e instanceof UserRejectedRequestError) return true;
  const code = (e as { code?: unknown })?.code;
  return code === 4001 || code === "ACTION_REJECTED";
}

function isSdkError(e: unknown, name: "EnvelopeError" | "SessionKeyError"): e is Error & { code: string } {
  return e instanceof Error && e.name === name && typeof (e as { code?: unknown }).code === "string";
}

/** Any error the dApp meets, in words a person understands. */
export function errorToWords(error: unknown, ctx: ErrorContext = {}): string {
  // The sdk's errors are recognised by name and code, so that pages that only read (the marketplace) do not
  // load the sdk's cryptography and ABIs just to word an error.
  if (isSdkError(error, "EnvelopeError")) {
    if (error.code === "decrypt-failed") {
      return "This endpoint does not open with this session key: it was encrypted to another key (another wallet, or another pasted key) or for another booking.";
    }
    return `The encrypted endpoint is unusable (${error.code}): ${error.message}`;
  }
  if (isSdkError(error, "SessionKeyError")) {
    if (error.code === "bad-signature")
      return "The wallet's signature cannot derive a session key (a smart-contract wallet?). Paste or generate a session key instead.";
    if (error.code === "bad-key")
      return "That is not a session key: paste the 0x-prefixed 64-hex-digit private key you saved.";
    return `Cannot make the session key: ${error.message}`;
  }
  if (error instanceof BaseError) {
    if (error.walk(isRejection)) return "You rejected the request in your wallet. Nothing was sent.";
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      if (revert.data?.errorName) return revertToWords(revert.data.errorName, revert.data.args ?? [], ctx);
      if (revert.reason) return `The contract refused the transaction: ${revert.reason}.`;
      if (revert.signature)
        return `The contract refused the transaction with an unknown error (${revert.signature}).`;
      return "The contract refused the transaction without saying why.";
    }
    if (error.walk((e) => e instanceof InsufficientFundsError)) {
      return "Your account does not have enough ETH to pay for this and its gas.";
    }
    if (error.walk((e) => e instanceof ContractFunctionZeroDataError)) {
      return "No market contract answers at the configured address on this chain: the dApp's deployment record does not match the chain.";
    }
    if (
      error.walk(
        (e) =>
          e instanceof ChainMismatchError || e instanceof ChainNotFoundError || e instanceof SwitchChainError,
      )
    ) {
      return `Your wallet is on another network. Switch it to chain ${ctx.chainId ?? "the market's chain"} and try again.`;
    }
    if (error.walk((e) => e instanceof NonceTooLowError)) {
      return "Your wallet's transaction count is out of step with the chain (a reset local chain?). Reset the account's activity in your wallet and try again.";
    }
    if (error.walk((e) => e instanceof IntrinsicGasTooLowError))
      return "The gas limit was too low for this transaction.";
    if (
      error.walk(
        (e) =>
          e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof ChainDisconnectedError,
      )
    ) {
      return `Cannot reach the chain's RPC node${ctx.rpcUrl ? ` at ${ctx.rpcUrl}` : ""}. Is it running, and reachable from this browser?`;
    }
    if (/insufficient funds/i.test(error.message))
      return "Your account does not have enough ETH to pay for this and its gas.";
    return error.shortMessage || error.message;
  }
  if (isRejection(error)) return "You rejected the request in your wallet. Nothing was sent.";
  const name = (error as { name?: unknown })?.name;
  if (name === "ConnectorNotConnectedError" || name === "ConnectorAccountNotFoundError") {
    return "Connect a wallet first.";
  }
  if (name === "ConnectorChainMismatchError" || name === "ChainNotConfiguredError") {
    return `Your wallet is on another network. Switch it to chain ${ctx.chainId ?? "the market's chain"} and try again.`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
