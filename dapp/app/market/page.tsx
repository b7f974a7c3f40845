import { fetchModelDays, type IndexPoint, priceIndex, readNativeUsd } from "@computehive/sdk/ai";
import { createPublicClient, http, type PublicClient } from "viem";
import { IndexChart } from "../../components/IndexChart.tsx";
import {
  type DayFigure,
  dayDate,
  fillDays,
  formatIndexAmount,
  formatUnitFigure,
  INDEX_DAYS,
  modelLabel,
  orderModels,
  type PriceUnit,
  pctWords,
  priceUnit,
  rateWords,
  summarize,
  unitWords,
} from "../../lib/pricing.ts";
import { loadRuntimeConfig } from "../../lib/server-config.ts";

// The market index: per GPU model, each UTC day of the last 30, the bookings made, the utilization and the
// average price paid per GPU-hour, as a chart and as a table. Rendered on the server from the subgraph's
// GpuModelDay rows (the sdk's priceIndex) and the market's price feed; the page sends no script of its own.
export const dynamic = "force-dynamic";
export const metadata = { title: "Market index — ComputeHive" };

const DAY = 86_400;

type Loaded =
  | {
      ok: true;
      index: Map<string, IndexPoint[]>;
      nativeUsd: number | null;
      /** Why the feed could not be read (null: read, or the market has none). */
      rateProblem: string | null;
      today: number;
    }
  | { ok: false; error: string };

async function load(): Promise<Loaded> {
  let config: Awaited<ReturnType<typeof loadRuntimeConfig>>;
  try {
    config = await loadRuntimeConfig(process.env, process.cwd());
  } catch (e) {
    return { ok: false, error: `The server has no usable configuration: ${(e as Error).message}` };
  }
  const today = Math.floor(Date.now() / 1000 / DAY);
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0, timeout: 5_000 }) });
  const rate = readNativeUsd(client as PublicClient, config.market).then(
    (r) => ({ usd: r?.usd ?? null, problem: null }),
    // No chain to read: prices are shown in ETH, and the page says why.
    (e: Error) => ({ usd: null, problem: (e.message ?? String(e)).split("\n")[0] ?? "unknown error" }),
  );
  try {
    const rows = await fetchModelDays(
      {
        subgraphUrl: config.subgraphUrl,
        nativeUsd: null,
        fetch: (input, init) =>
          fetch(input, { ...init, signal: AbortSignal.timeout(10_000), cache: "no-store" }),
      },
      today - INDEX_DAYS + 1,
    );
    const { usd: nativeUsd, problem } = await rate;
    // Without a feed the sdk's USD figure at a rate of 1 is the price in the native coin.
    return { ok: true, index: priceIndex(rows, nativeUsd ?? 1), nativeUsd, rateProblem: problem, today };
  } catch (e) {
    return { ok: false, error: `The market's history could not be read: ${(e as Error).message}` };
  }
}

export default async function MarketIndexPage() {
  const r = await load();
  return (
    <>
      <h1>Market index</h1>
      <p className="lead">
        For each GPU model, each UTC day of the last {INDEX_DAYS}: the bookings made, the utilization (the
        share of the GPU-hours listed that day that bookings made that day took) and the average price paid
        per GPU-hour. From this market's own history.
      </p>
      {!r.ok ? (
        <p className="error" role="alert">
          {r.error}
        </p>
      ) : (
        <Index index={r.index} nativeUsd={r.nativeUsd} rateProblem={r.rateProblem} today={r.today} />
      )}
    </>
  );
}

function Index({
  index,
  nativeUsd,
  rateProblem,
  today,
}: {
  index: Map<string, IndexPoint[]>;
  nativeUsd: number | null;
  rateProblem: string | null;
  today: number;
}) {
  const models = orderModels(index);
  return (
    <>
      <p className="small muted">
        {nativeUsd !== null
          ? `Prices in USD at the market's price feed (${rateWords(nativeUsd)}); bookings paid in ERC-20 tokens are not in them.`
          : rateProblem !== null
            ? `The market's price feed could not be read (${rateProblem}): prices are in ETH. Bookings paid in ERC-20 tokens are not in them.`
            : "This market has no USD price feed: prices are in ETH. Bookings paid in ERC-20 tokens are not in them."}{" "}
        Today ({dayDate(today)}, UTC) is still counting. CPU-only listings are priced per listing-hour.
      </p>
      {models.length === 0 ? (
        <p>
          The market is empty: no GPU model was listed or booked in the last {INDEX_DAYS} days, so there is no
          index yet.
        </p>
      ) : (
        <nav aria-label="GPU models">
          <ul className="row" style={{ listStyle: "none", padding: 0 }}>
            {models.map((m, i) => (
              <li key={m}>
                <a href={`#model-${i}`}>{modelLabel(m)}</a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {models.map((m, i) => (
        <ModelIndex
          key={m}
          id={`model-${i}`}
          model={m}
          days={fillDays(index.get(m) ?? [], today)}
          unit={priceUnit(m, nativeUsd)}
        />
      ))}
    </>
  );
}

function ModelIndex({
  id,
  model,
  days,
  unit,
}: {
  id: string;
  model: string;
  days: DayFigure[];
  unit: PriceUnit;
}) {
  const s = summarize(days);
  const recorded = days.filter((d) => d.recorded);
  return (
    <section className="panel" aria-labelledby={`${id}-heading`} id={id}>
      <h2 id={`${id}-heading`}>{modelLabel(model)}</h2>
      <p>
        {s.bookings} booking{s.bookings === 1 ? "" : "s"} in {INDEX_DAYS} days; utilization{" "}
        {s.meanUtilization === null
          ? "unknown (nothing listed)"
          : `${pctWords(s.meanUtilization)} on average`}
        ;{" "}
        {s.meanPrice === null
          ? "no price paid yet"
          : `average price ${formatUnitFigure(s.meanPrice, unit)}${s.latestPrice ? ` (latest ${formatUnitFigure(s.latestPrice.price, unit)}, ${s.latestPrice.date})` : ""}`}
        .
      </p>
      <div className="grid2">
        <IndexChart metric="utilization" model={model} days={days} unit={unit} />
        <IndexChart metric="price" model={model} days={days} unit={unit} />
      </div>
      <details>
        <summary>The figures, day by day (table)</summary>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">
              {modelLabel(model)}: bookings, utilization and average price per UTC day
            </caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Bookings</th>
                <th scope="col">Utilization</th>
                <th scope="col">{unitWords(unit)}</th>
              </tr>
            </thead>
            <tbody>
              {recorded.map((d) => (
                <tr key={d.day}>
                  <th scope="row" style={{ fontWeight: 400 }}>
                    {d.date}
                  </th>
                  <td>{d.bookings}</td>
                  <td>{pctWords(d.utilization)}</td>
                  <td>{d.price === null ? "–" : formatIndexAmount(d.price, unit)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="small muted">
          Days not in the table had nothing listed or booked. “–”: nothing listed (utilization) or no bookings
          (price).
        </p>
      </details>
    </section>
  );
}
