// The local lender for `npm start`: the host agent's real `serve` and the oracle node's real `run`, each a child
// process of its own (own process group, so a terminal's Ctrl-C reaches only start.ts, which stops them in
// order), and the oracle CLI for the lender's one-time steps.
//
// - The agent runs as root on qemu:///system (it installs/starts libvirt when needed and builds the guest from
//   Debian packages into <repo>/.computehive/guest on first run, cached after). Its state lives in
//   <state>/agent, emptied at every start: the chain is new at every start, so booking ids start again at 1 and
//   an old journal's tombstones would refuse them. Not root: no lender (the agent's `serve` has no development
//   mode; test:///default runs no QEMU and is only for its unit tests) — `lenderUnusable` says why.
// - Keys: the seeded demo host's dev accounts (#1 lender, #2 agent) imported into keystores under
//   <state>/oracle/keys with a development password kept in <state>/oracle/dev-password (0600).
// - Host: the seed's host is reused. It is already registered by the dev lender with the dev agent as its oracle
//   key and the minimum bond, which is exactly what `host register` would do; registering another would leave
//   two demo hosts, one never served.
// - Listing: one honest listing from the agent's real inventory (`listing create`: the VFIO-ready GPUs, or a
//   CPU-only VM described as "no passthrough GPU (development host)"), and the seed's listing, which offers the
//   whole machine, is deactivated so that what a borrower books is what this agent can serve.
// - The daemon: `run --host <id>` with its status endpoint on ORACLE_STATUS_PORT.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { formatEther } from "viem";
import { AgentClient } from "../../../host-agent/src/api/client.ts";
import type { DevAccount } from "./accounts.ts";
import { childEnv, repoRoot } from "./paths.ts";

const execFileP = promisify(execFile);

export const DEV_KEYSTORE_PASSWORD = "computehive-local-dev-only";

