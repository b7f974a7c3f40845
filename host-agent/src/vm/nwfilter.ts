import { cLocaleEnv, run } from "../system/exec.ts";
import { el, renderXml, type XmlElement } from "./xml.ts";

/** The nwfilter every bridged guest's interface references. */
export const GUEST_ISOLATION_FILTER = "computehive-guest-isolation";

/**
 * IPv4 destinations a guest must never reach: RFC 1918 private ranges, CGNAT shared space, link-local
 * (cloud metadata services live at 169.254.169.254), loopback. The host's own bridge address is
 * dropped by its own rule (`$HOST_IP`). IPv6 is not offered to guests at all: every IPv6 packet is
 * dropped both ways, which covers fc00::/7, fe80::/10 and ::1 (libvirt 9.0's schema has no connection
 * state for IPv6 rules, so "replies only" cannot be written for it).
 */
export const BLOCKED_IPV4: readonly (readonly [string, number])[] = [
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["100.64.0.0", 10],
  ["169.254.0.0", 16],
  ["127.0.0.0", 8],
];

/**
 * The guest isolation filter, for `virsh nwfilter-define`. Parameters come from each interface's
 * `<filterref>`: `IP` (the guest's address, for clean-traffic's anti-spoofing), `HOST_IP` and
 * `DNS_SERVER`. Lower priorities are evaluated first:
 *    50  all IPv6, either way: dropped
 *   100  DNS to `$DNS_SERVER` out (even when the resolver is the host itself)
 *   200  anything to `$HOST_IP` or a blocked range out: dropped
 *   300  DNS to any other server: dropped
 *   400  replies (ESTABLISHED/RELATED) in
 *   450  SSH in (the host's forward to the guest's port 22)
 *   500  everything else out (the internet)
 *   900  everything else in: dropped
 * plus libvirt's `clean-traffic` (no MAC, IP or ARP spoofing, no layer-2 protocol but IPv4 and ARP).
 */
export function buildGuestIsolationFilterXml(): string {
  return renderXml(guestIsolationFilter());
}

function rule(
  action: "accept" | "drop",
  direction: "in" | "out" | "inout",
  priority: number,
  match: XmlElement,
) {
  return el("rule", { action, direction, priority }, match);
}

function guestIsolationFilter(): XmlElement {
  return el(
    "filter",
    { name: GUEST_ISOLATION_FILTER, chain: "root" },
    el("filterref", { filter: "clean-traffic" }),
    rule("drop", "inout", 50, el("all-ipv6")),
    rule("accept", "out", 100, el("udp", { dstipaddr: "$DNS_SERVER", dstportstart: 53 })),
    rule("accept", "out", 100, el("tcp", { dstipaddr: "$DNS_SERVER", dstportstart: 53 })),
    rule("drop", "out", 200, el("all", { dstipaddr: "$HOST_IP" })),
    ...BLOCKED_IPV4.map(([addr, mask]) =>
      rule("drop", "out", 200, el("all", { dstipaddr: addr, dstipmask: mask })),
    ),
    rule("drop", "out", 300, el("udp", { dstportstart: 53 })),
    rule("drop", "out", 300, el("tcp", { dstportstart: 53 })),
    rule("accept", "in", 400, el("all", { state: "ESTABLISHED,RELATED" })),
    rule("accept", "in", 450, el("tcp", { dstportstart: 22, state: "NEW" })),
    rule("accept", "out", 500, el("all", { state: "NEW,ESTABLISHED,RELATED" })),
    rule("drop", "in", 900, el("all")),
  );
}

/** Where nwfilters live. The binding has no nwfilter API, so the real one is `virsh`. */
export interface NwFilterStore {
  /** Defines or updates a filter from its XML. */
  define(xml: string): Promise<void>;
  /** The names of the filters libvirt knows. */
  list(): Promise<string[]>;
  undefine(name: string): Promise<void>;
}

export class VirshNwFilterStore implements NwFilterStore {
  constructor(readonly uri: string) {}

  async define(xml: string): Promise<void> {
    await run("virsh", ["-q", "-c", this.uri, "nwfilter-define", "--validate", "/dev/stdin"], {
      stdinFile: Buffer.from(xml),
      env: cLocaleEnv(),
    });
  }

  async list(): Promise<string[]> {
    const out = await run("virsh", ["-q", "-c", this.uri, "nwfilter-list"], { env: cLocaleEnv() });
    return out
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[1])
      .filter((name): name is string => !!name);
  }

  async undefine(name: string): Promise<void> {
    await run("virsh", ["-q", "-c", this.uri, "nwfilter-undefine", name], { env: cLocaleEnv() });
  }
}
