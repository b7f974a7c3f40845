/**
 * The options every `computehive-oracle` command shares (the CLI and the daemon), their defaults, and the
 * parsing of amounts, ids and addresses given on the command line.
 *
 *   --rpc-url URL            env COMPUTEHIVE_RPC_URL, default http://127.0.0.1:8545
 *   --deployment FILE        default deployments/<chainId>.json (the chain id asked of the RPC)
 *   --state-dir DIR          env COMPUTEHIVE_ORACLE_STATE, default .computehive/oracle under the current directory
 *   --agent-socket PATH      env COMPUTEHIVE_AGENT_SOCKET, default the host agent's own default socket
 *   --agent-url URL          the agent's loopback TCP API instead (needs --agent-token-file)
 *   --agent-token-file FILE  its bearer token
 *   --password-file FILE     keystore password (or env COMPUTEHIVE_KEYSTORE_PASSWORD; never on the command line)
 *   --ipfs-api URL           env COMPUTEHIVE_IPFS_API: a Kubo RPC API to pin to (default: a local store in the state dir)
 *   --json                   machine-readable output
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ParseArgsConfig } from "node:util";
import type { Deployment } from "@computehive/sdk";
import { loadDeployment, loadDeploymentFile } from "@computehive/sdk/node";
import { type Address, getAddress, isAddress, parseUnits } from "viem";
import { connectMarket, type Market, OracleError, rpcChainId } from "./chain.ts";

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
/** The host agent's socket when it runs as root (`computehive-host-agent serve`, its SYSTEM_STATE_DIR). */
export const SYSTEM_AGENT_SOCKET = "/var/lib/computehive-agent/agent.sock";

/** A command line that cannot be run as given: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** parseArgs declarations of the shared options; each command adds its own. */
export const COMMON_OPTIONS = {
  "rpc-url": { type: "string" },
  deployment: { type: "string" },
  "state-dir": { type: "string" },
  "agent-socket": { type: "string" },
  "agent-url": { type: "string" },
  "agent-token-file": { type: "string" },
  "password-file": { type: "string" },
  "ipfs-api": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

/** The usage lines of the shared options (appended to every command's help). */
export const COMMON_USAGE = `common options:
  --rpc-url URL            JSON-RPC endpoint (env COMPUTEHIVE_RPC_URL; default ${DEFAULT_RPC_URL})
  --deployment FILE        deployment record (default deployments/<chainId>.json, chain id asked of the RPC)
  --state-dir DIR          keys and local state (env COMPUTEHIVE_ORACLE_STATE; default .computehive/oracle)
  --agent-socket PATH      host agent's Unix socket (env COMPUTEHIVE_AGENT_SOCKET; default
                           ${SYSTEM_AGENT_SOCKET} as root, else <repo>/.computehive/agent/agent.sock)
  --agent-url URL          host agent's loopback TCP API instead; needs --agent-token-file FILE
  --password-file FILE     keystore password (or env COMPUTEHIVE_KEYSTORE_PASSWORD; never on the command line)
  --ipfs-api URL           Kubo RPC API to pin documents to (env COMPUTEHIVE_IPFS_API; default a local
                           store under the state directory)
  --json                   machine-readable output
  -h, --help               this help`;

/** What parseArgs gives for COMMON_OPTIONS (and whatever else a command declares). */
export type OptionValues = { [name: string]: string | boolean | (string | boolean)[] | undefined };

/** Where the host agent's API is. */
export type AgentEndpoint = { socketPath: string } | { url: string; tokenFile: string };

export interface CommonOptions {
  rpcUrl: string;
  /** An explicit deployment record; otherwise `deployments/<chainId>.json` under `cwd`. */
  deploymentFile: string | undefined;
  /** Absolute. */
  stateDir: string;
  agent: AgentEndpoint;
  passwordFile: string | undefined;
  ipfsApiUrl: string | undefined;
  json: boolean;
  /** The directory relative paths were resolved against. */
  cwd: string;
}

/**
 * The host agent's default socket, as `computehive-host-agent serve` places it: `<state dir>/agent.sock` with its
 * state dir `/var/lib/computehive-agent` as root, else `<repo>/.computehive/agent` (host-agent's
 * `defaultStateDir()`; repeated here so that the commands that never talk to the agent need not load it).
 */
export function defaultAgentSocket(): string {
  return process.getuid?.() === 0
    ? SYSTEM_AGENT_SOCKET
    : fileURLToPath(new URL("../../.computehive/agent/agent.sock", import.meta.url));
}

function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new UsageError(`--${name} needs a value`);
  if (v === "") throw new UsageError(`--${name} needs a non-empty value`);
  return v;
}

