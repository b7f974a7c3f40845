import { priceIndex, type SgModelDay } from "@computehive/sdk/ai";
import { describe, expect, test } from "vitest";
import {
  barsOf,
  type ChartFrame,
  chartLabel,
  columnX,
  dayDate,
  fillDays,
  formatIndexAmount,
  formatUnitFigure,
  linePath,
  modelLabel,
  niceMax,
  orderModels,
  pctWords,
  priceUnit,
  summarize,
  unitWords,
  valueY,
} from "../lib/pricing.ts";

const DAY = 86_400;
const TODAY = 20_499; // 2026-02-15
const H100 = "NVIDIA H100 80GB HBM3";
const ETH = 10n ** 18n;

function row(
  gpuModel: string,
  day: number,
  o: Partial<SgModelDay> & { wei?: bigint; gpuHours?: number },
): SgModelDay {
  const gpuHours = o.gpuHours ?? 0;
  return {
    gpuModel,
    day,
    date: String(day * DAY),
    bookings: o.bookings ?? 0,
    hoursBooked: o.hoursBooked ?? String(gpuHours),
    hoursListed: o.hoursListed ?? "0",
    gpuHoursBooked: o.gpuHoursBooked ?? String(gpuHours),
    gpuHoursListed: o.gpuHoursListed ?? "0",
    assets:
      o.wei === undefined
        ? []
        : [
            {
              kind: "Native",
              volume: o.wei.toString(),
              hoursBooked: o.hoursBooked ?? String(gpuHours),
              gpuHoursBooked: String(gpuHours),
            },
          ],
  };
}

// Three days of H100s (one without bookings), one day of a CPU-only development host, one A100 day.
const rows: SgModelDay[] = [
  row(H100, TODAY - 2, { bookings: 2, gpuHours: 10, gpuHoursListed: "40", wei: ETH / 100n }),
  row(H100, TODAY, { bookings: 1, gpuHours: 4, gpuHoursListed: "8", wei: ETH / 500n }),
  row(H100, TODAY - 1, { gpuHoursListed: "48" }),
  row("cpu", TODAY - 1, {
    bookings: 5,
    hoursBooked: "5",
    hoursListed: "24",
    gpuHoursListed: "0",
    wei: ETH / 1000n,
  }),
  row("NVIDIA A100-SXM4-80GB", TODAY - 40, { bookings: 9, gpuHours: 9, gpuHoursListed: "9", wei: ETH }),
];

describe("the market index's days", () => {
  const index = priceIndex(rows, 2000);

  test("every day of the window, oldest first, with the model's figures where it has them", () => {
    const days = fillDays(index.get(H100) ?? [], TODAY, 30);
    expect(days).toHaveLength(30);
    expect(days[0]?.date).toBe(dayDate(TODAY - 29));
    expect(days.at(-1)?.date).toBe("2026-02-15");
    expect(days.slice(-3)).toEqual([
      { day: TODAY - 2, date: "2026-02-13", recorded: true, bookings: 2, utilization: 0.25, price: 2 },
      { day: TODAY - 1, date: "2026-02-14", recorded: true, bookings: 0, utilization: 0, price: null },
      { day: TODAY, date: "2026-02-15", recorded: true, bookings: 1, utilization: 0.5, price: 1 },
    ]);
    expect(days[0]).toEqual({
      day: TODAY - 29,
      date: dayDate(TODAY - 29),
      recorded: false,
      bookings: 0,
      utilization: null,
      price: null,
    });
    // Days outside the window are left out.
    expect(fillDays(index.get("NVIDIA A100-SXM4-80GB") ?? [], TODAY).every((d) => !d.recorded)).toBe(true);
  });

  test("CPU-only rows read per listing-hour and are labelled as development hosts, listed last", () => {
    const cpu = fillDays(index.get("cpu") ?? [], TODAY).at(-2);
    expect(cpu?.utilization).toBeCloseTo(5 / 24, 12);
    expect(cpu?.price).toBeCloseTo(0.4, 12); // 0.001 ETH over 5 listing-hours at $2,000
    expect(modelLabel("cpu")).toBe("CPU-only (development hosts)");
    expect(modelLabel(H100)).toBe(H100);
    expect(orderModels(index)).toEqual(["NVIDIA A100-SXM4-80GB", H100, "cpu"]);
    expect(unitWords(priceUnit("cpu", 2000))).toBe("USD per listing-hour");
  });

  test("a window's summary: bookings, mean utilization over listed days, booking-weighted mean price", () => {
    const s = summarize(fillDays(index.get(H100) ?? [], TODAY));
    expect(s.bookings).toBe(3);
    expect(s.meanUtilization).toBeCloseTo(0.25, 12);
    expect(s.meanPrice).toBeCloseTo((2 * 2 + 1 * 1) / 3, 12);
    expect(s.latestPrice).toEqual({ date: "2026-02-15", price: 1 });
    expect(summarize(fillDays([], TODAY))).toEqual({
      bookings: 0,
      meanUtilization: null,
      meanPrice: null,
      latestPrice: null,
    });
  });

  test("prices in USD at the feed, or in ETH without one", () => {
    const usd = priceUnit(H100, 2000);
    const eth = priceUnit(H100, null);
    expect(formatUnitFigure(2.5, usd)).toBe("$2.50 per GPU-hour");
    expect(formatUnitFigure(0.00125, eth)).toBe("0.00125 ETH per GPU-hour");
    expect(formatIndexAmount(0.00125, eth)).toBe("0.00125 ETH");
    expect(unitWords(eth)).toBe("ETH per GPU-hour");
    // Without a feed the page asks the sdk for the index at a rate of 1: native coins per GPU-hour.
    expect(fillDays(priceIndex(rows, 1).get(H100) ?? [], TODAY).at(-1)?.price).toBeCloseTo(0.0005, 15);
    expect(pctWords(0.256)).toBe("26%");
    expect(pctWords(null)).toBe("–");
  });
});

