/**
 * `computehive-oracle run`: the daemon as a long-running command. Loads the agent key from its keystore,
 * checks the RPC, the chain, the market and the host agent, opens the IPFS pinner, serves the status
 * endpoint, and runs until SIGINT/SIGTERM (the tick in progress finishes, the state is saved).
 */
import { join } from "node:path";
import { AgentClient } from "@computehive/host-agent";
import { pino } from "pino";
import { calendarFeed } from "./calendar-feed.ts";
import { OracleError } from "./chain.ts";
import { Daemon } from "./daemon.ts";
import { openPinner } from "./ipfs.ts";
import { loadAccount } from "./keystore.ts";
import {
  type OptionValues,
  openMarket,
  parseId,
  parseUint,
  readPassword,
  readSecretFile,
  resolveCommonOptions,
  UsageError,
} from "./options.ts";
import { startStatusServer } from "./status.ts";

export const DAEMON_OPTIONS = {
  host: { type: "string" },
  confirmations: { type: "string" },
  "poll-ms": { type: "string" },
  "provision-lead": { type: "string" },
  "upkeep-every-ms": { type: "string" },
  "status-listen": { type: "string" },
  "log-level": { type: "string" },
} as const;

export const DAEMON_USAGE = `daemon options:
  --host ID                the host this agent key serves (required)
  --confirmations N        blocks on top of an event before it is acted on (default 0 on chain 31337, else 5)
  --poll-ms MS             how often the chain is read (default 1000)
  --provision-lead S       provision the VM and publish the endpoint this long before the start (default 300)
  --upkeep-every-ms MS     how often the settlement loop runs (default 10000)
  --status-listen H:P      the status endpoint and calendar feeds, loopback only (default 127.0.0.1:8547; "off" for none)
  --log-level LEVEL        pino level (default info); logs are JSON lines on stdout
`;

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export async function runDaemonCommand(values: OptionValues): Promise<number> {
  const opts = resolveCommonOptions(values);
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const hostText = str("host");
  if (!hostText) throw new UsageError("--host ID is required: the host whose agent key this is");
  const hostId = parseId(hostText, "--host");
  const num = (name: string, min: number, max: number) => {
    const v = str(name);
    return v === undefined ? undefined : Number(parseUint(v, `--${name}`, min, max));
  };
  const level = str("log-level") ?? "info";
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}`);
  const listenText = str("status-listen") ?? "127.0.0.1:8547";
  let listen: { host: string; port: number } | undefined;
  if (listenText !== "off") {
    const m = /^(\[[0-9a-f:]+\]|[^:]+):([0-9]{1,5})$/i.exec(listenText);
    if (!m) throw new UsageError(`--status-listen must be HOST:PORT or "off", got ${listenText}`);
    listen = { host: (m[1] as string).replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  }
  const logger = pino({ level, base: { part: "oracle" } });

  const market = await openMarket(opts);
  const account = await loadAccount(opts.stateDir, "agent", await readPassword(opts));
  const target =
    "socketPath" in opts.agent
      ? { socketPath: opts.agent.socketPath }
      : { url: opts.agent.url, token: await readSecretFile(opts.agent.tokenFile, "agent token") };
  const where = "socketPath" in opts.agent ? opts.agent.socketPath : opts.agent.url;
  const pinner = await openPinner({ ipfsApiUrl: opts.ipfsApiUrl, dir: join(opts.stateDir, "ipfs"), logger });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      market,
      account,
      hostId,
      agent: new AgentClient(target),
      pinner,
      stateDir: opts.stateDir,
      logger,
      confirmations: num("confirmations", 0, 1000),
      pollMs: num("poll-ms", 50, 600_000),
      provisionLeadS: num("provision-lead", 0, 86_400),
      upkeepEveryMs: num("upkeep-every-ms", 100, 3_600_000),
    });
  } catch (err) {
    await pinner.close();
    if (err instanceof OracleError && err.code === "agent-not-running") {
      throw new OracleError(
        "agent-not-running",
        `the host agent is not running at ${where}: start it with \`computehive-host-agent serve\` (${err.message})`,
      );
    }
    throw err;
  }
  const status = listen
    ? await startStatusServer(() => daemon.status(), listen, {
        calendar: (account) => calendarFeed(daemon, account),
      })
    : undefined;
  process.stderr.write(
    `oracle daemon running for host ${hostId} as ${account.address} on chain ${market.deployment.chainId}` +
      `${status ? `; status at ${status.url}/status` : ""}; Ctrl-C stops it\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  logger.info("stopping");
  await daemon.stop();
  await status?.close();
  await pinner.close();
  return 0;
}
