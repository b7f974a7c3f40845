/**
 * The doctor: tells a lender, step by step, what stands between this machine and GPU passthrough,
 * with the exact fix for each, and says plainly when it can only offer a CPU-only development VM.
 */

import { iommuFix, kvmFix, libvirtFix, vfioModuleFix } from "./fixes.ts";
import { type DiscoverOptions, discover } from "./inventory.ts";
import type { Gpu, Inventory } from "./schema.ts";
import type { CpuInfo } from "./sysfs.ts";

export type StepStatus = "ok" | "blocked" | "warn";

export interface DoctorStep {
  check: string;
  status: StepStatus;
  detail: string;
  /** Exact commands or settings, one per line; empty when there is nothing to do. */
  fix: string[];
}

export interface DoctorReport {
  steps: DoctorStep[];
  /** One plain line: what this host can lend. */
  verdict: string;
}

export const CPU_ONLY_VERDICT =
  "This host can only offer a CPU-only development VM (no passthrough GPU): its listing will say so.";

function cpuOf(inv: Inventory): CpuInfo {
  return {
    model: inv.cpu.model,
    vendor: inv.cpu.vendor,
    cores: inv.cpu.cores,
    virtualizationFlag: inv.kvm.cpuFlag,
    underHypervisor: inv.cpu.underHypervisor,
  };
}

function label(gpu: Gpu): string {
  return `GPU ${gpu.pciAddress} (${gpu.name})`;
}

function gpuSteps(gpu: Gpu): DoctorStep[] {
  if (!gpu.supported) {
    return [
      {
        check: label(gpu),
        status: "warn",
        detail: gpu.blockers.map((b) => b.detail).join(" "),
        fix: [],
      },
    ];
  }
  const steps: DoctorStep[] = [];
  const byCode = (code: string) => gpu.blockers.find((b) => b.code === code);
  const iommuOff = byCode("iommu-off");
  if (iommuOff !== undefined) {
    steps.push({
      check: `${label(gpu)}: IOMMU group`,
      status: "blocked",
      detail: `No IOMMU group: the IOMMU is off (see the IOMMU step), so this GPU cannot be isolated. It is bound to ${gpu.driver ?? "no driver"}.`,
      fix: [],
    });
    return steps;
  }
  const noGroup = byCode("no-iommu-group");
  const shared = byCode("group-shared");
  const members = gpu.groupMembers
    .map((m) => `${m.address} ${m.className} (${m.driver ?? "no driver"})`)
    .join(", ");
  if (noGroup !== undefined) {
    steps.push({
      check: `${label(gpu)}: IOMMU group`,
      status: "blocked",
      detail: noGroup.detail,
      fix: noGroup.fix,
    });
  } else if (shared !== undefined) {
    steps.push({
      check: `${label(gpu)}: IOMMU group ${gpu.iommuGroup}`,
      status: "blocked",
      detail: shared.detail,
      fix: shared.fix,
    });
  } else {
    steps.push({
      check: `${label(gpu)}: IOMMU group ${gpu.iommuGroup}`,
      status: "ok",
      detail: `The group holds only this GPU's own functions${gpu.groupMembers.some((m) => m.isBridge) ? " and PCI bridges (which may stay on their driver)" : ""}: ${members}.`,
      fix: [],
    });
  }
  if (noGroup === undefined) {
    const drivers = byCode("driver-not-vfio");
    if (drivers !== undefined) {
      steps.push({
        check: `${label(gpu)}: drivers`,
        status: "blocked",
        detail: drivers.detail,
        fix: drivers.fix,
      });
    } else {
      const own = gpu.groupMembers.filter((m) => m.role === "gpu" || m.role === "gpu-function");
      steps.push({
        check: `${label(gpu)}: drivers`,
        status: "ok",
        detail: `Every function of the card is on vfio-pci or unbound: ${own.map((m) => `${m.address} (${m.driver ?? "no driver"})`).join(", ")}.`,
        fix: [],
      });
    }
  }
  if (gpu.virtualizationMode === "Pass-Through") {
    steps.push({
      check: `${label(gpu)}: host`,
      status: "warn",
      detail:
        "nvidia-smi reports virtualization mode Pass-Through: this machine is itself a guest that was given the GPU. Lending it again needs nested virtualization and a virtual IOMMU.",
      fix: [],
    });
  }
  return steps;
}

