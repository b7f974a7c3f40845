// `npm run bench:indexer`: the embedded subgraph host's indexing throughput and query latency on a generated market
// history, written to bench/indexer.json.
//
// 1. A throwaway local stack (anvil on a free port, the market deployed into a temporary deployments folder).
// 2. A synthetic market history of at least 20,000 events over ~40 days of chain time (lib/market-history.ts).
// 3. `events`: the market's logs on chain (eth_getLogs over the deployment's whole range).
// 4. Indexing from scratch into a temporary SQLite file: `eventsPerSecond` = events / wall-clock seconds of
//    `syncTo(head)`; `peakRssMiB` = the process's peak RSS meanwhile (sampled every 50 ms from a worker thread, so
//    samples continue while handlers run synchronously, and checked against the kernel's high-water mark).
//    The indexer must have run exactly one handler per log.
// 5. Four auditor queries, 200 times each, over HTTP against the host's GraphQL server (graph-node's API, so the
//    same queries run unchanged on The Graph): `queryP50Ms` / `queryP95Ms` over all calls' round trips. Every
//    response must have no `errors` and the data the generated history says it should.
//
// Targets: >= 20,000 events, >= 2,000 events/s (on 2 cores), query p95 <= 50 ms. A miss is printed as MISS; the
// exit status is non-zero only when something could not be measured. bench/indexer.json is written only when all
// five figures were measured.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, rmdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { freePort } from "./lib/anvil.ts";
import { prepareArtifacts } from "./lib/artifacts.ts";
import type { MarketHistory } from "./lib/market-history.ts";
import { deploymentsDir, repoRoot } from "./lib/paths.ts";
import { prepareSubgraph } from "./lib/subgraph.ts";

/** bench/indexer.json. */
export interface IndexerReport {
  events: number;
  eventsPerSecond: number;
  peakRssMiB: number;
  queryP50Ms: number;
  queryP95Ms: number;
}

const TARGET_EVENTS = 20_000;
const TARGET_EVENTS_PER_SECOND = 2_000;
const TARGET_P95_MS = 50;
const RUNS = 200;

function log(line: string): void {
  process.stderr.write(`[bench:indexer] ${line}\n`);
}

/* ---- measuring helpers ---- */

