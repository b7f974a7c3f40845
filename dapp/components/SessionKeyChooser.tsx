"use client";

import {
  deriveSessionKey,
  generateSessionKey,
  type SessionKey,
  sessionKeyFromPrivateKey,
  sessionKeyMessage,
} from "@computehive/sdk";
import { useState } from "react";
import { useSignMessage } from "wagmi";
import { useErrorWords } from "./chain.tsx";
import { downloadText, useStickyState } from "./hooks.ts";
import { useRuntime } from "./Providers.tsx";

/**
 * The borrower's x25519 session key for this chain, market and account, kept in this tab's memory only (never
 * in storage): the booking form and "My bookings" share it, so one signature serves both.
 */
export function useSessionKey(account: string): [SessionKey | null, (k: SessionKey | null) => void] {
  const { config } = useRuntime();
  return useStickyState<SessionKey | null>(
    `session-key:${config?.chainId}:${config?.market}:${account.toLowerCase()}`,
    null,
  );
}

type Mode = "derive" | "paste" | "generate";

export function SessionKeyChooser({
  account,
  purpose,
}: {
  account: `0x${string}`;
  purpose: "book" | "open";
}) {
  const { config } = useRuntime();
  const [key, setKey] = useSessionKey(account);
  const [mode, setMode] = useState<Mode>("derive");
  const [pasted, setPasted] = useState("");
  const [error, setError] = useState<string | null>(null);
  const { signMessageAsync, isPending } = useSignMessage();
  const words = useErrorWords();
  if (!config) return null;
  const context = { chainId: config.chainId, market: config.market, account };
  const idPrefix = `session-key-${purpose}`;

  async function derive() {
    setError(null);
    try {
      const signature = await signMessageAsync({ account, message: sessionKeyMessage(context) });
      setKey(deriveSessionKey(signature, context));
    } catch (e) {
      setError(words(e));
    }
  }

  function applyPasted() {
    setError(null);
    try {
      setKey(sessionKeyFromPrivateKey(pasted.trim() as `0x${string}`));
      setPasted("");
    } catch (e) {
      setError(words(e));
    }
  }

  if (key) {
    return (
      <div>
        <p className="ok">
          Session key ready. Public key: <code className="hash">{key.publicKeyHex}</code>
        </p>
        <button type="button" className="secondary" onClick={() => setKey(null)}>
          Use another session key
        </button>
      </div>
    );
  }

  return (
    <div>
      <p className="muted small">
        {purpose === "book"
          ? "The host encrypts your SSH endpoint to this key; only its private half can read it."
          : "The endpoint was encrypted to the session key you booked with. Get that key back to read it."}
      </p>
      <div role="radiogroup" aria-label="How to get the session key">
        <label className="check">
          <input
            type="radio"
            name={idPrefix}
            checked={mode === "derive"}
            onChange={() => setMode("derive")}
          />
          Derive it from a wallet signature (recommended: the same wallet gets the same key on any device;
          signing costs nothing and sends no transaction)
        </label>
        <label className="check">
          <input type="radio" name={idPrefix} checked={mode === "paste"} onChange={() => setMode("paste")} />
          Paste a session private key I saved
        </label>
        {purpose === "book" ? (
          <label className="check">
            <input
              type="radio"
              name={idPrefix}
              checked={mode === "generate"}
              onChange={() => setMode("generate")}
            />
            Generate a random key (you must save it to read the endpoint later)
          </label>
        ) : null}
      </div>
      {mode === "derive" ? (
        <button type="button" onClick={derive} disabled={isPending}>
          {isPending ? "Waiting for the signature…" : "Sign to derive the session key"}
        </button>
      ) : null}
      {mode === "paste" ? (
        <div>
          <label>
            Session private key (0x + 64 hex digits)
            <input
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={pasted}
              onChange={(e) => setPasted(e.target.value)}
            />
          </label>
          <button type="button" onClick={applyPasted} disabled={pasted.trim() === ""}>
            Use this key
          </button>
        </div>
      ) : null}
      {mode === "generate" ? (
        <button
          type="button"
          onClick={() => {
            const k = generateSessionKey();
            downloadText(`computehive-session-key-${config.chainId}.txt`, `${k.privateKeyHex}\n`);
            setKey(k);
          }}
        >
          Generate and download the session key
        </button>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
