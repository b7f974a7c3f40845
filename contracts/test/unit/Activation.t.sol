// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarketTest} from "../utils/IMarketTest.sol";
import {IMarket, Status, MarketParams} from "../../src/interfaces/IMarket.sol";

contract ActivationTest is UnitBase {
    bytes internal constant ENDPOINT2 = hex"0102030405";

    function test_activate_movesBookedToActiveAndEmits() public {
        (uint256 id,,) = bookDefault();
        vm.expectEmit(address(market));
        emit IMarket.EndpointPublished(id, agent, ENDPOINT, false);
        vm.prank(agent);
        market.activate(id, ENDPOINT);
        assertEq(uint8(statusOf(id)), uint8(Status.Active));
        assertEq(host().openBookings, 1);
    }

    function test_activate_republishWhileActiveEmitsRepublished() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 10 minutes);

        vm.expectEmit(address(market));
        emit IMarket.EndpointPublished(id, agent, ENDPOINT2, true);
        vm.prank(agent);
        market.activate(id, ENDPOINT2);
        assertEq(uint8(statusOf(id)), uint8(Status.Active));
    }

    function test_activate_republishAllowedUntilJustBeforeEnd() public {
        (uint256 id,, uint40 end) = bookDefault();
        activateAsAgent(id);
        vm.warp(end - 1);
        vm.prank(agent);
        market.activate(id, ENDPOINT2);

        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, end));
        vm.prank(agent);
        market.activate(id, ENDPOINT2);
    }

    function test_activate_republishRevertsAfterEarlyEnd() public {
        (uint256 id, uint40 start,) = bookDefault();
        activateAsAgent(id);
        vm.warp(start + 20 minutes);
        vm.prank(borrower);
        market.endSession(id);

        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, start + 20 minutes));
        vm.prank(agent);
        market.activate(id, ENDPOINT2);
    }

    function test_activate_allowedWithinGraceAfterStart() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE - 1);
        vm.prank(agent);
        market.activate(id, ENDPOINT);
        assertEq(uint8(statusOf(id)), uint8(Status.Active));
    }

    function test_activate_revertsAtActivationDeadline() public {
        (uint256 id, uint40 start,) = bookDefault();
        vm.warp(start + ACTIVATION_GRACE);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, start + ACTIVATION_GRACE));
        vm.prank(agent);
        market.activate(id, ENDPOINT);
    }

    /// @dev With a grace longer than a one-slot booking, the deadline is the booking's end.
    function test_activate_deadlineIsEndWhenGraceOutlastsBooking() public {
        MarketParams memory p = defaultParams();
        p.activationGrace = 20 minutes;
        IMarketTest m = deployMarket(p, owner, treasury, arbiter, FEE_BPS);
        vm.prank(lender);
        uint256 h = m.registerHost{value: MIN_BOND}(agent, "");
        vm.prank(lender);
        uint256 lid = m.createListing(h, gpuHardware(), address(0), false, PRICE_PER_HOUR, 1, 4, 0, "");
        uint40 start = slotAfter(1 days);
        uint40 end = start + SLOT;
        vm.prank(borrower);
        uint256 id = m.book{value: PRICE_PER_HOUR / 4}(lid, start, end, SESSION_KEY, SSH_KEY);

        uint256 snapshot = vm.snapshotState();
        vm.warp(end - 1);
        vm.prank(agent);
        m.activate(id, ENDPOINT);
        assertEq(uint8(m.getBooking(id).status), uint8(Status.Active));

        vm.revertToState(snapshot);
        vm.warp(end);
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooLate.selector, id, end));
        vm.prank(agent);
        m.activate(id, ENDPOINT);
        // The no-show path opens only at start + grace, after the end.
        vm.expectRevert(abi.encodeWithSelector(IMarket.TooEarly.selector, id, start + 20 minutes));
        m.claimNoShow(id);
    }

    function test_activate_revertsWhenNotAgent() public {
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotAgent.selector, id, lender));
        vm.prank(lender);
        market.activate(id, ENDPOINT);

        vm.expectRevert(abi.encodeWithSelector(IMarket.NotAgent.selector, id, borrower));
        vm.prank(borrower);
        market.activate(id, ENDPOINT);
    }

    /// @dev An agent acts only on its own host's bookings.
    function test_activate_revertsForAgentOfAnotherHost() public {
        address otherAgent = makeAddr("otherAgent");
        vm.prank(stranger);
        market.registerHost{value: MIN_BOND}(otherAgent, "");
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotAgent.selector, id, otherAgent));
        vm.prank(otherAgent);
        market.activate(id, ENDPOINT);
    }

    function test_activate_revertsOnUnknownBooking() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 5));
        vm.prank(agent);
        market.activate(5, ENDPOINT);
    }

    function test_activate_endpointLengthBounds() public {
        (uint256 id,,) = bookDefault();
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 0, 4096));
        vm.prank(agent);
        market.activate(id, "");

        bytes memory tooLong = new bytes(4097);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 4097, 4096));
        vm.prank(agent);
        market.activate(id, tooLong);

        bytes memory longest = new bytes(4096);
        vm.expectEmit(address(market));
        emit IMarket.EndpointPublished(id, agent, longest, false);
        vm.prank(agent);
        market.activate(id, longest);
    }

    function test_activate_checksStatusBeforeEndpoint() public {
        (uint256 id,,) = reportedAtEnd(60);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Reported));
        vm.prank(agent);
        market.activate(id, "");
    }

    function test_activate_revertsOnCancelledBooking() public {
        (uint256 id,,) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Cancelled));
        vm.prank(agent);
        market.activate(id, ENDPOINT);
    }

    function test_activate_revertsOnReportedBooking() public {
        (uint256 id,,) = reportedAtEnd(DURATION);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongStatus.selector, id, Status.Reported));
        vm.prank(agent);
        market.activate(id, ENDPOINT);
    }

    function test_activate_worksWhilePaused() public {
        (uint256 id,,) = bookDefault();
        vm.prank(owner);
        market.pause();
        activateAsAgent(id);
        assertEq(uint8(statusOf(id)), uint8(Status.Active));
    }
}
