import { connect, type Socket } from "node:net";

export interface SshReadyOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** How long one probe may wait for the banner (default 1 s). */
  probeMs?: number;
  /** Pause between probes (default 100 ms). */
  pauseMs?: number;
  /** Probes allowed in flight at once (default 1). */
  concurrency?: number;
}

/** One probe: the first line the server sends, or null when it closes, errs or stays silent. */
function probe(host: string, port: number, ms: number, live: Set<Socket>): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    live.add(socket);
    let data = "";
    const done = (value: string | null) => {
      clearTimeout(timer);
      live.delete(socket);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), ms);
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
 * Resolves with the guest's `SSH-2.0-…` banner on host:port. Like `waitForSshBanner` (guest/banner.ts) it
 * waits for the banner, not a TCP connect (QEMU's user networking accepts forwarded connections before the
 * guest listens), but a probe gives up after `probeMs` (1 s) rather than 3 s: a connection made while the
 * guest's network was still coming up sits in TCP's SYN retransmission for seconds (seen: 2.5 s after sshd
 * was listening), and a fresh connection gets through at once. Probes are not overlapped by default: each
 * one that reaches sshd costs the guest a fork and re-exec of sshd, which under TCG slowed the borrower's
 * first login by seconds and, past sshd's MaxStartups, refused it.
 */
export function waitForSshReady(
  host: string,
  port: number,
  opts: SshReadyOptions,
): Promise<{ banner: string; ms: number; probes: number }> {
  const started = Date.now();
  const probeMs = opts.probeMs ?? 1000;
  const pauseMs = opts.pauseMs ?? 100;
  const concurrency = opts.concurrency ?? 1;
  const live = new Set<Socket>();
  let probes = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    let next: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, banner?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(next);
      clearTimeout(deadline);
      opts.signal?.removeEventListener("abort", onAbort);
      for (const socket of live) socket.destroy();
      if (err) reject(err);
      else resolve({ banner: banner as string, ms: Date.now() - started, probes });
    };
    const onAbort = () =>
      finish(
        new Error(`stopped waiting for SSH on ${host}:${port}: ${String(opts.signal?.reason ?? "aborted")}`),
      );
    const launch = () => {
      if (settled) return;
      while (live.size < concurrency) {
        probes++;
        probe(host, port, probeMs, live).then((line) => {
          if (line?.startsWith("SSH-")) finish(null, line);
          else if (!settled) {
            clearTimeout(next);
            next = setTimeout(launch, pauseMs);
          }
        });
      }
    };
    const deadline = setTimeout(
      () =>
        finish(new Error(`no SSH banner on ${host}:${port} within ${Math.round(opts.timeoutMs / 1000)} s`)),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener("abort", onAbort);
    launch();
  });
}
