// Mappings of every event of contracts/src/Market.sol (IMarket plus OZ Ownable2Step) onto schema.graphql.
// Booking.status follows the contract's transitions:
//   Booked --EndpointPublished--> Active --UsageReported--> Reported --(BookingSettled)--> Settled
//   Booked|Active --BookingDeclined--> Declined, --BookingCancelled--> Cancelled
//   Booked --NoShowClaimed--> NoShow
//   Reported|Active --BookingDisputed--> Disputed --DisputeResolved, BookingSettled--> Settled
//   Active --BookingSettled (never reported, full use)--> Settled
// Host counters change exactly where the contract changes its own (see Market.sol's _settle, _noShow,
// decline, cancel, resolveDispute).
import { BigInt, Bytes, ethereum, log } from "@graphprotocol/graph-ts";
import {
  AgentChanged,
  ArbiterSet,
  AssetAllowed,
  BondDeposited,
  BondSlashed,
  BondWithdrawn,
  Booked,
  BookingCancelled,
  BookingDeclined,
  BookingDisputed,
  BookingSettled,
  Credited,
  DisputeResolved,
  EndpointPublished,
  FeeSet,
  HostMetadataUpdated,
  HostRegistered,
  ListingActiveSet,
  ListingCreated,
  ListingMetadataUpdated,
  ListingPriceUpdated,
  ListingTermsUpdated,
  NoShowClaimed,
  OwnershipTransferred,
  OwnershipTransferStarted,
  Paused,
  SessionEndRequested,
  TreasurySet,
  UnbondCancelled,
  UnbondRequested,
  Unpaused,
  UsageReported,
  UsdFeedSet,
  Withdrawn,
} from "../../generated/Market/Market";
import { Booking, Dispute, Host, Listing, Withdrawal } from "../../generated/schema";
import { newBookingEvent, newMarketEvent } from "../utils/audit";
import {
  assetKindOf,
  countActive,
  countListingCreated,
  getGpuModelDay,
  getGpuModelDayAsset,
  hours,
  modelOf,
  refreshAverages,
} from "../utils/daily";
import { getAccount, getAccountAsset, getAsset, getMarket } from "../utils/entities";
import { eventId, idOf, isZero } from "../utils/ids";

const ZERO = BigInt.zero();
const CONFIDENTIAL: string[] = ["None", "SevSnp", "Tdx"];

/* LOADERS: the contract only emits these events for existing ids, so a miss means a broken index. */

function loadHost(id: BigInt): Host {
  const h = Host.load(idOf(id));
  if (h == null) log.critical("unknown host {}", [idOf(id)]);
  return h as Host;
}

function loadListing(id: BigInt): Listing {
  const l = Listing.load(idOf(id));
  if (l == null) log.critical("unknown listing {}", [idOf(id)]);
  return l as Listing;
}

function loadBooking(id: BigInt): Booking {
  const b = Booking.load(idOf(id));
  if (b == null) log.critical("unknown booking {}", [idOf(id)]);
  return b as Booking;
}

/** The booking's host, with openBookings decremented: every terminal transition frees one. */
function closeBooking(b: Booking, event: ethereum.Event): Host {
  const h = Host.load(b.host) as Host;
  h.openBookings = h.openBookings - 1;
  const m = getMarket(event);
  m.openBookings = m.openBookings - 1;
  m.save();
  return h;
}

/** Borrower refund bookkeeping shared by cancel, decline, no-show and settlement. */
function recordRefund(b: Booking, refund: BigInt, event: ethereum.Event): void {
  if (refund.isZero()) return;
  const aa = getAccountAsset(b.borrower, b.asset, event);
  aa.refunded = aa.refunded.plus(refund);
  aa.spent = aa.spent.minus(refund);
  aa.save();
  const asset = getAsset(b.asset);
  asset.refunds = asset.refunds.plus(refund);
  asset.save();
}

/** Lender earnings and platform fees shared by settlement and late cancellation. */
function recordPayout(
  b: Booking,
  lender: Bytes,
  lenderAmount: BigInt,
  platformFee: BigInt,
  event: ethereum.Event,
): void {
  if (!lenderAmount.isZero()) {
    const aa = getAccountAsset(lender, b.asset, event);
    aa.earned = aa.earned.plus(lenderAmount);
    aa.save();
  }
  const asset = getAsset(b.asset);
  asset.volumeToLenders = asset.volumeToLenders.plus(lenderAmount);
  asset.platformFees = asset.platformFees.plus(platformFee);
  asset.save();
}

