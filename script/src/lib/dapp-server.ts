// The dApp for `npm start`: `next build` of dapp/ when its build is missing or older than its sources (the
// dApp's own files and the sdk it bundles), then `next start` on a port, configured at run time through
// COMPUTEHIVE_DEPLOYMENT / COMPUTEHIVE_RPC_URL / COMPUTEHIVE_SUBGRAPH_URL (dapp/lib/server-config.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { childEnv, repoRoot } from "./paths.ts";

export const dappDir = join(repoRoot, "dapp");
const nextBin = join(dappDir, "node_modules", ".bin", "next");
const nextBinFallback = join(repoRoot, "node_modules", ".bin", "next");

/** What a build depends on: the dApp's sources and configuration, and the sdk it bundles. */
const SOURCES = [
  join(dappDir, "app"),
  join(dappDir, "components"),
  join(dappDir, "lib"),
  join(dappDir, "public"),
  join(dappDir, "next.config.ts"),
  join(dappDir, "package.json"),
  join(dappDir, "tsconfig.json"),
  join(repoRoot, "sdk", "src"),
  join(repoRoot, "sdk", "package.json"),
];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(path)) {
    if (e === "node_modules" || e.startsWith(".")) continue;
    m = Math.max(m, newest(join(path, e)));
  }
  return m;
}

/** Why `next build` must run (undefined: dapp/.next is there and newer than every source). */
export function dappBuildReason(): string | undefined {
  const buildId = join(dappDir, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return "dapp/.next is missing";
  const built = statSync(buildId).mtimeMs;
  const src = Math.max(...SOURCES.map(newest));
  return src > built ? "the dApp's sources changed since dapp/.next was built" : undefined;
}

function next(): string {
  return existsSync(nextBin) ? nextBin : nextBinFallback;
}

function pipeLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const s of [child.stdout, child.stderr]) {
    if (s) createInterface({ input: s }).on("line", onLine);
  }
}

/** `next build` in dapp/, its output shown line by line (about a minute). */
export async function buildDapp(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const child = spawn(next(), ["build"], {
    cwd: dappDir,
    env: childEnv({ NEXT_TELEMETRY_DISABLED: "1" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  pipeLines(child, (line) => {
    if (line.trim() !== "") log(`dapp build: ${line}`);
  });
  // Never outlive start.ts (a signal during the build exits it).
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`next build failed (exit ${code}); see its output above`);
  log(`dApp built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

export interface DappServer {
  url: string;
  pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface DappOptions {
  host: string;
  port: number;
  deploymentFile: string;
  rpcUrl: string;
  subgraphUrl: string;
  log: (line: string) => void;
  /** Called as soon as the process exists, so a signal during start-up can stop it. */
  onSpawn?: (server: DappServer) => void;
  startTimeoutMs?: number;
}

/** `next start` of the built dApp; resolves once `/api/config` answers. */
export async function startDapp(opts: DappOptions): Promise<DappServer> {
  // Its own process group: a terminal's Ctrl-C reaches only start.ts, which stops everything in order.
  const child = spawn(next(), ["start", "-p", String(opts.port), "-H", opts.host], {
    cwd: dappDir,
    env: childEnv({
      NEXT_TELEMETRY_DISABLED: "1",
      COMPUTEHIVE_DEPLOYMENT: opts.deploymentFile,
      COMPUTEHIVE_RPC_URL: opts.rpcUrl,
      COMPUTEHIVE_SUBGRAPH_URL: opts.subgraphUrl,
    }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`cannot run ${next()}`);
  const pid = child.pid;
  let tail = "";
  pipeLines(child, (line) => {
    tail = `${tail}${line}\n`.slice(-4000);
    if (/error|warn/i.test(line)) opts.log(`dapp: ${line}`);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const server: DappServer = {
    url: `http://${opts.host}:${opts.port}`,
    pid,
    exited,
    async stop(graceMs = 5000) {
      if (done) return;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-pid, sig);
        } catch {
          child.kill(sig);
        }
      };
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  opts.onSpawn?.(server);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (done) throw new Error(`next start exited before answering:\n${tail}`);
    try {
      const res = await fetch(`${server.url}/api/config`);
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await server.stop();
  throw new Error(`the dApp did not answer at ${server.url}/api/config in time:\n${tail}`);
}
