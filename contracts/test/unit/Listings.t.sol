// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Listing, Hardware, Confidential, Status} from "../../src/interfaces/IMarket.sol";
import {TestToken} from "../../src/mocks/TestToken.sol";

contract ListingsTest is UnitBase {
    /* createListing */

    function test_createListing_nativeStoresListingAndEmits() public {
        Hardware memory hw = gpuHardware();
        hw.gpuCount = 8;
        hw.confidential = Confidential.Tdx;

        vm.expectEmit(address(market));
        emit IMarket.ListingCreated(2, hostId, hw, address(0), false, 5 ether, 2, 48, 2 hours, "bafyeight");
        vm.prank(lender);
        uint256 id = market.createListing(hostId, hw, address(0), false, 5 ether, 2, 48, 2 hours, "bafyeight");

        assertEq(id, 2);
        assertEq(market.listingCount(), 2);
        Listing memory lst = market.getListing(id);
        assertEq(lst.hostId, hostId);
        assertEq(lst.pricePerHour, 5 ether);
        assertEq(lst.minSlots, 2);
        assertEq(lst.maxSlots, 48);
        assertEq(lst.leadTime, 2 hours);
        assertTrue(lst.active);
        assertFalse(lst.usdPriced);
        assertEq(lst.asset, address(0));
        assertEq(lst.metadataCid, "bafyeight");
        assertEq(abi.encode(market.getHardware(id)), abi.encode(hw));
    }

    function test_createListing_erc20StoresAsset() public {
        vm.expectEmit(address(market));
        emit IMarket.ListingCreated(
            2, hostId, gpuHardware(), address(token), false, TOKEN_PRICE_PER_HOUR, 1, 96, LEAD_TIME, "bafylisting"
        );
        uint256 id = tokenListing();
        Listing memory lst = market.getListing(id);
        assertEq(lst.asset, address(token));
        assertFalse(lst.usdPriced);
        (uint256 price, address asset) = market.quote(id, slotAfter(2 days), slotAfter(2 days) + 4 * SLOT);
        assertEq(price, TOKEN_PRICE_PER_HOUR);
        assertEq(asset, address(token));
    }

    function test_createListing_usdPricedStoresFlag() public {
        vm.expectEmit(address(market));
        emit IMarket.ListingCreated(2, hostId, gpuHardware(), address(0), true, 3e18, 1, 96, LEAD_TIME, "bafylisting");
        uint256 id = createListing(address(0), true, 3e18);
        Listing memory lst = market.getListing(id);
        assertTrue(lst.usdPriced);
        assertEq(lst.asset, address(0));
        // 3 USD/h at 3000 USD/ETH = 0.001 ETH per hour.
        (uint256 price, address asset) = market.quote(id, slotAfter(2 days), slotAfter(2 days) + 4 * SLOT);
        assertEq(price, 0.001 ether);
        assertEq(asset, address(0));
    }

    function test_createListing_acceptsCpuOnlyHardware() public {
        Hardware memory hw = gpuHardware();
        hw.gpuModel = "";
        hw.gpuCount = 0;
        hw.vramMiBPerGpu = 0;
        vm.prank(lender);
        uint256 id = market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
        assertEq(market.getHardware(id).gpuCount, 0);
        assertEq(market.getHardware(id).gpuModel, "");
    }

    function test_createListing_acceptsBoundaryTerms() public {
        vm.prank(lender);
        uint256 id = market.createListing(hostId, gpuHardware(), address(0), false, 1, 2880, 2880, 30 days, "");
        Listing memory lst = market.getListing(id);
        assertEq(lst.minSlots, 2880);
        assertEq(lst.maxSlots, 2880);
        assertEq(lst.leadTime, 30 days);
    }

    function test_createListing_revertsWhenNotLender() public {
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, agent));
        vm.prank(agent);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsOnUnknownHost() public {
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownHost.selector, 5));
        vm.prank(lender);
        market.createListing(5, hw, address(0), false, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsWhileUnbonding() public {
        vm.prank(lender);
        market.requestUnbond(hostId);
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.HostUnbonding.selector, hostId));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsBelowMinBond() public {
        vm.startPrank(lender);
        market.requestUnbond(hostId);
        vm.warp(vm.getBlockTimestamp() + UNBONDING_DELAY);
        market.withdrawBond(hostId, 1);
        market.cancelUnbond(hostId);
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.InsufficientBond.selector, MIN_BOND - 1, MIN_BOND));
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
        vm.stopPrank();
    }

    function test_createListing_revertsOnModelWithoutGpus() public {
        Hardware memory hw = gpuHardware();
        hw.gpuCount = 0;
        expectBadHardware(hw);
    }

    function test_createListing_revertsOnGpusWithoutModel() public {
        Hardware memory hw = gpuHardware();
        hw.gpuModel = "";
        expectBadHardware(hw);
    }

    function test_createListing_revertsOnVramWithoutGpus() public {
        Hardware memory hw = gpuHardware();
        hw.gpuModel = "";
        hw.gpuCount = 0;
        expectBadHardware(hw);
    }

    function test_createListing_revertsOnGpusWithoutVram() public {
        Hardware memory hw = gpuHardware();
        hw.vramMiBPerGpu = 0;
        expectBadHardware(hw);
    }

    function test_createListing_revertsOnZeroCpuCores() public {
        Hardware memory hw = gpuHardware();
        hw.cpuCores = 0;
        expectBadHardware(hw);
    }

    function test_createListing_revertsOnZeroRam() public {
        Hardware memory hw = gpuHardware();
        hw.ramMiB = 0;
        expectBadHardware(hw);
    }

    function test_createListing_revertsOnTooLongGpuModel() public {
        Hardware memory hw = gpuHardware();
        hw.gpuModel = string(new bytes(65));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 65, 64));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsOnTooLongRegion() public {
        Hardware memory hw = gpuHardware();
        hw.region = string(new bytes(33));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 33, 32));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsOnTooLongCid() public {
        Hardware memory hw = gpuHardware();
        string memory cid = string(new bytes(129));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 129, 128));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, cid);
    }

    function test_createListing_revertsOnZeroPrice() public {
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroPrice.selector));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 0, 1, 1, 0, "");
    }

    function test_createListing_revertsOnAssetNotAllowed() public {
        TestToken other = new TestToken("Other", "OTH", 18);
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.AssetNotAllowed.selector, address(other)));
        vm.prank(lender);
        market.createListing(hostId, hw, address(other), false, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsOnUsdPricedTokenAsset() public {
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.UsdPricingUnavailable.selector));
        vm.prank(lender);
        market.createListing(hostId, hw, address(token), true, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsOnUsdPricedWithoutFeed() public {
        vm.prank(owner);
        market.setUsdFeed(address(0), 0);
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.UsdPricingUnavailable.selector));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), true, 1, 1, 1, 0, "");
    }

    function test_createListing_revertsOnZeroMinSlots() public {
        expectBadTerms(0, 1, 0);
    }

    function test_createListing_revertsOnMinAboveMax() public {
        expectBadTerms(5, 4, 0);
    }

    function test_createListing_revertsOnMaxAboveCap() public {
        expectBadTerms(1, 2881, 0);
    }

    function test_createListing_revertsOnLeadTimeTooLong() public {
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.LeadTimeTooLong.selector, 30 days + 1, 30 days));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 30 days + 1, "");
    }

    function test_createListing_revertsWhilePaused() public {
        vm.prank(owner);
        market.pause();
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.EnforcedPause.selector));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
    }

    /* setListingPrice */

    function test_setListingPrice_appliesToNewBookingsOnly() public {
        (uint256 id,, uint40 end) = bookDefault();

        vm.expectEmit(address(market));
        emit IMarket.ListingPriceUpdated(listingId, 0.04 ether);
        vm.prank(lender);
        market.setListingPrice(listingId, 0.04 ether);
        assertEq(market.getListing(listingId).pricePerHour, 0.04 ether);

        (uint256 newPrice,) = market.quote(listingId, end, end + 4 * SLOT);
        assertEq(newPrice, 0.04 ether);
        assertEq(bookingOf(id).price, PRICE_PER_HOUR);

        // The old booking settles on the price it escrowed.
        activateAsAgent(id);
        vm.warp(end);
        reportAsAgent(id, DURATION);
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        assertEq(nativeCredit(lender), 0.009_75 ether);
        assertEq(nativeCredit(treasury), 0.000_25 ether);
        assertEq(nativeCredit(borrower), 0);
    }

    function test_setListingPrice_revertsOnZeroPrice() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.ZeroPrice.selector));
        vm.prank(lender);
        market.setListingPrice(listingId, 0);
    }

    function test_setListingPrice_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, stranger));
        vm.prank(stranger);
        market.setListingPrice(listingId, 1);
    }

    function test_setListingPrice_revertsOnUnknownListing() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 9));
        vm.prank(lender);
        market.setListingPrice(9, 1);
    }

    /* setListingTerms */

    function test_setListingTerms_updatesAndEnforcesOnNewBookings() public {
        vm.expectEmit(address(market));
        emit IMarket.ListingTermsUpdated(listingId, 2, 8, 1 days);
        vm.prank(lender);
        market.setListingTerms(listingId, 2, 8, 1 days);
        Listing memory lst = market.getListing(listingId);
        assertEq(lst.minSlots, 2);
        assertEq(lst.maxSlots, 8);
        assertEq(lst.leadTime, 1 days);

        uint40 start = slotAfter(2 days);
        vm.expectRevert(abi.encodeWithSelector(IMarket.DurationOutOfRange.selector, 1, 2, 8));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR / 4}(listingId, start, start + SLOT, SESSION_KEY, SSH_KEY);

        uint40 soon = slotAfter(2 hours);
        vm.expectRevert(abi.encodeWithSelector(IMarket.StartTooSoon.selector, soon, vm.getBlockTimestamp() + 1 days));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, soon, soon + 4 * SLOT, SESSION_KEY, SSH_KEY);
    }

    function test_setListingTerms_revertsOnBadBounds() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadDurationBounds.selector, 3, 2));
        vm.prank(lender);
        market.setListingTerms(listingId, 3, 2, 0);
    }

    function test_setListingTerms_revertsOnLeadTimeTooLong() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.LeadTimeTooLong.selector, 31 days, 30 days));
        vm.prank(lender);
        market.setListingTerms(listingId, 1, 2, 31 days);
    }

    function test_setListingTerms_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, agent));
        vm.prank(agent);
        market.setListingTerms(listingId, 1, 2, 0);
    }

    /* setListingActive */

    function test_setListingActive_blocksNewBookingsButNotExisting() public {
        (uint256 id,, uint40 end) = bookDefault();

        vm.expectEmit(address(market));
        emit IMarket.ListingActiveSet(listingId, false);
        vm.prank(lender);
        market.setListingActive(listingId, false);
        assertFalse(market.getListing(listingId).active);

        vm.expectRevert(abi.encodeWithSelector(IMarket.ListingInactive.selector, listingId));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, end, end + 4 * SLOT, SESSION_KEY, SSH_KEY);

        activateAsAgent(id);
        assertEq(uint8(statusOf(id)), uint8(Status.Active));

        vm.expectEmit(address(market));
        emit IMarket.ListingActiveSet(listingId, true);
        vm.prank(lender);
        market.setListingActive(listingId, true);
        vm.prank(borrower);
        uint256 id2 = market.book{value: PRICE_PER_HOUR}(listingId, end, end + 4 * SLOT, SESSION_KEY, SSH_KEY);
        assertEq(id2, 2);
    }

    function test_setListingActive_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, borrower));
        vm.prank(borrower);
        market.setListingActive(listingId, false);
    }

    /* setListingMetadata */

    function test_setListingMetadata_replacesCidAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.ListingMetadataUpdated(listingId, "bafynewlisting");
        vm.prank(lender);
        market.setListingMetadata(listingId, "bafynewlisting");
        assertEq(market.getListing(listingId).metadataCid, "bafynewlisting");
    }

    function test_setListingMetadata_revertsOnTooLongCid() public {
        string memory cid = string(new bytes(129));
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 129, 128));
        vm.prank(lender);
        market.setListingMetadata(listingId, cid);
    }

    function test_setListingMetadata_revertsWhenNotLender() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NotLender.selector, hostId, stranger));
        vm.prank(stranger);
        market.setListingMetadata(listingId, "x");
    }

    function test_listingUpdates_workWhilePaused() public {
        vm.prank(owner);
        market.pause();
        vm.startPrank(lender);
        market.setListingPrice(listingId, 7);
        market.setListingTerms(listingId, 1, 4, 0);
        market.setListingActive(listingId, false);
        market.setListingMetadata(listingId, "p");
        vm.stopPrank();
        Listing memory lst = market.getListing(listingId);
        assertEq(lst.pricePerHour, 7);
        assertEq(lst.maxSlots, 4);
        assertFalse(lst.active);
        assertEq(lst.metadataCid, "p");
    }

    /* helpers */

    function expectBadHardware(Hardware memory hw) internal {
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadHardware.selector));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, 1, 1, 0, "");
    }

    function expectBadTerms(uint16 minSlots, uint16 maxSlots, uint32 leadTime) internal {
        Hardware memory hw = gpuHardware();
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadDurationBounds.selector, minSlots, maxSlots));
        vm.prank(lender);
        market.createListing(hostId, hw, address(0), false, 1, minSlots, maxSlots, leadTime, "");
    }
}