/* HOSTS */

export function handleHostRegistered(event: HostRegistered): void {
  const p = event.params;
  getAccount(p.lender, event);
  getAccount(p.agent, event);
  const h = new Host(idOf(p.hostId));
  h.lender = p.lender;
  h.agent = p.agent;
  h.bond = p.bond;
  h.unbondAt = ZERO;
  h.metadataCid = p.metadataCid;
  h.registeredAt = event.block.timestamp;
  h.completed = 0;
  h.noShows = 0;
  h.declines = 0;
  h.disputesLost = 0;
  h.secondsServed = ZERO;
  h.openBookings = 0;
  h.slashed = ZERO;
  h.save();

  const m = getMarket(event);
  m.hostCount = m.hostCount + 1;
  m.save();

  const e = newMarketEvent(event, "HostRegistered", p.lender);
  e.host = h.id;
  e.account = p.agent;
  e.amount = p.bond;
  e.bond = p.bond;
  e.cid = p.metadataCid;
  e.save();
}

export function handleAgentChanged(event: AgentChanged): void {
  const p = event.params;
  const h = loadHost(p.hostId);
  h.agent = p.newAgent;
  h.save();
  getAccount(p.newAgent, event);
  const e = newMarketEvent(event, "AgentChanged", event.transaction.from);
  e.host = h.id;
  e.account = p.newAgent;
  e.save();
}

export function handleHostMetadataUpdated(event: HostMetadataUpdated): void {
  const p = event.params;
  const h = loadHost(p.hostId);
  h.metadataCid = p.metadataCid;
  h.save();
  const e = newMarketEvent(event, "HostMetadataUpdated", event.transaction.from);
  e.host = h.id;
  e.cid = p.metadataCid;
  e.save();
}

export function handleBondDeposited(event: BondDeposited): void {
  const p = event.params;
  const h = loadHost(p.hostId);
  h.bond = p.bond;
  h.save();
  const e = newMarketEvent(event, "BondDeposited", p.from);
  e.host = h.id;
  e.amount = p.amount;
  e.bond = p.bond;
  e.save();
}

export function handleUnbondRequested(event: UnbondRequested): void {
  const p = event.params;
  const h = loadHost(p.hostId);
  h.unbondAt = p.unlocksAt;
  h.save();
  const e = newMarketEvent(event, "UnbondRequested", event.transaction.from);
  e.host = h.id;
  e.amount = p.unlocksAt;
  e.save();
}

export function handleUnbondCancelled(event: UnbondCancelled): void {
  const h = loadHost(event.params.hostId);
  h.unbondAt = ZERO;
  h.save();
  const e = newMarketEvent(event, "UnbondCancelled", event.transaction.from);
  e.host = h.id;
  e.save();
}

export function handleBondWithdrawn(event: BondWithdrawn): void {
  const p = event.params;
  const h = loadHost(p.hostId);
  h.bond = p.bond;
  h.save();
  const e = newMarketEvent(event, "BondWithdrawn", p.to);
  e.host = h.id;
  e.account = p.to;
  e.amount = p.amount;
  e.bond = p.bond;
  e.save();
}

export function handleBondSlashed(event: BondSlashed): void {
  const p = event.params;
  const h = loadHost(p.hostId);
  h.bond = p.bond;
  h.slashed = h.slashed.plus(p.amount);
  h.save();

  const b = loadBooking(p.bookingId);
  b.slash = (b.slash === null ? ZERO : (b.slash as BigInt)).plus(p.amount);
  b.save();

  // The slash is credited in native currency (the Credited event that follows counts the credit itself).
  const aa = getAccountAsset(p.to, Bytes.fromHexString("0x0000000000000000000000000000000000000000"), event);
  aa.slashReceived = aa.slashReceived.plus(p.amount);
  aa.save();

  const e = newMarketEvent(event, "BondSlashed", event.transaction.from);
  e.host = h.id;
  e.booking = b.id;
  e.listing = b.listing;
  e.account = p.to;
  e.amount = p.amount;
  e.slash = p.amount;
  e.bond = p.bond;
  e.save();
}

/* LISTINGS */

