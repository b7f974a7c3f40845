// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarket} from "../../src/interfaces/IMarket.sol";

/// @notice The market as tests see it: its interface plus the Ownable2Step functions it inherits.
/// @dev Tests talk to the market only through interfaces and deploy it from its artifact, so no test file
/// imports Market.sol: the compilation unit that holds Market.sol goes through the (slow) IR pipeline, and
/// keeping the tests out of it keeps `forge build` quick.
interface IMarketTest is IMarket {
    function owner() external view returns (address);
    function pendingOwner() external view returns (address);
    function transferOwnership(address newOwner) external;
    function acceptOwnership() external;
    function renounceOwnership() external;
}
