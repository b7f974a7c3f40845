// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";

import {IMarket, MarketParams} from "../contracts/src/interfaces/IMarket.sol";
import {TestToken} from "../contracts/src/mocks/TestToken.sol";

/// @title DeployMarket
/// @notice Deploys ComputeHive's market to any RPC URL and records it in `deployments/<chainId>.json`.
///
///   PRIVATE_KEY=0x… forge script script/DeployMarket.s.sol --rpc-url <url> --broadcast --slow
///
/// or, recording the exact start block (see below): RPC_URL=<url> PRIVATE_KEY=0x… tsx script/src/deploy.ts
///
/// Environment (every value but PRIVATE_KEY has a default):
///
///   PRIVATE_KEY              (required) deployer key; it pays for and sends every transaction
///   MARKET_OWNER             deployer   fee, arbiter, treasury, payment assets, feed, pause
///   MARKET_TREASURY          deployer   receives the platform fee
///   MARKET_ARBITER           deployer   resolves disputes
///   MARKET_FEE_BPS           250        platform fee (2.5 %), at most Market.MAX_FEE_BPS (10 %)
///   MARKET_SLOT_LENGTH       900        calendar slot, seconds (15 minutes)
///   MARKET_ACTIVATION_GRACE  600        after the start, time left to publish the endpoint (10 minutes)
///   MARKET_REPORT_GRACE      3600       after the end, time left to report usage (1 hour)
///   MARKET_DISPUTE_WINDOW    86400      borrower's dispute window after the report (1 day)
///   MARKET_ARBITER_DEADLINE  604800     arbiter's time before the permissionless fallback (7 days)
///   MARKET_CANCEL_CUTOFF     86400      cancelling earlier than this before the start is free (1 day)
///   MARKET_CANCEL_FEE_BPS    2000       late-cancellation fee to the lender (20 %)
///   MARKET_UNBONDING_DELAY   604800     between requestUnbond and withdrawBond (7 days)
///   MARKET_MIN_BOND          1e18       wei a host must keep bonded (1 native unit)
///   MARKET_NO_SHOW_SLASH     1e17       wei slashed from the bond to the borrower on a no-show (0.1)
///   MARKET_USD_FEED          none       native/USD AggregatorV3 feed (non-local chains; local: a mock)
///   MARKET_USD_FEED_MAX_AGE  3600       feed staleness bound, seconds (local: 365 days)
///   MOCK_ETH_USD             3000e8     local only: the mock feed's answer, 8 decimals
///   DEPLOYMENTS_DIR          <project>/deployments  folder of the record `<chainId>.json`; forge may write
///                                       only under ./deployments (foundry.toml fs_permissions)
///
/// On a local chain (chain id 31337) the script also deploys a MockV3Aggregator (8 decimals) as the USD feed
/// and a free-mint TestToken ("Test USD", tUSD, 6 decimals) that it allows as a payment asset. The local feed's
/// default staleness bound is long because the mock never updates on its own (anyone may call `updateAnswer`).
/// Configuring the feed and the token needs the owner: if MARKET_OWNER is not the deployer, the market is
/// deployed owned by the deployer, configured, and then handed over with Ownable2Step's `transferOwnership`;
/// the record then names the deployer as `owner` and MARKET_OWNER as `pendingOwner`, which must call
/// `acceptOwnership()`.
///
/// The record's `startBlock` (the first block an indexer must read): a script cannot know the block its
/// transactions land in, because forge simulates `run()` before it broadcasts. The script writes the block it
/// was simulated on, `block.number`, which is a lower bound of the real one (indexing from an earlier block
/// misses nothing). The TypeScript wrapper (script/src/lib/deploy.ts) then replaces it with the exact block
/// from the market's creation receipt in forge's broadcast record, and checks the code is really there.
/// @notice The market plus the Ownable2Step function the script needs.
interface IOwnedMarket is IMarket {
    function transferOwnership(address newOwner) external;
}

