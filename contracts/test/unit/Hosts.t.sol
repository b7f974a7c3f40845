// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Host, Status} from "../../src/interfaces/IMarket.sol";

contract HostsTest is UnitBase {
    address internal newAgent = makeAddr("newAgent");

    /* registerHost */

    function test_registerHost_storesHostAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.HostRegistered(2, stranger, newAgent, 2 ether, "bafynew");
        vm.prank(stranger);
        uint256 id = market.registerHost{value: 2 ether}(newAgent, "bafynew");

        assertEq(id, 2);
        assertEq(market.hostCount(), 2);
        Host memory h = market.getHost(2);
        assertEq(h.lender, stranger);
        assertEq(h.agent, newAgent);
        assertEq(h.bond, 2 ether);
        assertEq(h.registeredAt, vm.getBlockTimestamp());
        assertEq(h.metadataCid, "bafynew");
        assertEq(h.openBookings, 0);
        assertEq(h.completed, 0);
        assertEq(h.unbondAt, 0);
        assertEq(h.secondsServed, 0);
        assertEq(h.noShows, 0);
        assertEq(h.declines, 0);
        assertEq(h.disputesLost, 0);
        assertEq(address(market).balance, MIN_BOND + 2 ether);
        assertEq(stranger.balance, 98 ether);
    }

    function test_registerHost_acceptsAgentEqualToLenderAndEmptyCid() public {
        vm.prank(stranger);
        uint256 id = market.registerHost{value: MIN_BOND}(stranger, "");
        assertEq(market.getHost(id).agent, stranger);
        assertEq(market.getHost(id).metadataCid, "");
    }

    function test_registerHost_acceptsCidAtMaxLength() public {
        string memory cid = string(new bytes(128));
        vm.prank(stranger);
        uint256 id = market.registerHost{value: MIN_BOND}(newAgent, cid);
        assertEq(bytes(market.getHost(id).metadataCid).length, 128);
    }

    function test_registerHost_revertsOnZeroAgent() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        vm.prank(stranger);
        market.registerHost{value: MIN_BOND}(address(0), "");
    }

    function test_registerHost_revertsBelowMinBond() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.InsufficientBond.selector, MIN_BOND - 1, MIN_BOND));
        vm.prank(stranger);
        market.registerHost{value: MIN_BOND - 1}(newAgent, "");
    }

    function test_registerHost_revertsOnTooLongCid() public {
        string memory cid = string(new bytes(129));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 129, 128));
        vm.prank(stranger);
        market.registerHost{value: MIN_BOND}(newAgent, cid);
    }

    /* setAgent */

    function test_setAgent_replacesAgentAndOpenBookingsFollow() public {
        (uint256 id,,) = bookDefault();

        vm.expectEmit(address(market));
        emit IMarket.AgentChanged(hostId, agent, newAgent);
        vm.prank(lender);
        market.setAgent(hostId, newAgent);
        assertEq(host().agent, newAgent);

        vm.expectRevert(abi.encodeWithSelector(IMarket.NotAgent.selector, id, agent));
        vm.prank(agent);
        market.activate(id, ENDPOINT);

        vm.prank(newAgent);
        market.activate(id, ENDPOINT);
        assertEq(uint8(statusOf(id)), uint8(Status.Active));
    }

    function test_setAgent_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, agent));
        vm.prank(agent);
        market.setAgent(hostId, newAgent);
    }

    function test_setAgent_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        vm.prank(lender);
        market.setAgent(hostId, address(0));
    }

    function test_setAgent_revertsOnUnknownHost() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownHost.selector, 7));
        vm.prank(lender);
        market.setAgent(7, newAgent);
    }

    /* setHostMetadata */

    function test_setHostMetadata_replacesCidAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.HostMetadataUpdated(hostId, "bafyupdated");
        vm.prank(lender);
        market.setHostMetadata(hostId, "bafyupdated");
        assertEq(host().metadataCid, "bafyupdated");
    }

    function test_setHostMetadata_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, stranger));
        vm.prank(stranger);
        market.setHostMetadata(hostId, "bafyupdated");
    }

    function test_setHostMetadata_revertsOnTooLongCid() public {
        string memory cid = string(new bytes(129));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 129, 128));
        vm.prank(lender);
        market.setHostMetadata(hostId, cid);
    }

    /* depositBond */

    function test_depositBond_anyoneTopsUpAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.BondDeposited(hostId, stranger, 0.5 ether, 1.5 ether);
        vm.prank(stranger);
        market.depositBond{value: 0.5 ether}(hostId);
        assertEq(host().bond, 1.5 ether);
        assertEq(address(market).balance, 1.5 ether);
    }

    function test_depositBond_revertsOnZeroValue() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, 0, 1));
        vm.prank(lender);
        market.depositBond(hostId);
    }

    function test_depositBond_revertsOnUnknownHost() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownHost.selector, 2));
        vm.prank(lender);
        market.depositBond{value: 1}(2);
    }

    /* requestUnbond / cancelUnbond */

    function test_requestUnbond_startsDelayAndEmits() public {
        uint256 unlocksAt = vm.getBlockTimestamp() + UNBONDING_DELAY;
        vm.expectEmit(address(market));
        emit IMarket.UnbondRequested(hostId, unlocksAt);
        vm.prank(lender);
        market.requestUnbond(hostId);
        assertEq(host().unbondAt, unlocksAt);
    }

    function test_requestUnbond_blocksNewBookings() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        uint40 start = slotAfter(2 days);
        vm.expectRevert(abi.encodeWithSelector(IMarket.HostUnbonding.selector, hostId));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, start + 4 * SLOT, SESSION_KEY, SSH_KEY);
    }

    function test_requestUnbond_revertsWhenAlreadyUnbonding() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.expectRevert(abi.encodeWithSelector(IMarket.HostUnbonding.selector, hostId));
        vm.prank(lender);
        market.requestUnbond(hostId);
    }

    function test_requestUnbond_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, stranger));
        vm.prank(stranger);
        market.requestUnbond(hostId);
    }

    function test_cancelUnbond_clearsUnbondingAndBookingsResume() public {
        vm.prank(lender);
        market.requestUnbond(hostId);

        vm.expectEmit(address(market));
        emit IMarket.UnbondCancelled(hostId);
        vm.prank(lender);
        market.cancelUnbond(hostId);
        assertEq(host().unbondAt, 0);

        (uint256 id,,) = bookDefault();
        assertEq(id, 1);
    }

    function test_cancelUnbond_revertsWhenNotUnbonding() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotUnbonding.selector, hostId));
        vm.prank(lender);
        market.cancelUnbond(hostId);
    }

    function test_cancelUnbond_revertsWhenNotLender() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, agent));
        vm.prank(agent);
        market.cancelUnbond(hostId);
    }

    /* withdrawBond */

    function test_withdrawBond_revertsWhenNotUnbonding() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotUnbonding.selector, hostId));
        vm.prank(lender);
        market.withdrawBond(hostId, 1);
    }

    function test_withdrawBond_revertsBeforeDelayOver() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        uint256 unlocksAt = vm.getBlockTimestamp() + UNBONDING_DELAY;
        vm.warp(unlocksAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnbondingNotOver.selector, hostId, unlocksAt));
        vm.prank(lender);
        market.withdrawBond(hostId, 1);
    }

    function test_withdrawBond_revertsWithOpenBookings() public {
        (uint256 id,,) = bookDefault();
        bookNative(3 days, 1);
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);

        vm.expectRevert(abi.encodeWithSelector(IMarket.OpenBookings.selector, hostId, 2));
        vm.prank(lender);
        market.withdrawBond(hostId, MIN_BOND);

        market.claimNoShow(id);
        vm.expectRevert(abi.encodeWithSelector(IMarket.OpenBookings.selector, hostId, 1));
        vm.prank(lender);
        market.withdrawBond(hostId, MIN_BOND);
    }

    function test_withdrawBond_succeedsOnceBookingsAreTerminal() public {
        (uint256 id, uint40 start,) = bookNative(2 days, 4);
        vm.prank(lender);
        market.requestUnbond(hostId);
        // Unbonding does not stop the open booking: it no-shows, slashing the bond.
        vm.warp(start + ACTIVATION_GRACE);
        market.claimNoShow(id);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);

        uint256 before = lender.balance;
        vm.prank(lender);
        market.withdrawBond(hostId, MIN_BOND - NO_SHOW_SLASH);
        assertEq(lender.balance, before + MIN_BOND - NO_SHOW_SLASH);
        assertEq(host().bond, 0);
    }

    function test_withdrawBond_paysLenderAtExactUnlockAndEmits() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);
        uint256 before = lender.balance;

        vm.expectEmit(address(market));
        emit IMarket.BondWithdrawn(hostId, lender, 0.4 ether, 0.6 ether);
        vm.prank(lender);
        market.withdrawBond(hostId, 0.4 ether);

        assertEq(lender.balance, before + 0.4 ether);
        assertEq(host().bond, 0.6 ether);
        assertEq(address(market).balance, 0.6 ether);

        vm.expectEmit(address(market));
        emit IMarket.BondWithdrawn(hostId, lender, 0.6 ether, 0);
        vm.prank(lender);
        market.withdrawBond(hostId, 0.6 ether);
        assertEq(lender.balance, before + 1 ether);
        assertEq(address(market).balance, 0);
    }

    function test_withdrawBond_revertsOnZeroOrMoreThanBond() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);

        vm.expectRevert(abi.encodeWithSelector(IMarket.BondTooSmall.selector, 0, MIN_BOND));
        vm.prank(lender);
        market.withdrawBond(hostId, 0);

        vm.expectRevert(abi.encodeWithSelector(IMarket.BondTooSmall.selector, MIN_BOND + 1, MIN_BOND));
        vm.prank(lender);
        market.withdrawBond(hostId, MIN_BOND + 1);
    }

    function test_withdrawBond_revertsWhenNotLender() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, agent));
        vm.prank(agent);
        market.withdrawBond(hostId, 1);
    }

    function test_withdrawBond_revertsWhenLenderRejectsNative() public {
        makeRejecting(lender);
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NativeTransferFailed.selector, lender, MIN_BOND));
        vm.prank(lender);
        market.withdrawBond(hostId, MIN_BOND);
        assertEq(host().bond, MIN_BOND);
    }

    function test_withdrawBond_partialLeavesHostBelowMinimumAfterCancelUnbond() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);
        vm.prank(lender);
        market.withdrawBond(hostId, 0.5 ether);
        vm.prank(lender);
        market.cancelUnbond(hostId);

        uint40 start = slotAfter(2 days);
        vm.expectRevert(abi.encodeWithSelector(IMarket.InsufficientBond.selector, 0.5 ether, MIN_BOND));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, start + 4 * SLOT, SESSION_KEY, SSH_KEY);

        // A top-up restores it.
        vm.prank(lender);
        market.depositBond{value: 0.5 ether}(hostId);
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, start + 4 * SLOT, SESSION_KEY, SSH_KEY);
        assertEq(host().openBookings, 1);
    }

    function test_withdrawBond_worksWhilePaused() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);
        vm.prank(owner);
        market.pause();
        vm.prank(lender);
        market.withdrawBond(hostId, MIN_BOND);
        assertEq(host().bond, 0);
    }

    function test_openBookings_countsNonTerminalBookings() public {
        bookDefault();
        (uint256 id2,,) = bookNative(3 days, 2);
        assertEq(host().openBookings, 2);
        vm.prank(borrower);
        market.cancel(id2);
        assertEq(host().openBookings, 1);
    }
}
