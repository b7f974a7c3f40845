/**
 * The host agent for the daemon tests, in this process behind its real HTTP API on a Unix socket: on libvirt's
 * `test:///default` driver (helpers.ts: domains defined, started and destroyed for real in libvirt's test
 * driver; overlays, secrets and the guest's SSH banner from the host agent's own test doubles, since that
 * driver runs no QEMU) with this machine's own inventory, or for real on qemu:///system (realvm.test.ts and
 * the benchmark).
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { AgentClient, HostAgent, startApiServer } from "@computehive/host-agent";
import { pino } from "pino";
import { defaultGuestCacheDir } from "../../host-agent/src/guest/build.ts";
import { discover } from "../../host-agent/src/inventory/inventory.ts";
import { ensureLibvirt } from "../../host-agent/src/system/daemons.ts";
import { which } from "../../host-agent/src/system/exec.ts";
import { startTestAgent as startHelperAgent } from "./helpers.ts";

export interface TestAgent {
  agent: HostAgent;
  client: AgentClient;
  socketPath: string;
  /** Provisionings recorded in the VM journal for a booking (1 = provisioned once, never twice). */
  intents(bookingId: bigint | string): number;
  close(): Promise<void>;
}

/** helpers.ts's agent on test:///default, with this machine's own inventory. */
export async function startTestAgent(): Promise<TestAgent> {
  const t = await startHelperAgent({ inventory: await discover(), options: { sshReadyTimeoutMs: 5000 } });
  return {
    agent: t.agent,
    client: new AgentClient({ socketPath: t.socketPath }),
    socketPath: t.socketPath,
    intents: (id) =>
      t.agent.journal.records.filter((r) => r.booking === String(id) && r.type === "intent").length,
    close: t.stop,
  };
}

/** Why the real agent (QEMU/TCG on qemu:///system) cannot run here, or undefined when it can. */
export async function realAgentUnusable(log: (line: string) => void): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not root (QEMU and libvirt's qemu:///system need it)";
  if (!(await which("ssh")) || !(await which("ssh-keygen")))
    return "OpenSSH's client (ssh, ssh-keygen) is not installed";
  const env = await ensureLibvirt({ log });
  if (!env.ok) return `libvirt is not usable: ${env.reason}`;
  return undefined;
}

/**
 * The real agent: qemu:///system, the guest built from Debian packages (cached, shared with the host agent's
 * tests), LUKS overlays, its API on a Unix socket. Its state lives in a 0711 folder under /var/tmp (QEMU runs
 * as libvirt-qemu and must traverse it).
 */
export async function startRealAgent(): Promise<TestAgent> {
  const stateDir = await mkdtemp("/var/tmp/computehive-oracle-agent-");
  await chmod(stateDir, 0o711);
  const agent = await HostAgent.start({
    stateDir,
    guestCacheDir: defaultGuestCacheDir(),
    logger: pino({ level: "warn" }),
    portRange: { min: 24000, max: 24999 },
  });
  const socketPath = join(stateDir, "agent.sock");
  const server = await startApiServer({ agent, listen: { socketPath }, logger: pino({ level: "warn" }) });
  return {
    agent,
    client: new AgentClient({ socketPath }),
    socketPath,
    intents: (id) =>
      agent.journal.records.filter((r) => r.booking === String(id) && r.type === "intent").length,
    close: async () => {
      for (const vm of await agent.list()) {
        if (vm.state !== "torn-down" && vm.state !== "failed")
          await agent.destroy(vm.bookingId).catch(() => {});
      }
      await server.close();
      await agent.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
