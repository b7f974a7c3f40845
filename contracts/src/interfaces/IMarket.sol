// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AutomationCompatibleInterface
} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";

/// @notice Lifecycle of a booking. Terminal states are `Settled`, `Cancelled`, `Declined` and `NoShow`.
enum Status {
    None, // no booking with this id
    Booked, // paid and escrowed; waiting for the host's agent to publish the endpoint
    Active, // endpoint published; the session runs in [start, end)
    Reported, // the agent reported the seconds used; the borrower's dispute window is open
    Disputed, // the borrower disputed; waiting for the arbiter (or the fallback deadline)
    Settled, // escrow split between lender, treasury and borrower
    Cancelled, // cancelled by the borrower before the start
    Declined, // declined by the agent; full refund
    NoShow // no endpoint by start + grace; full refund plus a bond slash paid to the borrower
}

/// @notice Confidential-computing mode a listing's VM launches with.
enum Confidential {
    None,
    SevSnp,
    Tdx
}

/// @notice A lender's machine. The agent is the host's oracle key: it may act only on this host's bookings.
struct Host {
    // Slot 0. What a booking and a settlement touch lives here, beside the non-zero lender, so those
    // writes never pay for a zero-to-non-zero store.
    address lender;
    uint24 openBookings; // bookings not yet in a terminal state; the bond cannot leave while > 0
    uint32 completed; // sessions settled with some use
    uint40 secondsServed; // seconds of use settled (uint40: 34,000 years)
    // Slot 1.
    address agent;
    uint96 bond; // native currency
    // Slot 2. `registeredAt` is never zero, so counter updates here are non-zero-to-non-zero too.
    uint40 registeredAt;
    uint40 unbondAt; // 0 when bonded; otherwise the time the bond may leave (no bookings accepted meanwhile)
    uint32 noShows;
    uint32 declines;
    uint32 disputesLost;
    // Slot 3+.
    string metadataCid;
}

/// @notice What a listing offers. Fixed at creation so that the hardware history of a listing stays true;
/// different hardware is a new listing.
struct Hardware {
    string gpuModel; // as `nvidia-smi` names it; empty with gpuCount 0 for a CPU-only development host
    uint8 gpuCount;
    uint32 vramMiBPerGpu;
    uint16 cpuCores;
    uint32 ramMiB;
    uint32 diskGiB;
    string region;
    Confidential confidential;
}

/// @notice Price and booking terms of a listing.
struct Listing {
    // Slot 0: everything `book` reads.
    uint32 hostId;
    uint128 pricePerHour; // asset units per hour, or USD with 18 decimals per hour when `usdPriced`
    uint16 minSlots;
    uint16 maxSlots;
    uint32 leadTime; // seconds between booking and the earliest start
    bool active;
    bool usdPriced; // priced in USD, paid in native currency through the owner's AggregatorV3 feed
    // Slot 1.
    address asset; // address(0) = native currency; always native when `usdPriced`
    // Slot 2+.
    string metadataCid;
}

/// @notice A booking. Two slots at booking time; the third only when the borrower ends early.
struct Booking {
    // Slot 0.
    address borrower;
    uint40 start;
    uint40 end;
    Status status;
    // Slot 1.
    uint128 price; // exact amount escrowed, in the listing's asset
    uint32 listingId;
    uint16 feeBps; // platform fee at booking time; later fee changes never touch this booking
    uint32 usedSeconds; // reported (or claimed, or ruled) seconds of use
    uint40 stamp; // when the current state began: report time for Reported, dispute time for Disputed
    // Slot 2.
    uint40 endedAt; // set when the borrower ends the session early; 0 otherwise
}

/// @notice Deployment-time constants. They shape the rules and never change after deployment.
struct MarketParams {
    uint32 slotLength; // calendar slot, seconds (e.g. 15 minutes)
    uint32 activationGrace; // after start, how long the agent may still publish the endpoint
    uint32 reportGrace; // after the session end, how long the agent may still report usage
    uint32 disputeWindow; // how long the borrower may dispute after the report (or the report deadline)
    uint32 arbiterDeadline; // how long the arbiter has to rule before the permissionless fallback applies
    uint32 cancelCutoff; // cancelling at least this long before start is free
    uint16 cancelFeeBps; // fee to the lender for a late cancellation, in basis points of the price
    uint32 unbondingDelay; // between `requestUnbond` and `withdrawBond`
    uint96 minBond; // native currency a host must keep bonded to create listings and take bookings
    uint96 noShowSlash; // native currency slashed from the bond to the borrower on a no-show (capped by the bond)
}

