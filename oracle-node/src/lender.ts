/**
 * What a lender does by hand, as functions (the CLI in cli.ts prints them): register a host with its bond,
 * manage the bond, create listings whose hardware comes from the host agent's inventory (never typed in), change
 * prices and terms, and read back listings, bookings, earnings and reputation from the chain.
 *
 * Every transaction is simulated first, so a call the market would refuse is never sent and its error comes back
 * decoded (`toOracleError`). Listings say only what the inventory proves: a host without a VFIO-ready GPU gets an
 * honest CPU-only listing (gpuModel "", gpuCount 0, VRAM 0) and its metadata says "no passthrough GPU
 * (development host)". Confidential computing is always `None`: this host agent does not launch SEV-SNP or TDX
 * guests yet, so no listing may claim them.
 */
import type { inventory as agentInventory } from "@computehive/host-agent";
import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  erc20Abi,
  formatUnits,
  type Hex,
  type LocalAccount,
  parseEventLogs,
  type SimulateContractParameters,
  type TransactionReceipt,
  zeroAddress,
} from "viem";
import {
  getMarketEvents,
  type Market,
  OracleError,
  type StatusName,
  statusName,
  toOracleError,
  walletFor,
} from "./chain.ts";
import { type AgentEndpoint, readSecretFile } from "./options.ts";

export type Inventory = agentInventory.Inventory;
export type Gpu = agentInventory.Gpu;

type MarketAbi = Market["abi"];
type WriteName = ContractFunctionName<MarketAbi, "nonpayable" | "payable">;

/** The words a listing or host document uses for a host without a passthrough GPU. */
export const NO_GPU_TEXT = "no passthrough GPU (development host)";
/** Disk of a listing when none is asked: the size of the agent's pre-made encrypted overlay. */
export const DEFAULT_DISK_GIB = 10;
export const DEFAULT_REGION = "local";
/** RAM a listing offers when none is asked: half the machine's, at most this. */
export const DEFAULT_MAX_RAM_MIB = 8192;
const MAX_GPU_MODEL_BYTES = 64;
const MAX_REGION_BYTES = 32;

/* TRANSACTIONS */

/**
 * Simulates `functionName(args)` as `account`, then signs and sends it and waits for its receipt. A call that
 * would revert is never sent; every failure comes back as an OracleError (see `toOracleError`).
 */
export async function sendMarketTx<N extends WriteName>(
  market: Market,
  account: LocalAccount,
  functionName: N,
  args: ContractFunctionArgs<MarketAbi, "nonpayable" | "payable", N>,
  value?: bigint,
): Promise<TransactionReceipt> {
  const params = {
    address: market.address,
    abi: market.abi as Abi,
    functionName,
    args,
    account,
    ...(value !== undefined ? { value } : {}),
  } as unknown as SimulateContractParameters;
  let hash: Hex;
  try {
    const { request } = await market.client.simulateContract(params);
    hash = await walletFor(market, account).writeContract(
      request as Parameters<ReturnType<typeof walletFor>["writeContract"]>[0],
    );
  } catch (err) {
    throw toOracleError(err);
  }
  let receipt: TransactionReceipt;
  try {
    receipt = await market.client.waitForTransactionReceipt({ hash, timeout: 180_000 });
  } catch (err) {
    throw toOracleError(err);
  }
  if (receipt.status !== "success") {
    throw new OracleError(
      "revert",
      `transaction ${hash} (${functionName}) reverted in block ${receipt.blockNumber}`,
    );
  }
  return receipt;
}

function eventOf<
  E extends
    | "HostRegistered"
    | "ListingCreated"
    | "BondDeposited"
    | "UnbondRequested"
    | "BondWithdrawn"
    | "Withdrawn",
>(market: Market, receipt: TransactionReceipt, eventName: E) {
  const [log] = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName, strict: true });
  if (!log) throw new OracleError("revert", `transaction ${receipt.transactionHash} emitted no ${eventName}`);
  return log;
}

async function read<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toOracleError(err);
  }
}

/* HOSTS AND BONDS */

