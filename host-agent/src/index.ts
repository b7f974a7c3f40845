/**
 * The host agent as a library: the agent and its API (flat), and the parts it is made of as namespaces.
 * The command line is src/cli.ts.
 */
export * from "./agent/index.ts";
export * from "./api/index.ts";
export * as inventory from "./inventory/index.ts";
export * as ssh from "./ssh/index.ts";
export * as vm from "./vm/index.ts";
export type { TeardownFacts } from "./vm/journal.ts";
