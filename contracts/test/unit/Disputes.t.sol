// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Status, Booking, Host} from "../../src/interfaces/IMarket.sol";

contract DisputesTest is UnitBase {
    // Split of the default booking (0.01 ether for 3600 s, 2.5% fee) at 3000 s used:
    // gross = floor(1e16 * 3000 / 3600) = 8_333_333_333_333_333; fee = floor(gross * 250 / 10000).
    uint256 internal constant LENDER_3000 = 8_125_000_000_000_000;
    uint256 internal constant FEE_3000 = 208_333_333_333_333;
    uint256 internal constant REFUND_3000 = 1_666_666_666_666_667;

    /* dispute */

    function test_dispute_fromReportedEmitsAndStamps() public {
        (uint256 id,, uint40 end) = reportedAtEnd(3000);
        vm.warp(end + 100);

        vm.expectEmit(address(market));
        emit IMarket.BookingDisputed(id, 3000, REASON_CID);
        vm.prank(borrower);
        market.dispute(id, REASON_CID);

        Booking memory b = bookingOf(id);
        assertEq(uint8(b.status), uint8(Status.Disputed));
        assertEq(b.stamp, end + 100);
        assertEq(b.usedSeconds, 3000);
        assertEq(host().openBookings, 1);
    }

    function test_dispute_fromReportedWindowBoundary() public {
        (uint256 id,, uint40 end) = reportedAtEnd(3000);
        uint256 snapshot = vm.snapshotState();
        vm.warp(end + DISPUTE_WINDOW - 1);
        disputeAsBorrower(id);
        assertEq(uint8(statusOf(id)), uint8(Status.Disputed));

        vm.revertToState(snapshot);
        vm.warp(end + DISPUTE_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, end + DISPUTE_WINDOW));
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
    }

    function test_dispute_fromActiveClaimsFullUse() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        vm.warp(end + 10);

        vm.expectEmit(address(market));
        emit IMarket.BookingDisputed(id, DURATION, REASON_CID);
        vm.prank(borrower);
        market.dispute(id, REASON_CID);

        Booking memory b = bookingOf(id);
        assertEq(uint8(b.status), uint8(Status.Disputed));
        assertEq(b.usedSeconds, DURATION);
        assertEq(b.stamp, end + 10);
    }

    function test_dispute_fromActiveAfterEarlyEndClaimsShortenedSession() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 900);
        vm.prank(borrower);
        market.endSession(id);

        vm.expectEmit(address(market));
        emit IMarket.BookingDisputed(id, 900, REASON_CID);
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
        assertEq(bookingOf(id).usedSeconds, 900);
    }

    function test_dispute_fromActiveRevertsBeforeEnd() public {
        (uint256 id,, uint40 end) = bookDefault();
        activateAsAgent(id);
        vm.warp(end - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, end));
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
    }

    function test_dispute_fromActiveWindowBoundary() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        uint256 deadline = end + REPORT_GRACE + DISPUTE_WINDOW;
        uint256 snapshot = vm.snapshotState();
        vm.warp(deadline - 1);
        disputeAsBorrower(id);
        assertEq(uint8(statusOf(id)), uint8(Status.Disputed));

        vm.revertToState(snapshot);
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, deadline));
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
    }

    function test_dispute_revertsWhenNotBorrower() public {
        (uint256 id,,) = reportedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotBorrower.selector, id, stranger));
        vm.prank(stranger);
        market.dispute(id, REASON_CID);
    }

    function test_dispute_revertsOnEmptyReason() public {
        (uint256 id,,) = reportedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 0, 128));
        vm.prank(borrower);
        market.dispute(id, "");
    }

    function test_dispute_revertsOnTooLongReason() public {
        (uint256 id,,) = reportedAtEnd(3000);
        string memory cid = string(new bytes(129));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 129, 128));
        vm.prank(borrower);
        market.dispute(id, cid);
    }

    function test_dispute_revertsOnBookedBooking() public {
        (uint256 id,, uint40 end) = bookDefault();
        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Booked));
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
    }

    function test_dispute_revertsWhenAlreadyDisputed() public {
        (uint256 id,,) = disputedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Disputed));
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
    }

    function test_dispute_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 4));
        vm.prank(borrower);
        market.dispute(4, REASON_CID);
    }

    /* resolveDispute */

    function test_resolveDispute_upholdsClaimWithoutSlash() public {
        (uint256 id,,) = disputedAtEnd(3000);

        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(id, arbiter, 3000, 0);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, arbiter, 3000, LENDER_3000, FEE_3000, REFUND_3000);
        vm.expectEmit(address(market));
        emit IMarket.Credited(lender, address(0), LENDER_3000);
        vm.expectEmit(address(market));
        emit IMarket.Credited(treasury, address(0), FEE_3000);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), REFUND_3000);
        vm.recordLogs();
        vm.prank(arbiter);
        market.resolveDispute(id, 3000, 0);
        assertEq(vm.getRecordedLogs().length, 5);

        Booking memory b = bookingOf(id);
        assertEq(uint8(b.status), uint8(Status.Settled));
        assertEq(b.usedSeconds, 3000);
        Host memory h = host();
        assertEq(h.disputesLost, 0);
        assertEq(h.completed, 1);
        assertEq(h.secondsServed, 3000);
        assertEq(h.openBookings, 0);
        assertEq(h.bond, MIN_BOND);
        assertEq(nativeCredit(lender), LENDER_3000);
        assertEq(nativeCredit(treasury), FEE_3000);
        assertEq(nativeCredit(borrower), REFUND_3000);
    }

    function test_resolveDispute_lowerUsageCountsAsLost() public {
        (uint256 id,,) = disputedAtEnd(3000);

        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(id, arbiter, 1800, 0);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, arbiter, 1800, 0.004_875 ether, 0.000_125 ether, 0.005 ether);
        vm.prank(arbiter);
        market.resolveDispute(id, 1800, 0);

        assertEq(host().disputesLost, 1);
        assertEq(host().secondsServed, 1800);
        assertEq(nativeCredit(lender), 0.004_875 ether);
        assertEq(nativeCredit(treasury), 0.000_125 ether);
        assertEq(nativeCredit(borrower), 0.005 ether);
    }

    function test_resolveDispute_withSlashCreditsBondToBorrower() public {
        (uint256 id,,) = disputedAtEnd(3000);

        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(id, arbiter, 0, 0.3 ether);
        vm.expectEmit(address(market));
        emit IMarket.BondSlashed(hostId, id, borrower, 0.3 ether, 0.7 ether);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), 0.3 ether);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, arbiter, 0, 0, 0, PRICE_PER_HOUR);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), PRICE_PER_HOUR);
        vm.recordLogs();
        vm.prank(arbiter);
        market.resolveDispute(id, 0, 0.3 ether);
        assertEq(vm.getRecordedLogs().length, 5);

        assertEq(host().bond, 0.7 ether);
        assertEq(host().disputesLost, 1);
        assertEq(host().completed, 0); // a session ruled as unused was not served
        assertEq(host().secondsServed, 0);
        assertEq(nativeCredit(borrower), 0.3 ether + PRICE_PER_HOUR);
        assertEq(nativeCredit(lender), 0);
        assertEq(nativeCredit(treasury), 0);
        // Nothing left the contract: the slash moved from bond to credit.
        assertEq(address(market).balance, MIN_BOND + PRICE_PER_HOUR);
    }

    function test_resolveDispute_slashWithFullUsageStillCountsAsLost() public {
        (uint256 id,,) = disputedAtEnd(DURATION);
        vm.prank(arbiter);
        market.resolveDispute(id, DURATION, 1);
        assertEq(host().disputesLost, 1);
        assertEq(host().bond, MIN_BOND - 1);
        assertEq(nativeCredit(borrower), 1);
        assertEq(nativeCredit(lender), 0.009_75 ether);
    }

    function test_resolveDispute_mayTakeWholeBond() public {
        (uint256 id,,) = disputedAtEnd(3000);
        vm.prank(arbiter);
        market.resolveDispute(id, 3000, MIN_BOND);
        assertEq(host().bond, 0);
        assertEq(nativeCredit(borrower), MIN_BOND + REFUND_3000);
    }

    function test_resolveDispute_higherUsageThanClaimedIsNotLost() public {
        (uint256 id,,) = disputedAtEnd(1800);
        vm.prank(arbiter);
        market.resolveDispute(id, DURATION, 0);
        assertEq(host().disputesLost, 0);
        assertEq(nativeCredit(lender), 0.009_75 ether);
        assertEq(nativeCredit(borrower), 0);
    }

    function test_resolveDispute_tokenBookingSlashesNativeAndRefundsToken() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        uint40 end = start + 4 * SLOT;
        uint256 id = bookAs(borrower, tl, start, end);
        activateAsAgent(id);
        vm.warp(end);
        reportAsAgent(id, 1800);
        disputeAsBorrower(id);

        vm.prank(arbiter);
        market.resolveDispute(id, 900, 0.1 ether);
        // gross = 2e6 / 4 = 500_000; fee = 12_500.
        assertEq(tokenCredit(lender), 487_500);
        assertEq(tokenCredit(treasury), 12_500);
        assertEq(tokenCredit(borrower), 1_500_000);
        assertEq(nativeCredit(borrower), 0.1 ether);
        assertEq(nativeCredit(lender), 0);
    }

    function test_resolveDispute_revertsWhenNotArbiter() public {
        (uint256 id,,) = disputedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotArbiter.selector, owner));
        vm.prank(owner);
        market.resolveDispute(id, 3000, 0);
    }

    function test_resolveDispute_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 9));
        vm.prank(arbiter);
        market.resolveDispute(9, 0, 0);
    }

    function test_resolveDispute_revertsWhenNotDisputed() public {
        (uint256 id,,) = reportedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Reported));
        vm.prank(arbiter);
        market.resolveDispute(id, 3000, 0);
    }

    function test_resolveDispute_revertsOnUsageAboveDuration() public {
        (uint256 id,,) = disputedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UsageTooHigh.selector, DURATION + 1, DURATION));
        vm.prank(arbiter);
        market.resolveDispute(id, DURATION + 1, 0);
    }

    function test_resolveDispute_capsUsageAtTheBorrowersEarlyEnd() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 600);
        vm.prank(borrower);
        market.endSession(id);
        disputeAsBorrower(id); // unreported after the early end: the claim is the 600 seconds used

        vm.expectRevert(abi.encodeWithSelector(IMarket.UsageTooHigh.selector, 601, 600));
        vm.prank(arbiter);
        market.resolveDispute(id, 601, 0);

        vm.prank(arbiter);
        market.resolveDispute(id, 600, 0);
        assertEq(market.getBooking(id).usedSeconds, 600);
    }

    function test_resolveDispute_revertsOnSlashAboveBond() public {
        (uint256 id,,) = disputedAtEnd(3000);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BondTooSmall.selector, MIN_BOND + 1, MIN_BOND));
        vm.prank(arbiter);
        market.resolveDispute(id, 3000, MIN_BOND + 1);
    }

    function test_resolveDispute_followsNewArbiter() public {
        (uint256 id,,) = disputedAtEnd(3000);
        address newArbiter = makeAddr("newArbiter");
        vm.prank(owner);
        market.setArbiter(newArbiter);

        vm.expectRevert(abi.encodeWithSelector(IMarket.NotArbiter.selector, arbiter));
        vm.prank(arbiter);
        market.resolveDispute(id, 3000, 0);

        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(id, newArbiter, 3000, 0);
        vm.prank(newArbiter);
        market.resolveDispute(id, 3000, 0);
    }

    function test_resolveDispute_worksWhilePaused() public {
        (uint256 id,,) = disputedAtEnd(3000);
        vm.prank(owner);
        market.pause();
        vm.prank(arbiter);
        market.resolveDispute(id, 3000, 0);
        assertEq(uint8(statusOf(id)), uint8(Status.Settled));
    }

    /* fallback after the arbiter deadline */

    function test_settle_disputedRevertsBeforeArbiterDeadline() public {
        (uint256 id,, uint40 end) = disputedAtEnd(3000);
        vm.warp(end + ARBITER_DEADLINE - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, end + ARBITER_DEADLINE));
        market.settle(id);
    }

    function test_settle_disputedAfterArbiterDeadlineKeepsClaimWithoutSlash() public {
        (uint256 id,, uint40 end) = disputedAtEnd(3000);
        vm.warp(end + ARBITER_DEADLINE);

        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(id, address(0), 3000, 0);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(id, stranger, 3000, LENDER_3000, FEE_3000, REFUND_3000);
        vm.expectEmit(address(market));
        emit IMarket.Credited(lender, address(0), LENDER_3000);
        vm.expectEmit(address(market));
        emit IMarket.Credited(treasury, address(0), FEE_3000);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), REFUND_3000);
        vm.prank(stranger);
        market.settle(id);

        assertEq(uint8(statusOf(id)), uint8(Status.Settled));
        assertEq(host().disputesLost, 0);
        assertEq(host().bond, MIN_BOND);
        assertEq(host().completed, 1);
        assertEq(nativeCredit(borrower), REFUND_3000);
    }

    function test_settle_activeDisputeFallbackIsFullUse() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        disputeAsBorrower(id);
        vm.warp(end + ARBITER_DEADLINE);
        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(id, address(0), DURATION, 0);
        market.settle(id);
        assertEq(nativeCredit(lender), 0.009_75 ether);
        assertEq(nativeCredit(treasury), 0.000_25 ether);
        assertEq(nativeCredit(borrower), 0);
    }

    /// @dev The fallback opens a permissionless path; it does not close the arbiter's.
    function test_resolveDispute_stillPossibleAfterDeadlineUntilSettled() public {
        (uint256 id,, uint40 end) = disputedAtEnd(3000);
        vm.warp(end + ARBITER_DEADLINE + 1 days);
        vm.prank(arbiter);
        market.resolveDispute(id, 0, 0);
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Settled));
        market.settle(id);
    }
}