/// @title IMarket
/// @notice The ComputeHive market: hosts, listings, bookings on a per-listing slot calendar, escrow,
/// session state, settlement and disputes. Every state change emits an event that an auditor can index.
/// @dev Rules (see DESIGN.md): the owner can never move escrowed funds, pause never blocks refunds,
/// settlement or withdrawals, payouts are credited and pulled, and every non-terminal booking state has a
/// permissionless timeout path to a terminal one.
interface IMarket is AutomationCompatibleInterface {
    /* ERRORS */

    /// @notice The caller is not the host's lender.
    error NotLender(uint256 hostId, address caller);
    /// @notice The caller is not the agent of the booking's host.
    error NotAgent(uint256 bookingId, address caller);
    /// @notice The caller is not the booking's borrower.
    error NotBorrower(uint256 bookingId, address caller);
    /// @notice The caller is not the arbiter.
    error NotArbiter(address caller);
    /// @notice No host with this id.
    error UnknownHost(uint256 hostId);
    /// @notice No listing with this id.
    error UnknownListing(uint256 listingId);
    /// @notice No booking with this id.
    error UnknownBooking(uint256 bookingId);
    /// @notice An address that must be set was zero.
    error ZeroAddress();
    /// @notice The bond sent or kept is below the deployment's minimum.
    error InsufficientBond(uint256 bond, uint256 minBond);
    /// @notice The host is unbonding and takes no new bookings or listings.
    error HostUnbonding(uint256 hostId);
    /// @notice `withdrawBond` before `requestUnbond`.
    error NotUnbonding(uint256 hostId);
    /// @notice The unbonding delay has not passed.
    error UnbondingNotOver(uint256 hostId, uint256 unlocksAt);
    /// @notice The host still has bookings that are not terminal.
    error OpenBookings(uint256 hostId, uint256 count);
    /// @notice More bond requested than the host holds.
    error BondTooSmall(uint256 requested, uint256 bond);
    /// @notice A string or byte field is empty or longer than its bound.
    error BadLength(uint256 length, uint256 maxLength);
    /// @notice GPU count and model disagree (a model without GPUs or GPUs without a model) or the count is 0 with VRAM.
    error BadHardware();
    /// @notice Zero price per hour.
    error ZeroPrice();
    /// @notice The ERC-20 is not allowed as a payment asset by the owner.
    error AssetNotAllowed(address asset);
    /// @notice A USD-priced listing was asked for with no native/USD feed configured, or with a token asset.
    error UsdPricingUnavailable();
    /// @notice Minimum/maximum duration out of order, zero, or above the deployment's cap.
    error BadDurationBounds(uint256 minSlots, uint256 maxSlots);
    /// @notice The lead time is above the deployment's cap.
    error LeadTimeTooLong(uint256 leadTime, uint256 maxLeadTime);
    /// @notice The listing is deactivated.
    error ListingInactive(uint256 listingId);
    /// @notice The window's end is not after its start.
    error EmptyWindow(uint256 start, uint256 end);
    /// @notice The window's start or end is not a multiple of the slot length.
    error MisalignedWindow(uint256 start, uint256 end, uint256 slotLength);
    /// @notice The window starts before now + the listing's lead time.
    error StartTooSoon(uint256 start, uint256 earliest);
    /// @notice The window starts beyond the booking horizon.
    error StartTooFar(uint256 start, uint256 latest);
    /// @notice The window's length is outside the listing's minimum and maximum.
    error DurationOutOfRange(uint256 slots, uint256 minSlots, uint256 maxSlots);
    /// @notice The window overlaps a live booking on this listing.
    error SlotTaken(uint256 listingId, uint256 start, uint256 end);
    /// @notice The native value sent does not match what the booking costs.
    error WrongPayment(uint256 sent, uint256 required);
    /// @notice The token moved a different amount than asked (fee-on-transfer tokens are unsupported).
    error TokenTransferMismatch(uint256 received, uint256 expected);
    /// @notice The x25519 session public key is zero.
    error BadSessionKey();
    /// @notice The lender booked their own host.
    error SelfBooking();
    /// @notice The native/USD feed answered zero or a negative price.
    error BadFeedAnswer(int256 answer);
    /// @notice The native/USD feed's answer is older than the staleness bound.
    error StalePrice(uint256 updatedAt, uint256 maxAge);
    /// @notice The booking is not in a state that allows this action.
    error WrongStatus(uint256 bookingId, Status status);
    /// @notice Too late for this action (the deadline is given).
    error TooLate(uint256 bookingId, uint256 deadline);
    /// @notice Too early for this action (the earliest time is given).
    error TooEarly(uint256 bookingId, uint256 earliest);
    /// @notice The decline reason is not one of the documented codes.
    error BadReason(uint8 reason);
    /// @notice More seconds reported or ruled than the session could have used.
    error UsageTooHigh(uint256 usedSeconds, uint256 maxSeconds);
    /// @notice The fee is above the hard cap.
    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice Nothing to withdraw.
    error NothingToWithdraw(address account, address asset);
    /// @notice Sending native currency to the recipient failed.
    error NativeTransferFailed(address to, uint256 amount);
    /// @notice Native currency sent where none is expected.
    error UnexpectedValue();
    /// @notice A deployment parameter is out of range.
    error BadParams();
    /// @notice Ownership cannot be renounced: the fee, arbiter and pause would be frozen for good.
    error RenounceDisabled();
    /// @notice New listings and bookings are paused.
    error EnforcedPause();
    /// @notice `pause` while paused or `unpause` while not.
    error PauseUnchanged(bool paused);

