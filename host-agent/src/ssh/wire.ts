import { createHash } from "node:crypto";

/** Raised by SshReader on a truncated or inconsistent SSH wire encoding (RFC 4251 §5). */
export class WireError extends Error {
  override name = "WireError";
}

/** Reads RFC 4251 `uint32`, `string` and `mpint` values from a key blob, refusing anything truncated. */
export class SshReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get atEnd(): boolean {
    return this.offset === this.buf.length;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  uint32(): number {
    if (this.remaining < 4) throw new WireError("truncated length field");
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(): Buffer {
    const len = this.uint32();
    if (len > this.remaining) throw new WireError(`field of ${len} bytes runs past the end of the blob`);
    const v = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return v;
  }

  /** A `string` that must be printable ASCII (algorithm and curve names). */
  ascii(): string {
    const b = this.bytes();
    for (const c of b) if (c < 0x21 || c > 0x7e) throw new WireError("name field is not printable ASCII");
    return b.toString("ascii");
  }

  /**
   * A positive `mpint` in its one canonical encoding (no superfluous leading zero byte, high bit clear),
   * so the blob we fingerprint is the one OpenSSH would re-serialize.
   */
  positiveMpint(): Buffer {
    const b = this.bytes();
    if (b.length === 0) throw new WireError("zero mpint");
    if ((b[0] as number) & 0x80) throw new WireError("negative mpint");
    if (b[0] === 0 && (b.length === 1 || ((b[1] as number) & 0x80) === 0)) {
      throw new WireError("mpint has a superfluous leading zero byte");
    }
    return b[0] === 0 ? b.subarray(1) : b;
  }
}

/** `SHA256:<base64, unpadded>` of a public key blob: what `ssh-keygen -l` prints. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Strict base64 (standard alphabet, padded, canonical: re-encoding gives the same text). */
export function decodeBase64Strict(text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const buf = Buffer.from(text, "base64");
  return buf.toString("base64") === text ? buf : null;
}

/** Bit length of a big-endian unsigned integer. */
export function bitLength(be: Buffer): number {
  let i = 0;
  while (i < be.length && be[i] === 0) i++;
  if (i === be.length) return 0;
  return (be.length - i - 1) * 8 + (32 - Math.clz32(be[i] as number));
}
