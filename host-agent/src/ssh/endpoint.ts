/**
 * The endpoint a borrower receives for a booking, before the oracle-node encrypts it to the borrower's
 * session key and puts it on-chain (`activate`, at most Market.MAX_ENDPOINT_LENGTH = 4096 bytes of
 * ciphertext). Compact JSON: about 1 KB for an ed25519 borrower key.
 *
 * Host-key verification: the endpoint carries the VM's own host public key(s), made fresh for this VM
 * (generateHostKeys) and baked into its seed, and the borrower pins them with a known_hosts line
 * (`knownHostsText`) and `StrictHostKeyChecking=yes`. No host certificates and no `@cert-authority`:
 * the pinned key is as strong (it arrives encrypted, bound to this booking), smaller, and cannot vouch
 * for another VM that later gets the same host:port, which a `[host]:*` CA line would.
 */
import { isIP } from "node:net";
import { endpointFileNames, knownHostsText, sshCommandFor } from "@computehive/sdk";
import sshpk from "sshpk";
import { z } from "zod";
import { VM_USER_RE } from "./ca.ts";
import { validateBorrowerKey } from "./keys.ts";

export const ENDPOINT_VERSION = 1;

const HOSTNAME_RE =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;
const HOST_KEY_RE = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}$/;
const CERT_RE =
  /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)-cert-v01@openssh\.com [A-Za-z0-9+/]+={0,2}$/;

const isHost = (h: string) => isIP(h) !== 0 || (HOSTNAME_RE.test(h) && !/^[0-9.]+$/.test(h));

const EndpointFields = z.strictObject({
  version: z.literal(ENDPOINT_VERSION),
  /** The market's booking id (uint256), in decimal. */
  bookingId: z.string().regex(/^(0|[1-9][0-9]{0,77})$/),
  /** The lender host's public address (DNS name or IP). */
  host: z.string().refine(isHost, "not a host name or IP address"),
  /** The host port forwarded to this VM's sshd. */
  port: z.number().int().min(1).max(65535),
  user: z.string().regex(VM_USER_RE),
  hostKeyFingerprints: z.array(z.string().regex(FINGERPRINT_RE)).min(1).max(4),
  /** `type base64`, no comment; the known_hosts lines are built from these. */
  hostKeys: z.array(z.string().regex(HOST_KEY_RE)).min(1).max(4),
  /** The OpenSSH user certificate, one line, no comment. */
  certificate: z.string().max(3000).regex(CERT_RE),
  /** Unix seconds: booking start (first valid second) and end (first second no longer valid). */
  validAfter: z.number().int().nonnegative(),
  validBefore: z.number().int().positive(),
  /** A suggested command, exactly sshCommandFor(this): checked, so it is safe to show and paste. */
  sshCommand: z.string().max(512),
});

export type SshEndpoint = z.infer<typeof EndpointFields>;

/**
 * The schema: the fields above plus what must agree between them — fingerprints are those of the host
 * keys, the certificate is a user certificate for `user` valid for exactly [validAfter, validBefore),
 * and sshCommand is the canonical one (no lender-chosen text reaches the borrower's shell).
 */
export const SshEndpointSchema = EndpointFields.superRefine((ep, ctx) => {
  const fail = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (ep.validBefore <= ep.validAfter) fail("validBefore", "must be after validAfter");
  const fps = ep.hostKeys.map((k) => {
    const v = validateBorrowerKey(k);
    return v.ok ? v.fingerprint : null;
  });
  if (fps.includes(null)) fail("hostKeys", "a host key does not parse");
  else if (
    fps.length !== ep.hostKeyFingerprints.length ||
    fps.some((fp, i) => fp !== ep.hostKeyFingerprints[i])
  ) {
    fail("hostKeyFingerprints", "must be the SHA256 fingerprints of hostKeys, in order");
  }
  let cert: sshpk.Certificate;
  try {
    cert = sshpk.parseCertificate(ep.certificate, "openssh");
  } catch (e) {
    fail("certificate", `does not parse: ${(e as Error).message}`);
    return;
  }
  const subjects = cert.subjects.map((s) => s.uid);
  if (cert.subjects[0]?.type !== "user" || subjects.length !== 1 || subjects[0] !== ep.user) {
    fail("certificate", `must be a user certificate whose only principal is ${ep.user}`);
  }
  if (
    cert.validFrom.getTime() !== ep.validAfter * 1000 ||
    cert.validUntil.getTime() !== ep.validBefore * 1000
  ) {
    fail("certificate", "validity differs from validAfter/validBefore");
  }
  if (ep.sshCommand !== sshCommandFor(ep)) fail("sshCommand", "is not the canonical command");
});

// The text the borrower uses (file names, known_hosts, the ssh command) is the sdk's, shared with the dApp.
export { endpointFileNames, knownHostsText, sshCommandFor };

export interface SshEndpointInput {
  bookingId: bigint | number | string;
  host: string;
  port: number;
  user: string;
  /** HostKeyPair.publicKey of each host key the VM's sshd has (comments are dropped). */
  hostPublicKeys: readonly string[];
  /** From signUserCertificate; its window becomes validAfter/validBefore. */
  certificate: string;
}

/** Builds and validates the endpoint; throws (with zod's issues) if anything disagrees. */
export function buildSshEndpoint(input: SshEndpointInput): SshEndpoint {
  const hostKeys = input.hostPublicKeys.map((line) => line.trim().split(/\s+/).slice(0, 2).join(" "));
  const fps = hostKeys.map((k) => {
    const v = validateBorrowerKey(k);
    if (!v.ok) throw new Error(`host key refused (${v.code}): ${v.message}`);
    return v.fingerprint;
  });
  const certificate = input.certificate.trim().split(/\s+/).slice(0, 2).join(" ");
  const cert = sshpk.parseCertificate(certificate, "openssh");
  const base = {
    version: ENDPOINT_VERSION,
    bookingId: BigInt(input.bookingId).toString(),
    host: input.host,
    port: input.port,
    user: input.user,
    hostKeyFingerprints: fps,
    hostKeys,
    certificate,
    validAfter: cert.validFrom.getTime() / 1000,
    validBefore: cert.validUntil.getTime() / 1000,
  };
  return SshEndpointSchema.parse({ ...base, sshCommand: sshCommandFor(base) });
}
