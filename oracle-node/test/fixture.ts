/**
 * What the daemon tests stand on: a real anvil with the real market (short slots and graces so that a
 * booking's life fits in a test), a host with one listing, and a borrower with a session key and an SSH key
 * made by OpenSSH's ssh-keygen.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ssh } from "@computehive/host-agent";
import {
  type Deployment,
  generateSessionKey,
  marketAbi,
  openEndpoint,
  type SessionKey,
} from "@computehive/sdk";
import {
  type Address,
  createTestClient,
  createWalletClient,
  type Hex,
  http,
  parseEther,
  parseEventLogs,
  type TestClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { Anvil } from "../../script/src/lib/anvil.ts";
import { chainFor, connectMarket, type Market } from "../src/chain.ts";
import { devAccount, startChain as startTestChain } from "./helpers.ts";

export const SLOT = 60;
export const ACTIVATION_GRACE = 120;
export const REPORT_GRACE = 600;
export const DISPUTE_WINDOW = 300;

export const devKey = (i: number): Hex => devAccount(i).privateKey;
export const dev = (i: number) => privateKeyToAccount(devKey(i));

export interface Chain {
  anvil: Anvil;
  deployment: Deployment;
  deploymentFile: string;
  market: Market;
  test: TestClient;
  close(): Promise<void>;
}

/** anvil + the market deployed by the real forge script (helpers.ts), with these tests' parameters. */
export async function startChain(opts: { anvilArgs?: string[] } = {}): Promise<Chain> {
  const c = await startTestChain({
    anvilArgs: opts.anvilArgs,
    env: {
      MARKET_SLOT_LENGTH: String(SLOT),
      MARKET_ACTIVATION_GRACE: String(ACTIVATION_GRACE),
      MARKET_REPORT_GRACE: String(REPORT_GRACE),
      MARKET_DISPUTE_WINDOW: String(DISPUTE_WINDOW),
      MARKET_UNBONDING_DELAY: "3600",
    },
  });
  try {
    const market = await connectMarket(c.rpcUrl, c.deployment);
    const test: TestClient = createTestClient({ mode: "anvil", transport: http(c.rpcUrl) });
    return {
      anvil: c.anvil,
      deployment: c.deployment,
      deploymentFile: c.deploymentFile,
      market,
      test,
      close: c.stop,
    };
  } catch (err) {
    await c.stop();
    throw err;
  }
}

export async function send(
  chain: Chain,
  from: number,
  functionName: string,
  args: readonly unknown[],
  value?: bigint,
) {
  const account = dev(from);
  const wallet = createWalletClient({
    account,
    chain: chainFor(31337, chain.anvil.url),
    transport: http(chain.anvil.url),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests call every function by name, payable or not.
  const simulate = chain.market.client.simulateContract as (p: any) => Promise<{ request: unknown }>;
  const { request } = await simulate({
    address: chain.market.address,
    abi: marketAbi,
    functionName,
    args,
    value,
    account,
  });
  // biome-ignore lint/suspicious/noExplicitAny: the request is the simulation's own.
  const hash = await wallet.writeContract(request as any);
  const receipt = await chain.market.client.waitForTransactionReceipt({ hash });
  return { receipt, logs: parseEventLogs({ abi: marketAbi, logs: receipt.logs }) };
}

/** The args of the first `name` event among `logs`; throws when there is none. */
export function argsOf<T>(logs: readonly { eventName: string; args: unknown }[], name: string): T {
  const l = logs.find((x) => x.eventName === name);
  if (!l) throw new Error(`no ${name} event`);
  return l.args as T;
}

export const LENDER = 1;
export const AGENT = 2;
export const BORROWER = 3;

/** Registers a host (lender 1, agent 2) with the minimum bond and one CPU-only listing; returns their ids. */
export async function hostWithListing(
  chain: Chain,
  hw: { cpuCores?: number; ramMiB?: number; diskGiB?: number } = {},
): Promise<{ hostId: bigint; listingId: bigint; pricePerHour: bigint }> {
  const reg = await send(
    chain,
    LENDER,
    "registerHost",
    [dev(AGENT).address, ""],
    chain.deployment.params.minBond,
  );
  const hostId = argsOf<{ hostId: bigint }>(reg.logs, "HostRegistered").hostId;
  const pricePerHour = parseEther("0.36");
  const created = await send(chain, LENDER, "createListing", [
    hostId,
    {
      gpuModel: "",
      gpuCount: 0,
      vramMiBPerGpu: 0,
      cpuCores: hw.cpuCores ?? 1,
      ramMiB: hw.ramMiB ?? 512,
      diskGiB: hw.diskGiB ?? 10,
      region: "local",
      confidential: 0,
    },
    "0x0000000000000000000000000000000000000000",
    false,
    pricePerHour,
    1,
    60,
    0,
    "",
  ]);
  const listingId = argsOf<{ listingId: bigint }>(created.logs, "ListingCreated").listingId;
  return { hostId, listingId, pricePerHour };
}

/** The chain's time: the latest block's, or with "pending" the time the next transaction will see. */
export async function chainNow(chain: Chain, tag: "latest" | "pending" = "latest"): Promise<number> {
  return Number((await chain.market.client.getBlock({ blockTag: tag })).timestamp);
}

/** Moves the chain's clock to `t` (unix s) and mines a block there. */
export async function warpTo(chain: Chain, t: number): Promise<void> {
  const now = await chainNow(chain);
  if (t > now) await chain.test.increaseTime({ seconds: t - now });
  await chain.test.mine({ blocks: 1 });
}

export interface Borrower {
  index: number;
  address: Address;
  session: SessionKey;
  sshPublicKey: string;
  sshPrivateKeyFile: string;
  dir: string;
}

/** A borrower: an anvil account, a fresh x25519 session key, an ed25519 SSH key pair from ssh-keygen. */
export async function borrower(index = BORROWER): Promise<Borrower> {
  const dir = await mkdtemp(join(tmpdir(), "oracle-borrower-"));
  const file = join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "borrower@test", "-f", file]);
  return {
    index,
    address: dev(index).address,
    session: generateSessionKey(),
    sshPublicKey: (await readFile(`${file}.pub`, "utf8")).trim(),
    sshPrivateKeyFile: file,
    dir,
  };
}

