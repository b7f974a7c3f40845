import type { NextConfig } from "next";

const config: NextConfig = {
  // The sdk is TypeScript source in this monorepo (no build step): Next compiles it.
  transpilePackages: ["@computehive/sdk"],
  // No telemetry, no external font or image services: the app makes no request off the machine by default.
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
