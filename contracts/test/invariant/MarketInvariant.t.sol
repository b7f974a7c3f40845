// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";
import {MarketHandler} from "./MarketHandler.sol";
import {Status, Booking, Host} from "../../src/interfaces/IMarket.sol";
import {TestToken} from "../../src/mocks/TestToken.sol";

/// @notice Invariants of the market under random sequences of every action (see MarketHandler).
/// Sums run over the handler's own lists of actors, hosts and bookings; no aggregate kept by the market is trusted.
contract MarketInvariantTest is MarketFixture {
    MarketHandler internal handler;
    TestToken internal token18;
    MockV3Aggregator internal feed18;
    bytes4[] internal _selectors;

    function setUp() public override {
        super.setUp();
        token18 = new TestToken("Test Eighteen", "t18", 18);
        feed18 = new MockV3Aggregator(18, 3000e18);
        vm.prank(owner);
        market.setAssetAllowed(address(token18), true);

        address[] memory lenders = new address[](3);
        lenders[0] = lender;
        lenders[1] = makeAddr("lender2");
        lenders[2] = makeAddr("lender3");
        address[] memory agents = new address[](4);
        agents[0] = agent;
        agents[1] = makeAddr("agent2");
        agents[2] = makeAddr("agent3");
        agents[3] = makeAddr("agent4");
        address[] memory borrowers = new address[](4);
        borrowers[0] = borrower;
        borrowers[1] = makeAddr("borrower2");
        borrowers[2] = makeAddr("borrower3");
        borrowers[3] = makeAddr("borrower4");

        // The fixture's host is bonded at exactly the minimum; give it room for a few slashes before it stops taking
        // bookings (hosts whose bond falls below the minimum still occur, and get topped up by bondAction).
        vm.prank(lender);
        market.depositBond{value: 4 * MIN_BOND}(hostId);

        handler = new MarketHandler(
            MarketHandler.Setup({
                market: market,
                tokenA: token,
                tokenB: token18,
                feed8: feed,
                feed18: feed18,
                owner: owner,
                arbiter: arbiter,
                stranger: stranger,
                treasury2: makeAddr("treasury2"),
                lenders: lenders,
                agents: agents,
                borrowers: borrowers
            })
        );

        // Every action is a target; a selector listed k times is picked k times as often, so that the steps of a
        // booking's life (and the warps between them) come often enough for whole lives to happen within a run.
        _target(MarketHandler.registerHost.selector, 1);
        _target(MarketHandler.bondAction.selector, 2);
        _target(MarketHandler.createListing.selector, 1);
        _target(MarketHandler.listingAdmin.selector, 1);
        _target(MarketHandler.book.selector, 6);
        _target(MarketHandler.bookNear.selector, 1);
        _target(MarketHandler.activate.selector, 2);
        _target(MarketHandler.decline.selector, 1);
        _target(MarketHandler.cancel.selector, 2);
        _target(MarketHandler.endSession.selector, 1);
        _target(MarketHandler.report.selector, 1);
        _target(MarketHandler.dispute.selector, 1);
        _target(MarketHandler.resolveDispute.selector, 1);
        _target(MarketHandler.claimNoShow.selector, 1);
        _target(MarketHandler.settle.selector, 1);
        _target(MarketHandler.performUpkeep.selector, 2);
        _target(MarketHandler.withdraw.selector, 2);
        _target(MarketHandler.updateFeed.selector, 2);
        _target(MarketHandler.ownerAction.selector, 1);
        _target(MarketHandler.togglePause.selector, 2);
        _target(MarketHandler.warp.selector, 3);
        _target(MarketHandler.warpTo.selector, 2);
        _target(MarketHandler.advance.selector, 10);
        targetSelector(FuzzSelector({addr: address(handler), selectors: _selectors}));
        targetContract(address(handler));
    }

    function _target(bytes4 selector, uint256 weight) internal {
        for (uint256 i; i < weight; ++i) {
            _selectors.push(selector);
        }
    }

    /* (a) SOLVENCY */

    /// @notice Per asset, the market's balance is exactly the escrow of non-terminal bookings, plus every actor's
    /// credit (treasuries included), plus (native only) every host's bond, summed over the handler's lists from the
    /// market's per-booking, per-actor and per-host views; and it equals everything ever paid in less everything ever
    /// paid out, as the handler counted it, which the handler's model splits the same way.
    function invariant_a_balanceIsEscrowPlusCreditsPlusBonds() public view {
        _assertBacked();
        // The same identity in the model alone (escrow, credits and bonds as the rules say they must be), and the
        // market's balance against the money the handler saw go in and out.
        address[] memory assets = handler.assets();
        address[] memory actors = handler.actors();
        for (uint256 i; i < assets.length; ++i) {
            uint256 credited;
            for (uint256 k; k < actors.length; ++k) {
                credited += handler.ghostCredit(actors[k], assets[i]);
            }
            uint256 flow = handler.ghostIn(assets[i]) - handler.ghostOut(assets[i]);
            assertEq(
                flow,
                handler.ghostEscrow(assets[i]) + credited + (assets[i] == address(0) ? handler.ghostBonds() : 0),
                "model: paid in - paid out != escrow + credits + bonds"
            );
            assertEq(_balance(assets[i]), flow, "balance != paid in - paid out");
        }
    }

    function _assertBacked() internal view {
        address[] memory assets = handler.assets();
        address[] memory actors = handler.actors();
        uint256[] memory escrow = new uint256[](assets.length);
        uint256 n = handler.bookingCount();
        for (uint256 id = 1; id <= n; ++id) {
            Booking memory b = market.getBooking(id);
            if (_isTerminal(b.status)) continue;
            address asset = market.getListing(b.listingId).asset;
            for (uint256 i; i < assets.length; ++i) {
                if (assets[i] == asset) escrow[i] += b.price;
            }
        }
        uint256 bonds;
        for (uint256 h = 1; h <= handler.hostCount(); ++h) {
            bonds += market.getHost(h).bond;
        }
        for (uint256 i; i < assets.length; ++i) {
            uint256 credited;
            for (uint256 k; k < actors.length; ++k) {
                credited += market.credits(actors[k], assets[i]);
            }
            assertEq(
                _balance(assets[i]),
                escrow[i] + credited + (assets[i] == address(0) ? bonds : 0),
                "balance != escrow + credits + bonds"
            );
        }
    }

    /* (b) STATUSES */

    /// @notice Every booking id the handler created exists and is in one of Booked..NoShow (never None), the market
    /// counts exactly those, the status is the one the model predicts, and, as observed after every action, no
    /// terminal status ever changed and every change followed the booking life.
    function invariant_b_statusesValidAndTerminalsFinal() public view {
        uint256 n = handler.bookingCount();
        assertEq(market.bookingCount(), n, "booking count");
        for (uint256 id = 1; id <= n; ++id) {
            Status s = market.getBooking(id).status;
            assertTrue(s >= Status.Booked && s <= Status.NoShow, "status out of range");
            // The handler's record is current, so its terminal-change tracking below is not vacuous.
            assertEq(uint8(s), uint8(handler.lastSeen(id)), "handler's last-seen status is stale");
            assertEq(uint8(s), uint8(handler.ghostBooking(id).status), "status differs from the model");
        }
        assertEq(handler.terminalChanges(), 0, "a terminal status changed");
        assertEq(handler.illegalTransitions(), 0, "a status change off the booking life");
        // Every id below the upkeep cursor is terminal (the keeper never skips a live booking).
        uint256 cursor = market.upkeepCursor();
        assertEq(cursor, handler.ghostCursor(), "upkeep cursor");
        for (uint256 id = 1; id < cursor; ++id) {
            assertTrue(_isTerminal(market.getBooking(id).status), "upkeep cursor passed a live booking");
        }
    }

    /* (c) CALENDARS */

    /// @notice No two live bookings (anything but Cancelled, Declined, NoShow) on one listing overlap, and each
    /// listing's calendar bitmap holds exactly the slots of its live bookings, in every word any booking touched.
    function invariant_c_noOverlapAndExactCalendars() public view {
        uint256 n = handler.bookingCount();
        Booking[] memory bs = new Booking[](n + 1);
        for (uint256 id = 1; id <= n; ++id) {
            bs[id] = market.getBooking(id);
        }
        for (uint256 i = 1; i <= n; ++i) {
            if (!_isLive(bs[i].status)) continue;
            for (uint256 j = i + 1; j <= n; ++j) {
                if (!_isLive(bs[j].status) || bs[j].listingId != bs[i].listingId) continue;
                assertTrue(bs[i].end <= bs[j].start || bs[j].end <= bs[i].start, "two live bookings overlap");
            }
        }
        for (uint256 i = 1; i <= n; ++i) {
            uint256 firstWord = bs[i].start / SLOT >> 8;
            uint256 lastWord = (bs[i].end / SLOT - 1) >> 8;
            for (uint256 w = firstWord; w <= lastWord; ++w) {
                assertEq(
                    market.calendarWord(bs[i].listingId, w),
                    _expectedWord(bs, bs[i].listingId, w),
                    "calendar word differs from the live bookings"
                );
            }
        }
    }

    /// @dev The word `w` of a listing's calendar as its live bookings alone say it must be.
    function _expectedWord(Booking[] memory bs, uint256 listingId, uint256 w) internal pure returns (uint256 bits) {
        uint256 lo = w << 8;
        uint256 hi = lo + 256;
        for (uint256 k = 1; k < bs.length; ++k) {
            if (bs[k].listingId != listingId || !_isLive(bs[k].status)) continue;
            uint256 s0 = bs[k].start / SLOT;
            uint256 s1 = bs[k].end / SLOT;
            if (s1 <= lo || s0 >= hi) continue;
            uint256 from = (s0 < lo ? lo : s0) - lo;
            uint256 to = (s1 > hi ? hi : s1) - lo;
            bits |= to - from == 256 ? type(uint256).max : ((uint256(1) << (to - from)) - 1) << from;
        }
    }

    /* (d) LIVENESS */

    /// @notice Once time passes, every booking reaches a terminal state through permissionless calls alone (a
    /// stranger's claimNoShow/settle, and a keeper's checkUpkeep/performUpkeep), solvency still holds, and then every
    /// credit and every bond can be withdrawn until the market holds nothing. Explored on a snapshot, then reverted.
    function invariant_d_everyBookingEndsPermissionlessly() public {
        uint256 snap = vm.snapshotState();
        uint256 n = market.bookingCount();
        // Past every start + grace, end + reportGrace + disputeWindow, and arbiter deadline (windows start within
        // the 365-day horizon and last at most a few hours).
        vm.warp(handler.now_() + 400 days);

        // Half the live bookings by direct calls from a stranger...
        for (uint256 id = 1; id <= n; id += 2) {
            Status s = market.getBooking(id).status;
            if (_isTerminal(s)) continue;
            assertTrue(market.isRipe(id), "a live booking is not ripe long after its window");
            vm.prank(stranger);
            if (s == Status.Booked) market.claimNoShow(id);
            else market.settle(id);
        }
        // ...the rest by the keeper loop alone.
        for (uint256 rounds; rounds <= n / 20 + 1; ++rounds) {
            (bool needed, bytes memory data) = market.checkUpkeep("");
            if (!needed) break;
            vm.prank(stranger);
            market.performUpkeep(data);
        }
        (bool stillNeeded,) = market.checkUpkeep("");
        assertFalse(stillNeeded, "upkeep still needed after the keeper loop");
        for (uint256 id = 1; id <= n; ++id) {
            assertTrue(_isTerminal(market.getBooking(id).status), "a booking is stuck in a live state");
        }
        for (uint256 h = 1; h <= market.hostCount(); ++h) {
            assertEq(market.getHost(h).openBookings, 0, "open bookings left on a host");
        }
        _assertBacked();

        // Nothing is stuck: every credit leaves, then every bond.
        _drain();
        vm.revertToState(snap);
    }

    function _drain() internal {
        address[] memory assets = handler.assets();
        address[] memory actors = handler.actors();
        for (uint256 k; k < actors.length; ++k) {
            for (uint256 i; i < assets.length; ++i) {
                uint256 credit = market.credits(actors[k], assets[i]);
                if (credit == 0) continue;
                uint256 before = _balanceOf(actors[k], assets[i]);
                vm.prank(actors[k]);
                assertEq(market.withdraw(assets[i]), credit);
                assertEq(_balanceOf(actors[k], assets[i]) - before, credit, "withdrawal did not arrive");
            }
        }
        uint256 hosts = market.hostCount();
        uint256 bonds;
        for (uint256 h = 1; h <= hosts; ++h) {
            Host memory host = market.getHost(h);
            bonds += host.bond;
            if (host.unbondAt == 0) {
                vm.prank(host.lender);
                market.requestUnbond(h);
            }
        }
        for (uint256 i = 1; i < assets.length; ++i) {
            assertEq(_balance(assets[i]), 0, "tokens left after every credit was withdrawn");
        }
        assertEq(_balance(address(0)), bonds, "native left beyond the bonds");
        vm.warp(handler.now_() + 400 days + UNBONDING_DELAY);
        for (uint256 h = 1; h <= hosts; ++h) {
            Host memory host = market.getHost(h);
            if (host.bond == 0) continue;
            vm.prank(host.lender);
            market.withdrawBond(h, host.bond);
        }
        assertEq(_balance(address(0)), 0, "native left after every bond was withdrawn");
    }

    /* (e) THE MODEL */

    /// @notice The market's accounts equal the handler's model, computed from the rules alone: every actor's credit
    /// in every asset, every host's bond, unbonding time and open-booking count, every booking's escrow, window,
    /// borrower, fee and usage, and the owner's settings.
    function invariant_e_marketMatchesModel() public view {
        address[] memory assets = handler.assets();
        address[] memory actors = handler.actors();
        for (uint256 k; k < actors.length; ++k) {
            for (uint256 i; i < assets.length; ++i) {
                assertEq(
                    market.credits(actors[k], assets[i]), handler.ghostCredit(actors[k], assets[i]), "credit vs model"
                );
            }
        }
        assertEq(market.hostCount(), handler.hostCount(), "host count");
        for (uint256 h = 1; h <= handler.hostCount(); ++h) {
            Host memory host = market.getHost(h);
            MarketHandler.GHost memory g = handler.ghostHost(h);
            assertEq(host.lender, g.lender);
            assertEq(host.agent, g.agent);
            assertEq(host.bond, g.bond, "bond vs model");
            assertEq(host.unbondAt, g.unbondAt, "unbondAt vs model");
            assertEq(host.openBookings, g.open, "open bookings vs model");
        }
        assertEq(market.listingCount(), handler.listingCount(), "listing count");
        for (uint256 id = 1; id <= handler.bookingCount(); ++id) {
            Booking memory b = market.getBooking(id);
            MarketHandler.GBooking memory g = handler.ghostBooking(id);
            assertEq(b.price, g.price, "escrow vs model");
            assertEq(b.borrower, g.borrower);
            assertEq(b.listingId, g.listingId);
            assertEq(b.start, g.start);
            assertEq(b.end, g.end);
            assertEq(b.feeBps, g.feeBps, "booking fee vs model");
            assertEq(b.endedAt, g.endedAt, "endedAt vs model");
            if (b.status == Status.Reported || b.status == Status.Disputed || b.status == Status.Settled) {
                assertEq(b.usedSeconds, g.used, "usage vs model");
            }
        }
        for (uint256 i; i < assets.length; ++i) {
            uint256 escrow;
            for (uint256 id = 1; id <= handler.bookingCount(); ++id) {
                MarketHandler.GBooking memory g = handler.ghostBooking(id);
                if (!_isTerminal(g.status) && g.asset == assets[i]) escrow += g.price;
            }
            assertEq(escrow, handler.ghostEscrow(assets[i]), "model escrow total");
        }
        assertEq(market.feeBps(), handler.feeBps(), "fee");
        assertEq(market.treasury(), handler.treasury(), "treasury");
        assertEq(market.paused(), handler.paused(), "paused");
        assertEq(address(market.usdFeed()), handler.usdFeed(), "feed");
    }

    /* HELPERS */

    function _balance(address asset) internal view returns (uint256) {
        return _balanceOf(address(market), asset);
    }

    function _balanceOf(address who, address asset) internal view returns (uint256) {
        return asset == address(0) ? who.balance : TestToken(asset).balanceOf(who);
    }

    function _isTerminal(Status s) internal pure returns (bool) {
        return s == Status.Settled || s == Status.Cancelled || s == Status.Declined || s == Status.NoShow;
    }

    function _isLive(Status s) internal pure returns (bool) {
        return s != Status.None && s != Status.Cancelled && s != Status.Declined && s != Status.NoShow;
    }
}