/** Per chain and listing: the end of the last window booked here, so the next default window never overlaps. */
const lastEnd = new Map<string, number>();

/**
 * Books [start, start + slots·SLOT) on the listing; start defaults to the next slot boundary ≥ now + 5 s and
 * after every window this process booked on the listing.
 */
export async function book(
  chain: Chain,
  who: Borrower,
  listingId: bigint,
  opts: { start?: number; slots?: number; sshKey?: string } = {},
): Promise<{ bookingId: bigint; start: number; end: number; price: bigint; block: bigint }> {
  const now = await chainNow(chain);
  const where = `${chain.anvil.url}/${listingId}`;
  const start =
    opts.start ??
    Math.max(
      lastEnd.get(where) ?? 0,
      Math.ceil((Math.max(now, Math.floor(Date.now() / 1000)) + 5) / SLOT) * SLOT,
    );
  const end = start + (opts.slots ?? 1) * SLOT;
  lastEnd.set(where, Math.max(lastEnd.get(where) ?? 0, end));
  const [price] = await chain.market.client.readContract({
    address: chain.market.address,
    abi: marketAbi,
    functionName: "quote",
    args: [listingId, start, end],
  });
  const key = Buffer.from(opts.sshKey ?? who.sshPublicKey, "utf8");
  const { logs, receipt } = await send(
    chain,
    who.index,
    "book",
    [listingId, start, end, who.session.publicKeyHex, `0x${key.toString("hex")}`],
    price,
  );
  const booked = argsOf<{ bookingId: bigint }>(logs, "Booked");
  return { bookingId: booked.bookingId, start, end, price, block: receipt.blockNumber };
}

export async function bookingStatus(chain: Chain, id: bigint): Promise<number> {
  const b = await chain.market.client.readContract({
    address: chain.market.address,
    abi: marketAbi,
    functionName: "getBooking",
    args: [id],
  });
  return b.status;
}

export const Status = {
  Booked: 1,
  Active: 2,
  Reported: 3,
  Disputed: 4,
  Settled: 5,
  Cancelled: 6,
  Declined: 7,
  NoShow: 8,
} as const;

/** Polls `cond` until true or the time is up. */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every event of `eventName` about booking `id`. */
export async function eventsOf(chain: Chain, eventName: string, id: bigint) {
  const logs = await chain.market.client.getContractEvents({
    address: chain.market.address,
    abi: marketAbi,
    // biome-ignore lint/suspicious/noExplicitAny: any event by name.
    eventName: eventName as any,
    fromBlock: chain.deployment.startBlock,
  });
  return logs.filter((l) => (l.args as { bookingId?: bigint }).bookingId === id);
}

/**
 * The borrower's side of an active booking: the envelope from the `EndpointPublished` event opened with the
 * session key, the endpoint checked, the certificate and known_hosts written beside the borrower's key, and a
 * function that runs one command over OpenSSH's `ssh` with them (strict host key checking, no agent, no
 * password prompts).
 */
export async function borrowerSession(chain: Chain, who: Borrower, bookingId: bigint, dir = who.dir) {
  const envelope = argsOf<{ encryptedEndpoint: Hex }>(
    await eventsOf(chain, "EndpointPublished", bookingId),
    "EndpointPublished",
  ).encryptedEndpoint;
  const endpoint = ssh.SshEndpointSchema.parse(
    openEndpoint({
      recipientPrivateKey: who.session.privateKey,
      envelope,
      context: { chainId: chain.deployment.chainId, market: chain.market.address, bookingId },
    }),
  );
  const names = ssh.endpointFileNames(endpoint.bookingId);
  const certificate = join(dir, names.certificate);
  const knownHosts = join(dir, names.knownHosts);
  await writeFile(certificate, `${endpoint.certificate}\n`);
  await writeFile(knownHosts, ssh.knownHostsText(endpoint));
  const login = (command: string, connectTimeoutS = 10) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const args = [
        ...["-F", "/dev/null", "-i", who.sshPrivateKeyFile],
        ...["-o", `CertificateFile=${certificate}`, "-o", `UserKnownHostsFile=${knownHosts}`],
        ...["-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
        ...["-o", `ConnectTimeout=${connectTimeoutS}`, "-p", String(endpoint.port)],
        `${endpoint.user}@${endpoint.host}`,
        command,
      ];
      execFile("ssh", args, { timeout: 60_000, encoding: "utf8" }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
      });
    });
  return { endpoint, certificate, knownHosts, login };
}
