"use client";

import type {
  ScheduleAlternative,
  ScheduleConsidered,
  ScheduleOption,
  ScheduleRequest,
} from "@computehive/sdk/ai";
import Link from "next/link";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { formatDuration, NO_GPU_TEXT } from "../lib/format.ts";
// Types only: the parser (chrono-node), zod and the scheduler run on the server (app/api/schedule/route.ts).
import type { ScheduleAnswer, ScheduleProblem } from "../lib/schedule.ts";
import {
  browserTimeZone,
  formatLocal,
  isValidTimeZone,
  localDate,
  localTime,
  localToUnix,
} from "../lib/time.ts";
import { useStickyState, useTimeZone } from "./hooks.ts";

// "Find a slot" (issue 7): a request in words or as fields goes to POST /api/schedule; the answer shows first
// what was understood, then the ranked options (each a link to review and book it on the listing's page), or,
// when nothing fits, what to change. Nothing is booked here.

const EXAMPLES = [
  "4 hours on an A100 tomorrow afternoon under $2/h",
  "2 H100s for 8 hours this weekend in Europe",
  "an RTX 4090 for 3 hours tonight, $20 total",
];

interface Fields {
  gpu: string;
  minVram: string;
  count: string;
  hours: string;
  earliest: string;
  latest: string;
  budget: string;
  region: string;
  /** The window still holds the defaults (from the next hour, for a week), not the user's choice. */
  auto: boolean;
}

const EMPTY_FIELDS: Fields = {
  gpu: "",
  minVram: "",
  count: "1",
  hours: "",
  earliest: "",
  latest: "",
  budget: "",
  region: "",
  auto: true,
};

type FieldName = Exclude<keyof Fields, "auto">;

const NUMBER = /^\d+(\.\d+)?$/;

/** "YYYY-MM-DDTHH:MM" (a datetime-local input) of an instant in `timeZone`. */
function localInput(unix: number, timeZone: string): string {
  return `${localDate(unix, timeZone)}T${localTime(unix, timeZone)}`;
}

function parseLocal(value: string, timeZone: string): number | null {
  const [date = "", time = ""] = value.split("T");
  try {
    return localToUnix(date, time.slice(0, 5), timeZone);
  } catch {
    return null;
  }
}

/** The fields as the API's request, or the problem with each field, in words. */
function fieldsToBody(
  f: Fields,
  timeZone: string,
): { ok: true; body: Record<string, unknown> } | { ok: false; errors: Partial<Record<FieldName, string>> } {
  const errors: Partial<Record<FieldName, string>> = {};
  const body: Record<string, unknown> = { timeZone };
  const number = (k: FieldName, what: string, required: boolean) => {
    const v = f[k].trim();
    if (v === "") {
      if (required) errors[k] = `Say ${what}.`;
      return;
    }
    if (!NUMBER.test(v))
      errors[k] = `${what[0]?.toUpperCase()}${what.slice(1)} must be a number, e.g. 4 or 1.5.`;
    else body[k === "minVram" ? "minVramGiB" : k === "budget" ? "budgetUsdPerHour" : k] = Number(v);
  };
  if (f.gpu.trim() !== "") body.gpu = f.gpu.trim();
  number("minVram", "the memory per GPU", false);
  number("count", "how many GPUs", true);
  if (body.count !== undefined && (!Number.isInteger(body.count) || (body.count as number) < 0))
    errors.count = "The number of GPUs must be a whole number: 0 for no GPU (CPU-only machines), or more.";
  number("hours", "how many hours", true);
  if (body.hours === 0) errors.hours = "The duration must be more than 0 hours.";
  number("budget", "the budget", false);
  if (f.region.trim() !== "") body.region = f.region.trim();
  const start = parseLocal(f.earliest, timeZone);
  const end = parseLocal(f.latest, timeZone);
  if (start === null) errors.earliest = "Pick the earliest start (date and time).";
  if (end === null) errors.latest = "Pick the latest end (date and time).";
  if (start !== null && end !== null && end <= start)
    errors.latest = "The latest end must be after the earliest start.";
  body.earliestStart = start;
  body.latestEnd = end;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, body };
}

