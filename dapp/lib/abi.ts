import { marketAbi, testTokenAbi } from "@computehive/sdk";

/** The ERC-20 errors of OpenZeppelin 5 (IERC6093), which a token's `transferFrom` inside `book` may revert with. */
export const erc20ErrorsAbi = testTokenAbi.filter(
  (item) => item.type === "error" && item.name.startsWith("ERC20"),
) as unknown as readonly ERC20ErrorItem[];

interface ERC20ErrorItem {
  readonly type: "error";
  readonly name: string;
  readonly inputs: readonly {
    readonly name: string;
    readonly type: string;
    readonly internalType?: string;
  }[];
}

/** The market's ABI plus the ERC-20 errors, so that every revert of a market call decodes by name. */
export const marketWithErrorsAbi = [...marketAbi, ...erc20ErrorsAbi] as const;
