"use client";

import { marketAbi } from "@computehive/sdk";
import { useQuery } from "@tanstack/react-query";
import type { CalendarWords } from "../lib/calendar.ts";
import { wordsForSlots } from "../lib/calendar.ts";
import { useMarket } from "./chain.tsx";

/** The calendar words covering slots [fromSlot, toSlot) of a listing, read from the chain and kept fresh. */
export function useCalendarWords(listingId: string, fromSlot: number, toSlot: number) {
  const { publicClient, market } = useMarket();
  const indices = wordsForSlots(fromSlot, toSlot);
  return useQuery({
    queryKey: ["calendar", market, listingId, indices.join(",")],
    enabled: indices.length > 0 && indices.length <= 64,
    refetchInterval: 10_000,
    queryFn: async (): Promise<CalendarWords> => {
      const words = await Promise.all(
        indices.map((w) =>
          publicClient.readContract({
            address: market,
            abi: marketAbi,
            functionName: "calendarWord",
            args: [BigInt(listingId), BigInt(w)],
          }),
        ),
      );
      return new Map(indices.map((w, i) => [w, words[i] ?? 0n]));
    },
  });
}
