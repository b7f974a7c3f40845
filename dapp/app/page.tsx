import { Marketplace } from "../components/Marketplace.tsx";
import { loadRuntimeConfig } from "../lib/server-config.ts";
import { LISTINGS_QUERY, querySubgraph } from "../lib/subgraph.ts";
import type { SgListing } from "../lib/types.ts";

// The marketplace. The server renders the listings it can read from the subgraph at request time (so the page
// shows real data before any script runs); the browser then keeps them fresh.
export const dynamic = "force-dynamic";

async function initialListings(): Promise<SgListing[] | null> {
  try {
    const config = await loadRuntimeConfig(process.env, process.cwd());
    const data = await querySubgraph<{ listings: SgListing[] }>(
      config.subgraphUrl,
      LISTINGS_QUERY,
      {},
      { signal: AbortSignal.timeout(3000) },
    );
    return data.listings;
  } catch {
    return null; // the browser fetches them and explains what fails
  }
}

export default async function MarketplacePage() {
  return <Marketplace initial={await initialListings()} />;
}
