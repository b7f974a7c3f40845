"use client";

import type { ReactNode } from "react";
import { useRuntime } from "./Providers.tsx";

/** Renders children once the runtime configuration is loaded (they may read the chain and the subgraph). */
export function RequireConfig({ children }: { children: ReactNode }) {
  const { config, error } = useRuntime();
  if (error) return <ConfigProblem error={error} />;
  if (!config)
    return (
      <p className="muted" role="status">
        Loading the market's configuration…
      </p>
    );
  return <>{children}</>;
}

/** Renders children once the wallet stack (wagmi) is loaded: they use wagmi's hooks. */
export function RequireWallet({ children }: { children: ReactNode }) {
  const { config, error, wallet } = useRuntime();
  if (error) return <ConfigProblem error={error} />;
  if (!config || !wallet)
    return (
      <p className="muted" role="status">
        Loading wallet support…
      </p>
    );
  return <>{children}</>;
}

export function ConfigProblem({ error }: { error: string }) {
  return (
    <div className="panel error" role="alert">
      <p>
        <strong>The app cannot start:</strong> {error}
      </p>
      <p>
        The server reads the deployment record named by <code>COMPUTEHIVE_DEPLOYMENT</code>; see the dApp's
        README.
      </p>
    </div>
  );
}
