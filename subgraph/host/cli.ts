// Runs the embedded subgraph host against any chain: indexes the market of a deployment record and serves the
// graph-node query API until Ctrl-C.
//
//   tsx subgraph/host/cli.ts --rpc http://127.0.0.1:8545 --deployment deployments/31337.json \
//     [--db .computehive/subgraph/31337.sqlite] [--port 8000] [--host 127.0.0.1] [--name computehive] [--build subgraph/build]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startSubgraphHost } from "./main.ts";
import { LogLevel } from "./wasm.ts";

const usage =
  "usage: cli.ts --rpc <url> --deployment <deployments/<chainId>.json> [--db <file>] [--port 8000] [--host 127.0.0.1] [--name computehive] [--build <dir>]";

function fail(message: string): never {
  console.error(`subgraph host: ${message}\n${usage}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        rpc: { type: "string" },
        deployment: { type: "string" },
        db: { type: "string" },
        port: { type: "string", default: "8000" },
        host: { type: "string", default: "127.0.0.1" },
        name: { type: "string", default: "computehive" },
        build: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
})();
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!values.rpc) fail("--rpc is required");
if (!values.deployment) fail("--deployment is required");
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`--port must be a TCP port, got "${values.port}"`);
if (!/^[A-Za-z0-9_/-]+$/.test(values.name))
  fail(`--name may hold letters, digits, _ - and /, got "${values.name}"`);

let deployment: { chainId: number; market: string; startBlock: number };
try {
  deployment = JSON.parse(readFileSync(values.deployment, "utf8"));
} catch (e) {
  fail(`cannot read the deployment record ${values.deployment}: ${(e as Error).message}`);
}
if (
  !/^0x[0-9a-fA-F]{40}$/.test(String(deployment.market)) ||
  !Number.isInteger(Number(deployment.startBlock))
)
  fail(`${values.deployment} has no market address and start block`);

const host = await startSubgraphHost({
  rpcUrl: values.rpc,
  deployment,
  dbFile:
    values.db ??
    join(".computehive", "subgraph", `${deployment.chainId}-${deployment.market.toLowerCase()}.sqlite`),
  buildDir: values.build,
  name: values.name,
  host: values.host,
  port,
  log: (level, message) => console.error(`[subgraph] ${LogLevel[level]?.toLowerCase() ?? level}: ${message}`),
});
console.log(
  `subgraph host: indexing ${deployment.market} on chain ${deployment.chainId} from block ${deployment.startBlock}`,
);
console.log(`  queries (GraphQL, GraphiQL on GET)  ${host.url}`);
console.log(`  indexing status                     ${host.statusUrl}`);
const stop = async () => {
  await host.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
