// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice The market must deploy on Ethereum and the L2s that keep EIP-170's code-size limit.
contract CodeSizeTest is MarketFixture {
    uint256 internal constant EIP170_LIMIT = 24_576;

    function test_runtimeCodeFitsEip170() public view {
        assertLe(address(market).code.length, EIP170_LIMIT);
    }
}
