export * from "./ca.ts";
export * from "./endpoint.ts";
export * from "./keys.ts";
export * from "./sshd-config.ts";
