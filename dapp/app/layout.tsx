import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Header } from "../components/Header.tsx";
import { Providers } from "../components/Providers.tsx";
import "./globals.css";

export const metadata: Metadata = {
  title: "ComputeHive — rent GPU time, escrowed on-chain",
  description:
    "Book time on other people's GPU machines: escrowed on-chain, short-lived SSH access, every step auditable.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <Header />
          <main id="main">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
