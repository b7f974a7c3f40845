// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {UnitBase} from "./UnitBase.sol";
import {IMarket} from "../../src/interfaces/IMarket.sol";
import {CalendarLib} from "../../src/libraries/CalendarLib.sol";

contract CalendarHarness {
    using CalendarLib for mapping(uint256 => uint256);

    mapping(uint256 => uint256) internal words;

    function reserve(uint256 s0, uint256 s1) external returns (bool) {
        return words.reserve(s0, s1);
    }

    function release(uint256 s0, uint256 s1) external {
        words.release(s0, s1);
    }

    function isFree(uint256 s0, uint256 s1) external view returns (bool) {
        return words.isFree(s0, s1);
    }

    function word(uint256 index) external view returns (uint256) {
        return words[index];
    }

    function mask(uint256 from, uint256 to) external pure returns (uint256) {
        return CalendarLib.mask(from, to);
    }
}

contract CalendarLibTest is Test {
    CalendarHarness internal cal;

    uint256 internal constant ALL = type(uint256).max;

    function setUp() public {
        cal = new CalendarHarness();
    }

    function test_mask_values() public view {
        assertEq(cal.mask(0, 1), 1);
        assertEq(cal.mask(3, 7), 0x78);
        assertEq(cal.mask(255, 256), 1 << 255);
        assertEq(cal.mask(0, 255), ALL >> 1);
        assertEq(cal.mask(1, 256), ALL - 1);
        assertEq(cal.mask(0, 256), ALL);
    }

    function test_reserve_withinOneWord() public {
        assertTrue(cal.reserve(3, 7));
        assertEq(cal.word(0), 0x78);
        assertFalse(cal.isFree(6, 8));
        assertTrue(cal.isFree(7, 8));
        assertTrue(cal.isFree(0, 3));
    }

    function test_reserve_crossesWordBoundary() public {
        assertTrue(cal.reserve(250, 260));
        assertEq(cal.word(0), uint256(0x3f) << 250);
        assertEq(cal.word(1), 0xf);
        assertFalse(cal.isFree(250, 260));
        assertFalse(cal.isFree(255, 256));
        assertFalse(cal.isFree(256, 257));
        assertFalse(cal.isFree(259, 300));
        assertTrue(cal.isFree(249, 250));
        assertTrue(cal.isFree(260, 512));
        assertTrue(cal.isFree(0, 250));
    }

    function test_reserve_refusesOverlapInEitherWord() public {
        assertTrue(cal.reserve(250, 260));
        assertFalse(cal.reserve(240, 251));
        assertFalse(cal.reserve(259, 262));
        assertFalse(cal.reserve(255, 257));
        assertEq(cal.word(0), uint256(0x3f) << 250);
        assertEq(cal.word(1), 0xf);
    }

    /// @dev reserve returns false after writing earlier words: callers must revert (Market.book does).
    function test_reserve_failureMayLeavePartialWrites() public {
        assertTrue(cal.reserve(300, 310));
        assertFalse(cal.reserve(250, 305));
        assertEq(cal.word(0), uint256(0x3f) << 250);
    }

    function test_reserve_fullWord() public {
        assertTrue(cal.reserve(256, 512));
        assertEq(cal.word(0), 0);
        assertEq(cal.word(1), ALL);
        assertEq(cal.word(2), 0);
        assertFalse(cal.reserve(511, 512));
        assertTrue(cal.reserve(255, 256));
        assertTrue(cal.reserve(512, 513));

        cal.release(256, 512);
        assertEq(cal.word(1), 0);
        assertEq(cal.word(0), 1 << 255);
        assertEq(cal.word(2), 1);
    }

    function test_reserve_spansThreeWords() public {
        assertTrue(cal.reserve(100, 700));
        assertEq(cal.word(0), cal.mask(100, 256));
        assertEq(cal.word(1), ALL);
        assertEq(cal.word(2), (uint256(1) << 188) - 1);
        assertFalse(cal.isFree(699, 700));
        assertTrue(cal.isFree(700, 701));
    }

    function test_release_thenRebook() public {
        assertTrue(cal.reserve(250, 260));
        cal.release(250, 260);
        assertEq(cal.word(0), 0);
        assertEq(cal.word(1), 0);
        assertTrue(cal.isFree(250, 260));
        assertTrue(cal.reserve(250, 260));
        assertEq(cal.word(1), 0xf);
    }

    function test_release_leavesNeighboursTaken() public {
        assertTrue(cal.reserve(0, 10));
        assertTrue(cal.reserve(10, 20));
        cal.release(0, 10);
        assertEq(cal.word(0), cal.mask(10, 20));
        cal.release(252, 258); // never taken: stays free
        assertEq(cal.word(0), cal.mask(10, 20));
        assertEq(cal.word(1), 0);
    }

    function test_emptyRange_isNoOp() public {
        assertTrue(cal.reserve(5, 5));
        assertTrue(cal.isFree(5, 5));
        assertEq(cal.word(0), 0);
    }
}

