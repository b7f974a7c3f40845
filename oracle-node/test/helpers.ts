/**
 * Test helpers of the oracle-node: a private anvil with the market deployed (script/DeployMarket.s.sol, as
 * `npm start` does it), host agents serving their real HTTP API on libvirt's `test:///default` driver with an
 * inventory fixture (CPU-only, or a VFIO-ready GPU), the CLI run as a child process, secret files.
 *
 * The host agent's doubles are its own (host-agent/test/support/doubles.ts): in-memory libvirt secrets,
 * overlays as plain files (test:///default has no disks), a faked guest SSH banner (no guest runs there).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ApiServer,
  HostAgent,
  type HostAgentOptions,
  inventory as inv,
  startApiServer,
  vm,
} from "@computehive/host-agent";
import type { Deployment } from "@computehive/sdk";
import { pino } from "pino";
import { type Address, createPublicClient, type Hex, http, type PublicClient } from "viem";
import { FakeOverlays, fakeSsh, MemorySecrets } from "../../host-agent/test/support/doubles.ts";
import { devAccount } from "../../script/src/lib/accounts.ts";
import { type Anvil, freePort, startAnvil } from "../../script/src/lib/anvil.ts";
import { deployMarket } from "../../script/src/lib/deploy.ts";
import { deploymentsDir } from "../../script/src/lib/paths.ts";

export { ANVIL_MNEMONIC, type DevAccount, devAccount } from "../../script/src/lib/accounts.ts";
export { freePort } from "../../script/src/lib/anvil.ts";

export type Inventory = inv.Inventory;

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI_PATH = join(REPO_ROOT, "oracle-node", "src", "cli.ts");
/** tsx's loader by absolute URL, so the CLI also runs from a working directory outside the repository. */
const TSX_LOADER = import.meta.resolve("tsx");
const INVENTORY_FIXTURES = join(REPO_ROOT, "host-agent", "test", "fixtures", "inventory");

/* CHAIN */

/**
 * Market parameters short enough for tests: 60 s slots (the minimum), one-minute graces, dispute window,
 * cancel cut-off and a two-minute unbonding delay. Minimum bond stays 1 ETH.
 */
export const TEST_MARKET_ENV: Readonly<Record<string, string>> = {
  MARKET_SLOT_LENGTH: "60",
  MARKET_ACTIVATION_GRACE: "60",
  MARKET_REPORT_GRACE: "60",
  MARKET_DISPUTE_WINDOW: "60",
  MARKET_ARBITER_DEADLINE: "120",
  MARKET_CANCEL_CUTOFF: "60",
  MARKET_UNBONDING_DELAY: "120",
};

