#!/usr/bin/env node
// A native-solc-shaped front for npm's `solc` (the WebAssembly build), so that forge can compile
// offline: no native solc exists on npm or in Debian 12, and forge's own download needs the internet.
// forge only ever asks for `--version` and for `--standard-json` on stdin (it inlines every source,
// so no import callback is needed).
"use strict";
const solc = require("solc");

const args = process.argv.slice(2);
if (args.includes("--version") || args.includes("-v")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("tools/solc: only --version and --standard-json (input on stdin) are supported\n");
  process.exit(2);
}
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const output = solc.compile(Buffer.concat(chunks).toString("utf8"));
  process.stdout.write(output);
});
