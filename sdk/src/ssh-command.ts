/**
 * The borrower's side of an SSH endpoint as text: the file names the certificate and known_hosts are saved
 * under, the known_hosts lines, and the canonical `ssh` command. The host agent builds the endpoint's
 * `sshCommand` with these and the dApp shows the same, so both live here, browser-safe. Every field is
 * validated by the endpoint schema first (host: an IP or a host name), so the text is safe to paste.
 */

export interface SshCommandFields {
  bookingId: string;
  host: string;
  port: number;
  user: string;
  /** The OpenSSH user certificate line (`<type>-cert-v01@openssh.com base64`). */
  certificate: string;
}

/** The borrower's private key file the command names, by certificate type (ssh-keygen's defaults). */
const DEFAULT_IDENTITY: Record<string, string> = {
  "ssh-ed25519": "~/.ssh/id_ed25519",
  "ecdsa-sha2-nistp256": "~/.ssh/id_ecdsa",
  "ecdsa-sha2-nistp384": "~/.ssh/id_ecdsa",
  "ecdsa-sha2-nistp521": "~/.ssh/id_ecdsa",
  "ssh-rsa": "~/.ssh/id_rsa",
};

/** The file names the borrower's tools save the certificate and known_hosts under (see sshCommandFor). */
export function endpointFileNames(bookingId: string): { certificate: string; knownHosts: string } {
  return {
    certificate: `computehive-${bookingId}-cert.pub`,
    knownHosts: `computehive-${bookingId}.known_hosts`,
  };
}

/** The known_hosts file for an endpoint: one line per host key, `[host]:port` unless the port is 22. */
export function knownHostsText(ep: { host: string; port: number; hostKeys: readonly string[] }): string {
  const pattern = ep.port === 22 ? ep.host : `[${ep.host}]:${ep.port}`;
  return ep.hostKeys.map((k) => `${pattern} ${k}\n`).join("");
}

/**
 * `ssh -i ~/.ssh/id_ed25519 -o CertificateFile=computehive-<id>-cert.pub -o
 * UserKnownHostsFile=computehive-<id>.known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
 * -p PORT user@host`, run where the two files were saved. An IPv6 host (the only valid host with a colon) is
 * bracketed.
 */
export function sshCommandFor(ep: SshCommandFields): string {
  const files = endpointFileNames(ep.bookingId);
  const keyType = ep.certificate.slice(0, ep.certificate.indexOf("-cert-v01@openssh.com"));
  const identity = DEFAULT_IDENTITY[keyType] ?? "~/.ssh/id_ed25519";
  const target = ep.host.includes(":") ? `${ep.user}@[${ep.host}]` : `${ep.user}@${ep.host}`;
  return [
    "ssh",
    `-i ${identity}`,
    `-o CertificateFile=${files.certificate}`,
    `-o UserKnownHostsFile=${files.knownHosts}`,
    "-o StrictHostKeyChecking=yes",
    "-o IdentitiesOnly=yes",
    `-p ${ep.port}`,
    target,
  ].join(" ");
}