export function handleListingCreated(event: ListingCreated): void {
  const p = event.params;
  const hw = p.hardware;
  const h = loadHost(p.hostId);
  getAsset(p.asset);

  const l = new Listing(idOf(p.listingId));
  l.host = h.id;
  l.gpuModel = hw.gpuModel;
  l.gpuCount = hw.gpuCount;
  l.vramMiBPerGpu = hw.vramMiBPerGpu;
  l.cpuCores = hw.cpuCores;
  l.ramMiB = hw.ramMiB;
  l.diskGiB = hw.diskGiB;
  l.region = hw.region;
  const c = hw.confidential;
  l.confidential = c < CONFIDENTIAL.length ? CONFIDENTIAL[c] : "None";
  l.asset = p.asset;
  l.usdPriced = p.usdPriced;
  l.pricePerHour = p.pricePerHour;
  l.minSlots = p.minSlots.toI32();
  l.maxSlots = p.maxSlots.toI32();
  l.leadTime = p.leadTime;
  l.active = true;
  l.metadataCid = p.metadataCid;
  l.createdAt = event.block.timestamp;
  l.bookingCount = 0;
  l.save();

  const m = getMarket(event);
  m.listingCount = m.listingCount + 1;
  m.save();

  countListingCreated(l, event.block.timestamp);

  const e = newMarketEvent(event, "ListingCreated", event.transaction.from);
  e.host = h.id;
  e.listing = l.id;
  e.asset = p.asset;
  e.amount = p.pricePerHour;
  e.flag = p.usdPriced;
  e.cid = p.metadataCid;
  e.save();
}

export function handleListingPriceUpdated(event: ListingPriceUpdated): void {
  const p = event.params;
  const l = loadListing(p.listingId);
  l.pricePerHour = p.pricePerHour;
  l.save();
  const e = newMarketEvent(event, "ListingPriceUpdated", event.transaction.from);
  e.host = l.host;
  e.listing = l.id;
  e.amount = p.pricePerHour;
  e.save();
}

export function handleListingTermsUpdated(event: ListingTermsUpdated): void {
  const p = event.params;
  const l = loadListing(p.listingId);
  l.minSlots = p.minSlots.toI32();
  l.maxSlots = p.maxSlots.toI32();
  l.leadTime = p.leadTime;
  l.save();
  const e = newMarketEvent(event, "ListingTermsUpdated", event.transaction.from);
  e.host = l.host;
  e.listing = l.id;
  e.amount = p.leadTime;
  e.save();
}

export function handleListingActiveSet(event: ListingActiveSet): void {
  const p = event.params;
  const l = loadListing(p.listingId);
  // The contract emits the flag even when unchanged; only a change moves the model's active count.
  if (l.active != p.active) countActive(l, p.active ? 1 : -1, event.block.timestamp);
  l.active = p.active;
  l.save();
  const e = newMarketEvent(event, "ListingActiveSet", event.transaction.from);
  e.host = l.host;
  e.listing = l.id;
  e.flag = p.active;
  e.save();
}

export function handleListingMetadataUpdated(event: ListingMetadataUpdated): void {
  const p = event.params;
  const l = loadListing(p.listingId);
  l.metadataCid = p.metadataCid;
  l.save();
  const e = newMarketEvent(event, "ListingMetadataUpdated", event.transaction.from);
  e.host = l.host;
  e.listing = l.id;
  e.cid = p.metadataCid;
  e.save();
}

/* BOOKINGS */