export interface HostView {
  hostId: bigint;
  lender: Address;
  agent: Address;
  bond: bigint;
  openBookings: number;
  completed: number;
  secondsServed: bigint;
  noShows: number;
  declines: number;
  disputesLost: number;
  registeredAt: number;
  /** 0 when bonded; otherwise when the bond may leave. */
  unbondAt: number;
  metadataCid: string;
}

/** The host's record and on-chain reputation counters. `not-found` for an unknown host. */
export async function getHost(market: Market, hostId: bigint): Promise<HostView> {
  const h = await read(
    market.client.readContract({
      address: market.address,
      abi: market.abi,
      functionName: "getHost",
      args: [hostId],
    }),
  );
  return {
    hostId,
    lender: h.lender,
    agent: h.agent,
    bond: h.bond,
    openBookings: h.openBookings,
    completed: h.completed,
    secondsServed: BigInt(h.secondsServed),
    noShows: h.noShows,
    declines: h.declines,
    disputesLost: h.disputesLost,
    registeredAt: Number(h.registeredAt),
    unbondAt: Number(h.unbondAt),
    metadataCid: h.metadataCid,
  };
}

/** The host, checked to belong to `lender` (`not-lender` otherwise, naming its real lender). */
export async function requireLender(market: Market, lender: Address, hostId: bigint): Promise<HostView> {
  const host = await getHost(market, hostId);
  if (host.lender.toLowerCase() !== lender.toLowerCase()) {
    throw new OracleError(
      "not-lender",
      `not the lender: this lender key (${lender}) is not the lender of host ${hostId} (its lender is ${host.lender}); ` +
        "use that lender's keystore (--state-dir)",
    );
  }
  return host;
}

export async function minBond(market: Market): Promise<bigint> {
  const p = await read(
    market.client.readContract({ address: market.address, abi: market.abi, functionName: "params" }),
  );
  return p.minBond;
}

/**
 * Registers a host whose oracle key is `agent`, with `bond` wei as its bond. Refuses a bond below the market's
 * `params().minBond` before sending anything (`insufficient-bond`).
 */
export async function registerHost(
  market: Market,
  lender: LocalAccount,
  opts: { agent: Address; bond: bigint; metadataCid: string },
): Promise<{ hostId: bigint; txHash: Hex }> {
  const min = await minBond(market);
  if (opts.bond < min) {
    throw new OracleError(
      "insufficient-bond",
      `insufficient bond: ${formatUnits(opts.bond, 18)} ETH offered, the market needs at least ${formatUnits(min, 18)} ETH`,
    );
  }
  const receipt = await sendMarketTx(
    market,
    lender,
    "registerHost",
    [opts.agent, opts.metadataCid],
    opts.bond,
  );
  const log = eventOf(market, receipt, "HostRegistered");
  return { hostId: log.args.hostId, txHash: receipt.transactionHash };
}

/** Adds `amount` wei to the host's bond (anyone may top up a host). Returns the new bond. */
export async function depositBond(
  market: Market,
  from: LocalAccount,
  hostId: bigint,
  amount: bigint,
): Promise<{ bond: bigint; txHash: Hex }> {
  await getHost(market, hostId);
  const receipt = await sendMarketTx(market, from, "depositBond", [hostId], amount);
  return { bond: eventOf(market, receipt, "BondDeposited").args.bond, txHash: receipt.transactionHash };
}

/** Starts the unbonding delay (no new bookings or listings meanwhile). Returns when the bond may leave. */
export async function requestUnbond(
  market: Market,
  lender: LocalAccount,
  hostId: bigint,
): Promise<{ unlocksAt: number; txHash: Hex }> {
  await requireLender(market, lender.address, hostId);
  const receipt = await sendMarketTx(market, lender, "requestUnbond", [hostId]);
  return {
    unlocksAt: Number(eventOf(market, receipt, "UnbondRequested").args.unlocksAt),
    txHash: receipt.transactionHash,
  };
}

export async function cancelUnbond(
  market: Market,
  lender: LocalAccount,
  hostId: bigint,
): Promise<{ txHash: Hex }> {
  await requireLender(market, lender.address, hostId);
  const receipt = await sendMarketTx(market, lender, "cancelUnbond", [hostId]);
  return { txHash: receipt.transactionHash };
}

