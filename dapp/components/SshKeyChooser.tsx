"use client";

import { useEffect, useState } from "react";
import {
  checkPublicKeyLine,
  ed25519PrivateKeyPem,
  ed25519PublicKeyLine,
  generateEd25519,
  type PublicKeyCheck,
} from "../lib/sshkey.ts";
import { downloadText } from "./hooks.ts";

export interface SshKeyChoice {
  /** The public key line to put on-chain, when acceptable. */
  line: string | null;
  /** Why it cannot be used yet. */
  problem: string | null;
}

const PRIVATE_FILE = "computehive_ed25519";

/** The borrower's SSH key: a new ed25519 pair made in this browser, or a pasted public key. */
export function SshKeyChooser({ onChange }: { onChange: (c: SshKeyChoice) => void }) {
  const [mode, setMode] = useState<"generate" | "paste">("generate");
  const [generated, setGenerated] = useState<{ line: string; pem: string } | null>(null);
  const [saved, setSaved] = useState(false);
  const [pasted, setPasted] = useState("");
  const check: PublicKeyCheck | null = pasted.trim() ? checkPublicKeyLine(pasted) : null;

  let choice: SshKeyChoice;
  if (mode === "generate") {
    if (!generated) choice = { line: null, problem: "Generate an SSH key, or paste your public key." };
    else if (!saved)
      choice = { line: null, problem: "Download the SSH private key and tick that you saved it." };
    else choice = { line: generated.line, problem: null };
  } else if (!check) choice = { line: null, problem: "Paste your SSH public key." };
  else if (!check.ok) choice = { line: null, problem: check.message };
  else choice = { line: check.line, problem: null };
  const { line, problem } = choice;
  useEffect(() => onChange({ line, problem }), [line, problem, onChange]);

  function generate() {
    const pair = generateEd25519();
    const comment = `computehive-${new Date().toISOString().slice(0, 10)}`;
    setGenerated({
      line: ed25519PublicKeyLine(pair.publicKey, comment),
      pem: ed25519PrivateKeyPem(pair, comment),
    });
    setSaved(false);
  }

  return (
    <div>
      <div role="radiogroup" aria-label="Which SSH key to log in with">
        <label className="check">
          <input
            type="radio"
            name="ssh-mode"
            checked={mode === "generate"}
            onChange={() => setMode("generate")}
          />
          Make a new ed25519 key pair in this browser
        </label>
        <label className="check">
          <input type="radio" name="ssh-mode" checked={mode === "paste"} onChange={() => setMode("paste")} />
          Use my own key (paste the public key)
        </label>
      </div>
      {mode === "generate" ? (
        <div>
          {!generated ? (
            <button type="button" onClick={generate}>
              Generate SSH key pair
            </button>
          ) : (
            <>
              <p className="small">Public key (goes on-chain with the booking):</p>
              <pre>{generated.line}</pre>
              <div className="row">
                <button
                  type="button"
                  onClick={() => {
                    downloadText(PRIVATE_FILE, generated.pem, "application/x-pem-file");
                    downloadText(`${PRIVATE_FILE}.pub`, `${generated.line}\n`);
                  }}
                >
                  Download the private key
                </button>
                <button type="button" className="secondary" onClick={generate}>
                  Make another
                </button>
              </div>
              <p className="small muted">
                The private key never leaves this browser except as this download. Keep it: it is the only way
                in. Put it at <code>~/.ssh/id_ed25519</code> (the path the ready-made ssh command uses) or
                anywhere you like and change the command's <code>-i</code>, then <code>chmod 600</code> it.
              </p>
              <label className="check">
                <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />I saved
                the private key file
              </label>
            </>
          )}
        </div>
      ) : (
        <label>
          SSH public key (contents of your <code>.pub</code> file: ed25519, ECDSA, or RSA of at least 3072
          bits)
          <textarea
            className="mono"
            rows={3}
            spellCheck={false}
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            aria-invalid={check !== null && !check.ok}
            aria-describedby="ssh-key-check"
          />
          <span id="ssh-key-check" className={check?.ok ? "ok small" : "field-error"}>
            {check === null ? "" : check.ok ? `${check.type} key, ${check.fingerprint}` : check.message}
          </span>
        </label>
      )}
    </div>
  );
}