/** Builds the ordered steps and the verdict from an inventory. Pure: no I/O. */
export function doctor(inv: Inventory): DoctorReport {
  const steps: DoctorStep[] = [];
  const cpu = cpuOf(inv);
  const nvidia = inv.gpus.filter((g) => g.vendor === "nvidia");

  steps.push({
    check: "KVM (hardware virtualization)",
    status: inv.kvm.usable ? "ok" : "blocked",
    detail: inv.kvm.reason,
    fix: inv.kvm.usable ? [] : kvmFix(inv.kvm.device, cpu),
  });

  steps.push({
    check: "IOMMU",
    status: inv.iommu.enabled ? "ok" : "blocked",
    detail: `${inv.iommu.enabled ? "On" : "Off"}: ${inv.iommu.evidence.join("; ")}.`,
    fix: inv.iommu.enabled ? [] : iommuFix(cpu),
  });

  const vfioPresent = inv.vfio.moduleLoaded || inv.vfio.driverRegistered;
  steps.push({
    check: "vfio-pci driver",
    status: vfioPresent ? "ok" : nvidia.length > 0 ? "blocked" : "warn",
    detail: vfioPresent
      ? `Loaded (${[inv.vfio.moduleLoaded ? "/sys/module/vfio_pci" : null, inv.vfio.driverRegistered ? "/sys/bus/pci/drivers/vfio-pci" : null].filter(Boolean).join(", ")}).`
      : `Not loaded (/sys/module/vfio_pci is absent)${nvidia.length > 0 ? "." : "; it is only needed once there is a GPU to pass through."}`,
    fix: vfioPresent ? [] : vfioModuleFix(),
  });

  const others =
    inv.otherDisplayDevices.length > 0
      ? ` Display devices that are not GPUs this agent lends: ${inv.otherDisplayDevices.map((d) => `${d.address} (${d.vendorId}:${d.deviceId}, ${d.driver ?? "no driver"})`).join(", ")}.`
      : "";
  steps.push({
    check: "NVIDIA GPU",
    status: nvidia.length > 0 ? "ok" : "blocked",
    detail:
      nvidia.length > 0
        ? `Found ${nvidia.length}: ${nvidia.map((g) => `${g.pciAddress} ${g.name}${g.vramMiB === undefined ? "" : ` (${g.vramMiB} MiB)`}`).join(", ")}.${others}`
        : `No NVIDIA GPU on this machine's PCI bus (${inv.pciDeviceCount} PCI devices in /sys/bus/pci/devices, none of vendor 10de with a display class).${others}`,
    fix:
      nvidia.length > 0
        ? []
        : ["Nothing to fix here: without an NVIDIA GPU this host lends a CPU-only development VM."],
  });

  for (const gpu of inv.gpus) steps.push(...gpuSteps(gpu));

  const allOnVfio = nvidia.length > 0 && nvidia.every((g) => g.driver === "vfio-pci" || g.driver === null);
  const smiQuiet = inv.nvidiaSmi.status !== "ok" && inv.nvidiaSmi.status !== "failed";
  steps.push({
    check: "nvidia-smi",
    status:
      inv.nvidiaSmi.status === "failed"
        ? "warn"
        : inv.nvidiaSmi.status === "ok" || nvidia.length === 0 || allOnVfio
          ? "ok"
          : "warn",
    detail:
      smiQuiet && nvidia.length === 0
        ? `${inv.nvidiaSmi.detail}; none is needed without an NVIDIA GPU.`
        : smiQuiet && allOnVfio
          ? `${inv.nvidiaSmi.detail}; expected on a passthrough host (GPUs on vfio-pci are invisible to the host's driver), so GPUs are named by PCI id.`
          : smiQuiet
            ? `${inv.nvidiaSmi.detail}; GPUs are named by PCI id only, without memory size or UUID.`
            : `${inv.nvidiaSmi.detail}.`,
    fix: [],
  });

  steps.push({
    check: "libvirt",
    status: inv.libvirt.available ? "ok" : "blocked",
    detail: inv.libvirt.available
      ? `${inv.libvirt.uri} answers: libvirt ${inv.libvirt.libraryVersion ?? "(version not printed)"}${inv.libvirt.hypervisor === undefined ? "" : `, ${inv.libvirt.hypervisor}`}.`
      : `${inv.libvirt.reason ?? "unavailable"}. No VM of either kind can start until libvirt runs.`,
    fix: inv.libvirt.available ? [] : libvirtFix(/not found/.test(inv.libvirt.reason ?? ""), inv.libvirt.uri),
  });

  return { steps, verdict: verdictOf(inv) };
}

