// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {PricingLib} from "../../src/libraries/PricingLib.sol";
import {IMarket, Status, Booking} from "../../src/interfaces/IMarket.sol";

/// @notice Settlement arithmetic: the split of an escrow, alone and end to end through the market.
contract SettlementFuzzTest is MarketFixture {
    uint256 internal constant BPS = 10_000;

    /* LIBRARY */

    /// @dev lender + fee + refund == price; gross = floor(price·used/duration); fee = floor(gross·bps/10000);
    /// the refund is at least the exact rational refund and less than it + 1 (the borrower is favoured by < 1 wei).
    function testFuzz_split_addsUpAndRoundsForTheBorrower(uint128 price, uint32 duration, uint32 used, uint16 feeBps)
        public
        pure
    {
        duration = uint32(_bound(duration, 1, type(uint32).max));
        used = uint32(_bound(used, 0, duration));
        feeBps = uint16(_bound(feeBps, 0, BPS));
        (uint256 lenderAmt, uint256 fee, uint256 refund) = PricingLib.split(price, used, duration, feeBps);
        _checkSplit(price, used, duration, feeBps, lenderAmt, fee, refund);
    }

    function _checkSplit(
        uint256 price,
        uint256 used,
        uint256 duration,
        uint256 feeBps,
        uint256 lenderAmt,
        uint256 fee,
        uint256 refund
    ) internal pure {
        assertEq(lenderAmt + fee + refund, price, "split must add up to the escrow exactly");
        uint256 gross = lenderAmt + fee;
        // gross = floor(price·used/duration): gross·duration ≤ price·used < (gross+1)·duration
        assertLe(gross * duration, price * used, "gross above the exact pro-rata share");
        assertLt(price * used, (gross + 1) * duration, "gross more than 1 wei below the exact share");
        assertEq(fee, gross * feeBps / BPS, "fee = floor(gross x bps / 10000)");
        // refund favours the borrower by < 1 wei: refund·duration ≥ price·(duration−used) > (refund−1)·duration
        assertGe(refund * duration, price * (duration - used), "refund below the exact remainder");
        assertLt(refund * duration, price * (duration - used) + duration, "refund exceeds the exact by >= 1 wei");
        if (used == duration) assertEq(refund, 0, "full use refunds nothing");
        if (used == 0) assertEq(refund, price, "no use refunds everything");
    }

    /* THROUGH THE MARKET */

    struct Run {
        address asset;
        uint256 id;
        uint256 price;
        uint256 duration;
        uint256 used;
        uint256 slash;
        uint16 feeBps;
        uint40 start;
        uint40 end;
    }

    function _credits(address asset) internal view returns (uint256 lst, uint256 t, uint256 b) {
        return (market.credits(lender, asset), market.credits(treasury, asset), market.credits(borrower, asset));
    }

    function _book(Run memory r, uint128 pricePerHour, uint256 slots, uint8 assetKind) internal {
        bool usd = assetKind == 2;
        r.asset = assetKind == 1 ? address(token) : address(0);
        vm.prank(lender);
        uint256 lid =
            market.createListing(hostId, gpuHardware(), r.asset, usd, pricePerHour, 1, 2880, LEAD_TIME, "settle");
        r.start = slotAfter(2 days);
        r.end = uint40(r.start + slots * SLOT);
        r.duration = r.end - r.start;
        (uint256 price,) = market.quote(lid, r.start, r.end);
        r.price = price;
        vm.startPrank(borrower);
        if (r.asset == address(0)) {
            vm.deal(borrower, price);
            r.id = market.book{value: price}(lid, r.start, r.end, SESSION_KEY, SSH_KEY);
        } else {
            token.mint(borrower, price);
            token.approve(address(market), price);
            r.id = market.book(lid, r.start, r.end, SESSION_KEY, SSH_KEY);
        }
        vm.stopPrank();
        assertEq(market.getBooking(r.id).price, price);
        assertEq(market.getBooking(r.id).feeBps, r.feeBps);
    }

    /// @dev Whatever path a booking settles by (report, dispute ruled with a slash, dispute timed out, no report,
    /// early end reported, early end disputed and ruled, dispute of an unreported session), the lender, treasury and
    /// borrower credits grow by exactly the escrow, split as
    /// PricingLib.split says for the usage that path implies, and the market's balance still equals credits + bond.
    function testFuzz_settle_creditsSumToEscrow(
        uint128 pricePerHour,
        uint256 slots,
        uint256 usedSeed,
        uint256 ruleSeed,
        uint256 slashSeed,
        uint16 feeBps,
        uint8 assetKind,
        uint8 path,
        bool viaUpkeep
    ) public {
        Run memory r;
        r.feeBps = uint16(_bound(feeBps, 0, market.MAX_FEE_BPS()));
        assetKind = uint8(_bound(assetKind, 0, 2));
        path = uint8(_bound(path, 0, 6));
        slots = _bound(slots, 1, 2880);
        pricePerHour = uint128(_bound(pricePerHour, 1, assetKind == 2 ? 1e24 : 1e30));
        vm.prank(owner);
        market.setFee(r.feeBps);
        _book(r, pricePerHour, slots, assetKind);
        // A later fee change never touches this booking.
        uint16 laterFee = uint16(_bound(ruleSeed, 0, market.MAX_FEE_BPS()));
        vm.prank(owner);
        market.setFee(laterFee);

        vm.prank(agent);
        market.activate(r.id, "endpoint");
        (uint256 l0, uint256 t0, uint256 b0) = _credits(r.asset);
        uint256 native0 = market.credits(borrower, address(0));

        _drive(r, path, usedSeed, ruleSeed, slashSeed, viaUpkeep);
        _checkSettled(r, l0, t0, b0, native0);
    }

    /// @dev Takes the active booking `r` to Settled along `path`, recording the usage charged and any slash.
    function _drive(Run memory r, uint8 path, uint256 usedSeed, uint256 ruleSeed, uint256 slashSeed, bool viaUpkeep)
        internal
    {
        if (path == 0) {
            // Reported, dispute window passes.
            r.used = _bound(usedSeed, 0, r.duration);
            _report(r, r.end, r.used);
            vm.warp(vm.getBlockTimestamp() + DISPUTE_WINDOW);
            _settle(r.id, viaUpkeep);
        } else if (path == 1) {
            // Reported, disputed, the arbiter rules some usage and slashes part of the bond.
            _report(r, r.end, _bound(usedSeed, 0, r.duration));
            vm.prank(borrower);
            market.dispute(r.id, "reason");
            r.used = _bound(ruleSeed, 0, r.duration);
            r.slash = _bound(slashSeed, 0, MIN_BOND);
            vm.prank(arbiter);
            market.resolveDispute(r.id, uint32(r.used), uint96(r.slash));
        } else if (path == 2) {
            // Reported, disputed, the arbiter stays silent: the report stands.
            r.used = _bound(usedSeed, 0, r.duration);
            _report(r, r.end, r.used);
            vm.prank(borrower);
            market.dispute(r.id, "reason");
            vm.warp(vm.getBlockTimestamp() + ARBITER_DEADLINE);
            _settle(r.id, viaUpkeep);
        } else if (path == 3) {
            // Never reported: full use after the report grace and the dispute window.
            r.used = r.duration;
            vm.warp(r.end + REPORT_GRACE + DISPUTE_WINDOW);
            _settle(r.id, viaUpkeep);
        } else if (path == 4) {
            // Ended early by the borrower, reported at most the time until then.
            uint256 endedAt = r.start + _bound(ruleSeed, 0, r.duration - 1);
            vm.warp(endedAt);
            vm.prank(borrower);
            market.endSession(r.id);
            r.used = _bound(usedSeed, 0, endedAt - r.start);
            _report(r, endedAt, r.used);
            vm.warp(vm.getBlockTimestamp() + DISPUTE_WINDOW);
            _settle(r.id, viaUpkeep);
        } else if (path == 5) {
            // Ended early, never reported, disputed (the claim is the shortened session), ruled by the arbiter, who
            // cannot charge past the early end.
            uint256 endedAt = r.start + _bound(ruleSeed, 0, r.duration - 1);
            vm.warp(endedAt);
            vm.prank(borrower);
            market.endSession(r.id);
            vm.warp(endedAt + _bound(usedSeed, 0, REPORT_GRACE + DISPUTE_WINDOW - 1));
            vm.prank(borrower);
            market.dispute(r.id, "reason");
            assertEq(market.getBooking(r.id).usedSeconds, endedAt - r.start, "the claim is the shortened session");
            vm.prank(arbiter);
            vm.expectRevert(
                abi.encodeWithSelector(IMarket.UsageTooHigh.selector, endedAt - r.start + 1, endedAt - r.start)
            );
            market.resolveDispute(r.id, uint32(endedAt - r.start + 1), 0);
            r.used = _bound(slashSeed, 0, endedAt - r.start);
            vm.prank(arbiter);
            market.resolveDispute(r.id, uint32(r.used), 0);
        } else {
            // Never reported, disputed from Active (full use claimed), ruled by the arbiter.
            vm.warp(r.end + REPORT_GRACE);
            vm.prank(borrower);
            market.dispute(r.id, "reason");
            r.used = _bound(ruleSeed, 0, r.duration);
            vm.prank(arbiter);
            market.resolveDispute(r.id, uint32(r.used), 0);
        }
    }

    /// @dev The booking settled with `r.used`, and the credits grew by exactly its escrow (plus any slash).
    function _checkSettled(Run memory r, uint256 l0, uint256 t0, uint256 b0, uint256 native0) internal view {
        Booking memory b = market.getBooking(r.id);
        assertEq(uint8(b.status), uint8(Status.Settled));
        assertEq(b.usedSeconds, r.used);
        uint256 db;
        {
            (uint256 l1, uint256 t1, uint256 b1) = _credits(r.asset);
            db = b1 - b0 - (r.asset == address(0) ? r.slash : 0);
            _checkSplit(r.price, r.used, r.duration, r.feeBps, l1 - l0, t1 - t0, db);
        }
        assertEq(market.credits(borrower, address(0)) - native0, r.asset == address(0) ? db + r.slash : r.slash);
        assertEq(market.getHost(hostId).bond, MIN_BOND - r.slash);
        _assertBacked(r.asset);
    }

    function _report(Run memory r, uint256 at, uint256 used) internal {
        vm.warp(at);
        vm.prank(agent);
        market.report(r.id, uint32(used), "report");
    }

    function _settle(uint256 id, bool viaUpkeep) internal {
        assertTrue(market.isRipe(id));
        vm.prank(stranger);
        if (viaUpkeep) {
            uint256[] memory ids = new uint256[](1);
            ids[0] = id;
            market.performUpkeep(abi.encode(ids));
        } else {
            market.settle(id);
        }
    }

    /// @dev Balance of the asset == credits of every party + the bond (native), nothing escrowed is left over.
    function _assertBacked(address asset) internal view {
        uint256 sum = market.credits(lender, asset) + market.credits(treasury, asset) + market.credits(borrower, asset);
        if (asset == address(0)) {
            assertEq(address(market).balance, sum + market.getHost(hostId).bond, "native backing");
        } else {
            assertEq(token.balanceOf(address(market)), sum, "token backing");
            assertEq(address(market).balance, market.credits(borrower, address(0)) + market.getHost(hostId).bond);
        }
    }

    /// @dev Cancelling (early: free; late: cancelFeeBps to the lender less the platform fee), declining and
    /// no-show all hand back exactly the escrow, to the wei.
    function testFuzz_refundingEnds_creditsSumToEscrow(
        uint128 pricePerHour,
        uint256 slots,
        uint256 when,
        uint16 feeBps,
        uint8 assetKind,
        uint8 how
    ) public {
        Run memory r;
        r.feeBps = uint16(_bound(feeBps, 0, market.MAX_FEE_BPS()));
        assetKind = uint8(_bound(assetKind, 0, 1));
        how = uint8(_bound(how, 0, 2));
        vm.prank(owner);
        market.setFee(r.feeBps);
        _book(r, uint128(_bound(pricePerHour, 1, 1e30)), _bound(slots, 1, 2880), assetKind);
        (uint256 l0, uint256 t0, uint256 b0) = _credits(r.asset);

        if (how == 0) {
            vm.warp(_bound(when, vm.getBlockTimestamp(), r.start - 1));
            // vm.getBlockTimestamp(): the optimizer may fold repeated `block.timestamp` reads across a warp.
            bool late = vm.getBlockTimestamp() + CANCEL_CUTOFF > r.start;
            vm.prank(borrower);
            market.cancel(r.id);
            uint256 lateFee = late ? r.price * CANCEL_FEE_BPS / BPS : 0;
            uint256 platform = lateFee * r.feeBps / BPS;
            (uint256 l1, uint256 t1, uint256 b1) = _credits(r.asset);
            assertEq(b1 - b0, r.price - lateFee, "borrower refund");
            assertEq(l1 - l0, lateFee - platform, "lender's late-cancel fee");
            assertEq(t1 - t0, platform, "platform's cut of the late fee");
            assertEq(uint8(market.getBooking(r.id).status), uint8(Status.Cancelled));
        } else if (how == 1) {
            vm.warp(_bound(when, vm.getBlockTimestamp(), r.start - 1));
            vm.prank(agent);
            market.decline(r.id, 7);
            (uint256 l1, uint256 t1, uint256 b1) = _credits(r.asset);
            assertEq(b1 - b0, r.price);
            assertEq(l1 + t1, l0 + t0);
        } else {
            vm.warp(_bound(when, r.start + ACTIVATION_GRACE, r.end + 30 days));
            vm.prank(stranger);
            market.claimNoShow(r.id);
            (uint256 l1, uint256 t1, uint256 b1) = _credits(r.asset);
            uint256 slashInAsset = r.asset == address(0) ? NO_SHOW_SLASH : 0;
            assertEq(b1 - b0 - slashInAsset, r.price);
            assertEq(l1 + t1, l0 + t0);
            assertEq(market.getHost(hostId).bond, MIN_BOND - NO_SHOW_SLASH);
            r.slash = NO_SHOW_SLASH;
        }
        _assertBacked(r.asset);
    }
}
