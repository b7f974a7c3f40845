// The IPFS pinners. The embedded Helia node: a report pins as its rawCid, reads back, survives a reopen with its
// pin, a block corrupted on disk is caught on read (and repaired by pinning the document again), an unknown CID
// fails at once, and no socket is ever opened. The Kubo pinner: only its error paths (a closed port, a port that
// never answers), because Kubo cannot be installed on a machine without internet; pinning through a real Kubo
// node is not tested here.
// Run: node --import tsx --test oracle-node/test/ipfs.test.ts
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { rawCid } from "@computehive/sdk";
import { NextToLast } from "blockstore-fs/sharding";
import { CID } from "multiformats/cid";
import {
  createKuboPinner,
  type HeliaPinner,
  IpfsError,
  IpfsIntegrityError,
  IpfsNotFoundError,
  IpfsUnreachableError,
  MAX_BLOCK_BYTES,
  openPinner,
} from "../src/ipfs.ts";

const report = new TextEncoder().encode(
  JSON.stringify({ bookingId: "42", host: "0xabc", startedAt: 1_700_000_000, gpuSeconds: 3600, exitCode: 0 }),
);

async function openHelia(dir: string): Promise<HeliaPinner> {
  const pinner = await openPinner({ dir });
  assert.equal(pinner.kind, "helia");
  return pinner as HeliaPinner;
}

describe("Helia pinner (embedded, no network)", () => {
  let dir: string;
  let sockets = 0;
  const onSocket = () => {
    sockets++;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-ipfs-"));
    subscribe("net.client.socket", onSocket);
  });
  after(async () => {
    unsubscribe("net.client.socket", onSocket);
    await rm(dir, { recursive: true, force: true });
  });

  it("pins a report as its rawCid (CIDv1, raw, sha2-256) and reads the same bytes back", async () => {
    const pinner = await openHelia(dir);
    try {
      const cid = await pinner.pin(report);
      assert.equal(cid, rawCid(report));
      assert.match(cid, /^bafkrei[a-z2-7]{52}$/);
      assert.ok(Buffer.byteLength(cid) <= 128, "fits the on-chain CID field");
      assert.equal(await pinner.pin(report), cid, "pinning the same bytes again gives the same CID");
      assert.deepEqual(await pinner.get(cid), report);
      assert.equal(await pinner.helia.pins.isPinned(CID.parse(cid)), true);
      const other = new TextEncoder().encode('{"bookingId":"43"}');
      assert.equal(await pinner.pin(other), rawCid(other));
    } finally {
      await pinner.close();
    }
    await assert.rejects(pinner.get(rawCid(report)), /closed/);
  });

  it("keeps the bytes and the pin across a close and a reopen of the same directory", async () => {
    const pinner = await openHelia(dir);
    try {
      const cid = rawCid(report);
      assert.deepEqual(await pinner.get(cid), report);
      assert.equal(await pinner.helia.pins.isPinned(CID.parse(cid)), true);
      const listed: string[] = [];
      for await (const pin of pinner.helia.pins.ls()) listed.push(pin.cid.toString());
      assert.ok(listed.includes(cid), `pins listed: ${listed.join(", ")}`);
    } finally {
      await pinner.close();
    }
  });

  it("catches a block corrupted on disk, and pinning the document again repairs it", async () => {
    const cid = rawCid(report);
    const { dir: shard, file } = new NextToLast().encode(CID.parse(cid));
    const path = join(dir, "blocks", shard, file);
    const tampered = Buffer.from(await readFile(path));
    assert.deepEqual(new Uint8Array(tampered), report, "the block file holds the report as is");
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    await writeFile(path, tampered);

    const pinner = await openHelia(dir);
    try {
      await assert.rejects(pinner.get(cid), (err: Error) => {
        assert.ok(err instanceof IpfsIntegrityError, String(err));
        assert.match(err.message, new RegExp(`^content of ${cid} from the Helia store at .* is corrupt`));
        return true;
      });
      assert.equal(await pinner.pin(report), cid);
      assert.deepEqual(await pinner.get(cid), report);
    } finally {
      await pinner.close();
    }
  });

  it("says at once that an unknown CID is not found, and refuses what is not a CID or too big", async () => {
    const pinner = await openHelia(dir);
    try {
      const unknown = rawCid("never pinned");
      const started = performance.now();
      await assert.rejects(pinner.get(unknown, { signal: AbortSignal.timeout(5_000) }), (err: Error) => {
        assert.ok(err instanceof IpfsNotFoundError, String(err));
        assert.match(err.message, /not found in the Helia store/);
        return true;
      });
      assert.ok(performance.now() - started < 1_000, "no network search");
      await assert.rejects(
        pinner.get("not-a-cid"),
        (err: Error) => err instanceof IpfsError && /not a CID/.test(err.message),
      );
      await assert.rejects(pinner.pin(new Uint8Array(MAX_BLOCK_BYTES + 1)), /holds at most 1048576 bytes/);
    } finally {
      await pinner.close();
    }
  });

  it("opened no socket", () => {
    assert.equal(sockets, 0);
  });
});

describe("Kubo pinner (error paths only: no Kubo node can run here)", () => {
  let dir: string;
  let closedPort: number;
  let silent: Server;
  let silentPort: number;
  const held: Socket[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-ipfs-kubo-"));
    closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    // Accepts connections and never answers: the time limit must end the request.
    silent = createServer((socket) => held.push(socket));
    silentPort = await new Promise<number>((resolve) => {
      silent.listen(0, "127.0.0.1", () => resolve((silent.address() as { port: number }).port));
    });
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("fails to open on a closed port with the unreachable error", async () => {
    const url = `http://127.0.0.1:${closedPort}`;
    await assert.rejects(openPinner({ ipfsApiUrl: url, dir }), (err: Error) => {
      assert.ok(err instanceof IpfsUnreachableError, String(err));
      assert.match(err.message, new RegExp(`^IPFS API at ${url} unreachable: .*ECONNREFUSED`));
      return true;
    });
  });

  it("gives the same error from pin and get, and masks a password in the URL", async () => {
    const kubo = await createKuboPinner({ url: `http://user:secret@127.0.0.1:${closedPort}` });
    try {
      for (const call of [() => kubo.pin(report), () => kubo.get(rawCid(report))]) {
        await assert.rejects(call(), (err: Error) => {
          assert.ok(err instanceof IpfsUnreachableError, String(err));
          assert.match(
            err.message,
            new RegExp(`^IPFS API at http://\\*\\*\\*@127.0.0.1:${closedPort} unreachable: `),
          );
          assert.doesNotMatch(err.message, /secret/);
          return true;
        });
      }
    } finally {
      await kubo.close();
    }
  });

  it("gives up on an API that never answers after its time limit", async () => {
    const url = `http://127.0.0.1:${silentPort}`;
    const started = performance.now();
    await assert.rejects(openPinner({ ipfsApiUrl: url, dir, timeoutMs: 300 }), (err: Error) => {
      assert.ok(err instanceof IpfsUnreachableError, String(err));
      assert.match(
        err.message,
        new RegExp(`^IPFS API at ${url} unreachable: no answer to version in 300 ms`),
      );
      return true;
    });
    assert.ok(performance.now() - started < 3_000);
  });
});
