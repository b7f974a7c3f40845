// `npm run bench:vm`: how long a borrower waits for a VM, measured through the agent's API on its Unix socket.
//
// Five bookings, one after the other, each: POST /v1/bookings (the agent provisions the VM and answers once the
// guest's sshd sends its banner), then the borrower's first command over SSH with the endpoint's certificate
// (OpenSSH's client: ssh2 cannot log in with a certificate, see test/realvm.test.ts), then DELETE.
//
// Figures, written to bench/vm.json (measured values only; nothing is written unless every run succeeded):
// - `agentOverheadMs*`: the agent's own time, from the request's arrival (`timing.receivedAt`) to libvirt
//   starting the domain (`timing.domainStartedAt`, the journal's `started` record): key checks, port, LUKS
//   overlay, libvirt secret, seed, domain XML, define, start. The agent keeps one encrypted overlay made ahead
//   (src/vm/overlay-pool.ts); before each run the bench waits until it is ready again, as it is between real
//   bookings, which are not seconds apart. A run that found the pool empty would pay qemu-img's ~2.5 s.
// - `requestToSshMs*`: from the request's arrival to the first SSH command's success (`id -un` returned).
// - `accel`: "kvm" or "tcg", as the agent chose from the inventory.
//
// Targets: agent overhead <= 1,000 ms median; request -> SSH <= 15,000 ms median under TCG. A miss prints MISS;
// the exit status is non-zero only when something could not be measured. Needs root (QEMU, libvirt).
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { HostAgent } from "../src/agent/agent.ts";
import { AgentClient } from "../src/api/client.ts";
import { type ApiServer, startApiServer } from "../src/api/server.ts";
import { defaultGuestCacheDir } from "../src/guest/build.ts";
import { knownHostsText } from "../src/ssh/endpoint.ts";

/** bench/vm.json. */
export interface VmBenchReport {
  runs: number;
  accel: "kvm" | "tcg";
  agentOverheadMsMedian: number;
  agentOverheadMsMax: number;
  requestToSshMsMedian: number;
  requestToSshMsMax: number;
}

const RUNS = Number(process.env.BENCH_VM_RUNS ?? 5);
const TARGET_OVERHEAD_MS = 1_000;
const TARGET_TO_SSH_TCG_MS = 15_000;
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

const log = (line: string) => process.stderr.write(`[bench:vm] ${line}\n`);

