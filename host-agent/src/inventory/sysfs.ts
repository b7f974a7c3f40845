/**
 * The kernel's own view of the machine: sysfs (`/sys`) and procfs (`/proc`), read from injectable
 * roots so tests can point them at fixture trees shaped like real ones (the `driver` and
 * `iommu_group` entries are symlinks there too). Nothing here writes anything.
 */
import { constants } from "node:fs";
import { open, readdir, readFile, readlink, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { bareHex } from "./pci.ts";

export interface PciDevice {
  /** sysfs form, e.g. `0000:3b:00.0`. */
  address: string;
  vendorId: string;
  deviceId: string;
  /** Bare hex class code, e.g. `030200` (3D controller), `040300` (audio). */
  classCode: string;
  subsystemVendorId: string | null;
  subsystemDeviceId: string | null;
  /** Bound driver (basename of the `driver` symlink), null when unbound. */
  driver: string | null;
  /** IOMMU group number (basename of the `iommu_group` symlink), null without an IOMMU. */
  iommuGroup: number | null;
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return null;
  }
}

async function linkName(path: string): Promise<string | null> {
  try {
    return basename(await readlink(path));
  } catch {
    return null;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** One device from `/sys/bus/pci/devices/<address>`, or null when it is not there. */
export async function readPciDevice(sysRoot: string, address: string): Promise<PciDevice | null> {
  const dir = join(sysRoot, "bus", "pci", "devices", address);
  const [vendor, device, cls, subVendor, subDevice, driver, group] = await Promise.all([
    readText(join(dir, "vendor")),
    readText(join(dir, "device")),
    readText(join(dir, "class")),
    readText(join(dir, "subsystem_vendor")),
    readText(join(dir, "subsystem_device")),
    linkName(join(dir, "driver")),
    linkName(join(dir, "iommu_group")),
  ]);
  if (vendor === null || device === null || cls === null) return null;
  const groupNumber = group === null ? Number.NaN : Number(group);
  return {
    address,
    vendorId: bareHex(vendor),
    deviceId: bareHex(device),
    classCode: bareHex(cls),
    subsystemVendorId: subVendor === null ? null : bareHex(subVendor),
    subsystemDeviceId: subDevice === null ? null : bareHex(subDevice),
    driver,
    iommuGroup: Number.isInteger(groupNumber) ? groupNumber : null,
  };
}

/** Every PCI device the kernel lists, in address order. */
export async function scanPciDevices(sysRoot = "/sys"): Promise<PciDevice[]> {
  const addresses = await listDir(join(sysRoot, "bus", "pci", "devices"));
  const devices = await Promise.all(addresses.map((address) => readPciDevice(sysRoot, address)));
  return devices.filter((d): d is PciDevice => d !== null);
}

/** Members (addresses) of one IOMMU group, from `/sys/kernel/iommu_groups/<n>/devices`. */
export async function readIommuGroupMembers(sysRoot: string, group: number): Promise<string[]> {
  return listDir(join(sysRoot, "kernel", "iommu_groups", String(group), "devices"));
}

export interface KernelCmdline {
  raw: string;
  /** Value of `intel_iommu=`, `amd_iommu=`, `iommu=` when present. */
  intelIommu: string | null;
  amdIommu: string | null;
  iommu: string | null;
  /** `vfio-pci.ids=` (ids vfio-pci claims at boot), when present. */
  vfioPciIds: string | null;
}

export function parseCmdline(raw: string): KernelCmdline {
  const value = (key: string): string | null => {
    let found: string | null = null;
    for (const token of raw.split(/\s+/)) {
      if (token === "--") break; // what follows belongs to init, not the kernel
      if (token.startsWith(`${key}=`)) found = token.slice(key.length + 1); // the last one wins, as in the kernel
    }
    return found;
  };
  return {
    raw,
    intelIommu: value("intel_iommu"),
    amdIommu: value("amd_iommu"),
    iommu: value("iommu"),
    vfioPciIds: value("vfio-pci.ids"),
  };
}

export interface IommuState {
  /** True when the kernel has formed IOMMU groups: the fact VFIO depends on. */
  enabled: boolean;
  groupCount: number;
  /** Hardware IOMMU units the kernel registered (`/sys/class/iommu`: dmar0 on Intel, ivhd0 on AMD). */
  units: string[];
  cmdline: KernelCmdline;
  /** What the verdict rests on, in words. */
  evidence: string[];
}

export async function readIommuState(sysRoot = "/sys", procRoot = "/proc"): Promise<IommuState> {
  const [groups, units, rawCmdline] = await Promise.all([
    listDir(join(sysRoot, "kernel", "iommu_groups")),
    listDir(join(sysRoot, "class", "iommu")),
    readText(join(procRoot, "cmdline")),
  ]);
  const cmdline = parseCmdline(rawCmdline ?? "");
  const evidence: string[] = [];
  evidence.push(
    units.length > 0
      ? `/sys/class/iommu lists ${units.join(", ")}`
      : "/sys/class/iommu is empty: the kernel registered no IOMMU",
  );
  evidence.push(
    groups.length > 0
      ? `/sys/kernel/iommu_groups holds ${groups.length} group${groups.length === 1 ? "" : "s"}`
      : "/sys/kernel/iommu_groups holds no groups",
  );
  const params = [
    cmdline.intelIommu === null ? null : `intel_iommu=${cmdline.intelIommu}`,
    cmdline.amdIommu === null ? null : `amd_iommu=${cmdline.amdIommu}`,
    cmdline.iommu === null ? null : `iommu=${cmdline.iommu}`,
  ].filter((p): p is string => p !== null);
  evidence.push(
    rawCmdline === null
      ? "kernel command line unreadable"
      : params.length > 0
        ? `kernel command line has ${params.join(" ")}`
        : "kernel command line sets no IOMMU option",
  );
  return { enabled: groups.length > 0, groupCount: groups.length, units, cmdline, evidence };
}

export interface VfioState {
  /** `/sys/module/vfio_pci` exists: vfio-pci is loaded or built in. */
  moduleLoaded: boolean;
  /** `/sys/bus/pci/drivers/vfio-pci` exists: the driver is registered and can bind devices. */
  driverRegistered: boolean;
}

export async function readVfioState(sysRoot = "/sys"): Promise<VfioState> {
  const [moduleLoaded, driverRegistered] = await Promise.all([
    exists(join(sysRoot, "module", "vfio_pci")),
    exists(join(sysRoot, "bus", "pci", "drivers", "vfio-pci")),
  ]);
  return { moduleLoaded, driverRegistered };
}

export interface CpuInfo {
  model: string;
  vendor: "intel" | "amd" | "other";
  /** Logical CPUs: the `processor` entries of /proc/cpuinfo. */
  cores: number;
  /** The hardware-virtualization flag the CPU exposes: vmx (Intel VT-x), svm (AMD-V), or none. */
  virtualizationFlag: "vmx" | "svm" | null;
  /** The `hypervisor` flag: this machine is itself a virtual machine. */
  underHypervisor: boolean;
}

export function parseCpuinfo(text: string): CpuInfo {
  let model = "unknown CPU";
  let vendorId = "";
  let cores = 0;
  let flags: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "processor") cores += 1;
    else if (key === "model name" && model === "unknown CPU") model = value;
    else if (key === "vendor_id" && vendorId === "") vendorId = value;
    else if (key === "flags" && flags.length === 0) flags = value.split(/\s+/);
  }
  const vendor = vendorId === "GenuineIntel" ? "intel" : vendorId === "AuthenticAMD" ? "amd" : "other";
  const virtualizationFlag = flags.includes("vmx") ? "vmx" : flags.includes("svm") ? "svm" : null;
  return { model, vendor, cores, virtualizationFlag, underHypervisor: flags.includes("hypervisor") };
}

