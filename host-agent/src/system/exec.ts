import { execFile, spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";

/** A line of progress for a person; the agent passes its pino logger's `info`, tests pass a console writer. */
export type Log = (msg: string) => void;

/** The default progress printer: one line on stderr, so stdout stays machine-readable. */
export const stderrLog: Log = (msg) => process.stderr.write(`${msg}\n`);

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const detail = stderr.trim().split("\n").slice(-5).join("\n");
    super(`${command} failed (${code ?? "signal"})${detail ? `: ${detail}` : ""}`);
    this.name = "CommandError";
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes for stdin. */
  input?: string | Buffer;
  /**
   * Bytes for the program to read as the file `/dev/stdin` (secrets: never a file, never an argument). Node hands
   * a child a socketpair, which open("/dev/stdin") refuses (ENXIO), so the program runs behind `cat |` and reads
   * a real pipe: memory → socket → cat → pipe.
   */
  stdinFile?: Buffer;
  timeoutMs?: number;
}

/** The environment with the C locale, for programs whose messages are matched (qemu-img, virsh). */
export const cLocaleEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: "C" });

/** Runs a program (no shell) and returns its stdout; throws CommandError with the tail of stderr. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  // `$0 "$@"` re-quotes nothing: the arguments reach exec exactly as given, the script is a constant.
  const [prog, argv] = opts.stdinFile
    ? ["/bin/sh", ["-c", 'cat | exec "$0" "$@"', file, ...args]]
    : [file, args];
  const input = opts.stdinFile ?? opts.input;
  return new Promise((resolve, reject) => {
    const child = execFile(
      prog,
      argv,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 0,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CommandError([file, ...args].join(" "), code, stdout, stderr));
        } else {
          resolve(stdout);
        }
      },
    );
    // A child that exits early makes the write fail with EPIPE; its exit status says what went wrong.
    child.stdin?.on("error", () => {});
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs a program and returns its stdout as bytes (for archives). */
export function runBinary(file: string, args: readonly string[], opts: RunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new CommandError([file, ...args].join(" "), code, "", Buffer.concat(err).toString("utf8")));
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** True when `file` runs and exits 0 (used to probe for tools). */
export async function succeeds(
  file: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<boolean> {
  try {
    await run(file, args, opts);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a program on PATH (plus the sbin directories a non-login root shell may lack), or null. */
export async function which(program: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = `${dir}/${program}`;
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
