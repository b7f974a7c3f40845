// The market's BookingStatus enum (contracts/src/interfaces/IMarket.sol) by name, in the contract's order, so the
// dApp, the oracle node and the calendar read a status number the same way.
export const BOOKING_STATUSES = [
  "None",
  "Booked",
  "Active",
  "Reported",
  "Disputed",
  "Settled",
  "Cancelled",
  "Declined",
  "NoShow",
] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** The name of a status number; "None" for a number the contract does not have. */
export function bookingStatusName(value: number): BookingStatus {
  return BOOKING_STATUSES[value] ?? "None";
}
