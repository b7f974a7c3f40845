import { connect } from "node:net";

export interface WaitForSshBannerOptions {
  timeoutMs?: number;
  /** Stop early, e.g. when the VM's process exits. */
  signal?: AbortSignal;
}

/** One attempt: the first line the server sends, or null when it closes or stays silent. */
function readBanner(host: string, port: number, attemptMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = "";
    const done = (value: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), attemptMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      data += chunk;
      const end = data.indexOf("\n");
      if (end >= 0 || data.length > 255) done(data.slice(0, end >= 0 ? end : 255).trimEnd());
    });
    socket.on("error", () => done(null));
    socket.on("close", () => done(null));
  });
}

/**
 * Waits until an SSH server answers on host:port with its `SSH-2.0-…` identification line. A TCP connect
 * alone proves nothing: QEMU's user-mode networking (and libvirt's) accepts host-forwarded connections
 * before the guest listens, then closes them.
 */
export async function waitForSshBanner(
  host: string,
  port: number,
  opts: WaitForSshBannerOptions = {},
): Promise<{ banner: string; ms: number }> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (opts.signal?.aborted)
      throw new Error(`stopped waiting for SSH on ${host}:${port}: ${opts.signal.reason}`);
    const banner = await readBanner(host, port, Math.min(3000, Math.max(1, deadline - Date.now())));
    if (banner?.startsWith("SSH-")) return { banner, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no SSH banner on ${host}:${port} within ${Math.round((deadline - started) / 1000)} s`);
}
