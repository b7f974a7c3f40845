// Test helper: market activity on a local stack (bookings, cancellations) so the indexer has history to follow.
import type { Hex } from "viem";
import { sshEd25519PublicKeyLine, x25519PublicKey } from "../../../script/src/lib/payloads.ts";
import type { LocalStack } from "../../../script/src/lib/stack.ts";

const { marketAbi } = await import("@computehive/sdk");
const { publicClientFor, walletClientFor } = await import("../../../script/src/lib/clients.ts");

/**
 * Books `n` one-minimum-length windows on the demo listing as the borrower, starting `offsetSlots` slots after the
 * first bookable slot, and cancels every `cancelEvery`-th (0: none). Each transaction is its own block (automine).
 * Returns the booking ids in order.
 */
export async function bookSome(
  stack: LocalStack,
  n: number,
  opts: { offsetSlots?: number; cancelEvery?: number; comment?: string } = {},
): Promise<bigint[]> {
  const { url, chainId } = stack.anvil;
  const pub = publicClientFor(url, chainId);
  const market = { address: stack.deployment.market as Hex, abi: marketAbi } as const;
  const borrower = walletClientFor(url, chainId, stack.accounts.borrower.account);
  const { listingId, leadTime, minSlots } = stack.seed;
  const slot = BigInt(stack.deployment.params.slotLength);
  const now = (await pub.getBlock()).timestamp;
  const first = ((now + BigInt(leadTime) + 2n * 3600n + slot - 1n) / slot) * slot;
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const start = first + BigInt((opts.offsetSlots ?? 0) + i * minSlots) * slot;
    const end = start + BigInt(minSlots) * slot;
    const [price] = await pub.readContract({
      ...market,
      functionName: "quote",
      args: [listingId, Number(start), Number(end)],
    });
    const hash = await borrower.writeContract({
      ...market,
      functionName: "book",
      args: [listingId, Number(start), Number(end), x25519PublicKey(), sshEd25519PublicKeyLine(opts.comment)],
      value: price,
    });
    const r = await pub.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`book ${i} reverted`);
    const id = (await pub.readContract({ ...market, functionName: "bookingCount" })) as bigint;
    ids.push(id);
    if (opts.cancelEvery && (i + 1) % opts.cancelEvery === 0) {
      const c = await borrower.writeContract({ ...market, functionName: "cancel", args: [id] });
      if ((await pub.waitForTransactionReceipt({ hash: c })).status !== "success")
        throw new Error(`cancel ${id} reverted`);
    }
  }
  return ids;
}