/** The shared options with their defaults applied (environment, then built-in). */
export function resolveCommonOptions(
  values: OptionValues,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): CommonOptions {
  const s = (name: string) => stringOption(values, name);
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  const rpcUrl = s("rpc-url") ?? nonEmpty(env.COMPUTEHIVE_RPC_URL) ?? DEFAULT_RPC_URL;
  if (!/^(https?|wss?):\/\//.test(rpcUrl)) {
    throw new UsageError(`--rpc-url must be an http(s) or ws(s) URL, got ${JSON.stringify(rpcUrl)}`);
  }
  const deployment = s("deployment");
  const stateDir = resolve(
    cwd,
    s("state-dir") ?? nonEmpty(env.COMPUTEHIVE_ORACLE_STATE) ?? ".computehive/oracle",
  );

  const agentUrl = s("agent-url");
  const tokenFile = s("agent-token-file");
  const socket = s("agent-socket");
  let agent: AgentEndpoint;
  if (agentUrl !== undefined) {
    if (socket !== undefined) throw new UsageError("give --agent-socket or --agent-url, not both");
    if (tokenFile === undefined) throw new UsageError("--agent-url needs --agent-token-file FILE");
    let u: URL;
    try {
      u = new URL(agentUrl);
    } catch {
      throw new UsageError(`--agent-url must be a URL such as http://127.0.0.1:7070, got ${agentUrl}`);
    }
    if (u.protocol !== "http:") throw new UsageError("--agent-url must be an http:// loopback URL");
    agent = { url: agentUrl, tokenFile: resolve(cwd, tokenFile) };
  } else {
    if (tokenFile !== undefined) throw new UsageError("--agent-token-file goes with --agent-url");
    agent = {
      socketPath: resolve(cwd, socket ?? nonEmpty(env.COMPUTEHIVE_AGENT_SOCKET) ?? defaultAgentSocket()),
    };
  }
  const passwordFile = s("password-file");
  return {
    rpcUrl,
    deploymentFile: deployment === undefined ? undefined : resolve(cwd, deployment),
    stateDir,
    agent,
    passwordFile: passwordFile === undefined ? undefined : resolve(cwd, passwordFile),
    ipfsApiUrl: s("ipfs-api") ?? nonEmpty(env.COMPUTEHIVE_IPFS_API),
    json: values.json === true,
    cwd,
  };
}

/**
 * The deployment record: `--deployment FILE`, or `deployments/<chainId>.json` under the working directory with the
 * chain id asked of the RPC (`rpc-unreachable` when it does not answer). Throws the sdk's DeploymentError when
 * the record is missing or malformed.
 */
export async function loadDeploymentFor(opts: CommonOptions): Promise<Deployment> {
  if (opts.deploymentFile) return loadDeploymentFile(opts.deploymentFile);
  const chainId = await rpcChainId(opts.rpcUrl);
  return loadDeployment(chainId, join(opts.cwd, "deployments"));
}

/** The deployment record and the market behind it, checked (`rpc-unreachable`, `wrong-chain`, `no-market`). */
export async function openMarket(opts: CommonOptions): Promise<Market> {
  return connectMarket(opts.rpcUrl, await loadDeploymentFor(opts));
}

