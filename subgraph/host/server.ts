// The embedded host's HTTP server: graph-node's query endpoint and its index-node status endpoint.
//
//   POST /subgraphs/name/<name>          {query, variables, operationName} → {data, errors} (HTTP 200, as graph-node)
//   GET  /subgraphs/name/<name>?query=…  the same, for curl and browsers (graph-node only redirects GETs)
//   GET  /subgraphs/name/<name>[/graphql] with Accept: text/html: a self-contained query console
//   /subgraphs/id/<deployment>           the same for the deployment id
//   POST /graphql                        index-node API (indexingStatusForCurrentVersion, …; graph-node's :8030)
//
// Plain node:http: the server has five routes and no middleware needs, and a framework (fastify is in the registry
// but not installed) would add a dependency without removing any of the code below. Request bodies over the
// limit, malformed JSON and unknown paths get JSON errors (400/413/404 as graph-node's client errors); a GraphQL
// error is HTTP 200 with `errors`, as graph-node answers. Nothing a request contains can throw out of the handler.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SubgraphDb } from "./db.ts";
import { IndexNodeApi, type IndexNodeOptions } from "./index-node.ts";
import { type GraphQLRequest, type GraphQLResponse, QueryEngine, type QueryOptions } from "./query.ts";

export interface QueryServerOptions extends QueryOptions {
  db: SubgraphDb;
  /** Subgraph name: the API is at /subgraphs/name/<name>. */
  name?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest request body accepted (default 256 KiB). */
  maxBodyBytes?: number;
  /** For the index-node API. */
  network?: string;
  chainHead?: IndexNodeOptions["chainHead"];
}

export interface QueryServer {
  /** The query endpoint, http://host:port/subgraphs/name/<name>. */
  url: string;
  /** The index-node endpoint, http://host:port/graphql. */
  indexNodeUrl: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "Content-Type, User-Agent",
  "Access-Control-Allow-Methods": "GET, OPTIONS, POST",
};

class ClientError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  extra: Record<string, string> = {},
) {
  if (res.headersSent) return;
  res.writeHead(status, {
    ...CORS,
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}
const sendJson = (res: ServerResponse, status: number, value: unknown, extra?: Record<string, string>) =>
  send(res, status, JSON.stringify(value), "application/json", extra);

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new ClientError(`request body is larger than the limit of ${limit} bytes`, 413));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        reject(new ClientError(`request body is larger than the limit of ${limit} bytes`, 413));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => reject(e));
  });
}

/** graph-node's `parse_graphql_request` checks, with its messages. */
function parseRequest(body: Buffer): GraphQLRequest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new ClientError((e as Error).message);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ClientError("Request data is not an object");
  const o = json as Record<string, unknown>;
  if (!("query" in o)) throw new ClientError('The "query" field is missing in request data');
  if (typeof o.query !== "string") throw new ClientError('The "query" field is not a string');
  const v = o.variables;
  if (v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v)))
    throw new ClientError("Invalid query variables provided");
  const op = o.operationName;
  return {
    query: o.query,
    variables: (v as Record<string, unknown> | null | undefined) ?? null,
    operationName: typeof op === "string" ? op : null,
  };
}

function requestFromSearch(params: URLSearchParams): GraphQLRequest {
  let variables: Record<string, unknown> | null = null;
  const raw = params.get("variables");
  if (raw) {
    try {
      variables = JSON.parse(raw);
    } catch {
      throw new ClientError("Invalid query variables provided");
    }
    if (typeof variables !== "object" || Array.isArray(variables))
      throw new ClientError("Invalid query variables provided");
  }
  return { query: params.get("query") ?? "", variables, operationName: params.get("operationName") };
}

const wantsHtml = (req: IncomingMessage) => /text\/html/.test(String(req.headers.accept ?? ""));

