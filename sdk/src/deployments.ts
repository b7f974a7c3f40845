import { type Address, getAddress, isAddress } from "viem";

// The record `script/DeployMarket.s.sol` writes to `deployments/<chainId>.json` (the launcher then sets
// `startBlock` to the market's exact creation block). This module only parses and checks it, so it runs in
// browsers too; `@computehive/sdk/node` reads it from disk.

/** Deployment-time constants of the market, as recorded (they never change after deployment). */
export interface DeploymentParams {
  slotLength: number;
  activationGrace: number;
  reportGrace: number;
  disputeWindow: number;
  arbiterDeadline: number;
  cancelCutoff: number;
  cancelFeeBps: number;
  unbondingDelay: number;
  /** wei */
  minBond: bigint;
  /** wei */
  noShowSlash: bigint;
  /** platform fee at deployment (the owner may change it later; read `feeBps()` for the current one) */
  feeBps: number;
  /** staleness bound of the USD feed in seconds; 0 without a feed */
  usdFeedMaxAge: number;
}

export interface Deployment {
  chainId: number;
  market: Address;
  /** The block the market was created in: index from here. */
  startBlock: bigint;
  deployer: Address;
  /** Owner at deployment. */
  owner: Address;
  /** Set when ownership was handed over with Ownable2Step and awaits `acceptOwnership()`. */
  pendingOwner: Address | null;
  treasury: Address;
  arbiter: Address;
  /** Native/USD AggregatorV3 feed (a MockV3Aggregator on local chains), or null. */
  usdFeed: Address | null;
  /** Free-mint ERC-20 allowed as a payment asset (local chains only), or null. */
  testToken: Address | null;
  params: DeploymentParams;
}

/** A deployment record is missing or malformed. The message says which file and which field. */
export class DeploymentError extends Error {
  override name = "DeploymentError";
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Reader {
  constructor(
    private readonly source: string,
    private readonly obj: Json,
    private readonly prefix = "",
  ) {}

  private fail(key: string, want: string): never {
    const got = this.obj[key];
    const shown = got === undefined ? "nothing" : JSON.stringify(got);
    throw new DeploymentError(`${this.source}: field "${this.prefix}${key}" must be ${want}, got ${shown}`);
  }

  address(key: string): Address {
    const v = this.obj[key];
    if (typeof v !== "string" || !isAddress(v, { strict: false })) this.fail(key, "an address");
    return getAddress(v);
  }

  nonZeroAddress(key: string): Address {
    const a = this.address(key);
    if (/^0x0{40}$/.test(a)) this.fail(key, "a non-zero address");
    return a;
  }

  addressOrNull(key: string): Address | null {
    return this.obj[key] === null ? null : this.address(key);
  }

  /** A non-negative safe integer (JSON number). */
  int(key: string): number {
    const v = this.obj[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) this.fail(key, "a non-negative integer");
    return v;
  }

  /** A non-negative integer given as a decimal string (wei) or a safe JSON number. */
  big(key: string): bigint {
    const v = this.obj[key];
    if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    return this.fail(key, "a non-negative integer (decimal string)");
  }

  object(key: string): Reader {
    const v = this.obj[key];
    if (!isObject(v)) this.fail(key, "an object");
    return new Reader(this.source, v, `${this.prefix}${key}.`);
  }
}

/**
 * Checks a parsed deployment record and returns it typed (addresses checksummed, wei as bigint).
 * @param source names the record in error messages (e.g. its path).
 */
export function parseDeployment(value: unknown, source = "deployment record"): Deployment {
  if (!isObject(value)) throw new DeploymentError(`${source}: must be a JSON object`);
  const r = new Reader(source, value);
  const p = r.object("params");
  return {
    chainId: r.int("chainId"),
    market: r.nonZeroAddress("market"),
    startBlock: r.big("startBlock"),
    deployer: r.address("deployer"),
    owner: r.address("owner"),
    pendingOwner: value.pendingOwner === undefined ? null : r.addressOrNull("pendingOwner"),
    treasury: r.address("treasury"),
    arbiter: r.address("arbiter"),
    usdFeed: r.addressOrNull("usdFeed"),
    testToken: r.addressOrNull("testToken"),
    params: {
      slotLength: p.int("slotLength"),
      activationGrace: p.int("activationGrace"),
      reportGrace: p.int("reportGrace"),
      disputeWindow: p.int("disputeWindow"),
      arbiterDeadline: p.int("arbiterDeadline"),
      cancelCutoff: p.int("cancelCutoff"),
      cancelFeeBps: p.int("cancelFeeBps"),
      unbondingDelay: p.int("unbondingDelay"),
      minBond: p.big("minBond"),
      noShowSlash: p.big("noShowSlash"),
      feeBps: p.int("feeBps"),
      usdFeedMaxAge: p.int("usdFeedMaxAge"),
    },
  };
}

/** Parses the text of a deployment record (see `parseDeployment`). */
export function parseDeploymentJson(text: string, source = "deployment record"): Deployment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DeploymentError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  return parseDeployment(value, source);
}
