// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {UnitBase} from "./UnitBase.sol";
import {IMarket} from "../../src/interfaces/IMarket.sol";

/// @notice A borrower whose `receive` tries to withdraw again.
contract ReentrantBorrower {
    IMarket internal immutable MARKET;

    constructor(IMarket market) {
        MARKET = market;
    }

    function book(uint256 listingId, uint40 start, uint40 end) external payable returns (uint256) {
        return MARKET.book{value: msg.value}(listingId, start, end, keccak256("k"), "ssh-ed25519 AAAA");
    }

    function cancel(uint256 bookingId) external {
        MARKET.cancel(bookingId);
    }

    function withdraw() external returns (uint256) {
        return MARKET.withdraw(address(0));
    }

    receive() external payable {
        MARKET.withdraw(address(0));
    }
}

contract WithdrawTest is UnitBase {
    function cancelledNative() internal returns (uint256 id) {
        (id,,) = bookDefault();
        vm.prank(borrower);
        market.cancel(id);
    }

    function test_withdraw_nativeSendsWholeCreditAndEmits() public {
        cancelledNative();
        assertEq(borrower.balance, 100 ether - PRICE_PER_HOUR);

        vm.expectEmit(address(market));
        emit IMarket.Withdrawn(borrower, address(0), PRICE_PER_HOUR);
        vm.prank(borrower);
        uint256 amount = market.withdraw(address(0));

        assertEq(amount, PRICE_PER_HOUR);
        assertEq(borrower.balance, 100 ether);
        assertEq(nativeCredit(borrower), 0);
        assertEq(address(market).balance, MIN_BOND);
    }

    function test_withdraw_tokenSendsWholeCreditAndEmits() public {
        uint256 tl = tokenListing();
        uint40 start = slotAfter(2 days);
        uint256 id = bookAs(borrower, tl, start, start + 4 * SLOT);
        vm.prank(borrower);
        market.cancel(id);

        vm.expectEmit(address(market));
        emit IMarket.Withdrawn(borrower, address(token), 2e6);
        vm.prank(borrower);
        uint256 amount = market.withdraw(address(token));

        assertEq(amount, 2e6);
        assertEq(token.balanceOf(borrower), 2e6);
        assertEq(token.balanceOf(address(market)), 0);
        assertEq(tokenCredit(borrower), 0);
    }

    function test_withdraw_isPerAsset() public {
        cancelledNative();
        uint256 tl = tokenListing();
        uint40 start = slotAfter(3 days);
        uint256 id = bookAs(borrower, tl, start, start + 4 * SLOT);
        vm.prank(borrower);
        market.cancel(id);

        vm.prank(borrower);
        market.withdraw(address(token));
        assertEq(tokenCredit(borrower), 0);
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);

        vm.prank(borrower);
        market.withdraw(address(0));
        assertEq(nativeCredit(borrower), 0);
    }

    function test_withdraw_lenderAndTreasuryCollectSettlement() public {
        (uint256 id,, uint40 end) = reportedAtEnd(DURATION);
        vm.warp(end + DISPUTE_WINDOW);
        market.settle(id);
        uint256 lenderBefore = lender.balance;

        vm.prank(lender);
        assertEq(market.withdraw(address(0)), 0.009_75 ether);
        vm.prank(treasury);
        assertEq(market.withdraw(address(0)), 0.000_25 ether);

        assertEq(lender.balance, lenderBefore + 0.009_75 ether);
        assertEq(treasury.balance, 0.000_25 ether);
        assertEq(address(market).balance, MIN_BOND);
    }

    function test_withdraw_revertsWithNothingToWithdraw() public {
        vm.expectRevert(abi.encodeWithSelector(IMarket.NothingToWithdraw.selector, borrower, address(0)));
        vm.prank(borrower);
        market.withdraw(address(0));

        vm.expectRevert(abi.encodeWithSelector(IMarket.NothingToWithdraw.selector, borrower, address(token)));
        vm.prank(borrower);
        market.withdraw(address(token));
    }

    function test_withdraw_revertsOnSecondWithdrawal() public {
        cancelledNative();
        vm.prank(borrower);
        market.withdraw(address(0));
        vm.expectRevert(abi.encodeWithSelector(IMarket.NothingToWithdraw.selector, borrower, address(0)));
        vm.prank(borrower);
        market.withdraw(address(0));
    }

    function test_withdraw_revertsWhenRecipientRejectsNative() public {
        cancelledNative();
        makeRejecting(borrower);
        vm.expectRevert(abi.encodeWithSelector(IMarket.NativeTransferFailed.selector, borrower, PRICE_PER_HOUR));
        vm.prank(borrower);
        market.withdraw(address(0));
        // The credit survives the failed attempt.
        assertEq(nativeCredit(borrower), PRICE_PER_HOUR);
    }

    function test_withdraw_reentryFromReceiveFails() public {
        ReentrantBorrower attacker = new ReentrantBorrower(market);
        uint40 start = slotAfter(2 days);
        uint256 id = attacker.book{value: PRICE_PER_HOUR}(listingId, start, start + 4 * SLOT);
        attacker.cancel(id);
        assertEq(nativeCredit(address(attacker)), PRICE_PER_HOUR);

        vm.expectRevert(
            abi.encodeWithSelector(IMarket.NativeTransferFailed.selector, address(attacker), PRICE_PER_HOUR)
        );
        attacker.withdraw();
        assertEq(nativeCredit(address(attacker)), PRICE_PER_HOUR);
        assertEq(address(market).balance, MIN_BOND + PRICE_PER_HOUR);
    }

    function test_withdraw_worksWhilePaused() public {
        cancelledNative();
        vm.prank(owner);
        market.pause();
        vm.prank(borrower);
        market.withdraw(address(0));
        assertEq(borrower.balance, 100 ether);
    }

    function test_credits_zeroForUnknownAccount() public view {
        assertEq(market.credits(stranger, address(0)), 0);
        assertEq(market.credits(stranger, address(token)), 0);
    }
}
