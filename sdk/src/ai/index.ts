// @computehive/sdk/ai: the assistive layer (price suggestions, scheduling, calendar events). It suggests and
// explains; people sign. Browser-safe, like the rest of the sdk.
export * from "./calendar.ts";
export * from "./feed.ts";
export * from "./gpus.ts";
export * from "./history.ts";
export * from "./market-gen.ts";
export * from "./pricing.ts";
export * from "./prior.ts";
export * from "./request.ts";
export * from "./schedule.ts";
export * from "./slots.ts";