/// @dev Market is deployed from its artifact rather than imported: Market.sol compiles through the IR pipeline,
/// and importing it would pull this script (and the mocks it deploys) into that slow compilation unit too.
contract DeployMarket is Script {
    uint256 internal constant LOCAL_CHAIN_ID = 31_337;

    /// @notice An environment variable is out of its type's range (or, for MOCK_ETH_USD, not positive).
    error BadEnv(string name);

    struct Config {
        uint256 deployerKey;
        address deployer;
        address owner;
        address treasury;
        address arbiter;
        uint16 feeBps;
        MarketParams params;
        address usdFeed; // non-local chains only; 0 = none
        uint32 usdFeedMaxAge;
        int256 mockEthUsd;
        string outDir;
        string outFile;
    }

    struct Deployed {
        IOwnedMarket market;
        address usdFeed;
        address testToken;
        address owner;
        address pendingOwner;
    }

    function run() external returns (IOwnedMarket) {
        Config memory c = _config();
        bool local = block.chainid == LOCAL_CHAIN_ID;
        uint256 startBlock = block.number;

        Deployed memory d;
        // Local configuration needs the owner's key, which the script holds only when owner == deployer.
        bool handOver = c.owner != c.deployer && (local || c.usdFeed != address(0));
        d.owner = handOver ? c.deployer : c.owner;

        vm.startBroadcast(c.deployerKey);
        d.market = IOwnedMarket(deployCode("Market.sol:Market", _constructorArgs(c, d.owner)));
        if (local) {
            MockV3Aggregator feed = new MockV3Aggregator(8, c.mockEthUsd);
            TestToken token = new TestToken("Test USD", "tUSD", 6);
            d.market.setUsdFeed(address(feed), c.usdFeedMaxAge);
            d.market.setAssetAllowed(address(token), true);
            d.usdFeed = address(feed);
            d.testToken = address(token);
        } else if (c.usdFeed != address(0)) {
            d.market.setUsdFeed(c.usdFeed, c.usdFeedMaxAge);
            d.usdFeed = c.usdFeed;
        }
        if (handOver) {
            d.market.transferOwnership(c.owner);
            d.pendingOwner = c.owner;
        }
        vm.stopBroadcast();

        _write(c, d, startBlock);
        _log(c, d, startBlock);
        return d.market;
    }

    function _config() internal view returns (Config memory c) {
        c.deployerKey = vm.envUint("PRIVATE_KEY");
        c.deployer = vm.addr(c.deployerKey);
        c.owner = vm.envOr("MARKET_OWNER", c.deployer);
        c.treasury = vm.envOr("MARKET_TREASURY", c.deployer);
        c.arbiter = vm.envOr("MARKET_ARBITER", c.deployer);
        c.feeBps = uint16(_envUint("MARKET_FEE_BPS", 250, type(uint16).max));
        c.params = MarketParams({
            slotLength: uint32(_envUint("MARKET_SLOT_LENGTH", 15 minutes, type(uint32).max)),
            activationGrace: uint32(_envUint("MARKET_ACTIVATION_GRACE", 10 minutes, type(uint32).max)),
            reportGrace: uint32(_envUint("MARKET_REPORT_GRACE", 1 hours, type(uint32).max)),
            disputeWindow: uint32(_envUint("MARKET_DISPUTE_WINDOW", 1 days, type(uint32).max)),
            arbiterDeadline: uint32(_envUint("MARKET_ARBITER_DEADLINE", 7 days, type(uint32).max)),
            cancelCutoff: uint32(_envUint("MARKET_CANCEL_CUTOFF", 1 days, type(uint32).max)),
            cancelFeeBps: uint16(_envUint("MARKET_CANCEL_FEE_BPS", 2000, type(uint16).max)),
            unbondingDelay: uint32(_envUint("MARKET_UNBONDING_DELAY", 7 days, type(uint32).max)),
            minBond: uint96(_envUint("MARKET_MIN_BOND", 1 ether, type(uint96).max)),
            noShowSlash: uint96(_envUint("MARKET_NO_SHOW_SLASH", 0.1 ether, type(uint96).max))
        });
        bool local = block.chainid == LOCAL_CHAIN_ID;
        c.usdFeed = local ? address(0) : vm.envOr("MARKET_USD_FEED", address(0));
        c.usdFeedMaxAge = uint32(_envUint("MARKET_USD_FEED_MAX_AGE", local ? 365 days : 1 hours, type(uint32).max));
        c.mockEthUsd = vm.envOr("MOCK_ETH_USD", int256(3000e8));
        if (c.mockEthUsd <= 0) revert BadEnv("MOCK_ETH_USD");
        c.outDir = vm.envOr("DEPLOYMENTS_DIR", string.concat(vm.projectRoot(), "/deployments"));
        c.outFile = string.concat(c.outDir, "/", vm.toString(block.chainid), ".json");
    }

    /// @dev abi.encode(params, owner, treasury, arbiter, feeBps), in two parts: every field is static, so the
    /// concatenation is the same bytes, and one encoder for all fourteen values is too deep for the legacy code
    /// generator.
    function _constructorArgs(Config memory c, address owner_) internal pure returns (bytes memory) {
        return bytes.concat(abi.encode(c.params), abi.encode(owner_, c.treasury, c.arbiter, c.feeBps));
    }

    function _envUint(string memory name, uint256 defaultValue, uint256 max) internal view returns (uint256 v) {
        v = vm.envOr(name, defaultValue);
        if (v > max) revert BadEnv(name);
    }

    /// @dev The record is written by hand rather than with vm.serialize*: it needs `null`s, a nested object and
    /// wei amounts as decimal strings (JSON numbers lose precision above 2^53 in JavaScript).
    function _write(Config memory c, Deployed memory d, uint256 startBlock) internal {
        MarketParams memory p = c.params;
        // Concatenated a few fields at a time: longer string.concat calls are too deep for the legacy code
        // generator (this script stays out of Market.sol's IR compilation unit; see the note on the contract).
        string memory json = string.concat("{", _num("slotLength", p.slotLength, false));
        json = string.concat(json, _num("activationGrace", p.activationGrace, false));
        json = string.concat(json, _num("reportGrace", p.reportGrace, false));
        json = string.concat(json, _num("disputeWindow", p.disputeWindow, false));
        json = string.concat(json, _num("arbiterDeadline", p.arbiterDeadline, false));
        json = string.concat(json, _num("cancelCutoff", p.cancelCutoff, false));
        json = string.concat(json, _num("cancelFeeBps", p.cancelFeeBps, false));
        json = string.concat(json, _num("unbondingDelay", p.unbondingDelay, false));
        json = string.concat(json, _str("minBond", vm.toString(p.minBond), false));
        json = string.concat(json, _str("noShowSlash", vm.toString(p.noShowSlash), false));
        json = string.concat(json, _num("feeBps", c.feeBps, false));
        json = string.concat(json, _num("usdFeedMaxAge", d.usdFeed == address(0) ? 0 : c.usdFeedMaxAge, true), "}");
        string memory params = json;

        json = string.concat("{", _num("chainId", block.chainid, false));
        json = string.concat(json, _str("market", vm.toString(address(d.market)), false));
        json = string.concat(json, _num("startBlock", startBlock, false));
        json = string.concat(json, _str("deployer", vm.toString(c.deployer), false));
        json = string.concat(json, _str("owner", vm.toString(d.owner), false));
        json = string.concat(json, _addrOrNull("pendingOwner", d.pendingOwner));
        json = string.concat(json, _str("treasury", vm.toString(c.treasury), false));
        json = string.concat(json, _str("arbiter", vm.toString(c.arbiter), false));
        json = string.concat(json, _addrOrNull("usdFeed", d.usdFeed));
        json = string.concat(json, _addrOrNull("testToken", d.testToken));
        json = string.concat(json, "\"params\":", params, "}");
        vm.createDir(c.outDir, true);
        vm.writeJson(json, c.outFile);
    }

    function _num(string memory key, uint256 value, bool last) internal pure returns (string memory) {
        return string.concat("\"", key, "\":", vm.toString(value), last ? "" : ",");
    }

    function _str(string memory key, string memory value, bool last) internal pure returns (string memory) {
        return string.concat("\"", key, "\":\"", value, "\"", last ? "" : ",");
    }

    function _addrOrNull(string memory key, address value) internal pure returns (string memory) {
        return value == address(0) ? string.concat("\"", key, "\":null,") : _str(key, vm.toString(value), false);
    }

    function _log(Config memory c, Deployed memory d, uint256 startBlock) internal view {
        console2.log("chain id       ", block.chainid);
        console2.log("market         ", address(d.market));
        console2.log("start block >= ", startBlock);
        console2.log("owner          ", d.owner);
        if (d.pendingOwner != address(0)) console2.log("pending owner  ", d.pendingOwner);
        console2.log("treasury       ", c.treasury);
        console2.log("arbiter        ", c.arbiter);
        if (d.usdFeed != address(0)) console2.log("usd feed       ", d.usdFeed);
        if (d.testToken != address(0)) console2.log("test token     ", d.testToken);
        console2.log("record         ", c.outFile);
    }
}
