import { chmod, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { CommandError, cLocaleEnv, run } from "../system/exec.ts";
import type { SessionKey } from "./key.ts";

export interface OverlayRequest {
  /** Where the overlay goes; must not exist. */
  path: string;
  /** The read-only qcow2 it sits on. */
  baseImage: string;
  /** The guest's disk size. */
  sizeGiB: number;
  key: SessionKey;
}

/** Makes and removes the per-session encrypted overlays. */
export interface OverlayStore {
  create(req: OverlayRequest): Promise<void>;
  /** Removes the overlay; fine when it is already gone. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

/**
 * LUKS-encrypted qcow2 overlays made by `qemu-img`. The passphrase reaches qemu-img as
 * `--object secret,id=sec0,file=/dev/stdin`: the command line names the pipe, the bytes go through it.
 * `qemu-img create` runs LUKS's PBKDF benchmark, so a create costs about 2.5 s of CPU whatever the
 * iter-time; `iter-time=100` keeps each QEMU start's unlock at ~0.1 s.
 */
export class QemuImgOverlayStore implements OverlayStore {
  constructor(private readonly qemuImg = "qemu-img") {}

  async create(req: OverlayRequest): Promise<void> {
    // QEMU 7.2 times its PBKDF benchmark with the thread's CPU clock and gives up when a round
    // measures 0 ms ("Unable to get accurate CPU usage"), which a fast CPU sometimes manages.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#create(req);
        break;
      } catch (e) {
        await rm(req.path, { force: true });
        if (attempt >= 5 || !(e instanceof CommandError) || !e.stderr.includes("accurate CPU usage")) throw e;
      }
    }
    await chmod(req.path, 0o600);
  }

  async #create(req: OverlayRequest): Promise<void> {
    await run(
      this.qemuImg,
      [
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "qcow2",
        "-b",
        req.baseImage,
        "--object",
        "secret,id=sec0,file=/dev/stdin",
        "-o",
        "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=100",
        req.path,
        `${req.sizeGiB}G`,
      ],
      { stdinFile: req.key.passphrase, timeoutMs: 120_000, env: cLocaleEnv() },
    );
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async exists(path: string): Promise<boolean> {
    return fileExists(path);
  }
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/**
 * Creates the empty qcow2 base image once (through a temporary name, so a crash leaves no half-made
 * base) and keeps it read-only (0444); every session writes only to its own overlay.
 */
export async function ensureBaseImage(path: string, sizeGiB: number, qemuImg = "qemu-img"): Promise<void> {
  if (!(await fileExists(path))) {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await rm(tmp, { force: true });
    await run(qemuImg, ["create", "-q", "-f", "qcow2", tmp, `${sizeGiB}G`], { env: cLocaleEnv() });
    await rename(tmp, path);
  }
  await chmod(path, 0o444);
}
