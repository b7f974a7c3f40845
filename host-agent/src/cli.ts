#!/usr/bin/env -S npx --no-install tsx
/**
 * The host agent's command line. Run it with tsx from the repository:
 *
 *   npx tsx host-agent/src/cli.ts doctor [--json]
 *   npx tsx host-agent/src/cli.ts inventory [--json]
 *   npx tsx host-agent/src/cli.ts serve [--socket PATH | --listen 127.0.0.1:PORT --token-file FILE] [--state-dir DIR]
 *   npx tsx host-agent/src/cli.ts guest build [--cache-dir DIR] [--json]
 *
 * Exit status: 0 done, 1 failed (doctor: something is blocked), 2 usage error.
 */
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import { defaultStateDir, HostAgent } from "./agent/agent.ts";
import { type ApiListen, startApiServer } from "./api/server.ts";
import { buildGuestImage, defaultGuestCacheDir } from "./guest/build.ts";
import { runDoctorCli } from "./inventory/doctor.ts";
import { discover } from "./inventory/inventory.ts";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export const USAGE = `usage: computehive-host-agent <command> [options]

commands:
  doctor [--json]           what stands between this machine and GPU passthrough, with a fix per blocker
                            (more options: doctor --help); exit 1 when a step is blocked
  inventory [--json]        GPUs, IOMMU groups, VFIO and KVM readiness as the agent sees them
      --libvirt-uri URI     libvirt connection to check (default qemu:///system)
  serve                     run the agent and its HTTP API for the oracle-node
      --socket PATH         Unix socket, mode 0660 (default <state-dir>/agent.sock)
      --socket-group GROUP  give the socket to this group (name or gid), e.g. the oracle-node's
      --listen HOST:PORT    loopback TCP instead (127.0.0.1 or [::1]); needs --token-file
      --token-file FILE     bearer token (>= 32 characters; the file must not be group/world-readable)
      --state-dir DIR       default /var/lib/computehive-agent as root, else .computehive/agent
      --libvirt-uri URI     default qemu:///system
      --public-host HOST    host name put in endpoints (default 127.0.0.1)
      --guest-cache DIR     where the guest image is built and cached (default <state-dir>/guest)
      --log-level LEVEL     pino level (default info)
  guest build               build (or find in the cache) the guest kernel + initramfs from Debian packages
      --cache-dir DIR       default <repo>/.computehive/guest
      --json                print the image's manifest as JSON
  help                      this text
`;

class UsageError extends Error {}

