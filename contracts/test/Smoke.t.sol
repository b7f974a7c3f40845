// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/Test.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {Status} from "../src/interfaces/IMarket.sol";

contract SmokeTest is MarketFixture {
    function test_journey() public {
        uint40 start = slotAfter(2 days);
        uint40 end = start + 16 * SLOT;
        (uint256 price,) = market.quote(listingId, start, end);
        uint256 g = gasleft();
        vm.prank(borrower);
        uint256 id = market.book{value: price}(listingId, start, end, SESSION_KEY, SSH_KEY);
        console.log("book exec", g - gasleft());
        vm.prank(agent);
        g = gasleft();
        market.activate(id, new bytes(700));
        console.log("activate exec", g - gasleft());
        vm.warp(end);
        vm.prank(agent);
        g = gasleft();
        market.report(id, 16 * SLOT, "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
        console.log("report exec", g - gasleft());
        vm.warp(end + DISPUTE_WINDOW + 1);
        g = gasleft();
        market.settle(id);
        console.log("settle exec", g - gasleft());
        assertEq(uint8(statusOf(id)), uint8(Status.Settled));
        vm.prank(lender);
        g = gasleft();
        market.withdraw(address(0));
        console.log("withdraw exec", g - gasleft());
    }
}