    /* EVENTS */

    event HostRegistered(
        uint256 indexed hostId, address indexed lender, address indexed agent, uint256 bond, string metadataCid
    );
    event AgentChanged(uint256 indexed hostId, address indexed previousAgent, address indexed newAgent);
    event HostMetadataUpdated(uint256 indexed hostId, string metadataCid);
    event BondDeposited(uint256 indexed hostId, address indexed from, uint256 amount, uint256 bond);
    event UnbondRequested(uint256 indexed hostId, uint256 unlocksAt);
    event UnbondCancelled(uint256 indexed hostId);
    event BondWithdrawn(uint256 indexed hostId, address indexed to, uint256 amount, uint256 bond);
    /// @notice Bond moved to `to`'s credit because of a no-show or an arbiter's ruling.
    event BondSlashed(
        uint256 indexed hostId, uint256 indexed bookingId, address indexed to, uint256 amount, uint256 bond
    );

    event ListingCreated(
        uint256 indexed listingId,
        uint256 indexed hostId,
        Hardware hardware,
        address asset,
        bool usdPriced,
        uint256 pricePerHour,
        uint256 minSlots,
        uint256 maxSlots,
        uint256 leadTime,
        string metadataCid
    );
    event ListingPriceUpdated(uint256 indexed listingId, uint256 pricePerHour);
    event ListingTermsUpdated(uint256 indexed listingId, uint256 minSlots, uint256 maxSlots, uint256 leadTime);
    event ListingActiveSet(uint256 indexed listingId, bool active);
    event ListingMetadataUpdated(uint256 indexed listingId, string metadataCid);

    /// @notice A booking was made and its price escrowed. The keys are carried here, not stored.
    event Booked(
        uint256 indexed bookingId,
        uint256 indexed listingId,
        address indexed borrower,
        uint256 start,
        uint256 end,
        address asset,
        uint256 price,
        uint256 feeBps,
        bytes32 sessionPubKey,
        bytes sshPubKey
    );
    /// @notice The agent published (or re-published) the endpoint, encrypted to the borrower's session key.
    event EndpointPublished(
        uint256 indexed bookingId, address indexed agent, bytes encryptedEndpoint, bool republished
    );
    event BookingDeclined(uint256 indexed bookingId, address indexed agent, uint8 reason, uint256 refund);
    event BookingCancelled(uint256 indexed bookingId, uint256 refund, uint256 lenderFee, uint256 platformFee);
    event SessionEndRequested(uint256 indexed bookingId, uint256 endedAt);
    event UsageReported(uint256 indexed bookingId, address indexed agent, uint256 usedSeconds, string reportCid);
    event BookingDisputed(uint256 indexed bookingId, uint256 claimedSeconds, string reasonCid);
    /// @notice A dispute was decided, by the arbiter or (arbiter == 0) by the fallback after the deadline.
    event DisputeResolved(uint256 indexed bookingId, address indexed arbiter, uint256 usedSeconds, uint256 slash);
    event NoShowClaimed(uint256 indexed bookingId, address indexed caller, uint256 refund, uint256 slash);
    event BookingSettled(
        uint256 indexed bookingId,
        address indexed caller,
        uint256 usedSeconds,
        uint256 lenderAmount,
        uint256 platformFee,
        uint256 refund
    );
    /// @notice `amount` of `asset` became withdrawable by `account`.
    event Credited(address indexed account, address indexed asset, uint256 amount);
    event Withdrawn(address indexed account, address indexed asset, uint256 amount);

