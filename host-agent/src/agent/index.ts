export * from "./agent.ts";
export * from "./booking.ts";
export * from "./errors.ts";
export * from "./ports.ts";
export * from "./seeds.ts";
export * from "./ssh-ready.ts";
