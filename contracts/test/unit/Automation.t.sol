// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Status} from "../../src/interfaces/IMarket.sol";

contract AutomationTest is UnitBase {
    address internal keeper = makeAddr("keeper");

    /// @dev 1: reported and ripe; 2: booked for next month (not ripe); 3: never activated, ripe no-show;
    /// 4: cancelled. Leaves the clock where 1 and 3 are ripe.
    function mixedBookings() internal {
        (uint256 id1,, uint40 end1) = bookDefault();
        bookNative(30 days, 4);
        bookNative(2 days + 2 hours, 4);
        (uint256 id4,,) = bookNative(2 days + 4 hours, 4);
        vm.prank(borrower);
        market.cancel(id4);
        activateAsAgent(id1);
        vm.warp(end1);
        reportAsAgent(id1, DURATION);
        vm.warp(end1 + DISPUTE_WINDOW);
    }

    function ids(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function ids(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        r[0] = a;
        r[1] = b;
    }

    function range(uint256 from, uint256 scan, uint256 maxBatch) internal pure returns (bytes memory) {
        return abi.encode(from, scan, maxBatch);
    }

    function assertCheck(bytes memory checkData, bool needed, uint256[] memory expected) internal view {
        (bool upkeepNeeded, bytes memory performData) = market.checkUpkeep(checkData);
        assertEq(upkeepNeeded, needed);
        assertEq(performData, abi.encode(expected));
    }

    /* checkUpkeep */

    function test_checkUpkeep_nothingToDoWithoutBookings() public view {
        assertCheck("", false, new uint256[](0));
    }

    function test_checkUpkeep_returnsRipeIdsOnly() public {
        mixedBookings();
        assertCheck("", true, ids(1, 3));
    }

    function test_checkUpkeep_nothingRipeYet() public {
        bookDefault();
        assertCheck("", false, new uint256[](0));
    }

    function test_checkUpkeep_checkDataSelectsRange() public {
        mixedBookings();
        assertCheck(range(3, 10, 20), true, ids(3));
        assertCheck(range(2, 1, 20), false, new uint256[](0));
        assertCheck(range(4, 10, 20), false, new uint256[](0));
        assertCheck(range(1, 0, 20), false, new uint256[](0));
        // From 0 reads as from 1; a scan past the last id stops there.
        assertCheck(range(0, 2, 20), true, ids(1));
        assertCheck(range(2, 1000, 20), true, ids(3));
        assertCheck(range(99, 10, 20), false, new uint256[](0));
    }

    function test_checkUpkeep_checkDataCapsBatch() public {
        mixedBookings();
        assertCheck(range(1, 100, 1), true, ids(1));
        assertCheck(range(1, 100, 0), false, new uint256[](0));
    }

    function test_checkUpkeep_defaultBatchIsTwenty() public {
        for (uint256 i; i < 21; ++i) {
            bookNative(2 days + i * SLOT, 1);
        }
        vm.warp(slotAfter(2 days) + 21 * SLOT + ACTIVATION_GRACE);

        (bool needed, bytes memory performData) = market.checkUpkeep("");
        uint256[] memory found = abi.decode(performData, (uint256[]));
        assertTrue(needed);
        assertEq(found.length, 20);
        assertEq(found[0], 1);
        assertEq(found[19], 20);

        market.performUpkeep(performData);
        assertEq(market.upkeepCursor(), 21);
        assertCheck("", true, ids(21));
    }

    /// @dev The default scan covers DEFAULT_UPKEEP_SCAN ids from the cursor; later ids need checkData.
    function test_checkUpkeep_hugeRangesNeitherOverflowNorOverallocate() public {
        bookNative(2 days, 1);
        vm.warp(slotAfter(2 days) + ACTIVATION_GRACE);
        assertCheck(range(1, type(uint256).max, type(uint256).max), true, ids(1));
        assertCheck(range(type(uint256).max, type(uint256).max, 5), false, new uint256[](0));
    }

    function test_checkUpkeep_defaultScanStopsAfter500Ids() public {
        bookNative(30 days, 1); // id 1 stays open and holds the cursor
        for (uint256 i; i < 500; ++i) {
            bookNative(2 days + i * SLOT, 1);
        }
        vm.warp(slotAfter(2 days) + 500 * SLOT + ACTIVATION_GRACE);

        (bool needed, bytes memory performData) = market.checkUpkeep(range(1, 500, 1000));
        assertTrue(needed);
        // A batch is capped at MAX_UPKEEP_BATCH whatever checkData asks.
        assertEq(abi.decode(performData, (uint256[])).length, market.MAX_UPKEEP_BATCH());
        (, performData) = market.checkUpkeep(range(1, 500, 200));
        assertEq(abi.decode(performData, (uint256[])).length, 200);
        (, performData) = market.checkUpkeep(range(402, 500, 200)); // the scan stops at the last booking, 501
        assertEq(abi.decode(performData, (uint256[])).length, 100);
        (, performData) = market.checkUpkeep("");
        uint256[] memory found = abi.decode(performData, (uint256[]));
        assertEq(found.length, 20);
        assertEq(found[0], 2);
        assertCheck(range(501, 500, 20), true, ids(501));
    }

    /* performUpkeep */

    function test_performUpkeep_settlesAndNoShowsRipeBookings() public {
        mixedBookings();
        (, bytes memory performData) = market.checkUpkeep("");

        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(1, keeper, DURATION, 0.009_75 ether, 0.000_25 ether, 0);
        vm.expectEmit(address(market));
        emit IMarket.NoShowClaimed(3, keeper, PRICE_PER_HOUR, NO_SHOW_SLASH);
        vm.prank(keeper);
        market.performUpkeep(performData);

        assertEq(uint8(statusOf(1)), uint8(Status.Settled));
        assertEq(uint8(statusOf(2)), uint8(Status.Booked));
        assertEq(uint8(statusOf(3)), uint8(Status.NoShow));
        assertEq(nativeCredit(lender), 0.009_75 ether);
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR + PRICE_PER_HOUR + NO_SHOW_SLASH); // cancel + no-show
        assertEq(market.upkeepCursor(), 2);
        assertCheck("", false, new uint256[](0));
    }

    function test_performUpkeep_skipsNonRipeUnknownAndRepeatedIds() public {
        mixedBookings();
        uint256[] memory list = new uint256[](6);
        list[0] = 2; // not ripe
        list[1] = 99; // unknown
        list[2] = 1;
        list[3] = 1; // settled a moment ago
        list[4] = 4; // cancelled
        list[5] = 0;

        vm.recordLogs();
        market.performUpkeep(abi.encode(list));
        // Settlement of 1 only: BookingSettled and two credits.
        assertEq(vm.getRecordedLogs().length, 3);
        assertEq(uint8(statusOf(1)), uint8(Status.Settled));
        assertEq(uint8(statusOf(2)), uint8(Status.Booked));
        assertEq(uint8(statusOf(3)), uint8(Status.Booked));
        assertEq(nativeCredit(lender), 0.009_75 ether);
        assertEq(host().completed, 1);
    }

    function test_performUpkeep_settlesEveryRipeKind() public {
        (uint256 reported,, uint40 end) = bookDefault();
        (uint256 unreported,,) = bookNative(2 days + 1 hours, 4);
        (uint256 disputed,,) = bookNative(2 days + 2 hours, 4);
        activateAsAgent(reported);
        activateAsAgent(unreported);
        activateAsAgent(disputed);
        vm.warp(end);
        reportAsAgent(reported, 1800);
        vm.warp(end + 2 hours);
        disputeAsBorrower(disputed); // unreported: claims full use
        vm.warp(end + 2 hours + ARBITER_DEADLINE);

        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(reported, keeper, 1800, 0.004_875 ether, 0.000_125 ether, 0.005 ether);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(unreported, keeper, DURATION, 0.009_75 ether, 0.000_25 ether, 0);
        vm.expectEmit(address(market));
        emit IMarket.DisputeResolved(disputed, address(0), DURATION, 0);
        vm.expectEmit(address(market));
        emit IMarket.BookingSettled(disputed, keeper, DURATION, 0.009_75 ether, 0.000_25 ether, 0);
        vm.prank(keeper);
        market.performUpkeep(abi.encode(ids(reported, unreported, disputed)));

        assertEq(host().completed, 3);
        assertEq(host().openBookings, 0);
        assertEq(market.upkeepCursor(), 4);
        assertEq(nativeCredit(lender), 0.004_875 ether + 2 * 0.009_75 ether);
    }

    function ids(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function test_performUpkeep_emptyBatchOnlyAdvancesCursor() public {
        (uint256 id,,) = bookDefault();
        bookNative(3 days, 4);
        vm.prank(borrower);
        market.cancel(id);
        assertEq(market.upkeepCursor(), 1);

        vm.recordLogs();
        market.performUpkeep(abi.encode(new uint256[](0)));
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(market.upkeepCursor(), 2);
    }

    function test_performUpkeep_cursorStopsAfterLastBooking() public {
        (uint256 id,,) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
        market.performUpkeep(abi.encode(new uint256[](0)));
        assertEq(market.upkeepCursor(), 2);
        market.performUpkeep(abi.encode(new uint256[](0)));
        assertEq(market.upkeepCursor(), 2);
    }

    function test_performUpkeep_cursorAdvancesAtMost64PerCall() public {
        for (uint256 i; i < 70; ++i) {
            (uint256 id,,) = bookNative(2 days + i * SLOT, 1);
            vm.prank(borrower);
            market.cancel(id);
        }
        market.performUpkeep(abi.encode(new uint256[](0)));
        assertEq(market.upkeepCursor(), 65);
        market.performUpkeep(abi.encode(new uint256[](0)));
        assertEq(market.upkeepCursor(), 71);
    }

    function test_performUpkeep_worksWhilePaused() public {
        mixedBookings();
        vm.prank(owner);
        market.pause();
        market.performUpkeep(abi.encode(ids(1, 3)));
        assertEq(uint8(statusOf(1)), uint8(Status.Settled));
        assertEq(uint8(statusOf(3)), uint8(Status.NoShow));
    }
}
