// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IMarketTest} from "../utils/IMarketTest.sol";
import {IMarket, Status, Confidential, Hardware, Host, Listing, MarketParams} from "../../src/interfaces/IMarket.sol";
import {TestToken} from "../../src/mocks/TestToken.sol";

/// @notice Drives random sequences of every market action by several lenders, agents and borrowers, the owner,
/// the arbiter and a keeper, and keeps an independent model of what the market must hold.
/// @dev Every call the handler makes is predicted first, from the model alone, following the order in which the
/// market checks its rules: either it must succeed (then it is made plainly, so an unexpected revert fails the run
/// under fail_on_revert) and the model applies its effects, or it must revert with one exact error (then it is made
/// under vm.expectRevert with that error's full encoding, so a success or any other error fails the run). Nothing is
/// wrapped in try/catch. The model never reads the market's state after setup; the invariants compare the two.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    /* MODEL */

    struct GHost {
        address lender;
        address agent;
        uint256 bond;
        uint256 unbondAt;
        uint256 open; // non-terminal bookings
    }

    struct GListing {
        uint256 hostId;
        address asset;
        bool usd;
        uint256 pricePerHour;
        uint256 minSlots;
        uint256 maxSlots;
        uint256 leadTime;
        bool active;
    }

    struct GBooking {
        uint256 listingId;
        uint256 hostId;
        address borrower;
        address asset;
        uint256 start;
        uint256 end;
        uint256 price;
        uint256 feeBps;
        Status status;
        uint256 endedAt;
        uint256 used; // reported, claimed, ruled or settled seconds
        uint256 stamp; // report time (Reported) or dispute time (Disputed)
    }

    /// @dev One attempted booking, filled in step by step by `_predictBook`.
    struct BookReq {
        uint256 listingId;
        address borrower;
        uint256 start;
        uint256 end;
        uint256 price;
        uint256 value;
        uint256 extra; // native excess sent on a USD booking
        bool underpay;
        bool sendValueWithToken;
    }

    uint256 internal constant MAX_HOSTS = 8;
    uint256 internal constant MAX_LISTINGS = 16;
    uint256 internal constant MAX_BOOKINGS = 120;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant HOUR = 3600;

    IMarketTest public immutable market;
    TestToken public immutable tokenA;
    TestToken public immutable tokenB;
    MockV3Aggregator public immutable feed8;
    MockV3Aggregator public immutable feed18;
    address public immutable owner;
    address public immutable arbiter;
    address public immutable stranger;
    address public immutable treasury1;
    address public immutable treasury2;

    address[] internal _lenders;
    address[] internal _agents;
    address[] internal _borrowers;
    address[] internal _actors; // everyone who might ever hold a credit, or try to withdraw one
    address[] internal _assets; // native (0), tokenA, tokenB

    // Deployment constants (read once from the market at setup).
    uint256 internal immutable SLOT;
    uint256 internal immutable GRACE;
    uint256 internal immutable REPORT_GRACE;
    uint256 internal immutable DISPUTE_WINDOW;
    uint256 internal immutable ARBITER_DEADLINE;
    uint256 internal immutable CANCEL_CUTOFF;
    uint256 internal immutable CANCEL_FEE_BPS;
    uint256 internal immutable UNBONDING_DELAY;
    uint256 internal immutable MIN_BOND;
    uint256 internal immutable NO_SHOW_SLASH;
    uint256 internal immutable MAX_FEE_BPS;
    uint256 internal immutable HORIZON;

    uint256 public now_; // the time the sequence has reached; every action runs at it

    uint256 public hostCount;
    uint256 public listingCount;
    uint256 public bookingCount;
    mapping(uint256 => GHost) internal _hosts;
    mapping(uint256 => GListing) internal _listings;
    mapping(uint256 => GBooking) internal _bookings;

    mapping(address account => mapping(address asset => uint256)) public ghostCredit;
    mapping(address asset => uint256) public ghostEscrow; // sum of prices of non-terminal bookings
    mapping(address asset => uint256) public ghostIn; // everything ever paid into the market
    mapping(address asset => uint256) public ghostOut; // everything ever paid out of it
    uint256 public ghostBonds;
    uint256 public ghostCursor; // upkeepCursor as performUpkeep must advance it

    bool public paused;
    uint256 public feeBps;
    address public treasury;
    address public usdFeed;
    uint256 public feedMaxAge;
    mapping(address token => bool) public allowed;
    mapping(address feed => int256) public feedAnswer;
    mapping(address feed => uint256) public feedUpdatedAt;

    // Last status seen on-chain after each action, and what was wrong with a change.
    mapping(uint256 bookingId => Status) public lastSeen;
    uint256 public terminalChanges;
    uint256 public illegalTransitions;

    // Coverage counters: calls that succeeded and calls that reverted as predicted, per action.
    mapping(bytes32 action => uint256) public okCalls;
    mapping(bytes32 action => uint256) public predictedReverts;
    mapping(bytes4 error => uint256) public revertsByError;

    struct Setup {
        IMarketTest market;
        TestToken tokenA;
        TestToken tokenB;
        MockV3Aggregator feed8;
        MockV3Aggregator feed18;
        address owner;
        address arbiter;
        address stranger;
        address treasury2;
        address[] lenders;
        address[] agents;
        address[] borrowers;
    }

    constructor(Setup memory s) {
        market = s.market;
        tokenA = s.tokenA;
        tokenB = s.tokenB;
        feed8 = s.feed8;
        feed18 = s.feed18;
        owner = s.owner;
        arbiter = s.arbiter;
        stranger = s.stranger;
        treasury1 = market.treasury();
        treasury2 = s.treasury2;
        _lenders = s.lenders;
        _agents = s.agents;
        _borrowers = s.borrowers;
        for (uint256 i; i < s.lenders.length; ++i) {
            _actors.push(s.lenders[i]);
        }
        for (uint256 i; i < s.agents.length; ++i) {
            _actors.push(s.agents[i]);
        }
        for (uint256 i; i < s.borrowers.length; ++i) {
            _actors.push(s.borrowers[i]);
        }
        _actors.push(s.stranger);
        _actors.push(s.owner);
        _actors.push(s.arbiter);
        _actors.push(treasury1);
        _actors.push(s.treasury2);
        _assets.push(address(0));
        _assets.push(address(s.tokenA));
        _assets.push(address(s.tokenB));

        MarketParams memory p = market.params();
        SLOT = p.slotLength;
        GRACE = p.activationGrace;
        REPORT_GRACE = p.reportGrace;
        DISPUTE_WINDOW = p.disputeWindow;
        ARBITER_DEADLINE = p.arbiterDeadline;
        CANCEL_CUTOFF = p.cancelCutoff;
        CANCEL_FEE_BPS = p.cancelFeeBps;
        UNBONDING_DELAY = p.unbondingDelay;
        MIN_BOND = p.minBond;
        NO_SHOW_SLASH = p.noShowSlash;
        MAX_FEE_BPS = market.MAX_FEE_BPS();
        HORIZON = market.BOOKING_HORIZON();

        // The model starts from the fixture's state; from here on it never reads the market again.
        now_ = block.timestamp;
        require(market.bookingCount() == 0, "handler: fixture has bookings");
        hostCount = market.hostCount();
        for (uint256 id = 1; id <= hostCount; ++id) {
            Host memory h = market.getHost(id);
            _hosts[id] = GHost(h.lender, h.agent, h.bond, h.unbondAt, h.openBookings);
            ghostBonds += h.bond;
            require(_isLender(h.lender) && _isAgent(h.agent), "handler: fixture host outside the actor pools");
        }
        listingCount = market.listingCount();
        for (uint256 id = 1; id <= listingCount; ++id) {
            Listing memory lst = market.getListing(id);
            _listings[id] = GListing(
                lst.hostId,
                lst.asset,
                lst.usdPriced,
                lst.pricePerHour,
                lst.minSlots,
                lst.maxSlots,
                lst.leadTime,
                lst.active
            );
        }
        ghostIn[address(0)] = address(market).balance;
        require(ghostIn[address(0)] == ghostBonds, "handler: fixture market holds more than bonds");
        paused = market.paused();
        feeBps = market.feeBps();
        treasury = treasury1;
        usdFeed = address(market.usdFeed());
        feedMaxAge = market.usdFeedMaxAge();
        allowed[address(s.tokenA)] = market.isAssetAllowed(address(s.tokenA));
        allowed[address(s.tokenB)] = market.isAssetAllowed(address(s.tokenB));
        (, feedAnswer[address(s.feed8)],, feedUpdatedAt[address(s.feed8)],) = s.feed8.latestRoundData();
        (, feedAnswer[address(s.feed18)],, feedUpdatedAt[address(s.feed18)],) = s.feed18.latestRoundData();
        ghostCursor = market.upkeepCursor();
    }

    /* STEP WRAPPER */

    /// @dev Every action runs at the sequence's time, then records the statuses it left behind.
    modifier step() {
        vm.warp(now_);
        _;
        _observe();
    }

    /// @dev (b) A status that changed since the last action must follow the booking life; a terminal one never changes.
    function _observe() internal {
        uint256 n = market.bookingCount();
        for (uint256 id = 1; id <= n; ++id) {
            Status s = market.getBooking(id).status;
            Status prev = lastSeen[id];
            if (prev != Status.None && prev != s) {
                if (_isTerminal(prev)) ++terminalChanges;
                else if (!_legal(prev, s)) ++illegalTransitions;
            } else if (prev == Status.None && s != Status.Booked) {
                ++illegalTransitions;
            }
            lastSeen[id] = s;
        }
    }

    function _legal(Status from, Status to) internal pure returns (bool) {
        if (from == Status.Booked) {
            return to == Status.Active || to == Status.Cancelled || to == Status.Declined || to == Status.NoShow;
        }
        if (from == Status.Active) {
            return to == Status.Reported || to == Status.Disputed || to == Status.Settled || to == Status.Cancelled
                || to == Status.Declined;
        }
        if (from == Status.Reported) return to == Status.Disputed || to == Status.Settled;
        if (from == Status.Disputed) return to == Status.Settled;
        return false;
    }

    /* HOSTS */

    function registerHost(uint256 lenderSeed, uint256 agentSeed, uint256 bond) external step {
        if (hostCount >= MAX_HOSTS) return;
        address lender = _lenders[lenderSeed % _lenders.length];
        address agent = _agents[agentSeed % _agents.length];
        bond = _bound(bond, MIN_BOND - MIN_BOND / 16, 6 * MIN_BOND);
        vm.deal(lender, lender.balance + bond);
        if (bond < MIN_BOND) {
            _expectRevert("registerHost", abi.encodeWithSelector(IMarket.InsufficientBond.selector, bond, MIN_BOND));
            vm.prank(lender);
            market.registerHost{value: bond}(agent, "bafyhost");
            return;
        }
        vm.prank(lender);
        uint256 id = market.registerHost{value: bond}(agent, "bafyhost");
        require(id == ++hostCount, "handler: host id");
        _hosts[id] = GHost(lender, agent, bond, 0, 0);
        ghostBonds += bond;
        ghostIn[address(0)] += bond;
        ++okCalls["registerHost"];
    }

    /// @param kind deposit (anyone), requestUnbond, cancelUnbond, withdrawBond (the lender, or one time in eight an
    /// intruder). Deposits prefer an under-bonded host, cancel and withdraw one that is unbonding.
    function bondAction(uint256 kind, uint256 hostSeed, uint256 amount, uint256 callerSeed) external step {
        // 0 deposit (8 in 16), 1 requestUnbond (2 in 16), 2 cancelUnbond (2 in 16), 3 withdrawBond (4 in 16).
        kind = _roll(kind, 6, 16);
        kind = kind < 8 ? 0 : kind < 10 ? 1 : kind < 12 ? 2 : 3;
        uint256 hostId = _pickHost(hostSeed, kind == 0 ? _underBonded : kind == 1 ? _notUnbonding : _unbonding);
        GHost storage h = _hosts[hostId];
        address caller = kind == 0 ? _actor(callerSeed) : _callerOr(h.lender, callerSeed);
        if (kind == 0) {
            amount = _roll(amount, 7, 32) == 0 ? 0 : _bound(amount, 1, 2 * MIN_BOND);
            vm.deal(caller, caller.balance + amount);
            if (amount == 0) {
                _expectRevert("depositBond", abi.encodeWithSelector(IMarket.WrongPayment.selector, 0, 1));
                vm.prank(caller);
                market.depositBond{value: 0}(hostId);
                return;
            }
            vm.prank(caller);
            market.depositBond{value: amount}(hostId);
            h.bond += amount;
            ghostBonds += amount;
            ghostIn[address(0)] += amount;
            ++okCalls["depositBond"];
            return;
        }
        bytes memory err;
        if (caller != h.lender) err = abi.encodeWithSelector(IMarket.NotLender.selector, hostId, caller);
        if (kind == 1) {
            if (err.length == 0 && h.unbondAt != 0) {
                err = abi.encodeWithSelector(IMarket.HostUnbonding.selector, hostId);
            }
            if (_expectRevert("requestUnbond", err)) {
                vm.prank(caller);
                market.requestUnbond(hostId);
                return;
            }
            vm.prank(caller);
            market.requestUnbond(hostId);
            h.unbondAt = now_ + UNBONDING_DELAY;
            ++okCalls["requestUnbond"];
        } else if (kind == 2) {
            if (err.length == 0 && h.unbondAt == 0) {
                err = abi.encodeWithSelector(IMarket.NotUnbonding.selector, hostId);
            }
            if (_expectRevert("cancelUnbond", err)) {
                vm.prank(caller);
                market.cancelUnbond(hostId);
                return;
            }
            vm.prank(caller);
            market.cancelUnbond(hostId);
            h.unbondAt = 0;
            ++okCalls["cancelUnbond"];
        } else {
            // Mostly a valid amount (often the whole bond); sometimes zero or one wei too many.
            uint256 mode = _roll(amount, 8, 16);
            amount = mode == 0
                ? 0
                : mode == 1 ? h.bond + 1 : mode < 6 ? h.bond : _bound(amount, 1, h.bond == 0 ? 1 : h.bond);
            // Half the time the lender waits out the unbonding delay first.
            if (h.unbondAt != 0 && _roll(amount, 9, 2) == 0) _warpTo(h.unbondAt);
            if (err.length == 0) err = _predictWithdrawBond(hostId, amount);
            if (_expectRevert("withdrawBond", err)) {
                vm.prank(caller);
                market.withdrawBond(hostId, amount);
                return;
            }
            uint256 before = caller.balance;
            vm.prank(caller);
            market.withdrawBond(hostId, amount);
            require(caller.balance - before == amount, "handler: bond not paid to the lender");
            h.bond -= amount;
            ghostBonds -= amount;
            ghostOut[address(0)] += amount;
            ++okCalls["withdrawBond"];
        }
    }

    function _underBonded(uint256 hostId) internal view returns (bool) {
        return _hosts[hostId].bond < MIN_BOND;
    }

    function _notUnbonding(uint256 hostId) internal view returns (bool) {
        return _hosts[hostId].unbondAt == 0;
    }

    function _unbonding(uint256 hostId) internal view returns (bool) {
        return _hosts[hostId].unbondAt != 0;
    }

    function _canList(uint256 hostId) internal view returns (bool) {
        GHost storage h = _hosts[hostId];
        return h.unbondAt == 0 && h.bond >= MIN_BOND;
    }

    function _predictWithdrawBond(uint256 hostId, uint256 amount) internal view returns (bytes memory) {
        GHost storage h = _hosts[hostId];
        if (h.unbondAt == 0) return abi.encodeWithSelector(IMarket.NotUnbonding.selector, hostId);
        if (now_ < h.unbondAt) return abi.encodeWithSelector(IMarket.UnbondingNotOver.selector, hostId, h.unbondAt);
        if (h.open != 0) return abi.encodeWithSelector(IMarket.OpenBookings.selector, hostId, h.open);
        if (amount == 0 || amount > h.bond) {
            return abi.encodeWithSelector(IMarket.BondTooSmall.selector, amount, h.bond);
        }
        return "";
    }

    /* LISTINGS */

    /// @param kind 0 native, 1 tokenA (6 decimals), 2 tokenB (18 decimals), 3 USD-priced (paid in native).
    function createListing(uint256 hostSeed, uint256 kind, uint256 price, uint256 minSlots, uint256 span, uint256 lead)
        external
        step
    {
        if (listingCount >= MAX_LISTINGS) return;
        uint256 hostId = _pickHost(hostSeed, _canList);
        GHost storage h = _hosts[hostId];
        kind %= 4;
        GListing memory lst;
        lst.hostId = hostId;
        lst.asset = kind == 1 ? address(tokenA) : kind == 2 ? address(tokenB) : address(0);
        lst.usd = kind == 3;
        // Wide price ranges, down to 1 unit per hour, so that rounding is exercised.
        lst.pricePerHour = _bound(price, 1, kind == 0 ? 1e18 : kind == 1 ? 1e9 : kind == 2 ? 1e21 : 1e22);
        lst.minSlots = _bound(minSlots, 1, 4);
        lst.maxSlots = lst.minSlots + _bound(span, 0, 12);
        lst.leadTime = _leadTime(lead);
        lst.active = true;

        bytes memory err;
        if (paused) {
            err = abi.encodeWithSelector(IMarket.EnforcedPause.selector);
        } else if (h.unbondAt != 0) {
            err = abi.encodeWithSelector(IMarket.HostUnbonding.selector, hostId);
        } else if (h.bond < MIN_BOND) {
            err = abi.encodeWithSelector(IMarket.InsufficientBond.selector, h.bond, MIN_BOND);
        } else if (lst.usd && usdFeed == address(0)) {
            err = abi.encodeWithSelector(IMarket.UsdPricingUnavailable.selector);
        } else if (lst.asset != address(0) && !allowed[lst.asset]) {
            err = abi.encodeWithSelector(IMarket.AssetNotAllowed.selector, lst.asset);
        }
        if (_expectRevert("createListing", err)) {
            _createListing(h.lender, lst);
            return;
        }
        uint256 id = _createListing(h.lender, lst);
        require(id == ++listingCount, "handler: listing id");
        _listings[id] = lst;
        ++okCalls["createListing"];
    }

    function _leadTime(uint256 seed) internal pure returns (uint256) {
        uint256 m = _roll(seed, 5, 4);
        if (m == 0) return 0;
        if (m == 1) return 1 hours;
        return _bound(seed, 0, 1 days);
    }

    function _createListing(address lender, GListing memory lst) internal returns (uint256) {
        Hardware memory hw = Hardware({
            gpuModel: "NVIDIA H100 80GB HBM3",
            gpuCount: 1,
            vramMiBPerGpu: 81_559,
            cpuCores: 16,
            ramMiB: 131_072,
            diskGiB: 500,
            region: "eu-west",
            confidential: Confidential.None
        });
        vm.prank(lender);
        return market.createListing(
            lst.hostId,
            hw,
            lst.asset,
            lst.usd,
            uint128(lst.pricePerHour),
            uint16(lst.minSlots),
            uint16(lst.maxSlots),
            uint32(lst.leadTime),
            "bafylisting"
        );
    }

    /// @param kind 0 new price (existing bookings keep theirs), 1 toggle active, 2 new terms.
    function listingAdmin(uint256 kind, uint256 listingSeed, uint256 a, uint256 b, uint256 c) external step {
        kind %= 3;
        uint256 id = kind == 1 ? _pickListing(listingSeed, _inactive) : 1 + listingSeed % listingCount;
        GListing storage lst = _listings[id];
        address lender = _hosts[lst.hostId].lender;
        if (kind == 0) {
            uint256 cap =
                lst.usd ? 1e22 : lst.asset == address(tokenA) ? 1e9 : lst.asset == address(tokenB) ? 1e21 : 1e18;
            uint256 price = _bound(a, 1, cap);
            vm.prank(lender);
            market.setListingPrice(id, uint128(price));
            lst.pricePerHour = price;
            ++okCalls["setListingPrice"];
        } else if (kind == 1) {
            // Inactive listings come back; active ones go dark one time in four (else re-affirmed).
            bool active = !lst.active || _roll(a, 9, 4) != 0;
            vm.prank(lender);
            market.setListingActive(id, active);
            lst.active = active;
            ++okCalls[active ? bytes32("setListingActive") : bytes32("setListingInactive")];
        } else {
            uint256 minSlots = _bound(a, 1, 4);
            uint256 maxSlots = minSlots + _bound(b, 0, 12);
            uint256 lead = _leadTime(c);
            vm.prank(lender);
            market.setListingTerms(id, uint16(minSlots), uint16(maxSlots), uint32(lead));
            (lst.minSlots, lst.maxSlots, lst.leadTime) = (minSlots, maxSlots, lead);
            ++okCalls["setListingTerms"];
        }
    }

    /* BOOKING */

    /// @notice Books a window on a listing (preferring one that takes bookings now): mostly valid, sometimes
    /// deliberately wrong in one way.
    /// @param mode 0 misaligned, 1 too soon, 2 too long, 3 underpaid, 4 the lender books their own host,
    /// 5 native value with a token, else a plain attempt.
    function book(
        uint256 listingSeed,
        uint256 borrowerSeed,
        uint256 offsetSlots,
        uint256 slotsSeed,
        uint256 extra,
        uint256 mode
    ) external step {
        if (bookingCount >= MAX_BOOKINGS) return;
        BookReq memory r;
        r.listingId = _pickListing(listingSeed, _bookable);
        GListing storage lst = _listings[r.listingId];
        r.borrower = _borrowers[borrowerSeed % _borrowers.length];
        mode = _roll(mode, 10, 24);
        uint256 earliest = (now_ + lst.leadTime + SLOT - 1) / SLOT;
        uint256 slots = _bound(slotsSeed, lst.minSlots, lst.maxSlots);
        uint256 offset = _roll(offsetSlots, 11, 2) == 0 ? offsetSlots % 8 : _bound(offsetSlots, 0, 2 days / SLOT);
        r.start = (earliest + offset) * SLOT;
        r.end = r.start + slots * SLOT;
        r.extra = _bound(extra, 0, 1e15);
        if (mode == 0) r.start += 1 + extra % (SLOT - 1);
        else if (mode == 1) r.start = (earliest - 1) * SLOT;
        else if (mode == 2) r.end = r.start + (lst.maxSlots + 1) * SLOT;
        else if (mode == 3) r.underpay = true;
        else if (mode == 4) r.borrower = _hosts[lst.hostId].lender;
        else if (mode == 5) r.sendValueWithToken = true;
        // The feed's keeper usually refreshes a round shortly before a USD booking.
        if (lst.usd && usdFeed != address(0) && feedAnswer[usdFeed] > 0 && _roll(extra, 12, 4) != 0) {
            _refreshFeed(usdFeed);
        }
        _book(r);
    }

    /// @dev Takes bookings now as far as the listing and its host go (the window may still be refused).
    function _bookable(uint256 listingId) internal view returns (bool) {
        GListing storage lst = _listings[listingId];
        return lst.active && _canList(lst.hostId) && (!lst.usd || usdFeed != address(0))
            && (lst.asset == address(0) || allowed[lst.asset]);
    }

    function _inactive(uint256 listingId) internal view returns (bool) {
        return !_listings[listingId].active;
    }

    /// @notice Books on the listing of an existing booking, next to it, overlapping it, or on the same window.
    /// @param relation 0 right after it, 1 right before it, 2 overlapping its tail, 3 the same window.
    function bookNear(uint256 bookingSeed, uint256 relation, uint256 lenSeed, uint256 borrowerSeed) external step {
        if (bookingCount == 0 || bookingCount >= MAX_BOOKINGS) return;
        GBooking storage b = _bookings[1 + bookingSeed % bookingCount];
        GListing storage lst = _listings[b.listingId];
        BookReq memory r;
        r.listingId = b.listingId;
        r.borrower = _borrowers[borrowerSeed % _borrowers.length];
        uint256 len = _bound(lenSeed, lst.minSlots, lst.maxSlots) * SLOT;
        relation = _roll(relation, 14, 4);
        if (relation == 0) {
            r.start = b.end;
        } else if (relation == 1) {
            r.start = b.start - len;
        } else if (relation == 2) {
            r.start = b.end - SLOT;
        } else {
            r.start = b.start;
            len = b.end - b.start;
        }
        r.end = r.start + len;
        if (lst.usd && usdFeed != address(0) && feedAnswer[usdFeed] > 0 && _roll(lenSeed, 13, 4) != 0) {
            _refreshFeed(usdFeed);
        }
        _book(r);
    }

    function _book(BookReq memory r) internal {
        GListing storage lst = _listings[r.listingId];
        bytes memory err = _predictBook(r);
        // Fund the attempt whatever its outcome, so that a refusal is the market's, never the borrower's purse.
        if (lst.asset == address(0)) {
            vm.deal(r.borrower, r.borrower.balance + r.value);
        } else {
            TestToken(lst.asset).mint(r.borrower, r.price);
            vm.prank(r.borrower);
            TestToken(lst.asset).approve(address(market), r.price);
            vm.deal(r.borrower, r.borrower.balance + r.value);
        }
        if (_expectRevert("book", err)) {
            vm.prank(r.borrower);
            market.book{value: r.value}(
                r.listingId, uint40(r.start), uint40(r.end), bytes32(uint256(1)), "ssh-ed25519 AAAA"
            );
            return;
        }
        uint256 tokensBefore = lst.asset == address(0) ? 0 : TestToken(lst.asset).balanceOf(r.borrower);
        vm.prank(r.borrower);
        uint256 id = market.book{value: r.value}(
            r.listingId, uint40(r.start), uint40(r.end), bytes32(uint256(1)), "ssh-ed25519 AAAA"
        );
        require(id == ++bookingCount, "handler: booking id");
        if (lst.asset != address(0)) {
            require(tokensBefore - TestToken(lst.asset).balanceOf(r.borrower) == r.price, "handler: token pull");
        }
        _bookings[id] = GBooking({
            listingId: r.listingId,
            hostId: lst.hostId,
            borrower: r.borrower,
            asset: lst.asset,
            start: r.start,
            end: r.end,
            price: r.price,
            feeBps: feeBps,
            status: Status.Booked,
            endedAt: 0,
            used: 0,
            stamp: now_
        });
        ++_hosts[lst.hostId].open;
        ghostEscrow[lst.asset] += r.price;
        if (lst.asset == address(0)) {
            ghostIn[address(0)] += r.value;
            ghostCredit[r.borrower][address(0)] += r.value - r.price; // a USD booking's excess
        } else {
            ghostIn[lst.asset] += r.price;
        }
        bytes32 kind =
            lst.usd ? bytes32("bookUsd") : lst.asset == address(0) ? bytes32("bookNative") : bytes32("bookToken");
        ++okCalls[kind];
    }

    /// @dev The market's checks, in the market's order; fills in the price and the value to send.
    function _predictBook(BookReq memory r) internal view returns (bytes memory) {
        GListing storage lst = _listings[r.listingId];
        GHost storage h = _hosts[lst.hostId];
        if (paused) return abi.encodeWithSelector(IMarket.EnforcedPause.selector);
        if (!lst.active) return abi.encodeWithSelector(IMarket.ListingInactive.selector, r.listingId);
        if (r.borrower == h.lender || r.borrower == h.agent) {
            return abi.encodeWithSelector(IMarket.SelfBooking.selector);
        }
        if (h.unbondAt != 0) return abi.encodeWithSelector(IMarket.HostUnbonding.selector, lst.hostId);
        if (h.bond < MIN_BOND) return abi.encodeWithSelector(IMarket.InsufficientBond.selector, h.bond, MIN_BOND);
        if (r.start % SLOT != 0 || r.end % SLOT != 0) {
            return abi.encodeWithSelector(IMarket.MisalignedWindow.selector, r.start, r.end, SLOT);
        }
        if (r.start < now_ + lst.leadTime) {
            return abi.encodeWithSelector(IMarket.StartTooSoon.selector, r.start, now_ + lst.leadTime);
        }
        if (r.start > now_ + HORIZON) {
            return abi.encodeWithSelector(IMarket.StartTooFar.selector, r.start, now_ + HORIZON);
        }
        uint256 slots = (r.end - r.start) / SLOT;
        if (slots < lst.minSlots || slots > lst.maxSlots) {
            return abi.encodeWithSelector(IMarket.DurationOutOfRange.selector, slots, lst.minSlots, lst.maxSlots);
        }
        if (_overlapsLive(r.listingId, r.start, r.end)) {
            return abi.encodeWithSelector(IMarket.SlotTaken.selector, r.listingId, r.start, r.end);
        }
        uint256 duration = r.end - r.start;
        if (lst.usd) {
            if (usdFeed == address(0)) return abi.encodeWithSelector(IMarket.UsdPricingUnavailable.selector);
            int256 answer = feedAnswer[usdFeed];
            if (answer <= 0) return abi.encodeWithSelector(IMarket.BadFeedAnswer.selector, answer);
            uint256 updatedAt = feedUpdatedAt[usdFeed];
            if (updatedAt > now_ || now_ - updatedAt > feedMaxAge) {
                return abi.encodeWithSelector(IMarket.StalePrice.selector, updatedAt, feedMaxAge);
            }
            uint256 den = HOUR * uint256(answer);
            uint256 decimals = usdFeed == address(feed8) ? 8 : 18;
            r.price = (lst.pricePerHour * duration * 10 ** decimals + den - 1) / den;
            r.value = r.underpay ? r.price - 1 : r.price + r.extra;
            if (r.value < r.price) return abi.encodeWithSelector(IMarket.WrongPayment.selector, r.value, r.price);
            return "";
        }
        r.price = (lst.pricePerHour * duration + HOUR - 1) / HOUR;
        if (lst.asset == address(0)) {
            r.value = r.underpay ? r.price - 1 : r.price;
            if (r.value != r.price) return abi.encodeWithSelector(IMarket.WrongPayment.selector, r.value, r.price);
            return "";
        }
        r.value = r.sendValueWithToken ? 1 : 0;
        if (r.value != 0) return abi.encodeWithSelector(IMarket.UnexpectedValue.selector);
        if (!allowed[lst.asset]) return abi.encodeWithSelector(IMarket.AssetNotAllowed.selector, lst.asset);
        return "";
    }

    function _overlapsLive(uint256 listingId, uint256 start, uint256 end) internal view returns (bool) {
        for (uint256 id = 1; id <= bookingCount; ++id) {
            GBooking storage b = _bookings[id];
            if (b.listingId == listingId && _isLive(b.status) && b.start < end && start < b.end) return true;
        }
        return false;
    }

    /* SESSION LIFE */
    // Each action is an external entry (pick a booking and a caller from the seeds) over an internal `_do*` that
    // predicts and makes the call; `advance` reuses the same `_do*` paths.

    /// @param callerSeed one call in eight comes from someone who is not the host's agent.
    function activate(uint256 bookingSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _canActivate);
        _doActivate(id, _callerOr(_agentOf(id), callerSeed));
    }

    function _doActivate(uint256 id, address caller) internal {
        GBooking storage b = _bookings[id];
        bytes memory err;
        if (caller != _agentOf(id)) {
            err = abi.encodeWithSelector(IMarket.NotAgent.selector, id, caller);
        } else if (b.status == Status.Booked) {
            uint256 deadline = _min(b.start + GRACE, b.end);
            if (now_ >= deadline) err = abi.encodeWithSelector(IMarket.TooLate.selector, id, deadline);
        } else if (b.status == Status.Active) {
            if (now_ >= _sessionEnd(b)) err = abi.encodeWithSelector(IMarket.TooLate.selector, id, _sessionEnd(b));
        } else {
            err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        }
        bytes memory endpoint = abi.encodePacked(keccak256(abi.encode(id, now_)));
        if (_expectRevert("activate", err)) {
            vm.prank(caller);
            market.activate(id, endpoint);
            return;
        }
        vm.prank(caller);
        market.activate(id, endpoint);
        ++okCalls[b.status == Status.Active ? bytes32("republish") : bytes32("activate")];
        b.status = Status.Active;
    }

    function _canActivate(uint256 id) internal view returns (bool) {
        GBooking storage b = _bookings[id];
        if (b.status == Status.Booked) return now_ < _min(b.start + GRACE, b.end);
        return b.status == Status.Active && now_ < _sessionEnd(b);
    }

    /// @param reason codes 1..7 are defined; one call in sixteen uses 0 or 8.
    function decline(uint256 bookingSeed, uint256 reason, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _beforeStartOpen);
        uint8 code = _roll(reason, 1, 16) == 0 ? uint8(_roll(reason, 2, 2) * 8) : uint8(1 + _roll(reason, 3, 7));
        _doDecline(id, code, _callerOr(_agentOf(id), callerSeed));
    }

    function _doDecline(uint256 id, uint8 code, address caller) internal {
        GBooking storage b = _bookings[id];
        bytes memory err;
        if (caller != _agentOf(id)) {
            err = abi.encodeWithSelector(IMarket.NotAgent.selector, id, caller);
        } else if (b.status != Status.Booked && b.status != Status.Active) {
            err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        } else if (now_ >= b.start) {
            err = abi.encodeWithSelector(IMarket.TooLate.selector, id, b.start);
        } else if (code == 0 || code > 7) {
            err = abi.encodeWithSelector(IMarket.BadReason.selector, code);
        }
        if (_expectRevert("decline", err)) {
            vm.prank(caller);
            market.decline(id, code);
            return;
        }
        Status from = b.status;
        vm.prank(caller);
        market.decline(id, code);
        _credit(b.borrower, b.asset, b.price);
        _close(id, Status.Declined);
        ++okCalls[from == Status.Active ? bytes32("declineActive") : bytes32("decline")];
    }

    function _beforeStartOpen(uint256 id) internal view returns (bool) {
        GBooking storage b = _bookings[id];
        return (b.status == Status.Booked || b.status == Status.Active) && now_ < b.start;
    }

    function cancel(uint256 bookingSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _beforeStartOpen);
        _doCancel(id, _callerOr(_bookings[id].borrower, callerSeed));
    }

    function _doCancel(uint256 id, address caller) internal {
        GBooking storage b = _bookings[id];
        bytes memory err;
        if (caller != b.borrower) {
            err = abi.encodeWithSelector(IMarket.NotBorrower.selector, id, caller);
        } else if (b.status != Status.Booked && b.status != Status.Active) {
            err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        } else if (now_ >= b.start) {
            err = abi.encodeWithSelector(IMarket.TooLate.selector, id, b.start);
        }
        if (_expectRevert("cancel", err)) {
            vm.prank(caller);
            market.cancel(id);
            return;
        }
        if (b.status == Status.Active) ++okCalls["cancelActive"];
        vm.prank(caller);
        market.cancel(id);
        // Free until start − cutoff; after it cancelFeeBps of the price to the lender, less the booking's platform fee.
        bool late = now_ + CANCEL_CUTOFF > b.start;
        uint256 lateFee = late ? b.price * CANCEL_FEE_BPS / BPS : 0;
        uint256 platformFee = lateFee * b.feeBps / BPS;
        _credit(b.borrower, b.asset, b.price - lateFee);
        _credit(_hosts[b.hostId].lender, b.asset, lateFee - platformFee);
        _credit(treasury, b.asset, platformFee);
        _close(id, Status.Cancelled);
        ++okCalls[late ? bytes32("cancelLate") : bytes32("cancelEarly")];
    }

    function endSession(uint256 bookingSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _running);
        _doEndSession(id, _callerOr(_bookings[id].borrower, callerSeed));
    }

    function _doEndSession(uint256 id, address caller) internal {
        GBooking storage b = _bookings[id];
        bytes memory err;
        if (caller != b.borrower) err = abi.encodeWithSelector(IMarket.NotBorrower.selector, id, caller);
        else if (b.status != Status.Active) err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        else if (now_ < b.start) err = abi.encodeWithSelector(IMarket.TooEarly.selector, id, b.start);
        else if (now_ >= _sessionEnd(b)) err = abi.encodeWithSelector(IMarket.TooLate.selector, id, _sessionEnd(b));
        if (_expectRevert("endSession", err)) {
            vm.prank(caller);
            market.endSession(id);
            return;
        }
        vm.prank(caller);
        market.endSession(id);
        b.endedAt = now_;
        ++okCalls["endSession"];
    }

    function _running(uint256 id) internal view returns (bool) {
        GBooking storage b = _bookings[id];
        return b.status == Status.Active && b.start <= now_ && now_ < _sessionEnd(b);
    }

    /// @param usedSeed the seconds reported (often 0 or all); one report in sixteen claims one second too many.
    function report(uint256 bookingSeed, uint256 usedSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _reportable);
        _doReport(id, usedSeed, _callerOr(_agentOf(id), callerSeed));
    }

    function _doReport(uint256 id, uint256 usedSeed, address caller) internal {
        GBooking storage b = _bookings[id];
        uint256 sessionEnd = _sessionEnd(b);
        uint256 maxUsed = sessionEnd > b.start ? sessionEnd - b.start : 0;
        uint256 used = _roll(usedSeed, 1, 16) == 0 ? maxUsed + 1 : _usage(usedSeed, maxUsed);
        bytes memory err;
        if (caller != _agentOf(id)) {
            err = abi.encodeWithSelector(IMarket.NotAgent.selector, id, caller);
        } else if (b.status != Status.Active) {
            err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        } else if (now_ < sessionEnd) {
            err = abi.encodeWithSelector(IMarket.TooEarly.selector, id, sessionEnd);
        } else if (now_ >= b.end + REPORT_GRACE) {
            err = abi.encodeWithSelector(IMarket.TooLate.selector, id, b.end + REPORT_GRACE);
        } else if (used > maxUsed) {
            err = abi.encodeWithSelector(IMarket.UsageTooHigh.selector, used, maxUsed);
        }
        if (_expectRevert("report", err)) {
            vm.prank(caller);
            market.report(id, uint32(used), "bafyreport");
            return;
        }
        vm.prank(caller);
        market.report(id, uint32(used), "bafyreport");
        b.status = Status.Reported;
        b.used = used;
        b.stamp = now_;
        ++okCalls[b.endedAt != 0 ? bytes32("reportAfterEarlyEnd") : bytes32("report")];
    }

    function _reportable(uint256 id) internal view returns (bool) {
        GBooking storage b = _bookings[id];
        return b.status == Status.Active && _sessionEnd(b) <= now_ && now_ < b.end + REPORT_GRACE;
    }

    /// @dev Usage in [0, max], often at the edges.
    function _usage(uint256 seed, uint256 max) internal pure returns (uint256) {
        uint256 m = _roll(seed, 4, 4);
        if (m == 0) return 0;
        if (m == 1) return max;
        return _bound(seed, 0, max);
    }

    function dispute(uint256 bookingSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _disputable);
        _doDispute(id, _callerOr(_bookings[id].borrower, callerSeed));
    }

    function _doDispute(uint256 id, address caller) internal {
        GBooking storage b = _bookings[id];
        bytes memory err;
        if (caller != b.borrower) {
            err = abi.encodeWithSelector(IMarket.NotBorrower.selector, id, caller);
        } else if (b.status == Status.Reported) {
            if (now_ >= b.stamp + DISPUTE_WINDOW) {
                err = abi.encodeWithSelector(IMarket.TooLate.selector, id, b.stamp + DISPUTE_WINDOW);
            }
        } else if (b.status == Status.Active) {
            uint256 deadline = b.end + REPORT_GRACE + DISPUTE_WINDOW;
            if (now_ < _sessionEnd(b)) err = abi.encodeWithSelector(IMarket.TooEarly.selector, id, _sessionEnd(b));
            else if (now_ >= deadline) err = abi.encodeWithSelector(IMarket.TooLate.selector, id, deadline);
        } else {
            err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        }
        if (_expectRevert("dispute", err)) {
            vm.prank(caller);
            market.dispute(id, "bafyreason");
            return;
        }
        vm.prank(caller);
        market.dispute(id, "bafyreason");
        if (b.status == Status.Active) {
            b.used = _sessionEnd(b) - b.start; // unreported: the claim is full use of the (possibly shortened) session
            ++okCalls["disputeActive"];
        } else {
            ++okCalls["disputeReported"];
        }
        b.status = Status.Disputed;
        b.stamp = now_;
    }

    function _disputable(uint256 id) internal view returns (bool) {
        GBooking storage b = _bookings[id];
        if (b.status == Status.Reported) return now_ < b.stamp + DISPUTE_WINDOW;
        return b.status == Status.Active && _sessionEnd(b) <= now_ && now_ < b.end + REPORT_GRACE + DISPUTE_WINDOW;
    }

    /// @param slashSeed how much of the host's bond goes to the borrower (none half the time, up to all of it);
    /// one ruling in sixteen asks one wei more than the bond, and one in sixteen charges one second more than the
    /// session lasted.
    function resolveDispute(uint256 bookingSeed, uint256 usedSeed, uint256 slashSeed, uint256 callerSeed)
        external
        step
    {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _disputed);
        _doResolve(id, usedSeed, slashSeed, _callerOr(arbiter, callerSeed));
    }

    function _doResolve(uint256 id, uint256 usedSeed, uint256 slashSeed, address caller) internal {
        GBooking storage b = _bookings[id];
        GHost storage h = _hosts[b.hostId];
        // The arbiter charges at most the session's length: the window, or up to the borrower's early end.
        uint256 maxUsed = _sessionEnd(b) - b.start;
        uint256 used = _roll(usedSeed, 1, 16) == 0 ? maxUsed + 1 : _usage(usedSeed, maxUsed);
        uint256 slashMode = _roll(slashSeed, 1, 16);
        uint256 slash =
            slashMode == 0 ? h.bond + 1 : slashMode < 8 ? 0 : slashMode == 8 ? h.bond : _bound(slashSeed, 0, h.bond);
        bytes memory err;
        if (caller != arbiter) err = abi.encodeWithSelector(IMarket.NotArbiter.selector, caller);
        else if (b.status != Status.Disputed) err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        else if (used > maxUsed) err = abi.encodeWithSelector(IMarket.UsageTooHigh.selector, used, maxUsed);
        else if (slash > h.bond) err = abi.encodeWithSelector(IMarket.BondTooSmall.selector, slash, h.bond);
        if (_expectRevert("resolveDispute", err)) {
            vm.prank(caller);
            market.resolveDispute(id, uint32(used), uint96(slash));
            return;
        }
        vm.prank(caller);
        market.resolveDispute(id, uint32(used), uint96(slash));
        _slash(id, slash);
        _settleModel(id, used);
        ++okCalls[slash == 0 ? bytes32("resolve") : bytes32("resolveWithSlash")];
    }

    function _disputed(uint256 id) internal view returns (bool) {
        return _bookings[id].status == Status.Disputed;
    }

    /// @notice Takes one live booking one natural step further, letting time pass first where that step needs it:
    /// Booked → activate (or, one time in four, the no-show point and claimNoShow); Active → before the start,
    /// decline or cancel it; after, end it early, report it, dispute it, or let it ripen unreported and settle it;
    /// Reported → dispute it or settle it after the window; Disputed → rule on it or settle it after the arbiter's
    /// deadline. The step itself is predicted like any other.
    function advance(uint256 bookingSeed, uint256 choice, uint256 seed) external step {
        if (bookingCount == 0) return;
        uint256 id = _pick(bookingSeed, _live);
        if (!_live(id)) return; // nothing left to advance
        GBooking storage b = _bookings[id];
        choice = _roll(choice, 30, 4);
        Status s = b.status;
        if (s == Status.Booked) {
            if (choice == 0) {
                _warpTo(b.start + GRACE + seed % 1 hours);
                _doClaimNoShow(id, _actor(seed));
            } else {
                _doActivate(id, _agentOf(id));
            }
        } else if (s == Status.Active) {
            _advanceActive(id, choice, seed);
        } else if (s == Status.Reported) {
            if (now_ < b.stamp + DISPUTE_WINDOW && choice <= 1) {
                _doDispute(id, b.borrower);
            } else {
                _warpTo(b.stamp + DISPUTE_WINDOW + seed % 1 hours);
                _doSettle(id, _actor(seed));
            }
        } else {
            if (choice <= 2) {
                _doResolve(id, seed, seed >> 128, arbiter);
            } else {
                _warpTo(b.stamp + ARBITER_DEADLINE + seed % 1 hours);
                _doSettle(id, _actor(seed));
            }
        }
    }

    /// @dev The step an Active booking can still take at this time, the earliest phase first.
    function _advanceActive(uint256 id, uint256 choice, uint256 seed) internal {
        GBooking storage b = _bookings[id];
        if (now_ < b.start && choice == 0) {
            // Activated ahead of the start: the agent may still decline, the borrower still cancel.
            if (seed % 2 == 0) _doDecline(id, uint8(1 + seed % 7), _agentOf(id));
            else _doCancel(id, b.borrower);
        } else if (now_ < _sessionEnd(b) && choice == 1) {
            _warpTo(b.start + _bound(seed, 0, b.end - b.start - 1));
            _doEndSession(id, b.borrower);
        } else if (now_ < b.end + REPORT_GRACE && choice <= 2) {
            _warpTo(_sessionEnd(b) + seed % REPORT_GRACE);
            _doReport(id, seed, _agentOf(id));
        } else if (now_ < b.end + REPORT_GRACE + DISPUTE_WINDOW && choice <= 2) {
            _warpTo(_sessionEnd(b));
            _doDispute(id, b.borrower);
        } else {
            _warpTo(b.end + REPORT_GRACE + DISPUTE_WINDOW + seed % 1 hours);
            _doSettle(id, _actor(seed));
        }
    }

    function _warpTo(uint256 t) internal {
        if (t <= now_) return;
        now_ = t;
        vm.warp(t);
    }

    /* PERMISSIONLESS */

    function claimNoShow(uint256 bookingSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        _doClaimNoShow(_pick(bookingSeed, _noShowRipe), _actor(callerSeed));
    }

    function _doClaimNoShow(uint256 id, address caller) internal {
        GBooking storage b = _bookings[id];
        bytes memory err;
        if (b.status != Status.Booked) err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        else if (now_ < b.start + GRACE) err = abi.encodeWithSelector(IMarket.TooEarly.selector, id, b.start + GRACE);
        if (_expectRevert("claimNoShow", err)) {
            vm.prank(caller);
            market.claimNoShow(id);
            return;
        }
        vm.prank(caller);
        market.claimNoShow(id);
        _noShowModel(id);
        ++okCalls["claimNoShow"];
    }

    function _noShowRipe(uint256 id) internal view returns (bool) {
        GBooking storage b = _bookings[id];
        return b.status == Status.Booked && now_ >= b.start + GRACE;
    }

    function settle(uint256 bookingSeed, uint256 callerSeed) external step {
        if (bookingCount == 0) return;
        _doSettle(_pick(bookingSeed, _settleRipe), _actor(callerSeed));
    }

    function _doSettle(uint256 id, address caller) internal {
        GBooking storage b = _bookings[id];
        uint256 ripeAt = _settleRipeAt(b);
        bytes memory err;
        if (ripeAt == 0) err = abi.encodeWithSelector(IMarket.WrongStatus.selector, id, b.status);
        else if (now_ < ripeAt) err = abi.encodeWithSelector(IMarket.TooEarly.selector, id, ripeAt);
        if (_expectRevert("settle", err)) {
            vm.prank(caller);
            market.settle(id);
            return;
        }
        Status from = b.status;
        vm.prank(caller);
        market.settle(id);
        _settleRipeModel(id);
        ++okCalls[
            from == Status.Active
                ? bytes32("settleActive")
                : from == Status.Reported ? bytes32("settleReported") : bytes32("settleDisputed")
        ];
    }

    function _settleRipe(uint256 id) internal view returns (bool) {
        uint256 ripeAt = _settleRipeAt(_bookings[id]);
        return ripeAt != 0 && now_ >= ripeAt;
    }

    /// @param mode 0..2: what checkUpkeep returns (checked against the model first); 3: arbitrary ids, including
    /// repeats, unripe, terminal and unknown ones, which must be skipped, not reverted on.
    function performUpkeep(uint256 mode, uint256 idsSeed, uint256 callerSeed) external step {
        uint256[] memory ids;
        if (_roll(mode, 15, 4) != 3) {
            (bool needed, bytes memory data) = market.checkUpkeep("");
            ids = abi.decode(data, (uint256[]));
            _checkUpkeepAnswer(needed, ids);
            if (!needed) return;
        } else {
            ids = new uint256[](1 + idsSeed % 6);
            for (uint256 i; i < ids.length; ++i) {
                ids[i] = 1 + uint256(keccak256(abi.encode(idsSeed, i))) % (bookingCount + 2);
            }
        }
        vm.prank(_actor(callerSeed));
        market.performUpkeep(abi.encode(ids));
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (id == 0 || id > bookingCount) continue;
            if (_noShowRipe(id)) {
                _noShowModel(id);
                ++okCalls["upkeepNoShow"];
            } else if (_settleRipe(id)) {
                _settleRipeModel(id);
                ++okCalls["upkeepSettle"];
            }
        }
        // The cursor moves past terminal bookings, at most 64 per call.
        uint256 cursor = ghostCursor;
        for (uint256 steps; steps < 64 && cursor <= bookingCount && _isTerminal(_bookings[cursor].status); ++steps) {
            ++cursor;
        }
        ghostCursor = cursor;
        ++okCalls["performUpkeep"];
    }

    /// @dev checkUpkeep("") must return, in id order, the first (up to 20) ripe bookings from the cursor on.
    function _checkUpkeepAnswer(bool needed, uint256[] memory ids) internal view {
        uint256 n;
        for (uint256 id = ghostCursor; id <= bookingCount && id < ghostCursor + 500 && n < 20; ++id) {
            if (_noShowRipe(id) || _settleRipe(id)) {
                require(n < ids.length && ids[n] == id, "handler: checkUpkeep missed or misordered a ripe booking");
                ++n;
            }
        }
        require(ids.length == n, "handler: checkUpkeep returned an unripe booking");
        require(needed == (n != 0), "handler: checkUpkeep's upkeepNeeded");
    }

    /* FUNDS */

    /// @notice An actor withdraws an asset: mostly someone the model says holds a credit, sometimes anyone (and a
    /// zero credit must be refused).
    function withdraw(uint256 actorSeed, uint256 assetSeed) external step {
        (address who, address asset) = _pickCredit(actorSeed, assetSeed);
        uint256 credit = ghostCredit[who][asset];
        if (credit == 0) {
            _expectRevert("withdraw", abi.encodeWithSelector(IMarket.NothingToWithdraw.selector, who, asset));
            vm.prank(who);
            market.withdraw(asset);
            return;
        }
        uint256 before = _balanceOf(who, asset);
        vm.prank(who);
        uint256 amount = market.withdraw(asset);
        require(amount == credit, "handler: withdrawn amount is not the credit");
        require(_balanceOf(who, asset) - before == credit, "handler: withdrawal did not arrive");
        ghostCredit[who][asset] = 0;
        ghostOut[asset] += credit;
        ++okCalls[asset == address(0) ? bytes32("withdrawNative") : bytes32("withdrawToken")];
    }

    function _pickCredit(uint256 actorSeed, uint256 assetSeed) internal view returns (address, address) {
        uint256 na = _actors.length;
        uint256 nt = _assets.length;
        if (_roll(actorSeed, 16, 6) != 0) {
            uint256 first = (actorSeed % na) * nt + assetSeed % nt;
            for (uint256 i; i < na * nt; ++i) {
                uint256 k = (first + i) % (na * nt);
                if (ghostCredit[_actors[k / nt]][_assets[k % nt]] != 0) return (_actors[k / nt], _assets[k % nt]);
            }
        }
        return (_actors[actorSeed % na], _assets[assetSeed % nt]);
    }

    function _balanceOf(address who, address asset) internal view returns (uint256) {
        return asset == address(0) ? who.balance : TestToken(asset).balanceOf(who);
    }

    /* ORACLE AND OWNER */

    /// @notice A new round on one of the two feeds; one in sixteen answers zero or less.
    function updateFeed(uint256 feedSeed, uint256 answerSeed) external step {
        MockV3Aggregator f = feedSeed % 2 == 0 ? feed8 : feed18;
        uint256 unit = 10 ** f.decimals();
        int256 answer = _roll(answerSeed, 17, 16) == 0
            ? -int256(_roll(answerSeed, 18, 2))
            : int256(_bound(answerSeed, unit / 100, 100_000 * unit)); // $0.01 .. $100k per native unit
        f.updateAnswer(answer);
        feedAnswer[address(f)] = answer;
        feedUpdatedAt[address(f)] = now_;
        ++okCalls["updateFeed"];
    }

    function _refreshFeed(address f) internal {
        MockV3Aggregator(f).updateAnswer(feedAnswer[f]);
        feedUpdatedAt[f] = now_;
    }

    /// @param kind 0 setFee (one in eight above the cap), 1 setTreasury, 2 setAssetAllowed, 3 setUsdFeed.
    function ownerAction(uint256 kind, uint256 seed) external step {
        kind %= 4;
        if (kind == 0) {
            uint256 fee = _roll(seed, 19, 8) == 0 ? MAX_FEE_BPS + 1 + seed % 100 : _bound(seed, 0, MAX_FEE_BPS);
            if (fee > MAX_FEE_BPS) {
                _expectRevert("setFee", abi.encodeWithSelector(IMarket.FeeTooHigh.selector, fee, MAX_FEE_BPS));
                vm.prank(owner);
                market.setFee(uint16(fee));
                return;
            }
            vm.prank(owner);
            market.setFee(uint16(fee));
            feeBps = fee;
            ++okCalls["setFee"];
        } else if (kind == 1) {
            address t = seed % 2 == 0 ? treasury1 : treasury2;
            vm.prank(owner);
            market.setTreasury(t);
            treasury = t;
            ++okCalls["setTreasury"];
        } else if (kind == 2) {
            address token = seed % 2 == 0 ? address(tokenA) : address(tokenB);
            bool allow = _roll(seed, 20, 4) != 0; // mostly allowed
            vm.prank(owner);
            market.setAssetAllowed(token, allow);
            allowed[token] = allow;
            ++okCalls["setAssetAllowed"];
        } else {
            uint256 m = _roll(seed, 21, 8);
            address f = m == 0 ? address(0) : m % 2 == 0 ? address(feed8) : address(feed18);
            uint32 maxAge = f == address(0) ? 0 : uint32(1 hours);
            vm.prank(owner);
            market.setUsdFeed(f, maxAge);
            usdFeed = f;
            feedMaxAge = maxAge;
            ++okCalls["setUsdFeed"];
        }
    }

    /// @notice Unpauses a paused market; pauses a running one one time in six. One call in eight repeats the
    /// current state instead and must be refused.
    function togglePause(uint256 seed) external step {
        bool repeat = _roll(seed, 22, 8) == 0;
        if (!repeat && !paused && _roll(seed, 23, 6) != 0) return;
        bool toPaused = repeat ? paused : !paused;
        if (repeat) _expectRevert("pause", abi.encodeWithSelector(IMarket.PauseUnchanged.selector, paused));
        vm.prank(owner);
        if (toPaused) market.pause();
        else market.unpause();
        if (repeat) return;
        paused = toPaused;
        ++okCalls[toPaused ? bytes32("pause") : bytes32("unpause")];
    }

    /* TIME */

    /// @notice Lets time pass: often up to two hours, sometimes one to two days.
    function warp(uint256 secs) external step {
        secs = _roll(secs, 24, 4) == 0 ? _bound(secs, 1 days, 2 days) : _bound(secs, 1, 2 hours);
        now_ += secs;
        ++okCalls["warp"];
    }

    /// @notice Lets time pass to a moment that matters for a live booking, given its status (or, one time in eight,
    /// for a host's unbonding): Booked: the late-cancel cutoff, just before the start, the no-show point; Active:
    /// mid-session, the end, the report deadline, the settle point; Reported: the end of the dispute window;
    /// Disputed: the arbiter's deadline. Lands a little after (or one time in four before) the moment; never goes
    /// backwards.
    function warpTo(uint256 seed, uint256 phase, uint256 jitter) external step {
        uint256 target;
        jitter = _bound(jitter, 0, 5 minutes);
        if (_roll(phase, 25, 8) == 0 || bookingCount == 0) {
            target = _hosts[_pickHost(seed, _unbonding)].unbondAt;
        } else {
            GBooking storage b = _bookings[_pick(seed, _live)];
            uint256 p = _roll(phase, 26, 4);
            if (b.status == Status.Booked) {
                target = p == 0 ? b.start - _min(CANCEL_CUTOFF, b.start) : p == 1 ? b.start - 1 : b.start + GRACE;
            } else if (b.status == Status.Active) {
                target = p == 0
                    ? b.start + (b.end - b.start) / 2
                    : p == 1 ? b.end : p == 2 ? b.end + REPORT_GRACE : b.end + REPORT_GRACE + DISPUTE_WINDOW;
            } else if (b.status == Status.Reported) {
                target = b.stamp + DISPUTE_WINDOW;
            } else {
                target = b.stamp + ARBITER_DEADLINE;
            }
        }
        if (_roll(jitter, 27, 4) != 0) target += jitter;
        else if (target > jitter) target -= jitter;
        if (target <= now_) return;
        now_ = target;
        ++okCalls["warpTo"];
    }

    function _live(uint256 id) internal view returns (bool) {
        return !_isTerminal(_bookings[id].status);
    }

    /* MODEL EFFECTS */

    function _credit(address who, address asset, uint256 amount) internal {
        ghostCredit[who][asset] += amount;
    }

    function _close(uint256 id, Status s) internal {
        GBooking storage b = _bookings[id];
        b.status = s;
        ghostEscrow[b.asset] -= b.price;
        --_hosts[b.hostId].open;
    }

    function _slash(uint256 id, uint256 amount) internal {
        GBooking storage b = _bookings[id];
        _hosts[b.hostId].bond -= amount;
        ghostBonds -= amount;
        _credit(b.borrower, address(0), amount);
    }

    function _noShowModel(uint256 id) internal {
        GBooking storage b = _bookings[id];
        _slash(id, _min(NO_SHOW_SLASH, _hosts[b.hostId].bond));
        _credit(b.borrower, b.asset, b.price);
        _close(id, Status.NoShow);
    }

    function _settleRipeModel(uint256 id) internal {
        GBooking storage b = _bookings[id];
        // Active: never reported, full use of the (possibly shortened) session. Reported: the report stands.
        // Disputed past the arbiter's deadline: the claim stands, no slash.
        _settleModel(id, b.status == Status.Active ? _sessionEnd(b) - b.start : b.used);
    }

    /// @dev lender gets floor(price·used/duration) less floor(that·fee/10000), the treasury of the moment the fee,
    /// the borrower the rest.
    function _settleModel(uint256 id, uint256 used) internal {
        GBooking storage b = _bookings[id];
        uint256 gross = b.price * used / (b.end - b.start);
        uint256 fee = gross * b.feeBps / BPS;
        _credit(_hosts[b.hostId].lender, b.asset, gross - fee);
        _credit(treasury, b.asset, fee);
        _credit(b.borrower, b.asset, b.price - gross);
        b.used = used;
        _close(id, Status.Settled);
    }

    /* HELPERS */

    function _expectRevert(bytes32 action, bytes memory err) internal returns (bool) {
        if (err.length == 0) return false;
        ++predictedReverts[action];
        ++revertsByError[bytes4(err)];
        vm.expectRevert(err);
        return true;
    }

    /// @dev A booking (host, listing) for which `ok` holds, searching from the seed; one pick in eight (or when none
    /// qualifies) is just the seed's own, valid or not, so that the refusals are exercised too.
    function _pick(uint256 seed, function(uint256) internal view returns (bool) ok) internal view returns (uint256) {
        return _pickFrom(seed, bookingCount, ok);
    }

    function _pickFrom(uint256 seed, uint256 n, function(uint256) internal view returns (bool) ok)
        internal
        view
        returns (uint256)
    {
        uint256 first = seed % n;
        if (_roll(seed, 0xc4a05, 8) == 0) return 1 + first;
        for (uint256 i; i < n; ++i) {
            uint256 id = 1 + (first + i) % n;
            if (ok(id)) return id;
        }
        return 1 + first;
    }

    function _pickHost(uint256 seed, function(uint256) internal view returns (bool) ok)
        internal
        view
        returns (uint256)
    {
        return _pickFrom(seed, hostCount, ok);
    }

    function _pickListing(uint256 seed, function(uint256) internal view returns (bool) ok)
        internal
        view
        returns (uint256)
    {
        return _pickFrom(seed, listingCount, ok);
    }

    /// @dev A roll in [0, n) from a seed. Fuzzed seeds are often small dictionary values (0, 1, ...), so modes are
    /// taken from a hash of the seed rather than from its low bits.
    function _roll(uint256 seed, uint256 salt, uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt))) % n;
    }

    /// @dev The intended caller, or one time in eight someone else (who may be refused).
    function _callerOr(address intended, uint256 seed) internal view returns (address) {
        return _roll(seed, 0xca11, 8) == 0 ? _actor(seed) : intended;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _isLender(address a) internal view returns (bool) {
        for (uint256 i; i < _lenders.length; ++i) {
            if (_lenders[i] == a) return true;
        }
        return false;
    }

    function _isAgent(address a) internal view returns (bool) {
        for (uint256 i; i < _agents.length; ++i) {
            if (_agents[i] == a) return true;
        }
        return false;
    }

    function _agentOf(uint256 id) internal view returns (address) {
        return _hosts[_bookings[id].hostId].agent;
    }

    function _sessionEnd(GBooking storage b) internal view returns (uint256) {
        return b.endedAt == 0 ? b.end : b.endedAt;
    }

    /// @dev When settle() may move the booking (0: never from this status).
    function _settleRipeAt(GBooking storage b) internal view returns (uint256) {
        if (b.status == Status.Reported) return b.stamp + DISPUTE_WINDOW;
        if (b.status == Status.Active) return b.end + REPORT_GRACE + DISPUTE_WINDOW;
        if (b.status == Status.Disputed) return b.stamp + ARBITER_DEADLINE;
        return 0;
    }

    function _isTerminal(Status s) internal pure returns (bool) {
        return s == Status.Settled || s == Status.Cancelled || s == Status.Declined || s == Status.NoShow;
    }

    /// @dev Holds its calendar slots: everything but the refunding ends (settled bookings keep theirs).
    function _isLive(Status s) internal pure returns (bool) {
        return s != Status.None && s != Status.Cancelled && s != Status.Declined && s != Status.NoShow;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /* VIEWS FOR THE INVARIANTS */

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function assets() external view returns (address[] memory) {
        return _assets;
    }

    function lenders() external view returns (address[] memory) {
        return _lenders;
    }

    function ghostHost(uint256 id) external view returns (GHost memory) {
        return _hosts[id];
    }

    function ghostListing(uint256 id) external view returns (GListing memory) {
        return _listings[id];
    }

    function ghostBooking(uint256 id) external view returns (GBooking memory) {
        return _bookings[id];
    }
}