function verdictOf(inv: Inventory): string {
  const libvirtNote = inv.libvirt.available ? "" : " libvirt must be running before any VM can start.";
  if (inv.canPassThrough) {
    const ready = inv.gpus.filter((g) => g.vfioReady);
    const notReady = inv.gpus.filter((g) => !g.vfioReady);
    return `This host can offer GPU passthrough: ${ready.length} GPU${ready.length === 1 ? "" : "s"} ready (${ready.map((g) => `${g.pciAddress} ${g.name}`).join(", ")}).${notReady.length > 0 ? ` Not ready: ${notReady.map((g) => g.pciAddress).join(", ")} (see the blocked steps).` : ""}${libvirtNote}`;
  }
  const why: string[] = [];
  const nvidia = inv.gpus.filter((g) => g.vendor === "nvidia");
  if (nvidia.length === 0) why.push("no NVIDIA GPU");
  else if (!nvidia.some((g) => g.vfioReady)) why.push("no GPU is ready for VFIO");
  if (!inv.iommu.enabled) why.push("IOMMU off");
  if (!inv.kvm.usable) why.push("KVM unusable");
  const tcg = inv.kvm.usable ? "" : " KVM is unusable here, so that VM cannot be hardware-accelerated.";
  return `${CPU_ONLY_VERDICT} Why: ${why.join("; ")}.${tcg}${libvirtNote}`;
}

const MARK: Record<StepStatus, string> = { ok: "[ok]     ", warn: "[warn]   ", blocked: "[BLOCKED]" };

/** Renders the doctor's report for a terminal. */
export function formatDoctor(report: DoctorReport): string {
  const lines = ["ComputeHive host doctor", ""];
  report.steps.forEach((step, i) => {
    const n = `${i + 1}.`.padStart(3);
    lines.push(`${n} ${MARK[step.status]} ${step.check}`);
    const indent = " ".repeat(n.length + 11);
    lines.push(`${indent}${step.detail}`);
    step.fix.forEach((line, j) => {
      lines.push(`${indent}${j === 0 ? "fix: " : "     "}${line}`);
    });
  });
  lines.push("", `Verdict: ${report.verdict}`);
  return `${lines.join("\n")}\n`;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `usage: computehive-host-agent doctor [--json] [--sys=DIR] [--proc=DIR] [--dev=DIR] [--libvirt-uri=URI]
  --json             print { inventory, steps, verdict } as JSON
  --sys, --proc, --dev  read another sysfs/procfs/dev root (default /sys, /proc, /dev)
  --libvirt-uri      libvirt connection to check (default qemu:///system)
exit status: 0 nothing blocked, 1 something blocked (the steps say what), 2 usage or internal error
`;

/**
 * `doctor` as a command: argv is what follows the subcommand. Returns the exit status.
 * `extra` lets callers (and tests) inject the runner or roots on top of the flags.
 */
export async function runDoctorCli(
  argv: readonly string[],
  io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
  extra: DiscoverOptions = {},
): Promise<number> {
  const options: DiscoverOptions = { ...extra };
  let json = false;
  for (const arg of argv) {
    const [flag, value] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag === "--json" && value === undefined) json = true;
    else if (flag === "--help" || flag === "-h") {
      io.stdout(USAGE);
      return 0;
    } else if (flag === "--sys" && value) options.sysRoot = value;
    else if (flag === "--proc" && value) options.procRoot = value;
    else if (flag === "--dev" && value) options.devRoot = value;
    else if (flag === "--libvirt-uri" && value) options.libvirtUri = value;
    else {
      io.stderr(`doctor: unknown argument ${arg}\n${USAGE}`);
      return 2;
    }
  }
  let inventory: Inventory;
  try {
    inventory = await discover(options);
  } catch (error) {
    io.stderr(`doctor: could not take the inventory: ${(error as Error).message}\n`);
    return 2;
  }
  const report = doctor(inventory);
  if (json)
    io.stdout(`${JSON.stringify({ inventory, steps: report.steps, verdict: report.verdict }, null, 2)}\n`);
  else io.stdout(formatDoctor(report));
  return report.steps.some((s) => s.status === "blocked") ? 1 : 0;
}
