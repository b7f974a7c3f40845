/**
 * The host agent for the daemon tests, in this process behind its real HTTP API on a Unix socket, on
 * libvirt's `test:///default` driver: domains are defined, started and destroyed for real in libvirt's test
 * driver; overlays, secrets and the guest's SSH banner use the host agent's own test doubles
 * (host-agent/test/support/doubles.ts) since that driver runs no QEMU. The inventory is this machine's own.
 * One test (realvm.test.ts) uses the real QEMU driver instead.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentClient, type ApiServer, HostAgent, startApiServer } from "@computehive/host-agent";
import { pino } from "pino";
import { discover } from "../../host-agent/src/inventory/inventory.ts";
import { openLibvirt } from "../../host-agent/src/vm/libvirt.ts";
import { FakeOverlays, fakeSsh, MemorySecrets } from "../../host-agent/test/support/doubles.ts";

export interface TestAgent {
  agent: HostAgent;
  client: AgentClient;
  socketPath: string;
  /** Provisionings recorded in the VM journal for a booking (1 = provisioned once, never twice). */
  intents(bookingId: bigint | string): number;
  close(): Promise<void>;
}

export async function startTestAgent(): Promise<TestAgent> {
  const stateDir = await mkdtemp(join(tmpdir(), "oracle-agent-"));
  const conn = await openLibvirt("test:///default");
  const inventory = await discover();
  const agent = await HostAgent.start({
    stateDir,
    connection: conn,
    libvirtUri: "test:///default",
    overlays: new FakeOverlays(),
    secrets: new MemorySecrets(),
    inventory: async () => inventory,
    guest: {
      kernel: "/var/lib/computehive/guest/vmlinuz",
      initrd: "/var/lib/computehive/guest/initrd.gz",
      cmdline: "console=ttyS0",
    },
    baseImage: "/var/lib/computehive/base.qcow2",
    portRange: { min: 42000, max: 42999 },
    waitForSsh: fakeSsh.wait,
    sshReadyTimeoutMs: 5000,
    logger: pino({ level: "silent" }),
  });
  const socketPath = join(stateDir, "agent.sock");
  const server: ApiServer = await startApiServer({
    agent,
    listen: { socketPath },
    logger: pino({ level: "silent" }),
  });
  return {
    agent,
    client: new AgentClient({ socketPath }),
    socketPath,
    intents: (id) =>
      agent.journal.records.filter((r) => r.booking === String(id) && r.type === "intent").length,
    close: async () => {
      await server.close();
      await agent.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
