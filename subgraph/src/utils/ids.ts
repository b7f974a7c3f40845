// Id helpers. Hosts, listings, bookings and disputes use the contract's decimal ids; per-event entities use
// tx hash ++ log index (the block's, as 4 little-endian bytes: graph-ts concatI32), which is unique per log. Being
// little-endian, such ids do not sort by log index: order audit entries by (blockNumber, logIndex).
import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";

export const ZERO_ADDRESS = Bytes.fromHexString("0x0000000000000000000000000000000000000000");
export const SECONDS_PER_DAY: i64 = 86400;

export function idOf(n: BigInt): string {
  return n.toString();
}

export function eventId(event: ethereum.Event): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32());
}

export function isZero(address: Bytes): boolean {
  return address.equals(ZERO_ADDRESS);
}
