import { readFile } from "node:fs/promises";

/** The virtio serial the seed disk carries (virtio-blk serials hold at most 20 bytes). */
export const SEED_SERIAL = "computehive-seed";

export interface InitScriptParams {
  /** `uname -r` of the guest kernel: where the modules lie. */
  kernelRelease: string;
  /** Module names, dependencies first. */
  modules: readonly string[];
}

/**
 * The guest's /init: init.sh (a plain shell file, so its `${...}` needs no escaping) with its placeholders
 * filled in. What it does and what it expects from the seed is described at the top of init.sh.
 */
export async function initScript({ kernelRelease, modules }: InitScriptParams): Promise<string> {
  for (const m of modules) {
    if (!/^[a-z0-9_]+$/.test(m)) throw new Error(`unexpected kernel module name ${m}`);
  }
  if (!/^[A-Za-z0-9._+-]+$/.test(kernelRelease))
    throw new Error(`unexpected kernel release ${kernelRelease}`);
  const template = await readFile(new URL("./init.sh", import.meta.url), "utf8");
  return template
    .replaceAll("@MODULES@", modules.join(" "))
    .replaceAll("@KERNEL_RELEASE@", kernelRelease)
    .replaceAll("@SEED_SERIAL@", SEED_SERIAL);
}

/** busybox acpid runs /etc/acpi/PWRF/00000080 on a power-button press (QEMU system_powerdown, virsh shutdown). */
export const ACPI_POWER_HANDLER = "#!/bin/sh\nexec /sbin/poweroff\n";
