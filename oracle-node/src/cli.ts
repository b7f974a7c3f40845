/**
 * `computehive-oracle`: the lender's command line. Run it with tsx from the repository:
 *
 *   npx tsx oracle-node/src/cli.ts <command> [options]      (`--help` after any command for its options)
 *
 * Exit status: 0 done; 1 failed with one line on stderr saying what to do (insufficient bond, RPC unreachable,
 * wrong chain, host agent not running, host not VFIO-ready, wrong password, not the lender, nothing to
 * withdraw, a refusal of the market); 2 usage error (printed with the usage).
 */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DeploymentError } from "@computehive/sdk";
import { type Address, formatUnits, zeroAddress } from "viem";
import { type Market, OracleError } from "./chain.ts";
import {
  importKeystore,
  KEY_ROLES,
  type KeyRole,
  loadAccount,
  parsePrivateKey,
  requireKeystoreAddress,
  scryptN,
  createKeystore as writeNewKeystore,
} from "./keystore.ts";
import {
  assetInfo,
  type BookingView,
  cancelUnbond,
  createListing,
  depositBond,
  fetchInventory,
  formatAmount,
  getHost,
  type Hardware,
  hostBookings,
  hostListings,
  hostMetadata,
  type ListingView,
  lenderEarnings,
  minBond,
  NO_GPU_TEXT,
  pinDocument,
  planListing,
  registerHost,
  requestUnbond,
  requireLender,
  requireListingLender,
  setListingActive,
  setListingPrice,
  setListingTerms,
  toJson,
  withdrawBond,
  withdrawCredits,
} from "./lender.ts";
import {
  COMMON_OPTIONS,
  COMMON_USAGE,
  type CommonOptions,
  type OptionValues,
  openMarket,
  optionString,
  parseAddress,
  parseAmount,
  parseEth,
  parseId,
  parseUint,
  readPassword,
  readSecretFile,
  resolveCommonOptions,
  UsageError,
} from "./options.ts";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

const PROG = "computehive-oracle";

interface Context {
  values: OptionValues;
  opts: CommonOptions;
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** Prints a line, or (with --json) nothing: the command prints its JSON itself. */
  say(line: string): void;
  json(value: unknown): void;
}

interface Command {
  /** "init", "host register", … */
  name: string;
  /** Options after the name, for the usage line. */
  args: string;
  summary: string;
  /** Extra lines of help: one per option, then notes. */
  help: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>["options"];
  run(ctx: Context): Promise<number | undefined>;
}

/* HELPERS */

const isoTime = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");

