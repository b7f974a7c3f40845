// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarketTest} from "../utils/IMarketTest.sol";
import {IMarket, Status, Host, MarketParams} from "../../src/interfaces/IMarket.sol";

contract NoShowTest is UnitBase {
    function test_claimNoShow_revertsBeforeActivationGraceEnds() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, start + ACTIVATION_GRACE));
        market.claimNoShow(id);
    }

    function test_claimNoShow_refundsAndSlashesToBorrower() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE);

        vm.expectEmit(address(market));
        emit IMarket.NoShowClaimed(id, stranger, PRICE_PER_HOUR, NO_SHOW_SLASH);
        vm.expectEmit(address(market));
        emit IMarket.BondSlashed(hostId, id, borrower, NO_SHOW_SLASH, MIN_BOND - NO_SHOW_SLASH);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), NO_SHOW_SLASH);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), PRICE_PER_HOUR);
        vm.recordLogs();
        vm.prank(stranger);
        market.claimNoShow(id);
        assertEq(vm.getRecordedLogs().length, 4);

        assertEq(uint8(statusOf(id)), uint8(Status.NoShow));
        Host memory h = host();
        assertEq(h.noShows, 1);
        assertEq(h.openBookings, 0);
        assertEq(h.completed, 0);
        assertEq(h.bond, MIN_BOND - NO_SHOW_SLASH);
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR + NO_SHOW_SLASH);
        assertEq(nativeCredit(lender), 0);
        assertEq(nativeCredit(treasury), 0);
        assertEq(address(market).balance, MIN_BOND + PRICE_PER_HOUR);
        assertTrue(market.isFree(listingId, start, end));
    }

    function test_claimNoShow_borrowerMayClaim() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE);
        vm.expectEmit(address(market));
        emit IMarket.NoShowClaimed(id, borrower, PRICE_PER_HOUR, NO_SHOW_SLASH);
        vm.prank(borrower);
        market.claimNoShow(id);
    }

    function test_claimNoShow_slashCappedByRemainingBond() public {
        (uint256 a,,) = disputedAtEnd(DURATION);
        (uint256 b, uint40 startB,) = bookNative(3 days, 4);
        vm.prank(arbiter);
        market.resolveDispute(a, DURATION, MIN_BOND - 0.05 ether);
        assertEq(host().bond, 0.05 ether);

        vm.warp(startB + ACTIVATION_GRACE);
        vm.expectEmit(address(market));
        emit IMarket.NoShowClaimed(b, address(this), PRICE_PER_HOUR, 0.05 ether);
        vm.expectEmit(address(market));
        emit IMarket.BondSlashed(hostId, b, borrower, 0.05 ether, 0);
        market.claimNoShow(b);
        assertEq(host().bond, 0);
        assertEq(nativeCredit(borrower), MIN_BOND + PRICE_PER_HOUR);
    }

    function test_claimNoShow_emptyBondSlashesNothing() public {
        (uint256 a,,) = disputedAtEnd(DURATION);
        (uint256 b, uint40 startB,) = bookNative(3 days, 4);
        vm.prank(arbiter);
        market.resolveDispute(a, DURATION, MIN_BOND);

        vm.warp(startB + ACTIVATION_GRACE);
        vm.expectEmit(address(market));
        emit IMarket.NoShowClaimed(b, address(this), PRICE_PER_HOUR, 0);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), PRICE_PER_HOUR);
        vm.recordLogs();
        market.claimNoShow(b);
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(host().noShows, 1);
    }

    /// @dev A deployment whose no-show slash exceeds the minimum bond takes the whole bond and no more.
    function test_claimNoShow_slashLargerThanBondTakesWholeBond() public {
        MarketParams memory p = defaultParams();
        p.noShowSlash = 5 ether;
        IMarketTest m = deployMarket(p, owner, treasury, arbiter, FEE_BPS);
        vm.prank(lender);
        uint256 h = m.registerHost{value: MIN_BOND}(agent, "");
        vm.prank(lender);
        uint256 lid = m.createListing(h, gpuHardware(), address(0), false, PRICE_PER_HOUR, 1, 8, 0, "");
        uint40 start = slotAfter(1 days);
        vm.prank(borrower);
        uint256 id = m.book{value: PRICE_PER_HOUR}(lid, start, start + 4 * SLOT, SESSION_KEY, SSH_KEY);

        vm.warp(start + ACTIVATION_GRACE);
        vm.expectEmit(address(m));
        emit IMarket.NoShowClaimed(id, address(this), PRICE_PER_HOUR, MIN_BOND);
        vm.expectEmit(address(m));
        emit IMarket.BondSlashed(h, id, borrower, MIN_BOND, 0);
        m.claimNoShow(id);
        assertEq(m.getHost(h).bond, 0);
        assertEq(m.credits(borrower, address(0)), MIN_BOND + PRICE_PER_HOUR);
        assertEq(address(m).balance, MIN_BOND + PRICE_PER_HOUR);

        // Without a bond the host takes no new bookings.
        uint40 next = slotAfter(1 days);
        vm.expectRevert(abi.encodeWithSelector(IMarket.InsufficientBond.selector, 0, MIN_BOND));
        vm.prank(borrower);
        m.book{value: PRICE_PER_HOUR}(lid, next, next + 4 * SLOT, SESSION_KEY, SSH_KEY);
    }

    function test_claimNoShow_tokenBookingRefundsTokenAndSlashesNative() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        uint256 id = bookAs(borrower, tl, start, start + 4 * SLOT);
        vm.warp(start + ACTIVATION_GRACE);

        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), NO_SHOW_SLASH);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(token), 2e6);
        market.claimNoShow(id);
        assertEq(tokenCredit(borrower), 2e6);
        assertEq(nativeCredit(borrower), NO_SHOW_SLASH);
    }

    function test_claimNoShow_revertsOnActivatedBooking() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + ACTIVATION_GRACE);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Active));
        market.claimNoShow(id);
    }

    function test_claimNoShow_revertsWhenAlreadyClaimed() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE);
        market.claimNoShow(id);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.NoShow));
        market.claimNoShow(id);
        assertEq(host().noShows, 1);
    }

    function test_claimNoShow_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 2));
        market.claimNoShow(2);
    }

    function test_claimNoShow_worksWhilePaused() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.prank(owner);
        market.pause();
        vm.warp(start + ACTIVATION_GRACE);
        market.claimNoShow(id);
        assertEq(uint8(statusOf(id)), uint8(Status.NoShow));
    }
}
