"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useRuntime } from "./Providers.tsx";

const LINKS = [
  { href: "/", label: "Marketplace" },
  { href: "/schedule", label: "Find a slot" },
  { href: "/market", label: "Market index" },
  { href: "/bookings", label: "My bookings" },
  { href: "/lender", label: "Lender" },
  { href: "/audit", label: "Audit" },
];

export function Header() {
  const { wallet } = useRuntime();
  const path = usePathname();
  const Connect = wallet?.ConnectButton;
  return (
    <header className="site-header">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Link href="/" className="brand">
        ComputeHive
      </Link>
      <nav aria-label="Main">
        <ul>
          {LINKS.map((l) => {
            const current =
              l.href === "/" ? path === "/" || path.startsWith("/listings") : path.startsWith(l.href);
            return (
              <li key={l.href}>
                <Link href={l.href} aria-current={current ? "page" : undefined}>
                  {l.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="connect">
        {Connect ? (
          <Connect />
        ) : (
          <button type="button" disabled>
            Connect wallet
          </button>
        )}
      </div>
    </header>
  );
}
