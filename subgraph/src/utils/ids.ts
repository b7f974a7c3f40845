// Id helpers. Hosts, listings, bookings and disputes use the contract's decimal ids; per-event entities use
// tx hash ++ log index, which is unique per log and sorts in chain order within a transaction.
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