interface Shown {
  answer: ScheduleAnswer;
  /** What was asked: the user's words, quoted, or "the fields you filled in". */
  asked: string;
}

export function FindSlot() {
  const [tz, setTz] = useTimeZone();
  const [text, setText] = useStickyState<string>("schedule-text", "");
  const [fields, setFields] = useStickyState<Fields>("schedule-fields", EMPTY_FIELDS);
  const [shown, setShown] = useStickyState<Shown | null>("schedule-answer", null);
  const [textError, setTextError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef<AbortController | null>(null);
  const resultsHeading = useRef<HTMLHeadingElement>(null);
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [tz];
  const [browserZone, setBrowserZone] = useState("");

  useEffect(() => setBrowserZone(browserTimeZone()), []);
  // The window's defaults: from the next whole hour, for a week, in the chosen zone (until the user picks).
  useEffect(() => {
    if (!fields.auto) return;
    const from = Math.ceil(Date.now() / 1000 / 3600) * 3600;
    const earliest = localInput(from, tz);
    const latest = localInput(from + 7 * 86_400, tz);
    if (fields.earliest !== earliest || fields.latest !== latest) setFields({ ...fields, earliest, latest });
  }, [tz, fields, setFields]);

  async function search(body: Record<string, unknown>, asked: string) {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    setBusy(true);
    setProblem(null);
    try {
      const res = await fetch("/api/schedule", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
        cache: "no-store",
      });
      let json: unknown;
      try {
        json = await res.json();
      } catch {
        throw new Error(`the server answered HTTP ${res.status} without a result`);
      }
      if (!res.ok) {
        setShown(null);
        setProblem((json as ScheduleProblem).error || `The server answered HTTP ${res.status}.`);
      } else {
        setShown({ answer: json as ScheduleAnswer, asked });
      }
    } catch (e) {
      if ((e as Error).name === "AbortError") return;
      setShown(null);
      setProblem(`The search did not reach the server: ${(e as Error).message}.`);
    } finally {
      if (inFlight.current === controller) {
        inFlight.current = null;
        setBusy(false);
        resultsHeading.current?.focus();
      }
    }
  }

  function submitText(e: FormEvent) {
    e.preventDefault();
    const t = text.trim();
    if (t === "") {
      setTextError(`Describe what you need first, e.g. “${EXAMPLES[0]}”.`);
      return;
    }
    setTextError(null);
    void search({ text: t, timeZone: tz }, `“${t}”`);
  }

  function submitFields(e: FormEvent) {
    e.preventDefault();
    const r = fieldsToBody(fields, tz);
    if (!r.ok) {
      setFieldErrors(r.errors);
      return;
    }
    setFieldErrors({});
    void search(r.body, "the fields you filled in");
  }

  const set = (k: FieldName) => (e: { target: { value: string } }) =>
    setFields({ ...fields, [k]: e.target.value, auto: fields.auto && k !== "earliest" && k !== "latest" });
  const field = (k: FieldName, label: string, extra: Record<string, unknown> = {}) => (
    // The error is outside the label, so that the field's name stays its label.
    <div>
      <label>
        {label}
        <input
          value={fields[k]}
          onChange={set(k)}
          aria-invalid={Boolean(fieldErrors[k])}
          aria-describedby={`fs-${k}-err`}
          {...extra}
        />
      </label>
      <span id={`fs-${k}-err`} className="field-error">
        {fieldErrors[k]}
      </span>
    </div>
  );

  return (
    <>
      <h1>Find a slot</h1>
      <p className="lead">
        Say what you need in your own words. The market's listings and their on-chain calendars are searched
        for the earliest free windows, ranked by cost, start time and the host's record, each with its
        reasons. Nothing is booked here: you review and sign on the listing's page.
      </p>

      <label>
        Your time zone (requests are read and times shown in it)
        <select
          value={tz}
          onChange={(e) => {
            if (isValidTimeZone(e.target.value)) setTz(e.target.value);
          }}
          aria-describedby="fs-zone-note"
        >
          {(zones.includes(tz) ? zones : [tz, ...zones]).map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
        <span id="fs-zone-note" className="small muted">
          {browserZone && browserZone === tz ? "Your browser's time zone." : null}
          {browserZone && browserZone !== tz ? `Your browser's is ${browserZone}.` : null}
        </span>
      </label>

      <form className="panel" onSubmit={submitText} aria-labelledby="fs-text-heading" noValidate>
        <h2 id="fs-text-heading">Describe it</h2>
        <label>
          What do you need?
          <textarea
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={2}
            maxLength={500}
            placeholder={EXAMPLES[0]}
            aria-invalid={textError !== null}
            aria-describedby="fs-text-hint fs-text-err"
            style={{ width: "100%" }}
          />
        </label>
        <p id="fs-text-hint" className="small muted">
          GPU model or memory, how many, how long, when, the budget (per hour or in total) and the region,
          e.g. “{EXAMPLES[0]}”.
        </p>
        <p id="fs-text-err" className="field-error" role="alert">
          {textError}
        </p>
        <div className="row">
          <button type="submit" disabled={busy}>
            {busy ? "Searching…" : "Find a slot"}
          </button>
          <span className="small muted">Try:</span>
          {EXAMPLES.map((x) => (
            <button
              key={x}
              type="button"
              className="secondary small"
              onClick={() => {
                setText(x);
                setTextError(null);
              }}
            >
              {x}
            </button>
          ))}
        </div>
      </form>

      <details className="panel">
        <summary>Or fill in the fields (GPU, hours, window, budget, region)</summary>
        <form onSubmit={submitFields} aria-label="Find a slot by fields" noValidate>
          <div className="grid2">
            {field("gpu", "GPU model or family (empty: any)", { placeholder: "A100", spellCheck: false })}
            {field("minVram", "At least this much memory per GPU (GiB)", { inputMode: "decimal" })}
            {field("count", "Number of GPUs (0: no GPU needed)", { inputMode: "numeric" })}
            {field("hours", "Hours", { inputMode: "decimal", placeholder: "4" })}
            {field("earliest", `Earliest start (${tz})`, { type: "datetime-local" })}
            {field("latest", `Latest end (${tz})`, { type: "datetime-local" })}
            {field("budget", "Budget: US$ per hour for the whole machine", {
              inputMode: "decimal",
              placeholder: "2",
            })}
            {field("region", "Region (the start of its name, e.g. eu or us-east)", { spellCheck: false })}
          </div>
          <button type="submit" disabled={busy}>
            {busy ? "Searching…" : "Find a slot"}
          </button>
        </form>
      </details>

      <section aria-labelledby="fs-results-heading" aria-busy={busy}>
        <h2 id="fs-results-heading" ref={resultsHeading} tabIndex={-1}>
          Results
        </h2>
        <p role="status" aria-live="polite">
          {busy ? "Searching the listings and their calendars…" : statusWords(shown?.answer ?? null, problem)}
        </p>
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : null}
        {shown && !busy ? <Answer shown={shown} tz={tz} /> : null}
      </section>
    </>
  );
}