function describeHardware(hw: Hardware): string {
  const gpu =
    hw.gpuCount === 0
      ? `CPU-only (${NO_GPU_TEXT})`
      : `${hw.gpuCount}× ${hw.gpuModel} (${hw.vramMiBPerGpu} MiB each)`;
  return `${gpu}, ${hw.cpuCores} CPU cores, ${hw.ramMiB} MiB RAM, ${hw.diskGiB} GiB disk, region ${hw.region}, confidential none`;
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

async function priceText(market: Market, l: Pick<ListingView, "asset" | "usdPriced">, amount: bigint) {
  if (l.usdPriced) return `${formatUnits(amount, 18)} USD`;
  return formatAmount(amount, await assetInfo(market, l.asset));
}

async function lenderAccount(ctx: Context) {
  const password = await readPassword(ctx.opts, ctx.env);
  return loadAccount(ctx.opts.stateDir, "lender", password);
}

const hostOpt = (ctx: Context) => parseId(optionString(ctx.values, "host", true), "--host");
const listingOpt = (ctx: Context) => parseId(optionString(ctx.values, "listing", true), "--listing");

function intOpt(ctx: Context, name: string, min: number, max: number): number | undefined {
  const v = optionString(ctx.values, name);
  return v === undefined ? undefined : parseUint(v, `--${name}`, min, max);
}

/** Slot bounds and lead time the market accepts (its constants). */
async function termLimits(market: Market) {
  const m = { address: market.address, abi: market.abi } as const;
  const [maxSlots, maxLead] = await Promise.all([
    market.client.readContract({ ...m, functionName: "MAX_BOOKING_SLOTS" }),
    market.client.readContract({ ...m, functionName: "MAX_LEAD_TIME" }),
  ]);
  return { maxSlots: Number(maxSlots), maxLead: Number(maxLead) };
}

/* COMMANDS */

const initCommand: Command = {
  name: "init",
  args: "[--role agent|lender] [--import-key-file FILE]",
  summary: "create (or import) the agent key or the lender key in an encrypted keystore",
  help: `  --role agent|lender      which key (default agent: the host's oracle key the daemon signs with;
                           lender: owns the host, its bond and listings, receives the payouts)
  --import-key-file FILE   import this hex private key (a file of mode 0600) instead of generating one

The key is written to <state-dir>/keys/<role>.json (Web3 Secret Storage v3, scrypt; mode 0600 in a 0700
directory), encrypted with the password of --password-file or COMPUTEHIVE_KEYSTORE_PASSWORD. An existing
keystore is never overwritten.`,
  options: { role: { type: "string" }, "import-key-file": { type: "string" } },
  async run(ctx) {
    const role = (optionString(ctx.values, "role") ?? "agent") as KeyRole;
    if (!KEY_ROLES.includes(role)) throw new UsageError(`--role must be agent or lender, got ${role}`);
    const password = await readPassword(ctx.opts, ctx.env);
    const keyFile = optionString(ctx.values, "import-key-file");
    const n = scryptN(ctx.env);
    const info = keyFile
      ? await importKeystore(
          ctx.opts.stateDir,
          role,
          parsePrivateKey(await readSecretFile(resolve(ctx.opts.cwd, keyFile), "private key")),
          password,
          { n },
        )
      : await writeNewKeystore(ctx.opts.stateDir, role, password, { n });
    ctx.json({ role, address: info.address, keystore: info.path, imported: Boolean(keyFile) });
    ctx.say(`${role} key ${keyFile ? "imported" : "created"}: ${info.address}`);
    ctx.say(`keystore: ${info.path}`);
    ctx.say(
      role === "agent"
        ? "next: fund it with a little ETH for gas; the lender registers the host with `host register --bond ETH`"
        : "next: `host register --bond ETH` (the agent key must exist: `init`)",
    );
    return 0;
  },
};

const hostRegisterCommand: Command = {
  name: "host register",
  args: "--bond ETH [--metadata-cid CID] [--agent ADDRESS]",
  summary: "register this host with a bond (lender key); prints its host id",
  help: `  --bond ETH               bond to lock (at least the market's minimum bond, params().minBond)
  --metadata-cid CID       the host's public description; default: a document made from the host agent's
                           inventory (mode, GPUs or "${NO_GPU_TEXT}", CPU), pinned to IPFS
  --agent ADDRESS          the host's oracle key (default: the address of <state-dir>/keys/agent.json)`,
  options: { bond: { type: "string" }, "metadata-cid": { type: "string" }, agent: { type: "string" } },
  async run(ctx) {
    const bond = parseEth(optionString(ctx.values, "bond", true), "--bond");
    const agentOpt = optionString(ctx.values, "agent");
    let cid = optionString(ctx.values, "metadata-cid");
    if (cid !== undefined && Buffer.byteLength(cid) > 128)
      throw new UsageError("--metadata-cid is longer than 128 bytes");
    const market = await openMarket(ctx.opts);
    const agent = agentOpt
      ? parseAddress(agentOpt, "--agent")
      : await requireKeystoreAddress(ctx.opts.stateDir, "agent");
    const lender = await lenderAccount(ctx);
    // Refused before anything is pinned or sent (registerHost checks again).
    const min = await minBond(market);
    if (bond < min) {
      throw new OracleError(
        "insufficient-bond",
        `insufficient bond: ${formatUnits(bond, 18)} ETH offered, the market needs at least ${formatUnits(min, 18)} ETH (params().minBond)`,
      );
    }
    if (cid === undefined) {
      const inv = await fetchInventory(ctx.opts.agent, { refresh: true });
      cid = await pinDocument(ctx.opts, hostMetadata(inv));
    }
    const { hostId, txHash } = await registerHost(market, lender, { agent, bond, metadataCid: cid });
    ctx.json({ hostId, lender: lender.address, agent, bond, metadataCid: cid, txHash });
    ctx.say(`host id: ${hostId}`);
    ctx.say(
      `registered host ${hostId}: lender ${lender.address}, agent ${agent}, bond ${formatUnits(bond, 18)} ETH`,
    );
    ctx.say(`metadata: ${cid || "(none)"}; transaction ${txHash}`);
    return 0;
  },
};

const bondDepositCommand: Command = {
  name: "bond deposit",
  args: "--host ID --amount ETH",
  summary: "add to a host's bond",
  help: "  --host ID                the host\n  --amount ETH             how much to add",
  options: { host: { type: "string" }, amount: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const amount = parseEth(optionString(ctx.values, "amount", true), "--amount");
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const { bond, txHash } = await depositBond(market, lender, hostId, amount);
    ctx.json({ hostId, deposited: amount, bond, txHash });
    ctx.say(
      `host ${hostId}: deposited ${formatUnits(amount, 18)} ETH, bond now ${formatUnits(bond, 18)} ETH`,
    );
    return 0;
  },
};

const bondUnbondCommand: Command = {
  name: "bond unbond",
  args: "--host ID",
  summary: "start the unbonding delay (the host takes no new bookings or listings meanwhile)",
  help: "  --host ID                the host",
  options: { host: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const { unlocksAt, txHash } = await requestUnbond(market, lender, hostId);
    ctx.json({ hostId, unlocksAt, txHash });
    ctx.say(
      `host ${hostId} is unbonding: the bond may be withdrawn from ${isoTime(unlocksAt)} once no booking is open ` +
        "(`bond withdraw`); `bond cancel-unbond` takes bookings again",
    );
    return 0;
  },
};

const bondCancelCommand: Command = {
  name: "bond cancel-unbond",
  args: "--host ID",
  summary: "stop unbonding; the host takes bookings again",
  help: "  --host ID                the host",
  options: { host: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const { txHash } = await cancelUnbond(market, lender, hostId);
    ctx.json({ hostId, txHash });
    ctx.say(`host ${hostId} no longer unbonding; it takes bookings again`);
    return 0;
  },
};

const bondWithdrawCommand: Command = {
  name: "bond withdraw",
  args: "--host ID --amount ETH",
  summary: "take bond back after the unbonding delay, with no open bookings",
  help: "  --host ID                the host\n  --amount ETH             how much to take back",
  options: { host: { type: "string" }, amount: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const amount = parseEth(optionString(ctx.values, "amount", true), "--amount");
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const { bond, txHash } = await withdrawBond(market, lender, hostId, amount);
    ctx.json({ hostId, withdrawn: amount, bond, txHash });
    ctx.say(
      `host ${hostId}: withdrew ${formatUnits(amount, 18)} ETH of bond, ${formatUnits(bond, 18)} ETH left`,
    );
    return 0;
  },
};

const listingCreateCommand: Command = {
  name: "listing create",
  args: "--host ID --price ETH_PER_HOUR [--gpus N] [--gpu-model NAME] [--cpu-cores N] [--ram-mib N] [--disk-gib N] [--region R] [--min-slots N] [--max-slots N] [--lead-time S] [--asset ADDRESS]",
  summary: "list the host's hardware, as the host agent's inventory has it, at a price per hour",
  help: `  --host ID                the host (yours)
  --price AMOUNT           price per hour of the whole listing (ETH, or the --asset token's units)
  --gpus N                 VFIO-ready GPUs to offer (default: all of them on a gpu-passthrough host, else 0)
  --gpu-model NAME         which model when the ready GPUs differ (the inventory's name exactly)
  --cpu-cores N            default: the host's logical CPUs (never more)
  --ram-mib N              default: min(host RAM / 2, 8192) MiB (never more than the host has)
  --disk-gib N             default 10 (the size of the agent's pre-made encrypted overlay)
  --region R               default "local"
  --min-slots N            shortest booking in calendar slots (default 1)
  --max-slots N            longest booking in slots (default: 24 h of slots, capped by the market)
  --lead-time S            seconds between booking and the earliest start (default 0)
  --asset ADDRESS          an owner-allowed ERC-20 to be paid in (default: the native currency)

The GPU model and VRAM come from the host agent's inventory, never from the command line. A host without a
VFIO-ready GPU gets an honest CPU-only listing (GPU model "", 0 GPUs, 0 VRAM) whose pinned metadata says
"${NO_GPU_TEXT}". Confidential computing is always none: this host agent does not
launch SEV-SNP or TDX guests yet. Asking for GPUs the host cannot pass through fails with the inventory's
blockers (see \`computehive-host-agent doctor\`).`,
  options: {
    host: { type: "string" },
    price: { type: "string" },
    gpus: { type: "string" },
    "gpu-model": { type: "string" },
    "cpu-cores": { type: "string" },
    "ram-mib": { type: "string" },
    "disk-gib": { type: "string" },
    region: { type: "string" },
    "min-slots": { type: "string" },
    "max-slots": { type: "string" },
    "lead-time": { type: "string" },
    asset: { type: "string" },
  },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const priceArg = optionString(ctx.values, "price", true);
    const assetOpt = optionString(ctx.values, "asset");
    const asset: Address = assetOpt ? parseAddress(assetOpt, "--asset") : zeroAddress;
    const req = {
      gpus: intOpt(ctx, "gpus", 0, 255),
      gpuModel: optionString(ctx.values, "gpu-model"),
      cpuCores: intOpt(ctx, "cpu-cores", 1, 65535),
      ramMiB: intOpt(ctx, "ram-mib", 1, 2 ** 32 - 1),
      diskGiB: intOpt(ctx, "disk-gib", 1, 2 ** 32 - 1),
      region: optionString(ctx.values, "region"),
    };
    const minSlotsOpt = intOpt(ctx, "min-slots", 1, 65535);
    const maxSlotsOpt = intOpt(ctx, "max-slots", 1, 65535);
    const leadTime = intOpt(ctx, "lead-time", 0, 2 ** 32 - 1) ?? 0;

    const market = await openMarket(ctx.opts);
    const info = await assetInfo(market, asset);
    const pricePerHour = parseAmount(priceArg, "--price", info.decimals);
    const lender = await lenderAccount(ctx);
    await requireLender(market, lender.address, hostId);
    const limits = await termLimits(market);
    const minSlots = minSlotsOpt ?? 1;
    const daySlots = Math.max(1, Math.floor(86_400 / market.deployment.params.slotLength));
    const maxSlots = maxSlotsOpt ?? Math.max(minSlots, Math.min(limits.maxSlots, daySlots));
    if (minSlots > maxSlots || maxSlots > limits.maxSlots) {
      throw new UsageError(
        `need 1 <= --min-slots <= --max-slots <= ${limits.maxSlots}, got ${minSlots}..${maxSlots}`,
      );
    }
    if (leadTime > limits.maxLead) throw new UsageError(`--lead-time is at most ${limits.maxLead} s`);

    const inv = await fetchInventory(ctx.opts.agent, { refresh: true });
    const plan = planListing(inv, req);
    const cid = await pinDocument(ctx.opts, plan.metadata);
    const { listingId, txHash } = await createListing(
      market,
      lender,
      hostId,
      plan.hardware,
      { pricePerHour, asset, minSlots, maxSlots, leadTime },
      cid,
    );
    ctx.json({
      listingId,
      hostId,
      hardware: plan.hardware,
      gpus: plan.gpus.map((g) => g.pciAddress),
      asset,
      pricePerHour,
      minSlots,
      maxSlots,
      leadTime,
      metadataCid: cid,
      txHash,
    });
    ctx.say(`listing id: ${listingId}`);
    ctx.say(`host ${hostId}: ${describeHardware(plan.hardware)}`);
    ctx.say(
      `price ${formatAmount(pricePerHour, info)} per hour; ${minSlots}-${maxSlots} slots of ` +
        `${duration(market.deployment.params.slotLength)}; lead time ${leadTime} s; metadata ${cid}`,
    );
    return 0;
  },
};

