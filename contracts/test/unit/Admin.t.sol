// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {UnitBase} from "./UnitBase.sol";
import {IMarketTest} from "../utils/IMarketTest.sol";
import {IMarket, Status, MarketParams, Hardware} from "../../src/interfaces/IMarket.sol";
import {TestToken} from "../../src/mocks/TestToken.sol";

contract AdminTest is UnitBase {
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    address internal newOwner = makeAddr("newOwner");

    function expectNotOwner(address caller) internal {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
    }

    /* constructor */

    function test_constructor_setsConfigurationAndEmits() public {
        vm.expectEmit();
        emit IMarket.TreasurySet(treasury);
        vm.expectEmit();
        emit IMarket.ArbiterSet(arbiter);
        vm.expectEmit();
        emit IMarket.FeeSet(123);
        IMarketTest m = deployMarket(defaultParams(), owner, treasury, arbiter, 123);

        assertEq(m.owner(), owner);
        assertEq(m.treasury(), treasury);
        assertEq(m.arbiter(), arbiter);
        assertEq(m.feeBps(), 123);
        assertFalse(m.paused());
        assertEq(m.upkeepCursor(), 1);
        assertEq(address(m.usdFeed()), address(0));
        assertEq(abi.encode(m.params()), abi.encode(defaultParams()));
    }

    function test_constructor_acceptsBoundaryParams() public {
        MarketParams memory p = defaultParams();
        p.slotLength = 60;
        p.activationGrace = 60 * 2880 - 1;
        p.cancelFeeBps = 10_000;
        deployMarket(p, owner, treasury, arbiter, 1000);
        p.slotLength = 1 days;
        deployMarket(p, owner, treasury, arbiter, 0);
    }

    function test_constructor_revertsOnSlotTooShort() public {
        MarketParams memory p = defaultParams();
        p.slotLength = 59;
        expectBadParams(p);
    }

    function test_constructor_revertsOnSlotTooLong() public {
        MarketParams memory p = defaultParams();
        p.slotLength = 1 days + 1;
        expectBadParams(p);
    }

    function test_constructor_revertsOnCancelFeeAboveWhole() public {
        MarketParams memory p = defaultParams();
        p.cancelFeeBps = 10_001;
        expectBadParams(p);
    }

    function test_constructor_revertsOnActivationGraceAsLongAsLongestBooking() public {
        MarketParams memory p = defaultParams();
        p.activationGrace = SLOT * 2880;
        expectBadParams(p);
    }

    function test_constructor_revertsOnZeroMinBond() public {
        MarketParams memory p = defaultParams();
        p.minBond = 0;
        expectBadParams(p);
    }

    function test_constructor_revertsOnZeroTreasury() public {
        MarketParams memory p = defaultParams();
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        deployMarket(p, owner, address(0), arbiter, FEE_BPS);
    }

    function test_constructor_revertsOnZeroArbiter() public {
        MarketParams memory p = defaultParams();
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        deployMarket(p, owner, treasury, address(0), FEE_BPS);
    }

    function test_constructor_revertsOnFeeAboveCap() public {
        MarketParams memory p = defaultParams();
        vm.expectRevert(abi.encodeWithSelector(IMarket.FeeTooHigh.selector, 1001, 1000));
        deployMarket(p, owner, treasury, arbiter, 1001);
    }

    function test_constructor_revertsOnZeroOwner() public {
        MarketParams memory p = defaultParams();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        deployMarket(p, address(0), treasury, arbiter, FEE_BPS);
    }

    function expectBadParams(MarketParams memory p) internal {
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadParams.selector));
        deployMarket(p, owner, treasury, arbiter, FEE_BPS);
    }

    /* fee, treasury, arbiter */

    function test_setFee_upToCap() public {
        vm.expectEmit(address(market));
        emit IMarket.FeeSet(1000);
        vm.prank(owner);
        market.setFee(1000);
        assertEq(market.feeBps(), 1000);
        assertEq(market.MAX_FEE_BPS(), 1000);
    }

    function test_setFee_revertsAboveCap() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.FeeTooHigh.selector, 1001, 1000));
        vm.prank(owner);
        market.setFee(1001);
    }

    function test_setFee_revertsWhenNotOwner() public {
        expectNotOwner(stranger);
        market.setFee(1);
    }

    function test_setTreasury_replacesAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.TreasurySet(stranger);
        vm.prank(owner);
        market.setTreasury(stranger);
        assertEq(market.treasury(), stranger);
    }

    function test_setTreasury_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        vm.prank(owner);
        market.setTreasury(address(0));
    }

    function test_setTreasury_revertsWhenNotOwner() public {
        expectNotOwner(treasury);
        market.setTreasury(stranger);
    }

    function test_setArbiter_replacesAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.ArbiterSet(stranger);
        vm.prank(owner);
        market.setArbiter(stranger);
        assertEq(market.arbiter(), stranger);
    }

    function test_setArbiter_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        vm.prank(owner);
        market.setArbiter(address(0));
    }

    function test_setArbiter_revertsWhenNotOwner() public {
        expectNotOwner(arbiter);
        market.setArbiter(stranger);
    }

    /* assets */

    function test_setAssetAllowed_allowsNewAssetForListings() public {
        TestToken other = new TestToken("Other", "OTH", 18);
        vm.expectEmit(address(market));
        emit IMarket.AssetAllowed(address(other), true);
        vm.prank(owner);
        market.setAssetAllowed(address(other), true);
        assertTrue(market.isAssetAllowed(address(other)));
        uint256 id = createListing(address(other), false, 1e18);
        assertEq(market.getListing(id).asset, address(other));
    }

    function test_setAssetAllowed_disallowBlocksNewListingsButNotEscrow() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        uint40 end = start + 4 * SLOT;
        uint256 id = bookAs(borrower, tl, start, end);

        vm.expectEmit(address(market));
        emit IMarket.AssetAllowed(address(token), false);
        vm.prank(owner);
        market.setAssetAllowed(address(token), false);
        assertFalse(market.isAssetAllowed(address(token)));

        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.AssetNotAllowed.selector, address(token)));
        vm.prank(lender);
        market.createListing(hostId, hw, address(token), false, 1, 1, 1, 0, "");

        // The escrowed booking still runs to settlement and pays out.
        activateAsAgent(id);
        vm.warp(end);
        reportAsAgent(id, DURATION);
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        vm.prank(lender);
        market.withdraw(address(token));
        assertEq(token.balanceOf(lender), 1_950_000);
    }

    function test_setAssetAllowed_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroAddress.selector));
        vm.prank(owner);
        market.setAssetAllowed(address(0), true);
    }

    function test_setAssetAllowed_revertsWhenNotOwner() public {
        expectNotOwner(lender);
        market.setAssetAllowed(address(token), false);
    }

    /* USD feed */

    function test_setUsdFeed_replacesFeedAndStalenessBound() public {
        vm.expectEmit(address(market));
        emit IMarket.UsdFeedSet(address(feed), 2 hours);
        vm.prank(owner);
        market.setUsdFeed(address(feed), 2 hours);
        assertEq(address(market.usdFeed()), address(feed));
        assertEq(market.usdFeedMaxAge(), 2 hours);

        uint256 usd = createListing(address(0), true, 3e18);
        uint40 start = slotAfter(2 days);
        uint256 updatedAt = feed.latestTimestamp();
        vm.warp(updatedAt + 2 hours);
        (uint256 price,) = market.quote(usd, start, start + 4 * SLOT);
        assertEq(price, 0.001 ether);
        vm.warp(updatedAt + 2 hours + 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.StalePrice.selector, updatedAt, 2 hours));
        market.quote(usd, start, start + 4 * SLOT);
    }

    function test_setUsdFeed_zeroDisablesUsdPricing() public {
        vm.expectEmit(address(market));
        emit IMarket.UsdFeedSet(address(0), 0);
        vm.prank(owner);
        market.setUsdFeed(address(0), 0);
        assertEq(address(market.usdFeed()), address(0));
        assertEq(market.usdFeedMaxAge(), 0);
    }

    function test_setUsdFeed_revertsOnZeroMaxAge() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadParams.selector));
        vm.prank(owner);
        market.setUsdFeed(address(feed), 0);
    }

    function test_setUsdFeed_revertsWhenNotOwner() public {
        expectNotOwner(stranger);
        market.setUsdFeed(address(0), 0);
    }

    /* pause */

    function test_pause_andUnpauseEmit() public {
        vm.expectEmit(address(market));
        emit IMarket.Paused(owner);
        vm.prank(owner);
        market.pause();
        assertTrue(market.paused());

        vm.expectEmit(address(market));
        emit IMarket.Unpaused(owner);
        vm.prank(owner);
        market.unpause();
        assertFalse(market.paused());

        (uint256 id,,) = bookDefault();
        assertEq(id, 1);
    }

    function test_pause_revertsWhenAlreadyPaused() public {
        vm.prank(owner);
        market.pause();
        vm.expectRevert(abi.encodeWithSelector(IMarket.PauseUnchanged.selector, true));
        vm.prank(owner);
        market.pause();
    }

    function test_unpause_revertsWhenNotPaused() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.PauseUnchanged.selector, false));
        vm.prank(owner);
        market.unpause();
    }

    function test_pause_revertsWhenNotOwner() public {
        expectNotOwner(stranger);
        market.pause();
    }

    function test_unpause_revertsWhenNotOwner() public {
        vm.prank(owner);
        market.pause();
        expectNotOwner(stranger);
        market.unpause();
    }

    /// @dev DESIGN.md: pause never blocks refunds, settlement or withdrawals; it stops only new listings and bookings.
    function test_pause_blocksOnlyNewListingsAndBookings() public {
        (uint256 toCancel,,) = bookDefault();
        (uint256 toRun, uint40 runStart, uint40 runEnd) = bookNative(2 days + 2 hours, 4);
        (uint256 toNoShow, uint40 noShowStart,) = bookNative(2 days + 4 hours, 4);
        vm.prank(owner);
        market.pause();

        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.EnforcedPause.selector));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IMarket.EnforcedPause.selector));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, runEnd + 1 days, runEnd + 1 days + SLOT, SESSION_KEY, SSH_KEY);

        vm.prank(borrower);
        market.cancel(toCancel);
        activateAsAgent(toRun);
        vm.warp(runStart + 1800);
        vm.prank(borrower);
        market.endSession(toRun);
        reportAsAgent(toRun, 1800);
        disputeAsBorrower(toRun);
        vm.prank(arbiter);
        market.resolveDispute(toRun, 900, 0);
        vm.warp(noShowStart + ACTIVATION_GRACE);
        market.claimNoShow(toNoShow);

        assertEq(uint8(statusOf(toCancel)), uint8(Status.Cancelled));
        assertEq(uint8(statusOf(toRun)), uint8(Status.Settled));
        assertEq(uint8(statusOf(toNoShow)), uint8(Status.NoShow));

        // cancel: 0.01; dispute at 900 of 3600 s: 0.0075 back; no-show: 0.01 + slash.
        uint256 owed = 0.01 ether + 0.0075 ether + 0.01 ether + NO_SHOW_SLASH;
        uint256 before = borrower.balance;
        vm.prank(borrower);
        assertEq(market.withdraw(address(0)), owed);
        assertEq(borrower.balance, before + owed);
        vm.prank(lender);
        assertEq(market.withdraw(address(0)), 0.002_437_5 ether);
    }

    /* Ownable2Step */

    function test_transferOwnership_isTwoStep() public {
        vm.expectEmit(address(market));
        emit OwnershipTransferStarted(owner, newOwner);
        vm.prank(owner);
        market.transferOwnership(newOwner);
        assertEq(market.owner(), owner);
        assertEq(market.pendingOwner(), newOwner);

        // Not yet the owner.
        expectNotOwner(newOwner);
        market.setFee(1);

        expectNotOwner(stranger);
        market.acceptOwnership();

        vm.expectEmit(address(market));
        emit OwnershipTransferred(owner, newOwner);
        vm.prank(newOwner);
        market.acceptOwnership();
        assertEq(market.owner(), newOwner);
        assertEq(market.pendingOwner(), address(0));

        expectNotOwner(owner);
        market.setFee(1);
        vm.prank(newOwner);
        market.setFee(1);
        assertEq(market.feeBps(), 1);
    }

    function test_transferOwnership_revertsWhenNotOwner() public {
        expectNotOwner(stranger);
        market.transferOwnership(stranger);
    }

    function test_renounceOwnership_isDisabled() public {
        vm.expectRevert(IMarket.RenounceDisabled.selector);
        vm.prank(owner);
        market.renounceOwnership();
        assertEq(market.owner(), owner);
    }

    function test_renounceOwnership_revertsWhenNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        market.renounceOwnership();
    }
}
