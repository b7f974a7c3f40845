/**
 * discover(): what this machine can lend, from nvidia-smi and the kernel's own tables, merged into
 * one typed Inventory. Nothing is assumed: a GPU exists here only if sysfs lists it, and a machine
 * without a VFIO-ready GPU and usable KVM is a CPU-only development host, plainly.
 */
import { type CommandRunner, isNotFound, systemRunner } from "./exec.ts";
import { bindToVfioFix, groupSharedFix, iommuFix, iommuOffDetail, vfioModuleFix } from "./fixes.ts";
import { type NvidiaSmiGpu, queryNvidiaSmi } from "./nvidia-smi.ts";
import { className, isBridgeClass, isDisplayClass, pciSlot, VENDOR_AMD, VENDOR_NVIDIA } from "./pci.ts";
import { type Blocker, type Gpu, type GroupMember, type Inventory, InventorySchema } from "./schema.ts";
import {
  type CpuInfo,
  type IommuState,
  type KvmDeviceState,
  type PciDevice,
  probeKvmDevice,
  readCpu,
  readIommuGroupMembers,
  readIommuState,
  readKvmModules,
  readPciDevice,
  readRamMiB,
  readVfioState,
  scanPciDevices,
  type VfioState,
} from "./sysfs.ts";

export interface DiscoverOptions {
  /** Where sysfs is mounted (default /sys). */
  sysRoot?: string;
  /** Where procfs is mounted (default /proc). */
  procRoot?: string;
  /** Where device nodes live (default /dev). */
  devRoot?: string;
  /** Runs nvidia-smi and virsh (default: the real programs on PATH). */
  run?: CommandRunner;
  /** Looks at /dev/kvm (default: stat + open read-write). */
  probeKvm?: (devRoot: string) => Promise<KvmDeviceState>;
  /** libvirt connection to check (default qemu:///system). */
  libvirtUri?: string;
  now?: () => Date;
}

export const DEFAULT_LIBVIRT_URI = "qemu:///system";

const VFIO_DRIVER = "vfio-pci";

/** libvirt, asked with `virsh -c <uri> version`. */
export async function probeLibvirt(run: CommandRunner, uri: string): Promise<Inventory["libvirt"]> {
  let result: Awaited<ReturnType<CommandRunner>>;
  try {
    result = await run("virsh", ["-c", uri, "version"]);
  } catch (error) {
    if (isNotFound(error)) {
      return { available: false, uri, reason: "virsh not found: the libvirt client tools are not installed" };
    }
    return { available: false, uri, reason: `virsh could not run: ${(error as Error).message}` };
  }
  if (result.code !== 0) {
    const errors = `${result.stderr}\n${result.stdout}`
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "");
    return {
      available: false,
      uri,
      reason: `virsh cannot connect to ${uri}: ${errors.join("; ") || `exit status ${result.code}`}`,
    };
  }
  const library = /^Using library: libvirt (\S+)/m.exec(result.stdout)?.[1];
  const hypervisor = /^Running hypervisor: (.+)$/m.exec(result.stdout)?.[1]?.trim();
  return {
    available: true,
    uri,
    ...(library === undefined ? {} : { libraryVersion: library }),
    ...(hypervisor === undefined ? {} : { hypervisor }),
  };
}

/** Hardware-assisted KVM: /dev/kvm present, a character device, opens read-write, CPU has vmx/svm. */
export function kvmVerdict(device: KvmDeviceState, cpu: CpuInfo, modules: string[]): Inventory["kvm"] {
  const problems: string[] = [];
  if (!device.exists) problems.push(`${device.path} does not exist (no KVM module loaded)`);
  else if (!device.characterDevice) problems.push(`${device.path} is not a character device`);
  else if (!device.openable)
    problems.push(`${device.path} cannot be opened read-write: ${device.error ?? "denied"}`);
  if (cpu.virtualizationFlag === null) {
    problems.push(
      `the CPU flags in /proc/cpuinfo have neither vmx (Intel VT-x) nor svm (AMD-V): no hardware virtualization${cpu.underHypervisor ? " is exposed to this machine, which is itself a virtual machine (flag 'hypervisor')" : ""}`,
    );
    if (device.openable) {
      const served = modules.filter((m) => m !== "kvm");
      problems.push(
        `${device.path} opens, but what serves it${served.length > 0 ? ` (${served.join(", ")})` : ""} is not hardware-assisted KVM`,
      );
    }
  }
  const moduleList = modules.length > 0 ? modules.join(", ") : "none";
  const reason =
    problems.length === 0
      ? `${device.path} opens read-write, the CPU has ${cpu.virtualizationFlag}, KVM modules: ${moduleList}`
      : `KVM unusable: ${problems.join("; ")}`;
  return {
    usable: problems.length === 0,
    reason,
    device,
    cpuFlag: cpu.virtualizationFlag,
    modules,
  };
}