const listingPriceCommand: Command = {
  name: "listing price",
  args: "--listing ID --price AMOUNT",
  summary: "change the price per hour of future bookings",
  help: "  --listing ID             the listing\n  --price AMOUNT           new price per hour (in the listing's asset)",
  options: { listing: { type: "string" }, price: { type: "string" } },
  async run(ctx) {
    const listingId = listingOpt(ctx);
    const text = optionString(ctx.values, "price", true);
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const l = await requireListingLender(market, lender.address, listingId);
    const decimals = l.usdPriced ? 18 : (await assetInfo(market, l.asset)).decimals;
    const price = parseAmount(text, "--price", decimals);
    const { txHash } = await setListingPrice(market, lender, listingId, price);
    ctx.json({ listingId, pricePerHour: price, previous: l.pricePerHour, txHash });
    ctx.say(
      `listing ${listingId}: price ${await priceText(market, l, price)} per hour (was ${await priceText(market, l, l.pricePerHour)}); existing bookings keep theirs`,
    );
    return 0;
  },
};

const listingTermsCommand: Command = {
  name: "listing terms",
  args: "--listing ID [--min-slots N] [--max-slots N] [--lead-time S]",
  summary: "change the booking length bounds and lead time (omitted ones stay as they are)",
  help: "  --listing ID             the listing\n  --min-slots N            shortest booking in slots\n  --max-slots N            longest booking in slots\n  --lead-time S            seconds between booking and the earliest start",
  options: {
    listing: { type: "string" },
    "min-slots": { type: "string" },
    "max-slots": { type: "string" },
    "lead-time": { type: "string" },
  },
  async run(ctx) {
    const listingId = listingOpt(ctx);
    const minO = intOpt(ctx, "min-slots", 1, 65535);
    const maxO = intOpt(ctx, "max-slots", 1, 65535);
    const leadO = intOpt(ctx, "lead-time", 0, 2 ** 32 - 1);
    if (minO === undefined && maxO === undefined && leadO === undefined) {
      throw new UsageError("give at least one of --min-slots, --max-slots, --lead-time");
    }
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const l = await requireListingLender(market, lender.address, listingId);
    const terms = {
      minSlots: minO ?? l.minSlots,
      maxSlots: maxO ?? l.maxSlots,
      leadTime: leadO ?? l.leadTime,
    };
    const { txHash } = await setListingTerms(market, lender, listingId, terms);
    ctx.json({ listingId, ...terms, txHash });
    ctx.say(
      `listing ${listingId}: bookings of ${terms.minSlots}-${terms.maxSlots} slots, lead time ${terms.leadTime} s`,
    );
    return 0;
  },
};

