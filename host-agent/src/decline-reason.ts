/**
 * Mirror of `contracts/src/libraries/DeclineReason.sol`: the codes the oracle-node puts on-chain with `decline`
 * when the agent refuses a booking (test/ssh.test.ts parses the .sol file and compares).
 */
export const DeclineReason = {
  SESSION_KEY_INVALID: 1,
  SSH_KEY_MALFORMED: 2,
  SSH_KEY_UNSUPPORTED_TYPE: 3,
  SSH_KEY_TOO_WEAK: 4,
  SSH_KEY_TOO_LONG: 5,
  HOST_UNAVAILABLE: 6,
  PROVISIONING_FAILED: 7,
  MAX: 7,
} as const;
