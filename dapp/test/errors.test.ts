import { EnvelopeError, marketAbi, SessionKeyError } from "@computehive/sdk";
import {
  type Abi,
  BaseError,
  ChainMismatchError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  encodeErrorResult,
  HttpRequestError,
  InsufficientFundsError,
  TransactionExecutionError,
  UserRejectedRequestError,
} from "viem";
import { anvil } from "viem/chains";
import { describe, expect, test } from "vitest";
import { marketWithErrorsAbi } from "../lib/abi.ts";
import { errorToWords, revertToWords } from "../lib/errors.ts";

/** A revert as viem reports it from simulateContract/writeContract: execution error → reverted error with data. */
function revert(
  errorName: string,
  args: readonly unknown[],
  abi: Abi = marketWithErrorsAbi as unknown as Abi,
) {
  const data = encodeErrorResult({ abi, errorName, args } as Parameters<typeof encodeErrorResult>[0]);
  const cause = new ContractFunctionRevertedError({ abi, data, functionName: "book" });
  return new ContractFunctionExecutionError(cause, { abi, functionName: "book", args: [] });
}

const ctx = { formatTime: (t: number) => `T${t}`, chainId: 31337, rpcUrl: "http://127.0.0.1:8545" };

describe("contract reverts, decoded by the custom error's name", () => {
  test("booking errors name the times and what to do", () => {
    expect(errorToWords(revert("SlotTaken", [1n, 1800n, 3600n]), ctx)).toBe(
      "That time is already booked (between T1800 and T3600). Pick another window.",
    );
    expect(errorToWords(revert("StartTooSoon", [900n, 4500n]), ctx)).toMatch(
      /earliest possible start is T4500/,
    );
    expect(errorToWords(revert("DurationOutOfRange", [10n, 1n, 8n]), ctx)).toBe(
      "The listing takes bookings of 1 to 8 slots; this one is 10.",
    );
    expect(errorToWords(revert("WrongPayment", [1n, 2n]), ctx)).toMatch(/get a new quote/);
    expect(errorToWords(revert("ListingInactive", [3n]), ctx)).toBe(
      "Listing 3 is deactivated and takes no bookings.",
    );
    expect(errorToWords(revert("MisalignedWindow", [1n, 2n, 900n]), ctx)).toMatch(
      /15-minute slot boundaries/,
    );
    expect(errorToWords(revert("EnforcedPause", []), ctx)).toMatch(/paused/);
    expect(errorToWords(revert("SelfBooking", []), ctx)).toBe("You cannot book your own host.");
  });

  test("status errors name the status in words", () => {
    expect(errorToWords(revert("WrongStatus", [7n, 6]), ctx)).toBe(
      "Booking 7 is Cancelled, which does not allow this action (it may have just changed: reload).",
    );
    expect(errorToWords(revert("TooLate", [7n, 100n]), ctx)).toBe(
      "Too late for this on booking 7: the deadline was T100.",
    );
    expect(
      errorToWords(revert("NotBorrower", [7n, "0x0000000000000000000000000000000000000001"]), ctx),
    ).toMatch(/Only the borrower of booking 7/);
  });

  test("a token's own errors inside book decode too (ERC-20 allowance and balance)", () => {
    const spender = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    expect(errorToWords(revert("ERC20InsufficientAllowance", [spender, 0n, 5n]), ctx)).toMatch(
      /approve the amount first/,
    );
    expect(errorToWords(revert("ERC20InsufficientBalance", [spender, 1n, 5n]), ctx)).toMatch(
      /less than the price/,
    );
  });

  test("every custom error of the market's ABI has its own words", () => {
    const names = marketAbi.filter((i) => i.type === "error").map((i) => i.name);
    expect(names.length).toBeGreaterThan(45);
    for (const name of names) {
      expect(revertToWords(name, [1n, 2n, 3n]), name).not.toMatch(/The contract refused the transaction \(/);
    }
    expect(revertToWords("SomethingNew", [])).toBe("The contract refused the transaction (SomethingNew).");
  });

  test("a revert without data, or with an unknown selector, still says something true", () => {
    const abi = marketAbi as unknown as Abi;
    const unknownSel = new ContractFunctionExecutionError(
      new ContractFunctionRevertedError({ abi, data: "0xdeadbeef", functionName: "book" }),
      { abi, functionName: "book", args: [] },
    );
    expect(errorToWords(unknownSel)).toMatch(/unknown error \(0xdeadbeef\)/);
    const noData = new ContractFunctionExecutionError(
      new ContractFunctionRevertedError({ abi, functionName: "book", message: "boom" }),
      { abi, functionName: "book", args: [] },
    );
    expect(errorToWords(noData)).toMatch(/refused the transaction/);
  });
});

describe("wallet and RPC failures", () => {
  test("a rejected signature or transaction", () => {
    const e = new TransactionExecutionError(new UserRejectedRequestError(new Error("User denied")), {
      chain: anvil,
    } as never);
    expect(errorToWords(e)).toBe("You rejected the request in your wallet. Nothing was sent.");
    expect(errorToWords(Object.assign(new Error("user rejected"), { code: 4001 }))).toMatch(/rejected/);
  });

  test("insufficient funds, from viem or from the node's message", () => {
    expect(errorToWords(new BaseError("x", { cause: new InsufficientFundsError() }))).toMatch(/enough ETH/);
    expect(errorToWords(new BaseError("insufficient funds for gas * price + value"))).toMatch(/enough ETH/);
  });

  test("the wrong network", () => {
    const e = new ChainMismatchError({ chain: anvil, currentChainId: 1 });
    expect(errorToWords(e, ctx)).toBe(
      "Your wallet is on another network. Switch it to chain 31337 and try again.",
    );
    const wagmiLike = Object.assign(new Error("Chain mismatch"), { name: "ConnectorChainMismatchError" });
    expect(errorToWords(wagmiLike, ctx)).toMatch(/Switch it to chain 31337/);
    expect(errorToWords(Object.assign(new Error("x"), { name: "ConnectorNotConnectedError" }))).toBe(
      "Connect a wallet first.",
    );
  });

  test("an unreachable RPC node", () => {
    const e = new HttpRequestError({ url: "http://127.0.0.1:8545", status: 502 });
    expect(errorToWords(new BaseError("x", { cause: e }), ctx)).toMatch(
      /Cannot reach the chain's RPC node at http/,
    );
  });
});

test("the sdk's envelope and session-key errors", () => {
  expect(errorToWords(new EnvelopeError("decrypt-failed", "x"))).toMatch(
    /does not open with this session key/,
  );
  expect(errorToWords(new SessionKeyError("bad-key", "x"))).toMatch(/not a session key/);
  expect(errorToWords(new SessionKeyError("bad-signature", "x"))).toMatch(/smart-contract wallet/);
  expect(errorToWords(new Error("plain"))).toBe("plain");
  expect(errorToWords("text")).toBe("text");
});