function activeCommand(active: boolean): Command {
  return {
    name: active ? "listing activate" : "listing deactivate",
    args: "--listing ID",
    summary: active
      ? "take bookings on the listing again"
      : "stop new bookings on the listing (existing ones stay)",
    help: "  --listing ID             the listing",
    options: { listing: { type: "string" } },
    async run(ctx) {
      const listingId = listingOpt(ctx);
      const market = await openMarket(ctx.opts);
      const lender = await lenderAccount(ctx);
      const { txHash } = await setListingActive(market, lender, listingId, active);
      ctx.json({ listingId, active, txHash });
      ctx.say(
        `listing ${listingId} ${active ? "active: takes bookings" : "inactive: takes no new bookings"}`,
      );
      return 0;
    },
  };
}

const listingListCommand: Command = {
  name: "listing list",
  args: "--host ID",
  summary: "the host's listings as the chain has them",
  help: "  --host ID                the host",
  options: { host: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const market = await openMarket(ctx.opts);
    const listings = await hostListings(market, hostId);
    ctx.json({ hostId, listings });
    if (listings.length === 0) ctx.say(`host ${hostId} has no listings (\`listing create\`)`);
    for (const l of listings) {
      ctx.say(
        `listing ${l.listingId} [${l.active ? "active" : "inactive"}] ${await priceText(market, l, l.pricePerHour)}/h: ` +
          `${describeHardware(l.hardware)}; ${l.minSlots}-${l.maxSlots} slots, lead time ${l.leadTime} s; ` +
          `metadata ${l.metadataCid || "(none)"}`,
      );
    }
    return 0;
  },
};

