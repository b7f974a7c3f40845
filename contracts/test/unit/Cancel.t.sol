// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Status} from "../../src/interfaces/IMarket.sol";

contract CancelTest is UnitBase {
    // Late cancellation of the default booking: 20% of 0.01 ether to the lender, 2.5% of that to the treasury.
    uint256 internal constant LATE_FEE = 0.002 ether;
    uint256 internal constant LATE_PLATFORM = 0.000_05 ether;
    uint256 internal constant LATE_LENDER = LATE_FEE - LATE_PLATFORM;
    uint256 internal constant LATE_REFUND = PRICE_PER_HOUR - LATE_FEE;

    function test_cancel_freeFromBookedAtCutoff() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();
        vm.warp(start - CANCEL_CUTOFF);

        vm.expectEmit(address(market));
        emit IMarket.BookingCancelled(id, PRICE_PER_HOUR, 0, 0);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), PRICE_PER_HOUR);
        vm.recordLogs();
        vm.prank(borrower);
        market.cancel(id);
        assertEq(vm.getRecordedLogs().length, 2);

        assertEq(uint8(statusOf(id)), uint8(Status.Cancelled));
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
        assertEq(nativeCredit(lender), 0);
        assertEq(nativeCredit(treasury), 0);
        assertEq(host().openBookings, 0);
        assertTrue(market.isFree(listingId, start, end));
    }

    function test_cancel_freeFromActive() public {
        (uint256 id,,) = bookDefault();
        activateAsAgent(id);

        vm.expectEmit(address(market));
        emit IMarket.BookingCancelled(id, PRICE_PER_HOUR, 0, 0);
        vm.prank(borrower);
        market.cancel(id);

        assertEq(uint8(statusOf(id)), uint8(Status.Cancelled));
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
        assertEq(host().openBookings, 0);
    }

    function test_cancel_lateFromBookedChargesFee() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();
        vm.warp(start - CANCEL_CUTOFF + 1);

        vm.expectEmit(address(market));
        emit IMarket.BookingCancelled(id, LATE_REFUND, LATE_LENDER, LATE_PLATFORM);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), LATE_REFUND);
        vm.expectEmit(address(market));
        emit IMarket.Credited(lender, address(0), LATE_LENDER);
        vm.expectEmit(address(market));
        emit IMarket.Credited(treasury, address(0), LATE_PLATFORM);
        vm.prank(borrower);
        market.cancel(id);

        assertEq(nativeCredit(borrower), 0.008 ether);
        assertEq(nativeCredit(lender), 0.001_95 ether);
        assertEq(nativeCredit(treasury), 0.000_05 ether);
        assertEq(host().openBookings, 0);
        assertEq(host().completed, 0);
        assertTrue(market.isFree(listingId, start, end));
    }

    function test_cancel_lateFromActiveJustBeforeStart() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start - 1);

        vm.expectEmit(address(market));
        emit IMarket.BookingCancelled(id, LATE_REFUND, LATE_LENDER, LATE_PLATFORM);
        vm.prank(borrower);
        market.cancel(id);
        assertEq(uint8(statusOf(id)), uint8(Status.Cancelled));
        assertEq(nativeCredit(borrower), LATE_REFUND);
        assertEq(nativeCredit(lender), LATE_LENDER);
        assertEq(nativeCredit(treasury), LATE_PLATFORM);
    }

    function test_cancel_lateFeeRoundsDownAndAddsUp() public {
        uint256 odd = createListing(address(0), false, 333);
        uint40 start = slotAfter(2 hours);
        uint256 id = bookAs(borrower, odd, start, start + 4 * SLOT);

        // 20% of 333 = 66.6 -> 66; 2.5% of 66 = 1.65 -> 1.
        vm.expectEmit(address(market));
        emit IMarket.BookingCancelled(id, 267, 65, 1);
        vm.prank(borrower);
        market.cancel(id);
        assertEq(nativeCredit(borrower), 267);
        assertEq(nativeCredit(lender), 65);
        assertEq(nativeCredit(treasury), 1);
    }

    function test_cancel_lateUsesFeeSnapshotFromBooking() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.prank(owner);
        market.setFee(1000);
        vm.warp(start - 1 hours);
        vm.prank(borrower);
        market.cancel(id);
        assertEq(nativeCredit(treasury), LATE_PLATFORM);
        assertEq(nativeCredit(lender), LATE_LENDER);
    }

    function test_cancel_lateOnTokenBookingCreditsToken() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 hours);
        uint256 id = bookAs(borrower, tl, start, start + 4 * SLOT);

        vm.expectEmit(address(market));
        emit IMarket.BookingCancelled(id, 1_600_000, 390_000, 10_000);
        vm.prank(borrower);
        market.cancel(id);
        assertEq(tokenCredit(borrower), 1_600_000);
        assertEq(tokenCredit(lender), 390_000);
        assertEq(tokenCredit(treasury), 10_000);
        assertEq(nativeCredit(borrower), 0);
    }

    function test_cancel_freedWindowCanBeRebooked() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
        uint256 id2 = bookAs(stranger, listingId, start, end);
        assertEq(bookingOf(id2).borrower, stranger);
        assertEq(host().openBookings, 1);
    }

    function test_cancel_revertsWhenNotBorrower() public {
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotBorrower.selector, id, lender));
        vm.prank(lender);
        market.cancel(id);
    }

    function test_cancel_revertsAtStart() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, start));
        vm.prank(borrower);
        market.cancel(id);
    }

    function test_cancel_revertsWhenAlreadyCancelled() public {
        (uint256 id,,) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Cancelled));
        vm.prank(borrower);
        market.cancel(id);
    }

    function test_cancel_revertsOnReportedBooking() public {
        (uint256 id,,) = reportedAtEnd(DURATION);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Reported));
        vm.prank(borrower);
        market.cancel(id);
    }

    function test_cancel_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 3));
        vm.prank(borrower);
        market.cancel(3);
    }

    function test_cancel_worksWhilePaused() public {
        (uint256 id,,) = bookDefault();
        vm.prank(owner);
        market.pause();
        vm.prank(borrower);
        market.cancel(id);
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
    }
}
