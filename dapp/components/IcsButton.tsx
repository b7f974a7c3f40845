"use client";

import { useState } from "react";
import {
  bookingIcsFile,
  type CalendarRole,
  type IcsLiveState,
  type IcsSourceBooking,
  icsBlob,
  icsButtonLabel,
  preloadIcs,
} from "../lib/ics.ts";
import { useRuntime } from "./Providers.tsx";

/** Offers `blob` as a download named `name` (an object URL on a link with `download`, clicked, then revoked). */
export function saveBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * "Add booking 7 to calendar (.ics)": makes the booking's iCalendar file in the browser and downloads it. For
 * the borrower (My bookings) and the lender (the dashboard); `live` is the chain's state when the page reads it.
 * The event holds words, times, ids and addresses only: never the endpoint, a key or a certificate.
 */
export function IcsButton({
  booking,
  party,
  live,
  className = "secondary",
}: {
  booking: IcsSourceBooking;
  /** Whose calendar: the borrower's (My bookings) or the lender's (the dashboard). */
  party: CalendarRole;
  live?: IcsLiveState | null;
  className?: string;
}) {
  const { config } = useRuntime();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  if (!config) return null;
  const save = async () => {
    setBusy(true);
    setSaved("");
    setProblem(null);
    try {
      const file = await bookingIcsFile(booking, { chainId: config.chainId, market: config.market }, party, {
        live,
        origin: window.location.origin,
      });
      saveBlob(file.name, icsBlob(file));
      setSaved(`Saved ${file.name}: open it to add the event to your calendar.`);
    } catch (e) {
      setProblem(`The calendar file could not be made: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="row">
      <button
        type="button"
        className={className}
        disabled={busy}
        onPointerEnter={preloadIcs}
        onFocus={preloadIcs}
        onClick={() => void save()}
      >
        {icsButtonLabel(booking, live)}
      </button>
      <span role="status" className="small muted hash">
        {saved}
      </span>
      {problem ? (
        <span role="alert" className="small error">
          {problem}
        </span>
      ) : null}
    </div>
  );
}