export function handleBooked(event: Booked): void {
  const p = event.params;
  const l = loadListing(p.listingId);
  const h = Host.load(l.host) as Host;
  const borrower = getAccount(p.borrower, event);
  const asset = getAsset(p.asset);

  const b = new Booking(idOf(p.bookingId));
  b.listing = l.id;
  b.host = h.id;
  b.borrower = p.borrower;
  b.start = p.start;
  b.end = p.end;
  b.asset = p.asset;
  b.price = p.price;
  b.feeBps = p.feeBps.toI32();
  b.sessionPubKey = p.sessionPubKey;
  b.sshPubKey = p.sshPubKey;
  b.status = "Booked";
  b.bookedAt = event.block.timestamp;
  b.endpointPublications = 0;
  b.save();

  l.bookingCount = l.bookingCount + 1;
  l.save();
  h.openBookings = h.openBookings + 1;
  h.save();
  borrower.bookingCount = borrower.bookingCount + 1;
  borrower.save();
  asset.volumeBooked = asset.volumeBooked.plus(p.price);
  asset.save();
  const m = getMarket(event);
  m.bookingCount = m.bookingCount + 1;
  m.openBookings = m.openBookings + 1;
  m.save();

  const aa = getAccountAsset(p.borrower, p.asset, event);
  aa.escrowed = aa.escrowed.plus(p.price);
  aa.spent = aa.spent.plus(p.price);
  aa.save();

  // Daily aggregates, on the day the booking was made.
  const duration = p.end.minus(p.start);
  const hrs = hours(duration);
  const gpuHrs = hrs.times(BigInt.fromI32(l.gpuCount).toBigDecimal());
  const d = getGpuModelDay(modelOf(l), event.block.timestamp);
  d.bookings = d.bookings + 1;
  d.hoursBooked = d.hoursBooked.plus(hrs);
  d.gpuHoursBooked = d.gpuHoursBooked.plus(gpuHrs);
  d.save();
  const da = getGpuModelDayAsset(d, assetKindOf(l), p.asset);
  da.bookings = da.bookings + 1;
  da.hoursBooked = da.hoursBooked.plus(hrs);
  da.gpuHoursBooked = da.gpuHoursBooked.plus(gpuHrs);
  da.volume = da.volume.plus(p.price);
  refreshAverages(da);
  da.save();

  const e = newMarketEvent(event, "Booked", p.borrower);
  e.booking = b.id;
  e.listing = l.id;
  e.host = h.id;
  e.account = p.borrower;
  e.asset = p.asset;
  e.amount = p.price;
  e.seconds = duration;
  e.save();
}

export function handleEndpointPublished(event: EndpointPublished): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  if (!p.republished) {
    b.status = "Active";
    b.activatedAt = event.block.timestamp;
  }
  b.endpointPublications = b.endpointPublications + 1;
  b.encryptedEndpoint = p.encryptedEndpoint;
  b.lastEndpointAt = event.block.timestamp;
  b.save();
  const e = newBookingEvent(event, "EndpointPublished", p.agent, b);
  e.flag = p.republished;
  e.save();
}

export function handleBookingDeclined(event: BookingDeclined): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.status = "Declined";
  b.declinedAt = event.block.timestamp;
  b.declineReason = p.reason;
  b.refund = p.refund;
  b.save();

  const h = closeBooking(b, event);
  h.declines = h.declines + 1;
  h.save();
  recordRefund(b, p.refund, event);

  const l = Listing.load(b.listing) as Listing;
  const d = getGpuModelDay(modelOf(l), event.block.timestamp);
  d.declined = d.declined + 1;
  d.save();

  const e = newBookingEvent(event, "BookingDeclined", p.agent, b);
  e.account = b.borrower;
  e.asset = b.asset;
  e.amount = p.refund;
  e.refund = p.refund;
  e.code = p.reason;
  e.save();
}

export function handleBookingCancelled(event: BookingCancelled): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.status = "Cancelled";
  b.cancelledAt = event.block.timestamp;
  b.refund = p.refund;
  b.lenderAmount = p.lenderFee;
  b.platformFee = p.platformFee;
  b.save();

  const h = closeBooking(b, event);
  h.save();
  recordRefund(b, p.refund, event);
  recordPayout(b, h.lender, p.lenderFee, p.platformFee, event);

  const l = Listing.load(b.listing) as Listing;
  const d = getGpuModelDay(modelOf(l), event.block.timestamp);
  d.cancelled = d.cancelled + 1;
  d.save();

  const e = newBookingEvent(event, "BookingCancelled", b.borrower, b);
  e.account = b.borrower;
  e.asset = b.asset;
  e.amount = p.refund;
  e.refund = p.refund;
  e.lenderAmount = p.lenderFee;
  e.platformFee = p.platformFee;
  e.save();
}

export function handleSessionEndRequested(event: SessionEndRequested): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.endedAt = p.endedAt;
  b.save();
  const e = newBookingEvent(event, "SessionEndRequested", b.borrower, b);
  e.account = b.borrower;
  e.amount = p.endedAt;
  e.save();
}

export function handleUsageReported(event: UsageReported): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.status = "Reported";
  b.reportedAt = event.block.timestamp;
  b.usedSeconds = p.usedSeconds;
  b.reportCid = p.reportCid;
  b.save();
  const e = newBookingEvent(event, "UsageReported", p.agent, b);
  e.seconds = p.usedSeconds;
  e.cid = p.reportCid;
  e.save();
}

