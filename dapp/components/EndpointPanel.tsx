"use client";

import { marketAbi, openEndpoint, type SessionKey } from "@computehive/sdk";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import {
  endpointFileNames,
  identityFileOf,
  knownHostsText,
  parseEndpoint,
  type SshEndpoint,
} from "../lib/endpoint.ts";
import { formatLocal } from "../lib/time.ts";
import type { SgBooking } from "../lib/types.ts";
import { useErrorWords, useMarket } from "./chain.tsx";
import { downloadText } from "./hooks.ts";
import { SessionKeyChooser } from "./SessionKeyChooser.tsx";

/** The encrypted endpoint: from the subgraph, or the chain's EndpointPublished logs while it lags. */
function useEnvelope(b: SgBooking) {
  const { publicClient, market, config } = useMarket();
  return useQuery({
    queryKey: ["envelope", market, b.id, b.encryptedEndpoint, b.lastEndpointAt],
    queryFn: async (): Promise<`0x${string}` | null> => {
      if (b.encryptedEndpoint) return b.encryptedEndpoint as `0x${string}`;
      const logs = await publicClient.getContractEvents({
        address: market,
        abi: marketAbi,
        eventName: "EndpointPublished",
        args: { bookingId: BigInt(b.id) },
        fromBlock: BigInt(config.startBlock),
      });
      return logs.at(-1)?.args.encryptedEndpoint ?? null;
    },
    refetchInterval: (q) => (q.state.data ? false : 4000),
  });
}

export function EndpointPanel({
  booking: b,
  account,
  sessionKey,
  timeZone,
}: {
  booking: SgBooking;
  account: `0x${string}`;
  sessionKey: SessionKey | null;
  timeZone: string;
}) {
  const { config } = useMarket();
  const envelope = useEnvelope(b);
  const words = useErrorWords();
  const data = envelope.data;
  const { endpoint, problem } = useMemo((): { endpoint: SshEndpoint | null; problem: string | null } => {
    if (!sessionKey || !data) return { endpoint: null, problem: null };
    try {
      const opened = openEndpoint({
        recipientPrivateKey: sessionKey.privateKey,
        envelope: data,
        context: { chainId: config.chainId, market: config.market, bookingId: BigInt(b.id) },
      });
      return { endpoint: parseEndpoint(opened, b.id), problem: null };
    } catch (e) {
      return { endpoint: null, problem: words(e) };
    }
  }, [sessionKey, data, config, b.id, words]);
  return (
    <section className="panel" aria-label={`SSH access for booking ${b.id}`}>
      <h3>SSH access</h3>
      {envelope.error ? <p className="error">{words(envelope.error)}</p> : null}
      {!envelope.data ? <p className="muted">Waiting for the host to publish the endpoint…</p> : null}
      {envelope.data && !sessionKey ? <SessionKeyChooser account={account} purpose="open" /> : null}
      {sessionKey && sessionKey.publicKeyHex.toLowerCase() !== b.sessionPubKey.toLowerCase() ? (
        <p className="warn">
          This session key is not the one booking {b.id} was made with ({b.sessionPubKey.slice(0, 10)}…): it
          cannot open this endpoint.
        </p>
      ) : null}
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
      {endpoint ? <EndpointDetails endpoint={endpoint} timeZone={timeZone} /> : null}
    </section>
  );
}

function EndpointDetails({ endpoint: ep, timeZone }: { endpoint: SshEndpoint; timeZone: string }) {
  const files = endpointFileNames(ep.bookingId);
  const known = knownHostsText(ep);
  const [copied, setCopied] = useState(false);
  const identity = identityFileOf(ep.sshCommand);
  return (
    <div>
      <p className="small">
        Decrypted in this browser. Valid {formatLocal(ep.validAfter, timeZone)} →{" "}
        {formatLocal(ep.validBefore, timeZone)}. Save the two files below into the folder you run the command
        from.
      </p>
      <h4>Command</h4>
      <pre data-testid="ssh-command">{ep.sshCommand}</pre>
      <div className="row">
        <button
          type="button"
          className="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(ep.sshCommand).then(() => setCopied(true));
          }}
        >
          Copy the command
        </button>
        {copied ? (
          <span className="ok small" role="status">
            Copied.
          </span>
        ) : null}
      </div>
      {identity ? (
        <p className="small muted">
          It logs in with your private key at <code>{identity}</code>; if yours is elsewhere, change the path
          after <code>-i</code>.
        </p>
      ) : null}
      <h4>Certificate ({files.certificate})</h4>
      <pre data-testid="ssh-certificate">{ep.certificate}</pre>
      <button type="button" onClick={() => downloadText(files.certificate, `${ep.certificate}\n`)}>
        Download {files.certificate}
      </button>
      <h4>Host keys ({files.knownHosts})</h4>
      <pre data-testid="known-hosts">{known}</pre>
      <button type="button" onClick={() => downloadText(files.knownHosts, known)}>
        Download {files.knownHosts}
      </button>
      <p className="small muted">Host key fingerprints: {ep.hostKeyFingerprints.join(", ")}</p>
    </div>
  );
}
