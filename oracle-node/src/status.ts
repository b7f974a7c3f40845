/**
 * The daemon's status endpoint, on loopback only: `GET /status` (bookings in flight, last block seen, pending
 * transactions, recent errors) and `GET /healthz`. Read-only and holding no secret, so no token; plain
 * node:http because two routes need no framework.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DaemonStatus } from "./daemon.ts";

export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  status: () => DaemonStatus,
  listen: { host: string; port: number },
): Promise<StatusServer> {
  if (!["127.0.0.1", "::1", "localhost"].includes(listen.host)) {
    throw new Error(`the status endpoint listens on loopback only, not ${listen.host}`);
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: unknown) => {
      const text = `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(text);
    };
    if (req.method !== "GET") return send(405, { error: "GET only" });
    if (path === "/status") return send(200, status());
    if (path === "/healthz") {
      const s = status();
      return send(200, { ok: true, lastBlock: s.lastBlock, ticks: s.ticks });
    }
    send(404, { error: "routes: GET /status, GET /healthz" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
