// @computehive/sdk: typed ABIs (generated from forge artifacts by `npx wagmi generate`), the deployment
// record, and helpers shared by the dApp and the lender tools. Browser-safe; file loading lives in
// '@computehive/sdk/node'.

export * from "./chain.ts";
export * from "./cid.ts";
export * from "./deployments.ts";
export * from "./envelope.ts";
export * from "./generated.ts";
export * from "./random.ts";
export * from "./session-key.ts";
export * from "./ssh-command.ts";
export * from "./status.ts";
