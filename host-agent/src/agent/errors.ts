import type { TeardownFacts } from "../vm/journal.ts";

/**
 * What went wrong, as the API reports it (`{ error: { code, message, declineReason? } }`). Each code has
 * one HTTP status; a code that carries `declineReason` is a refusal the oracle-node can put on-chain with
 * `decline` (the numbers of `contracts/src/libraries/DeclineReason.sol`).
 */
export const AGENT_ERRORS = {
  /** The request does not have the right shape (zod's issues listed). */
  "invalid-request": 400,
  /** The body is not JSON. */
  "invalid-json": 400,
  /** No or a wrong bearer token (TCP only). */
  unauthorized: 401,
  /** No such route, or no such booking. */
  "not-found": 404,
  "method-not-allowed": 405,
  /** The same booking id with another borrower key or window start than the one being served. */
  "booking-conflict": 409,
  /** The booking's session is over (tombstone): it is never provisioned again. */
  "booking-finished": 409,
  /** The window has already ended. */
  "window-ended": 409,
  /** Extend: the booking is not running. */
  "not-running": 409,
  /** Extend: the new end is not after the current one. */
  "bad-extension": 409,
  "payload-too-large": 413,
  "unsupported-media-type": 415,
  /** The borrower's SSH key was refused: declineReason 2..5. Nothing was created. */
  "ssh-key-rejected": 422,
  /** The host cannot serve this listing's hardware now (GPU missing or not VFIO-ready, too big): declineReason 6. */
  "host-unavailable": 422,
  /** Provisioning failed and was rolled back (facts say what was removed): declineReason 7. */
  "provisioning-failed": 500,
  /** A teardown step failed; the agent retries it on its own. */
  "teardown-incomplete": 500,
  internal: 500,
  /** The agent is starting or shutting down. */
  unavailable: 503,
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERRORS;

export interface AgentErrorDetails {
  /** On-chain decline reason (DeclineReason.sol), when the oracle-node should decline the booking. */
  declineReason?: number;
  /** zod's issues for invalid-request. */
  issues?: { path: string; message: string }[];
  /** What teardown did, for provisioning-failed and booking-finished. */
  facts?: TeardownFacts;
  bookingId?: string;
}

export class AgentError extends Error {
  readonly status: number;

  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly details: AgentErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AgentError";
    this.status = AGENT_ERRORS[code];
  }

  /** The API's error body. */
  toJSON(): { error: { code: AgentErrorCode; message: string } & AgentErrorDetails } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
