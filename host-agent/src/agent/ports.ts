import { randomInt } from "node:crypto";
import { createServer } from "node:net";

export interface PortRange {
  min: number;
  max: number;
}

/** The loopback ports QEMU forwards to the guests' port 22 (user-restricted networking). */
export const DEFAULT_PORT_RANGE: PortRange = { min: 22000, max: 22999 };

/** True when nothing listens on 127.0.0.1:port (we could bind it exclusively just now). */
export function isLoopbackPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Hands out forward ports: never one a live session holds (`inUse`), never one another provisioning in
 * this process has reserved, and only one that is free on the loopback right now. The scan starts at a
 * random place so that a port just given back is not handed out again at once. Between the check and
 * QEMU's bind another program could take the port; the domain then fails to start (reason 7).
 */
export class PortAllocator {
  readonly #reserved = new Set<number>();

  constructor(
    readonly range: PortRange = DEFAULT_PORT_RANGE,
    private readonly isFree: (port: number) => Promise<boolean> = isLoopbackPortFree,
  ) {
    if (
      !Number.isInteger(range.min) ||
      !Number.isInteger(range.max) ||
      range.min < 1024 ||
      range.max > 65535
    ) {
      throw new Error(`port range ${range.min}-${range.max} must lie within 1024-65535`);
    }
    if (range.max < range.min) throw new Error(`port range ${range.min}-${range.max} is empty`);
  }

  /** A free port, reserved until `release`; undefined when the range is exhausted. */
  async reserve(inUse: ReadonlySet<number>): Promise<number | undefined> {
    const size = this.range.max - this.range.min + 1;
    const offset = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = this.range.min + ((offset + i) % size);
      if (inUse.has(port) || this.#reserved.has(port)) continue;
      this.#reserved.add(port); // before the await: a concurrent reserve must not pick it too
      if (await this.isFree(port)) return port;
      this.#reserved.delete(port);
    }
    return undefined;
  }

  release(port: number): void {
    this.#reserved.delete(port);
  }
}
