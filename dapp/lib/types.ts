// Shapes of the subgraph's answers (subgraph/schema.graphql) as JSON delivers them: BigInt as decimal strings,
// Bytes as 0x-hex, ids as strings.
import { BOOKING_STATUSES, type BookingStatus } from "@computehive/sdk";

export type BookingStatusName =
  | "Booked"
  | "Active"
  | "Reported"
  | "Disputed"
  | "Settled"
  | "Cancelled"
  | "Declined"
  | "NoShow";

export type ConfidentialName = "None" | "SevSnp" | "Tdx";

export interface SgAsset {
  id: string;
  native: boolean;
}

export interface SgHost {
  id: string;
  agent: string;
  bond: string;
  unbondAt: string;
  metadataCid: string;
  registeredAt: string;
  completed: number;
  noShows: number;
  declines: number;
  disputesLost: number;
  secondsServed: string;
  openBookings: number;
  slashed: string;
  lender: { id: string };
}

export interface SgListing {
  id: string;
  gpuModel: string;
  gpuCount: number;
  vramMiBPerGpu: string;
  cpuCores: number;
  ramMiB: string;
  diskGiB: string;
  region: string;
  confidential: ConfidentialName;
  usdPriced: boolean;
  pricePerHour: string;
  minSlots: number;
  maxSlots: number;
  leadTime: string;
  active: boolean;
  metadataCid: string;
  createdAt: string;
  bookingCount: number;
  asset: SgAsset;
  host: SgHost;
}

export interface SgEvent {
  id: string;
  kind: string;
  actor: string;
  account: string | null;
  asset: string | null;
  amount: string | null;
  refund: string | null;
  lenderAmount: string | null;
  platformFee: string | null;
  slash: string | null;
  bond: string | null;
  seconds: string | null;
  cid: string | null;
  flag: boolean | null;
  code: number | null;
  txHash: string;
  blockNumber: string;
  timestamp: string;
  logIndex: string;
  booking: { id: string } | null;
  host: { id: string } | null;
  listing: { id: string } | null;
}

export interface SgBooking {
  id: string;
  start: string;
  end: string;
  price: string;
  feeBps: number;
  status: BookingStatusName;
  sessionPubKey: string;
  sshPubKey: string;
  bookedAt: string;
  activatedAt: string | null;
  endedAt: string | null;
  reportedAt: string | null;
  disputedAt: string | null;
  settledAt: string | null;
  cancelledAt: string | null;
  declinedAt: string | null;
  noShowAt: string | null;
  usedSeconds: string | null;
  lenderAmount: string | null;
  platformFee: string | null;
  refund: string | null;
  slash: string | null;
  declineReason: number | null;
  reportCid: string | null;
  disputeReasonCid: string | null;
  endpointPublications: number;
  encryptedEndpoint: string | null;
  lastEndpointAt: string | null;
  asset: SgAsset;
  borrower: { id: string };
  host: { id: string; agent: string; lender: { id: string } };
  listing: {
    id: string;
    gpuModel: string;
    gpuCount: number;
    region: string;
    usdPriced: boolean;
    pricePerHour: string;
  };
  events?: SgEvent[];
}

export interface SgAccountAsset {
  asset: SgAsset;
  balance: string;
  credited: string;
  withdrawn: string;
  earned: string;
  spent: string;
  refunded: string;
}

/** IMarket's Status, by its uint8 value. */
export const STATUS_NAMES = BOOKING_STATUSES;

export type OnChainStatusName = BookingStatus;

export function statusName(value: number): OnChainStatusName {
  const name = STATUS_NAMES[value];
  if (name === undefined) throw new RangeError(`unknown booking status ${value}`);
  return name;
}

export const TERMINAL_STATUSES: readonly string[] = ["Settled", "Cancelled", "Declined", "NoShow"];

/** Words for a status, for people. */
export const STATUS_WORDS: Record<OnChainStatusName, string> = {
  None: "Unknown booking",
  Booked: "Booked — waiting for the host to start the VM",
  Active: "Active — the endpoint is published",
  Reported: "Reported — the host reported the time used; you may dispute it",
  Disputed: "Disputed — waiting for the arbiter",
  Settled: "Settled — paid out",
  Cancelled: "Cancelled",
  Declined: "Declined by the host — fully refunded",
  NoShow: "No-show — the host never started it; refunded with compensation",
};

/** contracts/src/libraries/DeclineReason.sol, in words. */
export const DECLINE_REASONS: Record<number, string> = {
  1: "the session key is not a usable public key",
  2: "the SSH public key does not parse",
  3: "the SSH key type is not accepted (use ed25519, ECDSA or RSA ≥ 3072 bits)",
  4: "the RSA key is shorter than 3072 bits",
  5: "the SSH key is too long",
  6: "the host cannot serve the window (down, maintenance, hardware fault)",
  7: "provisioning the VM failed",
};