const bookingsCommand: Command = {
  name: "bookings",
  args: "--host ID",
  summary: "every booking of the host's listings: window, price, status",
  help: "  --host ID                the host",
  options: { host: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const market = await openMarket(ctx.opts);
    const bookings = await hostBookings(market, hostId);
    ctx.json({ hostId, bookings });
    if (bookings.length === 0) ctx.say(`host ${hostId} has no bookings`);
    for (const b of bookings as BookingView[]) {
      const info = await assetInfo(market, b.asset);
      ctx.say(
        `booking ${b.bookingId} listing ${b.listingId} ${b.status}: ${isoTime(b.start)} → ${isoTime(b.end)} ` +
          `(${duration(b.end - b.start)}), ${formatAmount(b.price, info)}, borrower ${b.borrower}` +
          (b.usedSeconds ? `, used ${duration(b.usedSeconds)}` : ""),
      );
    }
    return 0;
  },
};

const earningsCommand: Command = {
  name: "earnings",
  args: "[--host ID] [--lender ADDRESS]",
  summary: "what the lender can withdraw and has earned, per asset",
  help: `  --host ID                only this host's bookings (default: every host of the lender)
  --lender ADDRESS         default: the address of <state-dir>/keys/lender.json (no password needed)`,
  options: { host: { type: "string" }, lender: { type: "string" } },
  async run(ctx) {
    const hostText = optionString(ctx.values, "host");
    const lenderText = optionString(ctx.values, "lender");
    const lender = lenderText
      ? parseAddress(lenderText, "--lender")
      : await requireKeystoreAddress(ctx.opts.stateDir, "lender");
    const market = await openMarket(ctx.opts);
    const e = await lenderEarnings(market, lender, hostText ? [parseId(hostText, "--host")] : undefined);
    ctx.json(e);
    ctx.say(`lender ${lender}, hosts ${e.hostIds.join(", ") || "(none)"}`);
    for (const a of e.assets) {
      ctx.say(
        `${a.symbol}: withdrawable ${formatAmount(a.credit, a)}; earned ${formatAmount(a.settled, a)} from ` +
          `${a.settledBookings} settled booking(s), ${formatAmount(a.cancellationFees, a)} from ` +
          `${a.cancelledBookings} cancellation(s); withdrawn so far ${formatAmount(a.withdrawn, a)}`,
      );
    }
    return 0;
  },
};

