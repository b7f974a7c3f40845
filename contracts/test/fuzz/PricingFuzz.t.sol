// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";
import {PricingLib} from "../../src/libraries/PricingLib.sol";
import {IMarket, Status, Booking} from "../../src/interfaces/IMarket.sol";

/// @notice Charges round up by less than one unit, checked against the exact rational value:
/// for a charge c of num/den, c ≥ num/den and c − 1 < num/den, i.e. c·den ≥ num and c·den < num + den.
/// Every product below is bounded so that it fits in 256 bits (checked arithmetic would revert otherwise).
contract PricingFuzzTest is MarketFixture {
    uint256 internal constant HOUR = 3600;

    function _assertCeil(uint256 charge, uint256 num, uint256 den, string memory what) internal pure {
        assertGe(charge * den, num, string.concat(what, ": charge below the exact price"));
        assertLt(charge * den, num + den, string.concat(what, ": charge exceeds the exact price by 1 wei or more"));
    }

    /* LIBRARY */

    function testFuzz_price_isExactCeiling(uint128 pricePerHour, uint32 duration) public pure {
        uint256 charge = PricingLib.price(pricePerHour, duration);
        _assertCeil(charge, uint256(pricePerHour) * duration, HOUR, "price");
    }

    function testFuzz_usdToWei_isExactCeiling_8Decimals(uint128 usdPerHour, uint32 duration, uint256 answer)
        public
        pure
    {
        _checkUsdToWei(usdPerHour, duration, answer, 8);
    }

    function testFuzz_usdToWei_isExactCeiling_18Decimals(uint128 usdPerHour, uint32 duration, uint256 answer)
        public
        pure
    {
        _checkUsdToWei(usdPerHour, duration, answer, 18);
    }

    function testFuzz_usdToWei_isExactCeiling_anyDecimals(
        uint128 usdPerHour,
        uint32 duration,
        uint256 answer,
        uint8 decimals
    ) public pure {
        _checkUsdToWei(usdPerHour, duration, answer, uint8(_bound(decimals, 0, 18)));
    }

    function _checkUsdToWei(uint128 usdPerHour, uint32 duration, uint256 answer, uint8 decimals) internal pure {
        answer = _bound(answer, 1, type(uint128).max);
        uint256 charge = PricingLib.usdToWei(usdPerHour, duration, answer, decimals);
        // usdPerHour·duration·10^decimals < 2^128·2^32·2^60 and charge·3600·answer ≤ that + 3600·answer.
        _assertCeil(charge, uint256(usdPerHour) * duration * 10 ** decimals, HOUR * answer, "usdToWei");
    }

    /* THROUGH THE MARKET */

    function _usdListing(uint128 usdPerHour) internal returns (uint256) {
        vm.prank(lender);
        return market.createListing(hostId, gpuHardware(), address(0), true, usdPerHour, 1, 2880, 0, "usd");
    }

    function _window(uint256 slots) internal view returns (uint40 start, uint40 end) {
        start = slotAfter(1 days);
        end = uint40(start + slots * SLOT);
    }

    /// @dev Native and ERC-20 fixed prices: the quote and the escrow are the exact ceiling, and exactly that moves.
    function testFuzz_book_fixedPrice_escrowsExactCeiling(uint128 pricePerHour, uint256 slots, bool useToken) public {
        pricePerHour = uint128(_bound(pricePerHour, 1, type(uint128).max / (2880 * SLOT)));
        slots = _bound(slots, 1, 2880);
        address asset = useToken ? address(token) : address(0);
        vm.prank(lender);
        uint256 lid = market.createListing(hostId, gpuHardware(), asset, false, pricePerHour, 1, 2880, 0, "fixed");
        (uint40 start, uint40 end) = _window(slots);

        (uint256 price, address quoted) = market.quote(lid, start, end);
        assertEq(quoted, asset);
        _assertCeil(price, uint256(pricePerHour) * (end - start), HOUR, "quote");

        uint256 id;
        if (useToken) {
            token.mint(borrower, price);
            vm.startPrank(borrower);
            token.approve(address(market), price);
            id = market.book(lid, start, end, SESSION_KEY, SSH_KEY);
            vm.stopPrank();
            assertEq(token.balanceOf(address(market)), price, "market holds exactly the price");
            assertEq(token.balanceOf(borrower), 0, "borrower paid exactly the price");
        } else {
            vm.deal(borrower, price + 1);
            // One wei more or less than the exact charge is refused.
            vm.prank(borrower);
            vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, price + 1, price));
            market.book{value: price + 1}(lid, start, end, SESSION_KEY, SSH_KEY);
            vm.prank(borrower);
            vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, price - 1, price));
            market.book{value: price - 1}(lid, start, end, SESSION_KEY, SSH_KEY);

            uint256 before = address(market).balance;
            vm.prank(borrower);
            id = market.book{value: price}(lid, start, end, SESSION_KEY, SSH_KEY);
            assertEq(address(market).balance - before, price);
            assertEq(market.credits(borrower, address(0)), 0, "nothing credited back on a fixed price");
        }
        Booking memory b = market.getBooking(id);
        assertEq(b.price, price, "escrow is the quote");
        assertEq(uint8(b.status), uint8(Status.Booked));
    }

    function testFuzz_book_usdPrice_8DecimalFeed(uint128 usdPerHour, uint256 slots, uint256 answer, uint256 extra)
        public
    {
        _checkUsdBooking(feed, usdPerHour, slots, answer, extra);
    }

    function testFuzz_book_usdPrice_18DecimalFeed(uint128 usdPerHour, uint256 slots, uint256 answer, uint256 extra)
        public
    {
        MockV3Aggregator feed18 = new MockV3Aggregator(18, 3000e18);
        vm.prank(owner);
        market.setUsdFeed(address(feed18), FEED_MAX_AGE);
        _checkUsdBooking(feed18, usdPerHour, slots, answer, extra);
    }

    /// @dev USD price through the configured feed: the quote is ceil(usd·duration·10^dec / (3600·answer)), the escrow
    /// is that quote, the excess sent is credited back in full, and a charge that does not fit the escrow's 128 bits
    /// is refused rather than truncated.
    function _checkUsdBooking(MockV3Aggregator f, uint128 usdPerHour, uint256 slots, uint256 answer, uint256 extra)
        internal
    {
        uint8 decimals = f.decimals();
        usdPerHour = uint128(_bound(usdPerHour, 1, 1e30)); // up to $1e12 per hour
        slots = _bound(slots, 1, 2880);
        answer = _bound(answer, 1, 1e12 * 10 ** decimals); // up to $1e12 per native unit
        extra = _bound(extra, 0, 10 ether);
        f.updateAnswer(int256(answer));
        uint256 lid = _usdListing(usdPerHour);
        (uint40 start, uint40 end) = _window(slots);

        (uint256 price, address quoted) = market.quote(lid, start, end);
        assertEq(quoted, address(0), "USD listings are paid in native currency");
        _assertCeil(price, uint256(usdPerHour) * (end - start) * 10 ** decimals, HOUR * answer, "usd quote");

        if (price > type(uint128).max) {
            vm.deal(borrower, price);
            vm.prank(borrower);
            vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, price));
            market.book{value: price}(lid, start, end, SESSION_KEY, SSH_KEY);
            return;
        }

        vm.deal(borrower, price + extra);
        vm.prank(borrower);
        vm.expectRevert(abi.encodeWithSelector(IMarket.WrongPayment.selector, price - 1, price));
        market.book{value: price - 1}(lid, start, end, SESSION_KEY, SSH_KEY);

        vm.prank(borrower);
        uint256 id = market.book{value: price + extra}(lid, start, end, SESSION_KEY, SSH_KEY);
        assertEq(market.getBooking(id).price, price, "escrow is the quote");
        assertEq(market.credits(borrower, address(0)), extra, "the excess is credited back to the wei");
        assertEq(address(market).balance, MIN_BOND + price + extra);
    }

    /// @dev A non-positive answer never prices a booking, and neither does an answer older than the staleness bound.
    function testFuzz_quote_refusesStaleOrBadAnswer(int256 badAnswer, uint256 answer, uint256 age, bool bad) public {
        uint256 lid = _usdListing(100e18);
        (uint40 start, uint40 end) = _window(4);
        if (bad) {
            badAnswer = _bound(badAnswer, type(int256).min, 0);
            feed.updateAnswer(badAnswer);
            vm.expectRevert(abi.encodeWithSelector(IMarket.BadFeedAnswer.selector, badAnswer));
            market.quote(lid, start, end);
            return;
        }
        answer = _bound(answer, 1, type(uint128).max);
        age = _bound(age, 0, 30 days);
        feed.updateAnswer(int256(answer));
        // vm.getBlockTimestamp(): the optimizer may fold repeated `block.timestamp` reads across a warp.
        uint256 updatedAt = vm.getBlockTimestamp();
        vm.warp(updatedAt + age);
        (start, end) = _window(4);
        if (age > FEED_MAX_AGE) {
            vm.expectRevert(abi.encodeWithSelector(IMarket.StalePrice.selector, updatedAt, FEED_MAX_AGE));
            market.quote(lid, start, end);
        } else {
            (uint256 price,) = market.quote(lid, start, end);
            _assertCeil(price, uint256(100e18) * (end - start) * 1e8, HOUR * answer, "fresh quote");
        }
    }

    /// @dev Price changes never touch existing bookings: the escrow stays what was paid.
    function testFuzz_priceChange_keepsExistingEscrow(uint128 before_, uint128 after_) public {
        before_ = uint128(_bound(before_, 1, 1e24));
        after_ = uint128(_bound(after_, 1, 1e24));
        vm.deal(borrower, 1e24);
        vm.prank(lender);
        market.setListingPrice(listingId, before_);
        (uint256 id,,) = bookNative(1 days, 4);
        uint256 escrowed = market.getBooking(id).price;
        vm.prank(lender);
        market.setListingPrice(listingId, after_);
        assertEq(market.getBooking(id).price, escrowed);
        assertEq(escrowed, PricingLib.price(before_, 4 * SLOT));
    }
}
