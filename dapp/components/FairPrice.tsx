"use client";

import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { reliability } from "../lib/listings.ts";
import {
  CPU_ONLY_WORDS,
  fairnessWords,
  fetchNativeUsd,
  fetchPriceEstimate,
  formatUsdFigure,
  listingPriceRequest,
  otherCurrencyLine,
  rangeWords,
} from "../lib/pricing.ts";
import type { SgListing } from "../lib/types.ts";

/**
 * Next to a listing's price: its value in the other currency at the market's feed, and whether the price is
 * within the usual range for the hardware (the server's estimate, the sdk's `fairness`). Advice only.
 */
export function FairPrice({ listing: l, slotLength }: { listing: SgListing; slotLength: number }) {
  const cpuOnly = l.gpuCount === 0 || l.gpuModel.trim() === "";
  const req = listingPriceRequest(l, slotLength, reliability(l.host).score);
  const q = useQuery({
    queryKey: ["price", cpuOnly ? "rate" : req.params],
    queryFn: async ({ signal }) => {
      if (!cpuOnly) return fetchPriceEstimate(req.params, { signal });
      // No estimate to ask for: only the rate, for the price's value in the other currency.
      const nativeUsd = await fetchNativeUsd({ signal });
      return { ok: false as const, problem: { error: CPU_ONLY_WORDS, code: "cpu-only" as const, nativeUsd } };
    },
    staleTime: 60_000,
    retry: false,
  });
  const r = q.data;
  const nativeUsd = r ? (r.ok ? r.answer.nativeUsd : r.problem.nativeUsd) : null;
  const other = otherCurrencyLine(l, nativeUsd);
  let body: ReactNode;
  if (cpuOnly) body = <p className="small muted">{CPU_ONLY_WORDS}</p>;
  else if (q.isPending) body = <p className="small muted">Estimating the usual price for this hardware…</p>;
  else if (q.error || !r)
    body = (
      <p className="small muted">
        The price estimate is unavailable right now ({(q.error as Error | null)?.message ?? "no answer"}).
      </p>
    );
  else if (!r.ok) body = <p className="small muted">{r.problem.error}</p>;
  else {
    const a = r.answer;
    body = (
      <>
        {a.fairness ? (
          <p className={a.fairness.verdict === "above" ? "warn" : "ok"}>
            <strong>{fairnessWords(a.fairness.verdict, a)}</strong>
          </p>
        ) : a.fairnessNote || req.askedNote ? (
          <p className="small">{a.fairnessNote ?? req.askedNote}</p>
        ) : null}
        <details>
          <summary>
            Why: estimate {formatUsdFigure(a.usdPerHour)} per hour for this hardware (usual range{" "}
            {rangeWords(a)})
          </summary>
          <ul className="small">
            {a.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
          <p className="small muted">
            {a.history} Advice only: it does not change the price or stop a booking.
          </p>
        </details>
      </>
    );
  }
  return (
    <div aria-live="polite">
      {other ? <p className="small">{other}</p> : null}
      {body}
    </div>
  );
}