/// @notice The same calendar seen through the market, on a window that crosses a word boundary.
contract MarketCalendarTest is UnitBase {
    uint256 internal boundary; // first slot of a calendar word, a few days ahead
    uint256 internal w; // that word's index

    function setUp() public override {
        super.setUp();
        boundary = ((slotAfter(2 days) / SLOT) / 256 + 1) * 256;
        w = boundary / 256;
    }

    function at(uint256 slot) internal pure returns (uint40) {
        return uint40(slot * SLOT);
    }

    function test_book_acrossWordBoundarySetsBothWords() public {
        uint256 id = bookAs(borrower, listingId, at(boundary - 6), at(boundary + 4));
        assertEq(market.calendarWord(listingId, w - 1), uint256(0x3f) << 250);
        assertEq(market.calendarWord(listingId, w), 0xf);
        assertFalse(market.isFree(listingId, at(boundary - 1), at(boundary)));
        assertFalse(market.isFree(listingId, at(boundary), at(boundary + 1)));
        assertTrue(market.isFree(listingId, at(boundary + 4), at(boundary + 8)));

        // Overlapping only the part in the second word.
        vm.expectRevert(
            abi.encodeWithSelector(IMarket.SlotTaken.selector, listingId, at(boundary + 3), at(boundary + 5))
        );
        vm.prank(stranger);
        market.book{value: PRICE_PER_HOUR / 2}(listingId, at(boundary + 3), at(boundary + 5), SESSION_KEY, SSH_KEY);

        vm.prank(borrower);
        market.cancel(id);
        assertEq(market.calendarWord(listingId, w - 1), 0);
        assertEq(market.calendarWord(listingId, w), 0);

        bookAs(stranger, listingId, at(boundary - 6), at(boundary + 4));
        assertEq(market.calendarWord(listingId, w), 0xf);
    }

    function test_book_failedOverlapWritesNothing() public {
        bookAs(borrower, listingId, at(boundary + 2), at(boundary + 4));
        vm.expectRevert(
            abi.encodeWithSelector(IMarket.SlotTaken.selector, listingId, at(boundary - 4), at(boundary + 3))
        );
        vm.prank(stranger);
        market.book{value: PRICE_PER_HOUR * 7 / 4}(listingId, at(boundary - 4), at(boundary + 3), SESSION_KEY, SSH_KEY);
        assertEq(market.calendarWord(listingId, w - 1), 0);
        assertEq(market.calendarWord(listingId, w), 0xc);
    }

    function test_book_fullWord() public {
        vm.prank(lender);
        uint256 long = market.createListing(hostId, gpuHardware(), address(0), false, PRICE_PER_HOUR, 1, 300, 0, "");
        uint256 id = bookAs(borrower, long, at(boundary), at(boundary + 256));
        assertEq(bookingOf(id).price, 0.64 ether);
        assertEq(market.calendarWord(long, w), type(uint256).max);
        assertEq(market.calendarWord(long, w - 1), 0);
        assertEq(market.calendarWord(long, w + 1), 0);
        // The default listing's calendar is separate.
        assertEq(market.calendarWord(listingId, w), 0);

        vm.prank(agent);
        market.decline(id, 6);
        assertEq(market.calendarWord(long, w), 0);
    }
}
