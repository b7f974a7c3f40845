// The audit log: one immutable MarketEvent per event.
import { Bytes, ethereum } from "@graphprotocol/graph-ts";
import { Booking, MarketEvent } from "../../generated/schema";
import { eventId } from "./ids";

/** A new audit entry of `kind` (a MarketEventKind value) acted by `actor`. Set the optional fields, then save. */
export function newMarketEvent(event: ethereum.Event, kind: string, actor: Bytes): MarketEvent {
  const e = new MarketEvent(eventId(event));
  e.kind = kind;
  e.actor = actor;
  e.txHash = event.transaction.hash;
  e.blockNumber = event.block.number;
  e.timestamp = event.block.timestamp;
  e.logIndex = event.logIndex;
  return e;
}

/** A new audit entry about booking `b`, linked to the booking, its listing and its host. */
export function newBookingEvent(event: ethereum.Event, kind: string, actor: Bytes, b: Booking): MarketEvent {
  const e = newMarketEvent(event, kind, actor);
  e.booking = b.id;
  e.listing = b.listing;
  e.host = b.host;
  return e;
}
