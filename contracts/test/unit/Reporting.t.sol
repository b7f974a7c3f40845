// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Status, Booking} from "../../src/interfaces/IMarket.sol";

contract ReportingTest is UnitBase {
    /* endSession */

    function test_endSession_recordsEarlyEndAndEmits() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 1000);

        vm.expectEmit(address(market));
        emit IMarket.SessionEndRequested(id, start + 1000);
        vm.prank(borrower);
        market.endSession(id);

        Booking memory b = bookingOf(id);
        assertEq(b.endedAt, start + 1000);
        assertEq(uint8(b.status), uint8(Status.Active));
    }

    function test_endSession_allowedAtStart() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start);
        vm.prank(borrower);
        market.endSession(id);
        assertEq(bookingOf(id).endedAt, start);
        // Nothing was used, and nothing more may be reported.
        reportAsAgent(id, 0);
        assertEq(bookingOf(id).usedSeconds, 0);
    }

    function test_endSession_revertsBeforeStart() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, start));
        vm.prank(borrower);
        market.endSession(id);
    }

    function test_endSession_revertsAtEnd() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, end));
        vm.prank(borrower);
        market.endSession(id);
    }

    function test_endSession_revertsWhenAlreadyEnded() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 600);
        vm.prank(borrower);
        market.endSession(id);
        vm.warp(start + 601);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, start + 600));
        vm.prank(borrower);
        market.endSession(id);
    }

    function test_endSession_revertsWhenNotBorrower() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotBorrower.selector, id, agent));
        vm.prank(agent);
        market.endSession(id);
    }

    function test_endSession_revertsWhenNotActive() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Booked));
        vm.prank(borrower);
        market.endSession(id);
    }

    function test_endSession_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 1));
        vm.prank(borrower);
        market.endSession(1);
    }

    /* report */

    function test_report_movesActiveToReportedAndEmits() public {
        (uint256 id,, uint40 end) = activeAtEnd();

        vm.expectEmit(address(market));
        emit IMarket.UsageReported(id, agent, 3000, REPORT_CID);
        vm.prank(agent);
        market.report(id, 3000, REPORT_CID);

        Booking memory b = bookingOf(id);
        assertEq(uint8(b.status), uint8(Status.Reported));
        assertEq(b.usedSeconds, 3000);
        assertEq(b.stamp, end);
        assertEq(host().openBookings, 1);
        assertEq(nativeCredit(lender), 0);
    }

    function test_report_allowedUntilJustBeforeReportDeadline() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        vm.warp(end + REPORT_GRACE - 1);
        reportAsAgent(id, DURATION);
        assertEq(bookingOf(id).stamp, end + REPORT_GRACE - 1);
    }

    function test_report_revertsAtReportDeadline() public {
        (uint256 id,, uint40 end) = activeAtEnd();
        vm.warp(end + REPORT_GRACE);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, end + REPORT_GRACE));
        vm.prank(agent);
        market.report(id, DURATION, REPORT_CID);
    }

    function test_report_revertsBeforeEnd() public {
        (uint256 id,, uint40 end) = bookDefault();
        activateAsAgent(id);
        vm.warp(end - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, end));
        vm.prank(agent);
        market.report(id, 100, REPORT_CID);
    }

    function test_report_revertsOnUsageAboveDuration() public {
        (uint256 id,,) = activeAtEnd();
        vm.expectRevert(abi.encodeWithSelector(IMarket.UsageTooHigh.selector, DURATION + 1, DURATION));
        vm.prank(agent);
        market.report(id, DURATION + 1, REPORT_CID);
    }

    function test_report_afterEarlyEndBoundByEndedAt() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 1800);
        vm.prank(borrower);
        market.endSession(id);

        // Reportable right away, up to the seconds before the early end.
        vm.expectRevert(abi.encodeWithSelector(IMarket.UsageTooHigh.selector, 1801, 1800));
        vm.prank(agent);
        market.report(id, 1801, REPORT_CID);

        // The report deadline still counts from the booked end.
        vm.warp(end + REPORT_GRACE - 1);
        vm.expectEmit(address(market));
        emit IMarket.UsageReported(id, agent, 1800, REPORT_CID);
        vm.prank(agent);
        market.report(id, 1800, REPORT_CID);
        assertEq(uint8(statusOf(id)), uint8(Status.Reported));
    }

    function test_report_revertsOnEmptyCid() public {
        (uint256 id,,) = activeAtEnd();
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 0, 128));
        vm.prank(agent);
        market.report(id, DURATION, "");
    }

    function test_report_revertsOnTooLongCid() public {
        (uint256 id,,) = activeAtEnd();
        string memory cid = string(new bytes(129));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 129, 128));
        vm.prank(agent);
        market.report(id, DURATION, cid);
    }

    function test_report_revertsWhenNotAgent() public {
        (uint256 id,,) = activeAtEnd();
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotAgent.selector, id, lender));
        vm.prank(lender);
        market.report(id, DURATION, REPORT_CID);
    }

    function test_report_revertsWhenNeverActivated() public {
        (uint256 id,, uint40 end) = bookDefault();
        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Booked));
        vm.prank(agent);
        market.report(id, 0, REPORT_CID);
    }

    function test_report_revertsWhenAlreadyReported() public {
        (uint256 id,,) = reportedAtEnd(DURATION);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Reported));
        vm.prank(agent);
        market.report(id, DURATION, REPORT_CID);
    }

    function test_report_worksWhilePaused() public {
        (uint256 id,,) = activeAtEnd();
        vm.prank(owner);
        market.pause();
        reportAsAgent(id, DURATION);
        assertEq(uint8(statusOf(id)), uint8(Status.Reported));
    }
}