function exec(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000, encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The journal's step times of one session, as durations: where the agent's overhead goes. */
function breakdown(agent: HostAgent, bookingId: string, receivedAt: number): string {
  const recs = agent.journal.records.filter((r) => r.booking === bookingId);
  const at = (type: string) => recs.find((r) => r.type === type)?.at;
  const steps: [string, string, string][] = [
    ["checks+port", "", "intent"],
    ["overlay (qemu-img, LUKS)", "intent", "overlayCreated"],
    ["secret (virsh x2)", "overlayCreated", "secretValueSet"],
    ["seed", "agentKeyDiscarded", "seedCreated"],
    ["define", "seedCreated", "domainDefined"],
    ["start", "domainDefined", "started"],
  ];
  return steps
    .map(([name, from, to]) => {
      const a = from ? at(from) : receivedAt;
      const b = at(to);
      return `${name} ${a !== undefined && b !== undefined ? b - a : "?"} ms`;
    })
    .join(", ");
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    log("needs root (QEMU and libvirt's qemu:///system): nothing measured. Run: sudo npm run bench:vm");
    return 1;
  }
  const dir = await mkdtemp("/var/tmp/computehive-bench-vm-");
  await chmod(dir, 0o711); // QEMU (libvirt-qemu) traverses it to the session files
  let agent: HostAgent | undefined;
  let server: ApiServer | undefined;
  try {
    const keyPath = join(dir, "id_ed25519");
    const kg = await exec("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "bench@computehive",
      "-f",
      keyPath,
    ]);
    if (kg.code !== 0) throw new Error(`ssh-keygen: ${kg.stderr}`);
    const borrowerSshKey = (await readFile(`${keyPath}.pub`, "utf8")).trim();
    agent = await HostAgent.start({
      stateDir: join(dir, "agent"),
      guestCacheDir: defaultGuestCacheDir(),
      logger: pino({ level: "warn" }),
      defaultDiskGiB: 2, // the listing's disk below: the pooled overlays are made at this size
    });
    const socketPath = join(dir, "agent", "agent.sock");
    server = await startApiServer({ agent, listen: { socketPath }, logger: pino({ level: "warn" }) });
    const client = new AgentClient({ socketPath });
    log(
      `agent up: accel ${agent.accel}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"}); ${RUNS} runs, one after the other`,
    );

    const overhead: number[] = [];
    const toSsh: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await agent.overlayPool?.whenFull();
      const bookingId = String(7_700_000 + (process.pid % 10_000) * 10 + i);
      const now = Math.floor(Date.now() / 1000);
      const r = await client.provision({
        bookingId,
        window: { start: now - 5, end: now + 600 },
        borrowerSshKey,
        hardware: { vcpus: 1, memoryMiB: 512, diskGiB: 2 },
      });
      const ep = r.endpoint;
      const certPath = join(dir, `cert-${bookingId}.pub`);
      const knownHosts = join(dir, `known_hosts-${bookingId}`);
      await writeFile(certPath, `${ep.certificate}\n`);
      await writeFile(knownHosts, knownHostsText(ep));
      let sshOkAt: number | undefined;
      for (let attempt = 1; attempt <= 5 && sshOkAt === undefined; attempt++) {
        const res = await exec("ssh", [
          ...["-F", "/dev/null", "-i", keyPath, "-o", `CertificateFile=${certPath}`],
          ...["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
          ...["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"],
          ...["-p", String(ep.port), `${ep.user}@${ep.host}`, "id -un"],
        ]);
        if (res.code === 0 && res.stdout.trim() === ep.user) sshOkAt = Date.now();
        else log(`run ${i + 1}: ssh attempt ${attempt} failed: ${res.stderr.trim()}`);
      }
      // Connections the guest's sshd saw (the agent's banner probes and the login): each costs it a fork.
      const consoleLog = await readFile(
        join(dir, "agent", "sessions", `${bookingId}-${r.sessionId}`, "console.log"),
        "utf8",
      ).catch(() => "");
      const sshdConnections = consoleLog.split("\n").filter((l) => l.startsWith("Connection from ")).length;
      const { facts } = await client.destroy(bookingId);
      if (sshOkAt === undefined) throw new Error(`run ${i + 1}: no SSH command succeeded`);
      if (!facts.domainGone || !facts.overlayRemoved || !facts.seedRemoved || !facts.keyDiscarded) {
        throw new Error(`run ${i + 1}: teardown incomplete: ${JSON.stringify(facts)}`);
      }
      const t = r.timing;
      overhead.push(t.domainStartedAt - t.receivedAt);
      toSsh.push(sshOkAt - t.receivedAt);
      log(
        `run ${i + 1}: overhead ${fmt(t.domainStartedAt - t.receivedAt)} ms (${breakdown(agent, bookingId, t.receivedAt)}); ` +
          `boot to banner ${fmt(t.sshReadyAt - t.domainStartedAt)} ms; first command ${fmt(sshOkAt - t.sshReadyAt)} ms after; ` +
          `request -> SSH ${fmt(sshOkAt - t.receivedAt)} ms; sshd saw ${sshdConnections} connections; torn down`,
      );
    }

    const report: VmBenchReport = {
      runs: RUNS,
      accel: agent.accel,
      agentOverheadMsMedian: median(overhead),
      agentOverheadMsMax: Math.max(...overhead),
      requestToSshMsMedian: median(toSsh),
      requestToSshMsMax: Math.max(...toSsh),
    };
    const pass = (ok: boolean) => (ok ? "pass" : "MISS");
    const sshTarget = report.accel === "tcg" ? TARGET_TO_SSH_TCG_MS : undefined;
    process.stdout.write(
      `${table(
        ["figure", "value", "target", "result"],
        [
          ["runs", String(report.runs), "", ""],
          ["accel", report.accel, "", ""],
          [
            "agentOverheadMsMedian",
            fmt(report.agentOverheadMsMedian),
            `<= ${fmt(TARGET_OVERHEAD_MS)}`,
            pass(report.agentOverheadMsMedian <= TARGET_OVERHEAD_MS),
          ],
          ["agentOverheadMsMax", fmt(report.agentOverheadMsMax), "", ""],
          [
            "requestToSshMsMedian",
            fmt(report.requestToSshMsMedian),
            sshTarget ? `<= ${fmt(sshTarget)} (TCG)` : "(target is for TCG)",
            sshTarget ? pass(report.requestToSshMsMedian <= sshTarget) : "",
          ],
          ["requestToSshMsMax", fmt(report.requestToSshMsMax), "", ""],
        ],
      )}\n`,
    );
    await mkdir(join(repoRoot, "bench"), { recursive: true });
    await writeFile(join(repoRoot, "bench", "vm.json"), `${JSON.stringify(report, null, 2)}\n`);
    log("wrote bench/vm.json");
    return 0;
  } finally {
    await server?.close().catch(() => {});
    await agent?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