function memberOf(gpu: PciDevice, device: PciDevice): GroupMember {
  const isBridge = isBridgeClass(device.classCode);
  const role: GroupMember["role"] =
    device.address === gpu.address
      ? "gpu"
      : pciSlot(device.address) === pciSlot(gpu.address)
        ? "gpu-function"
        : isBridge
          ? "bridge"
          : "other-device";
  return {
    address: device.address,
    vendorId: device.vendorId,
    deviceId: device.deviceId,
    classCode: device.classCode,
    className: className(device.classCode),
    driver: device.driver,
    isBridge,
    role,
    driverOk: isBridge || device.driver === null || device.driver === VFIO_DRIVER,
  };
}

function describe(member: GroupMember): string {
  return `${member.address} (${member.className} ${member.vendorId}:${member.deviceId}, ${member.driver === null ? "no driver" : `driver ${member.driver}`})`;
}

function gpuBlockers(
  gpu: PciDevice,
  members: GroupMember[],
  iommu: IommuState,
  vfio: VfioState,
  cpu: CpuInfo,
): Blocker[] {
  if (gpu.vendorId !== VENDOR_NVIDIA) {
    return [
      {
        code: "vendor-unsupported",
        detail: `${gpu.address} is an AMD GPU (${gpu.vendorId}:${gpu.deviceId}): not supported by this agent yet, so it is not offered.`,
        fix: [],
      },
    ];
  }
  if (!iommu.enabled) {
    return [{ code: "iommu-off", detail: iommuOffDetail(iommu.cmdline), fix: iommuFix(cpu) }];
  }
  if (gpu.iommuGroup === null) {
    return [
      {
        code: "no-iommu-group",
        detail: `The IOMMU is on, but ${gpu.address} has no iommu_group: the kernel did not place it behind the IOMMU.`,
        fix: [
          `Look for why: dmesg | grep -i -e DMAR -e AMD-Vi -e iommu | grep -i ${gpu.address.slice(5)}`,
          "Update the system firmware; some boards leave slots out of the IOMMU tables.",
        ],
      },
    ];
  }
  const group = gpu.iommuGroup;
  const blockers: Blocker[] = [];
  const others = members.filter((m) => m.role === "other-device");
  if (others.length > 0) {
    blockers.push({
      code: "group-shared",
      detail: `IOMMU group ${group} also holds ${others.map(describe).join(", ")}: passing ${gpu.address} through would hand ${others.length === 1 ? "it" : "them"} to the guest too.`,
      fix: groupSharedFix(group),
    });
  }
  const wrong = members.filter((m) => (m.role === "gpu" || m.role === "gpu-function") && !m.driverOk);
  if (wrong.length > 0) {
    blockers.push({
      code: "driver-not-vfio",
      detail: `${wrong.map((m) => `${m.address} (${m.className}) is bound to ${m.driver}`).join(", ")}: every function of group ${group} must be on vfio-pci (or unbound) for passthrough.`,
      fix: bindToVfioFix(group, wrong, vfio.moduleLoaded),
    });
  }
  const onVfio = members.some((m) => m.driver === VFIO_DRIVER);
  if (!vfio.moduleLoaded && !vfio.driverRegistered && !onVfio && wrong.length === 0) {
    blockers.push({
      code: "vfio-missing",
      detail:
        "vfio-pci is not loaded (/sys/module/vfio_pci is absent), so nothing can claim the GPU for a guest.",
      fix: vfioModuleFix(),
    });
  }
  return blockers;
}

function unknownName(device: PciDevice): string {
  return `unknown ${device.vendorId === VENDOR_NVIDIA ? "NVIDIA" : "AMD"} device ${device.vendorId}:${device.deviceId}`;
}

function summarize(inv: Omit<Inventory, "summary">): string {
  const head = inv.canPassThrough ? "GPU passthrough host" : "CPU-only development host (no passthrough GPU)";
  const gpus =
    inv.gpus.length === 0
      ? "no GPU"
      : inv.gpus
          .map(
            (g) =>
              `${g.pciAddress} ${g.name}: ${g.vfioReady ? "ready" : `blocked (${g.blockers.map((b) => b.code).join(", ") || "KVM"})`}`,
          )
          .join("; ");
  return `${head}. GPUs: ${gpus}. IOMMU ${inv.iommu.enabled ? "on" : "off"}; KVM ${inv.kvm.usable ? "usable" : "unusable"}; libvirt ${inv.libvirt.available ? "available" : "unavailable"}.`;
}

