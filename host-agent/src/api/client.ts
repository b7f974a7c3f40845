/**
 * A small client for the agent's API (the oracle-node's side, the tests, the bench): JSON in, JSON out,
 * over the Unix socket or loopback TCP with the bearer token. A non-2xx answer becomes an `AgentApiError`
 * carrying the API's `{ code, message, declineReason? }`.
 */
import { request } from "node:http";
import type {
  AgentHealth,
  AgentReconcileReport,
  BookingStatus,
  ExtendResult,
  ProvisionResult,
  StartedResult,
} from "../agent/agent.ts";
import type { BookingRequestInput } from "../agent/booking.ts";
import type { Inventory } from "../inventory/schema.ts";
import type { TeardownFacts } from "../vm/journal.ts";
import type { VmStatus } from "../vm/manager.ts";

export type AgentTarget = { socketPath: string; token?: string } | { url: string; token: string };

export interface ApiErrorBody {
  code: string;
  message: string;
  declineReason?: number;
  issues?: { path: string; message: string }[];
  facts?: TeardownFacts;
}

export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${status} ${body.code}: ${body.message}`);
    this.name = "AgentApiError";
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** One HTTP exchange; never throws on a status (see `AgentClient` for that). */
export function rawRequest(
  target: AgentTarget,
  method: string,
  path: string,
  opts: {
    body?: unknown;
    rawBody?: string | Buffer;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<RawResponse> {
  const payload =
    opts.rawBody !== undefined
      ? Buffer.from(opts.rawBody)
      : opts.body !== undefined
        ? Buffer.from(JSON.stringify(opts.body))
        : undefined;
  const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
  if (payload) {
    headers["content-type"] ??= "application/json";
    headers["content-length"] = String(payload.length);
  }
  if (target.token) headers.authorization ??= `Bearer ${target.token}`;
  const where =
    "socketPath" in target
      ? { socketPath: target.socketPath, path }
      : (() => {
          const u = new URL(path, target.url);
          return {
            host: u.hostname.replace(/^\[|\]$/g, ""),
            port: Number(u.port),
            path: u.pathname + u.search,
          };
        })();
  return new Promise((resolve, reject) => {
    const req = request({ ...where, method, headers, timeout: opts.timeoutMs ?? 600_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in time`)));
    req.on("error", reject);
    req.end(payload);
  });
}

export class AgentClient {
  constructor(readonly target: AgentTarget) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await rawRequest(this.target, method, path, { body });
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const err = (res.body as { error?: ApiErrorBody } | undefined)?.error;
    throw new AgentApiError(res.status, err ?? { code: "http", message: res.text.slice(0, 500) });
  }

  health(): Promise<AgentHealth> {
    return this.call("GET", "/v1/health");
  }
  inventory(refresh = false): Promise<Inventory> {
    return this.call("GET", refresh ? "/v1/inventory?refresh" : "/v1/inventory");
  }
  provision(booking: BookingRequestInput): Promise<ProvisionResult> {
    return this.call("POST", "/v1/bookings", booking);
  }
  /** Answers once the domain has started, before the guest has booted (see `HostAgent.provisionStarted`). */
  provisionStarted(booking: BookingRequestInput): Promise<StartedResult> {
    return this.call("POST", "/v1/bookings?wait=started", booking);
  }
  list(): Promise<{ bookings: VmStatus[] }> {
    return this.call("GET", "/v1/bookings");
  }
  status(bookingId: string): Promise<BookingStatus> {
    return this.call("GET", `/v1/bookings/${bookingId}`);
  }
  extend(bookingId: string, end: number): Promise<ExtendResult> {
    return this.call("POST", `/v1/bookings/${bookingId}/extend`, { end });
  }
  destroy(bookingId: string): Promise<{ facts: TeardownFacts }> {
    return this.call("DELETE", `/v1/bookings/${bookingId}`);
  }
  reconcile(desired: (string | BookingRequestInput)[]): Promise<AgentReconcileReport> {
    return this.call("POST", "/v1/reconcile", { desired });
  }
}