const reputationCommand: Command = {
  name: "reputation",
  args: "--host ID",
  summary: "the host's on-chain counters and bond",
  help: "  --host ID                the host",
  options: { host: { type: "string" } },
  async run(ctx) {
    const hostId = hostOpt(ctx);
    const market = await openMarket(ctx.opts);
    const h = await getHost(market, hostId);
    ctx.json(h);
    ctx.say(`host ${hostId}: lender ${h.lender}, agent ${h.agent}`);
    ctx.say(
      `completed ${h.completed}, no-shows ${h.noShows}, declines ${h.declines}, disputes lost ${h.disputesLost}, ` +
        `seconds served ${h.secondsServed}, open bookings ${h.openBookings}`,
    );
    ctx.say(
      `bond ${formatUnits(h.bond, 18)} ETH${h.unbondAt ? `, unbonding (may leave from ${isoTime(h.unbondAt)})` : ""}; ` +
        `registered ${isoTime(h.registeredAt)}; metadata ${h.metadataCid || "(none)"}`,
    );
    return 0;
  },
};

const withdrawCommand: Command = {
  name: "withdraw",
  args: "[--asset ADDRESS]",
  summary: "send the lender's whole credit of an asset to the lender",
  help: "  --asset ADDRESS          an ERC-20 (default: the native currency)",
  options: { asset: { type: "string" } },
  async run(ctx) {
    const assetText = optionString(ctx.values, "asset");
    const asset = assetText ? parseAddress(assetText, "--asset") : zeroAddress;
    const market = await openMarket(ctx.opts);
    const lender = await lenderAccount(ctx);
    const r = await withdrawCredits(market, lender, asset);
    ctx.json({ lender: lender.address, asset, amount: r.amount, txHash: r.txHash });
    ctx.say(`withdrew ${formatAmount(r.amount, r.asset)} to ${lender.address}`);
    return 0;
  },
};

interface DaemonModule {
  runDaemonCommand(values: OptionValues): Promise<unknown>;
  /** Extra parseArgs options of `run`, when the daemon declares some. */
  DAEMON_OPTIONS?: Command["options"];
  DAEMON_USAGE?: string;
}

const runCommand: Command = {
  name: "run",
  args: "[daemon options]",
  summary: "run the daemon: follow the market, drive the host agent, publish endpoints, report, settle",
  help: "  the common options below, and the daemon's own:",
  options: {},
  // Never called: main() loads ./daemon-cli.ts only for `run` and hands the parsed options to its runDaemonCommand.
  run: async () => 0,
};

export const COMMANDS: readonly Command[] = [
  initCommand,
  hostRegisterCommand,
  bondDepositCommand,
  bondUnbondCommand,
  bondCancelCommand,
  bondWithdrawCommand,
  listingCreateCommand,
  listingPriceCommand,
  listingTermsCommand,
  activeCommand(false),
  activeCommand(true),
  listingListCommand,
  bookingsCommand,
  earningsCommand,
  reputationCommand,
  withdrawCommand,
  runCommand,
];

const GROUPS = ["host", "bond", "listing"];

