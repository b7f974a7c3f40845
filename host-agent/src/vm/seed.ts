import type { NetworkSpec } from "./spec.ts";

export interface SeedRequest {
  /** A directory of the session's own; everything the seed needs goes under it, so teardown can sweep it. */
  dir: string;
  bookingId: string;
  vmUser: string;
  network: NetworkSpec;
  /** Unix seconds: the window the guest serves (for the certificate's validity, if the provider signs one). */
  window: { start: number; end: number };
}

export interface SeedResult {
  /** The seed disk (a NoCloud `cidata` image or the base image's equivalent), attached read-only. */
  path: string;
  /** SHA-256 fingerprints of the guest's host keys, for the endpoint envelope. Public. */
  hostKeyFingerprints: string[];
}

/**
 * Builds the disk that carries the VM user, the SSH CA's public key and the guest's host keys. The
 * guest/ and ssh/ parts provide the real one (`buildSeed`, `generateHostKeys`); the manager only needs
 * these two calls.
 */
export interface SeedProvider {
  create(req: SeedRequest): Promise<SeedResult>;
  /** Removes the seed; fine when it is already gone. */
  remove(path: string): Promise<void>;
}
