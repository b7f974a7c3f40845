"use client";

import { marketAbi } from "@computehive/sdk";
import { useQuery } from "@tanstack/react-query";
import { STATUS_WORDS, statusName, TERMINAL_STATUSES } from "../lib/types.ts";
import { useMarket } from "./chain.tsx";

/** A booking as the contract holds it now (getBooking), polled until it is terminal. */
export function useChainBooking(bookingId: string) {
  const { publicClient, market } = useMarket();
  return useQuery({
    queryKey: ["booking", market, bookingId],
    refetchInterval: (q) => (q.state.data && TERMINAL_STATUSES.includes(q.state.data.status) ? false : 3000),
    queryFn: async () => {
      const b = await publicClient.readContract({
        address: market,
        abi: marketAbi,
        functionName: "getBooking",
        args: [BigInt(bookingId)],
      });
      return {
        status: statusName(b.status),
        start: Number(b.start),
        end: Number(b.end),
        endedAt: Number(b.endedAt),
        stamp: Number(b.stamp),
        price: b.price,
        borrower: b.borrower,
        usedSeconds: Number(b.usedSeconds),
        listingId: b.listingId.toString(),
      };
    },
  });
}

/** The on-chain status, live. The element with data-testid="booking-status" holds exactly the status name. */
export function BookingStatus({ bookingId }: { bookingId: string }) {
  const q = useChainBooking(bookingId);
  const name = q.data?.status;
  return (
    <p aria-live="polite">
      Status:{" "}
      <span className="status" data-testid="booking-status">
        {name ?? "…"}
      </span>
      {name && STATUS_WORDS[name].includes("—") ? (
        <span className="muted"> — {STATUS_WORDS[name].split("— ")[1]}</span>
      ) : null}
    </p>
  );
}
