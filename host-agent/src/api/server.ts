/**
 * The agent's local HTTP API, for the oracle-node on the same machine.
 *
 * Plain `node:http`, no framework, on purpose: the agent runs as root, so every dependency is attack surface
 * in a privileged process; the API is eight routes with JSON bodies, which zod validates and a small router
 * dispatches; and a framework would add nothing the few lines below do not (body limit, auth, typed errors,
 * structured logs). Fastify is not among the agent's dependencies either.
 *
 * Transport: a Unix socket (default `<stateDir>/agent.sock`, mode 0660: the file's owner and group are the
 * access control) or TCP on a loopback address only, with a bearer token compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { chmod, chown, lstat, unlink } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, isIP } from "node:net";
import { type Logger, pino } from "pino";
import { type HostAgent, parse } from "../agent/agent.ts";
import { ExtendRequest } from "../agent/booking.ts";
import { AgentError, errorMessage } from "../agent/errors.ts";

/** What the API needs of the agent (a HostAgent; tests may hand in anything with these methods). */
export type ApiAgent = Pick<
  HostAgent,
  | "provision"
  | "provisionStarted"
  | "status"
  | "list"
  | "extend"
  | "destroy"
  | "reconcile"
  | "inventory"
  | "health"
>;

/** Bodies above this are refused with 413 (a reconcile of a few hundred full bookings fits). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export type ApiListen =
  | { socketPath: string; socketMode?: number; socketGid?: number }
  | { host: string; port: number };

export interface ApiServerOptions {
  agent: ApiAgent;
  listen: ApiListen;
  /** Required on TCP; optional extra check on a Unix socket. At least 32 characters. */
  token?: string;
  bodyLimitBytes?: number;
  logger?: Logger;
}

