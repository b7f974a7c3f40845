// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title PricingLib
/// @notice The market's arithmetic. Charges round up (the lender is favoured by less than 1 unit), splits round
/// down (the borrower is favoured by less than 1 unit), and a split always adds up to the price exactly.
library PricingLib {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant HOUR = 3600;

    /// @notice Price of `duration` seconds at `pricePerHour`: ceil(pricePerHour × duration / 3600).
    function price(uint256 pricePerHour, uint256 duration) internal pure returns (uint256) {
        return Math.mulDiv(pricePerHour, duration, HOUR, Math.Rounding.Ceil);
    }

    /// @notice Native wei for `duration` seconds at `usdPerHour` (USD, 18 decimals) when one native unit (1e18 wei)
    /// is worth `answer` USD with `decimals` decimals: ceil(usdPerHour × duration × 10^decimals / (3600 × answer)).
    /// @dev One rounding step only, so the charge exceeds the exact value by less than 1 wei.
    function usdToWei(uint256 usdPerHour, uint256 duration, uint256 answer, uint8 decimals)
        internal
        pure
        returns (uint256)
    {
        return Math.mulDiv(usdPerHour * duration, 10 ** decimals, HOUR * answer, Math.Rounding.Ceil);
    }

    /// @notice Splits an escrowed `price` for `used` of `duration` seconds with a platform fee of `feeBps`.
    /// @return lender The lender's share after the fee: floor(price × used / duration) − fee.
    /// @return fee floor(gross × feeBps / 10000), to the treasury.
    /// @return refund The borrower's remainder; lender + fee + refund == price.
    function split(uint256 price_, uint256 used, uint256 duration, uint256 feeBps)
        internal
        pure
        returns (uint256 lender, uint256 fee, uint256 refund)
    {
        uint256 gross = Math.mulDiv(price_, used, duration);
        fee = gross * feeBps / BPS;
        lender = gross - fee;
        refund = price_ - gross;
    }

    /// @notice `amount` × `bps` / 10000, rounded down.
    function bps(uint256 amount, uint256 bps_) internal pure returns (uint256) {
        return amount * bps_ / BPS;
    }
}
