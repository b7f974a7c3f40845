import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  base64Decode,
  base64Encode,
  checkPublicKeyLine,
  ed25519FromSeed,
  ed25519PrivateKeyPem,
  ed25519PublicKeyLine,
  generateEd25519,
} from "../lib/sshkey.ts";

const dir = mkdtempSync(join(tmpdir(), "dapp-sshkey-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sshKeygen(args: string[]): string {
  return execFileSync("ssh-keygen", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function writeKey(name: string, pem: string): string {
  const path = join(dir, name);
  writeFileSync(path, pem, { mode: 0o600 });
  return path;
}

describe("base64", () => {
  test("round trips every length and refuses non-canonical text", () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      const text = base64Encode(bytes);
      expect(text).toBe(Buffer.from(bytes).toString("base64"));
      expect(base64Decode(text)).toEqual(bytes);
    }
    expect(base64Decode("QQ=")).toBeNull();
    expect(base64Decode("QR==")).toBeNull(); // stray bits in the padding
    expect(base64Decode("Q Q==")).toBeNull();
  });
});

describe("the generated ed25519 key in OpenSSH's formats, checked with the real ssh-keygen", () => {
  test("ssh-keygen -y derives the same public key from the private key file", () => {
    for (let i = 0; i < 5; i++) {
      const pair = generateEd25519();
      const comment = i === 0 ? "" : `computehive-test-${i}`;
      const path = writeKey(`id_${i}`, ed25519PrivateKeyPem(pair, comment));
      const derived = sshKeygen(["-y", "-f", path]).trim();
      const mine = ed25519PublicKeyLine(pair.publicKey, comment);
      expect(derived.split(" ").slice(0, 2)).toEqual(mine.split(" ").slice(0, 2));
      // Newer OpenSSH prints the comment too: it must be the one written into the file.
      if (derived.split(" ").length > 2) expect(derived).toBe(mine);
    }
  });

  test("ssh-keygen -l gives the fingerprint the checker computes", () => {
    const pair = generateEd25519();
    const line = ed25519PublicKeyLine(pair.publicKey, "me@browser");
    const pub = join(dir, "fp.pub");
    writeFileSync(pub, `${line}\n`);
    const printed = sshKeygen(["-l", "-E", "sha256", "-f", pub]).split(" ")[1];
    const checked = checkPublicKeyLine(line);
    expect(checked.ok && checked.fingerprint).toBe(printed);
  });

  test("the file matches the one ssh-keygen writes for the same key, byte for byte (except the random check int)", () => {
    const made = join(dir, "made");
    sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", "same-key", "-f", made]);
    const theirs = readFileSync(made, "utf8");
    const blob = Buffer.from(theirs.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    // The private section starts after the header, the public blob (51 bytes) and the section length.
    const header = "openssh-key-v1\0".length + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 51 + 4;
    const checkInt = blob.readUInt32BE(header);
    const seed = blob.subarray(header + 8 + 4 + 11 + 4 + 32 + 4, header + 8 + 4 + 11 + 4 + 32 + 4 + 32);
    const mine = ed25519PrivateKeyPem(ed25519FromSeed(new Uint8Array(seed)), "same-key", checkInt);
    expect(mine).toBe(theirs);
  });

  test("a login key: ssh-keygen can sign with the private key file and verify with the public line", () => {
    const pair = generateEd25519();
    const path = writeKey("signer", ed25519PrivateKeyPem(pair, "signer"));
    const data = join(dir, "data.txt");
    writeFileSync(data, "hello\n");
    sshKeygen(["-Y", "sign", "-f", path, "-n", "file", data]);
    const allowed = join(dir, "allowed_signers");
    writeFileSync(allowed, `signer@example ${ed25519PublicKeyLine(pair.publicKey)}\n`);
    const out = execFileSync(
      "ssh-keygen",
      ["-Y", "verify", "-f", allowed, "-I", "signer@example", "-n", "file", "-s", `${data}.sig`],
      { input: readFileSync(data), encoding: "utf8" },
    );
    expect(out).toMatch(/Good "file" signature/);
  });
});

describe("checking a pasted public key as the host agent will", () => {
  let made = 0;
  const gen = (type: string, bits?: number) => {
    const path = join(dir, `k-${type}-${bits ?? 0}-${made++}`);
    sshKeygen([
      "-q",
      "-t",
      type,
      ...(bits ? ["-b", String(bits)] : []),
      "-N",
      "",
      "-C",
      "user@host",
      "-f",
      path,
    ]);
    return readFileSync(`${path}.pub`, "utf8");
  };

  test("accepts ed25519, ECDSA (256/384/521) and RSA 3072, with ssh-keygen's fingerprint", () => {
    for (const [type, bits, expectBits] of [
      ["ed25519", undefined, 256],
      ["ecdsa", 256, 256],
      ["ecdsa", 384, 384],
      ["ecdsa", 521, 521],
      ["rsa", 3072, 3072],
    ] as const) {
      const line = gen(type, bits);
      const r = checkPublicKeyLine(line);
      expect(r.ok, `${type} ${bits}: ${JSON.stringify(r)}`).toBe(true);
      if (!r.ok) continue;
      expect(r.bits).toBe(expectBits);
      expect(r.comment).toBe("user@host");
      const file = join(dir, "check.pub");
      writeFileSync(file, line);
      expect(r.fingerprint).toBe(sshKeygen(["-l", "-E", "sha256", "-f", file]).split(" ")[1]);
    }
  });

  test("refuses what the host would decline, with its decline code", () => {
    expect(checkPublicKeyLine(gen("rsa", 2048))).toMatchObject({ ok: false, code: "SSH_KEY_TOO_WEAK" });
    expect(checkPublicKeyLine("")).toMatchObject({ code: "SSH_KEY_MALFORMED" });
    expect(checkPublicKeyLine("ssh-ed25519")).toMatchObject({ code: "SSH_KEY_MALFORMED" });
    expect(checkPublicKeyLine("ssh-ed25519 not*base64")).toMatchObject({ code: "SSH_KEY_MALFORMED" });
    const ed = gen("ed25519").trim();
    expect(checkPublicKeyLine(ed.replace("ssh-ed25519", "ssh-rsa"))).toMatchObject({
      code: "SSH_KEY_MALFORMED",
    });
    expect(checkPublicKeyLine(`${ed}\n${ed}`)).toMatchObject({ code: "SSH_KEY_MALFORMED" });
    expect(checkPublicKeyLine(`${ed} ${"x".repeat(1100)}`)).toMatchObject({ code: "SSH_KEY_TOO_LONG" });
    const dss = `ssh-dss ${base64Encode(new Uint8Array([0, 0, 0, 7, ...new TextEncoder().encode("ssh-dss")]))}`;
    expect(checkPublicKeyLine(dss)).toMatchObject({ code: "SSH_KEY_UNSUPPORTED_TYPE" });
    const sk = "sk-ssh-ed25519@openssh.com";
    const skLine = `${sk} ${base64Encode(new Uint8Array([0, 0, 0, sk.length, ...new TextEncoder().encode(sk)]))}`;
    expect(checkPublicKeyLine(skLine)).toMatchObject({ code: "SSH_KEY_UNSUPPORTED_TYPE" });
    expect(checkPublicKeyLine("-----BEGIN OPENSSH PRIVATE KEY-----")).toMatchObject({
      code: "SSH_KEY_MALFORMED",
    });
    // A truncated ECDSA point does not parse.
    const ec = gen("ecdsa", 256).trim().split(" ");
    const blob = base64Decode(ec[1] ?? "") ?? new Uint8Array();
    const cut = blob.slice(0, blob.length - 1);
    cut.set([0, 0, 0, 64], blob.length - 69); // length of the point string: 65 → 64
    expect(checkPublicKeyLine(`${ec[0]} ${base64Encode(cut)}`)).toMatchObject({ code: "SSH_KEY_MALFORMED" });
  });

  test("tolerates one trailing line ending, as in a pasted .pub file", () => {
    const ed = gen("ed25519");
    expect(checkPublicKeyLine(ed).ok).toBe(true);
    expect(checkPublicKeyLine(ed.replace(/\n$/, "\r\n")).ok).toBe(true);
  });
});
