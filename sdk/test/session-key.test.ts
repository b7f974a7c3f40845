// The session key (sdk/src/session-key.ts): the exact message, the committed vector, determinism, binding
// to chain/market/account, and that the derived key opens envelopes sealed to its public key.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { x25519 } from "@noble/curves/ed25519";
import { type Address, bytesToHex, type Hex, hexToBytes } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  deriveSessionKey,
  EnvelopeError,
  generateSessionKey,
  openEndpoint,
  SessionKeyError,
  type SessionKeyErrorCode,
  sealEndpoint,
  sessionKeyFromPrivateKey,
  sessionKeyMessage,
} from "../src/index.ts";

interface SessionKeyVector {
  name: string;
  signerPrivateKey: Hex;
  context: { chainId: number; market: Address; account: Address };
  message: string;
  signature: Hex;
  privateKey: Hex;
  publicKey: Hex;
}

const vectors: { sessionKeys: SessionKeyVector[] } = JSON.parse(
  readFileSync(new URL("./vectors/envelope-v1.json", import.meta.url), "utf8"),
);

// anvil's first two accounts
const alice = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const bob = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const market: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const context = { chainId: 31337, market, account: alice.address };

function throwsSessionKey(fn: () => unknown, code: SessionKeyErrorCode, message?: RegExp): SessionKeyError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof SessionKeyError, `expected a SessionKeyError "${code}", got ${String(thrown)}`);
  assert.equal(thrown.code, code, `wrong code; message: ${thrown.message}`);
  if (message) assert.match(thrown.message, message);
  return thrown;
}

async function derive(account: typeof alice, ctx: { chainId: number | bigint; market: Address }) {
  const full = { ...ctx, account: account.address };
  return deriveSessionKey(await account.signMessage({ message: sessionKeyMessage(full) }), full);
}

describe("session key: the message", () => {
  it("is exactly the documented text, addresses checksummed", () => {
    const expected =
      "ComputeHive session key v1\n" +
      "Chain: 31337\n" +
      "Market: 0x5FbDB2315678afecb367f032d93F642f64180aa3\n" +
      "Account: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n" +
      "\n" +
      "Signing this derives the key that decrypts your GPU session endpoints. It costs nothing and sends no " +
      "transaction. Sign it only on a ComputeHive site you trust.";
    assert.equal(sessionKeyMessage(context), expected);
    assert.equal(
      sessionKeyMessage({
        chainId: 31337n,
        market: market.toLowerCase() as Address,
        account: alice.address.toLowerCase() as Address,
      }),
      expected,
    );
    assert.equal((vectors.sessionKeys[0] as SessionKeyVector).message, expected);
  });

  it("refuses a malformed chain id, market or account (bad-input)", () => {
    for (const bad of [
      { ...context, chainId: 0 },
      { ...context, chainId: -5n },
      { ...context, chainId: 1.5 },
      { ...context, chainId: "1" },
      { ...context, market: "0x1234" },
      { ...context, account: undefined },
      null,
    ]) {
      throwsSessionKey(() => sessionKeyMessage(bad as typeof context), "bad-input");
      throwsSessionKey(() => deriveSessionKey(`0x${"11".repeat(64)}1b`, bad as typeof context), "bad-input");
    }
  });
});