export function handleBookingDisputed(event: BookingDisputed): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.status = "Disputed";
  b.disputedAt = event.block.timestamp;
  b.usedSeconds = p.claimedSeconds; // the contract stores the claim (full use when unreported)
  b.disputeReasonCid = p.reasonCid;

  const d = new Dispute(b.id);
  d.booking = b.id;
  d.borrower = b.borrower;
  d.host = b.host;
  d.claimedSeconds = p.claimedSeconds;
  d.reasonCid = p.reasonCid;
  d.openedAt = event.block.timestamp;
  d.resolved = false;
  d.save();
  b.dispute = d.id;
  b.save();

  const e = newBookingEvent(event, "BookingDisputed", b.borrower, b);
  e.account = b.borrower;
  e.seconds = p.claimedSeconds;
  e.cid = p.reasonCid;
  e.save();
}

export function handleDisputeResolved(event: DisputeResolved): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  const fallback = isZero(p.arbiter);
  // Same rule as Market.resolveDispute: the host loses when charged less than claimed or slashed. The
  // fallback charges the claim and slashes nothing, so it never counts.
  const claimed = b.usedSeconds === null ? ZERO : (b.usedSeconds as BigInt);
  const hostLost = !fallback && (p.usedSeconds.lt(claimed) || !p.slash.isZero());
  if (hostLost) {
    const h = Host.load(b.host) as Host;
    h.disputesLost = h.disputesLost + 1;
    h.save();
  }

  const d = Dispute.load(b.id);
  if (d == null) {
    log.critical("dispute of booking {} resolved but never opened", [b.id]);
    return;
  }
  d.resolved = true;
  d.arbiter = fallback ? null : p.arbiter;
  d.fallback = fallback;
  d.ruledSeconds = p.usedSeconds;
  d.slash = p.slash;
  d.resolvedAt = event.block.timestamp;
  d.hostLost = hostLost;
  d.save();
  // Status stays Disputed here; BookingSettled follows in the same transaction.

  const e = newBookingEvent(event, "DisputeResolved", fallback ? event.transaction.from : p.arbiter, b);
  e.account = b.borrower;
  e.seconds = p.usedSeconds;
  e.slash = p.slash;
  e.amount = p.slash;
  e.flag = fallback;
  e.save();
}

export function handleNoShowClaimed(event: NoShowClaimed): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.status = "NoShow";
  b.noShowAt = event.block.timestamp;
  b.refund = p.refund;
  b.save();

  const h = closeBooking(b, event);
  h.noShows = h.noShows + 1;
  h.save();
  recordRefund(b, p.refund, event);

  const l = Listing.load(b.listing) as Listing;
  const d = getGpuModelDay(modelOf(l), event.block.timestamp);
  d.noShows = d.noShows + 1;
  d.save();

  const e = newBookingEvent(event, "NoShowClaimed", p.caller, b);
  e.account = b.borrower;
  e.asset = b.asset;
  e.amount = p.refund;
  e.refund = p.refund;
  e.slash = p.slash;
  e.save();
}

export function handleBookingSettled(event: BookingSettled): void {
  const p = event.params;
  const b = loadBooking(p.bookingId);
  b.status = "Settled";
  b.settledAt = event.block.timestamp;
  b.usedSeconds = p.usedSeconds;
  b.lenderAmount = p.lenderAmount;
  b.platformFee = p.platformFee;
  b.refund = p.refund;
  b.save();

  const h = closeBooking(b, event);
  if (!p.usedSeconds.isZero()) {
    h.completed = h.completed + 1;
    h.secondsServed = h.secondsServed.plus(p.usedSeconds);
  }
  h.save();
  recordRefund(b, p.refund, event);
  recordPayout(b, h.lender, p.lenderAmount, p.platformFee, event);

  const l = Listing.load(b.listing) as Listing;
  const d = getGpuModelDay(modelOf(l), event.block.timestamp);
  if (!p.usedSeconds.isZero()) d.settled = d.settled + 1;
  d.secondsServed = d.secondsServed.plus(p.usedSeconds);
  d.save();
  const da = getGpuModelDayAsset(d, assetKindOf(l), b.asset);
  da.revenue = da.revenue.plus(p.lenderAmount).plus(p.platformFee);
  da.save();

  const e = newBookingEvent(event, "BookingSettled", p.caller, b);
  e.account = b.borrower;
  e.asset = b.asset;
  e.amount = p.lenderAmount;
  e.seconds = p.usedSeconds;
  e.lenderAmount = p.lenderAmount;
  e.platformFee = p.platformFee;
  e.refund = p.refund;
  e.save();
}

