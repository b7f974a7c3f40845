import type { TeardownFacts } from "./journal.ts";
import { PROVISIONING_FAILED } from "./spec.ts";

export type VmErrorCode =
  | "not-recovered"
  | "invalid-spec"
  | "window-ended"
  | "not-found"
  | "not-running"
  | "bad-extension"
  | "provisioning-failed"
  | "teardown-incomplete";

export class VmError extends Error {
  constructor(
    readonly code: VmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "VmError";
  }
}

/**
 * Provisioning failed and everything it made is gone again (`facts`). `declineReason` is the code
 * the oracle-node puts on-chain with `decline`.
 */
export class ProvisioningError extends VmError {
  readonly declineReason = PROVISIONING_FAILED;

  constructor(
    readonly bookingId: string,
    message: string,
    readonly facts: TeardownFacts | undefined,
    options?: { cause?: unknown },
  ) {
    super("provisioning-failed", `booking ${bookingId}: ${message}`, options);
    this.name = "ProvisioningError";
  }
}
