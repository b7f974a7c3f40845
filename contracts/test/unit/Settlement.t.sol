// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Status, Booking, Host} from "../../src/interfaces/IMarket.sol";

contract SettlementTest is UnitBase {
    // Full use of the default booking: 0.01 ether, 2.5% to the treasury.
    uint256 internal constant FULL_LENDER = 0.009_75 ether;
    uint256 internal constant FULL_FEE = 0.000_25 ether;

    /* Reported -> Settled */

    function test_settle_reportedRevertsBeforeDisputeWindowEnds() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.warp(end + DISPUTE_WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, end + DISPUTE_WINDOW));
        market.settle(id);
    }

    function test_settle_reportedFullUsePaysLender() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.warp(end + DISPUTE_WINDOW);

        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, stranger, DURATION, FULL_LENDER, FULL_FEE, 0);
        vm.expectEmit(address(market));
        emit IMarket.Credited(lender, address(0), FULL_LENDER);
        vm.expectEmit(address(market));
        emit IMarket.Credited(treasury, address(0), FULL_FEE);
        vm.recordLogs();
        vm.prank(stranger);
        market.settle(id);
        assertEq(vm.getRecordedLogs().length, 3);

        Booking memory b = bookingOf(id);
        assertEq(uint8(b.status), uint8(Status.Settled));
        assertEq(b.usedSeconds, DURATION);
        Host memory h = host();
        assertEq(h.completed, 1);
        assertEq(h.secondsServed, DURATION);
        assertEq(h.openBookings, 0);
        assertEq(h.disputesLost, 0);
        assertEq(nativeCredit(lender), FULL_LENDER);
        assertEq(nativeCredit(treasury), FULL_FEE);
        assertEq(nativeCredit(borrower), 0);
        assertEq(nativeCredit(stranger), 0);
    }

    function test_settle_reportedPartialUseIsProRata() public {
        (uint256 id,, uint40 end) = reportedAtEnd(2700);
        vm.warp(end + DISPUTE_WINDOW);

        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, address(this), 2700, 0.007_312_5 ether, 0.000_187_5 ether, 0.0025 ether);
        vm.expectEmit(address(market));
        emit IMarket.Credited(lender, address(0), 0.007_312_5 ether);
        vm.expectEmit(address(market));
        emit IMarket.Credited(treasury, address(0), 0.000_187_5 ether);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), 0.0025 ether);
        market.settle(id);

        assertEq(nativeCredit(lender), 0.007_312_5 ether);
        assertEq(nativeCredit(treasury), 0.000_187_5 ether);
        assertEq(nativeCredit(borrower), 0.0025 ether);
        assertEq(host().secondsServed, 2700);
    }

    function test_settle_reportedZeroUseRefundsAll() public {
        (uint256 id,, uint40 end) = reportedAtEnd(0);
        vm.warp(end + DISPUTE_WINDOW);

        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, address(this), 0, 0, 0, PRICE_PER_HOUR);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), PRICE_PER_HOUR);
        vm.recordLogs();
        market.settle(id);
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
        assertEq(host().completed, 0); // settled, but nothing was served
    }

    function test_settle_splitRoundsDownAndAddsUp() public {
        uint256 odd = createListing(address(0), false, 333);
        uint40 start = slotAfter(2 days);
        uint40 end = start + 4 * SLOT;
        uint256 id = bookAs(borrower, odd, start, end);
        activateAsAgent(id);
        vm.warp(end);
        reportAsAgent(id, 1000);
        vm.warp(end + DISPUTE_WINDOW);

        // gross = floor(333 * 1000 / 3600) = 92; fee = floor(92 * 250 / 10000) = 2.
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, address(this), 1000, 90, 2, 241);
        market.settle(id);
        assertEq(nativeCredit(lender), 90);
        assertEq(nativeCredit(treasury), 2);
        assertEq(nativeCredit(borrower), 241);
    }

    /* Active (never reported) -> Settled */

    function test_settle_unreportedRevertsBeforeDisputeWindowEnds() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        uint256 ripeAt = end + REPORT_GRACE + DISPUTE_WINDOW;
        vm.warp(ripeAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, ripeAt));
        market.settle(id);
    }

    function test_settle_unreportedIsFullUse() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        vm.warp(end + REPORT_GRACE + DISPUTE_WINDOW);

        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, stranger, DURATION, FULL_LENDER, FULL_FEE, 0);
        vm.prank(stranger);
        market.settle(id);

        assertEq(uint8(statusOf(id)), uint8(Status.Settled));
        assertEq(bookingOf(id).usedSeconds, DURATION);
        assertEq(nativeCredit(lender), FULL_LENDER);
        assertEq(nativeCredit(treasury), FULL_FEE);
        assertEq(host().secondsServed, DURATION);
    }

    function test_settle_unreportedAfterEarlyEndChargesUntilEndedAt() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 1200);
        vm.prank(borrower);
        market.endSession(id);
        vm.warp(end + REPORT_GRACE + DISPUTE_WINDOW);

        // gross = floor(1e16 * 1200 / 3600) = 3_333_333_333_333_333.
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(
            id, address(this), 1200, 3_250_000_000_000_000, 83_333_333_333_333, 6_666_666_666_666_667
        );
        market.settle(id);
        assertEq(bookingOf(id).usedSeconds, 1200);
        assertEq(nativeCredit(lender), 3_250_000_000_000_000);
        assertEq(nativeCredit(treasury), 83_333_333_333_333);
        assertEq(nativeCredit(borrower), 6_666_666_666_666_667);
    }

    /* other statuses */

    function test_settle_revertsOnBookedBooking() public {
        (uint256 id,, uint40 end) = bookDefault();
        vm.warp(end + 30 days);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Booked));
        market.settle(id);
    }

    function test_settle_revertsOnCancelledBooking() public {
        (uint256 id,,) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Cancelled));
        market.settle(id);
    }

    function test_settle_revertsWhenAlreadySettled() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Settled));
        market.settle(id);
        assertEq(nativeCredit(lender), FULL_LENDER);
    }

    function test_settle_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 1));
        market.settle(1);
    }

    /* what settlement reads */

    function test_settle_usesFeeSnapshotFromBooking() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.prank(owner);
        market.setFee(0);
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        assertEq(nativeCredit(treasury), FULL_FEE);
        assertEq(nativeCredit(lender), FULL_LENDER);
    }

    function test_settle_zeroFeeBookingCreditsNoTreasury() public {
        vm.prank(owner);
        market.setFee(0);
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.warp(end + DISPUTE_WINDOW);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, address(this), DURATION, PRICE_PER_HOUR, 0, 0);
        vm.recordLogs();
        market.settle(id);
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(nativeCredit(lender), PRICE_PER_HOUR);
        assertEq(nativeCredit(treasury), 0);
    }

    function test_settle_feeGoesToCurrentTreasury() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        address newTreasury = makeAddr("newTreasury");
        vm.prank(owner);
        market.setTreasury(newTreasury);
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        assertEq(nativeCredit(newTreasury), FULL_FEE);
        assertEq(nativeCredit(treasury), 0);
    }

    function test_settle_tokenBookingCreditsToken() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        uint40 end = start + 4 * SLOT;
        uint256 id = bookAs(borrower, tl, start, end);
        activateAsAgent(id);
        vm.warp(end);
        reportAsAgent(id, 2700);
        vm.warp(end + DISPUTE_WINDOW);

        vm.expectEmit(address(market));
        emit IMarket.Credited(lender, address(token), 1_462_500);
        vm.expectEmit(address(market));
        emit IMarket.Credited(treasury, address(token), 37_500);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(token), 500_000);
        market.settle(id);
        assertEq(tokenCredit(lender), 1_462_500);
        assertEq(tokenCredit(treasury), 37_500);
        assertEq(tokenCredit(borrower), 500_000);
        assertEq(nativeCredit(lender), 0);
    }

    function test_settle_countersAccumulateAcrossBookings() public {
        (uint256 id1,,) = reportedAtEnd(DURATION);
        uint40 start2 = slotAfter(2 days);
        uint256 id2 = bookAs(borrower, listingId, start2, start2 + 2 * SLOT);
        activateAsAgent(id2);
        vm.warp(start2 + 2 * SLOT);
        reportAsAgent(id2, 600);
        vm.warp(start2 + 2 * SLOT + DISPUTE_WINDOW);
        market.settle(id1);
        market.settle(id2);
        Host memory h = host();
        assertEq(h.completed, 2);
        assertEq(h.secondsServed, DURATION + 600);
        assertEq(h.openBookings, 0);
    }

    function test_settle_worksWhilePaused() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.prank(owner);
        market.pause();
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        assertEq(uint8(statusOf(id)), uint8(Status.Settled));
    }

    /* isRipe */

    function test_isRipe_bookedAfterActivationGrace() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE - 1);
        assertFalse(market.isRipe(id));
        vm.warp(start + ACTIVATION_GRACE);
        assertTrue(market.isRipe(id));
    }

    function test_isRipe_activeAfterReportGraceAndDisputeWindow() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        vm.warp(end + REPORT_GRACE + DISPUTE_WINDOW - 1);
        assertFalse(market.isRipe(id));
        vm.warp(end + REPORT_GRACE + DISPUTE_WINDOW);
        assertTrue(market.isRipe(id));
    }

    function test_isRipe_reportedAfterDisputeWindow() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.warp(end + DISPUTE_WINDOW - 1);
        assertFalse(market.isRipe(id));
        vm.warp(end + DISPUTE_WINDOW);
        assertTrue(market.isRipe(id));
    }

    function test_isRipe_disputedAfterArbiterDeadline() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        uint256 disputedAt = end + DISPUTE_WINDOW - 1;
        vm.warp(disputedAt);
        disputeAsBorrower(id);
        vm.warp(disputedAt + ARBITER_DEADLINE - 1);
        assertFalse(market.isRipe(id));
        vm.warp(disputedAt + ARBITER_DEADLINE);
        assertTrue(market.isRipe(id));
    }

    function test_isRipe_falseForTerminalAndUnknown() public {
        (uint256 id,,) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
        vm.warp(vm.getBlockTimestamp() + 30 days);
        assertFalse(market.isRipe(id));
        assertFalse(market.isRipe(0));
        assertFalse(market.isRipe(42));
    }
}
