// The subgraph is queried with a plain GraphQL POST (graph-node's API; the embedded host serves the same).

export class SubgraphError extends Error {
  override name = "SubgraphError";
}

export interface QueryOptions {
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

/** POSTs `query` to `url` and returns `data`; any transport, HTTP or GraphQL error becomes a SubgraphError. */
export async function querySubgraph<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  opts: QueryOptions = {},
): Promise<T> {
  const body = await postGraphql(url, JSON.stringify({ query, variables }), opts);
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    const messages = body.errors.map((e) => (typeof e?.message === "string" ? e.message : JSON.stringify(e)));
    throw new SubgraphError(`the subgraph refused the query: ${messages.join("; ")}`);
  }
  if (body.data === undefined || body.data === null) throw new SubgraphError("the subgraph answered no data");
  return body.data as T;
}

interface GraphqlBody {
  data?: unknown;
  errors?: Array<{ message?: unknown }>;
}

/** The raw answer (data and errors), for the GraphQL console. */
export async function postGraphql(
  url: string,
  requestBody: string,
  opts: QueryOptions = {},
): Promise<GraphqlBody> {
  const doFetch = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: requestBody,
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new SubgraphError(`cannot reach the subgraph at ${url} (${(e as Error).message})`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new SubgraphError(`the subgraph at ${url} answered HTTP ${res.status} without JSON`);
  }
  if (typeof body !== "object" || body === null)
    throw new SubgraphError("the subgraph answered something else");
  if (!res.ok && !("errors" in body)) throw new SubgraphError(`the subgraph answered HTTP ${res.status}`);
  return body as GraphqlBody;
}

/* The queries the pages use. Amounts come back as decimal strings, Bytes as 0x-hex. */

const HOST_FIELDS = `id agent bond unbondAt metadataCid registeredAt completed noShows declines disputesLost secondsServed openBookings slashed lender { id }`;

export const LISTING_FIELDS = `id gpuModel gpuCount vramMiBPerGpu cpuCores ramMiB diskGiB region confidential usdPriced pricePerHour minSlots maxSlots leadTime active metadataCid createdAt bookingCount asset { id native } host { ${HOST_FIELDS} }`;

export const LISTINGS_QUERY = `query Listings { listings(first: 1000, orderBy: createdAt, orderDirection: desc) { ${LISTING_FIELDS} } }`;

export const EVENT_FIELDS = `id kind actor account asset amount refund lenderAmount platformFee slash bond seconds cid flag code txHash blockNumber timestamp logIndex booking { id } host { id } listing { id }`;

export const BOOKING_FIELDS = `id start end price feeBps status sessionPubKey sshPubKey bookedAt activatedAt endedAt reportedAt disputedAt settledAt cancelledAt declinedAt noShowAt usedSeconds lenderAmount platformFee refund slash declineReason reportCid disputeReasonCid endpointPublications encryptedEndpoint lastEndpointAt asset { id native } borrower { id } host { id agent lender { id } } listing { id gpuModel gpuCount region usdPriced pricePerHour }`;

/** A decimal entity id (hosts, listings, bookings), checked before it goes into a query. */
export function entityId(value: string): string {
  const v = value.trim();
  if (!/^(0|[1-9][0-9]{0,77})$/.test(v)) throw new SubgraphError(`"${value}" is not an id (a whole number)`);
  return v;
}

/** A 0x address in the lower case the subgraph stores Bytes in, checked before it goes into a query. */
export function accountId(value: string): string {
  const v = value.trim().toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(v))
    throw new SubgraphError(`"${value}" is not an address (0x and 40 hex digits)`);
  return v;
}

// Values are inlined (checked above) rather than passed as variables: graph-node types reference filters as
// String and Bytes fields as Bytes, and a literal reads the same on both.

export function listingQuery(id: string): string {
  return `{ listing(id: "${entityId(id)}") { ${LISTING_FIELDS} } }`;
}

export function myBookingsQuery(borrower: string): string {
  const b = accountId(borrower);
  return `{
  bookings(first: 200, where: { borrower: "${b}" }, orderBy: bookedAt, orderDirection: desc) {
    ${BOOKING_FIELDS}
    events(first: 100, orderBy: blockNumber, orderDirection: asc) { ${EVENT_FIELDS} }
  }
  accountAssets(where: { account: "${b}" }) { asset { id native } balance credited withdrawn earned spent refunded }
}`;
}

export function lenderQuery(lender: string, now: number): string {
  const l = accountId(lender);
  return `{
  hosts(first: 100, where: { lender: "${l}" }, orderBy: registeredAt) {
    ${HOST_FIELDS}
    listings(first: 1000, orderBy: createdAt, orderDirection: desc) { ${LISTING_FIELDS} }
  }
  bookings(first: 200, where: { host_: { lender: "${l}" }, end_gt: "${Math.floor(now)}" }, orderBy: start) { ${BOOKING_FIELDS} }
  accountAssets(where: { account: "${l}" }) { asset { id native } balance credited withdrawn earned spent refunded }
}`;
}

export function auditBookingQuery(id: string): string {
  return `{ booking(id: "${entityId(id)}") { ${BOOKING_FIELDS} events(first: 1000, orderBy: blockNumber, orderDirection: asc) { ${EVENT_FIELDS} } } }`;
}

export function auditHostQuery(id: string): string {
  const h = entityId(id);
  return `{
  host(id: "${h}") { ${HOST_FIELDS} }
  marketEvents(first: 1000, where: { host: "${h}" }, orderBy: blockNumber, orderDirection: asc) { ${EVENT_FIELDS} }
}`;
}

export function auditAccountQuery(address: string): string {
  const a = accountId(address);
  return `{
  account(id: "${a}") { id bookingCount firstSeenAt }
  marketEvents(first: 1000, where: { or: [{ actor: "${a}" }, { account: "${a}" }] }, orderBy: blockNumber, orderDirection: asc) { ${EVENT_FIELDS} }
}`;
}

export const CONSOLE_EXAMPLE = `# Any query of the subgraph's API (graph-node's conventions). Example: a booking's whole story.
{
  bookings(first: 5, orderBy: bookedAt, orderDirection: desc) {
    id status start end price borrower { id }
    events(orderBy: blockNumber) { kind actor amount txHash blockNumber }
  }
  _meta { block { number } hasIndexingErrors }
}
`;
