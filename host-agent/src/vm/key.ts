import { randomBytes } from "node:crypto";

const HEX = Buffer.from("0123456789abcdef");

/**
 * A per-session disk key, held only in this Buffer. The LUKS passphrase is 32 random bytes written as
 * 64 hex characters (QEMU insists a passphrase be valid UTF-8), encoded byte by byte so no JavaScript
 * string ever holds it: strings are immutable and cannot be wiped. The random bytes are zeroed as soon
 * as the passphrase exists, the passphrase at `discard()`. 256 bits of entropy make LUKS's
 * key-stretching pointless, which is why overlays are created with a short `iter-time`.
 */
export class SessionKey {
  #passphrase: Buffer | undefined;

  private constructor(passphrase: Buffer) {
    this.#passphrase = passphrase;
  }

  static generate(): SessionKey {
    const raw = randomBytes(32);
    const hex = Buffer.alloc(64);
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i] ?? 0;
      hex[2 * i] = HEX[b >> 4] ?? 0;
      hex[2 * i + 1] = HEX[b & 15] ?? 0;
    }
    raw.fill(0);
    return new SessionKey(hex);
  }

  /** The passphrase bytes; only ever written to a child's stdin pipe. */
  get passphrase(): Buffer {
    if (!this.#passphrase) throw new Error("session key already discarded");
    return this.#passphrase;
  }

  get discarded(): boolean {
    return this.#passphrase === undefined;
  }

  /** Zero-fills the key and drops the reference. Idempotent. */
  discard(): void {
    this.#passphrase?.fill(0);
    this.#passphrase = undefined;
  }
}
