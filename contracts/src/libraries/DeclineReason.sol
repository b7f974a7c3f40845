// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title DeclineReason
/// @notice Reason codes an agent puts on-chain with `decline`. The host agent and oracle-node use the same codes.
library DeclineReason {
    /// @notice The x25519 session key is not a usable public key (e.g. a low-order point).
    uint8 internal constant SESSION_KEY_INVALID = 1;
    /// @notice The SSH public key line does not parse.
    uint8 internal constant SSH_KEY_MALFORMED = 2;
    /// @notice The SSH key type is not one the host accepts (ed25519, ecdsa-sha2-nistp256/384/521, rsa).
    uint8 internal constant SSH_KEY_UNSUPPORTED_TYPE = 3;
    /// @notice An RSA key under 3072 bits.
    uint8 internal constant SSH_KEY_TOO_WEAK = 4;
    /// @notice The SSH key is longer than the host accepts.
    uint8 internal constant SSH_KEY_TOO_LONG = 5;
    /// @notice The host cannot serve the window (down, maintenance, hardware fault).
    uint8 internal constant HOST_UNAVAILABLE = 6;
    /// @notice Provisioning the VM failed.
    uint8 internal constant PROVISIONING_FAILED = 7;

    /// @notice The highest defined code; 0 and anything above are rejected.
    uint8 internal constant MAX = 7;
}
