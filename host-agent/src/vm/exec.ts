import { spawn } from "node:child_process";

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split("\n").slice(-5).join("\n");
    super(`${command} failed (${exitCode ?? "signal"})${tail ? `: ${tail}` : ""}`);
    this.name = "CommandError";
  }
}

export interface ExecOptions {
  /**
   * Bytes for the program to read as the file `/dev/stdin`. Node hands a child a socketpair, which
   * open("/dev/stdin") refuses (ENXIO), so the program runs behind `cat |` and reads a real pipe.
   * The bytes travel memory → socket → cat → pipe: never a file, never an argument.
   */
  stdinFile?: Buffer;
  timeoutMs?: number;
}

/** Runs a program without a shell of ours around its arguments; resolves with stdout. */
export function execProgram(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const command = [file, ...args].join(" ");
  // `$0 "$@"` re-quotes nothing: the arguments reach exec exactly as given, the script is a constant.
  const [prog, argv] = opts.stdinFile
    ? ["/bin/sh", ["-c", 'cat | exec "$0" "$@"', file, ...args]]
    : [file, [...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(prog, argv, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new CommandError(command, null, e.message));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new CommandError(command, code, stderr));
    });
    // A child that exits early makes the write fail with EPIPE; its exit status says what went wrong.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.stdinFile ?? undefined);
  });
}
