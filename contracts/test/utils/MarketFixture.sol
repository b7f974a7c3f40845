// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IMarketTest} from "./IMarketTest.sol";
import {Status, Confidential, Hardware, MarketParams} from "../../src/interfaces/IMarket.sol";
import {TestToken} from "../../src/mocks/TestToken.sol";

/// @notice A deployed market with one bonded host, a feed and a token, and helpers shared by the test files.
abstract contract MarketFixture is Test {
    uint32 internal constant SLOT = 15 minutes;
    uint32 internal constant ACTIVATION_GRACE = 10 minutes;
    uint32 internal constant REPORT_GRACE = 1 hours;
    uint32 internal constant DISPUTE_WINDOW = 1 days;
    uint32 internal constant ARBITER_DEADLINE = 7 days;
    uint32 internal constant CANCEL_CUTOFF = 1 days;
    uint16 internal constant CANCEL_FEE_BPS = 2000;
    uint32 internal constant UNBONDING_DELAY = 7 days;
    uint96 internal constant MIN_BOND = 1 ether;
    uint96 internal constant NO_SHOW_SLASH = 0.1 ether;
    uint16 internal constant FEE_BPS = 250;
    uint32 internal constant LEAD_TIME = 1 hours;
    uint128 internal constant PRICE_PER_HOUR = 0.01 ether;
    int256 internal constant ETH_USD = 3000e8;
    uint32 internal constant FEED_MAX_AGE = 1 hours;

    IMarketTest internal market;
    MockV3Aggregator internal feed;
    TestToken internal token;

    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    address internal arbiter = makeAddr("arbiter");
    address internal lender = makeAddr("lender");
    address internal agent = makeAddr("agent");
    address internal borrower = makeAddr("borrower");
    address internal stranger = makeAddr("stranger");

    bytes32 internal constant SESSION_KEY = keccak256("x25519 session key");
    bytes internal constant SSH_KEY =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr1C2QbE0N4ZqJxq3CwXv2m7uQxwJ0pQ0iYQ5c2mN8b borrower@laptop";

    uint256 internal hostId;
    uint256 internal listingId;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        market = deployMarket(defaultParams(), owner, treasury, arbiter, FEE_BPS);
        feed = new MockV3Aggregator(8, ETH_USD);
        token = new TestToken("Test USD", "tUSD", 6);
        vm.startPrank(owner);
        market.setUsdFeed(address(feed), FEED_MAX_AGE);
        market.setAssetAllowed(address(token), true);
        vm.stopPrank();

        vm.deal(lender, 100 ether);
        vm.deal(borrower, 100 ether);
        vm.deal(stranger, 100 ether);
        vm.prank(lender);
        hostId = market.registerHost{value: MIN_BOND}(agent, "bafyhost");
        listingId = createListing(address(0), false, PRICE_PER_HOUR);
    }

    /// @notice Deploys Market from its forge artifact; a reverting constructor's error bubbles up unchanged, so
    /// `vm.expectRevert` sees it.
    function deployMarket(MarketParams memory p, address owner_, address treasury_, address arbiter_, uint16 fee)
        internal
        returns (IMarketTest deployed)
    {
        bytes memory code =
            abi.encodePacked(vm.getCode("Market.sol:Market"), abi.encode(p, owner_, treasury_, arbiter_, fee));
        assembly ("memory-safe") {
            deployed := create(0, add(code, 0x20), mload(code))
            if iszero(deployed) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
        }
    }

    function defaultParams() internal pure returns (MarketParams memory) {
        return MarketParams({
            slotLength: SLOT,
            activationGrace: ACTIVATION_GRACE,
            reportGrace: REPORT_GRACE,
            disputeWindow: DISPUTE_WINDOW,
            arbiterDeadline: ARBITER_DEADLINE,
            cancelCutoff: CANCEL_CUTOFF,
            cancelFeeBps: CANCEL_FEE_BPS,
            unbondingDelay: UNBONDING_DELAY,
            minBond: MIN_BOND,
            noShowSlash: NO_SHOW_SLASH
        });
    }

    function gpuHardware() internal pure returns (Hardware memory) {
        return Hardware({
            gpuModel: "NVIDIA H100 80GB HBM3",
            gpuCount: 1,
            vramMiBPerGpu: 81_559,
            cpuCores: 16,
            ramMiB: 128 * 1024,
            diskGiB: 500,
            region: "eu-west",
            confidential: Confidential.None
        });
    }

    function createListing(address asset, bool usdPriced, uint128 pricePerHour) internal returns (uint256) {
        vm.prank(lender);
        uint16 maxSlots = 96;
        return market.createListing(
            hostId, gpuHardware(), asset, usdPriced, pricePerHour, 1, maxSlots, LEAD_TIME, "bafylisting"
        );
    }

    /// @notice The first slot boundary at least `after_` seconds from now.
    function slotAfter(uint256 after_) internal view returns (uint40) {
        uint256 t = block.timestamp + after_;
        return uint40((t + SLOT - 1) / SLOT * SLOT);
    }

    /// @notice Books `slots` slots on the default listing starting `startIn` seconds from now (slot-aligned up).
    function bookNative(uint256 startIn, uint256 slots) internal returns (uint256 bookingId, uint40 start, uint40 end) {
        start = slotAfter(startIn);
        end = uint40(start + slots * SLOT);
        (uint256 price,) = market.quote(listingId, start, end);
        vm.prank(borrower);
        bookingId = market.book{value: price}(listingId, start, end, SESSION_KEY, SSH_KEY);
    }

    function statusOf(uint256 bookingId) internal view returns (Status) {
        return market.getBooking(bookingId).status;
    }
}
