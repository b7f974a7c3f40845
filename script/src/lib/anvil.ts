import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { createPublicClient, http } from "viem";
import { bin, childEnv } from "./paths.ts";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8545;
export const LOCAL_CHAIN_ID = 31337;

export interface AnvilOptions {
  host?: string;
  port?: number;
  chainId?: number;
  /** Extra anvil flags, e.g. ['--disable-code-size-limit']. */
  args?: string[];
  /** Append anvil's own log (every RPC call) here; without it anvil runs with --silent. */
  logFile?: string;
  /** How long to wait for the RPC to answer. */
  startTimeoutMs?: number;
}

export interface Anvil {
  url: string;
  host: string;
  port: number;
  chainId: number;
  /** anvil's own PID (the native binary is spawned directly, not through a Node launcher). */
  pid: number;
  /** Resolves once anvil has exited, with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export class PortInUseError extends Error {
  override name = "PortInUseError";
}

/** Rejects with a PortInUseError naming the port if something already listens on host:port. */
export function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") {
        reject(
          new PortInUseError(
            `port ${port} on ${host} is already in use (another anvil or local stack?). ` +
              "Stop that process, or pick another port with ANVIL_PORT=<port>.",
          ),
        );
      } else {
        reject(new Error(`cannot listen on ${host}:${port}: ${e.message}`));
      }
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePromise()));
  });
}

/** A TCP port that was free on `host` a moment ago (for private test/bench chains). */
export function freePort(host = DEFAULT_HOST): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolvePromise(port) : reject(new Error("no free port"))));
    });
  });
}

// Every anvil this process started and has not seen exit: killed on the way out, so none is orphaned even when
// the launcher dies of an uncaught error.
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Starts anvil and resolves once its RPC answers with the expected chain id. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const host = opts.host ?? DEFAULT_HOST;
  const port = opts.port ?? DEFAULT_PORT;
  const chainId = opts.chainId ?? LOCAL_CHAIN_ID;
  await assertPortFree(host, port);

  const args = ["--host", host, "--port", String(port), "--chain-id", String(chainId), ...(opts.args ?? [])];
  let logFd: number | undefined;
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    logFd = openSync(opts.logFile, "a");
  } else {
    args.push("--silent");
  }
  const child = spawn(bin("anvil"), args, {
    env: childEnv(),
    stdio: ["ignore", logFd ?? "ignore", "pipe"],
  });
  if (logFd !== undefined) closeSync(logFd);
  if (child.pid === undefined) {
    // spawn failed synchronously (e.g. ENOENT); the 'error' event carries the reason.
    const err = await new Promise<Error>((r) => child.once("error", r));
    throw new Error(`cannot start ${bin("anvil")}: ${err.message}`);
  }
  const pid = child.pid;
  live.add(child);

  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      r({ code, signal });
    });
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const url = `http://${host}:${port}`;
  const anvil: Anvil = {
    url,
    host,
    port,
    chainId,
    pid,
    exited,
    isRunning: () => running,
    async stop(graceMs = 5000) {
      if (!running) {
        await exited;
        return;
      }
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 1000 }) });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (!running) {
      const { code, signal } = await exited;
      const why = stderr.trim() || `exited with ${signal ?? code}`;
      throw new Error(`anvil failed to start on ${host}:${port}: ${why}`);
    }
    try {
      const id = await client.getChainId();
      if (id !== chainId) {
        await anvil.stop();
        throw new Error(`anvil on ${url} answers chain id ${id}, expected ${chainId}`);
      }
      return anvil;
    } catch (e) {
      if (e instanceof Error && e.message.startsWith("anvil on")) throw e;
      if (Date.now() > deadline) {
        await anvil.stop();
        throw new Error(
          `anvil did not answer on ${url} within ${opts.startTimeoutMs ?? 20_000} ms. ${stderr.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