    event FeeSet(uint256 feeBps);
    event TreasurySet(address indexed treasury);
    event ArbiterSet(address indexed arbiter);
    event AssetAllowed(address indexed asset, bool allowed);
    event UsdFeedSet(address indexed feed, uint256 maxAge);
    event Paused(address indexed account);
    event Unpaused(address indexed account);

    /* HOSTS */

    /// @notice Registers a host with `msg.value` as its bond (at least `minBond`). The caller is the lender.
    /// @param agent The host's oracle key (may equal the lender).
    /// @param metadataCid IPFS CID of the host's public description (≤ MAX_CID_LENGTH bytes, may be empty).
    /// @return hostId The new host's id, counting from 1.
    function registerHost(address agent, string calldata metadataCid) external payable returns (uint256 hostId);

    /// @notice Replaces the host's agent key. Only the lender. Open bookings follow the new agent.
    function setAgent(uint256 hostId, address agent) external;

    /// @notice Replaces the host's metadata CID. Only the lender.
    function setHostMetadata(uint256 hostId, string calldata metadataCid) external;

    /// @notice Adds `msg.value` to the host's bond. Anyone may top up a host.
    function depositBond(uint256 hostId) external payable;

    /// @notice Starts the unbonding delay. Meanwhile the host takes no new bookings or listings. Only the lender.
    function requestUnbond(uint256 hostId) external;

    /// @notice Stops unbonding; the host takes bookings again. Only the lender.
    function cancelUnbond(uint256 hostId) external;

    /// @notice Sends `amount` of the bond to the lender, after the unbonding delay and with no open bookings.
    function withdrawBond(uint256 hostId, uint256 amount) external;

    /* LISTINGS */

    /// @notice Creates an active listing on a bonded host. Only the host's lender; blocked while paused.
    /// @param asset Payment asset: address(0) for native currency or an owner-allowed ERC-20; must be 0 when
    /// `usdPriced`.
    /// @param usdPriced When true, `pricePerHour` is USD with 18 decimals, paid in native currency via the feed.
    /// @param pricePerHour Price per hour of the whole listing (all its GPUs), never zero.
    /// @param minSlots Shortest booking, in slots (≥ 1).
    /// @param maxSlots Longest booking, in slots (≤ MAX_BOOKING_SLOTS).
    /// @param leadTime Seconds between booking and the earliest start (≤ MAX_LEAD_TIME).
    function createListing(
        uint256 hostId,
        Hardware calldata hardware,
        address asset,
        bool usdPriced,
        uint128 pricePerHour,
        uint16 minSlots,
        uint16 maxSlots,
        uint32 leadTime,
        string calldata metadataCid
    ) external returns (uint256 listingId);

    /// @notice Changes the price of future bookings; existing bookings keep the price they escrowed.
    function setListingPrice(uint256 listingId, uint128 pricePerHour) external;

    /// @notice Changes the duration bounds and lead time of future bookings.
    function setListingTerms(uint256 listingId, uint16 minSlots, uint16 maxSlots, uint32 leadTime) external;

    /// @notice Activates or deactivates a listing. Existing bookings are unaffected.
    function setListingActive(uint256 listingId, bool active) external;

    /// @notice Replaces the listing's metadata CID.
    function setListingMetadata(uint256 listingId, string calldata metadataCid) external;

    /* BOOKINGS */