export interface TestChain {
  anvil: Anvil;
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  /** The record `deployMarket` wrote (under deployments/.tmp/, removed by `stop`). */
  deploymentFile: string;
  client: PublicClient;
  /** Chain time: the latest block's timestamp. */
  now(): Promise<number>;
  /** Moves chain time forward and mines a block. */
  increaseTime(seconds: number): Promise<void>;
  /** Stops anvil and removes the deployment record's folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts anvil on a free port and deploys the market with dev account 0 as deployer/owner/treasury/arbiter.
 * `env` adds to (and overrides) TEST_MARKET_ENV: MARKET_* variables of script/DeployMarket.s.sol.
 */
export async function startChain(
  opts: { env?: Record<string, string>; anvilArgs?: string[] } = {},
): Promise<TestChain> {
  const anvil = await startAnvil({ port: await freePort(), args: opts.anvilArgs });
  const outDir = join(deploymentsDir, ".tmp", `oracle-${process.pid}-${randomBytes(4).toString("hex")}`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await anvil.stop();
    await rm(outDir, { recursive: true, force: true });
    await rmdir(join(deploymentsDir, ".tmp")).catch(() => {});
  };
  try {
    const { deployment, file } = await deployMarket({
      rpcUrl: anvil.url,
      privateKey: devAccount(0).privateKey,
      outDir,
      env: { ...TEST_MARKET_ENV, ...opts.env },
    });
    const client = createPublicClient({ transport: http(anvil.url), pollingInterval: 50 }) as PublicClient;
    const rpc = (method: string, params: unknown[]) =>
      client.request({ method, params } as unknown as Parameters<typeof client.request>[0]);
    return {
      anvil,
      rpcUrl: anvil.url,
      chainId: anvil.chainId,
      deployment,
      deploymentFile: file,
      client,
      now: async () => Number((await client.getBlock()).timestamp),
      increaseTime: async (seconds) => {
        await rpc("evm_increaseTime", [seconds]);
        await rpc("evm_mine", []);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/* INVENTORY FIXTURES */

interface FixtureHost {
  kvmDevice: { exists: boolean; characterDevice: boolean; openable: boolean; error: string | null };
  nvidiaSmi:
    | { installed: false }
    | { installed: true; exitCode: number; stdout: string; stderr: string }
    | { installed: true; csv: string; xml: string; telemetry: string };
  virsh: { installed: false } | { installed: true; exitCode: number; stdout: string; stderr: string };
}

const enoent = (file: string) => Object.assign(new Error(`spawn ${file} ENOENT`), { code: "ENOENT" });

/**
 * `discover()` run on one of host-agent/test/fixtures/inventory/<name> (a machine's sysfs/procfs copy with its
 * nvidia-smi and virsh outputs replayed from host.json), e.g. `no-gpu`, `rtx4090-vfio`, `a100x2-nvidia`.
 */
export async function fixtureInventory(name: string): Promise<Inventory> {
  const dir = join(INVENTORY_FIXTURES, name);
  const host = JSON.parse(readFileSync(join(dir, "host.json"), "utf8")) as FixtureHost;
  const run: inv.CommandRunner = async (file, args) => {
    if (file === "nvidia-smi") {
      const smi = host.nvidiaSmi;
      if (!smi.installed) throw enoent(file);
      if ("exitCode" in smi) return { code: smi.exitCode, stdout: smi.stdout, stderr: smi.stderr };
      const wanted = args.join(" ");
      const path =
        wanted === inv.INVENTORY_ARGS.join(" ")
          ? smi.csv
          : wanted === inv.TELEMETRY_ARGS.join(" ")
            ? smi.telemetry
            : wanted === inv.XML_ARGS.join(" ")
              ? smi.xml
              : null;
      if (path === null) throw new Error(`fixture ${name}: unexpected nvidia-smi ${wanted}`);
      return { code: 0, stdout: readFileSync(join(dir, path), "utf8"), stderr: "" };
    }
    if (file === "virsh") {
      if (!host.virsh.installed) throw enoent(file);
      return { code: host.virsh.exitCode, stdout: host.virsh.stdout, stderr: host.virsh.stderr };
    }
    throw new Error(`fixture ${name}: unexpected command ${file}`);
  };
  return inv.discover({
    sysRoot: join(dir, "sys"),
    procRoot: join(dir, "proc"),
    devRoot: "/dev",
    run,
    probeKvm: async (devRoot) => ({ path: join(devRoot, "kvm"), ...host.kvmDevice }),
    now: () => new Date("2026-01-01T00:00:00.000Z"),
  });
}

/** A machine without any GPU (fixture `no-gpu`): mode cpu-only-development. */
export function cpuOnlyInventory(): Promise<Inventory> {
  return fixtureInventory("no-gpu");
}

/** The name and memory nvidia-smi gives an RTX 4090 (fixture rtx4090-shared-group's query-gpu.csv). */
export const RTX4090 = { name: "NVIDIA GeForce RTX 4090", vramMiB: 24564 } as const;

/**
 * A gpu-passthrough machine: fixture `rtx4090-vfio` (an RTX 4090 on vfio-pci, KVM usable), with the card's name
 * and memory as nvidia-smi reports them (`RTX4090`: on vfio-pci the host's nvidia-smi cannot see it, so the
 * fixture alone has neither), plus a second RTX 4090 still on the nvidia driver (not VFIO-ready, blocker
 * driver-not-vfio). Checked against the inventory schema.
 */
export async function gpuInventory(): Promise<Inventory> {
  const base = await fixtureInventory("rtx4090-vfio");
  const ready = base.gpus.find((g) => g.vfioReady);
  if (!ready || base.mode !== "gpu-passthrough") throw new Error("fixture rtx4090-vfio: no VFIO-ready GPU");
  const named = { ...ready, name: RTX4090.name, nameSource: "nvidia-smi" as const, vramMiB: RTX4090.vramMiB };
  const unready: inv.Gpu = {
    ...named,
    pciAddress: "0000:02:00.0",
    driver: "nvidia",
    vfioReady: false,
    iommuGroup: 5,
    groupMembers: [],
    blockers: [
      {
        code: "driver-not-vfio",
        detail: "0000:02:00.0 is bound to nvidia, not vfio-pci.",
        fix: ["echo 0000:02:00.0 > /sys/bus/pci/devices/0000:02:00.0/driver/unbind"],
      },
    ],
  };
  return inv.InventorySchema.parse({ ...base, gpus: [named, unready] });
}

/* HOST AGENT */

export { FakeOverlays, fakeSsh, MemorySecrets };

export interface TestAgent {
  agent: HostAgent;
  server: ApiServer;
  /** The API's Unix socket: pass it as `--agent-socket`. */
  socketPath: string;
  stateDir: string;
  /** What `inventory()` serves from now on (a refresh returns it). */
  setInventory(inventory: Inventory): void;
  /** Closes the API, the agent and its libvirt connection, and removes the state directory. */
  stop(): Promise<void>;
}

/**
 * A host agent on `test:///default` serving its API on `<stateDir>/agent.sock`, with the given inventory.
 * `options` overrides any HostAgent option (e.g. `waitForSsh`, `portRange`, `onTeardown`).
 */
export async function startTestAgent(opts: {
  inventory: Inventory;
  stateDir?: string;
  options?: Partial<HostAgentOptions>;
}): Promise<TestAgent> {
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), "oracle-agent-")));
  let current = opts.inventory;
  const connection = await vm.openLibvirt("test:///default");
  const logger = pino({ level: "silent" });
  const agent = await HostAgent.start({
    stateDir,
    connection,
    libvirtUri: "test:///default",
    overlays: new FakeOverlays(),
    secrets: new MemorySecrets(),
    inventory: async () => current,
    guest: {
      kernel: "/var/lib/computehive/guest/vmlinuz",
      initrd: "/var/lib/computehive/guest/initrd.gz",
      cmdline: "console=ttyS0",
    },
    baseImage: "/var/lib/computehive/base.qcow2",
    portRange: { min: 42000, max: 42999 },
    waitForSsh: fakeSsh.wait,
    sshReadyTimeoutMs: 2000,
    logger,
    ...opts.options,
  });
  const socketPath = join(stateDir, "agent.sock");
  const server = await startApiServer({ agent, listen: { socketPath }, logger });
  let stopped = false;
  return {
    agent,
    server,
    socketPath,
    stateDir,
    setInventory: (inventory) => {
      current = inventory;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close().catch(() => {});
      await agent.close().catch(() => {});
      await connection.connectClose().catch(() => {});
      if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/* THE CLI */

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --import tsx oracle-node/src/cli.ts ...args` from the repository root. The child gets this process's
 * environment without any COMPUTEHIVE_* variable, plus `env` (undefined removes a variable).
 */
export function runCli(
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COMPUTEHIVE_")) env[k] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI_PATH, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/* FILES */

/** Writes `content` to `path` with mode 0600 (a password, a token, a private key), creating the folder. */
export async function writeSecretFile(path: string, content: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

/** A file of mode 0600 holding anvil dev account `index`'s private key (hex, newline-terminated). */
export async function devKeyFile(
  dir: string,
  index: number,
): Promise<{ path: string; address: Address; key: Hex }> {
  const a = devAccount(index);
  const path = await writeSecretFile(join(dir, `dev-${index}.key`), `${a.privateKey}\n`);
  return { path, address: a.address, key: a.privateKey };
}

/** A fresh temporary directory; remove it with `rm(dir, { recursive: true, force: true })`. */
export function tempDir(prefix = "oracle-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
