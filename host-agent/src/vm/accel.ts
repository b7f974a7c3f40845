import { access, constants, readFile } from "node:fs/promises";

/**
 * `kvm` when the CPU offers hardware virtualization (vmx or svm) and /dev/kvm is there to use it,
 * `tcg` otherwise. Both are needed: containers and nested guests often show a /dev/kvm whose CPU has
 * no vmx/svm, and KVM then hangs or asserts.
 */
export async function detectAccel(paths: { cpuinfo?: string; kvm?: string } = {}): Promise<"kvm" | "tcg"> {
  try {
    await access(paths.kvm ?? "/dev/kvm", constants.R_OK | constants.W_OK);
    const cpuinfo = await readFile(paths.cpuinfo ?? "/proc/cpuinfo", "utf8");
    const flags = cpuinfo.split("\n").find((l) => l.startsWith("flags")) ?? "";
    return /\b(vmx|svm)\b/.test(flags) ? "kvm" : "tcg";
  } catch {
    return "tcg";
  }
}
