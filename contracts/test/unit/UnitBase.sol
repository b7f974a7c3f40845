// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";
import {Host, Booking} from "../../src/interfaces/IMarket.sol";

/// @notice Shared by the unit tests: a booking in each state of its life, and short-hands for credits.
/// Kept here rather than in MarketFixture so that the fixture other suites use stays as it is.
abstract contract UnitBase is MarketFixture {
    bytes internal constant ENDPOINT = hex"a1b2c3d4e5f60718293a4b5c6d7e8f90";
    string internal constant REPORT_CID = "bafyreport";
    string internal constant REASON_CID = "bafyreason";
    /// @notice Token listings cost 2 tUSD (6 decimals) per hour.
    uint128 internal constant TOKEN_PRICE_PER_HOUR = 2e6;
    /// @notice The default booking: 4 slots (one hour) two days ahead, so it costs exactly PRICE_PER_HOUR.
    uint256 internal constant SLOTS = 4;
    uint32 internal constant DURATION = 1 hours;

    /// @notice Books the default one-hour window on the default listing.
    function bookDefault() internal returns (uint256 id, uint40 start, uint40 end) {
        return bookNative(2 days, SLOTS);
    }

    /// @notice Books [start, end) on `lid` as `who`, paying the quoted price in the listing's asset.
    function bookAs(address who, uint256 lid, uint40 start, uint40 end) internal returns (uint256 id) {
        (uint256 price, address asset) = market.quote(lid, start, end);
        if (asset == address(0)) {
            vm.deal(who, who.balance + price);
            vm.prank(who);
            return market.book{value: price}(lid, start, end, SESSION_KEY, SSH_KEY);
        }
        fundToken(ERC20(asset), who, price);
        vm.prank(who);
        return market.book(lid, start, end, SESSION_KEY, SSH_KEY);
    }

    /// @notice Mints `amount` of `asset` (TestToken-compatible `mint`) to `who` and approves the market.
    function fundToken(ERC20 asset, address who, uint256 amount) internal {
        IMintable(address(asset)).mint(who, amount);
        vm.prank(who);
        asset.approve(address(market), amount);
    }

    function tokenListing() internal returns (uint256) {
        return createListing(address(token), false, TOKEN_PRICE_PER_HOUR);
    }

    function activateAsAgent(uint256 id) internal {
        vm.prank(agent);
        market.activate(id, ENDPOINT);
    }

    function reportAsAgent(uint256 id, uint32 used) internal {
        vm.prank(agent);
        market.report(id, used, REPORT_CID);
    }

    function disputeAsBorrower(uint256 id) internal {
        vm.prank(borrower);
        market.dispute(id, REASON_CID);
    }

    /// @notice The default booking, activated, at the end of its window.
    function activeAtEnd() internal returns (uint256 id, uint40 start, uint40 end) {
        (id, start, end) = bookDefault();
        activateAsAgent(id);
        vm.warp(end);
    }

    /// @notice The default booking, reported at its end with `used` seconds.
    function reportedAtEnd(uint32 used) internal returns (uint256 id, uint40 start, uint40 end) {
        (id, start, end) = activeAtEnd();
        reportAsAgent(id, used);
    }

    /// @notice The default booking, reported at its end with `used` seconds and disputed right away.
    function disputedAtEnd(uint32 used) internal returns (uint256 id, uint40 start, uint40 end) {
        (id, start, end) = reportedAtEnd(used);
        disputeAsBorrower(id);
    }

    function nativeCredit(address who) internal view returns (uint256) {
        return market.credits(who, address(0));
    }

    function tokenCredit(address who) internal view returns (uint256) {
        return market.credits(who, address(token));
    }

    function host() internal view returns (Host memory) {
        return market.getHost(hostId);
    }

    function bookingOf(uint256 id) internal view returns (Booking memory) {
        return market.getBooking(id);
    }

    /// @notice Gives `who` code that reverts on every call, so native currency sent to it bounces.
    function makeRejecting(address who) internal {
        vm.etch(who, hex"60006000fd"); // PUSH1 0 PUSH1 0 REVERT
    }
}

interface IMintable {
    function mint(address to, uint256 amount) external;
}