    /// @notice Books [start, end) on a listing and escrows its exact price. Gas depends on the slots the window
    /// touches, never on how many bookings exist.
    /// @dev Native fixed price: `msg.value` must equal the price. USD price: `msg.value` must cover the price at
    /// the feed's current answer; any excess is credited back to the borrower. ERC-20: `msg.value` must be 0 and
    /// the market pulls exactly the price (approve it first).
    /// @param sessionPubKey The borrower's x25519 public key the endpoint is encrypted to (non-zero).
    /// @param sshPubKey The borrower's OpenSSH public key line (1..MAX_SSH_KEY_LENGTH bytes); carried in the event
    /// only.
    function book(uint256 listingId, uint40 start, uint40 end, bytes32 sessionPubKey, bytes calldata sshPubKey)
        external
        payable
        returns (uint256 bookingId);

    /// @notice Publishes the encrypted endpoint: Booked → Active, or re-publishes while Active (e.g. after a
    /// host restart). Only the host's agent; Booked only until start + activationGrace; Active only until the end.
    function activate(uint256 bookingId, bytes calldata encryptedEndpoint) external;

    /// @notice Declines a booking before its start with a reason code (see `DeclineReason`): full refund to the
    /// borrower, the slots are freed, and the host's decline counter grows. Only the host's agent.
    function decline(uint256 bookingId, uint8 reason) external;

    /// @notice The borrower cancels before the start (from Booked or Active). Free until start − cancelCutoff;
    /// after that `cancelFeeBps` of the price goes to the lender (less the platform fee). The slots are freed.
    function cancel(uint256 bookingId) external;

    /// @notice The borrower ends a running session early; the agent may then report no more than
    /// `endedAt − start` seconds.
    function endSession(uint256 bookingId) external;

    /// @notice The agent reports the seconds used and the session report's CID: Active → Reported. Allowed from
    /// the session end until end + reportGrace. `usedSeconds` ≤ session end − start.
    function report(uint256 bookingId, uint32 usedSeconds, string calldata reportCid) external;

    /// @notice The borrower disputes: from Reported within the dispute window, or from Active after the session end
    /// while unreported (the claim is then full use). Only the borrower.
    function dispute(uint256 bookingId, string calldata reasonCid) external;

    /// @notice The arbiter rules on a dispute: charges `usedSeconds` (≤ the session's length: the booked window, or
    /// up to the borrower's early end) and slashes up to the host's bond to the borrower; Disputed → Settled. The
    /// arbiter may still rule after `arbiterDeadline` as long as nobody has settled the booking by the fallback.
    function resolveDispute(uint256 bookingId, uint32 usedSeconds, uint96 slash) external;

    /// @notice Anyone moves a booked-but-never-activated booking past start + activationGrace to NoShow: full
    /// refund plus min(noShowSlash, bond) from the host's bond, both credited to the borrower.
    function claimNoShow(uint256 bookingId) external;

    /// @notice Anyone settles a ripe booking: Reported after the dispute window; Active (never reported, treated
    /// as full use) after end + reportGrace + disputeWindow; Disputed after the arbiter deadline (the claimed
    /// usage stands, no slash).
    function settle(uint256 bookingId) external;

    /// @notice Finds ripe bookings for Chainlink Automation (or any keeper). A view: Automation simulates it.
    /// @param checkData Empty, or abi.encode(uint256 fromId, uint256 scan, uint256 maxBatch) to scan another range
    /// (clamped to existing ids and MAX_UPKEEP_BATCH); by default it scans DEFAULT_UPKEEP_SCAN ids from
    /// `upkeepCursor` and returns up to DEFAULT_UPKEEP_BATCH.
    /// @return upkeepNeeded Whether any ripe booking was found.
    /// @return performData abi.encode(uint256[] bookingIds) for `performUpkeep`.
    function checkUpkeep(bytes calldata checkData)
        external
        view
        override
        returns (bool upkeepNeeded, bytes memory performData);

    /// @notice Moves every ripe booking in `performData` (abi.encode(uint256[])) to NoShow or Settled; others are
    /// skipped, not reverted, because their state may have changed since `checkUpkeep`. Anyone may call it.
    function performUpkeep(bytes calldata performData) external override;

    /// @notice Whether `settle` or `claimNoShow` would move this booking now.
    function isRipe(uint256 bookingId) external view returns (bool);

    /* FUNDS */

    /// @notice Sends the caller's whole credit of `asset` (address(0) = native) to the caller.
    function withdraw(address asset) external returns (uint256 amount);