export async function readCpu(procRoot = "/proc"): Promise<CpuInfo> {
  return parseCpuinfo((await readText(join(procRoot, "cpuinfo"))) ?? "");
}

/** MemTotal from /proc/meminfo in MiB (rounded down), null when unreadable. */
export async function readRamMiB(procRoot = "/proc"): Promise<number | null> {
  const meminfo = await readText(join(procRoot, "meminfo"));
  const match = meminfo === null ? null : /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match === null ? null : Math.floor(Number(match[1]) / 1024);
}

export interface KvmDeviceState {
  path: string;
  exists: boolean;
  characterDevice: boolean;
  /** Opened read-write by this process (what QEMU needs). */
  openable: boolean;
  /** Why it could not be opened (errno code and message), when it could not. */
  error: string | null;
}

/** Looks at `<devRoot>/kvm`: present, a character device, and openable read-write by this user. */
export async function probeKvmDevice(devRoot = "/dev"): Promise<KvmDeviceState> {
  const path = join(devRoot, "kvm");
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    return { path, exists: false, characterDevice: false, openable: false, error: (error as Error).message };
  }
  if (!info.isCharacterDevice()) {
    return { path, exists: true, characterDevice: false, openable: false, error: "not a character device" };
  }
  try {
    const handle = await open(path, constants.O_RDWR);
    await handle.close();
    return { path, exists: true, characterDevice: true, openable: true, error: null };
  } catch (error) {
    return { path, exists: true, characterDevice: true, openable: false, error: (error as Error).message };
  }
}

/** KVM modules present under /sys/module (kvm, kvm_intel, kvm_amd, and e.g. kvm_pvm). */
export async function readKvmModules(sysRoot = "/sys"): Promise<string[]> {
  return (await listDir(join(sysRoot, "module"))).filter((name) => name === "kvm" || name.startsWith("kvm_"));
}
