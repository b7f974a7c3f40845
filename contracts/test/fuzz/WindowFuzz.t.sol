// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {IMarket, Status, Booking} from "../../src/interfaces/IMarket.sol";

/// @notice Calendar windows: alignment, booking, overlap iff intersection, adjacency, and release.
/// Windows are handled in slot numbers (timestamp / SLOT) and converted to timestamps at the call.
contract WindowFuzzTest is MarketFixture {
    uint256 internal constant MAX_SLOTS = 2880;
    uint256 internal lid; // lead time 0, 1..2880 slots, 1 wei per second
    uint256 internal lid2; // same terms, same host: a second, independent calendar
    uint256 internal s0; // first slot that starts at or after now

    function setUp() public override {
        super.setUp();
        vm.startPrank(lender);
        lid = market.createListing(hostId, gpuHardware(), address(0), false, 3600, 1, uint16(MAX_SLOTS), 0, "w");
        lid2 = market.createListing(hostId, gpuHardware(), address(0), false, 3600, 1, uint16(MAX_SLOTS), 0, "w2");
        vm.stopPrank();
        s0 = (block.timestamp + SLOT - 1) / SLOT;
    }

    function _book(uint256 lst, uint256 fromSlot, uint256 toSlot) internal returns (uint256 id) {
        (uint40 start, uint40 end) = (uint40(fromSlot * SLOT), uint40(toSlot * SLOT));
        (uint256 price,) = market.quote(lst, start, end);
        vm.deal(borrower, price);
        vm.prank(borrower);
        id = market.book{value: price}(lst, start, end, SESSION_KEY, SSH_KEY);
    }

    function _expectSlotTaken(uint256 lst, uint256 fromSlot, uint256 toSlot) internal {
        (uint40 start, uint40 end) = (uint40(fromSlot * SLOT), uint40(toSlot * SLOT));
        vm.deal(borrower, 1 ether);
        vm.prank(borrower);
        vm.expectRevert(abi.encodeWithSelector(IMarket.SlotTaken.selector, lst, start, end));
        market.book{value: toSlot - fromSlot}(lst, start, end, SESSION_KEY, SSH_KEY);
    }

    /// @dev Number of taken slots of listing `l` in the calendar words that [fromSlot, toSlot) touches.
    function _taken(uint256 lst, uint256 fromSlot, uint256 toSlot) internal view returns (uint256 n) {
        for (uint256 w = fromSlot >> 8; w <= (toSlot - 1) >> 8; ++w) {
            uint256 bits = market.calendarWord(lst, w);
            while (bits != 0) {
                bits &= bits - 1;
                ++n;
            }
        }
    }

    function _free(uint256 lst, uint256 fromSlot, uint256 toSlot) internal view returns (bool) {
        return market.isFree(lst, uint40(fromSlot * SLOT), uint40(toSlot * SLOT));
    }

    /// @dev A slot a few words ahead of now, so that windows around it straddle calendar-word boundaries.
    function _base() internal view returns (uint256) {
        return (((s0 >> 8) + 3) << 8) - 300;
    }

    function testFuzz_misalignedWindow_reverts(uint256 startSlot, uint256 len, uint256 offset, uint8 which) public {
        startSlot = s0 + _bound(startSlot, 0, 40_000);
        len = _bound(len, 1, MAX_SLOTS + 10);
        offset = _bound(offset, 1, SLOT - 1);
        which = uint8(_bound(which, 0, 2)); // 0: start off the grid, 1: end off the grid, 2: both
        uint256 start = startSlot * SLOT + (which != 1 ? offset : 0);
        uint256 end = (startSlot + len) * SLOT + (which != 0 ? SLOT - offset : 0);
        bytes memory err = abi.encodeWithSelector(IMarket.MisalignedWindow.selector, start, end, SLOT);

        vm.deal(borrower, 1 ether);
        vm.prank(borrower);
        vm.expectRevert(err);
        market.book{value: 1}(lid, uint40(start), uint40(end), SESSION_KEY, SSH_KEY);
        vm.expectRevert(err);
        market.isFree(lid, uint40(start), uint40(end));
        assertEq(market.bookingCount(), 0);
        assertEq(_taken(lid, startSlot, startSlot + len + 1), 0, "a refused window reserves nothing");
    }

    function testFuzz_alignedValidWindow_books(uint256 startSlot, uint256 len) public {
        uint256 lastStart = (block.timestamp + 365 days) / SLOT; // BOOKING_HORIZON
        startSlot = _bound(startSlot, s0, lastStart);
        len = _bound(len, 1, MAX_SLOTS);

        assertTrue(_free(lid, startSlot, startSlot + len));
        uint256 id = _book(lid, startSlot, startSlot + len);

        Booking memory b = market.getBooking(id);
        assertEq(b.start, startSlot * SLOT);
        assertEq(b.end, (startSlot + len) * SLOT);
        assertEq(uint8(b.status), uint8(Status.Booked));
        assertEq(b.price, len * SLOT, "1 wei per second");
        // Exactly the window's slots are taken: none before, none after, none on the other listing.
        assertEq(_taken(lid, startSlot - 1, startSlot + len + 1), len);
        assertFalse(_free(lid, startSlot, startSlot + 1));
        assertFalse(_free(lid, startSlot + len - 1, startSlot + len));
        assertTrue(_free(lid, startSlot - 1, startSlot));
        assertTrue(_free(lid, startSlot + len, startSlot + len + 1));
        assertTrue(_free(lid2, startSlot, startSlot + len));
    }

    function testFuzz_twoWindows_slotTakenIffTheyIntersect(uint256 a0, uint256 aLen, uint256 b0, uint256 bLen) public {
        uint256 base = _base();
        a0 = base + _bound(a0, 0, 600);
        b0 = base + _bound(b0, 0, 600);
        uint256 a1 = a0 + _bound(aLen, 1, 300);
        uint256 b1 = b0 + _bound(bLen, 1, 300);
        _book(lid, a0, a1);

        bool intersect = a0 < b1 && b0 < a1;
        if (intersect) {
            _expectSlotTaken(lid, b0, b1);
            assertEq(market.bookingCount(), 1);
            // The refused window wrote nothing: only A's slots are taken.
            assertEq(_taken(lid, base - 1, base + 901), a1 - a0);
        } else {
            _book(lid, b0, b1);
            assertEq(_taken(lid, base - 1, base + 901), (a1 - a0) + (b1 - b0));
        }
        // Calendars are per listing: the same window is free elsewhere.
        _book(lid2, b0, b1);
    }

    function testFuzz_adjacentWindows_bothBook(uint256 s, uint256 lenA, uint256 lenB, bool bFirst) public {
        s = _base() + _bound(s, 0, 600);
        uint256 mid = s + _bound(lenA, 1, 300);
        uint256 e = mid + _bound(lenB, 1, 300);
        uint256 idA;
        if (bFirst) {
            _book(lid, mid, e);
            idA = _book(lid, s, mid);
        } else {
            idA = _book(lid, s, mid);
            _book(lid, mid, e);
        }
        assertEq(_taken(lid, s - 1, e + 1), e - s);
        // Anything touching the shared boundary is now taken.
        _expectSlotTaken(lid, mid - 1, mid + 1);
        _expectSlotTaken(lid, mid - 1, mid);
        _expectSlotTaken(lid, mid, mid + 1);
        _expectSlotTaken(lid, s, e);

        // Cancelling A frees exactly A's slots.
        vm.prank(borrower);
        market.cancel(idA);
        assertTrue(_free(lid, s, mid));
        assertEq(_taken(lid, s - 1, e + 1), e - mid);
        _expectSlotTaken(lid, mid - 1, mid + 1);
        _book(lid, s, mid);
    }

    /// @dev Cancel, decline and no-show free the window; a settled booking keeps it.
    function testFuzz_release_onlyOnRefundingEnds(uint256 s, uint256 len, uint8 how) public {
        s = _base() + _bound(s, 0, 600);
        uint256 e = s + _bound(len, 1, 300);
        how = uint8(_bound(how, 0, 3));
        uint256 id = _book(lid, s, e);
        if (how == 0) {
            vm.prank(borrower);
            market.cancel(id);
        } else if (how == 1) {
            vm.prank(agent);
            market.decline(id, 6);
        } else if (how == 2) {
            vm.warp(s * SLOT + ACTIVATION_GRACE);
            market.claimNoShow(id);
        } else {
            vm.prank(agent);
            market.activate(id, "endpoint");
            vm.warp(e * SLOT + REPORT_GRACE + DISPUTE_WINDOW);
            market.settle(id);
        }
        assertEq(_taken(lid, s - 1, e + 1), how == 3 ? e - s : 0);
        if (how < 2) _book(lid, s, e); // still in the future: bookable again
    }
}