/** Peak RSS sampled every `intervalMs` by a worker thread (process-wide RSS), plus the kernel's VmHWM. */
function startRssSampler(intervalMs = 50) {
  const shared = new SharedArrayBuffer(16);
  const view = new BigInt64Array(shared);
  const worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const v = new BigInt64Array(workerData.shared);
     const sample = () => {
       const rss = BigInt(process.memoryUsage.rss());
       if (rss > Atomics.load(v, 0)) Atomics.store(v, 0, rss);
       Atomics.add(v, 1, 1n);
     };
     sample();
     setInterval(sample, workerData.intervalMs);`,
    { eval: true, workerData: { shared, intervalMs } },
  );
  // The kernel's peak RSS, reset to the current RSS now (Linux: clear_refs 5); read back at the end.
  let hwmReset = false;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    hwmReset = true;
  } catch {
    // not Linux, or not allowed: the samples alone
  }
  const startRss = process.memoryUsage.rss();
  return {
    startRss,
    async stop(): Promise<{ sampledPeak: number; samples: number; hwm: number | null }> {
      const rss = BigInt(process.memoryUsage.rss());
      if (rss > Atomics.load(view, 0)) Atomics.store(view, 0, rss);
      await worker.terminate();
      let hwm: number | null = null;
      if (hwmReset) {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
        if (m) hwm = Number(m[1]) * 1024;
      }
      return { sampledPeak: Number(Atomics.load(view, 0)), samples: Number(Atomics.load(view, 1)), hwm };
    },
  };
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error("no samples");
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const j = (await res.json()) as { result?: T; error?: { message: string } };
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result as T;
}

/** The market's logs in [from, to], counted with eth_getLogs in ranges of 2,000 blocks. */
async function countMarketLogs(url: string, market: string, from: bigint, to: bigint): Promise<number> {
  let n = 0;
  for (let a = from; a <= to; a += 2000n) {
    const b = a + 1999n < to ? a + 1999n : to;
    const logs = await rpc<unknown[]>(url, "eth_getLogs", [
      { address: market, fromBlock: `0x${a.toString(16)}`, toBlock: `0x${b.toString(16)}` },
    ]);
    n += logs.length;
  }
  return n;
}

/* ---- the auditor queries ---- */

type Json = Record<string, unknown>;

interface QuerySpec {
  name: string;
  what: string;
  query: string;
  variables(run: number): Json;
  /** Returns what is wrong with a response's data, or null. */
  check(data: Json, variables: Json): string | null;
}

const list = (data: Json, key: string) => (Array.isArray(data[key]) ? (data[key] as Json[]) : null);

function querySet(h: MarketHistory): QuerySpec[] {
  if (h.bookings.length === 0 || h.hosts.length === 0)
    throw new Error("the history has no bookings or hosts");
  const byId = new Map(h.bookings.map((b) => [b.id, b]));
  // A deterministic spread over the bookings (a stride prime to their count) and round-robin hosts and models.
  let stride = 7919;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(stride, h.bookings.length) !== 1) stride += 2;
  const bookingAt = (run: number) =>
    h.bookings[(run * stride) % h.bookings.length] as MarketHistory["bookings"][0];
  const monthTo = h.toTime + 1;
  const monthFrom = monthTo - 30 * 86400;
  const sessions = new Map<string, number>();
  for (const b of h.bookings)
    if (b.start >= monthFrom && b.start < monthTo) sessions.set(b.hostId, (sessions.get(b.hostId) ?? 0) + 1);
  const models = [...new Set(h.listings.map((l) => l.gpuModel || "cpu"))].sort();
  const disputed = h.bookings.filter((b) => b.status === "Disputed").length;

  return [
    {
      name: "bookingHistory",
      what: "(a) one booking's full history: the booking with its audit-log entries, and the entries by filter",
      query: `query BookingHistory($id: ID!, $booking: String!) {
  booking(id: $id) {
    id status price start end
    events(orderBy: logIndex, orderDirection: asc) { kind txHash blockNumber timestamp amount }
  }
  marketEvents(where: { booking: $booking }, orderBy: blockNumber) {
    id kind txHash blockNumber timestamp logIndex actor amount refund lenderAmount platformFee slash seconds
  }
}`,
      variables: (run) => {
        const id = bookingAt(run).id;
        return { id, booking: id };
      },
      check: (data, v) => {
        const b = data.booking as Json | null;
        const want = byId.get(String(v.id));
        if (!b || b.id !== v.id) return `booking ${v.id} not found`;
        if (want && b.status !== want.status)
          return `booking ${v.id} is ${b.status}, the chain says ${want.status}`;
        const events = Array.isArray(b.events) ? b.events : [];
        const entries = list(data, "marketEvents") ?? [];
        if (events.length === 0 || entries.length === 0) return `booking ${v.id} has no audit-log entries`;
        if (events.length !== entries.length)
          return `booking ${v.id}: ${events.length} derived events but ${entries.length} filtered entries`;
        return null;
      },
    },
    {
      name: "hostSessionsLastMonth",
      what: "(b) a host's sessions that started in the last 30 days of the history",
      query: `query HostSessions($host: String!, $from: BigInt!, $to: BigInt!) {
  bookings(where: { host: $host, start_gte: $from, start_lt: $to }, orderBy: start, first: 1000) {
    id status start end price usedSeconds
  }
}`,
      variables: (run) => ({
        host: (h.hosts[run % h.hosts.length] as MarketHistory["hosts"][0]).id,
        from: String(monthFrom),
        to: String(monthTo),
      }),
      check: (data, v) => {
        const rows = list(data, "bookings");
        const want = Math.min(1000, sessions.get(String(v.host)) ?? 0);
        if (!rows) return "no bookings list";
        if (want === 0) return `host ${v.host} has no sessions in the window: pick another window`;
        return rows.length === want ? null : `host ${v.host}: ${rows.length} sessions, the chain has ${want}`;
      },
    },
    {
      name: "disputesByState",
      what: "(c) open disputes and the bookings under dispute",
      query: `query OpenDisputes {
  disputes(where: { resolved: false }, orderBy: openedAt, orderDirection: desc, first: 1000) {
    id claimedSeconds reasonCid openedAt booking { id status price start end } host { id } borrower { id }
  }
  bookings(where: { status: Disputed }, orderBy: start, first: 1000) { id start end price usedSeconds disputedAt }
}`,
      variables: () => ({}),
      check: (data) => {
        const disputes = list(data, "disputes");
        const bookings = list(data, "bookings");
        if (!disputes || !bookings) return "no disputes or bookings list";
        if (disputed === 0) return "the history ended with no open dispute";
        if (bookings.length !== Math.min(1000, disputed))
          return `${bookings.length} bookings in Disputed, the chain has ${disputed}`;
        if (disputes.length !== bookings.length)
          return `${disputes.length} open disputes but ${bookings.length} bookings in Disputed`;
        return null;
      },
    },
    {
      name: "gpuModelDays",
      what: "(d) a GPU model's daily aggregates, last 30 days, with per-asset volume and average price",
      query: `query ModelDays($model: String!) {
  gpuModelDays(where: { gpuModel: $model }, orderBy: day, orderDirection: desc, first: 30) {
    id day bookings hoursBooked assets { kind avgPricePerHour volume }
  }
}`,
      variables: (run) => ({ model: models[run % models.length] }),
      check: (data, v) => {
        const rows = list(data, "gpuModelDays");
        if (!rows || rows.length === 0) return `no daily aggregates for ${v.model}`;
        return rows.length <= 30 ? null : `${rows.length} rows despite first: 30`;
      },
    },
  ];
}

interface QueryStats {
  name: string;
  what: string;
  calls: number;
  p50: number;
  p95: number;
  max: number;
  meanBytes: number;
  failures: { count: number; first: string } | null;
}

/** Each query RUNS times, interleaved (a b c d a b c d …), one at a time; latency = HTTP round trip. */
async function runQueries(url: string, specs: QuerySpec[]): Promise<{ all: number[]; stats: QueryStats[] }> {
  const lat = specs.map(() => [] as number[]);
  const bytes = specs.map(() => 0);
  const failures = specs.map(() => ({ count: 0, first: "" }));
  for (let run = 0; run < RUNS; run++) {
    for (const [k, q] of specs.entries()) {
      const variables = q.variables(run);
      const body = JSON.stringify({ query: q.query, variables });
      const t = performance.now();
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      const text = await res.text();
      (lat[k] as number[]).push(performance.now() - t);
      bytes[k] = (bytes[k] as number) + text.length;
      let problem: string | null = null;
      try {
        const j = JSON.parse(text) as { data?: Json | null; errors?: { message: string }[] };
        if (res.status !== 200) problem = `HTTP ${res.status}: ${text.slice(0, 200)}`;
        else if (j.errors?.length) problem = j.errors.map((e) => e.message).join("; ");
        else if (!j.data) problem = "no data";
        else problem = q.check(j.data, variables);
      } catch (e) {
        problem = `not JSON (${(e as Error).message}): ${text.slice(0, 200)}`;
      }
      if (problem) {
        const f = failures[k] as { count: number; first: string };
        if (f.count++ === 0) f.first = `${problem} (variables ${JSON.stringify(variables)})`;
      }
    }
  }
  const stats = specs.map((q, k) => {
    const sorted = [...(lat[k] as number[])].sort((a, b) => a - b);
    const f = failures[k] as { count: number; first: string };
    return {
      name: q.name,
      what: q.what,
      calls: sorted.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      max: sorted[sorted.length - 1] as number,
      meanBytes: (bytes[k] as number) / sorted.length,
      failures: f.count ? f : null,
    };
  });
  return { all: lat.flat().sort((a, b) => a - b), stats };
}

/* ---- output ---- */

const fmt = (x: number, digits = 0) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(head: string[], rows: string[][], rightAligned: number[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/* ---- main ---- */

async function main(): Promise<void> {
  const started = Date.now();
  await prepareArtifacts(log);
  // Imports the generated ABIs, which exist only after prepareArtifacts.
  const { startLocalStack } = await import("./lib/stack.ts");
  const { generateMarketHistory } = await import("./lib/market-history.ts");
  const { Indexer, defaultBuildDir } = await import("../../subgraph/host/indexer.ts");

  const tmp = await mkdtemp(join(tmpdir(), "computehive-bench-indexer-"));
  const outDir = join(deploymentsDir, ".tmp", `bench-indexer-${process.pid}`);
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    const stack = await startLocalStack({
      port: await freePort(),
      deploymentsDir: outDir,
      metadataDir: join(tmp, "metadata"),
      log,
    });
    cleanups.push(() => stack.stop());
    // The same build step as npm start: the subgraph is rebuilt when its build is missing or stale.
    await prepareSubgraph(stack.deploymentFile, log);
    const { url: rpcUrl } = stack.anvil;
    const d = stack.deployment;

    log(`generating the market history (>= ${fmt(TARGET_EVENTS)} events over ~40 days of chain time)…`);
    const history = await generateMarketHistory({ rpcUrl, deployment: d, targetEvents: TARGET_EVENTS, log });
    log(
      `history: ${fmt(history.events)} events in ${fmt(history.transactions)} transactions and ${fmt(history.blocks)} ` +
        `blocks (${history.fromBlock}..${history.toBlock}), ${fmt((history.toTime - history.fromTime) / 86400, 1)} days, ` +
        `generated in ${fmt(history.seconds, 1)} s`,
    );
    const head = BigInt(await rpc<string>(rpcUrl, "eth_blockNumber", []));
    const events = await countMarketLogs(rpcUrl, d.market, d.startBlock, head);
    log(`eth_getLogs: ${fmt(events)} market events in blocks ${d.startBlock}..${head}`);

    // Indexing from scratch.
    const indexer = await Indexer.create({
      rpcUrl,
      deployment: d,
      buildDir: defaultBuildDir,
      dbFile: join(tmp, "indexer.sqlite"),
    });
    cleanups.unshift(() => indexer.close());
    log(`indexing blocks ${d.startBlock}..${head} from scratch…`);
    const load0 = loadavg()[0] as number;
    const sampler = startRssSampler(50);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await indexer.syncTo(head);
    const indexSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rss = await sampler.stop();
    const load1 = loadavg()[0] as number;
    const health = indexer.store.health();
    if (health.failed) throw new Error(`the subgraph failed while indexing: ${health.error?.message}`);
    if (indexer.handled !== events)
      throw new Error(`the indexer ran ${indexer.handled} handlers for ${events} market events`);
    const eventsPerSecond = events / indexSeconds;
    const peakRss = Math.max(rss.sampledPeak, rss.hwm ?? 0);
    log(
      `indexed ${fmt(events)} events in ${fmt(indexSeconds, 2)} s (${fmt(eventsPerSecond)} events/s); peak RSS ` +
        `${fmt(peakRss / 2 ** 20, 1)} MiB (${fmt(rss.samples)} samples: ${fmt(rss.sampledPeak / 2 ** 20, 1)} MiB; ` +
        `VmHWM: ${rss.hwm === null ? "n/a" : `${fmt(rss.hwm / 2 ** 20, 1)} MiB`}; ${fmt(sampler.startRss / 2 ** 20, 1)} MiB at the start)`,
    );

    // Queries over HTTP.
    const { startQueryServer } = await import("../../subgraph/host/server.ts");
    const server = await startQueryServer({
      db: indexer.store,
      name: "computehive",
      host: "127.0.0.1",
      port: 0,
    });
    cleanups.unshift(() => server.close());
    log(`running ${RUNS} × 4 auditor queries against ${server.url}…`);
    const specs = querySet(history);
    const q = await runQueries(server.url, specs);

    const report: IndexerReport = {
      events,
      eventsPerSecond: Math.round(eventsPerSecond * 10) / 10,
      peakRssMiB: Math.round((peakRss / 2 ** 20) * 10) / 10,
      queryP50Ms: Math.round(percentile(q.all, 50) * 100) / 100,
      queryP95Ms: Math.round(percentile(q.all, 95) * 100) / 100,
    };

    // The table.
    const pass = (ok: boolean) => (ok ? "pass" : "MISS");
    const cores = availableParallelism();
    const out: string[] = [];
    out.push(
      table(
        ["figure", "value", "target", "result"],
        [
          ["events", fmt(report.events), `>= ${fmt(TARGET_EVENTS)}`, pass(report.events >= TARGET_EVENTS)],
          [
            "eventsPerSecond",
            fmt(report.eventsPerSecond, 1),
            `>= ${fmt(TARGET_EVENTS_PER_SECOND)} (on 2 cores; this machine: ${cores})`,
            pass(report.eventsPerSecond >= TARGET_EVENTS_PER_SECOND),
          ],
          ["peakRssMiB", fmt(report.peakRssMiB, 1), "-", "-"],
          ["queryP50Ms", fmt(report.queryP50Ms, 2), "-", "-"],
          [
            "queryP95Ms",
            fmt(report.queryP95Ms, 2),
            `<= ${TARGET_P95_MS}`,
            pass(report.queryP95Ms <= TARGET_P95_MS),
          ],
        ],
        [1],
      ),
    );
    out.push(
      "",
      table(
        ["query (HTTP round trip)", "calls", "p50 ms", "p95 ms", "max ms", "bytes/resp", "checks"],
        q.stats.map((s) => [
          s.name,
          String(s.calls),
          fmt(s.p50, 2),
          fmt(s.p95, 2),
          fmt(s.max, 2),
          fmt(s.meanBytes),
          s.failures ? `${s.failures.count} FAILED` : "ok",
        ]),
        [1, 2, 3, 4, 5],
      ),
    );
    out.push("", "queries:");
    for (const s of q.stats) out.push(`  ${s.name}: ${s.what}`);
    out.push(
      "",
      `history (synthetic, throwaway anvil): ${fmt(history.events)} events from the generator + ` +
        `${fmt(events - history.events)} from deployment and demo seed; ${fmt(history.bookings.length)} bookings, ` +
        `${history.hosts.length} hosts, ${history.listings.length} listings, ${history.borrowers} borrowers; ` +
        `${fmt(history.blocks)} blocks over ${fmt((history.toTime - history.fromTime) / 86400, 1)} days`,
      `  events: ${Object.entries(history.eventsByKind)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${fmt(n)}`)
        .join(", ")}`,
      `  bookings by planned fate: ${Object.entries(history.fates)
        .map(([k, n]) => `${k} ${fmt(n)}`)
        .join(", ")}`,
      `indexing: syncTo(${head}) from scratch, ${fmt(indexSeconds, 2)} s wall clock, ` +
        `${fmt((cpu.user + cpu.system) / 1e6, 2)} s CPU in this process (anvil's not included); peak RSS sampled ` +
        `${fmt(rss.sampledPeak / 2 ** 20, 1)} MiB (${fmt(rss.samples)} samples), kernel high-water mark ` +
        `${rss.hwm === null ? "n/a" : `${fmt(rss.hwm / 2 ** 20, 1)} MiB`}, ${fmt(sampler.startRss / 2 ** 20, 1)} MiB at the start`,
      `machine: ${cores} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Node ${process.version}; ` +
        `1-minute load average ${fmt(load0, 2)} before indexing, ${fmt(load1, 2)} after (other work on the machine ` +
        `slows the wall-clock figures)`,
    );
    console.log(`\n${out.join("\n")}\n`);

    const failed = q.stats.filter((s) => s.failures);
    if (failed.length) {
      throw new Error(
        `query checks failed, so the latencies are not written:\n${failed
          .map((s) => `  ${s.name}: ${s.failures?.count} of ${s.calls} calls; first: ${s.failures?.first}`)
          .join("\n")}`,
      );
    }
    const dir = join(repoRoot, "bench");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "indexer.json"), `${JSON.stringify(report, null, 2)}\n`);
    const misses = [
      report.events >= TARGET_EVENTS,
      report.eventsPerSecond >= TARGET_EVENTS_PER_SECOND,
      report.queryP95Ms <= TARGET_P95_MS,
    ].filter((ok) => !ok).length;
    log(
      `wrote bench/indexer.json in ${fmt((Date.now() - started) / 1000, 1)} s; ${misses ? `${misses} MISS` : "all targets met"}`,
    );
  } finally {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {}); // only when empty
  }
}

main().catch((e: unknown) => {
  console.error(
    `[bench:indexer] failed to measure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
  );
  process.exit(1);
});
