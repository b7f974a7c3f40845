"use client";

import { useQueries, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { type AssetInfo, isNative, NATIVE_ASSET } from "../lib/format.ts";
import { querySubgraph } from "../lib/subgraph.ts";
import { browserTimeZone } from "../lib/time.ts";
import { fetchAssetInfo } from "../lib/token-info.ts";
import { useRuntime } from "./Providers.tsx";

const sticky = new Map<string, unknown>();
const listeners = new Map<string, Set<() => void>>();

/**
 * State shared by every component that names the same key, and that outlives a remount (the wallet provider
 * wraps the pages once loaded) and a navigation within the tab. Memory only, never storage: the session key
 * lives here too.
 */
export function useStickyState<T>(key: string, initial: T): [T, (next: T | ((prev: T) => T)) => void] {
  const initialRef = useRef(initial);
  const subscribe = useCallback(
    (onChange: () => void) => {
      let set = listeners.get(key);
      if (!set) {
        set = new Set();
        listeners.set(key, set);
      }
      set.add(onChange);
      return () => {
        set.delete(onChange);
      };
    },
    [key],
  );
  const snapshot = useCallback((): T => {
    if (!sticky.has(key)) sticky.set(key, initialRef.current);
    return sticky.get(key) as T;
  }, [key]);
  const serverSnapshot = useCallback((): T => initialRef.current, []);
  const value = useSyncExternalStore(subscribe, snapshot, serverSnapshot);
  const set = useCallback(
    (next: T | ((prev: T) => T)) => {
      const prev = (sticky.has(key) ? sticky.get(key) : initialRef.current) as T;
      sticky.set(key, typeof next === "function" ? (next as (p: T) => T)(prev) : next);
      for (const l of listeners.get(key) ?? []) l();
    },
    [key],
  );
  return [value, set];
}

/** Unix seconds, ticking every `everyMs`. 0 during the server render (nothing time-dependent renders there). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(0);
  useEffect(() => {
    setNow(Math.floor(Date.now() / 1000));
    const t = setInterval(() => setNow(Math.floor(Date.now() / 1000)), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** The time zone windows are picked and shown in: the browser's, unless the user chose another. */
export function useTimeZone(): [string, (tz: string) => void] {
  const [tz, setTz] = useStickyState<string>("timeZone", "");
  useEffect(() => {
    if (tz === "") setTz(browserTimeZone());
  }, [tz, setTz]);
  return [tz || "UTC", setTz];
}

/** A subgraph query through react-query; `query` null disables it. */
export function useSubgraph<T>(query: string | null, opts: { refetchMs?: number; initial?: T } = {}) {
  const { config } = useRuntime();
  const url = config?.subgraphUrl;
  return useQuery({
    queryKey: ["subgraph", url, query],
    queryFn: ({ signal }) => querySubgraph<T>(url ?? "", query ?? "", {}, { signal }),
    enabled: Boolean(url && query),
    refetchInterval: opts.refetchMs,
    initialData: opts.initial,
    initialDataUpdatedAt: opts.initial ? 0 : undefined,
  });
}

/** Symbol and decimals of each asset (native currency, tokens read from the chain). */
export function useAssetInfos(addresses: readonly string[]): Map<string, AssetInfo> {
  const { config } = useRuntime();
  const tokens = useMemo(
    () => [...new Set(addresses.map((a) => a.toLowerCase()))].filter((a) => !isNative(a)).sort(),
    [addresses],
  );
  const results = useQueries({
    queries: tokens.map((address) => ({
      queryKey: ["asset", config?.rpcUrl, address],
      queryFn: () => fetchAssetInfo(config?.rpcUrl ?? "", address),
      enabled: Boolean(config),
      staleTime: Number.POSITIVE_INFINITY,
    })),
  });
  return useMemo(() => {
    const m = new Map<string, AssetInfo>();
    m.set(NATIVE_ASSET.address, NATIVE_ASSET);
    tokens.forEach((address, i) => {
      const info = results[i]?.data;
      if (info) m.set(address, info);
    });
    return m;
  }, [tokens, results]);
}

export function assetOf(infos: Map<string, AssetInfo>, address: string): AssetInfo {
  if (isNative(address)) return NATIVE_ASSET;
  return (
    infos.get(address.toLowerCase()) ?? { address, symbol: `units of ${address.slice(0, 8)}…`, decimals: 0 }
  );
}

/** Offers `text` as a file download. */
export function downloadText(filename: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
