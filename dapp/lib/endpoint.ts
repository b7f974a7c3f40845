// The SSH endpoint a booking's `EndpointPublished` event carries, once `openEndpoint` (sdk) has decrypted it.
// Its shape is the host agent's (host-agent/src/ssh/endpoint.ts): checked here field by field before anything
// is shown, and the suggested command is rebuilt from the checked fields and must equal the one sent, so no
// lender-chosen text reaches the borrower's shell.

import { endpointFileNames, knownHostsText, sshCommandFor } from "@computehive/sdk";

export interface SshEndpoint {
  version: 1;
  bookingId: string;
  host: string;
  port: number;
  user: string;
  hostKeyFingerprints: string[];
  hostKeys: string[];
  certificate: string;
  validAfter: number;
  validBefore: number;
  sshCommand: string;
}

export class EndpointShapeError extends Error {
  override name = "EndpointShapeError";
}

const VM_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME_RE =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;
const HOST_KEY_RE = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}$/;
const CERT_RE =
  /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)-cert-v01@openssh\.com [A-Za-z0-9+/]+={0,2}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** node:net's isIP, for the browser: 4, 6 or 0. */
export function ipVersion(host: string): 0 | 4 | 6 {
  if (IPV4_RE.test(host)) return 4;
  if (!host.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(host)) return 0;
  try {
    // The URL parser accepts exactly the valid IPv6 literals (an embedded IPv4 tail included).
    new URL(`http://[${host}]/`);
    return 6;
  } catch {
    return 0;
  }
}

function isHost(h: string): boolean {
  return ipVersion(h) !== 0 || (HOSTNAME_RE.test(h) && !/^[0-9.]+$/.test(h));
}

// The file names, known_hosts and command are the sdk's own, the very functions the host agent builds
// `sshCommand` with.
export { endpointFileNames, knownHostsText, sshCommandFor };

/** The identity file the command names (the borrower's private key; change `-i` if it lives elsewhere). */
export function identityFileOf(sshCommand: string): string | null {
  return /^ssh -i (\S+) /.exec(sshCommand)?.[1] ?? null;
}

const KEYS = [
  "version",
  "bookingId",
  "host",
  "port",
  "user",
  "hostKeyFingerprints",
  "hostKeys",
  "certificate",
  "validAfter",
  "validBefore",
  "sshCommand",
];

/** Checks what openEndpoint returned; `bookingId` must be the booking it was read for. */
export function parseEndpoint(value: unknown, bookingId: string): SshEndpoint {
  const fail = (what: string): never => {
    throw new EndpointShapeError(`The host sent an endpoint this app cannot use: ${what}.`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("not an object");
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => !KEYS.includes(k));
  if (unknown.length) fail(`unexpected field ${unknown.join(", ")}`);
  if (v.version !== 1) fail(`version ${String(v.version)} is not supported`);
  if (v.bookingId !== bookingId) fail(`it is for booking ${String(v.bookingId)}, not ${bookingId}`);
  if (typeof v.host !== "string" || !isHost(v.host)) fail("the host is not a host name or IP address");
  if (typeof v.port !== "number" || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535)
    fail("bad port");
  if (typeof v.user !== "string" || !VM_USER_RE.test(v.user)) fail("bad user name");
  const strings = (x: unknown, re: RegExp, what: string): string[] => {
    if (
      !Array.isArray(x) ||
      x.length < 1 ||
      x.length > 4 ||
      !x.every((s) => typeof s === "string" && re.test(s))
    ) {
      fail(`bad ${what}`);
    }
    return x as string[];
  };
  const hostKeyFingerprints = strings(v.hostKeyFingerprints, FINGERPRINT_RE, "host key fingerprints");
  const hostKeys = strings(v.hostKeys, HOST_KEY_RE, "host keys");
  if (typeof v.certificate !== "string" || v.certificate.length > 3000 || !CERT_RE.test(v.certificate)) {
    fail("bad certificate");
  }
  const isTime = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (
    !isTime(v.validAfter) ||
    !isTime(v.validBefore) ||
    (v.validBefore as number) <= (v.validAfter as number)
  ) {
    fail("bad validity window");
  }
  const ep = {
    version: 1 as const,
    bookingId,
    host: v.host as string,
    port: v.port as number,
    user: v.user as string,
    hostKeyFingerprints,
    hostKeys,
    certificate: v.certificate as string,
    validAfter: v.validAfter as number,
    validBefore: v.validBefore as number,
    sshCommand: "",
  };
  const canonical = sshCommandFor(ep);
  if (v.sshCommand !== canonical)
    fail("its ssh command is not the canonical one (refused, for your shell's safety)");
  return { ...ep, sshCommand: canonical };
}