/**
 * Reads a secret file (password, token): refuses one that others may read, since a secret in a group- or
 * world-readable file is no secret; strips one trailing newline.
 */
export async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new OracleError("keystore", `${what} file ${path} is not a regular file`);
    if (st.mode & 0o077) {
      throw new OracleError(
        "keystore",
        `${what} file ${path} may be read by others (mode ${(st.mode & 0o777).toString(8)}): \`chmod 600 ${path}\``,
      );
    }
    text = await readFile(path, "utf8");
  } catch (e) {
    if (e instanceof OracleError) throw e;
    throw new OracleError("keystore", `cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
  return text.replace(/\r?\n$/, "");
}

/**
 * The keystore password: `--password-file FILE`, else env COMPUTEHIVE_KEYSTORE_PASSWORD. Never taken from the
 * command line (it would sit in the shell history and in `ps` for every user to read). Refuses an empty one.
 */
export async function readPassword(
  opts: Pick<CommonOptions, "passwordFile">,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  let password: string | undefined;
  if (opts.passwordFile) password = await readSecretFile(opts.passwordFile, "password");
  else password = env.COMPUTEHIVE_KEYSTORE_PASSWORD;
  if (password === undefined) {
    throw new OracleError(
      "keystore",
      "no keystore password: pass --password-file FILE (mode 0600) or set COMPUTEHIVE_KEYSTORE_PASSWORD",
    );
  }
  if (password === "") {
    throw new OracleError(
      "keystore",
      `the keystore password is empty${opts.passwordFile ? ` (${opts.passwordFile})` : ""}: a key needs a real password`,
    );
  }
  return password;
}

/* VALUES */

/** A decimal amount of `decimals` places (ETH: 18) as its integer units; `flag` names it in errors. */
export function parseAmount(
  text: string,
  flag: string,
  decimals = 18,
  opts: { allowZero?: boolean } = {},
): bigint {
  const t = text.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(t);
  if (!m) throw new UsageError(`${flag} must be a decimal amount such as 1.5, got ${JSON.stringify(text)}`);
  if ((m[2]?.length ?? 0) > decimals) {
    throw new UsageError(`${flag} has more than ${decimals} decimals: ${text}`);
  }
  const v = parseUnits(t, decimals);
  if (v === 0n && !opts.allowZero) throw new UsageError(`${flag} must be more than 0`);
  return v;
}

/** An amount of ether as wei. */
export const parseEth = (text: string, flag: string): bigint => parseAmount(text, flag, 18);

/** A host, listing or booking id: a positive integer. */
export function parseId(text: string, flag: string): bigint {
  if (!/^[1-9]\d{0,76}$/.test(text.trim())) {
    throw new UsageError(`${flag} must be a positive integer id, got ${JSON.stringify(text)}`);
  }
  return BigInt(text.trim());
}

/** A non-negative integer within [min, max]. */
export function parseUint(text: string, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(`${flag} must be an integer, got ${JSON.stringify(text)}`);
  const v = Number(text.trim());
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`${flag} must be between ${min} and ${max}, got ${text}`);
  }
  return v;
}

export function parseAddress(text: string, flag: string): Address {
  if (!isAddress(text.trim(), { strict: false })) {
    throw new UsageError(`${flag} must be an address (0x + 40 hex digits), got ${JSON.stringify(text)}`);
  }
  return getAddress(text.trim());
}

/** The string value of option `name`, or undefined; `required` makes it a usage error to leave it out. */
export function optionString(values: OptionValues, name: string, required: true): string;
export function optionString(values: OptionValues, name: string, required?: false): string | undefined;
export function optionString(values: OptionValues, name: string, required = false): string | undefined {
  const v = stringOption(values, name);
  if (v === undefined && required) throw new UsageError(`--${name} is required`);
  return v;
}
