/**
 * The real SeedProvider (guest/ + ssh/): fresh host keys per VM, the CA's public key, the VM user and the
 * network, written by `buildSeed` as the guest's seed disk. Next to it, in the session's own seed directory
 * (removed whole at teardown), the agent keeps `agent-session.json`: the public facts it needs to hand out the
 * endpoint again after a restart (the host public keys, the borrower's public key, the window's start). No
 * secret goes there; the private host keys exist only inside seed.img, which `removeSeed` zero-fills.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { buildSeed, hostKeysFromPairs, removeSeed, type SeedNetwork } from "../guest/seed.ts";
import { generateHostKeys } from "../ssh/ca.ts";
import type { SeedProvider, SeedRequest, SeedResult } from "../vm/seed.ts";

export const SESSION_META_FILE = "agent-session.json";

export const SessionMeta = z.strictObject({
  v: z.literal(1),
  bookingId: z.string(),
  vmUser: z.string(),
  /** `type base64 comment` of each host key the guest's sshd presents. */
  hostPublicKeys: z.array(z.string()).min(1),
  /** The borrower's key without its comment: what the certificates are signed for. */
  borrowerKey: z.string(),
  /** Unix seconds: the window's start (its end lives in the VM journal, extensions included). */
  windowStart: z.number().int(),
});
export type SessionMeta = z.output<typeof SessionMeta>;

/** What the agent knows about a booking before the manager asks for its seed. */
export interface PendingSeed {
  borrowerKey: string;
  windowStart: number;
}

/**
 * Where a session's metadata lives: the manager puts each session in `<stateDir>/sessions/<booking>-<session>/`
 * and hands the seed provider `<that>/seed` (VmManagerOptions.stateDir, VM.md).
 */
export function sessionMetaPath(stateDir: string, bookingId: string, sessionId: string): string {
  return join(stateDir, "sessions", `${bookingId}-${sessionId}`, "seed", SESSION_META_FILE);
}

export async function readSessionMeta(path: string): Promise<SessionMeta | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return SessionMeta.parse(JSON.parse(text));
}

function seedNetwork(req: SeedRequest): SeedNetwork {
  const net = req.network;
  return net.mode === "user-restricted"
    ? { address: "10.0.2.15/24", gateway: "10.0.2.2" }
    : { address: `${net.guestIp}/${net.guestPrefix}`, gateway: net.hostIp, dns: net.dnsServer };
}

export class AgentSeedProvider implements SeedProvider {
  /** Filled by the agent just before it asks the manager to provision; read once by `create`. */
  readonly pending = new Map<string, PendingSeed>();

  constructor(private readonly caPublicKey: string) {}

  async create(req: SeedRequest): Promise<SeedResult> {
    const pending = this.pending.get(req.bookingId);
    if (!pending)
      throw new Error(`booking ${req.bookingId}: no borrower key was handed to the seed provider`);
    const hostKeys = generateHostKeys();
    const path = await buildSeed({
      dir: req.dir,
      vmUser: req.vmUser,
      caPublicKey: this.caPublicKey,
      hostKeys: hostKeysFromPairs(hostKeys),
      network: seedNetwork(req),
    });
    const meta: SessionMeta = {
      v: 1,
      bookingId: req.bookingId,
      vmUser: req.vmUser,
      hostPublicKeys: hostKeys.map((k) => k.publicKey),
      borrowerKey: pending.borrowerKey,
      windowStart: pending.windowStart,
    };
    await writeFile(join(req.dir, SESSION_META_FILE), `${JSON.stringify(meta)}\n`, { mode: 0o600 });
    return { path, hostKeyFingerprints: hostKeys.map((k) => k.fingerprint) };
  }

  remove(path: string): Promise<void> {
    return removeSeed(path);
  }
}
