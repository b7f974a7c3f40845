// The overlay pool: overlays made ahead with their own in-memory keys, handed over by rename, refilled, emptied
// at start (keys of an earlier process are gone) and at close (keys discarded, files removed).
// Run: node --import tsx --test host-agent/test/overlay-pool.test.ts
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SessionKey } from "../src/vm/key.ts";
import type { OverlayRequest, OverlayStore } from "../src/vm/overlay.ts";
import { OverlayPool } from "../src/vm/overlay-pool.ts";

class FileOverlays implements OverlayStore {
  made = 0;
  readonly keys: SessionKey[] = [];
  async create(req: OverlayRequest) {
    this.made++;
    this.keys.push(req.key);
    await writeFile(req.path, `overlay of ${req.baseImage} ${req.sizeGiB} GiB`);
  }
  async remove(path: string) {
    await rm(path, { force: true });
  }
  async exists(path: string) {
    return existsSync(path);
  }
}

describe("overlay pool", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-pool-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("hands over a ready overlay with its own key, refills, and refuses another base or size", async () => {
    const store = new FileOverlays();
    const poolDir = join(dir, "pool");
    await mkdir(poolDir, { recursive: true });
    await writeFile(join(poolDir, "stale.qcow2"), "made by a process whose key is gone");
    const pool = new OverlayPool({ store, dir: poolDir, baseImage: "/base.qcow2", sizeGiB: 2, size: 1 });
    await pool.start();
    assert.equal(
      existsSync(join(poolDir, "stale.qcow2")),
      false,
      "overlays of an earlier process are removed",
    );
    await pool.whenFull();
    assert.equal(pool.readyCount, 1);

    assert.equal(await pool.take(join(dir, "x.qcow2"), "/other.qcow2", 2), null, "another base");
    assert.equal(await pool.take(join(dir, "x.qcow2"), "/base.qcow2", 3), null, "another size");
    const target = join(dir, "session.qcow2");
    const key = await pool.take(target, "/base.qcow2", 2);
    assert.ok(key, "a ready overlay");
    assert.equal(key, store.keys[0], "the key it was made with");
    assert.equal(key.discarded, false);
    assert.ok(existsSync(target), "moved to the session's path");

    await pool.whenFull();
    assert.equal(store.made, 2, "refilled after the take");
    const before = store.keys[1] as SessionKey;
    await pool.close();
    assert.equal(before.discarded, true, "close discards the keys of unused overlays");
    assert.deepEqual(await readdir(poolDir), [], "and removes their files");
    assert.equal(await pool.take(join(dir, "y.qcow2"), "/base.qcow2", 2), null, "nothing after close");
  });
});