/** Discovers this machine (or the fixture roots given) and returns a validated Inventory. */
export async function discover(options: DiscoverOptions = {}): Promise<Inventory> {
  const sysRoot = options.sysRoot ?? "/sys";
  const procRoot = options.procRoot ?? "/proc";
  const devRoot = options.devRoot ?? "/dev";
  const run = options.run ?? systemRunner();
  const uri = options.libvirtUri ?? DEFAULT_LIBVIRT_URI;
  const now = options.now ?? (() => new Date());

  const [devices, iommu, vfio, cpu, ramMiB, kvmDevice, kvmModules, smi, libvirt] = await Promise.all([
    scanPciDevices(sysRoot),
    readIommuState(sysRoot, procRoot),
    readVfioState(sysRoot),
    readCpu(procRoot),
    readRamMiB(procRoot),
    (options.probeKvm ?? probeKvmDevice)(devRoot),
    readKvmModules(sysRoot),
    queryNvidiaSmi(run),
    probeLibvirt(run, uri),
  ]);
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const warnings: string[] = [];

  const display = devices.filter((d) => isDisplayClass(d.classCode));
  const gpuDevices = display.filter((d) => d.vendorId === VENDOR_NVIDIA || d.vendorId === VENDOR_AMD);
  const otherDisplayDevices = display
    .filter((d) => !gpuDevices.includes(d))
    .map((d) => ({
      address: d.address,
      vendorId: d.vendorId,
      deviceId: d.deviceId,
      classCode: d.classCode,
      driver: d.driver,
    }));

  const smiByAddress = new Map<string, NvidiaSmiGpu>(smi.gpus.map((g) => [g.pciAddress, g]));
  for (const g of smi.gpus) {
    if (!byAddress.has(g.pciAddress)) {
      warnings.push(
        `nvidia-smi lists ${g.pciAddress} (${g.name ?? "unnamed"}), but sysfs has no such PCI device: not counted`,
      );
    }
  }

  const gpus: Gpu[] = [];
  for (const device of gpuDevices) {
    const memberAddresses =
      device.iommuGroup === null ? [] : await readIommuGroupMembers(sysRoot, device.iommuGroup);
    const members: GroupMember[] = [];
    for (const address of memberAddresses) {
      const member = byAddress.get(address) ?? (await readPciDevice(sysRoot, address));
      if (member === null) {
        warnings.push(`IOMMU group ${device.iommuGroup} lists ${address}, which sysfs cannot describe`);
        continue;
      }
      members.push(memberOf(device, member));
    }
    if (device.iommuGroup !== null && !members.some((m) => m.address === device.address)) {
      // The group's member list could not be read: judge at least the GPU itself, never nothing.
      warnings.push(`IOMMU group ${device.iommuGroup} does not list ${device.address} (unreadable group)`);
      members.push(memberOf(device, device));
    }
    const blockers = gpuBlockers(device, members, iommu, vfio, cpu);
    const fromSmi = smiByAddress.get(device.address);
    if (fromSmi?.deviceId && fromSmi.deviceId !== device.deviceId) {
      warnings.push(
        `nvidia-smi says ${device.address} is device ${fromSmi.deviceId}, sysfs says ${device.deviceId}: sysfs is used`,
      );
    }
    const name = fromSmi?.name ?? null;
    gpus.push({
      pciAddress: device.address,
      vendor: device.vendorId === VENDOR_NVIDIA ? "nvidia" : "amd",
      vendorId: device.vendorId,
      deviceId: device.deviceId,
      classCode: device.classCode,
      name: name ?? unknownName(device),
      nameSource: name === null ? "pci-id" : "nvidia-smi",
      ...(fromSmi?.uuid ? { uuid: fromSmi.uuid } : {}),
      ...(fromSmi?.vramMiB != null ? { vramMiB: fromSmi.vramMiB } : {}),
      ...(fromSmi?.driverVersion ? { nvidiaDriverVersion: fromSmi.driverVersion } : {}),
      ...(fromSmi?.virtualizationMode ? { virtualizationMode: fromSmi.virtualizationMode } : {}),
      driver: device.driver,
      iommuGroup: device.iommuGroup,
      groupMembers: members,
      supported: device.vendorId === VENDOR_NVIDIA,
      vfioReady: blockers.length === 0 && iommu.enabled && device.vendorId === VENDOR_NVIDIA,
      blockers,
    });
  }

  const kvm = kvmVerdict(kvmDevice, cpu, kvmModules);
  const canPassThrough = kvm.usable && gpus.some((g) => g.vfioReady);
  const draft: Omit<Inventory, "summary"> = {
    schemaVersion: 1,
    collectedAt: now().toISOString(),
    gpus,
    otherDisplayDevices,
    pciDeviceCount: devices.length,
    iommu: {
      enabled: iommu.enabled,
      groupCount: iommu.groupCount,
      units: iommu.units,
      evidence: iommu.evidence,
    },
    vfio,
    kvm,
    libvirt,
    nvidiaSmi: { status: smi.status, detail: smi.detail },
    cpu: { model: cpu.model, vendor: cpu.vendor, cores: cpu.cores, underHypervisor: cpu.underHypervisor },
    ramMiB,
    canPassThrough,
    mode: canPassThrough ? "gpu-passthrough" : "cpu-only-development",
    warnings,
  };
  return InventorySchema.parse({ ...draft, summary: summarize(draft) });
}
