import { describe, expect, test } from "vitest";
import { dailyEarnings, earningRows } from "../lib/earnings.ts";

const DAY = 86_400;
const now = 20_000 * DAY + 3600; // 2024-10-04 01:00 UTC

describe("dailyEarnings", () => {
  test("sums per UTC day, zero-fills, keeps assets apart, ignores what is out of range", () => {
    const rows = earningRows({
      settled: [
        { settledAt: String(now - 10), lenderAmount: "5", listing: { asset: { id: "0xeth" } } },
        { settledAt: String(now - 3600 + 1), lenderAmount: "7", listing: { asset: { id: "0xeth" } } },
        { settledAt: String(now - 2 * DAY), lenderAmount: "11", listing: { asset: { id: "0xeth" } } },
        { settledAt: String(now - 40 * DAY), lenderAmount: "1000", listing: { asset: { id: "0xeth" } } },
        { settledAt: String(now - DAY), lenderAmount: "3", listing: { asset: { id: "0xtok" } } },
      ],
      cancelled: [
        { cancelledAt: String(now - 2 * DAY + 5), lenderAmount: "2", listing: { asset: { id: "0xeth" } } },
      ],
    });
    const series = dailyEarnings(rows, { now, days: 7 });
    expect(series.map((s) => s.asset)).toEqual(["0xeth", "0xtok"]);
    const eth = series[0];
    expect(eth?.days).toHaveLength(7);
    expect(eth?.days.at(-1)).toEqual({ day: "2024-10-04", amount: 12n });
    expect(eth?.days.at(-3)).toEqual({ day: "2024-10-02", amount: 13n });
    expect(eth?.total).toBe(25n);
    expect(series[1]?.days.at(-2)?.amount).toBe(3n);
  });

  test("nothing earned: no series", () => {
    expect(dailyEarnings([], { now, days: 30 })).toEqual([]);
  });
});