/** Why the local lender cannot run on this machine, or undefined when it can. */
export async function lenderUnusable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0)
    return "not root: the host agent runs VMs with QEMU through libvirt's qemu:///system, which needs root (run `sudo npm start`)";
  for (const tool of ["ssh-keygen", "qemu-img"]) {
    try {
      await execFileP("sh", ["-c", `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed (apt-get install openssh-client qemu-utils)`;
    }
  }
  return undefined;
}

export interface ManagedChild {
  name: string;
  pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

function tsxChild(
  name: string,
  args: string[],
  onLine: (line: string, stream: "stdout" | "stderr") => void,
): { child: ChildProcess; managed: ManagedChild } {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`cannot start ${name}`);
  const pid = child.pid;
  if (child.stdout) createInterface({ input: child.stdout }).on("line", (l) => onLine(l, "stdout"));
  if (child.stderr) createInterface({ input: child.stderr }).on("line", (l) => onLine(l, "stderr"));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  return {
    child,
    managed: {
      name,
      pid,
      exited,
      isRunning: () => !done,
      async stop(graceMs = 10_000) {
        if (done) return;
        kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      },
    },
  };
}

/** One oracle CLI command to its end; its JSON answer (`--json`). */
async function oracleCli(args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ["--import", "tsx", "oracle-node/src/cli.ts", ...args, "--json"], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c) => resolve(c));
  });
  if (code !== 0)
    throw new Error(`computehive-oracle ${args[0]} ${args[1] ?? ""} failed (exit ${code}): ${err.trim()}`);
  const start = out.indexOf("{");
  try {
    return JSON.parse(start < 0 ? "{}" : out.slice(start)) as Record<string, unknown>;
  } catch {
    throw new Error(`computehive-oracle ${args[0]} ${args[1] ?? ""}: unexpected output ${out.slice(0, 500)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The names of libvirt's `computehive-*` domains on qemu:///system (running or not). */
export async function computehiveDomains(): Promise<string[]> {
  try {
    const { stdout } = await execFileP("virsh", ["-c", "qemu:///system", "list", "--all", "--name"]);
    return stdout
      .split("\n")
      .map((s) => s.trim())
      .filter((s) => s.startsWith("computehive-"));
  } catch {
    return [];
  }
}

/** The computehive domains whose files live under `dir` (an agent's state folder). */
export async function domainsUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await computehiveDomains()) {
    try {
      const xml = (await execFileP("virsh", ["-c", "qemu:///system", "dumpxml", name])).stdout;
      if (xml.includes(`${dir}/`)) found.push(name);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * The `computehive-booking-*` domains on qemu:///system that are not this agent's (files elsewhere than `dir`).
 * The host agent owns that whole namespace: at start it tears down every such domain its journal does not know,
 * so starting ours while another agent (a test's, the e2e stack's, a real one) runs VMs would destroy them.
 */
export async function foreignDomains(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await computehiveDomains()) {
    if (!name.startsWith("computehive-booking-")) continue;
    const xml = await execFileP("virsh", ["-c", "qemu:///system", "dumpxml", name]).then(
      (r) => r.stdout,
      () => "",
    );
    if (!xml.includes(`${dir}/`)) found.push(name);
  }
  return found;
}

/** Destroys and undefines every computehive domain whose files live under `dir` (left by a killed run). */
async function removeDomainsUnder(dir: string, log: (line: string) => void): Promise<void> {
  for (const name of await domainsUnder(dir)) {
    log(`removing domain ${name}, left by an earlier run that did not stop cleanly`);
    await execFileP("virsh", ["-c", "qemu:///system", "destroy", name]).catch(() => {});
    await execFileP("virsh", ["-c", "qemu:///system", "undefine", name, "--nvram"]).catch(() =>
      execFileP("virsh", ["-c", "qemu:///system", "undefine", name]).catch(() => {}),
    );
  }
}

export interface LenderStackOptions {
  rpcUrl: string;
  deploymentFile: string;
  /** The seeded demo host, its listing and price (the new listing's price). */
  hostId: bigint;
  seedListingId: bigint;
  pricePerHour: bigint;
  lender: DevAccount;
  agent: DevAccount;
  /** The local stack's state folder (.computehive or COMPUTEHIVE_STATE_DIR). */
  stateDir: string;
  statusHost: string;
  statusPort: number;
  log: (line: string) => void;
  /** Called as soon as a child process exists, so that a signal during start-up stops it. */
  onSpawn: (child: ManagedChild) => void;
  /** How long the agent may take to start (a first-run guest build downloads Debian packages). */
  agentStartTimeoutMs?: number;
}

export interface LenderStack {
  agent: ManagedChild;
  daemon: ManagedChild;
  agentSocket: string;
  agentStateDir: string;
  oracleStateDir: string;
  listingId: bigint;
  statusUrl: string;
  passwordFile: string;
  /** Stops the daemon, destroys the agent's VMs, stops the agent, removes any domain of its left behind. */
  stop(log: (line: string) => void): Promise<void>;
  /** The computehive libvirt domains with files in this agent's state folder (none once stopped). */
  leftDomains(): Promise<string[]>;
}

/** Starts the host agent and the oracle daemon for the seeded demo host; see the file's comment. */
export async function startLenderStack(opts: LenderStackOptions): Promise<LenderStack> {
  const { log } = opts;
  const agentStateDir = join(opts.stateDir, "agent");
  const oracleStateDir = join(opts.stateDir, "oracle");
  const guestCache = join(repoRoot, ".computehive", "guest");
  const socketPath = join(agentStateDir, "agent.sock");

  await removeDomainsUnder(agentStateDir, log);
  await rm(agentStateDir, { recursive: true, force: true });
  await mkdir(agentStateDir, { recursive: true, mode: 0o711 });
  await chmod(agentStateDir, 0o711);

  // 1. The host agent.
  log(
    "starting the host agent (qemu:///system; the guest image is built from Debian packages on first run, cached in .computehive/guest)…",
  );
  const started = Date.now();
  const { managed: agent } = tsxChild(
    "host agent",
    [
      "host-agent/src/cli.ts",
      "serve",
      "--state-dir",
      agentStateDir,
      "--socket",
      socketPath,
      "--guest-cache",
      guestCache,
      "--log-level",
      "info",
    ],
    (line) => {
      // pino JSON lines: show the messages (the guest build's progress among them).
      try {
        const j = JSON.parse(line) as { msg?: string; level?: number; reqId?: string };
        if (j.msg === "request" && (j.level ?? 30) < 40) return;
        if (j.msg) log(`agent: ${j.msg}`);
      } catch {
        if (line.trim() !== "") log(`agent: ${line}`);
      }
    },
  );
  opts.onSpawn(agent);
  const client = new AgentClient({ socketPath });
  const deadline = Date.now() + (opts.agentStartTimeoutMs ?? 20 * 60_000);
  let ticker = Date.now();
  for (;;) {
    if (!agent.isRunning()) {
      const { code, signal } = await agent.exited;
      throw new Error(
        `the host agent exited during start-up (${signal ?? `code ${code}`}); see its lines above`,
      );
    }
    try {
      const h = await client.health();
      log(
        `host agent up in ${((Date.now() - started) / 1000).toFixed(0)} s (pid ${agent.pid}, ${h.libvirtUri}, accel ${h.accel}, ${h.mode})`,
      );
      break;
    } catch {
      // not serving yet
    }
    if (Date.now() > deadline) {
      await agent.stop();
      throw new Error("the host agent did not start in time");
    }
    if (Date.now() - ticker > 15_000) {
      ticker = Date.now();
      log(`still waiting for the host agent (${((Date.now() - started) / 1000).toFixed(0)} s)…`);
    }
    await sleep(250);
  }

  // 2. Keys.
  await mkdir(oracleStateDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(oracleStateDir, "dev-password");
  await writeFile(passwordFile, `${DEV_KEYSTORE_PASSWORD}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  const common = [
    "--rpc-url",
    opts.rpcUrl,
    "--deployment",
    opts.deploymentFile,
    "--state-dir",
    oracleStateDir,
    "--agent-socket",
    socketPath,
    "--password-file",
    passwordFile,
  ];
  for (const [role, account] of [
    ["agent", opts.agent],
    ["lender", opts.lender],
  ] as const) {
    const path = join(oracleStateDir, "keys", `${role}.json`);
    let existing: string | undefined;
    try {
      const json = JSON.parse(await readFile(path, "utf8")) as { address?: string };
      existing = json.address?.replace(/^0x/, "").toLowerCase();
    } catch {
      existing = undefined;
    }
    if (existing !== undefined) {
      if (existing !== account.address.slice(2).toLowerCase())
        throw new Error(
          `${path} holds another key (0x${existing}) than dev account #${account.index} (${account.address}); ` +
            "move it away, or set COMPUTEHIVE_STATE_DIR to use another state folder",
        );
      continue;
    }
    const keyFile = join(oracleStateDir, `.import-${role}.key`);
    await writeFile(keyFile, `${account.privateKey}\n`, { mode: 0o600 });
    try {
      await oracleCli(["init", "--role", role, "--import-key-file", keyFile, ...common]);
    } finally {
      await rm(keyFile, { force: true });
    }
    log(`${role} key (dev account #${account.index}, ${account.address}) imported into ${path}`);
  }

  // 3. The listing from the agent's inventory; the seed's whole-machine listing off.
  log(
    `host #${opts.hostId} is the seeded one (bonded, agent ${opts.agent.address}); listing the agent's inventory…`,
  );
  const created = await oracleCli([
    "listing",
    "create",
    "--host",
    String(opts.hostId),
    "--price",
    formatEther(opts.pricePerHour),
    ...common,
  ]);
  const listingId = BigInt(String(created.listingId));
  const hw = created.hardware as Record<string, unknown> | undefined;
  log(
    `listing #${listingId}: ${hw?.cpuCores} CPU cores, ${hw?.ramMiB} MiB RAM, ${hw?.diskGiB} GiB disk, ` +
      `${Number(hw?.gpuCount ?? 0) > 0 ? `${hw?.gpuCount} × ${hw?.gpuModel}` : "no passthrough GPU (development host)"}`,
  );
  await oracleCli(["listing", "deactivate", "--listing", String(opts.seedListingId), ...common]);
  log(`seeded listing #${opts.seedListingId} (the whole machine) deactivated: book #${listingId}`);

  // 4. The daemon. The chain is new: the previous run's daemon state describes another chain.
  await rm(join(oracleStateDir, "daemon-state.json"), { force: true });
  const statusUrl = `http://${opts.statusHost}:${opts.statusPort}`;
  let daemonReady = false;
  const { managed: daemon } = tsxChild(
    "oracle daemon",
    [
      "oracle-node/src/cli.ts",
      "run",
      "--host",
      String(opts.hostId),
      "--status-listen",
      `${opts.statusHost}:${opts.statusPort}`,
      ...common,
    ],
    (line, stream) => {
      if (stream === "stderr") {
        if (/running for host/.test(line)) daemonReady = true;
        if (line.trim() !== "") log(`oracle: ${line}`);
        return;
      }
      try {
        const j = JSON.parse(line) as { msg?: string; level?: number; bookingId?: string };
        if ((j.level ?? 30) >= 40 || j.bookingId !== undefined)
          log(`oracle: ${j.bookingId !== undefined ? `booking ${j.bookingId}: ` : ""}${j.msg ?? line}`);
      } catch {
        if (line.trim() !== "") log(`oracle: ${line}`);
      }
    },
  );
  opts.onSpawn(daemon);
  const daemonDeadline = Date.now() + 60_000;
  for (;;) {
    if (!daemon.isRunning()) {
      const { code, signal } = await daemon.exited;
      throw new Error(`the oracle daemon exited during start-up (${signal ?? `code ${code}`})`);
    }
    if (daemonReady) {
      try {
        if ((await fetch(`${statusUrl}/healthz`)).ok) break;
      } catch {
        // not yet
      }
    }
    if (Date.now() > daemonDeadline) throw new Error("the oracle daemon did not start in time");
    await sleep(250);
  }
  log(`oracle daemon up (pid ${daemon.pid}); status at ${statusUrl}/status`);

  return {
    agent,
    daemon,
    agentSocket: socketPath,
    agentStateDir,
    oracleStateDir,
    listingId,
    statusUrl,
    passwordFile,
    leftDomains: () => domainsUnder(agentStateDir),
    async stop(say) {
      await daemon.stop();
      say(`oracle daemon stopped (pid ${daemon.pid})`);
      // `serve` leaves VMs running on SIGTERM (they survive an agent restart): destroy ours first.
      if (agent.isRunning()) {
        try {
          const { bookings } = await client.list();
          for (const vm of bookings) {
            if (vm.state === "torn-down" || vm.state === "failed") continue;
            say(`destroying the VM of booking ${vm.bookingId} (${vm.domainName})…`);
            await client.destroy(vm.bookingId).catch((e: unknown) => {
              const msg = e instanceof Error ? e.message : String(e);
              if (!/not-found/.test(msg)) say(`  destroy failed: ${msg}`);
            });
          }
        } catch (e) {
          say(`cannot list the agent's VMs: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      await agent.stop(20_000);
      say(`host agent stopped (pid ${agent.pid})`);
      await removeDomainsUnder(agentStateDir, say);
    },
  };
}
