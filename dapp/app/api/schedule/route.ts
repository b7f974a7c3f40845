import { marketAbi } from "@computehive/sdk";
import { readNativeUsd } from "@computehive/sdk/ai";
import { createPublicClient, http, type PublicClient } from "viem";
import type { RuntimeConfig } from "../../../lib/config.ts";
import { isNative } from "../../../lib/format.ts";
import {
  findSlots,
  parseScheduleBody,
  type ScheduleAnswer,
  type ScheduleProblem,
  type Words,
} from "../../../lib/schedule.ts";
import { loadRuntimeConfig } from "../../../lib/server-config.ts";
import { LISTINGS_QUERY, querySubgraph } from "../../../lib/subgraph.ts";
import type { SgListing } from "../../../lib/types.ts";

// "Find a slot" (issue 7): POST a request in words ({ text, timeZone }) or as fields (a ScheduleRequest, see
// lib/schedule.ts); the answer is what was understood and the sdk's schedule() over this deployment's listings
// (the subgraph) and their calendars (`calendarWord`, read from the chain at request time, in JSON-RPC batches:
// local chains have no multicall3). It only reads: nothing is booked, nothing is signed.
export const dynamic = "force-dynamic";

const MAX_BODY_CHARS = 16_384;
const SUBGRAPH_TIMEOUT_MS = 10_000;
const RPC_TIMEOUT_MS = 15_000;
/** eth_calls per JSON-RPC batch, and calls in flight at once. */
const BATCH_SIZE = 200;
const IN_FLIGHT = 1_000;

function json(body: ScheduleAnswer | ScheduleProblem, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split("\n")[0] ?? "unknown error";
}

/** A failed calendar read, told apart from a failure of the search itself. */
class ChainReadError extends Error {
  override name = "ChainReadError";
}

function client(config: RuntimeConfig): PublicClient {
  return createPublicClient({
    transport: http(config.rpcUrl, {
      batch: { batchSize: BATCH_SIZE },
      retryCount: 0,
      timeout: RPC_TIMEOUT_MS,
    }),
  }) as PublicClient;
}

export async function POST(request: Request): Promise<Response> {
  const text = await request.text();
  if (text.length > MAX_BODY_CHARS) return json({ error: "The request is too long." }, 413);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return json(
      {
        error:
          'The body must be JSON, e.g. {"text": "4 hours on an A100 tomorrow afternoon under $2/h", "timeZone": "Europe/Berlin"}.',
      },
      400,
    );
  }
  const body = parseScheduleBody(raw);
  if (!body.ok) return json({ error: body.error }, 400);

  let config: RuntimeConfig;
  try {
    config = await loadRuntimeConfig(process.env, process.cwd());
  } catch (e) {
    return json({ error: `The server has no usable configuration: ${firstLine(e)}` }, 500);
  }

  let listings: SgListing[];
  try {
    listings = (
      await querySubgraph<{ listings: SgListing[] }>(
        config.subgraphUrl,
        LISTINGS_QUERY,
        {},
        { signal: AbortSignal.timeout(SUBGRAPH_TIMEOUT_MS) },
      )
    ).listings;
  } catch (e) {
    return json({ error: `The listings cannot be read from the subgraph: ${firstLine(e)}` }, 502);
  }

  const chain = client(config);
  let now: number;
  try {
    const block = await chain.getBlock({ blockTag: "latest" });
    // The market judges windows by block time, which may run ahead of this clock (a local chain moved on).
    now = Math.max(Math.floor(Date.now() / 1000), Number(block.timestamp));
  } catch (e) {
    return json({ error: `The chain cannot be read at ${config.rpcUrl}: ${firstLine(e)}` }, 502);
  }

  // The feed is read only when a listing is priced in the native coin (USD-priced ones state their price).
  let nativeUsd: number | null = null;
  if (listings.some((l) => !l.usdPriced && (l.asset.native || isNative(l.asset.id)))) {
    try {
      nativeUsd = (await readNativeUsd(chain, config.market))?.usd ?? null;
    } catch {
      nativeUsd = null; // no feed to read: such listings have no USD price, and the answer says so
    }
  }

  const readCalendars = async (reads: ReadonlyArray<{ listingId: string; words: number[] }>) => {
    const calls = reads.flatMap((r, i) => r.words.map((w) => ({ i, listingId: r.listingId, w })));
    const out: Words[] = reads.map(() => new Map());
    for (let k = 0; k < calls.length; k += IN_FLIGHT) {
      const chunk = calls.slice(k, k + IN_FLIGHT);
      const values = await Promise.all(
        chunk.map((c) =>
          chain.readContract({
            address: config.market,
            abi: marketAbi,
            functionName: "calendarWord",
            args: [BigInt(c.listingId), BigInt(c.w)],
          }),
        ),
      ).catch((e: unknown) => {
        throw new ChainReadError(firstLine(e));
      });
      chunk.forEach((c, j) => {
        out[c.i]?.set(c.w, values[j] ?? 0n);
      });
    }
    return out;
  };

  try {
    const answer = await findSlots(body.value, {
      listings,
      nativeUsd,
      now,
      slotLength: config.slotLength,
      readCalendars,
    });
    if (!answer.ok) return json({ error: answer.error }, 400);
    return json(answer.value);
  } catch (e) {
    if (e instanceof ChainReadError)
      return json({ error: `The calendars cannot be read from the chain: ${e.message}` }, 502);
    return json({ error: `The search failed: ${firstLine(e)}` }, 500);
  }
}
