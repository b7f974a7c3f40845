import { describe, expect, test } from "vitest";
import { costPreview, fixedPrice } from "../lib/cost.ts";
import {
  formatAmount,
  formatCountdown,
  formatDuration,
  formatMiB,
  formatPricePerHour,
  formatUnitsTrim,
  gpuSummary,
  NATIVE_ASSET,
  shortHex,
} from "../lib/format.ts";

const TUSD = { address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", symbol: "tUSD", decimals: 6 };

describe("amounts and durations", () => {
  test("units, trimmed and grouped; a tiny amount is never shown as zero", () => {
    expect(formatUnitsTrim(10n ** 16n, 18)).toBe("0.01");
    expect(formatUnitsTrim(1234567n * 10n ** 18n, 18)).toBe("1,234,567");
    expect(formatUnitsTrim(1_500_000n, 6)).toBe("1.5");
    expect(formatUnitsTrim(1n, 18)).toBe("0.000000000000000001");
    expect(formatUnitsTrim(123_456_789n, 18)).toBe("0.00000000012");
    expect(formatUnitsTrim(0n, 18)).toBe("0");
    expect(formatUnitsTrim(-(10n ** 18n), 18)).toBe("-1");
    expect(formatAmount(2_500_000n, TUSD)).toBe("2.5 tUSD");
  });
  test("prices per hour: native, token, USD paid in ETH", () => {
    expect(formatPricePerHour(10n ** 16n, false, NATIVE_ASSET)).toBe("0.01 ETH per hour");
    expect(formatPricePerHour(5_000_000n, false, TUSD)).toBe("5 tUSD per hour");
    expect(formatPricePerHour(3n * 10n ** 18n + 5n * 10n ** 17n, true, NATIVE_ASSET)).toBe(
      "$3.5 per hour, paid in ETH",
    );
  });
  test("durations and countdowns", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(45)).toBe("45 s");
    expect(formatDuration(900)).toBe("15 min");
    expect(formatDuration(5400)).toBe("1 h 30 min");
    expect(formatDuration(86400)).toBe("1 day");
    expect(formatDuration(3 * 86400 + 7200 + 60)).toBe("3 days 2 h");
    expect(formatCountdown(3723)).toBe("1:02:03");
    expect(formatCountdown(-5)).toBe("0:00:00");
    expect(formatCountdown(2 * 86400)).toBe("2 days");
  });
  test("hardware words: a GPU-less host says so plainly", () => {
    expect(gpuSummary({ gpuModel: "", gpuCount: 0, vramMiBPerGpu: "0" })).toBe(
      "no passthrough GPU (development host)",
    );
    expect(gpuSummary({ gpuModel: "NVIDIA H100 80GB HBM3", gpuCount: 2, vramMiBPerGpu: "81920" })).toBe(
      "2 × NVIDIA H100 80GB HBM3 (80 GiB each)",
    );
    expect(formatMiB(24105n)).toBe("23.5 GiB");
    expect(shortHex("0x90F79bf6EB2c4f870365E785982E1f101E93b906")).toBe("0x90F7…b906");
  });
});

describe("cost preview", () => {
  test("fixedPrice is PricingLib.price: the charge rounds up", () => {
    expect(fixedPrice(10n ** 16n, 3600n)).toBe(10n ** 16n);
    expect(fixedPrice(10n ** 16n, 900n)).toBe(25n * 10n ** 14n);
    expect(fixedPrice(1n, 1n)).toBe(1n);
    expect(fixedPrice(3601n, 1n)).toBe(2n);
    expect(fixedPrice(7n, 0n)).toBe(0n);
  });

  const base = {
    quoted: 10n ** 16n,
    asset: NATIVE_ASSET,
    pricePerHour: 10n ** 16n,
    usdPriced: false,
    start: 1_800_000_000,
    end: 1_800_003_600,
    feeBps: 250,
    cancelCutoff: 86400,
    cancelFeeBps: 2000,
    timeZone: "UTC",
  };

  test("native: sends exactly the quote; free cancellation until the cutoff, in the user's time zone", () => {
    const p = costPreview({ ...base, now: 1_700_000_000 });
    expect(p.value).toBe(10n ** 16n);
    expect(p.approve).toBe(0n);
    expect(p.total).toBe("0.01 ETH");
    expect(p.duration).toBe("1 h");
    expect(p.notes.join(" ")).toMatch(/platform's fee \(2.5%\) comes out of the host's share/);
    expect(p.notes.join(" ")).toMatch(
      /Free cancellation until \w{3} 14 Jan, 08:00; after that, 20% of the price/,
    );
  });

  test("inside the cutoff the cancellation fee applies at once", () => {
    const p = costPreview({ ...base, now: base.start - 3600 });
    expect(p.notes.join(" ")).toMatch(/starts within 1 day: cancelling it costs 20%/);
  });

  test("USD-priced: 1% more is sent and the excess credited back", () => {
    const p = costPreview({ ...base, usdPriced: true, pricePerHour: 3n * 10n ** 18n, now: 1_700_000_000 });
    expect(p.value).toBe(10n ** 16n + 10n ** 14n);
    expect(p.rate).toBe("$3 per hour, paid in ETH");
    expect(p.notes[0]).toMatch(/credited back to you/);
  });

  test("token: nothing native is sent; the quote is what to approve", () => {
    const p = costPreview({
      ...base,
      quoted: 5_000_000n,
      asset: TUSD,
      pricePerHour: 5_000_000n,
      now: 1_700_000_000,
    });
    expect(p.value).toBe(0n);
    expect(p.approve).toBe(5_000_000n);
    expect(p.total).toBe("5 tUSD");
    expect(p.notes[0]).toMatch(/approve the market/);
  });
});
