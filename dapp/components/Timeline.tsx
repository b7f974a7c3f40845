"use client";

import { type AssetInfo, formatAmount, NATIVE_ASSET } from "../lib/format.ts";
import { formatLocal } from "../lib/time.ts";
import { bookingTimeline } from "../lib/timeline.ts";
import type { BookingStatusName, SgEvent } from "../lib/types.ts";
import { assetOf } from "./hooks.ts";

/** Every state of a booking with the transaction that reached it, then every audit-log entry. */
export function BookingTimeline(props: {
  status: BookingStatusName;
  events: SgEvent[];
  assets: Map<string, AssetInfo>;
  bookingAsset: string;
  timeZone: string;
}) {
  const { status, events, assets, bookingAsset, timeZone } = props;
  const amount = (raw: bigint, a: string | null) =>
    formatAmount(raw, a === null ? NATIVE_ASSET : assetOf(assets, a ?? bookingAsset));
  const t = bookingTimeline(status, events, amount);
  return (
    <div>
      <ol className="states" aria-label="States">
        {t.states.map((s) => (
          <li
            key={s.status}
            className={`${s.reached ? "reached" : ""} ${s.current ? "current" : ""}`}
            aria-current={s.current ? "step" : undefined}
          >
            {s.status}
            {s.reached ? "" : " (not yet)"}
            {s.at ? <span className="visually-hidden"> at {formatLocal(s.at, timeZone, true)}</span> : null}
          </li>
        ))}
      </ol>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Events of this booking</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Transaction</th>
            </tr>
          </thead>
          <tbody>
            {t.entries.map((e) => (
              <tr key={`${e.txHash}-${e.logIndex}`}>
                <td>{formatLocal(e.at, timeZone, true)}</td>
                <td>{e.text}</td>
                <td>
                  <code className="hash">{e.txHash}</code>
                  <span className="small muted"> (block {e.blockNumber})</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
