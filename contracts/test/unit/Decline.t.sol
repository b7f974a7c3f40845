// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Status} from "../../src/interfaces/IMarket.sol";
import {DeclineReason} from "../../src/libraries/DeclineReason.sol";

contract DeclineTest is UnitBase {
    function test_decline_movesBookedToDeclinedWithFullRefund() public {
        (uint256 id, uint40 start, uint40 end) = bookDefault();

        vm.expectEmit(address(market));
        emit IMarket.BookingDeclined(id, agent, DeclineReason.HOST_UNAVAILABLE, PRICE_PER_HOUR);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), PRICE_PER_HOUR);
        vm.prank(agent);
        market.decline(id, DeclineReason.HOST_UNAVAILABLE);

        assertEq(uint8(statusOf(id)), uint8(Status.Declined));
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
        assertEq(nativeCredit(lender), 0);
        assertEq(nativeCredit(treasury), 0);
        assertEq(host().declines, 1);
        assertEq(host().openBookings, 0);
        assertEq(host().completed, 0);
        assertTrue(market.isFree(listingId, start, end));

        // The freed window can be booked again.
        uint256 id2 = bookAs(stranger, listingId, start, end);
        assertEq(uint8(statusOf(id2)), uint8(Status.Booked));
    }

    function test_decline_movesActiveToDeclined() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start - 1);

        vm.expectEmit(address(market));
        emit IMarket.BookingDeclined(id, agent, DeclineReason.PROVISIONING_FAILED, PRICE_PER_HOUR);
        vm.prank(agent);
        market.decline(id, DeclineReason.PROVISIONING_FAILED);

        assertEq(uint8(statusOf(id)), uint8(Status.Declined));
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
        assertEq(host().declines, 1);
    }

    function test_decline_acceptsEveryDocumentedReason() public {
        for (uint8 reason = 1; reason <= DeclineReason.MAX; ++reason) {
            (uint256 id,,) = bookNative(2 days + uint256(reason) * 1 hours, 1);
            vm.expectEmit(address(market));
            emit IMarket.BookingDeclined(id, agent, reason, PRICE_PER_HOUR / 4);
            vm.prank(agent);
            market.decline(id, reason);
        }
        assertEq(host().declines, 7);
        assertEq(nativeCredit(borrower), 7 * (PRICE_PER_HOUR / 4));
    }

    function test_decline_revertsOnReasonZero() public {
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadReason.selector, 0));
        vm.prank(agent);
        market.decline(id, 0);
    }

    function test_decline_revertsOnReasonAboveMax() public {
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadReason.selector, 8));
        vm.prank(agent);
        market.decline(id, 8);
    }

    function test_decline_revertsWhenNotAgent() public {
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotAgent.selector, id, lender));
        vm.prank(lender);
        market.decline(id, 1);
    }

    function test_decline_revertsAtStart() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, start));
        vm.prank(agent);
        market.decline(id, 1);
    }

    function test_decline_revertsOnTerminalBooking() public {
        (uint256 id,,) = bookDefault();
        vm.prank(agent);
        market.decline(id, 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Declined));
        vm.prank(agent);
        market.decline(id, 1);
    }

    function test_decline_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 1));
        vm.prank(agent);
        market.decline(1, 1);
    }

    function test_decline_refundsTokenBooking() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        uint256 id = bookAs(borrower, tl, start, start + 4 * SLOT);

        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(token), 2e6);
        vm.prank(agent);
        market.decline(id, 2);
        assertEq(tokenCredit(borrower), 2e6);
        assertEq(nativeCredit(borrower), 0);
    }

    function test_decline_worksWhilePaused() public {
        (uint256 id,,) = bookDefault();
        vm.prank(owner);
        market.pause();
        vm.prank(agent);
        market.decline(id, 1);
        assertEq(uint8(statusOf(id)), uint8(Status.Declined));
    }
}
