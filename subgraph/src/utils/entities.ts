// Load-or-create helpers for the long-lived entities.
import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import { Account, AccountAsset, Asset, Market } from "../../generated/schema";
import { isZero } from "./ids";

export const MARKET_ID = "market";
const ZERO = BigInt.zero();

export function getMarket(event: ethereum.Event): Market {
  let m = Market.load(MARKET_ID);
  if (m == null) {
    m = new Market(MARKET_ID);
    m.address = event.address;
    m.feeBps = 0;
    m.usdFeedMaxAge = ZERO;
    m.paused = false;
    m.hostCount = 0;
    m.listingCount = 0;
    m.bookingCount = 0;
    m.openBookings = 0;
  }
  return m;
}

export function getAsset(address: Bytes): Asset {
  let a = Asset.load(address);
  if (a == null) {
    a = new Asset(address);
    a.native = isZero(address);
    // Native currency is always allowed; a token seen before AssetAllowed must have been allowed.
    a.allowed = true;
    a.volumeBooked = ZERO;
    a.volumeToLenders = ZERO;
    a.platformFees = ZERO;
    a.refunds = ZERO;
    a.withdrawn = ZERO;
    a.save();
  }
  return a;
}

export function getAccount(address: Bytes, event: ethereum.Event): Account {
  let a = Account.load(address);
  if (a == null) {
    a = new Account(address);
    a.bookingCount = 0;
    a.firstSeenAt = event.block.timestamp;
    a.save();
  }
  return a;
}

/** The account's totals in `asset`; creates the Account and Asset as needed. Caller saves. */
export function getAccountAsset(account: Bytes, asset: Bytes, event: ethereum.Event): AccountAsset {
  const id = account.concat(asset);
  let aa = AccountAsset.load(id);
  if (aa == null) {
    getAccount(account, event);
    getAsset(asset);
    aa = new AccountAsset(id);
    aa.account = account;
    aa.asset = asset;
    aa.escrowed = ZERO;
    aa.spent = ZERO;
    aa.refunded = ZERO;
    aa.earned = ZERO;
    aa.slashReceived = ZERO;
    aa.credited = ZERO;
    aa.withdrawn = ZERO;
    aa.balance = ZERO;
  }
  return aa;
}
