import { generateKeyPairSync, randomBytes } from "node:crypto";
import { rawCid } from "@computehive/sdk";
import { bytesToHex, type Hex, toHex } from "viem";

// Realistic booking payloads for the benchmark: calldata size changes gas, so the figures use what a real
// borrower and agent send, not one-byte placeholders.

function rawPublicKey(type: "ed25519" | "x25519"): Buffer {
  const { publicKey } = generateKeyPairSync(type as "ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  if (!jwk.x) throw new Error(`no ${type} public key`);
  return Buffer.from(jwk.x, "base64url");
}

function sshString(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** A freshly generated ed25519 key as an OpenSSH public key line (`ssh-ed25519 AAAAC3… user@host`, ~100 bytes). */
export function sshEd25519PublicKeyLine(comment = "borrower@workstation"): Hex {
  const algo = Buffer.from("ssh-ed25519");
  const blob = Buffer.concat([sshString(algo), sshString(rawPublicKey("ed25519"))]);
  return toHex(`ssh-ed25519 ${blob.toString("base64")} ${comment}`);
}

/** A fresh x25519 public key: the borrower's session key the endpoint is encrypted to. */
export function x25519PublicKey(): Hex {
  return bytesToHex(rawPublicKey("x25519"));
}

/**
 * An encrypted endpoint envelope of realistic size (700 bytes): version byte, ephemeral x25519 key, 24-byte
 * XChaCha20 nonce, ciphertext of the endpoint (host, port, user, host-key fingerprints, the ~450-byte OpenSSH
 * certificate, validity), 16-byte Poly1305 tag. The ciphertext is random bytes: same size and entropy.
 */
export function encryptedEndpoint(size = 700): Hex {
  const header = Buffer.concat([Buffer.from([1]), rawPublicKey("x25519"), randomBytes(24)]);
  return bytesToHex(Buffer.concat([header, randomBytes(size - header.length)]));
}

/** The CIDv1 of a session report document, as the agent publishes it. */
export function reportCid(bookingId: bigint, usedSeconds: number): string {
  return rawCid(
    JSON.stringify({
      schema: "computehive/session-report@1",
      bookingId: bookingId.toString(),
      usedSeconds,
      nonce: randomBytes(16).toString("hex"),
    }),
  );
}