    /// @notice What `account` can withdraw of `asset`.
    function credits(address account, address asset) external view returns (uint256);

    /// @notice Price of `listingId` for [start, end) at current prices: asset units, or native wei for USD listings.
    function quote(uint256 listingId, uint40 start, uint40 end) external view returns (uint256 price, address asset);

    /* OWNER */

    /// @notice Sets the platform fee for future bookings (≤ MAX_FEE_BPS).
    function setFee(uint16 feeBps) external;
    function setTreasury(address treasury) external;
    function setArbiter(address arbiter) external;
    /// @notice Allows or forbids an ERC-20 for new listings and bookings. Existing escrow is unaffected.
    function setAssetAllowed(address asset, bool allowed) external;
    /// @notice Sets the native/USD AggregatorV3 feed and its staleness bound (seconds). Feed 0 disables USD pricing.
    function setUsdFeed(address feed, uint32 maxAge) external;
    /// @notice Stops new listings and bookings. Refunds, settlement and withdrawals go on.
    function pause() external;
    function unpause() external;

    /* VIEWS */

    /// @notice Hard cap on the platform fee, in basis points (10%).
    function MAX_FEE_BPS() external view returns (uint16);
    /// @notice Longest CID (metadata, report, dispute reason), in bytes.
    function MAX_CID_LENGTH() external view returns (uint256);
    /// @notice Longest OpenSSH public key line `book` accepts, in bytes.
    function MAX_SSH_KEY_LENGTH() external view returns (uint256);
    /// @notice Longest encrypted endpoint `activate` accepts, in bytes.
    function MAX_ENDPOINT_LENGTH() external view returns (uint256);
    function MAX_GPU_MODEL_LENGTH() external view returns (uint256);
    function MAX_REGION_LENGTH() external view returns (uint256);
    /// @notice Longest booking a listing may allow, in slots.
    function MAX_BOOKING_SLOTS() external view returns (uint256);
    /// @notice Longest lead time a listing may ask, in seconds.
    function MAX_LEAD_TIME() external view returns (uint256);
    /// @notice How far ahead of now a window may start, in seconds.
    function BOOKING_HORIZON() external view returns (uint256);
    /// @notice Booking ids `checkUpkeep` scans when given no checkData.
    function DEFAULT_UPKEEP_SCAN() external view returns (uint256);
    /// @notice Ripe bookings `checkUpkeep` returns when given no checkData.
    function DEFAULT_UPKEEP_BATCH() external view returns (uint256);
    /// @notice Most ripe bookings one `checkUpkeep` returns, whatever checkData asks.
    function MAX_UPKEEP_BATCH() external view returns (uint256);

    /// @notice Receives the platform fee (credited, then withdrawn like any credit).
    function treasury() external view returns (address);
    /// @notice Platform fee of new bookings, in basis points.
    function feeBps() external view returns (uint16);
    /// @notice Whether new listings and bookings are paused.
    function paused() external view returns (bool);
    function arbiter() external view returns (address);
    /// @notice The native/USD AggregatorV3 feed of USD-priced listings; address(0) when USD pricing is off.
    function usdFeed() external view returns (address);
    /// @notice Oldest feed answer accepted, in seconds.
    function usdFeedMaxAge() external view returns (uint32);
    /// @notice Whether an ERC-20 may be used for new listings and bookings.
    function isAssetAllowed(address asset) external view returns (bool);
    /// @notice Lowest booking id that may not be terminal yet; `checkUpkeep` scans from here by default.
    function upkeepCursor() external view returns (uint256);

    function getHost(uint256 hostId) external view returns (Host memory);
    function getListing(uint256 listingId) external view returns (Listing memory);
    function getHardware(uint256 listingId) external view returns (Hardware memory);
    function getBooking(uint256 bookingId) external view returns (Booking memory);
    /// @notice Whether every slot of [start, end) is free on the listing's calendar.
    function isFree(uint256 listingId, uint40 start, uint40 end) external view returns (bool);
    /// @notice The raw calendar word `word` (slots word*256 .. word*256+255, slot = timestamp / slotLength).
    function calendarWord(uint256 listingId, uint256 word) external view returns (uint256);
    function params() external view returns (MarketParams memory);
    function hostCount() external view returns (uint256);
    function listingCount() external view returns (uint256);
    function bookingCount() external view returns (uint256);
}
