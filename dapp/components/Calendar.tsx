"use client";

import { daySlots, slotOf } from "../lib/calendar.ts";
import { addDays, dayBounds, formatDay, localDate, localTime } from "../lib/time.ts";
import { useCalendarWords } from "./calendar-data.ts";
import { useStickyState } from "./hooks.ts";

const DAYS = 7;

/** A week of the listing's on-chain calendar in the user's time zone: free, booked, or too soon. */
export function Calendar(props: {
  listingId: string;
  slotLength: number;
  leadTime: number;
  now: number;
  timeZone: string;
}) {
  const { listingId, slotLength, leadTime, now, timeZone } = props;
  const [week, setWeek] = useStickyState<number>(`calendar-week-${listingId}`, 0);
  const today = localDate(now, timeZone);
  const first = addDays(today, week * DAYS);
  const days = Array.from({ length: DAYS }, (_, i) => addDays(first, i));
  const [from] = dayBounds(first, timeZone);
  const [, to] = dayBounds(days[DAYS - 1] ?? first, timeZone);
  const words = useCalendarWords(listingId, slotOf(from, slotLength), Math.ceil(to / slotLength));
  const earliest = now + leadTime;

  return (
    <section aria-labelledby="calendar-heading">
      <h2 id="calendar-heading">Availability</h2>
      <p className="muted small">
        From the listing's on-chain calendar, in your time zone ({timeZone}); one cell per{" "}
        {slotLength % 60 === 0 ? `${slotLength / 60}-minute` : `${slotLength}-second`} slot.
      </p>
      <div className="row">
        <button type="button" className="secondary" disabled={week === 0} onClick={() => setWeek(week - 1)}>
          Previous week
        </button>
        <button type="button" className="secondary" disabled={week >= 51} onClick={() => setWeek(week + 1)}>
          Next week
        </button>
      </div>
      <p className="legend" aria-hidden="true">
        <span className="free">free</span>
        <span className="taken">booked</span>
        <span className="unavailable">past or too soon</span>
      </p>
      {words.error ? <p className="error">The calendar could not be read from the chain.</p> : null}
      {!words.data ? (
        <p className="muted" role="status">
          Reading the calendar…
        </p>
      ) : (
        <div className="calendar">
          {days.map((d) => {
            const [a, b] = dayBounds(d, timeZone);
            const s = daySlots(words.data, a, b, slotLength, earliest);
            const free = s.states.filter((x) => x === "free").length;
            const summary =
              s.taken.length === 0
                ? free === 0
                  ? "no bookable time left"
                  : "nothing booked"
                : `booked ${s.taken.map(([x, y]) => `${localTime(x, timeZone)}–${localTime(y, timeZone)}`).join(", ")}`;
            return (
              <div className="day" key={d}>
                <div>
                  <strong>{formatDay(d)}</strong>
                  <div className="small muted">{summary}</div>
                </div>
                <div className="bar" aria-hidden="true">
                  {s.states.map((st, i) => (
                    <span key={s.starts[i]} className={`slot ${st}`} />
                  ))}
                </div>
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}
