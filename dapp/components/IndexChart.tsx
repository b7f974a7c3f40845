import {
  barsOf,
  type ChartFrame,
  chartLabel,
  columnX,
  type DayFigure,
  formatUnitFigure,
  linePath,
  niceMax,
  type PriceUnit,
  pctWords,
  unitWords,
  valueY,
} from "../lib/pricing.ts";

// One GPU model's daily index as an SVG (rendered on the server: no script): utilization as bars (0–100 %), or
// the average price paid per GPU-hour as a line that breaks on days without bookings. The figures are in the
// accessible name and in each mark's tooltip; the page's table beside it holds every number.

const W = 360;
const H = 120;
const TOP = 16;
const BOTTOM = 18;
const COLOR = "#1d4ed8";
const GRID = "#d1d5db";

export function IndexChart({
  metric,
  model,
  days,
  unit,
}: {
  metric: "utilization" | "price";
  model: string;
  days: DayFigure[];
  unit: PriceUnit;
}) {
  const values = days.map((d) => (metric === "utilization" ? d.utilization : d.price));
  const known = values.filter((v): v is number => v !== null);
  const frame: ChartFrame = {
    width: W,
    height: H,
    max: metric === "utilization" ? 1 : niceMax(Math.max(0, ...known)),
    count: days.length,
  };
  const label = chartLabel(metric, model, days, unit);
  const top = metric === "utilization" ? "100%" : formatUnitFigure(frame.max, unit);
  const tip = (d: DayFigure) =>
    metric === "utilization"
      ? `${d.date}: ${pctWords(d.utilization)} booked, ${d.bookings} booking${d.bookings === 1 ? "" : "s"}`
      : `${d.date}: ${d.price === null ? "no price" : formatUnitFigure(d.price, unit)}, ${d.bookings} booking${d.bookings === 1 ? "" : "s"}`;
  return (
    <figure style={{ margin: "0.5rem 0" }}>
      <svg viewBox={`0 0 ${W} ${TOP + H + BOTTOM}`} role="img" aria-label={label} width="100%">
        <text x="0" y="11" fontSize="11" fill="currentColor">
          {top}
        </text>
        <g transform={`translate(0 ${TOP})`}>
          <line x1="0" y1="0" x2={W} y2="0" stroke={GRID} strokeWidth="1" strokeDasharray="3 3" />
          <line x1="0" y1={H / 2} x2={W} y2={H / 2} stroke={GRID} strokeWidth="1" strokeDasharray="3 3" />
          <line x1="0" y1={H} x2={W} y2={H} stroke="currentColor" strokeWidth="1" />
          {metric === "utilization" ? (
            barsOf(frame, values).map((b) => {
              const d = days[b.i];
              return d ? (
                <rect
                  key={d.day}
                  x={b.x}
                  y={b.y}
                  width={b.width}
                  height={Math.max(b.height, 0.5)}
                  fill={COLOR}
                >
                  <title>{tip(d)}</title>
                </rect>
              ) : null;
            })
          ) : (
            <>
              <path d={linePath(frame, values)} fill="none" stroke={COLOR} strokeWidth="2" />
              {days.map((d, i) =>
                d.price === null ? null : (
                  <circle key={d.day} cx={columnX(frame, i)} cy={valueY(frame, d.price)} r="3" fill={COLOR}>
                    <title>{tip(d)}</title>
                  </circle>
                ),
              )}
            </>
          )}
        </g>
        <text x="0" y={TOP + H + 14} fontSize="11" fill="currentColor">
          {days[0]?.date}
        </text>
        <text x={W} y={TOP + H + 14} fontSize="11" fill="currentColor" textAnchor="end">
          {days.at(-1)?.date}
        </text>
      </svg>
      <figcaption className="small muted">
        {metric === "utilization"
          ? `Utilization: the share of the listed ${unit.per}s booked, per day.`
          : `Average price paid, ${unitWords(unit)}, per day (gaps: no bookings).`}
      </figcaption>
    </figure>
  );
}
