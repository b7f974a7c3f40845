// The endpoint envelope (sdk/src/envelope.ts): committed vectors byte for byte, round trips, and every way
// a bad envelope, key or context fails: always an EnvelopeError with the right code, never anything else.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { x25519 } from "@noble/curves/ed25519";
import { type Address, bytesToHex, type Hex, hexToBytes } from "viem";
import {
  ENVELOPE_OVERHEAD_BYTES,
  type EnvelopeContext,
  EnvelopeError,
  type EnvelopeErrorCode,
  envelopeAssociatedData,
  MAX_ENDPOINT_ENVELOPE_BYTES,
  MAX_ENDPOINT_PLAINTEXT_BYTES,
  openEndpoint,
  openEnvelope,
  sealEndpoint,
  sealEnvelope,
} from "../src/index.ts";

interface EnvelopeVector {
  name: string;
  recipientPrivateKey: Hex;
  recipientPublicKey: Hex;
  context: { chainId: number | string; market: Address; bookingId: number | string };
  plaintextUtf8: string;
  plaintext: Hex;
  ephemeralPrivateKey: Hex;
  ephemeralPublicKey: Hex;
  nonce: Hex;
  sharedSecret: Hex;
  associatedData: Hex;
  envelope: Hex;
}

const vectors: { envelopes: EnvelopeVector[] } = JSON.parse(
  readFileSync(new URL("./vectors/envelope-v1.json", import.meta.url), "utf8"),
);
const contextOf = (v: EnvelopeVector) => ({
  chainId: BigInt(v.context.chainId),
  market: v.context.market,
  bookingId: BigInt(v.context.bookingId),
});

/** Runs `fn` and checks it throws an EnvelopeError with `code` (and nothing else). */
function throwsEnvelope(fn: () => unknown, code: EnvelopeErrorCode, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, `expected an EnvelopeError "${code}", but nothing was thrown`);
  assert.ok(thrown instanceof EnvelopeError, `expected an EnvelopeError "${code}", got ${String(thrown)}`);
  assert.equal(thrown.code, code, `wrong code; message: ${thrown.message}`);
  assert.equal(thrown.name, "EnvelopeError");
  if (message) assert.match(thrown.message, message);
}

