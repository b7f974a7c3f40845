// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {UnitBase} from "./UnitBase.sol";
import {IMarket, Booking, Status} from "../../src/interfaces/IMarket.sol";

/// @notice Keeps 1% of every transfer, which the market must refuse.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee On Transfer", "FOT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

contract BookingTest is UnitBase {
    uint40 internal start;
    uint40 internal end;

    function setUp() public override {
        super.setUp();
        start = slotAfter(2 days);
        end = start + 4 * SLOT;
    }

    /* native, fixed price */

    function test_book_nativeEscrowsExactPriceAndEmits() public {
        vm.expectEmit(address(market));
        emit IMarket.Booked(
            1, listingId, borrower, start, end, address(0), PRICE_PER_HOUR, FEE_BPS, SESSION_KEY, SSH_KEY
        );
        vm.prank(borrower);
        uint256 id = market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);

        assertEq(id, 1);
        assertEq(market.bookingCount(), 1);
        Booking memory b = bookingOf(id);
        assertEq(b.borrower, borrower);
        assertEq(b.start, start);
        assertEq(b.end, end);
        assertEq(uint8(b.status), uint8(Status.Booked));
        assertEq(b.price, PRICE_PER_HOUR);
        assertEq(b.listingId, listingId);
        assertEq(b.feeBps, FEE_BPS);
        assertEq(b.usedSeconds, 0);
        assertEq(b.stamp, vm.getBlockTimestamp());
        assertEq(b.endedAt, 0);

        assertEq(host().openBookings, 1);
        assertEq(borrower.balance, 100 ether - PRICE_PER_HOUR);
        assertEq(address(market).balance, MIN_BOND + PRICE_PER_HOUR);
        assertEq(nativeCredit(borrower), 0);
        assertFalse(market.isFree(listingId, start, end));
        assertFalse(market.isFree(listingId, end - SLOT, end));
        assertTrue(market.isFree(listingId, end, end + SLOT));
    }

    function test_book_priceRoundsUp() public {
        uint256 cheap = createListing(address(0), false, 7);
        // 7 wei per hour for 15 minutes is 1.75 wei: the charge is 2.
        (uint256 price,) = market.quote(cheap, start, start + SLOT);
        assertEq(price, 2);
        vm.prank(borrower);
        uint256 id = market.book{value: 2}(cheap, start, start + SLOT, SESSION_KEY, SSH_KEY);
        assertEq(bookingOf(id).price, 2);
    }

    function test_book_revertsOnUnderpayment() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, PRICE_PER_HOUR - 1, PRICE_PER_HOUR));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR - 1}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsOnOverpaymentOfFixedPrice() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, PRICE_PER_HOUR + 1, PRICE_PER_HOUR));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR + 1}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_feeIsSnapshotAtBooking() public {
        vm.prank(borrower);
        uint256 id = market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
        vm.prank(owner);
        market.setFee(1000);
        vm.prank(borrower);
        uint256 id2 = market.book{value: PRICE_PER_HOUR}(listingId, end, end + 4 * SLOT, SESSION_KEY, SSH_KEY);
        assertEq(bookingOf(id).feeBps, FEE_BPS);
        assertEq(bookingOf(id2).feeBps, 1000);
    }

    /* USD priced */

    function test_book_usdCreditsExcessBack() public {
        uint256 usd = createListing(address(0), true, 2e18);
        // 2 USD for one hour at 3000 USD/ETH = 1/1500 ETH, rounded up.
        uint256 price = 666_666_666_666_667;
        (uint256 quoted,) = market.quote(usd, start, end);
        assertEq(quoted, price);

        vm.expectEmit(address(market));
        emit IMarket.Booked(1, usd, borrower, start, end, address(0), price, FEE_BPS, SESSION_KEY, SSH_KEY);
        vm.expectEmit(address(market));
        emit IMarket.Credited(borrower, address(0), 0.001 ether - price);
        vm.prank(borrower);
        uint256 id = market.book{value: 0.001 ether}(usd, start, end, SESSION_KEY, SSH_KEY);

        assertEq(bookingOf(id).price, price);
        assertEq(nativeCredit(borrower), 333_333_333_333_333);
        assertEq(address(market).balance, MIN_BOND + 0.001 ether);
    }

    function test_book_usdExactPaymentCreditsNothing() public {
        uint256 usd = createListing(address(0), true, 3e18);
        vm.prank(borrower);
        market.book{value: 0.001 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
        assertEq(nativeCredit(borrower), 0);
    }

    function test_book_usdRevertsOnUnderpayment() public {
        uint256 usd = createListing(address(0), true, 3e18);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, 0.001 ether - 1, 0.001 ether));
        vm.prank(borrower);
        market.book{value: 0.001 ether - 1}(usd, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_usdFollowsFeedAnswer() public {
        uint256 usd = createListing(address(0), true, 3e18);
        feed.updateAnswer(1500e8);
        vm.prank(borrower);
        uint256 id = market.book{value: 0.002 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
        assertEq(bookingOf(id).price, 0.002 ether);
    }

    function test_book_usdRevertsOnZeroAnswer() public {
        uint256 usd = createListing(address(0), true, 3e18);
        feed.updateAnswer(0);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadFeedAnswer.selector, int256(0)));
        vm.prank(borrower);
        market.book{value: 1 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_usdRevertsOnNegativeAnswer() public {
        uint256 usd = createListing(address(0), true, 3e18);
        feed.updateAnswer(-1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadFeedAnswer.selector, int256(-1)));
        vm.prank(borrower);
        market.book{value: 1 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_usdAcceptsAnswerExactlyMaxAgeOld() public {
        uint256 usd = createListing(address(0), true, 3e18);
        vm.warp(vm.getBlockTimestamp() + FEED_MAX_AGE);
        vm.prank(borrower);
        uint256 id = market.book{value: 0.001 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
        assertEq(bookingOf(id).price, 0.001 ether);
    }

    function test_book_usdRevertsOnStaleAnswer() public {
        uint256 usd = createListing(address(0), true, 3e18);
        uint256 updatedAt = feed.latestTimestamp();
        vm.warp(updatedAt + FEED_MAX_AGE + 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.StalePrice.selector, updatedAt, FEED_MAX_AGE));
        vm.prank(borrower);
        market.book{value: 1 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_usdRevertsOnAnswerFromTheFuture() public {
        uint256 usd = createListing(address(0), true, 3e18);
        feed.updateRoundData(2, ETH_USD, vm.getBlockTimestamp() + 1, vm.getBlockTimestamp() + 1);
        vm.expectRevert(abi.encodeWithSelector(IMarket.StalePrice.selector, vm.getBlockTimestamp() + 1, FEED_MAX_AGE));
        vm.prank(borrower);
        market.book{value: 1 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_usdRevertsOnceFeedRemoved() public {
        uint256 usd = createListing(address(0), true, 3e18);
        vm.prank(owner);
        market.setUsdFeed(address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UsdPricingUnavailable.selector));
        vm.prank(borrower);
        market.book{value: 1 ether}(usd, start, end, SESSION_KEY, SSH_KEY);
    }

    /* ERC-20 */

    function test_book_erc20PullsExactPrice() public {
        uint256 tl = tokenListing();
        fundToken(token, borrower, 5e6);

        vm.expectEmit(address(market));
        emit IMarket.Booked(1, tl, borrower, start, end, address(token), 2e6, FEE_BPS, SESSION_KEY, SSH_KEY);
        vm.prank(borrower);
        uint256 id = market.book(tl, start, end, SESSION_KEY, SSH_KEY);

        assertEq(bookingOf(id).price, 2e6);
        assertEq(token.balanceOf(borrower), 3e6);
        assertEq(token.balanceOf(address(market)), 2e6);
        assertEq(token.allowance(borrower, address(market)), 3e6);
        assertEq(borrower.balance, 100 ether);
        assertEq(address(market).balance, MIN_BOND);
    }

    function test_book_erc20RevertsOnNativeValue() public {
        uint256 tl = tokenListing();
        fundToken(token, borrower, 2e6);
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnexpectedValue.selector));
        vm.prank(borrower);
        market.book{value: 1}(tl, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_erc20RevertsOnceAssetDisallowed() public {
        uint256 tl = tokenListing();
        fundToken(token, borrower, 2e6);
        vm.prank(owner);
        market.setAssetAllowed(address(token), false);
        vm.expectRevert(abi.encodeWithSelector(IMarket.AssetNotAllowed.selector, address(token)));
        vm.prank(borrower);
        market.book(tl, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_erc20RevertsWithoutAllowance() public {
        uint256 tl = tokenListing();
        token.mint(borrower, 2e6);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, 2e6)
        );
        vm.prank(borrower);
        market.book(tl, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_erc20RevertsOnFeeOnTransferToken() public {
        FeeOnTransferToken fot = new FeeOnTransferToken();
        vm.prank(owner);
        market.setAssetAllowed(address(fot), true);
        uint256 fl = createListing(address(fot), false, 2e6);
        fundToken(fot, borrower, 2e6);

        vm.expectRevert(abi.encodeWithSelector(IMarket.TokenTransferMismatch.selector, 1_980_000, 2e6));
        vm.prank(borrower);
        market.book(fl, start, end, SESSION_KEY, SSH_KEY);
        assertEq(fot.balanceOf(borrower), 2e6);
    }

    /* window and calendar */

    function test_book_acceptsAdjacentWindowsAndOtherListings() public {
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, end, end + 4 * SLOT, SESSION_KEY, SSH_KEY);
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR / 4}(listingId, start - SLOT, start, SESSION_KEY, SSH_KEY);
        uint256 other = createListing(address(0), false, PRICE_PER_HOUR);
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(other, start, end, SESSION_KEY, SSH_KEY);
        assertEq(market.bookingCount(), 4);
        assertEq(host().openBookings, 4);
    }

    function test_book_revertsOnOverlap() public {
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);

        uint40 s = end - SLOT;
        vm.expectRevert(abi.encodeWithSelector(IMarket.SlotTaken.selector, listingId, s, s + 2 * SLOT));
        vm.prank(stranger);
        market.book{value: PRICE_PER_HOUR / 2}(listingId, s, s + 2 * SLOT, SESSION_KEY, SSH_KEY);

        vm.expectRevert(abi.encodeWithSelector(IMarket.SlotTaken.selector, listingId, start, end));
        vm.prank(stranger);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);

        // A window that contains the booked one.
        uint40 s2 = start - SLOT;
        vm.expectRevert(abi.encodeWithSelector(IMarket.SlotTaken.selector, listingId, s2, end + SLOT));
        vm.prank(stranger);
        market.book{value: PRICE_PER_HOUR * 6 / 4}(listingId, s2, end + SLOT, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsOnEmptyWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.EmptyWindow.selector, start, start));
        vm.prank(borrower);
        market.book{value: 0}(listingId, start, start, SESSION_KEY, SSH_KEY);

        vm.expectRevert(abi.encodeWithSelector(IMarket.EmptyWindow.selector, end, start));
        vm.prank(borrower);
        market.book{value: 0}(listingId, end, start, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsOnMisalignedWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.MisalignedWindow.selector, start + 1, end, SLOT));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start + 1, end, SESSION_KEY, SSH_KEY);

        vm.expectRevert(abi.encodeWithSelector(IMarket.MisalignedWindow.selector, start, end - 1, SLOT));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end - 1, SESSION_KEY, SSH_KEY);
    }

    function test_book_leadTimeBoundary() public {
        uint256 aligned = slotAfter(0);
        vm.warp(aligned);
        uint40 earliest = uint40(aligned + LEAD_TIME);

        vm.expectRevert(abi.encodeWithSelector(IMarket.StartTooSoon.selector, earliest - SLOT, earliest));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, earliest - SLOT, earliest + 3 * SLOT, SESSION_KEY, SSH_KEY);

        vm.prank(borrower);
        uint256 id = market.book{value: PRICE_PER_HOUR}(listingId, earliest, earliest + 4 * SLOT, SESSION_KEY, SSH_KEY);
        assertEq(bookingOf(id).start, earliest);
    }

    function test_book_revertsOnStartInThePast() public {
        uint256 now_ = vm.getBlockTimestamp();
        uint40 past = uint40(now_ / SLOT * SLOT);
        vm.expectRevert(abi.encodeWithSelector(IMarket.StartTooSoon.selector, past, now_ + LEAD_TIME));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, past, past + 4 * SLOT, SESSION_KEY, SSH_KEY);
    }

    function test_book_horizonBoundary() public {
        uint256 aligned = slotAfter(0);
        vm.warp(aligned);
        uint40 latest = uint40(aligned + 365 days);

        vm.expectRevert(abi.encodeWithSelector(IMarket.StartTooFar.selector, latest + SLOT, latest));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, latest + SLOT, latest + 5 * SLOT, SESSION_KEY, SSH_KEY);

        vm.prank(borrower);
        uint256 id = market.book{value: PRICE_PER_HOUR}(listingId, latest, latest + 4 * SLOT, SESSION_KEY, SSH_KEY);
        assertEq(bookingOf(id).start, latest);
    }

    function test_book_revertsOnTooLongWindow() public {
        uint40 tooLong = start + 97 * SLOT;
        vm.expectRevert(abi.encodeWithSelector(IMarket.DurationOutOfRange.selector, 97, 1, 96));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR * 97 / 4}(listingId, start, tooLong, SESSION_KEY, SSH_KEY);
    }

    function test_book_acceptsMaxAndMinDuration() public {
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR * 24}(listingId, start, start + 96 * SLOT, SESSION_KEY, SSH_KEY);
        uint40 after_ = start + 96 * SLOT;
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR / 4}(listingId, after_, after_ + SLOT, SESSION_KEY, SSH_KEY);
        assertEq(market.bookingCount(), 2);
    }

    function test_book_revertsOnTooShortWindow() public {
        vm.prank(lender);
        market.setListingTerms(listingId, 4, 8, LEAD_TIME);
        vm.expectRevert(abi.encodeWithSelector(IMarket.DurationOutOfRange.selector, 3, 4, 8));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR * 3 / 4}(listingId, start, start + 3 * SLOT, SESSION_KEY, SSH_KEY);
    }

    /* parties, keys, listing state */

    function test_book_revertsOnUnknownListing() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.UnknownListing.selector, 2));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(2, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsOnInactiveListing() public {
        vm.prank(lender);
        market.setListingActive(listingId, false);
        vm.expectRevert(abi.encodeWithSelector(IMarket.ListingInactive.selector, listingId));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsWhenLenderBooksOwnHost() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.SelfBooking.selector));
        vm.prank(lender);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsWhenAgentBooksOwnHost() public {
        vm.deal(agent, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IMarket.SelfBooking.selector));
        vm.prank(agent);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    function test_book_revertsOnZeroSessionKey() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadSessionKey.selector));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, bytes32(0), SSH_KEY);
    }

    function test_book_revertsOnEmptySshKey() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 0, 1024));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, "");
    }

    function test_book_sshKeyLengthBoundary() public {
        bytes memory tooLong = new bytes(1025);
        vm.expectRevert(abi.encodeWithSelector(IMarket.BadLength.selector, 1025, 1024));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, tooLong);

        bytes memory longest = new bytes(1024);
        vm.expectEmit(address(market));
        emit IMarket.Booked(
            1, listingId, borrower, start, end, address(0), PRICE_PER_HOUR, FEE_BPS, SESSION_KEY, longest
        );
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, longest);
    }

    function test_book_revertsWhilePaused() public {
        vm.prank(owner);
        market.pause();
        vm.expectRevert(abi.encodeWithSelector(IMarket.EnforcedPause.selector));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    /// @dev DESIGN.md: booking gas depends on the slots the booking touches, never on how many bookings exist.
    function test_book_gasDoesNotGrowWithBookingCount() public {
        uint40 far = slotAfter(20 days);
        bookAs(stranger, listingId, far, far + SLOT);
        uint256 snapshot = vm.snapshotState();
        uint256 few = measuredBook();

        vm.revertToState(snapshot);
        for (uint256 i = 1; i < 40; ++i) {
            bookAs(stranger, listingId, far + uint40(i) * SLOT, far + uint40(i + 1) * SLOT);
        }
        uint256 many = measuredBook();
        assertEq(many, few);
    }

    function measuredBook() internal returns (uint256) {
        vm.cool(address(market));
        vm.prank(borrower);
        market.book{value: PRICE_PER_HOUR}(listingId, start, end, SESSION_KEY, SSH_KEY);
        return vm.lastCallGas().gasTotalUsed;
    }
}
