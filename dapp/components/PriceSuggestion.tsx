"use client";

import { useState } from "react";
import type { ListingFormInput } from "../lib/listing-form.ts";
import {
  fetchPriceEstimate,
  formatUsdFigure,
  formPriceRequest,
  type PriceAnswer,
  rangeWords,
  rateWords,
  suggestedPriceInput,
  usdToNative,
} from "../lib/pricing.ts";

type Result = { params: string; answer: PriceAnswer } | { params: string; error: string };

/**
 * "Suggest a price" in the create-listing form: the server's estimate for the hardware typed in (figure, usual
 * range, reasons), and a button that puts it in the price field, converted into ETH at the market's feed when
 * the listing is priced in ETH. A suggestion only: the lender sets the price.
 */
export function PriceSuggestion({
  form: f,
  reliability,
  onUse,
}: {
  form: Pick<
    ListingFormInput,
    "gpuModel" | "gpuCount" | "region" | "confidential" | "minHours" | "leadMinutes" | "payment"
  >;
  /** The chosen host's reliability (0..1), or null for a new host. */
  reliability: number | null;
  /** Puts a price (in the form's currency) in the price field. */
  onUse: (price: string) => void;
}) {
  const [result, setResult] = useState<Result | null>(null);
  const [busy, setBusy] = useState(false);
  const [used, setUsed] = useState<string | null>(null);
  const req = formPriceRequest(f, reliability);

  async function suggest() {
    setUsed(null);
    if (!req.ok) return setResult({ params: "", error: req.error });
    setBusy(true);
    try {
      const r = await fetchPriceEstimate(req.params);
      setResult(
        r.ok ? { params: req.params, answer: r.answer } : { params: req.params, error: r.problem.error },
      );
    } catch (e) {
      setResult({ params: req.params, error: `No suggestion right now: ${(e as Error).message}.` });
    } finally {
      setBusy(false);
    }
  }

  const a = result && "answer" in result ? result.answer : null;
  const stale = result !== null && result.params !== "" && (!req.ok || req.params !== result.params);
  const use = a ? suggestedPriceInput(a.usdPerHour, f.payment, a.nativeUsd) : null;
  return (
    <div className="panel">
      <div className="row">
        <button type="button" className="secondary" onClick={() => void suggest()} disabled={busy}>
          Suggest a price
        </button>
        <span className="small muted">for the hardware above, from this market's bookings</span>
      </div>
      <div aria-live="polite">
        {busy ? <p className="small muted">Estimating…</p> : null}
        {!busy && result && "error" in result ? <p className="field-error">{result.error}</p> : null}
        {!busy && a ? (
          <>
            <p>
              <strong>Suggested: {formatUsdFigure(a.usdPerHour)} per hour</strong> for the whole machine
              (usual range {rangeWords(a)})
              {a.nativeUsd !== null
                ? `; ≈ ${usdToNative(a.usdPerHour, a.nativeUsd)} ETH at the feed's rate (${rateWords(a.nativeUsd)})`
                : ""}
              .
            </p>
            {stale ? (
              <p className="warn small">The hardware changed since this suggestion: suggest again.</p>
            ) : null}
            <details>
              <summary>Why this price</summary>
              <ul className="small">
                {a.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
              <p className="small muted">{a.history}</p>
            </details>
            {use?.ok ? (
              <button
                type="button"
                disabled={stale}
                onClick={() => {
                  onUse(use.value);
                  setUsed(use.words);
                }}
              >
                Use {use.words}
              </button>
            ) : (
              <p className="small muted">{use?.why}</p>
            )}
            {used ? <p className="small ok">The price field now says {used}.</p> : null}
            <p className="small muted">A suggestion only: you choose the price.</p>
          </>
        ) : null}
      </div>
    </div>
  );
}