export interface ApiServer {
  server: Server;
  /** `unix:<path>` or `http://127.0.0.1:<port>`. */
  url: string;
  /** TCP only: the port actually bound (useful with port 0). */
  port?: number;
  socketPath?: string;
  /** Stops accepting, lets requests in flight finish, removes the socket file. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const ID = "(0|[1-9][0-9]{0,77})";
const BOOKING_PATH = new RegExp(`^/v1/bookings/${ID}$`);
const EXTEND_PATH = new RegExp(`^/v1/bookings/${ID}/extend$`);

type Handler = (ctx: RequestContext) => Promise<unknown>;

interface RequestContext {
  req: IncomingMessage;
  params: string[];
  log: Logger;
  body(): Promise<unknown>;
}

interface Route {
  method: string;
  match: RegExp;
  handler: Handler;
}

/** Starts the API and resolves once it listens. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const log = opts.logger ?? pino({ name: "computehive-host-agent-api" });
  const limit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const tcp = "port" in opts.listen;
  if (tcp && !opts.token) throw new Error("a TCP listener needs a bearer token (--token-file)");
  if (opts.token !== undefined && opts.token.length < 32) {
    throw new Error("the bearer token must be at least 32 characters");
  }
  if (tcp && "host" in opts.listen && !LOOPBACK.has(opts.listen.host)) {
    throw new Error(`the API listens on loopback only (127.0.0.1 or ::1), not ${opts.listen.host}`);
  }
  const tokenDigest = opts.token === undefined ? undefined : sha256(opts.token);
  const agent = opts.agent;

  const routes: Route[] = [
    { method: "GET", match: /^\/v1\/health$/, handler: () => agent.health() },
    {
      method: "GET",
      match: /^\/v1\/inventory$/,
      handler: ({ req }) =>
        agent.inventory({ refresh: new URL(req.url ?? "/", "http://x").searchParams.has("refresh") }),
    },
    { method: "GET", match: /^\/v1\/bookings$/, handler: async () => ({ bookings: await agent.list() }) },
    {
      method: "POST",
      match: /^\/v1\/bookings$/,
      // `?wait=started`: answer once the domain has started (the oracle-node publishes the endpoint at once);
      // default: once the guest's sshd answers.
      handler: async ({ req, body }) =>
        new URL(req.url ?? "/", "http://x").searchParams.get("wait") === "started"
          ? agent.provisionStarted(await body())
          : agent.provision(await body()),
    },
    { method: "GET", match: BOOKING_PATH, handler: ({ params }) => agent.status(params[0] as string) },
    {
      method: "POST",
      match: EXTEND_PATH,
      handler: async ({ params, body }) => {
        const { end } = parse(ExtendRequest, await body());
        return agent.extend(params[0] as string, end);
      },
    },
    {
      method: "DELETE",
      match: BOOKING_PATH,
      handler: async ({ params }) => ({ facts: await agent.destroy(params[0] as string) }),
    },
    {
      method: "POST",
      match: /^\/v1\/reconcile$/,
      handler: async ({ body }) => agent.reconcile(await body()),
    },
  ];

  let seq = 0;
  const server = createServer((req, res) => {
    const started = Date.now();
    const reqId = `${process.pid}-${++seq}`;
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const bookingId = /^\/v1\/bookings\/([0-9]+)/.exec(path)?.[1];
    // Every line about a request carries its bookingId: from the path, or from the body once it is read.
    const logs = { log: log.child({ reqId, method: req.method, path, ...(bookingId ? { bookingId } : {}) }) };
    res.setHeader("x-request-id", reqId);
    handle(req, res, path, logs)
      .then((status) => logs.log.info({ status, ms: Date.now() - started }, "request"))
      .catch((err) => logs.log.error({ err: errorMessage(err) }, "request failed while answering"));
  });
  // Provisioning keeps a request open for ~10 s under TCG (minutes at worst): the socket never idles out,
  // while a client still has to send its headers and body promptly.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  server.timeout = 0;

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    logs: { log: Logger },
  ): Promise<number> {
    const body = async () => {
      const value = await readJson(req, limit);
      const id = (value as { bookingId?: unknown } | null)?.bookingId;
      if (typeof id === "string" && !path.startsWith("/v1/bookings/"))
        logs.log = logs.log.child({ bookingId: id });
      return value;
    };
    try {
      if (tokenDigest && !authorized(req, tokenDigest)) {
        res.setHeader("www-authenticate", 'Bearer realm="computehive-host-agent"');
        throw new AgentError("unauthorized", "a valid bearer token is required");
      }
      const candidates = routes.filter((r) => r.match.test(path));
      if (candidates.length === 0) {
        if (path.startsWith("/v1/bookings/")) {
          throw new AgentError(
            "invalid-request",
            "invalid request: the booking id must be a decimal uint256",
            {
              issues: [{ path: "bookingId", message: "must be a decimal uint256" }],
            },
          );
        }
        throw new AgentError("not-found", `no route ${path}`);
      }
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader("allow", candidates.map((r) => r.method).join(", "));
        throw new AgentError("method-not-allowed", `${req.method} is not allowed on ${path}`);
      }
      const params = (route.match.exec(path) ?? []).slice(1);
      const result = await route.handler({ req, params, log: logs.log, body });
      return send(res, 200, result);
    } catch (err) {
      const e = err instanceof AgentError ? err : new AgentError("internal", errorMessage(err));
      if (e.status >= 500) logs.log.error({ code: e.code, err: e.message }, "request failed");
      else
        logs.log.warn(
          { code: e.code, err: e.message, declineReason: e.details.declineReason },
          "request refused",
        );
      if (e.code === "payload-too-large") res.setHeader("connection", "close");
      return send(res, e.status, e.toJSON());
    }
  }

  const listen = opts.listen;
  if ("socketPath" in listen) {
    await clearStaleSocket(listen.socketPath);
    server.listen(listen.socketPath);
    await once(server, "listening");
    await chmod(listen.socketPath, listen.socketMode ?? 0o660);
    if (listen.socketGid !== undefined) await chown(listen.socketPath, -1, listen.socketGid);
    log.info({ socket: listen.socketPath }, "API listening on a Unix socket");
    return {
      server,
      url: `unix:${listen.socketPath}`,
      socketPath: listen.socketPath,
      close: async () => {
        await closeServer(server);
        await unlink(listen.socketPath).catch(() => {});
      },
    };
  }
  server.listen({ host: listen.host === "localhost" ? "127.0.0.1" : listen.host, port: listen.port });
  await once(server, "listening");
  const addr = server.address();
  const port = addr && typeof addr === "object" ? addr.port : listen.port;
  const host = addr && typeof addr === "object" ? addr.address : listen.host;
  const url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  log.info({ url }, "API listening on loopback TCP (bearer token required)");
  return { server, url, port, close: () => closeServer(server) };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** `Authorization: Bearer <token>`, compared as SHA-256 digests in constant time (equal lengths always). */
function authorized(req: IncomingMessage, digest: Buffer): boolean {
  const header = req.headers.authorization ?? "";
  const m = /^Bearer ([\x21-\x7e]+)$/.exec(header);
  const given = sha256(m?.[1] ?? "");
  return timingSafeEqual(given, digest) && m !== null;
}

function send(res: ServerResponse, status: number, body: unknown): number {
  const text = `${JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}\n`;
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
  return status;
}

/** The request's JSON body, at most `limit` bytes, `application/json` only. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    req.resume();
    throw new AgentError("unsupported-media-type", "send the body as application/json");
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new AgentError("payload-too-large", `the body is over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new AgentError("payload-too-large", `the body is over ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new AgentError("invalid-json", "the body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AgentError("invalid-json", `the body is not JSON: ${errorMessage(err)}`);
  }
}

/**
 * A socket file left by an agent that died is removed; one another agent still answers on is not (two
 * agents on one state directory would fight over the same VMs), nor is anything that is not a socket.
 */
async function clearStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (alive) throw new Error(`another agent is serving on ${path}`);
  await unlink(path);
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}
