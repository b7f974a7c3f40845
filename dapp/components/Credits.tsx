"use client";

import { marketAbi } from "@computehive/sdk";
import { type AssetInfo, formatAmount } from "../lib/format.ts";
import type { SgAccountAsset } from "../lib/types.ts";
import { TxStatus, useMarket, useTx } from "./chain.tsx";
import { assetOf } from "./hooks.ts";

/** What the market has credited to the account (refunds, payouts, fees), per asset, with a withdraw button each. */
export function Credits({
  rows,
  assets,
  heading = "Credits",
  onWithdrawn,
}: {
  rows: SgAccountAsset[];
  assets: Map<string, AssetInfo>;
  heading?: string;
  onWithdrawn?: () => void;
}) {
  const tx = useTx();
  const { market } = useMarket();
  const withdrawable = rows.filter((r) => BigInt(r.balance) > 0n);
  return (
    <section className="panel" aria-label={heading}>
      <h2>{heading}</h2>
      {withdrawable.length === 0 ? (
        <p className="muted">
          Nothing to withdraw. Refunds and payouts are credited here; then you withdraw them.
        </p>
      ) : (
        <ul>
          {withdrawable.map((r) => {
            const a = assetOf(assets, r.asset.id);
            return (
              <li key={r.asset.id} className="row">
                {formatAmount(BigInt(r.balance), a)}
                <button
                  type="button"
                  disabled={tx.busy}
                  onClick={async () => {
                    const receipt = await tx.send(`Withdrawing ${a.symbol}`, {
                      address: market,
                      abi: marketAbi,
                      functionName: "withdraw",
                      args: [r.asset.id as `0x${string}`],
                    });
                    if (receipt) onWithdrawn?.();
                  }}
                >
                  Withdraw {a.symbol}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <TxStatus state={tx.state} />
    </section>
  );
}
