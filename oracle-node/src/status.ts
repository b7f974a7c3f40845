/**
 * The daemon's status endpoint, on loopback only: `GET /status` (bookings in flight, last block seen, pending
 * transactions, recent errors), `GET /healthz`, and the calendar feeds `GET /calendar/<0xaddress>.ics`
 * (calendar-feed.ts). Read-only and holding no secret, so no token; plain node:http because three routes need
 * no framework.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isAddress } from "viem";
import { shortError } from "./chain.ts";
import type { DaemonStatus } from "./daemon.ts";

export interface StatusServerOptions {
  /** The iCalendar feed of an account (a checked address); without it `/calendar/…` answers 404. */
  calendar?: (account: string) => Promise<string>;
}

const CALENDAR_PATH = /^\/calendar\/([^/]*)\.ics$/;

export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  status: () => DaemonStatus,
  listen: { host: string; port: number },
  opts: StatusServerOptions = {},
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
    const calendar = CALENDAR_PATH.exec(path ?? "");
    if (calendar && opts.calendar) {
      const account = calendar[1] as string;
      if (!isAddress(account, { strict: false })) {
        return send(400, {
          error: "not an account address: ask for /calendar/0x<40 hex digits>.ics (any letter case)",
        });
      }
      opts.calendar(account).then(
        (text) => {
          res.writeHead(200, {
            "content-type": "text/calendar; charset=utf-8",
            "content-disposition": `inline; filename="computehive-${account.toLowerCase()}.ics"`,
            "cache-control": "no-cache",
          });
          res.end(text);
        },
        (err) => send(500, { error: `the calendar feed failed: ${shortError(err)}` }),
      );
      return;
    }
    const routes = [
      "GET /status",
      "GET /healthz",
      ...(opts.calendar ? ["GET /calendar/<0xaddress>.ics"] : []),
    ];
    send(404, { error: `routes: ${routes.join(", ")}` });
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