export function usage(): string {
  const lines = COMMANDS.map((c) => `  ${`${c.name} ${c.args}`}\n      ${c.summary}`);
  return `usage: ${PROG} <command> [options]

commands:
${lines.join("\n")}
  price --gpu "<name as nvidia-smi prints it>" --count N [--json] [--retrain] …
      suggest a listing's price from the market's history (or the hardware prior); \`price --help\` for more

${COMMON_USAGE}

\`${PROG} <command> --help\` shows a command's options. Exit status: 0 done, 1 failed (one line on stderr
saying what to do), 2 usage error.
`;
}

function commandUsage(c: Command, extraHelp = ""): string {
  return `usage: ${PROG} ${c.name} ${c.args}

${c.summary}

${c.help}${extraHelp ? `\n${extraHelp}` : ""}

${COMMON_USAGE}
`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Runs one command line (without the program name); returns the exit status. */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) {
    io.stderr(usage());
    return 2;
  }
  if (first === "help" || first === "--help" || first === "-h") {
    io.stdout(usage());
    return 0;
  }
  if (first === "price") {
    // The price suggestion has its own parser and output contract (one JSON line with --json): `npm run price`.
    const price = await import("./price-cli.ts");
    return price.main([...argv.slice(1)]);
  }
  let command = COMMANDS.find((c) => c.name === `${first} ${second}`);
  let rest = argv.slice(2);
  if (!command) {
    command = COMMANDS.find((c) => c.name === first);
    rest = argv.slice(1);
  }
  if (!command) {
    if (GROUPS.includes(first)) {
      const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
      const text = `usage: ${PROG} ${first} <${subs.map((c) => c.name.split(" ")[1]).join("|")}> [options]\n\n${subs
        .map((c) => `  ${c.name} ${c.args}\n      ${c.summary}`)
        .join("\n")}\n`;
      if (second === "--help" || second === "-h") {
        io.stdout(text);
        return 0;
      }
      io.stderr(
        `${PROG}: ${second === undefined ? `${first} needs a subcommand` : `unknown command ${first} ${second}`}\n\n${text}`,
      );
      return 2;
    }
    io.stderr(`${PROG}: unknown command ${first}\n\n${usage()}`);
    return 2;
  }

  let daemon: DaemonModule | undefined;
  let options = { ...COMMON_OPTIONS, ...command.options };
  let extraHelp = "";
  if (command === runCommand) {
    try {
      daemon = (await import("./daemon-cli.ts")) as unknown as DaemonModule;
    } catch (err) {
      io.stderr(`${PROG}: error: the daemon cannot be loaded: ${oneLine((err as Error).message)}\n`);
      return 1;
    }
    options = { ...options, ...(daemon.DAEMON_OPTIONS ?? {}) };
    extraHelp = daemon.DAEMON_USAGE ?? "";
  }

  const fail = (err: unknown): number => {
    if (err instanceof UsageError) {
      io.stderr(`${PROG} ${command.name}: ${oneLine(err.message)}\n\n${commandUsage(command, extraHelp)}`);
      return 2;
    }
    if (err instanceof OracleError) {
      io.stderr(`${PROG}: ${err.code === "usage" ? "" : "error: "}${oneLine(err.message)}\n`);
      return err.code === "usage" ? 2 : 1;
    }
    if (err instanceof DeploymentError) {
      io.stderr(`${PROG}: error: ${oneLine(err.message)}\n`);
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`${PROG}: error: ${oneLine(message)}\n`);
    if (env.COMPUTEHIVE_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return 1;
  };

  let values: OptionValues;
  try {
    values = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false })
      .values as OptionValues;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
      return fail(new UsageError(msg));
    }
    return fail(err);
  }
  if (values.help === true) {
    io.stdout(commandUsage(command, extraHelp));
    return 0;
  }

  try {
    if (daemon) {
      const code = await daemon.runDaemonCommand(values);
      return typeof code === "number" ? code : 0;
    }
    const opts = resolveCommonOptions(values, env);
    const ctx: Context = {
      values,
      opts,
      io,
      env,
      say: (line) => {
        if (!opts.json) io.stdout(`${line}\n`);
      },
      json: (value) => {
        if (opts.json) io.stdout(`${toJson(value)}\n`);
      },
    };
    return (await command.run(ctx)) ?? 0;
  } catch (err) {
    return fail(err);
  }
}

// Run as a program (also through a symlinked bin), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${PROG}: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
