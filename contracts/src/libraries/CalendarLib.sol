// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title CalendarLib
/// @notice A per-listing slot calendar as a bitmap: slot `s` (= timestamp / slotLength) is bit `s % 256` of word
/// `s / 256`. Reserving or releasing [s0, s1) touches only the words that range covers, so the cost of a booking
/// depends on its length, never on how many bookings the listing already holds.
library CalendarLib {
    /// @notice Bits [from, to) of one word, with 0 <= from < to <= 256.
    function mask(uint256 from, uint256 to) internal pure returns (uint256) {
        // Width 256 would overflow `1 << width`; it is the full word.
        if (to - from == 256) return type(uint256).max;
        return ((uint256(1) << (to - from)) - 1) << from;
    }

    /// @notice Whether every slot in [s0, s1) is free.
    function isFree(mapping(uint256 => uint256) storage words, uint256 s0, uint256 s1) internal view returns (bool) {
        for (uint256 s = s0; s < s1;) {
            uint256 word = s >> 8;
            uint256 next = _min((word + 1) << 8, s1);
            if (words[word] & mask(s & 255, next - (word << 8)) != 0) return false;
            s = next;
        }
        return true;
    }

    /// @notice Marks [s0, s1) taken. Returns false, having possibly written some words, if any slot was taken:
    /// the caller must revert in that case.
    function reserve(mapping(uint256 => uint256) storage words, uint256 s0, uint256 s1) internal returns (bool) {
        for (uint256 s = s0; s < s1;) {
            uint256 word = s >> 8;
            uint256 next = _min((word + 1) << 8, s1);
            uint256 m = mask(s & 255, next - (word << 8));
            uint256 bits = words[word];
            if (bits & m != 0) return false;
            words[word] = bits | m;
            s = next;
        }
        return true;
    }

    /// @notice Marks [s0, s1) free.
    function release(mapping(uint256 => uint256) storage words, uint256 s0, uint256 s1) internal {
        for (uint256 s = s0; s < s1;) {
            uint256 word = s >> 8;
            uint256 next = _min((word + 1) << 8, s1);
            words[word] &= ~mask(s & 255, next - (word << 8));
            s = next;
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
