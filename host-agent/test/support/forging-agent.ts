/**
 * A minimal ssh-agent (draft-miller-ssh-agent) on a Unix socket that offers ONE OpenSSH user certificate and
 * answers sign requests for it with whatever ed25519 private key it was given. Handed the certificate's own
 * key it is an honest agent; handed another borrower's key it forges: OpenSSH's `ssh` then offers the
 * first borrower's certificate and signs the login with the second borrower's key, which is exactly what
 * a second borrower holding a copied certificate would send. (OpenSSH's client alone cannot be made to do
 * that: it refuses to pair a certificate with a key that does not match it, so without this the refusal
 * would come from the client, never from the guest's sshd.)
 *
 * Only the messages `ssh` sends are answered: REQUEST_IDENTITIES (11) and SIGN_REQUEST (13); anything else
 * (e.g. the session-bind extension) gets SSH_AGENT_FAILURE (5).
 */
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import sshpk from "sshpk";

const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;

export interface ForgingAgent {
  socketPath: string;
  /** Sign requests received, as the key blob (base64) each asked for. */
  signRequests: string[];
  close(): Promise<void>;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (b: Buffer | string) => {
  const buf = typeof b === "string" ? Buffer.from(b) : b;
  return Buffer.concat([u32(buf.length), buf]);
};
const frame = (payload: Buffer) => Buffer.concat([u32(payload.length), payload]);

/** Reads an SSH string at `off`; returns it and the offset after it. */
function readStr(buf: Buffer, off: number): [Buffer, number] {
  if (off + 4 > buf.length) throw new Error("short agent message");
  const len = buf.readUInt32BE(off);
  if (off + 4 + len > buf.length) throw new Error("short agent message");
  return [buf.subarray(off + 4, off + 4 + len), off + 4 + len];
}

/** An OpenSSH private key file (ed25519, unencrypted) as a node KeyObject. */
export function ed25519KeyObject(opensshPrivateKey: string): KeyObject {
  const key = sshpk.parsePrivateKey(opensshPrivateKey, "auto");
  if (key.type !== "ed25519") throw new Error(`not an ed25519 key: ${key.type}`);
  // sshpk's parts: k = the 32-byte seed (some versions append the public key), A = the public key.
  const parts = Object.fromEntries(key.parts.map((p) => [p.name, p.data]));
  const seed = parts.k?.subarray(0, 32);
  const pub = parts.A;
  if (seed?.length !== 32 || pub?.length !== 32) throw new Error("unexpected ed25519 key parts");
  return createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: seed.toString("base64url"), x: pub.toString("base64url") },
    format: "jwk",
  });
}

/**
 * Starts the agent. `certificate` is an OpenSSH certificate line (`ssh-ed25519-cert-v01@openssh.com AAAA…`);
 * `signer` the ed25519 key that signs whatever `ssh` asks it to.
 */
export async function startForgingAgent(opts: {
  socketPath: string;
  certificate: string;
  signer: KeyObject;
}): Promise<ForgingAgent> {
  const [type, b64] = opts.certificate.trim().split(/\s+/);
  if (type !== "ssh-ed25519-cert-v01@openssh.com" || !b64)
    throw new Error("an ed25519 user certificate is expected");
  const certBlob = Buffer.from(b64, "base64");
  const signRequests: string[] = [];
  const sockets = new Set<Socket>();

  const answer = (payload: Buffer): Buffer => {
    const kind = payload[0];
    if (kind === REQUEST_IDENTITIES) {
      return Buffer.concat([Buffer.from([IDENTITIES_ANSWER]), u32(1), str(certBlob), str("forged")]);
    }
    if (kind === SIGN_REQUEST) {
      const [blob, off] = readStr(payload, 1);
      const [data] = readStr(payload, off);
      signRequests.push(blob.toString("base64"));
      if (!blob.equals(certBlob)) return Buffer.from([FAILURE]);
      const signature = sign(null, data, opts.signer);
      return Buffer.concat([
        Buffer.from([SIGN_RESPONSE]),
        str(Buffer.concat([str("ssh-ed25519"), str(signature)])),
      ]);
    }
    return Buffer.from([FAILURE]);
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const len = pending.readUInt32BE(0);
        if (pending.length < 4 + len) break;
        const payload = pending.subarray(4, 4 + len);
        pending = pending.subarray(4 + len);
        try {
          socket.write(frame(answer(payload)));
        } catch {
          socket.write(frame(Buffer.from([FAILURE])));
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.socketPath, () => resolve());
  });
  return {
    socketPath: opts.socketPath,
    signRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