describe("session key: derivation from a wallet signature", () => {
  for (const v of vectors.sessionKeys) {
    it(`${v.name}: matches the committed vector`, async () => {
      const signer = privateKeyToAccount(v.signerPrivateKey);
      assert.equal(signer.address, v.context.account);
      assert.equal(sessionKeyMessage(v.context), v.message);
      assert.equal(await signer.signMessage({ message: v.message }), v.signature);
      const key = deriveSessionKey(v.signature, v.context);
      assert.equal(bytesToHex(key.privateKey), v.privateKey);
      assert.equal(key.privateKeyHex, v.privateKey);
      assert.equal(bytesToHex(key.publicKey), v.publicKey);
      assert.equal(key.publicKeyHex, v.publicKey);
      assert.deepEqual(key.publicKey, x25519.getPublicKey(key.privateKey));
      assert.deepEqual(deriveSessionKey(hexToBytes(v.signature), v.context), key);
    });
  }

  it("is deterministic: signing again derives the same key", async () => {
    const first = await derive(alice, context);
    const second = await derive(alice, { ...context, chainId: 31337n });
    assert.deepEqual(second, first);
    assert.equal(first.privateKey.length, 32);
    assert.equal(first.publicKey.length, 32);
    assert.match(first.publicKeyHex, /^0x[0-9a-f]{64}$/);
  });

  it("another account, chain or market derives another key", async () => {
    const base = (await derive(alice, context)).publicKeyHex;
    const others = [
      (await derive(bob, context)).publicKeyHex,
      (await derive(alice, { ...context, chainId: 1 })).publicKeyHex,
      (await derive(alice, { ...context, market: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" }))
        .publicKeyHex,
    ];
    assert.equal(new Set([base, ...others]).size, 4);
    // The same signature under another context derives another key too (the message is the HKDF info).
    const signature = await alice.signMessage({ message: sessionKeyMessage(context) });
    assert.notEqual(deriveSessionKey(signature, { ...context, chainId: 1 }).publicKeyHex, base);
  });

  it("a signature with v as 0/1 (some hardware wallets) derives the same key as 27/28", async () => {
    const signature = hexToBytes(await alice.signMessage({ message: sessionKeyMessage(context) }));
    const v = signature[64] as number;
    assert.ok(v === 27 || v === 28);
    const lowV = Uint8Array.from(signature);
    lowV[64] = v - 27;
    assert.deepEqual(
      deriveSessionKey(bytesToHex(lowV), context),
      deriveSessionKey(bytesToHex(signature), context),
    );
  });

  it("the derived key opens an endpoint envelope sealed to its public key", async () => {
    const key = await derive(alice, context);
    const envelopeContext = { chainId: context.chainId, market, bookingId: 3n };
    const endpoint = { host: "192.0.2.1", port: 22, user: "gpu" };
    const envelope = sealEndpoint(endpoint, {
      recipientPublicKey: key.publicKeyHex,
      context: envelopeContext,
    });
    assert.deepEqual(
      openEndpoint({ recipientPrivateKey: key.privateKey, envelope, context: envelopeContext }),
      endpoint,
    );
    const other = await derive(bob, context);
    assert.throws(
      () => openEndpoint({ recipientPrivateKey: other.privateKey, envelope, context: envelopeContext }),
      (error: unknown) => error instanceof EnvelopeError && error.code === "decrypt-failed",
    );
  });

  it("refuses a signature that is not 65 bytes of hex, or has a bad v, without echoing it", () => {
    const sig = `0x${"5a".repeat(64)}1b`;
    for (const bad of [
      `0x${"5a".repeat(64)}`,
      `${sig}00`,
      sig.slice(2),
      `${sig.slice(0, -1)}`,
      `0x${"zz".repeat(65)}`,
      "",
      new Uint8Array(64),
      42,
      null,
    ]) {
      const error = throwsSessionKey(
        () => deriveSessionKey(bad as Hex, context),
        "bad-signature",
        /65 bytes/,
      );
      assert.ok(!error.message.includes("5a5a"), "the signature was echoed in the message");
    }
    for (const v of ["02", "1d", "ff"]) {
      throwsSessionKey(
        () => deriveSessionKey(`0x${"5a".repeat(64)}${v}` as Hex, context),
        "bad-signature",
        /v/,
      );
    }
  });
});

describe("session key: pasted and generated keys", () => {
  it("sessionKeyFromPrivateKey takes hex or bytes (RFC 7748 6.1 Alice's key)", () => {
    const privateKey: Hex = "0x77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const fromHex = sessionKeyFromPrivateKey(privateKey);
    assert.equal(fromHex.publicKeyHex, "0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    assert.equal(fromHex.privateKeyHex, privateKey);
    assert.deepEqual(sessionKeyFromPrivateKey(hexToBytes(privateKey)), fromHex);
  });

  it("sessionKeyFromPrivateKey refuses a key that is not 32 bytes (bad-key), without echoing it", () => {
    for (const bad of [
      `0x${"cd".repeat(31)}`,
      `0x${"cd".repeat(33)}`,
      "cd".repeat(32),
      new Uint8Array(31),
      1,
    ]) {
      const error = throwsSessionKey(() => sessionKeyFromPrivateKey(bad as Hex), "bad-key", /32 bytes/);
      assert.ok(!error.message.includes("cdcd"), "the key was echoed in the message");
    }
  });

  it("generateSessionKey makes fresh, usable keys that can be pasted back", () => {
    const a = generateSessionKey();
    const b = generateSessionKey();
    assert.notEqual(a.publicKeyHex, b.publicKeyHex);
    assert.deepEqual(sessionKeyFromPrivateKey(a.privateKeyHex), a);
    const envelopeContext = { chainId: 1, market, bookingId: 1n };
    const envelope = sealEndpoint(
      { ok: true },
      { recipientPublicKey: a.publicKey, context: envelopeContext },
    );
    assert.deepEqual(
      openEndpoint({ recipientPrivateKey: a.privateKeyHex, envelope, context: envelopeContext }),
      {
        ok: true,
      },
    );
  });

  it("a returned key is a copy: changing the caller's bytes afterwards does not change it", () => {
    const bytes = hexToBytes("0x77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const key = sessionKeyFromPrivateKey(bytes);
    bytes.fill(0);
    assert.equal(key.privateKeyHex, "0x77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    assert.equal(bytesToHex(key.privateKey), key.privateKeyHex);
  });
});