/** `--flag value` and `--flag=value`; `bare` lists flags that take no value. */
function parseFlags(args: readonly string[], known: readonly string[], bare: readonly string[] = []) {
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (![...known, ...bare].includes(name)) throw new UsageError(`unknown option --${name}`);
    if (bare.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

const str = (v: string | true | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/** Runs one command; returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      case "doctor":
        return await runDoctorCli(rest, io);
      case "inventory":
        return await inventoryCommand(rest, io);
      case "serve":
        return await serveCommand(rest, io);
      case "guest":
        return await guestCommand(rest, io);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`computehive-host-agent: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`computehive-host-agent ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

async function inventoryCommand(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes("--help")) {
    io.stdout(USAGE);
    return 0;
  }
  const flags = parseFlags(args, ["libvirt-uri"], ["json"]);
  const inv = await discover({ libvirtUri: str(flags.get("libvirt-uri")) });
  if (flags.has("json")) {
    io.stdout(`${JSON.stringify(inv, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `mode: ${inv.mode}`,
    `summary: ${inv.summary}`,
    `cpu: ${inv.cpu.model} (${inv.cpu.cores} logical CPUs), RAM ${inv.ramMiB ?? "?"} MiB`,
    `kvm: ${inv.kvm.usable ? "usable" : "unusable"} (${inv.kvm.reason})`,
    `iommu: ${inv.iommu.enabled ? `on, ${inv.iommu.groupCount} groups` : "off"}`,
    `libvirt: ${inv.libvirt.available ? `${inv.libvirt.uri} ${inv.libvirt.libraryVersion ?? ""}`.trim() : `unavailable (${inv.libvirt.reason})`}`,
    `gpus: ${inv.gpus.length === 0 ? "none" : ""}`,
    ...inv.gpus.map(
      (g) =>
        `  ${g.pciAddress} ${g.name}${g.vramMiB ? ` ${g.vramMiB} MiB` : ""}: ${g.vfioReady ? "VFIO-ready" : `not ready (${g.blockers.map((b) => b.code).join(", ")})`}, IOMMU group ${g.iommuGroup ?? "none"}`,
    ),
    ...inv.warnings.map((w) => `warning: ${w}`),
  ];
  io.stdout(`${lines.join("\n")}\n`);
  return 0;
}

async function guestCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === undefined) {
    io.stdout(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "build") throw new UsageError(`unknown guest command ${sub}`);
  const flags = parseFlags(rest, ["cache-dir"], ["json"]);
  const img = await buildGuestImage({
    cacheDir: str(flags.get("cache-dir")) ?? defaultGuestCacheDir(),
    log: (m) => io.stderr(`${m}\n`),
  });
  if (flags.has("json")) io.stdout(`${JSON.stringify(img, null, 2)}\n`);
  else
    io.stdout(
      `${img.cached ? "cached" : "built"} ${img.dir}\n  kernel ${img.kernel} (${img.version}, ${img.sizes.kernel} B)\n  initrd ${img.initrd} (${img.sizes.initrd} B)\n  cmdline ${img.cmdline}\n  ${img.packages.length} Debian packages, ${img.ms} ms\n`,
    );
  return 0;
}

/** Reads the bearer token, refusing a file others can read (the token is as good as root on the VMs). */
export async function readTokenFile(path: string): Promise<string> {
  const st = await lstat(path);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(
      `${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const token = (await readFile(path, "utf8")).trim();
  if (token.length < 32 || /\s/.test(token)) {
    throw new Error(`${path} must hold one token of at least 32 non-space characters`);
  }
  return token;
}

/** A group name from /etc/group, or a numeric gid. */
async function resolveGroup(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile("/etc/group", "utf8");
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`no group ${group} in /etc/group`);
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`--listen ${value}: use HOST:PORT, e.g. 127.0.0.1:7450`);
  const host = (m[1] ?? m[2]) as string;
  if (!["127.0.0.1", "::1", "localhost"].includes(host)) {
    throw new UsageError(`--listen ${value}: the API listens on loopback only (127.0.0.1 or [::1])`);
  }
  return { host, port };
}

async function serveCommand(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes("--help")) {
    io.stdout(USAGE);
    return 0;
  }
  const flags = parseFlags(args, [
    "socket",
    "socket-group",
    "listen",
    "token-file",
    "state-dir",
    "libvirt-uri",
    "public-host",
    "guest-cache",
    "log-level",
  ]);
  const listenFlag = str(flags.get("listen"));
  const socketFlag = str(flags.get("socket"));
  const tokenFile = str(flags.get("token-file"));
  if (listenFlag && socketFlag) throw new UsageError("give --socket or --listen, not both");
  if (listenFlag && !tokenFile) throw new UsageError("--listen needs --token-file");
  if (listenFlag && flags.has("socket-group"))
    throw new UsageError("--socket-group goes with a socket, not --listen");
  // A token with a socket is allowed: both checks then apply.
  const stateDir = str(flags.get("state-dir")) ?? defaultStateDir();
  const token = tokenFile ? await readTokenFile(tokenFile) : undefined;
  const listen: ApiListen = listenFlag
    ? parseListen(listenFlag)
    : {
        socketPath: socketFlag ?? join(stateDir, "agent.sock"),
        socketGid: flags.has("socket-group")
          ? await resolveGroup(str(flags.get("socket-group")) as string)
          : undefined,
      };
  const logger = pino({ name: "computehive-host-agent", level: str(flags.get("log-level")) ?? "info" });
  const agent = await HostAgent.start({
    stateDir,
    libvirtUri: str(flags.get("libvirt-uri")),
    publicHost: str(flags.get("public-host")),
    guestCacheDir: str(flags.get("guest-cache")),
    logger,
  });
  const api = await startApiServer({ agent, listen, token, logger });
  io.stderr(`computehive-host-agent: serving on ${api.url} (state ${stateDir}); Ctrl-C to stop\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info(
    { signal },
    "stopping: no new requests; VMs keep running and their teardown is re-armed at the next start",
  );
  await api.close();
  await agent.close();
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`computehive-host-agent: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
