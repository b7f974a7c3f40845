import { mkdir, writeFile } from "node:fs/promises";
import { arch, release, type } from "node:os";
import { join } from "node:path";
import { type Deployment, marketAbi, rawCid } from "@computehive/sdk";
import { type Account, type Address, parseEther, parseEventLogs, zeroAddress } from "viem";
import { publicClientFor, walletClientFor } from "./clients.ts";
import { type HardwareInput, readLocalHardware } from "./hardware.ts";
import { stateDir } from "./paths.ts";

/** What the demo listing and host say about the GPU: the honest truth of a development host. */
export const NO_GPU_NOTE = "no passthrough GPU (development host)";

export interface SeedOptions {
  rpcUrl: string;
  deployment: Deployment;
  /** Registers the host and owns the listing (anvil account 1 in the local stack). */
  lender: Account;
  /** The host's oracle key (anvil account 2 in the local stack). */
  agent: Account;
  /** Where the metadata documents are written, named by their CID. Default .computehive/metadata. */
  metadataDir?: string;
  region?: string;
  diskPath?: string;
  /** wei per hour; default 0.01 ether */
  pricePerHour?: bigint;
}

export interface DemoSeed {
  hostId: bigint;
  listingId: bigint;
  lender: Address;
  agent: Address;
  bond: bigint;
  hardware: HardwareInput;
  cpuModel: string;
  pricePerHour: bigint;
  minSlots: number;
  maxSlots: number;
  leadTime: number;
  hostMetadataCid: string;
  listingMetadataCid: string;
  /** The metadata documents as written (their raw-CIDv1 is the on-chain CID). */
  documents: Record<string, string>;
}

/**
 * Seeds a local market with ONE demo host, bonded with exactly the deployment's minimum bond, and ONE honest
 * listing of this machine (see readLocalHardware: no GPU, real CPU/RAM/disk). Metadata documents are written
 * to disk and referenced on-chain by their real content address (CIDv1, raw, sha2-256).
 */
export async function seedDemo(opts: SeedOptions): Promise<DemoSeed> {
  const { deployment: d } = opts;
  const publicClient = publicClientFor(opts.rpcUrl, d.chainId);
  const lender = walletClientFor(opts.rpcUrl, d.chainId, opts.lender);
  const local = readLocalHardware({ diskPath: opts.diskPath, region: opts.region });
  const hw = local.hardware;

  const params = await publicClient.readContract({
    address: d.market,
    abi: marketAbi,
    functionName: "params",
  });
  const bond = params.minBond;
  const pricePerHour = opts.pricePerHour ?? parseEther("0.01");
  const minSlots = 1;
  const maxSlots = Math.max(1, Math.min(2880, Math.floor((24 * 3600) / params.slotLength))); // up to 24 h
  const leadTime = 0; // the next slot boundary is bookable at once

  const hostDoc = `${JSON.stringify(
    {
      schema: "computehive/host-metadata@1",
      name: "ComputeHive demo host",
      description: `Local development host started by \`npm start\`: ${NO_GPU_NOTE}. Sessions run in a CPU-only guest.`,
      gpu: NO_GPU_NOTE,
      os: `${type()} ${release()} ${arch()}`,
    },
    null,
    2,
  )}\n`;
  const listingDoc = `${JSON.stringify(
    {
      schema: "computehive/listing-metadata@1",
      title: "CPU-only development VM",
      description: NO_GPU_NOTE,
      gpu: NO_GPU_NOTE,
      cpuModel: local.cpuModel,
      cpuCores: hw.cpuCores,
      ramMiB: hw.ramMiB,
      diskGiB: hw.diskGiB,
      region: hw.region,
      confidential: "none",
    },
    null,
    2,
  )}\n`;
  const hostMetadataCid = rawCid(hostDoc);
  const listingMetadataCid = rawCid(listingDoc);
  const metadataDir = opts.metadataDir ?? join(stateDir, "metadata");
  await mkdir(metadataDir, { recursive: true });
  await writeFile(join(metadataDir, `${hostMetadataCid}.json`), hostDoc);
  await writeFile(join(metadataDir, `${listingMetadataCid}.json`), listingDoc);

  const hostTx = await lender.writeContract({
    address: d.market,
    abi: marketAbi,
    functionName: "registerHost",
    args: [opts.agent.address, hostMetadataCid],
    value: bond,
  });
  const hostReceipt = await publicClient.waitForTransactionReceipt({ hash: hostTx });
  const [registered] = parseEventLogs({
    abi: marketAbi,
    logs: hostReceipt.logs,
    eventName: "HostRegistered",
  });
  if (hostReceipt.status !== "success" || !registered) throw new Error(`registerHost failed (${hostTx})`);
  const hostId = registered.args.hostId;

  const listingTx = await lender.writeContract({
    address: d.market,
    abi: marketAbi,
    functionName: "createListing",
    args: [hostId, hw, zeroAddress, false, pricePerHour, minSlots, maxSlots, leadTime, listingMetadataCid],
  });
  const listingReceipt = await publicClient.waitForTransactionReceipt({ hash: listingTx });
  const [created] = parseEventLogs({
    abi: marketAbi,
    logs: listingReceipt.logs,
    eventName: "ListingCreated",
  });
  if (listingReceipt.status !== "success" || !created) throw new Error(`createListing failed (${listingTx})`);

  return {
    hostId,
    listingId: created.args.listingId,
    lender: opts.lender.address,
    agent: opts.agent.address,
    bond,
    hardware: hw,
    cpuModel: local.cpuModel,
    pricePerHour,
    minSlots,
    maxSlots,
    leadTime,
    hostMetadataCid,
    listingMetadataCid,
    documents: { [hostMetadataCid]: hostDoc, [listingMetadataCid]: listingDoc },
  };
}