function statusWords(a: ScheduleAnswer | null, problem: string | null): string {
  if (problem) return "The search failed.";
  if (!a) return "Nothing searched yet.";
  if (!a.result) return "The request needs more before it can be searched: see below.";
  const n = a.result.options.length;
  if (n > 0) return `${n} option${n === 1 ? "" : "s"} found, best first.`;
  const k = a.result.alternatives.length;
  return k === 0
    ? "Nothing fits, and no single change to the request would help."
    : `Nothing fits as asked; ${k} change${k === 1 ? "" : "s"} to the request would.`;
}

/** How many listings passed each check, in words; the region and budget only when the request has them. */
function consideredWords(c: ScheduleConsidered, req: ScheduleRequest | null): string {
  const parts = [`${c.bookable} take bookings`, `${c.hardware} have the hardware`];
  if (req?.region !== undefined) parts.push(`${c.region} are in the region`);
  if (req?.budgetUsdPerHour !== undefined) parts.push(`${c.budget} are within the budget`);
  parts.push(`${c.terms} allow this length`);
  return `Of ${c.listings} listing${c.listings === 1 ? "" : "s"}, ${parts.join(", ")} and ${c.free} have a free window.`;
}

function Answer({ shown, tz }: { shown: Shown; tz: string }) {
  const a = shown.answer;
  const zone = a.timeZone;
  const r = a.result;
  return (
    <>
      <section className="panel" aria-labelledby="fs-understood-heading">
        <h3 id="fs-understood-heading">What was understood from {shown.asked}</h3>
        <ul>
          {a.understood.map((u) => (
            <li key={u}>{u}</li>
          ))}
        </ul>
        {a.missing.length > 0 ? (
          <div className="error">
            <p>To search, the request still needs:</p>
            <ul>
              {a.missing.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {a.warnings.length > 0 || (r?.notes.length ?? 0) > 0 ? (
          <ul className="warn">
            {[...a.warnings, ...(r?.notes ?? [])].map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        ) : null}
        {zone !== tz ? (
          <p className="small">
            Read and shown in {zone}; you have since chosen {tz}: search again to read the request there.
          </p>
        ) : null}
      </section>

      {r ? (
        <>
          <p className="small muted">
            {consideredWords(r.considered, a.request)} Times in {zone}. Costs are in US dollars (prices in ETH
            at the market's price feed); the listing's page quotes the exact amount from the contract before
            you sign.
          </p>
          {r.options.length > 0 ? (
            <>
              <h3>Options, best first</h3>
              <Options options={r.options} zone={zone} level="h4" />
            </>
          ) : (
            <Alternatives alternatives={r.alternatives} zone={zone} />
          )}
        </>
      ) : null}
    </>
  );
}

function Alternatives({ alternatives, zone }: { alternatives: ScheduleAlternative[]; zone: string }) {
  if (alternatives.length === 0) {
    return (
      <p>
        Nothing fits as asked, and no single change finds a machine either. Try a longer window, another GPU
        or a larger budget, or <Link href="/">browse the marketplace</Link>.
      </p>
    );
  }
  return (
    <>
      <h3>Nothing fits as asked. What would:</h3>
      <ol>
        {alternatives.map((x) => (
          <li key={x.relax}>
            <h4>{x.suggestion[0]?.toUpperCase() + x.suggestion.slice(1)}</h4>
            <Options options={x.options.slice(0, 3)} zone={zone} level="h5" />
          </li>
        ))}
      </ol>
    </>
  );
}

function Options({ options, zone, level }: { options: ScheduleOption[]; zone: string; level: "h4" | "h5" }) {
  const Heading = level;
  return (
    <ol className="cards">
      {options.map((o) => (
        <li key={o.listingId} className="card" data-testid="schedule-option" data-listing-id={o.listingId}>
          <Heading>
            #{o.rank} · Listing {o.listingId}:{" "}
            {o.gpuCount === 0 ? NO_GPU_TEXT : `${o.gpuCount} × ${o.gpuModel}`}
          </Heading>
          <p>
            <strong>{formatLocal(o.start, zone, true)}</strong> → {formatLocal(o.end, zone)} (
            {formatDuration(o.end - o.start)})
          </p>
          <p className="price">
            {o.costUsd === null || o.usdPerHour === null
              ? "No price in US dollars: see the listing"
              : `$${o.costUsd.toFixed(2)} · $${o.usdPerHour.toFixed(2)}/h`}
          </p>
          <p className="small muted">
            Region {o.region || "not given"} · host {o.hostId} ·{" "}
            {o.reliability === null ? "new host" : `${Math.round(o.reliability * 100)}% reliable`}
          </p>
          <ul className="small">
            {o.reasons.map((x) => (
              <li key={x}>{x}</li>
            ))}
          </ul>
          <p>
            <Link className="button" href={`/listings/${o.listingId}?start=${o.start}&end=${o.end}`}>
              Review and book listing {o.listingId}
            </Link>
          </p>
        </li>
      ))}
    </ol>
  );
}