/** Takes `amount` wei of the bond back (after the unbonding delay, with no open bookings). Returns what is left. */
export async function withdrawBond(
  market: Market,
  lender: LocalAccount,
  hostId: bigint,
  amount: bigint,
): Promise<{ bond: bigint; txHash: Hex }> {
  await requireLender(market, lender.address, hostId);
  const receipt = await sendMarketTx(market, lender, "withdrawBond", [hostId, amount]);
  return { bond: eventOf(market, receipt, "BondWithdrawn").args.bond, txHash: receipt.transactionHash };
}

/** Host ids whose lender is `lender` (from HostRegistered, indexed by lender; a host's lender never changes). */
export async function lenderHosts(market: Market, lender: Address): Promise<bigint[]> {
  const logs = await read(getMarketEvents(market, "HostRegistered", { lender }));
  return logs.map((l) => l.args.hostId);
}

/* THE HOST AGENT */

/**
 * The host agent's inventory through its local API (`refresh` takes a fresh one). Errors: `agent-not-running`
 * when the socket is missing or refuses ("start it with `computehive-host-agent serve`").
 */
export async function fetchInventory(
  endpoint: AgentEndpoint,
  opts: { refresh?: boolean } = {},
): Promise<Inventory> {
  const { AgentApiError, AgentClient, inventory } = await import("@computehive/host-agent");
  const where = "socketPath" in endpoint ? endpoint.socketPath : endpoint.url;
  const target =
    "socketPath" in endpoint
      ? { socketPath: endpoint.socketPath }
      : { url: endpoint.url, token: await readSecretFile(endpoint.tokenFile, "agent token") };
  let inv: unknown;
  try {
    inv = await new AgentClient(target).inventory(opts.refresh ?? false);
  } catch (err) {
    if (err instanceof AgentApiError) {
      throw new Error(`the host agent at ${where} refused the inventory request: ${err.message}`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new OracleError(
        "agent-not-running",
        `cannot open the host agent's socket ${where}: permission denied; run as the socket's owner or a member of ` +
          "its group (`computehive-host-agent serve --socket-group GROUP`)",
      );
    }
    if (
      code &&
      ["ENOENT", "ECONNREFUSED", "ENOTSOCK", "ECONNRESET", "EHOSTUNREACH", "ETIMEDOUT"].includes(code)
    ) {
      throw new OracleError(
        "agent-not-running",
        `the host agent is not running at ${where}: start it with \`computehive-host-agent serve\`` +
          ("socketPath" in endpoint ? " (or point --agent-socket at its socket)" : ""),
      );
    }
    throw new Error(`the host agent at ${where} did not answer: ${(err as Error).message}`);
  }
  const parsed = inventory.InventorySchema.safeParse(inv);
  if (!parsed.success) {
    throw new Error(
      `the host agent at ${where} served an invalid inventory: ${parsed.error.message.slice(0, 300)}`,
    );
  }
  return parsed.data;
}

/* LISTINGS */

/** What a listing states on-chain, as the Hardware struct. Confidential is 0 (None): see the module comment. */
export interface Hardware {
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: number;
  cpuCores: number;
  ramMiB: number;
  diskGiB: number;
  region: string;
  confidential: number;
}

export interface ListingRequest {
  /** Default: every VFIO-ready GPU (of `gpuModel` when given) on a gpu-passthrough host, else 0. */
  gpus?: number;
  /** Which model when the ready GPUs differ; must be the inventory's name exactly. */
  gpuModel?: string;
  /** Default: the inventory's logical CPUs. */
  cpuCores?: number;
  /** Default: min(inventory RAM / 2, 8192) MiB. */
  ramMiB?: number;
  /** Default 10 (the agent's pre-made overlay). */
  diskGiB?: number;
  /** Default "local". */
  region?: string;
}

export interface ListingPlan {
  hardware: Hardware;
  /** The inventory's GPUs the listing offers. */
  gpus: Gpu[];
  /** The public document pinned to IPFS, whose CID goes on-chain with the listing. */
  metadata: Record<string, unknown>;
}

/** Why this host cannot offer what was asked, from the inventory's own facts, ending with what to run. */
function notVfioReady(inv: Inventory, what: string): OracleError {
  const why: string[] = [];
  for (const g of inv.gpus) {
    if (g.vfioReady) continue;
    const blockers = g.blockers.map((b) => `${b.code}: ${b.detail}`).join("; ");
    why.push(
      `GPU ${g.pciAddress} (${g.name}): ${blockers || (g.supported ? "not VFIO-ready" : "not supported")}`,
    );
  }
  if (inv.gpus.length === 0) why.push("no NVIDIA GPU on this host");
  if (!inv.kvm.usable) why.push(`KVM unusable: ${inv.kvm.reason}`);
  if (!inv.iommu.enabled && !why.some((w) => w.includes("iommu-off"))) why.push("IOMMU off");
  return new OracleError(
    "host-not-vfio-ready",
    `host not VFIO-ready: ${what}; this host's mode is ${inv.mode}. ${why.join(". ").replace(/\s+/g, " ")}. ` +
      "Run `computehive-host-agent doctor` for the exact fixes, or leave out --gpus for an honest CPU-only listing.",
  );
}

const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * Decides a listing's hardware from the inventory and the request, and builds its metadata document. Refuses
 * (`host-not-vfio-ready`) any GPU on a host whose mode is not gpu-passthrough and more GPUs than are VFIO-ready;
 * refuses (`usage`) more CPU or RAM than the machine has. Pure: no I/O.
 */
export function planListing(inv: Inventory, req: ListingRequest = {}): ListingPlan {
  const ready = inv.gpus.filter((g) => g.vfioReady);
  const wantsGpu = (req.gpus ?? 0) > 0 || (req.gpus === undefined && req.gpuModel !== undefined);
  if (wantsGpu && inv.mode !== "gpu-passthrough") {
    throw notVfioReady(inv, `asked for ${req.gpus ?? "a"} GPU${(req.gpus ?? 1) === 1 ? "" : "s"}`);
  }
  let candidates = ready;
  if (req.gpuModel !== undefined) {
    candidates = ready.filter((g) => g.name === req.gpuModel);
    if (wantsGpu && candidates.length === 0) {
      const names = [...new Set(ready.map((g) => g.name))].map((n) => JSON.stringify(n)).join(", ");
      throw notVfioReady(
        inv,
        `no VFIO-ready GPU is named ${JSON.stringify(req.gpuModel)} (ready: ${names || "none"})`,
      );
    }
  }
  const count = req.gpus ?? (inv.mode === "gpu-passthrough" ? candidates.length : 0);
  if (count > candidates.length) {
    throw notVfioReady(inv, `asked for ${count} GPUs, ${candidates.length} VFIO-ready`);
  }
  const chosen = candidates.slice(0, count);
  const models = [...new Set(chosen.map((g) => g.name))];
  if (models.length > 1) {
    const tally = models.map((m) => `${JSON.stringify(m)} ×${chosen.filter((g) => g.name === m).length}`);
    throw new OracleError(
      "usage",
      `the VFIO-ready GPUs are different models (${tally.join(", ")}); a listing offers one model: ` +
        "pick it with --gpu-model NAME (and --gpus N), one listing per model",
    );
  }
  let vram = 0;
  if (chosen.length > 0) {
    const unknown = chosen.filter((g) => g.vramMiB === undefined || g.vramMiB === 0);
    if (unknown.length > 0) {
      throw new OracleError(
        "host-not-vfio-ready",
        `the inventory does not report the VRAM of GPU ${unknown.map((g) => `${g.pciAddress} (${g.name})`).join(", ")} ` +
          "(nvidia-smi cannot see a GPU bound to vfio-pci), and a listing states only what the inventory proves; " +
          "run `computehive-host-agent inventory` to see what it knows",
      );
    }
    // Same model, same memory; should two ever differ, the listing promises the smaller.
    vram = Math.min(...chosen.map((g) => g.vramMiB ?? 0));
  }
  const gpuModel = models[0] ?? "";
  if (byteLength(gpuModel) > MAX_GPU_MODEL_BYTES) {
    throw new OracleError(
      "usage",
      `the GPU name ${JSON.stringify(gpuModel)} is longer than ${MAX_GPU_MODEL_BYTES} bytes`,
    );
  }

  const cores = req.cpuCores ?? inv.cpu.cores;
  if (inv.cpu.cores === 0) throw new OracleError("usage", "the inventory reports no CPU cores");
  if (cores < 1 || cores > inv.cpu.cores) {
    throw new OracleError("usage", `--cpu-cores ${cores}: this host has ${inv.cpu.cores} logical CPUs`);
  }
  let ram: number;
  if (inv.ramMiB === null) {
    if (req.ramMiB === undefined) {
      throw new OracleError(
        "usage",
        "the inventory does not report this host's RAM (/proc/meminfo); pass --ram-mib N",
      );
    }
    ram = req.ramMiB;
  } else {
    ram = req.ramMiB ?? Math.min(Math.floor(inv.ramMiB / 2), DEFAULT_MAX_RAM_MIB);
    if (ram > inv.ramMiB) throw new OracleError("usage", `--ram-mib ${ram}: this host has ${inv.ramMiB} MiB`);
  }
  if (ram < 1) throw new OracleError("usage", "--ram-mib must be at least 1");
  const disk = req.diskGiB ?? DEFAULT_DISK_GIB;
  if (disk < 1) throw new OracleError("usage", "--disk-gib must be at least 1");
  const region = req.region ?? DEFAULT_REGION;
  if (byteLength(region) > MAX_REGION_BYTES) {
    throw new OracleError("usage", `--region is longer than ${MAX_REGION_BYTES} bytes`);
  }

  const hardware: Hardware = {
    gpuModel,
    gpuCount: chosen.length,
    vramMiBPerGpu: vram,
    cpuCores: cores,
    ramMiB: ram,
    diskGiB: disk,
    region,
    confidential: 0,
  };
  return { hardware, gpus: chosen, metadata: listingMetadata(inv, hardware) };
}

const accelText = (inv: Inventory) =>
  inv.kvm.usable ? "kvm" : "tcg (software emulation: this host has no usable KVM)";

/** The listing's public description (pinned; its CID goes on-chain). States only what the inventory shows. */
export function listingMetadata(inv: Inventory, hw: Hardware): Record<string, unknown> {
  return {
    schema: "computehive/listing-metadata@1",
    gpu:
      hw.gpuCount > 0
        ? `${hw.gpuCount}× ${hw.gpuModel} (${hw.vramMiBPerGpu} MiB each, VFIO passthrough)`
        : inv.mode === "gpu-passthrough"
          ? "no GPU in this listing (CPU-only VM on a GPU host)"
          : NO_GPU_TEXT,
    gpuModel: hw.gpuModel,
    gpuCount: hw.gpuCount,
    vramMiBPerGpu: hw.vramMiBPerGpu,
    hostMode: inv.mode,
    accel: accelText(inv),
    cpu: { model: inv.cpu.model, cores: hw.cpuCores },
    ramMiB: hw.ramMiB,
    diskGiB: hw.diskGiB,
    region: hw.region,
    confidential: "none",
    confidentialNote: "SEV-SNP and TDX launch security are not offered by this host agent yet",
    inventory: { collectedAt: inv.collectedAt, summary: inv.summary },
  };
}

/** The host's public description (pinned at registration): mode, ready GPUs (or none), CPU. */
export function hostMetadata(inv: Inventory): Record<string, unknown> {
  const ready = inv.gpus.filter((g) => g.vfioReady);
  return {
    schema: "computehive/host-metadata@1",
    mode: inv.mode,
    gpus:
      inv.mode === "gpu-passthrough"
        ? ready.map((g) => (g.vramMiB ? `${g.name} (${g.vramMiB} MiB)` : g.name))
        : NO_GPU_TEXT,
    cpu: { model: inv.cpu.model, cores: inv.cpu.cores },
    ramMiB: inv.ramMiB,
    accel: accelText(inv),
    confidential: "none",
    inventory: { collectedAt: inv.collectedAt, summary: inv.summary },
  };
}

/** The bytes pinned for a document (stable key order, so the same document gives the same CID). */
export function documentBytes(doc: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}

/** Pins a JSON document (the local store under `<stateDir>/ipfs`, or `ipfsApiUrl`'s Kubo) and returns its CID. */
export async function pinDocument(
  opts: { stateDir: string; ipfsApiUrl?: string },
  doc: unknown,
): Promise<string> {
  const { openPinner } = await import("./ipfs.ts");
  const { join } = await import("node:path");
  const pinner = await openPinner({
    dir: join(opts.stateDir, "ipfs"),
    ...(opts.ipfsApiUrl ? { ipfsApiUrl: opts.ipfsApiUrl } : {}),
  });
  try {
    return await pinner.pin(documentBytes(doc));
  } finally {
    await pinner.close();
  }
}

export interface ListingTerms {
  /** In the asset's units per hour (wei for native). */
  pricePerHour: bigint;
  asset: Address;
  minSlots: number;
  maxSlots: number;
  leadTime: number;
}

/** Creates an active listing on the lender's host. Returns its id. */
export async function createListing(
  market: Market,
  lender: LocalAccount,
  hostId: bigint,
  hardware: Hardware,
  terms: ListingTerms,
  metadataCid: string,
): Promise<{ listingId: bigint; txHash: Hex }> {
  const host = await requireLender(market, lender.address, hostId);
  if (host.unbondAt !== 0) {
    throw new OracleError(
      "revert",
      `host ${hostId} is unbonding and takes no new listings: \`bond cancel-unbond\` first`,
    );
  }
  const receipt = await sendMarketTx(market, lender, "createListing", [
    hostId,
    hardware,
    terms.asset,
    false,
    terms.pricePerHour,
    terms.minSlots,
    terms.maxSlots,
    terms.leadTime,
    metadataCid,
  ]);
  return {
    listingId: eventOf(market, receipt, "ListingCreated").args.listingId,
    txHash: receipt.transactionHash,
  };
}

export interface ListingView {
  listingId: bigint;
  hostId: bigint;
  active: boolean;
  usdPriced: boolean;
  asset: Address;
  pricePerHour: bigint;
  minSlots: number;
  maxSlots: number;
  leadTime: number;
  metadataCid: string;
  hardware: Hardware;
}

export async function getListing(market: Market, listingId: bigint): Promise<ListingView> {
  const m = { address: market.address, abi: market.abi } as const;
  const [l, hw] = await read(
    Promise.all([
      market.client.readContract({ ...m, functionName: "getListing", args: [listingId] }),
      market.client.readContract({ ...m, functionName: "getHardware", args: [listingId] }),
    ]),
  );
  return {
    listingId,
    hostId: BigInt(l.hostId),
    active: l.active,
    usdPriced: l.usdPriced,
    asset: l.asset,
    pricePerHour: l.pricePerHour,
    minSlots: l.minSlots,
    maxSlots: l.maxSlots,
    leadTime: l.leadTime,
    metadataCid: l.metadataCid,
    hardware: { ...hw, confidential: Number(hw.confidential) },
  };
}

/** The listing, checked to belong to a host of `lender` (`not-lender` otherwise). */
export async function requireListingLender(
  market: Market,
  lender: Address,
  listingId: bigint,
): Promise<ListingView> {
  const listing = await getListing(market, listingId);
  const host = await getHost(market, listing.hostId);
  if (host.lender.toLowerCase() !== lender.toLowerCase()) {
    throw new OracleError(
      "not-lender",
      `not the lender: this lender key (${lender}) is not the lender of listing ${listingId} (host ${listing.hostId}, ` +
        `lender ${host.lender}); use that lender's keystore (--state-dir)`,
    );
  }
  return listing;
}

export async function setListingPrice(
  market: Market,
  lender: LocalAccount,
  listingId: bigint,
  pricePerHour: bigint,
): Promise<{ txHash: Hex }> {
  await requireListingLender(market, lender.address, listingId);
  const receipt = await sendMarketTx(market, lender, "setListingPrice", [listingId, pricePerHour]);
  return { txHash: receipt.transactionHash };
}

export async function setListingTerms(
  market: Market,
  lender: LocalAccount,
  listingId: bigint,
  terms: { minSlots: number; maxSlots: number; leadTime: number },
): Promise<{ txHash: Hex }> {
  await requireListingLender(market, lender.address, listingId);
  const receipt = await sendMarketTx(market, lender, "setListingTerms", [
    listingId,
    terms.minSlots,
    terms.maxSlots,
    terms.leadTime,
  ]);
  return { txHash: receipt.transactionHash };
}

export async function setListingActive(
  market: Market,
  lender: LocalAccount,
  listingId: bigint,
  active: boolean,
): Promise<{ txHash: Hex }> {
  await requireListingLender(market, lender.address, listingId);
  const receipt = await sendMarketTx(market, lender, "setListingActive", [listingId, active]);
  return { txHash: receipt.transactionHash };
}

/** Listing ids of the hosts, oldest first (from ListingCreated, indexed by hostId). */
export async function listingIdsOf(market: Market, hostIds: readonly bigint[]): Promise<bigint[]> {
  if (hostIds.length === 0) return [];
  const logs = await read(getMarketEvents(market, "ListingCreated", { hostId: [...hostIds] }));
  return logs.map((l) => l.args.listingId);
}

/** Every listing of the host, as the chain has it now. */
export async function hostListings(market: Market, hostId: bigint): Promise<ListingView[]> {
  await getHost(market, hostId);
  const ids = await listingIdsOf(market, [hostId]);
  return Promise.all(ids.map((id) => getListing(market, id)));
}

/* BOOKINGS, EARNINGS, REPUTATION */

export interface BookingView {
  bookingId: bigint;
  listingId: bigint;
  borrower: Address;
  start: number;
  end: number;
  asset: Address;
  price: bigint;
  feeBps: number;
  status: StatusName;
  usedSeconds: number;
}

/** Every booking of the listings (from Booked, indexed by listingId), with its status read now. */
export async function bookingsOfListings(
  market: Market,
  listingIds: readonly bigint[],
): Promise<BookingView[]> {
  if (listingIds.length === 0) return [];
  const logs = await read(getMarketEvents(market, "Booked", { listingId: [...listingIds] }));
  return Promise.all(
    logs.map(async (l) => {
      const b = await read(
        market.client.readContract({
          address: market.address,
          abi: market.abi,
          functionName: "getBooking",
          args: [l.args.bookingId],
        }),
      );
      return {
        bookingId: l.args.bookingId,
        listingId: l.args.listingId,
        borrower: l.args.borrower,
        start: Number(l.args.start),
        end: Number(l.args.end),
        asset: l.args.asset,
        price: l.args.price,
        feeBps: Number(l.args.feeBps),
        status: statusName(b.status),
        usedSeconds: b.usedSeconds,
      };
    }),
  );
}

export async function hostBookings(market: Market, hostId: bigint): Promise<BookingView[]> {
  await getHost(market, hostId);
  return bookingsOfListings(market, await listingIdsOf(market, [hostId]));
}

export interface AssetInfo {
  asset: Address;
  symbol: string;
  decimals: number;
}

/** Symbol and decimals of a payment asset (address(0): the native currency, 18 decimals). */
export async function assetInfo(market: Market, asset: Address): Promise<AssetInfo> {
  if (asset === zeroAddress) return { asset, symbol: "ETH", decimals: 18 };
  const c = { address: asset, abi: erc20Abi } as const;
  const [symbol, decimals] = await Promise.all([
    market.client.readContract({ ...c, functionName: "symbol" }).catch(() => asset.slice(0, 10)),
    market.client.readContract({ ...c, functionName: "decimals" }).catch(() => 18),
  ]);
  return { asset, symbol, decimals };
}

export interface AssetEarnings extends AssetInfo {
  /** Withdrawable now (`credits(lender, asset)`). */
  credit: bigint;
  /** The lender's share of settled bookings (BookingSettled.lenderAmount). */
  settled: bigint;
  settledBookings: number;
  /** Late-cancellation fees (BookingCancelled.lenderFee). */
  cancellationFees: bigint;
  cancelledBookings: number;
  /** Everything the lender has withdrawn of this asset (Withdrawn events). */
  withdrawn: bigint;
}

export interface Earnings {
  lender: Address;
  hostIds: bigint[];
  assets: AssetEarnings[];
}

/**
 * The lender's credits and earnings: for the native currency and every asset of its listings, the withdrawable
 * credit and the totals of BookingSettled / BookingCancelled of its hosts' bookings. `hostIds` defaults to every
 * host the lender registered.
 */
export async function lenderEarnings(
  market: Market,
  lender: Address,
  hostIds?: readonly bigint[],
): Promise<Earnings> {
  const hosts = hostIds ? [...hostIds] : await lenderHosts(market, lender);
  const listingIds = await listingIdsOf(market, hosts);
  const listings = await Promise.all(listingIds.map((id) => getListing(market, id)));
  const bookings = await bookingsOfListings(market, listingIds);
  const assets = [
    ...new Set<Address>([zeroAddress, ...listings.map((l) => l.asset), ...bookings.map((b) => b.asset)]),
  ];
  const assetOf = new Map(bookings.map((b) => [b.bookingId, b.asset]));
  const ids = bookings.map((b) => b.bookingId);
  const [settled, cancelled, withdrawn] = await Promise.all([
    ids.length ? read(getMarketEvents(market, "BookingSettled", { bookingId: ids })) : [],
    ids.length ? read(getMarketEvents(market, "BookingCancelled", { bookingId: ids })) : [],
    read(getMarketEvents(market, "Withdrawn", { account: lender })),
  ]);
  const out = await Promise.all(
    assets.map(async (asset): Promise<AssetEarnings> => {
      const info = await assetInfo(market, asset);
      const credit = await read(
        market.client.readContract({
          address: market.address,
          abi: market.abi,
          functionName: "credits",
          args: [lender, asset],
        }),
      );
      const s = settled.filter((l) => assetOf.get(l.args.bookingId) === asset);
      const c = cancelled.filter((l) => assetOf.get(l.args.bookingId) === asset);
      return {
        ...info,
        credit,
        settled: s.reduce((n, l) => n + l.args.lenderAmount, 0n),
        settledBookings: s.length,
        cancellationFees: c.reduce((n, l) => n + l.args.lenderFee, 0n),
        cancelledBookings: c.length,
        withdrawn: withdrawn.filter((l) => l.args.asset === asset).reduce((n, l) => n + l.args.amount, 0n),
      };
    }),
  );
  return { lender, hostIds: hosts, assets: out };
}

/**
 * Sends the lender's whole credit of `asset` to it. Refuses to send anything when there is nothing to withdraw
 * (`not-found`, "nothing to withdraw …"). Returns the amount.
 */
export async function withdrawCredits(
  market: Market,
  lender: LocalAccount,
  asset: Address = zeroAddress,
): Promise<{ amount: bigint; asset: AssetInfo; txHash: Hex }> {
  const info = await assetInfo(market, asset);
  const credit = await read(
    market.client.readContract({
      address: market.address,
      abi: market.abi,
      functionName: "credits",
      args: [lender.address, asset],
    }),
  );
  if (credit === 0n) {
    throw new OracleError(
      "not-found",
      `nothing to withdraw: ${lender.address} has no ${asset === zeroAddress ? "native" : info.symbol} credit on the market ${market.address}`,
    );
  }
  const receipt = await sendMarketTx(market, lender, "withdraw", [asset]);
  return {
    amount: eventOf(market, receipt, "Withdrawn").args.amount,
    asset: info,
    txHash: receipt.transactionHash,
  };
}

/* FORMATTING */

export function formatAmount(amount: bigint, info: Pick<AssetInfo, "symbol" | "decimals">): string {
  return `${formatUnits(amount, info.decimals)} ${info.symbol}`;
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}