export async function startQueryServer(opts: QueryServerOptions): Promise<QueryServer> {
  const name = opts.name ?? "computehive";
  const host = opts.host ?? "127.0.0.1";
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const engine = new QueryEngine(opts.db, opts);
  const indexNode = new IndexNodeApi(opts.db, { name, network: opts.network, chainHead: opts.chainHead });

  async function run(
    req: IncomingMessage,
    url: URL,
    exec: (r: GraphQLRequest) => Promise<GraphQLResponse>,
  ): Promise<[number, unknown] | null> {
    if (req.method === "POST") {
      if (!req.headers["content-type"]) throw new ClientError("Content-Type header is required");
      const body = await readBody(req, limit);
      if (body.length === 0) throw new ClientError("Body is required");
      return [200, await exec(parseRequest(body))];
    }
    if (req.method === "GET" && url.searchParams.has("query")) {
      const r = requestFromSearch(url.searchParams);
      if (/^\s*(mutation|subscription)\b/i.test(r.query))
        throw new ClientError("Can't use mutations with GET method");
      return [200, await exec(r)];
    }
    return null;
  }

  const server = createServer((req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    handle(req, res).catch((e) => {
      if (e instanceof ClientError) sendJson(res, e.status, { error: e.message }, { Connection: "close" });
      else
        sendJson(res, 500, { error: `Internal server error: ${e instanceof Error ? e.message : String(e)}` });
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (req.method === "OPTIONS") return send(res, 200, "", "text/html; charset=utf-8");

    if (path === "/") {
      if (req.method !== "GET") return sendJson(res, 404, { message: "Not found" });
      return sendJson(res, 200, {
        message:
          "Access deployed subgraphs by deployment ID at /subgraphs/id/<ID> or by name at /subgraphs/name/<NAME>",
      });
    }

    if (path === "/graphql") {
      const out = await run(req, url, (r) => indexNode.execute(r));
      if (out) return sendJson(res, out[0], out[1]);
      if (req.method === "GET")
        return send(res, 200, consoleHtml("index-node status"), "text/html; charset=utf-8");
      return sendJson(res, 404, { message: "Not found" });
    }

    const m = /^\/subgraphs\/(name|id)\/(.+?)(\/graphql)?$/.exec(path);
    if (!m) return sendJson(res, 404, { message: "Not found" });
    let target: string;
    try {
      target = decodeURIComponent(m[2] as string);
    } catch {
      throw new ClientError(`Invalid subgraph name ${JSON.stringify(m[2])}`);
    }
    const known = m[1] === "name" ? target === name : target === opts.db.deployment;
    if (m[3]) {
      // graph-node serves GraphiQL at …/graphql.
      if (req.method !== "GET") return sendJson(res, 404, { message: "Not found" });
      return send(res, 200, consoleHtml(target), "text/html; charset=utf-8");
    }
    const exec = (r: GraphQLRequest): Promise<GraphQLResponse> =>
      known
        ? engine.execute(r)
        : Promise.resolve({ errors: [{ message: `deployment \`${target}\` does not exist` }] });
    const out = await run(req, url, exec);
    if (out) return sendJson(res, out[0], out[1]);
    if (req.method === "GET") {
      if (wantsHtml(req)) return send(res, 200, consoleHtml(target), "text/html; charset=utf-8");
      // graph-node answers a GET without a query by redirecting to its GraphiQL page.
      return send(res, 302, "Redirecting...", "text/plain; charset=utf-8", { Location: `${path}/graphql` });
    }
    return sendJson(res, 404, { message: "Not found" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8000, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url: `${base}/subgraphs/name/${name}`,
    indexNodeUrl: `${base}/graphql`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/**
 * A minimal query console (not GraphiQL: graphiql is not installed and must not be fetched from a CDN). It is one
 * self-contained page — inline style and script, no external URL — that POSTs to the page's own endpoint.
 */
export function consoleHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} · query console</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: 8px 12px; background: #222; color: #eee; display: flex; gap: 12px; align-items: center; }
  header button { font: inherit; padding: 4px 14px; cursor: pointer; }
  main { flex: 1; display: grid; grid-template-columns: 1fr 1fr; gap: 8px; padding: 8px; min-height: 0; }
  .col { display: flex; flex-direction: column; gap: 8px; min-height: 0; }
  textarea, pre { font: 13px/1.4 ui-monospace, monospace; border: 1px solid #bbb; padding: 8px; margin: 0; }
  #query { flex: 3; } #variables { flex: 1; }
  pre { flex: 1; overflow: auto; background: #f7f7f7; white-space: pre-wrap; }
  label { font-size: 12px; color: #555; }
</style>
</head>
<body>
<header><strong>${escapeHtml(title)}</strong><button id="run" title="Ctrl+Enter">Run</button><span id="status"></span></header>
<main>
  <div class="col">
    <label for="query">Query</label>
    <textarea id="query" spellcheck="false">{
  _meta { block { number hash timestamp } deployment hasIndexingErrors }
}</textarea>
    <label for="variables">Variables (JSON)</label>
    <textarea id="variables" spellcheck="false">{}</textarea>
  </div>
  <div class="col"><label>Response</label><pre id="out"></pre></div>
</main>
<script>
  const endpoint = location.pathname.replace(/\\/graphql\\/?$/, "") || "/graphql";
  const q = document.getElementById("query"), v = document.getElementById("variables");
  const out = document.getElementById("out"), status = document.getElementById("status");
  const saved = localStorage.getItem("console:" + endpoint);
  if (saved) q.value = saved;
  async function run() {
    let variables = null;
    try { variables = v.value.trim() ? JSON.parse(v.value) : null; } catch (e) { out.textContent = "Variables: " + e.message; return; }
    localStorage.setItem("console:" + endpoint, q.value);
    status.textContent = "running…";
    const t0 = performance.now();
    try {
      const r = await fetch(endpoint, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ query: q.value, variables }),
      });
      const text = await r.text();
      try { out.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch { out.textContent = text; }
      status.textContent = r.status + " · " + Math.round(performance.now() - t0) + " ms";
    } catch (e) { out.textContent = String(e); status.textContent = "failed"; }
  }
  document.getElementById("run").onclick = run;
  q.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
</script>
</body>
</html>
`;
}
