import { execFile } from "node:child_process";

/** What a finished command produced. `code` is the exit status (0 = success). */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with arguments (no shell). Resolves with the exit status even when it is not 0.
 * Rejects with an error whose `code` is "ENOENT" when the program is not on PATH; other spawn
 * failures and time-outs reject too. Tests inject a runner that replays fixture output.
 */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

export interface RunnerOptions {
  /** Kill the command after this many milliseconds (default 20 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function systemRunner(options: RunnerOptions = {}): CommandRunner {
  const timeout = options.timeoutMs ?? 20_000;
  return (file, args) =>
    new Promise((resolve, reject) => {
      execFile(
        file,
        [...args],
        { timeout, maxBuffer: 32 * 1024 * 1024, encoding: "utf8", env: options.env ?? process.env },
        (error, stdout, stderr) => {
          if (error === null) {
            resolve({ code: 0, stdout, stderr });
            return;
          }
          const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
          if (typeof code === "number") {
            resolve({ code, stdout, stderr });
            return;
          }
          if ((error as { killed?: boolean }).killed) {
            reject(new Error(`${file} ${args.join(" ")}: no answer within ${timeout} ms`));
            return;
          }
          reject(error);
        },
      );
    });
}

export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === "ENOENT";
}
