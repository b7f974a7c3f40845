import { spawn } from "node:child_process";
import { childEnv, repoRoot } from "./paths.ts";

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  override name = "ExecError";
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs a command to completion, capturing its output; rejects with the output's tail on a non-zero exit. */
export function exec(
  command: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? repoRoot,
      env: childEnv(opts.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", (e) => reject(new ExecError(`${command}: ${e.message}`, stdout, stderr)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolvePromise({ stdout, stderr });
      const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
      const shown = [tail(stdout), tail(stderr)].filter(Boolean).join("\n");
      reject(new ExecError(`${[command, ...args].join(" ")} ${how}\n${shown}`, stdout, stderr));
    });
  });
}
