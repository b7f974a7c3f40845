import { loadRuntimeConfig } from "../../../lib/server-config.ts";

// The runtime configuration of this deployment, read at request time: one build serves any deployment.
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  try {
    const config = await loadRuntimeConfig(process.env, process.cwd());
    return Response.json(config, { headers: { "cache-control": "no-store" } });
  } catch (e) {
    return Response.json(
      { error: (e as Error).message },
      { status: 500, headers: { "cache-control": "no-store" } },
    );
  }
}
