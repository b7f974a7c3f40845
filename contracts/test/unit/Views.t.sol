// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, MarketParams, Hardware} from "../../src/interfaces/IMarket.sol";

contract ViewsTest is UnitBase {
    function test_constants() public view {
        assertEq(market.MAX_FEE_BPS(), 1000);
        assertEq(market.MAX_CID_LENGTH(), 128);
        assertEq(market.MAX_SSH_KEY_LENGTH(), 1024);
        assertEq(market.MAX_ENDPOINT_LENGTH(), 4096);
        assertEq(market.MAX_GPU_MODEL_LENGTH(), 64);
        assertEq(market.MAX_REGION_LENGTH(), 32);
        assertEq(market.MAX_BOOKING_SLOTS(), 2880);
        assertEq(market.MAX_LEAD_TIME(), 30 days);
        assertEq(market.BOOKING_HORIZON(), 365 days);
        assertEq(market.DEFAULT_UPKEEP_SCAN(), 500);
        assertEq(market.DEFAULT_UPKEEP_BATCH(), 20);
    }

    function test_params_returnsDeploymentParams() public view {
        MarketParams memory p = market.params();
        assertEq(p.slotLength, SLOT);
        assertEq(p.activationGrace, ACTIVATION_GRACE);
        assertEq(p.reportGrace, REPORT_GRACE);
        assertEq(p.disputeWindow, DISPUTE_WINDOW);
        assertEq(p.arbiterDeadline, ARBITER_DEADLINE);
        assertEq(p.cancelCutoff, CANCEL_CUTOFF);
        assertEq(p.cancelFeeBps, CANCEL_FEE_BPS);
        assertEq(p.unbondingDelay, UNBONDING_DELAY);
        assertEq(p.minBond, MIN_BOND);
        assertEq(p.noShowSlash, NO_SHOW_SLASH);
    }

    function test_counts_trackCreations() public {
        assertEq(market.hostCount(), 1);
        assertEq(market.listingCount(), 1);
        assertEq(market.bookingCount(), 0);
        tokenListing();
        bookDefault();
        vm.prank(stranger);
        market.registerHost{value: MIN_BOND}(stranger, "");
        assertEq(market.hostCount(), 2);
        assertEq(market.listingCount(), 2);
        assertEq(market.bookingCount(), 1);
    }

    function test_getters_revertOnUnknownIds() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownHost.selector, 0));
        market.getHost(0);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownHost.selector, 2));
        market.getHost(2);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 0));
        market.getListing(0);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 2));
        market.getListing(2);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 2));
        market.getHardware(2);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 0));
        market.getBooking(0);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownBooking.selector, 1));
        market.getBooking(1);
    }

    function test_getHardware_returnsStoredHardware() public view {
        Hardware memory hw = market.getHardware(listingId);
        assertEq(hw.gpuModel, "NVIDIA H100 80GB HBM3");
        assertEq(hw.gpuCount, 1);
        assertEq(hw.vramMiBPerGpu, 81_559);
        assertEq(hw.cpuCores, 16);
        assertEq(hw.ramMiB, 128 * 1024);
        assertEq(hw.diskGiB, 500);
        assertEq(hw.region, "eu-west");
        assertEq(uint8(hw.confidential), 0);
    }

    /* quote */

    function test_quote_nativeFixedPrice() public view {
        uint40 start = slotAfter(2 days);
        (uint256 price, address asset) = market.quote(listingId, start, start + SLOT);
        assertEq(price, 0.0025 ether);
        assertEq(asset, address(0));
        (price,) = market.quote(listingId, start, start + 96 * SLOT);
        assertEq(price, 0.24 ether);
    }

    function test_quote_tokenPrice() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        (uint256 price, address asset) = market.quote(tl, start, start + 6 * SLOT);
        assertEq(price, 3e6);
        assertEq(asset, address(token));
    }

    function test_quote_usdPriceAtFeedAnswer() public {
        uint256 usd = createListing(address(0), true, 3e18);
        uint40 start = slotAfter(2 days);
        feed.updateAnswer(2500e8);
        // 3 USD at 2500 USD/ETH = 0.0012 ETH.
        (uint256 price, address asset) = market.quote(usd, start, start + 4 * SLOT);
        assertEq(price, 0.0012 ether);
        assertEq(asset, address(0));
    }

    function test_quote_revertsOnEmptyWindow() public {
        uint40 start = slotAfter(2 days);
        vm.expectRevert(abi.encodeWithSelector(IMarket.EmptyWindow.selector, start, start));
        market.quote(listingId, start, start);
    }

    function test_quote_revertsOnUnknownListing() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 3));
        market.quote(3, 0, 1);
    }

    function test_quote_usdRevertsOnBadFeed() public {
        uint256 usd = createListing(address(0), true, 3e18);
        feed.updateAnswer(-5);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadFeedAnswer.selector, int256(-5)));
        market.quote(usd, 0, 900);
    }

    /* isFree / calendarWord */

    function test_isFree_reflectsBookings() public {
        (, uint40 start, uint40 end) = bookDefault();
        assertFalse(market.isFree(listingId, start, end));
        assertFalse(market.isFree(listingId, start - SLOT, start + SLOT));
        assertTrue(market.isFree(listingId, start - SLOT, start));
        assertTrue(market.isFree(listingId, end, end + 10 * SLOT));
    }

    function test_isFree_revertsOnEmptyWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.EmptyWindow.selector, 1800, 900));
        market.isFree(listingId, 1800, 900);
    }

    function test_isFree_revertsOnMisalignedWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.MisalignedWindow.selector, 900, 1000, SLOT));
        market.isFree(listingId, 900, 1000);
    }

    function test_isFree_revertsOnUnknownListing() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 2));
        market.isFree(2, 0, 900);
    }

    function test_calendarWord_zeroForUnknownListing() public view {
        assertEq(market.calendarWord(99, 7000), 0);
    }
}
