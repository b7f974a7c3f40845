/**
 * `npm run bench:summary` (the last step of `npm run bench`): one table of every benchmark figure with its target
 * and pass/miss, from the bench/*.json files the benchmarks wrote, into bench/summary.md (and stdout).
 * A benchmark that has not run shows as "not run"; nothing is filled in. Targets are the issues' own.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./lib/paths.ts";

type Json = Record<string, unknown>;

interface Row {
  bench: string;
  figure: string;
  value: string;
  target: string;
  /** true pass, false miss, null no target. */
  pass: boolean | null;
}

const num = (j: Json, k: string): number => {
  const v = j[k];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${k} is missing or not a number`);
  return v;
};
const fmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString("en-US") : String(v));

/** Each benchmark: its file and its rows from the file's JSON. */
const BENCHES: Array<{ name: string; file: string; rows: (j: Json) => Row[] }> = [
  {
    name: "gas",
    file: "gas.json",
    rows: (j) => {
      const ops = ["activate", "report", "settle", "withdraw", "cancel", "claimNoShow"];
      const prior = (j.bookAtPrior ?? {}) as Record<string, number>;
      const p1 = prior["1"];
      const p10k = prior["10000"];
      return [
        {
          bench: "gas",
          figure: "book4h",
          value: fmt(num(j, "book4h")),
          target: "≤ 150,000",
          pass: num(j, "book4h") <= 150_000,
        },
        ...ops.map((k) => ({
          bench: "gas",
          figure: k,
          value: fmt(num(j, k)),
          target: "≤ 100,000",
          pass: num(j, k) <= 100_000,
        })),
        {
          bench: "gas",
          figure: 'bookAtPrior["10000"]',
          value: p10k === undefined ? "missing" : fmt(p10k),
          target: `within 1 % of bookAtPrior["1"] (${p1 === undefined ? "?" : fmt(p1)})`,
          pass: p1 !== undefined && p10k !== undefined && Math.abs(p10k - p1) <= p1 * 0.01,
        },
      ];
    },
  },
  {
    name: "indexer",
    file: "indexer.json",
    rows: (j) => [
      {
        bench: "indexer",
        figure: "events",
        value: fmt(num(j, "events")),
        target: "≥ 20,000",
        pass: num(j, "events") >= 20_000,
      },
      {
        bench: "indexer",
        figure: "eventsPerSecond",
        value: fmt(num(j, "eventsPerSecond")),
        target: "≥ 2,000 on 2 cores",
        pass: num(j, "eventsPerSecond") >= 2000,
      },
      { bench: "indexer", figure: "peakRssMiB", value: fmt(num(j, "peakRssMiB")), target: "–", pass: null },
      { bench: "indexer", figure: "queryP50Ms", value: fmt(num(j, "queryP50Ms")), target: "–", pass: null },
      {
        bench: "indexer",
        figure: "queryP95Ms",
        value: fmt(num(j, "queryP95Ms")),
        target: "≤ 50",
        pass: num(j, "queryP95Ms") <= 50,
      },
    ],
  },
  {
    name: "vm",
    file: "vm.json",
    rows: (j) => [
      { bench: "vm", figure: "accel", value: String(j.accel), target: "–", pass: null },
      {
        bench: "vm",
        figure: "agentOverheadMsMedian",
        value: fmt(num(j, "agentOverheadMsMedian")),
        target: "≤ 1,000",
        pass: num(j, "agentOverheadMsMedian") <= 1000,
      },
      {
        bench: "vm",
        figure: "agentOverheadMsMax",
        value: fmt(num(j, "agentOverheadMsMax")),
        target: "–",
        pass: null,
      },
      {
        bench: "vm",
        figure: "requestToSshMsMedian",
        value: fmt(num(j, "requestToSshMsMedian")),
        target: "≤ 15,000 under TCG",
        pass: num(j, "requestToSshMsMedian") <= 15_000,
      },
      {
        bench: "vm",
        figure: "requestToSshMsMax",
        value: fmt(num(j, "requestToSshMsMax")),
        target: "–",
        pass: null,
      },
    ],
  },
  {
    name: "oracle",
    file: "oracle.json",
    rows: (j) => [
      {
        bench: "oracle",
        figure: "blockToActivationMsMedian",
        value: fmt(num(j, "blockToActivationMsMedian")),
        target: "≤ 2,000",
        pass: num(j, "blockToActivationMsMedian") <= 2000,
      },
      {
        bench: "oracle",
        figure: "blockToActivationMsMax",
        value: fmt(num(j, "blockToActivationMsMax")),
        target: "–",
        pass: null,
      },
      {
        bench: "oracle",
        figure: "blockToSshMsMedian",
        value: fmt(num(j, "blockToSshMsMedian")),
        target: "–",
        pass: null,
      },
      {
        bench: "oracle",
        figure: "blockToSshMsMax",
        value: fmt(num(j, "blockToSshMsMax")),
        target: "–",
        pass: null,
      },
    ],
  },
  {
    name: "dapp",
    file: "dapp.json",
    rows: (j) => [
      {
        bench: "dapp",
        figure: "marketplaceFirstLoadKbGz",
        value: fmt(num(j, "marketplaceFirstLoadKbGz")),
        target: "≤ 350",
        pass: num(j, "marketplaceFirstLoadKbGz") <= 350,
      },
      ...Object.entries((j.routes ?? {}) as Record<string, number>).map(([route, kb]) => ({
        bench: "dapp",
        figure: `routes["${route}"] (kB gz)`,
        value: fmt(kb),
        target: "–",
        pass: null,
      })),
      {
        bench: "dapp",
        figure: "listings",
        value: fmt(num(j, "listings")),
        target: "1,000",
        pass: num(j, "listings") >= 1000,
      },
      {
        bench: "dapp",
        figure: "marketplaceInteractiveMs",
        value: fmt(num(j, "marketplaceInteractiveMs")),
        target: "≤ 2,500 with 1,000 listings",
        pass: num(j, "marketplaceInteractiveMs") <= 2500,
      },
    ],
  },
  {
    name: "ai",
    file: "ai.json",
    rows: (j) => {
      const m = num(j, "modelMape");
      const b = num(j, "baselineMape");
      return [
        {
          bench: "ai",
          figure: "modelMape",
          value: fmt(m),
          target: `≥ 30 % below baselineMape (${((1 - m / b) * 100).toFixed(1)} % below)`,
          pass: m <= 0.7 * b,
        },
        { bench: "ai", figure: "baselineMape", value: fmt(b), target: "–", pass: null },
        {
          bench: "ai",
          figure: "listings",
          value: fmt(num(j, "listings")),
          target: "10,000",
          pass: num(j, "listings") >= 10_000,
        },
        {
          bench: "ai",
          figure: "schedulerP95Ms",
          value: fmt(num(j, "schedulerP95Ms")),
          target: "≤ 100",
          pass: num(j, "schedulerP95Ms") <= 100,
        },
      ];
    },
  },
];

export async function summarize(dir = join(repoRoot, "bench")): Promise<string> {
  const rows: Row[] = [];
  const dates: string[] = [];
  for (const b of BENCHES) {
    const path = join(dir, b.file);
    let j: Json;
    try {
      j = JSON.parse(await readFile(path, "utf8")) as Json;
      dates.push(`${b.file} ${(await stat(path)).mtime.toISOString().slice(0, 16).replace("T", " ")} UTC`);
    } catch {
      rows.push({ bench: b.name, figure: `(bench/${b.file})`, value: "not run", target: "–", pass: false });
      continue;
    }
    try {
      rows.push(...b.rows(j));
    } catch (e) {
      rows.push({
        bench: b.name,
        figure: `(bench/${b.file})`,
        value: `unreadable: ${(e as Error).message}`,
        target: "–",
        pass: false,
      });
    }
  }
  const passes = rows.filter((r) => r.pass === true).length;
  const misses = rows.filter((r) => r.pass === false).length;
  const table = [
    "| benchmark | figure | value | target | result |",
    "|---|---|---:|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.bench} | ${r.figure} | ${r.value} | ${r.target} | ${r.pass === null ? "–" : r.pass ? "pass" : "**miss**"} |`,
    ),
  ];
  return `# Benchmarks

Written by \`npm run bench\` (\`script/src/bench-summary.ts\`) from the bench/*.json files; ${passes} targets met,
${misses} missed or not run. Each file was written at: ${dates.join("; ")}.

${table.join("\n")}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await summarize();
  await writeFile(join(repoRoot, "bench", "summary.md"), text);
  process.stdout.write(`${text}\nwrote bench/summary.md\n`);
}
