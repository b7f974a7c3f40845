import { defineConfig } from "vitest/config";

// Unit tests of dapp/lib (no browser): `npx vitest run` in dapp/. The browser tests live in e2e/ (node:test).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