/* FUNDS */

export function handleCredited(event: Credited): void {
  const p = event.params;
  const aa = getAccountAsset(p.account, p.asset, event);
  aa.credited = aa.credited.plus(p.amount);
  aa.balance = aa.balance.plus(p.amount);
  aa.save();
  const e = newMarketEvent(event, "Credited", event.transaction.from);
  e.account = p.account;
  e.asset = p.asset;
  e.amount = p.amount;
  e.save();
}

export function handleWithdrawn(event: Withdrawn): void {
  const p = event.params;
  const aa = getAccountAsset(p.account, p.asset, event);
  aa.withdrawn = aa.withdrawn.plus(p.amount);
  aa.balance = aa.balance.minus(p.amount);
  aa.save();
  const asset = getAsset(p.asset);
  asset.withdrawn = asset.withdrawn.plus(p.amount);
  asset.save();

  const w = new Withdrawal(eventId(event));
  w.account = p.account;
  w.asset = p.asset;
  w.amount = p.amount;
  w.timestamp = event.block.timestamp;
  w.blockNumber = event.block.number;
  w.txHash = event.transaction.hash;
  w.save();

  const e = newMarketEvent(event, "Withdrawn", p.account);
  e.account = p.account;
  e.asset = p.asset;
  e.amount = p.amount;
  e.save();
}

/* OWNER */

export function handleFeeSet(event: FeeSet): void {
  const m = getMarket(event);
  m.feeBps = event.params.feeBps.toI32();
  m.save();
  const e = newMarketEvent(event, "FeeSet", event.transaction.from);
  e.amount = event.params.feeBps;
  e.save();
}

export function handleTreasurySet(event: TreasurySet): void {
  const m = getMarket(event);
  m.treasury = event.params.treasury;
  m.save();
  getAccount(event.params.treasury, event);
  const e = newMarketEvent(event, "TreasurySet", event.transaction.from);
  e.account = event.params.treasury;
  e.save();
}

export function handleArbiterSet(event: ArbiterSet): void {
  const m = getMarket(event);
  m.arbiter = event.params.arbiter;
  m.save();
  getAccount(event.params.arbiter, event);
  const e = newMarketEvent(event, "ArbiterSet", event.transaction.from);
  e.account = event.params.arbiter;
  e.save();
}

export function handleAssetAllowed(event: AssetAllowed): void {
  const a = getAsset(event.params.asset);
  a.allowed = event.params.allowed;
  a.save();
  const e = newMarketEvent(event, "AssetAllowed", event.transaction.from);
  e.asset = event.params.asset;
  e.flag = event.params.allowed;
  e.save();
}

export function handleUsdFeedSet(event: UsdFeedSet): void {
  const p = event.params;
  const m = getMarket(event);
  m.usdFeed = isZero(p.feed) ? null : p.feed;
  m.usdFeedMaxAge = p.maxAge;
  m.save();
  const e = newMarketEvent(event, "UsdFeedSet", event.transaction.from);
  e.account = p.feed;
  e.amount = p.maxAge;
  e.save();
}

export function handlePaused(event: Paused): void {
  const m = getMarket(event);
  m.paused = true;
  m.save();
  newMarketEvent(event, "Paused", event.params.account).save();
}

export function handleUnpaused(event: Unpaused): void {
  const m = getMarket(event);
  m.paused = false;
  m.save();
  newMarketEvent(event, "Unpaused", event.params.account).save();
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  const p = event.params;
  const m = getMarket(event);
  m.pendingOwner = p.newOwner;
  m.save();
  const e = newMarketEvent(event, "OwnershipTransferStarted", p.previousOwner);
  e.account = p.newOwner;
  e.save();
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  const p = event.params;
  const m = getMarket(event);
  m.owner = p.newOwner;
  m.pendingOwner = null;
  m.save();
  // The sender acted: the deployer in the constructor (previousOwner is 0), the new owner in acceptOwnership.
  const e = newMarketEvent(event, "OwnershipTransferred", event.transaction.from);
  e.account = p.newOwner;
  e.save();
}