describe("the index chart's geometry", () => {
  const f: ChartFrame = { width: 300, height: 100, max: 1, count: 3 };

  test("a round top for the scale", () => {
    expect([0, -1, Number.NaN, 0.3, 0.7, 1, 1.2, 2.2, 3, 7, 10, 12.5, 4200].map(niceMax)).toEqual([
      1, 1, 1, 0.5, 1, 1, 2, 2.5, 5, 10, 10, 20, 5000,
    ]);
    expect(niceMax(0.1 * 3)).toBe(0.5);
    expect(niceMax(0.25)).toBe(0.25);
  });

  test("columns centred, values from the bottom (0) to the top (max), clamped", () => {
    expect([0, 1, 2].map((i) => columnX(f, i))).toEqual([50, 150, 250]);
    expect([0, 0.25, 1, 2, -1].map((v) => valueY(f, v))).toEqual([100, 75, 0, 0, 100]);
  });

  test("bars only where there is a value; their bottoms on the axis", () => {
    const bars = barsOf(f, [0.5, null, 1]);
    expect(bars).toEqual([
      { i: 0, x: 15, y: 50, width: 70, height: 50 },
      { i: 2, x: 215, y: 0, width: 70, height: 100 },
    ]);
    for (const b of bars) expect(b.y + b.height).toBe(f.height);
  });

  test("the price line breaks where a day had no bookings", () => {
    const g: ChartFrame = { width: 500, height: 100, max: 4, count: 5 };
    expect(linePath(g, [1, 2, null, 4, 3])).toBe("M50 75 L150 50 M350 0 L450 25");
    expect(linePath(g, [null, null])).toBe("");
    expect(linePath(g, [null, 2, null])).toBe("M150 50");
  });

  test("the accessible names carry the figures", () => {
    const days = fillDays(priceIndex(rows, 2000).get(H100) ?? [], TODAY, 3);
    const usd = priceUnit(H100, 2000);
    expect(chartLabel("utilization", H100, days, usd)).toBe(
      `Utilization of ${H100} per day, 2026-02-13 to 2026-02-15: 25% on average, highest 50% on 2026-02-15.`,
    );
    expect(chartLabel("price", H100, days, usd)).toBe(
      `Average price paid for ${H100} per day, 2026-02-13 to 2026-02-15: from $1.00 per GPU-hour to $2.00 per GPU-hour on 2 days with bookings.`,
    );
    const empty = fillDays([], TODAY, 2);
    expect(chartLabel("utilization", "cpu", empty, usd)).toMatch(
      /^Utilization of CPU-only \(development hosts\) .*nothing was listed\.$/,
    );
    expect(chartLabel("price", "cpu", empty, usd)).toMatch(/no bookings with a price\.$/);
  });
});