// A fixed key pair and context for the tests that need no vector.
const recipientPrivateKey = hexToBytes("0x5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const recipientPublicKey = x25519.getPublicKey(recipientPrivateKey);
const context = {
  chainId: 31337,
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  bookingId: 7n,
};
const endpoint = {
  v: 1,
  host: "198.51.100.20",
  port: 2222,
  user: "gpu",
  hostKeys: ["SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"],
  certificate: "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t",
  validAfter: 1767225600,
  validBefore: 1767232800,
};
const sealed = sealEndpoint(endpoint, { recipientPublicKey, context });
const open = (
  envelope: Uint8Array | Hex,
  ctx: EnvelopeContext = context,
  key: Uint8Array | Hex = recipientPrivateKey,
) => openEnvelope({ recipientPrivateKey: key, envelope, context: ctx });

describe("endpoint envelope: committed vectors", () => {
  for (const v of vectors.envelopes) {
    it(`${v.name}: seals byte for byte and opens`, () => {
      const ctx = contextOf(v);
      assert.equal(bytesToHex(x25519.getPublicKey(hexToBytes(v.recipientPrivateKey))), v.recipientPublicKey);
      assert.equal(bytesToHex(x25519.getPublicKey(hexToBytes(v.ephemeralPrivateKey))), v.ephemeralPublicKey);
      assert.equal(
        bytesToHex(
          x25519.getSharedSecret(hexToBytes(v.ephemeralPrivateKey), hexToBytes(v.recipientPublicKey)),
        ),
        v.sharedSecret,
      );
      assert.equal(bytesToHex(envelopeAssociatedData(ctx)), v.associatedData);
      assert.equal(bytesToHex(new TextEncoder().encode(v.plaintextUtf8)), v.plaintext);

      // Hex and byte inputs give the same bytes.
      const fromHex = sealEnvelope({
        recipientPublicKey: v.recipientPublicKey,
        plaintext: hexToBytes(v.plaintext),
        context: ctx,
        ephemeralPrivateKey: v.ephemeralPrivateKey,
        nonce: v.nonce,
      });
      const fromBytes = sealEnvelope({
        recipientPublicKey: hexToBytes(v.recipientPublicKey),
        plaintext: hexToBytes(v.plaintext),
        context: { ...ctx, market: v.context.market.toLowerCase() as Address },
        ephemeralPrivateKey: hexToBytes(v.ephemeralPrivateKey),
        nonce: hexToBytes(v.nonce),
      });
      assert.equal(bytesToHex(fromHex), v.envelope);
      assert.equal(bytesToHex(fromBytes), v.envelope);

      // Layout: version || ephemeral public key || nonce || ciphertext+tag.
      const envelope = hexToBytes(v.envelope);
      assert.equal(envelope.length, ENVELOPE_OVERHEAD_BYTES + hexToBytes(v.plaintext).length);
      assert.equal(envelope[0], 0x01);
      assert.equal(bytesToHex(envelope.subarray(1, 33)), v.ephemeralPublicKey);
      assert.equal(bytesToHex(envelope.subarray(33, 57)), v.nonce);

      for (const input of [v.envelope, envelope]) {
        const opened = openEnvelope({
          recipientPrivateKey: v.recipientPrivateKey,
          envelope: input,
          context: ctx,
        });
        assert.equal(bytesToHex(opened), v.plaintext);
      }
    });
  }

  it("the first vector uses the RFC 7748 section 6.1 keys, so its shared secret is the RFC's K", () => {
    const v = vectors.envelopes[0] as EnvelopeVector;
    assert.equal(v.sharedSecret, "0x4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  });

  it("sealEndpoint writes compact JSON: the first vector again, and openEndpoint parses it", () => {
    const v = vectors.envelopes[0] as EnvelopeVector;
    const parsed = JSON.parse(v.plaintextUtf8);
    const envelope = sealEndpoint(parsed, {
      recipientPublicKey: v.recipientPublicKey,
      context: contextOf(v),
      ephemeralPrivateKey: v.ephemeralPrivateKey,
      nonce: v.nonce,
    });
    assert.equal(bytesToHex(envelope), v.envelope);
    const opened = openEndpoint({
      recipientPrivateKey: v.recipientPrivateKey,
      envelope: v.envelope,
      context: contextOf(v),
    });
    assert.deepEqual(opened, parsed);
  });
});

describe("endpoint envelope: round trips", () => {
  it("an endpoint object comes back equal; chainId/bookingId as number or bigint, any address case", () => {
    assert.deepEqual(openEndpoint({ recipientPrivateKey, envelope: sealed, context }), endpoint);
    assert.deepEqual(
      openEndpoint({
        recipientPrivateKey: bytesToHex(recipientPrivateKey),
        envelope: bytesToHex(sealed),
        context: { chainId: 31337n, market: context.market.toLowerCase() as Address, bookingId: 7 },
      }),
      endpoint,
    );
  });

  it("bytes of every size up to the limit come back equal; the envelope is 73 bytes longer", () => {
    for (const size of [0, 1, 15, 16, 17, 64, 1000, MAX_ENDPOINT_PLAINTEXT_BYTES]) {
      const plaintext = Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
      const envelope = sealEnvelope({ recipientPublicKey, plaintext, context });
      assert.equal(envelope.length, size + ENVELOPE_OVERHEAD_BYTES);
      assert.deepEqual(open(envelope), plaintext);
    }
    assert.equal(MAX_ENDPOINT_PLAINTEXT_BYTES + ENVELOPE_OVERHEAD_BYTES, MAX_ENDPOINT_ENVELOPE_BYTES);
    assert.equal(MAX_ENDPOINT_ENVELOPE_BYTES, 4096);
  });

  it("each seal draws a fresh ephemeral key and nonce", () => {
    const again = sealEndpoint(endpoint, { recipientPublicKey, context });
    assert.notDeepEqual(again.subarray(1, 33), sealed.subarray(1, 33));
    assert.notDeepEqual(again.subarray(33, 57), sealed.subarray(33, 57));
    assert.deepEqual(openEndpoint({ recipientPrivateKey, envelope: again, context }), endpoint);
  });

  it("a Node Buffer is accepted as a Uint8Array", () => {
    assert.deepEqual(openEndpoint({ recipientPrivateKey, envelope: Buffer.from(sealed), context }), endpoint);
  });
});

describe("endpoint envelope: envelopes that must not open", () => {
  it("another recipient key: decrypt-failed, saying it was not made for this key and booking", () => {
    const other = x25519.utils.randomPrivateKey();
    throwsEnvelope(
      () => open(sealed, context, other),
      "decrypt-failed",
      /not made for this key and this booking/,
    );
    throwsEnvelope(() => open(sealed, context, other), "decrypt-failed", /or it was altered/);
  });

  it("another booking id, chain id or market: decrypt-failed", () => {
    throwsEnvelope(() => open(sealed, { ...context, bookingId: 8n }), "decrypt-failed", /booking 8/);
    throwsEnvelope(() => open(sealed, { ...context, bookingId: 0n }), "decrypt-failed");
    throwsEnvelope(() => open(sealed, { ...context, chainId: 1 }), "decrypt-failed", /chain 1,/);
    throwsEnvelope(() => open(sealed, { ...context, chainId: 31338n }), "decrypt-failed");
    throwsEnvelope(
      () => open(sealed, { ...context, market: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" }),
      "decrypt-failed",
    );
  });

  // Every byte altered, region by region: every single-bit flip, except in the long ciphertext where the
  // lowest and highest bit of each byte are flipped (keeps the test fast). The version byte gives
  // "unsupported-version"; the rest "decrypt-failed". (Flipping the top bit of the ephemeral key leaves the
  // x25519 shared secret unchanged, since x25519 ignores that bit: the HKDF salt, which holds the key
  // bytes, still catches it.)
  const allBits = [0, 1, 2, 3, 4, 5, 6, 7];
  const regions: [string, number, number, number[]][] = [
    ["version byte", 0, 1, allBits],
    ["ephemeral public key", 1, 33, allBits],
    ["nonce", 33, 57, allBits],
    ["ciphertext", 57, sealed.length - 16, [0, 7]],
    ["tag", sealed.length - 16, sealed.length, allBits],
  ];
  for (const [region, from, to, bits] of regions) {
    it(`the ${region} (bytes ${from}..${to - 1}) altered, bit by bit, is refused`, () => {
      for (let i = from; i < to; i++) {
        for (const bit of bits) {
          const tampered = Uint8Array.from(sealed);
          tampered[i] = (tampered[i] as number) ^ (1 << bit);
          throwsEnvelope(() => open(tampered), i === 0 ? "unsupported-version" : "decrypt-failed");
        }
      }
    });
  }

  it("a low-order or zero ephemeral key in the envelope: decrypt-failed", () => {
    for (const point of LOW_ORDER_POINTS) {
      const forged = Uint8Array.from(sealed);
      forged.set(hexToBytes(point), 1);
      throwsEnvelope(() => open(forged), "decrypt-failed");
    }
  });

  it("every length below 73 bytes is truncated; longer cuts and an extra byte fail to decrypt", () => {
    for (let length = 0; length < ENVELOPE_OVERHEAD_BYTES; length++) {
      throwsEnvelope(() => open(sealed.subarray(0, length)), "truncated");
      throwsEnvelope(() => open(bytesToHex(sealed.subarray(0, length))), "truncated");
    }
    for (let length = ENVELOPE_OVERHEAD_BYTES; length < sealed.length; length++) {
      throwsEnvelope(() => open(sealed.subarray(0, length)), "decrypt-failed");
    }
    throwsEnvelope(() => open(Uint8Array.of(...sealed, 0)), "decrypt-failed");
  });

  it("another version byte: unsupported-version, even when short", () => {
    for (const version of [0x00, 0x02, 0x7f, 0xff]) {
      const other = Uint8Array.from(sealed);
      other[0] = version;
      throwsEnvelope(() => open(other), "unsupported-version", /version 0x/);
      throwsEnvelope(() => open(Uint8Array.of(version)), "unsupported-version");
    }
  });

  it("random garbage and random corruptions only ever raise EnvelopeError", () => {
    let seed = 0x12345678;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const codes = new Set<string>();
    for (let round = 0; round < 400; round++) {
      let candidate: Uint8Array;
      if (round % 2 === 0) {
        candidate = Uint8Array.from({ length: next() % 200 }, () => next() & 0xff);
        if (round % 4 === 0 && candidate.length > 0) candidate[0] = 1;
      } else {
        candidate = Uint8Array.from(sealed.subarray(0, next() % (sealed.length + 1)));
        for (let k = 1 + (next() % 3); k > 0 && candidate.length > 0; k--) {
          candidate[next() % candidate.length] = next() & 0xff;
        }
      }
      try {
        const plaintext = open(candidate);
        // Only the untouched envelope may open (a corruption can rewrite a byte to itself).
        assert.deepEqual(plaintext, open(sealed));
      } catch (error) {
        assert.ok(error instanceof EnvelopeError, `not an EnvelopeError: ${String(error)}`);
        codes.add(error.code);
      }
    }
    assert.deepEqual([...codes].sort(), ["decrypt-failed", "truncated", "unsupported-version"]);
  });
});

// Curve25519 u-coordinates of small order (https://cr.yp.to/ecdh.html#validate): 0, 1, the two of order 8,
// p - 1, and the non-canonical p and p + 1; then each again with the top bit set, which x25519 ignores.
const LOW_ORDER_BASE = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];
const LOW_ORDER_POINTS: Hex[] = LOW_ORDER_BASE.flatMap((h): Hex[] => [
  `0x${h}`,
  `0x${h.slice(0, 62)}${(Number.parseInt(h.slice(62), 16) | 0x80).toString(16)}`,
]);

describe("endpoint envelope: keys, sizes and inputs that are refused", () => {
  it("a low-order recipient public key: bad-key", () => {
    for (const point of LOW_ORDER_POINTS) {
      throwsEnvelope(
        () => sealEndpoint(endpoint, { recipientPublicKey: point, context }),
        "bad-key",
        /low-order/,
      );
    }
  });

  it("keys of the wrong length or form: bad-key, without echoing them", () => {
    const secret = `0x${"ab".repeat(31)}`;
    for (const key of [
      new Uint8Array(31),
      new Uint8Array(33),
      new Uint8Array(0),
      secret,
      `${secret}abcd`,
      "0x",
    ]) {
      throwsEnvelope(() => sealEndpoint(endpoint, { recipientPublicKey: key as Hex, context }), "bad-key");
      throwsEnvelope(() => open(sealed, context, key as Hex), "bad-key", /32 bytes/);
    }
    for (const key of [`0x${"a".repeat(63)}`, "ab".repeat(32), `0x${"g".repeat(64)}`, 42, null, undefined]) {
      throwsEnvelope(() => sealEndpoint(endpoint, { recipientPublicKey: key as Hex, context }), "bad-key");
      throwsEnvelope(
        () => openEnvelope({ recipientPrivateKey: key as Hex, envelope: sealed, context }),
        "bad-key",
      );
    }
    try {
      open(sealed, context, secret as Hex);
    } catch (error) {
      assert.ok(error instanceof EnvelopeError);
      assert.ok(!error.message.includes("abab"), "the key was echoed in the message");
    }
    throwsEnvelope(
      () => sealEndpoint(endpoint, { recipientPublicKey, context, ephemeralPrivateKey: new Uint8Array(16) }),
      "bad-key",
    );
  });

  it("a plaintext above 4023 bytes (envelope above 4096): too-large", () => {
    throwsEnvelope(
      () =>
        sealEnvelope({
          recipientPublicKey,
          plaintext: new Uint8Array(MAX_ENDPOINT_PLAINTEXT_BYTES + 1),
          context,
        }),
      "too-large",
      /4097 bytes.*4096/,
    );
    throwsEnvelope(
      () => sealEndpoint({ ...endpoint, certificate: "A".repeat(5000) }, { recipientPublicKey, context }),
      "too-large",
    );
  });

  it("an opened plaintext that is not UTF-8 JSON: bad-json from openEndpoint (openEnvelope still works)", () => {
    for (const text of [new TextEncoder().encode("not json"), Uint8Array.of(0xff, 0xfe), new Uint8Array(0)]) {
      const envelope = sealEnvelope({ recipientPublicKey, plaintext: text, context });
      throwsEnvelope(
        () => openEndpoint({ recipientPrivateKey, envelope, context }),
        "bad-json",
        /not UTF-8 JSON/,
      );
      assert.deepEqual(open(envelope), text);
    }
  });

  it("an endpoint that is not JSON-serialisable: bad-json from sealEndpoint", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [{ port: 22n }, cyclic, null, undefined, () => 1]) {
      throwsEnvelope(() => sealEndpoint(bad as object, { recipientPublicKey, context }), "bad-json");
    }
  });

  it("a malformed context: bad-input, on seal and on open", () => {
    const bad: unknown[] = [
      null,
      { ...context, chainId: 0 },
      { ...context, chainId: -1 },
      { ...context, chainId: 1.5 },
      { ...context, chainId: "31337" },
      { ...context, chainId: 1n << 256n },
      { ...context, bookingId: -1n },
      { ...context, bookingId: 1n << 256n },
      { ...context, bookingId: "7" },
      { ...context, bookingId: undefined },
      { ...context, market: "0x1234" },
      { ...context, market: "5FbDB2315678afecb367f032d93F642f64180aa3" },
      { ...context, market: undefined },
    ];
    for (const ctx of bad) {
      const c = ctx as typeof context;
      throwsEnvelope(
        () => sealEndpoint(endpoint, { recipientPublicKey, context: c }),
        "bad-input",
        /context/,
      );
      throwsEnvelope(() => open(sealed, c), "bad-input", /context/);
    }
    // The largest values still encode.
    const max = { chainId: (1n << 256n) - 1n, market: context.market, bookingId: (1n << 256n) - 1n };
    assert.deepEqual(
      open(sealEnvelope({ recipientPublicKey, plaintext: Uint8Array.of(1), context: max }), max),
      Uint8Array.of(1),
    );
  });

  it("other malformed arguments: bad-input", () => {
    for (const envelope of ["0x0", "0xzz", "deadbeef", 42, null, undefined, [1, 2]]) {
      throwsEnvelope(() => open(envelope as Hex), "bad-input", /envelope must be/);
    }
    for (const nonce of [new Uint8Array(12), new Uint8Array(25), "0x00"]) {
      throwsEnvelope(
        () => sealEnvelope({ recipientPublicKey, plaintext: Uint8Array.of(1), context, nonce: nonce as Hex }),
        "bad-input",
        /nonce/,
      );
    }
    for (const plaintext of ["text", [1, 2], null]) {
      throwsEnvelope(
        () => sealEnvelope({ recipientPublicKey, plaintext: plaintext as unknown as Uint8Array, context }),
        "bad-input",
        /plaintext/,
      );
    }
    throwsEnvelope(() => sealEnvelope(null as never), "bad-input");
    throwsEnvelope(() => openEnvelope(undefined as never), "bad-input");
  });
});
