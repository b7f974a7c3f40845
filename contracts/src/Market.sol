// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {IMarket, Status, Host, Hardware, Listing, Booking, MarketParams} from "./interfaces/IMarket.sol";
import {CalendarLib} from "./libraries/CalendarLib.sol";
import {PricingLib} from "./libraries/PricingLib.sol";
import {DeclineReason} from "./libraries/DeclineReason.sol";

/// @title Market
/// @notice ComputeHive's market: every rule lives here; `IMarket` documents each function once.
contract Market is IMarket, Ownable2Step, ReentrancyGuardTransient {
    using CalendarLib for mapping(uint256 => uint256);
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /* CONSTANTS */

    /// @notice Hard cap on the platform fee: 10%.
    uint16 public constant MAX_FEE_BPS = 1000;
    uint256 public constant MAX_CID_LENGTH = 128;
    /// @notice Fits an RSA-4096 OpenSSH public key line with a comment; hosts may accept less.
    uint256 public constant MAX_SSH_KEY_LENGTH = 1024;
    uint256 public constant MAX_ENDPOINT_LENGTH = 4096;
    uint256 public constant MAX_GPU_MODEL_LENGTH = 64;
    uint256 public constant MAX_REGION_LENGTH = 32;
    /// @notice Longest booking, in slots (30 days at 15-minute slots).
    uint256 public constant MAX_BOOKING_SLOTS = 2880;
    uint256 public constant MAX_LEAD_TIME = 30 days;
    /// @notice How far ahead a window may start.
    uint256 public constant BOOKING_HORIZON = 365 days;
    /// @notice Bookings `checkUpkeep` scans, and ripe bookings it returns, when given no checkData.
    uint256 public constant DEFAULT_UPKEEP_SCAN = 500;
    uint256 public constant DEFAULT_UPKEEP_BATCH = 20;
    /// @notice Most ripe bookings one `checkUpkeep` returns, whatever checkData asks.
    uint256 public constant MAX_UPKEEP_BATCH = 200;

    /* IMMUTABLES */

    uint256 internal immutable SLOT;
    uint256 internal immutable ACTIVATION_GRACE;
    uint256 internal immutable REPORT_GRACE;
    uint256 internal immutable DISPUTE_WINDOW;
    uint256 internal immutable ARBITER_DEADLINE;
    uint256 internal immutable CANCEL_CUTOFF;
    uint256 internal immutable CANCEL_FEE_BPS;
    uint256 internal immutable UNBONDING_DELAY;
    uint256 internal immutable MIN_BOND;
    uint256 internal immutable NO_SHOW_SLASH;

    /* STORAGE */

    mapping(uint256 hostId => Host) internal _hosts;
    mapping(uint256 listingId => Listing) internal _listings;
    mapping(uint256 listingId => Hardware) internal _hardware;
    mapping(uint256 bookingId => Booking) internal _bookings;
    mapping(uint256 listingId => mapping(uint256 word => uint256 bits)) internal _calendars;
    mapping(address account => mapping(address asset => uint256)) internal _credits;
    mapping(address asset => bool) public isAssetAllowed;

    // One slot: everything `book` reads from the market's own configuration, and the booking counter.
    // (Pause is hand-written rather than OpenZeppelin's Pausable so that its flag shares this slot.)
    address public treasury;
    uint16 public feeBps;
    bool public paused;
    uint64 internal _bookingCount;

    address public arbiter;
    address public usdFeed;
    uint32 public usdFeedMaxAge;

    uint256 internal _hostCount;
    uint256 internal _listingCount;
    /// @notice Lowest booking id that may not be terminal yet; advanced lazily by `performUpkeep`.
    uint256 public upkeepCursor = 1;

    /* MODIFIERS */

    modifier whenNotPaused() {
        if (paused) revert EnforcedPause();
        _;
    }

    /* CONSTRUCTOR */

    constructor(MarketParams memory p, address owner_, address treasury_, address arbiter_, uint16 feeBps_)
        Ownable(owner_)
    {
        if (p.slotLength < 60 || p.slotLength > 1 days || p.cancelFeeBps > PricingLib.BPS) revert BadParams();
        if (p.activationGrace >= p.slotLength * MAX_BOOKING_SLOTS || p.minBond == 0) revert BadParams();
        if (treasury_ == address(0) || arbiter_ == address(0)) revert ZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        SLOT = p.slotLength;
        ACTIVATION_GRACE = p.activationGrace;
        REPORT_GRACE = p.reportGrace;
        DISPUTE_WINDOW = p.disputeWindow;
        ARBITER_DEADLINE = p.arbiterDeadline;
        CANCEL_CUTOFF = p.cancelCutoff;
        CANCEL_FEE_BPS = p.cancelFeeBps;
        UNBONDING_DELAY = p.unbondingDelay;
        MIN_BOND = p.minBond;
        NO_SHOW_SLASH = p.noShowSlash;
        treasury = treasury_;
        arbiter = arbiter_;
        feeBps = feeBps_;
        emit TreasurySet(treasury_);
        emit ArbiterSet(arbiter_);
        emit FeeSet(feeBps_);
    }

    /* HOSTS */

    /// @inheritdoc IMarket
    function registerHost(address agent, string calldata metadataCid) external payable returns (uint256 hostId) {
        if (agent == address(0)) revert ZeroAddress();
        if (msg.value < MIN_BOND) revert InsufficientBond(msg.value, MIN_BOND);
        _checkLength(bytes(metadataCid).length, MAX_CID_LENGTH, true);

        hostId = ++_hostCount;
        Host storage h = _hosts[hostId];
        h.lender = msg.sender;
        h.agent = agent;
        h.bond = msg.value.toUint96();
        h.registeredAt = uint40(block.timestamp);
        h.metadataCid = metadataCid;

        emit HostRegistered(hostId, msg.sender, agent, msg.value, metadataCid);
    }

    /// @inheritdoc IMarket
    function setAgent(uint256 hostId, address agent) external {
        Host storage h = _lenderHost(hostId);
        if (agent == address(0)) revert ZeroAddress();
        emit AgentChanged(hostId, h.agent, agent);
        h.agent = agent;
    }

    /// @inheritdoc IMarket
    function setHostMetadata(uint256 hostId, string calldata metadataCid) external {
        Host storage h = _lenderHost(hostId);
        _checkLength(bytes(metadataCid).length, MAX_CID_LENGTH, true);
        h.metadataCid = metadataCid;
        emit HostMetadataUpdated(hostId, metadataCid);
    }

    /// @inheritdoc IMarket
    function depositBond(uint256 hostId) external payable {
        Host storage h = _host(hostId);
        if (msg.value == 0) revert WrongPayment(0, 1);
        uint256 bond = h.bond + msg.value;
        h.bond = bond.toUint96();
        emit BondDeposited(hostId, msg.sender, msg.value, bond);
    }

    /// @inheritdoc IMarket
    function requestUnbond(uint256 hostId) external {
        Host storage h = _lenderHost(hostId);
        if (h.unbondAt != 0) revert HostUnbonding(hostId);
        uint256 unlocksAt = block.timestamp + UNBONDING_DELAY;
        h.unbondAt = uint40(unlocksAt);
        emit UnbondRequested(hostId, unlocksAt);
    }

    /// @inheritdoc IMarket
    function cancelUnbond(uint256 hostId) external {
        Host storage h = _lenderHost(hostId);
        if (h.unbondAt == 0) revert NotUnbonding(hostId);
        h.unbondAt = 0;
        emit UnbondCancelled(hostId);
    }

    /// @inheritdoc IMarket
    function withdrawBond(uint256 hostId, uint256 amount) external nonReentrant {
        Host storage h = _lenderHost(hostId);
        uint256 unlocksAt = h.unbondAt;
        if (unlocksAt == 0) revert NotUnbonding(hostId);
        if (block.timestamp < unlocksAt) revert UnbondingNotOver(hostId, unlocksAt);
        if (h.openBookings != 0) revert OpenBookings(hostId, h.openBookings);
        uint256 bond = h.bond;
        if (amount == 0 || amount > bond) revert BondTooSmall(amount, bond);

        h.bond = uint96(bond - amount);

        emit BondWithdrawn(hostId, msg.sender, amount, bond - amount);

        _sendNative(msg.sender, amount);
    }

    /* LISTINGS */

    /// @inheritdoc IMarket
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
    ) external whenNotPaused returns (uint256 listingId) {
        Host storage h = _lenderHost(hostId);
        if (h.unbondAt != 0) revert HostUnbonding(hostId);
        if (h.bond < MIN_BOND) revert InsufficientBond(h.bond, MIN_BOND);
        _checkHardware(hardware);
        if (pricePerHour == 0) revert ZeroPrice();
        if (usdPriced) {
            if (asset != address(0) || usdFeed == address(0)) revert UsdPricingUnavailable();
        } else if (asset != address(0) && !isAssetAllowed[asset]) {
            revert AssetNotAllowed(asset);
        }
        _checkTerms(minSlots, maxSlots, leadTime);
        _checkLength(bytes(metadataCid).length, MAX_CID_LENGTH, true);

        listingId = ++_listingCount;
        _listings[listingId] = Listing({
            hostId: hostId.toUint32(),
            pricePerHour: pricePerHour,
            minSlots: minSlots,
            maxSlots: maxSlots,
            leadTime: leadTime,
            active: true,
            usdPriced: usdPriced,
            asset: asset,
            metadataCid: metadataCid
        });
        _hardware[listingId] = hardware;

        emit ListingCreated(
            listingId, hostId, hardware, asset, usdPriced, pricePerHour, minSlots, maxSlots, leadTime, metadataCid
        );
    }

    /// @inheritdoc IMarket
    function setListingPrice(uint256 listingId, uint128 pricePerHour) external {
        Listing storage listing = _lenderListing(listingId);
        if (pricePerHour == 0) revert ZeroPrice();
        listing.pricePerHour = pricePerHour;
        emit ListingPriceUpdated(listingId, pricePerHour);
    }

    /// @inheritdoc IMarket
    function setListingTerms(uint256 listingId, uint16 minSlots, uint16 maxSlots, uint32 leadTime) external {
        Listing storage listing = _lenderListing(listingId);
        _checkTerms(minSlots, maxSlots, leadTime);
        listing.minSlots = minSlots;
        listing.maxSlots = maxSlots;
        listing.leadTime = leadTime;
        emit ListingTermsUpdated(listingId, minSlots, maxSlots, leadTime);
    }

    /// @inheritdoc IMarket
    function setListingActive(uint256 listingId, bool active) external {
        Listing storage listing = _lenderListing(listingId);
        listing.active = active;
        emit ListingActiveSet(listingId, active);
    }

    /// @inheritdoc IMarket
    function setListingMetadata(uint256 listingId, string calldata metadataCid) external {
        Listing storage listing = _lenderListing(listingId);
        _checkLength(bytes(metadataCid).length, MAX_CID_LENGTH, true);
        listing.metadataCid = metadataCid;
        emit ListingMetadataUpdated(listingId, metadataCid);
    }

    /* BOOKINGS */

    /// @inheritdoc IMarket
    function book(uint256 listingId, uint40 start, uint40 end, bytes32 sessionPubKey, bytes calldata sshPubKey)
        external
        payable
        whenNotPaused
        nonReentrant
        returns (uint256 bookingId)
    {
        Listing storage listing = _listing(listingId);
        if (!listing.active) revert ListingInactive(listingId);
        uint256 hostId = listing.hostId;
        Host storage h = _hosts[hostId];
        if (msg.sender == h.lender || msg.sender == h.agent) revert SelfBooking();
        if (h.unbondAt != 0) revert HostUnbonding(hostId);
        if (h.bond < MIN_BOND) revert InsufficientBond(h.bond, MIN_BOND);
        if (sessionPubKey == bytes32(0)) revert BadSessionKey();
        _checkLength(sshPubKey.length, MAX_SSH_KEY_LENGTH, false);
        _checkWindow(listing, start, end);
        if (!_calendars[listingId].reserve(start / SLOT, end / SLOT)) revert SlotTaken(listingId, start, end);
        (uint256 price, address asset) = _price(listing, end - start);
        uint16 fee = feeBps;

        bookingId = ++_bookingCount;
        // Field by field: a struct literal would also store the zero third slot (`endedAt`).
        Booking storage b = _bookings[bookingId];
        b.borrower = msg.sender;
        b.start = start;
        b.end = end;
        b.status = Status.Booked;
        b.price = price.toUint128();
        b.listingId = listingId.toUint32();
        b.feeBps = fee;
        b.stamp = uint40(block.timestamp);
        ++h.openBookings;

        emit Booked(bookingId, listingId, msg.sender, start, end, asset, price, fee, sessionPubKey, sshPubKey);

        _collect(asset, price, listing.usdPriced);
    }

    /// @inheritdoc IMarket
    function activate(uint256 bookingId, bytes calldata encryptedEndpoint) external {
        Booking storage b = _booking(bookingId);
        _onlyAgent(b, bookingId);
        Status status = b.status;
        if (status == Status.Booked) {
            uint256 deadline = _min(b.start + ACTIVATION_GRACE, b.end);
            if (block.timestamp >= deadline) revert TooLate(bookingId, deadline);
            b.status = Status.Active;
        } else if (status == Status.Active) {
            uint256 sessionEnd = _sessionEnd(b);
            if (block.timestamp >= sessionEnd) revert TooLate(bookingId, sessionEnd);
        } else {
            revert WrongStatus(bookingId, status);
        }
        _checkLength(encryptedEndpoint.length, MAX_ENDPOINT_LENGTH, false);

        emit EndpointPublished(bookingId, msg.sender, encryptedEndpoint, status == Status.Active);
    }

    /// @inheritdoc IMarket
    function decline(uint256 bookingId, uint8 reason) external {
        Booking storage b = _booking(bookingId);
        Host storage h = _onlyAgent(b, bookingId);
        Status status = b.status;
        if (status != Status.Booked && status != Status.Active) revert WrongStatus(bookingId, status);
        if (block.timestamp >= b.start) revert TooLate(bookingId, b.start);
        if (reason == 0 || reason > DeclineReason.MAX) revert BadReason(reason);

        b.status = Status.Declined;
        _release(b);
        --h.openBookings;
        ++h.declines;
        uint256 refund = b.price;

        emit BookingDeclined(bookingId, msg.sender, reason, refund);

        _credit(b.borrower, _listings[b.listingId].asset, refund);
    }

    /// @inheritdoc IMarket
    function cancel(uint256 bookingId) external {
        Booking storage b = _booking(bookingId);
        if (msg.sender != b.borrower) revert NotBorrower(bookingId, msg.sender);
        Status status = b.status;
        if (status != Status.Booked && status != Status.Active) revert WrongStatus(bookingId, status);
        uint256 start = b.start;
        if (block.timestamp >= start) revert TooLate(bookingId, start);

        b.status = Status.Cancelled;
        _release(b);
        Listing storage listing = _listings[b.listingId];
        Host storage h = _hosts[listing.hostId];
        --h.openBookings;
        uint256 price = b.price;
        // Free until the cutoff; after it a share of the price compensates the lender for the held slots.
        uint256 lateFee = block.timestamp + CANCEL_CUTOFF > start ? PricingLib.bps(price, CANCEL_FEE_BPS) : 0;
        uint256 platformFee = PricingLib.bps(lateFee, b.feeBps);

        emit BookingCancelled(bookingId, price - lateFee, lateFee - platformFee, platformFee);

        address asset = listing.asset;
        _credit(b.borrower, asset, price - lateFee);
        _credit(h.lender, asset, lateFee - platformFee);
        _credit(treasury, asset, platformFee);
    }

    /// @inheritdoc IMarket
    function endSession(uint256 bookingId) external {
        Booking storage b = _booking(bookingId);
        if (msg.sender != b.borrower) revert NotBorrower(bookingId, msg.sender);
        if (b.status != Status.Active) revert WrongStatus(bookingId, b.status);
        if (block.timestamp < b.start) revert TooEarly(bookingId, b.start);
        uint256 sessionEnd = _sessionEnd(b);
        if (block.timestamp >= sessionEnd) revert TooLate(bookingId, sessionEnd);

        b.endedAt = uint40(block.timestamp);

        emit SessionEndRequested(bookingId, block.timestamp);
    }

    /// @inheritdoc IMarket
    function report(uint256 bookingId, uint32 usedSeconds, string calldata reportCid) external {
        Booking storage b = _booking(bookingId);
        _onlyAgent(b, bookingId);
        if (b.status != Status.Active) revert WrongStatus(bookingId, b.status);
        uint256 sessionEnd = _sessionEnd(b);
        if (block.timestamp < sessionEnd) revert TooEarly(bookingId, sessionEnd);
        uint256 deadline = b.end + REPORT_GRACE;
        if (block.timestamp >= deadline) revert TooLate(bookingId, deadline);
        if (usedSeconds > sessionEnd - b.start) revert UsageTooHigh(usedSeconds, sessionEnd - b.start);
        _checkLength(bytes(reportCid).length, MAX_CID_LENGTH, false);

        b.status = Status.Reported;
        b.usedSeconds = usedSeconds;
        b.stamp = uint40(block.timestamp);

        emit UsageReported(bookingId, msg.sender, usedSeconds, reportCid);
    }

    /// @inheritdoc IMarket
    function dispute(uint256 bookingId, string calldata reasonCid) external {
        Booking storage b = _booking(bookingId);
        if (msg.sender != b.borrower) revert NotBorrower(bookingId, msg.sender);
        _checkLength(bytes(reasonCid).length, MAX_CID_LENGTH, false);
        Status status = b.status;
        uint256 claimed;
        if (status == Status.Reported) {
            uint256 deadline = b.stamp + DISPUTE_WINDOW;
            if (block.timestamp >= deadline) revert TooLate(bookingId, deadline);
            claimed = b.usedSeconds;
        } else if (status == Status.Active) {
            uint256 sessionEnd = _sessionEnd(b);
            if (block.timestamp < sessionEnd) revert TooEarly(bookingId, sessionEnd);
            uint256 deadline = b.end + REPORT_GRACE + DISPUTE_WINDOW;
            if (block.timestamp >= deadline) revert TooLate(bookingId, deadline);
            // Unreported usage counts as full use of the (possibly shortened) session.
            claimed = sessionEnd - b.start;
            b.usedSeconds = uint32(claimed);
        } else {
            revert WrongStatus(bookingId, status);
        }

        b.status = Status.Disputed;
        b.stamp = uint40(block.timestamp);

        emit BookingDisputed(bookingId, claimed, reasonCid);
    }

    /// @inheritdoc IMarket
    function resolveDispute(uint256 bookingId, uint32 usedSeconds, uint96 slash) external {
        if (msg.sender != arbiter) revert NotArbiter(msg.sender);
        Booking storage b = _booking(bookingId);
        if (b.status != Status.Disputed) revert WrongStatus(bookingId, b.status);
        uint256 maxSeconds = _sessionEnd(b) - b.start;
        if (usedSeconds > maxSeconds) revert UsageTooHigh(usedSeconds, maxSeconds);
        Host storage h = _hosts[_listings[b.listingId].hostId];
        if (slash > h.bond) revert BondTooSmall(slash, h.bond);

        if (usedSeconds < b.usedSeconds || slash != 0) ++h.disputesLost;

        emit DisputeResolved(bookingId, msg.sender, usedSeconds, slash);

        _slash(h, b, bookingId, slash);
        _settle(bookingId, b, usedSeconds);
    }

    /// @inheritdoc IMarket
    function claimNoShow(uint256 bookingId) external {
        Booking storage b = _booking(bookingId);
        if (b.status != Status.Booked) revert WrongStatus(bookingId, b.status);
        uint256 ripeAt = b.start + ACTIVATION_GRACE;
        if (block.timestamp < ripeAt) revert TooEarly(bookingId, ripeAt);
        _noShow(bookingId, b);
    }

    /// @inheritdoc IMarket
    function settle(uint256 bookingId) external {
        Booking storage b = _booking(bookingId);
        (bool ripe, uint256 ripeAt) = _settleRipeAt(b);
        if (ripeAt == 0) revert WrongStatus(bookingId, b.status);
        if (!ripe) revert TooEarly(bookingId, ripeAt);
        _settleRipe(bookingId, b);
    }

    /// @inheritdoc IMarket
    function isRipe(uint256 bookingId) public view returns (bool) {
        Booking storage b = _bookings[bookingId];
        if (b.status == Status.Booked) return block.timestamp >= b.start + ACTIVATION_GRACE;
        (bool ripe,) = _settleRipeAt(b);
        return ripe;
    }

    /* AUTOMATION */

    /// @inheritdoc IMarket
    function checkUpkeep(bytes calldata checkData)
        external
        view
        override
        returns (bool upkeepNeeded, bytes memory performData)
    {
        (uint256 from, uint256 scan, uint256 maxBatch) = checkData.length == 0
            ? (upkeepCursor, DEFAULT_UPKEEP_SCAN, DEFAULT_UPKEEP_BATCH)
            : abi.decode(checkData, (uint256, uint256, uint256));
        if (from == 0) from = 1;
        uint256 count = _bookingCount;
        // Clamped so that no checkData can overflow the range or allocate past what a batch could settle.
        uint256 last = from > count ? from : from + _min(scan, count + 1 - from);
        uint256[] memory ids = new uint256[](_min(maxBatch, MAX_UPKEEP_BATCH));
        maxBatch = ids.length;
        uint256 n;
        for (uint256 id = from; id < last && n < maxBatch; ++id) {
            if (isRipe(id)) ids[n++] = id;
        }
        // Safe: shrinking a memory array's length in place to the number of filled entries.
        assembly ("memory-safe") {
            mstore(ids, n)
        }
        return (n != 0, abi.encode(ids));
    }

    /// @inheritdoc IMarket
    function performUpkeep(bytes calldata performData) external override {
        uint256[] memory ids = abi.decode(performData, (uint256[]));
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (!isRipe(id)) continue;
            Booking storage b = _bookings[id];
            if (b.status == Status.Booked) _noShow(id, b);
            else _settleRipe(id, b);
        }
        // Advance the cursor past terminal bookings, a bounded number of steps per call.
        uint256 cursor = upkeepCursor;
        uint256 count = _bookingCount;
        for (uint256 steps; steps < 64 && cursor <= count && _isTerminal(_bookings[cursor].status); ++steps) {
            ++cursor;
        }
        upkeepCursor = cursor;
    }

    /* FUNDS */

    /// @inheritdoc IMarket
    function withdraw(address asset) external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender][asset];
        if (amount == 0) revert NothingToWithdraw(msg.sender, asset);

        _credits[msg.sender][asset] = 0;

        emit Withdrawn(msg.sender, asset, amount);

        if (asset == address(0)) _sendNative(msg.sender, amount);
        else IERC20(asset).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IMarket
    function credits(address account, address asset) external view returns (uint256) {
        return _credits[account][asset];
    }

    /// @inheritdoc IMarket
    function quote(uint256 listingId, uint40 start, uint40 end) external view returns (uint256 price, address asset) {
        Listing storage listing = _listing(listingId);
        if (end <= start) revert EmptyWindow(start, end);
        return _price(listing, end - start);
    }

    /* OWNER */

    /// @inheritdoc IMarket
    function setFee(uint16 feeBps_) external onlyOwner {
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        feeBps = feeBps_;
        emit FeeSet(feeBps_);
    }

    /// @inheritdoc IMarket
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    /// @inheritdoc IMarket
    function setArbiter(address arbiter_) external onlyOwner {
        if (arbiter_ == address(0)) revert ZeroAddress();
        arbiter = arbiter_;
        emit ArbiterSet(arbiter_);
    }

    /// @inheritdoc IMarket
    function setAssetAllowed(address asset, bool allowed) external onlyOwner {
        if (asset == address(0)) revert ZeroAddress();
        isAssetAllowed[asset] = allowed;
        emit AssetAllowed(asset, allowed);
    }

    /// @inheritdoc IMarket
    function setUsdFeed(address feed, uint32 maxAge) external onlyOwner {
        if (feed != address(0) && maxAge == 0) revert BadParams();
        usdFeed = feed;
        usdFeedMaxAge = maxAge;
        emit UsdFeedSet(feed, maxAge);
    }

    /// @notice Disabled: without an owner the fee, arbiter and pause could never change again.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceDisabled();
    }

    /// @inheritdoc IMarket
    function pause() external onlyOwner {
        if (paused) revert PauseUnchanged(true);
        paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IMarket
    function unpause() external onlyOwner {
        if (!paused) revert PauseUnchanged(false);
        paused = false;
        emit Unpaused(msg.sender);
    }

    /* VIEWS */

    /// @inheritdoc IMarket
    function getHost(uint256 hostId) external view returns (Host memory) {
        return _host(hostId);
    }

    /// @inheritdoc IMarket
    function getListing(uint256 listingId) external view returns (Listing memory) {
        return _listing(listingId);
    }

    /// @inheritdoc IMarket
    function getHardware(uint256 listingId) external view returns (Hardware memory) {
        _listing(listingId);
        return _hardware[listingId];
    }

    /// @inheritdoc IMarket
    function getBooking(uint256 bookingId) external view returns (Booking memory) {
        return _booking(bookingId);
    }

    /// @inheritdoc IMarket
    function isFree(uint256 listingId, uint40 start, uint40 end) external view returns (bool) {
        _listing(listingId);
        if (end <= start) revert EmptyWindow(start, end);
        if (start % SLOT != 0 || end % SLOT != 0) revert MisalignedWindow(start, end, SLOT);
        return _calendars[listingId].isFree(start / SLOT, end / SLOT);
    }

    /// @inheritdoc IMarket
    function calendarWord(uint256 listingId, uint256 word) external view returns (uint256) {
        return _calendars[listingId][word];
    }

    /// @inheritdoc IMarket
    function params() external view returns (MarketParams memory) {
        return MarketParams({
            slotLength: uint32(SLOT),
            activationGrace: uint32(ACTIVATION_GRACE),
            reportGrace: uint32(REPORT_GRACE),
            disputeWindow: uint32(DISPUTE_WINDOW),
            arbiterDeadline: uint32(ARBITER_DEADLINE),
            cancelCutoff: uint32(CANCEL_CUTOFF),
            cancelFeeBps: uint16(CANCEL_FEE_BPS),
            unbondingDelay: uint32(UNBONDING_DELAY),
            minBond: uint96(MIN_BOND),
            noShowSlash: uint96(NO_SHOW_SLASH)
        });
    }

    /// @inheritdoc IMarket
    function hostCount() external view returns (uint256) {
        return _hostCount;
    }

    /// @inheritdoc IMarket
    function listingCount() external view returns (uint256) {
        return _listingCount;
    }

    /// @inheritdoc IMarket
    function bookingCount() external view returns (uint256) {
        return _bookingCount;
    }

    /* INTERNAL: SETTLEMENT */

    /// @dev Returns whether a Reported, Active or Disputed booking can be settled now, and from when
    /// (ripeAt == 0 for any other status).
    function _settleRipeAt(Booking storage b) internal view returns (bool ripe, uint256 ripeAt) {
        Status status = b.status;
        if (status == Status.Reported) ripeAt = b.stamp + DISPUTE_WINDOW;
        else if (status == Status.Active) ripeAt = b.end + REPORT_GRACE + DISPUTE_WINDOW;
        else if (status == Status.Disputed) ripeAt = b.stamp + ARBITER_DEADLINE;
        else return (false, 0);
        ripe = block.timestamp >= ripeAt;
    }

    /// @dev Settles a booking already known to be ripe, with the usage its status implies.
    function _settleRipe(uint256 bookingId, Booking storage b) internal {
        Status status = b.status;
        uint256 used;
        if (status == Status.Active) {
            used = _sessionEnd(b) - b.start;
        } else {
            used = b.usedSeconds;
            // The arbiter let the deadline pass: the claimed usage stands and nobody is slashed, because an
            // unreviewed claim should not move money either way.
            if (status == Status.Disputed) emit DisputeResolved(bookingId, address(0), used, 0);
        }
        _settle(bookingId, b, used);
    }

    function _settle(uint256 bookingId, Booking storage b, uint256 used) internal {
        b.status = Status.Settled;
        b.usedSeconds = uint32(used);
        Listing storage listing = _listings[b.listingId];
        Host storage h = _hosts[listing.hostId];
        --h.openBookings;
        if (used != 0) {
            ++h.completed;
            h.secondsServed += uint40(used);
        }
        (uint256 lender, uint256 fee, uint256 refund) = PricingLib.split(b.price, used, b.end - b.start, b.feeBps);

        emit BookingSettled(bookingId, msg.sender, used, lender, fee, refund);

        address asset = listing.asset;
        _credit(h.lender, asset, lender);
        _credit(treasury, asset, fee);
        _credit(b.borrower, asset, refund);
    }

    function _noShow(uint256 bookingId, Booking storage b) internal {
        b.status = Status.NoShow;
        _release(b);
        Listing storage listing = _listings[b.listingId];
        Host storage h = _hosts[listing.hostId];
        --h.openBookings;
        ++h.noShows;
        uint256 slash = _min(NO_SHOW_SLASH, h.bond);
        uint256 refund = b.price;

        emit NoShowClaimed(bookingId, msg.sender, refund, slash);

        _slash(h, b, bookingId, slash);
        _credit(b.borrower, listing.asset, refund);
    }

    /// @dev Moves `amount` of the host's bond to the borrower's native credit.
    function _slash(Host storage h, Booking storage b, uint256 bookingId, uint256 amount) internal {
        if (amount == 0) return;
        uint256 bond = h.bond - amount;
        h.bond = uint96(bond);
        address borrower = b.borrower;
        emit BondSlashed(_listings[b.listingId].hostId, bookingId, borrower, amount, bond);
        _credit(borrower, address(0), amount);
    }

    function _credit(address account, address asset, uint256 amount) internal {
        if (amount == 0) return;
        _credits[account][asset] += amount;
        emit Credited(account, asset, amount);
    }

    function _release(Booking storage b) internal {
        _calendars[b.listingId].release(b.start / SLOT, b.end / SLOT);
    }

    /* INTERNAL: PAYMENT */

    function _price(Listing storage listing, uint256 duration) internal view returns (uint256 price, address asset) {
        if (!listing.usdPriced) return (PricingLib.price(listing.pricePerHour, duration), listing.asset);
        AggregatorV3Interface feed = AggregatorV3Interface(usdFeed);
        if (address(feed) == address(0)) revert UsdPricingUnavailable();
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (answer <= 0) revert BadFeedAnswer(answer);
        uint256 maxAge = usdFeedMaxAge;
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) revert StalePrice(updatedAt, maxAge);
        return (PricingLib.usdToWei(listing.pricePerHour, duration, uint256(answer), feed.decimals()), address(0));
    }

    /// @dev Takes the booking's payment: exact native value, native value covering a USD price (excess credited
    /// back), or exactly `price` of an allowed ERC-20.
    function _collect(address asset, uint256 price, bool usdPriced) internal {
        if (asset == address(0)) {
            if (usdPriced ? msg.value < price : msg.value != price) revert WrongPayment(msg.value, price);
            _credit(msg.sender, address(0), msg.value - price);
            return;
        }
        if (msg.value != 0) revert UnexpectedValue();
        if (!isAssetAllowed[asset]) revert AssetNotAllowed(asset);
        uint256 before = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), price);
        uint256 received = IERC20(asset).balanceOf(address(this)) - before;
        if (received != price) revert TokenTransferMismatch(received, price);
    }

    function _sendNative(address to, uint256 amount) internal {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert NativeTransferFailed(to, amount);
    }

    /* INTERNAL: CHECKS AND LOOKUPS */

    function _checkWindow(Listing storage listing, uint256 start, uint256 end) internal view {
        if (end <= start) revert EmptyWindow(start, end);
        if (start % SLOT != 0 || end % SLOT != 0) revert MisalignedWindow(start, end, SLOT);
        uint256 earliest = block.timestamp + listing.leadTime;
        if (start < earliest) revert StartTooSoon(start, earliest);
        uint256 latest = block.timestamp + BOOKING_HORIZON;
        if (start > latest) revert StartTooFar(start, latest);
        uint256 slots = (end - start) / SLOT;
        if (slots < listing.minSlots || slots > listing.maxSlots) {
            revert DurationOutOfRange(slots, listing.minSlots, listing.maxSlots);
        }
    }

    function _checkTerms(uint256 minSlots, uint256 maxSlots, uint256 leadTime) internal pure {
        if (minSlots == 0 || minSlots > maxSlots || maxSlots > MAX_BOOKING_SLOTS) {
            revert BadDurationBounds(minSlots, maxSlots);
        }
        if (leadTime > MAX_LEAD_TIME) revert LeadTimeTooLong(leadTime, MAX_LEAD_TIME);
    }

    function _checkHardware(Hardware calldata hw) internal pure {
        uint256 modelLength = bytes(hw.gpuModel).length;
        _checkLength(modelLength, MAX_GPU_MODEL_LENGTH, true);
        _checkLength(bytes(hw.region).length, MAX_REGION_LENGTH, true);
        // A CPU-only host says so: no model, no GPUs, no VRAM.
        bool noGpu = hw.gpuCount == 0;
        if (noGpu != (modelLength == 0) || noGpu != (hw.vramMiBPerGpu == 0)) revert BadHardware();
        if (hw.cpuCores == 0 || hw.ramMiB == 0) revert BadHardware();
    }

    function _checkLength(uint256 length, uint256 maxLength, bool mayBeEmpty) internal pure {
        if ((length == 0 && !mayBeEmpty) || length > maxLength) revert BadLength(length, maxLength);
    }

    function _host(uint256 hostId) internal view returns (Host storage h) {
        h = _hosts[hostId];
        if (h.lender == address(0)) revert UnknownHost(hostId);
    }

    function _lenderHost(uint256 hostId) internal view returns (Host storage h) {
        h = _host(hostId);
        if (msg.sender != h.lender) revert NotLender(hostId, msg.sender);
    }

    function _listing(uint256 listingId) internal view returns (Listing storage listing) {
        listing = _listings[listingId];
        if (listing.hostId == 0) revert UnknownListing(listingId);
    }

    function _lenderListing(uint256 listingId) internal view returns (Listing storage listing) {
        listing = _listing(listingId);
        if (msg.sender != _hosts[listing.hostId].lender) revert NotLender(listing.hostId, msg.sender);
    }

    function _booking(uint256 bookingId) internal view returns (Booking storage b) {
        b = _bookings[bookingId];
        if (b.status == Status.None) revert UnknownBooking(bookingId);
    }

    function _onlyAgent(Booking storage b, uint256 bookingId) internal view returns (Host storage h) {
        h = _hosts[_listings[b.listingId].hostId];
        if (msg.sender != h.agent) revert NotAgent(bookingId, msg.sender);
    }

    function _sessionEnd(Booking storage b) internal view returns (uint256) {
        uint256 endedAt = b.endedAt;
        return endedAt == 0 ? b.end : endedAt;
    }

    function _isTerminal(Status s) internal pure returns (bool) {
        return s == Status.Settled || s == Status.Cancelled || s == Status.Declined || s == Status.NoShow;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
