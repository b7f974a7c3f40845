/** PCI helpers shared by the nvidia-smi and sysfs readers. */

export const VENDOR_NVIDIA = "10de";
export const VENDOR_AMD = "1002";

const SYSFS_ADDRESS = /^([0-9a-f]{4,8}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/;

/**
 * Normalises a PCI address to the form sysfs uses (`0000:3b:00.0`): lower case, the domain
 * printed with at least four hex digits. nvidia-smi prints an 8-digit domain (`00000000:3B:00.0`);
 * VMD domains really are wider than four digits (`10000:e1:00.0`) and stay so.
 * Returns null for anything that is not a PCI address.
 */
export function normalizePciAddress(raw: string): string | null {
  const match = SYSFS_ADDRESS.exec(raw.trim().toLowerCase());
  if (match === null) return null;
  const [, domain, bus, device, fn] = match as unknown as [string, string, string, string, string];
  const domainNumber = Number.parseInt(domain, 16);
  return `${domainNumber.toString(16).padStart(4, "0")}:${bus}:${device}.${fn}`;
}

/** `0000:3b:00.1` → `0000:3b:00` (the physical device; functions share it). */
export function pciSlot(address: string): string {
  return address.slice(0, address.lastIndexOf("."));
}

/** libvirt's node-device name for an address: `0000:3b:00.0` → `pci_0000_3b_00_0`. */
export function libvirtNodeDevice(address: string): string {
  return `pci_${address.replace(/[:.]/g, "_")}`;
}

/** sysfs prints ids as `0x10de` and classes as `0x030200`; we keep bare lower-case hex. */
export function bareHex(raw: string): string {
  return raw.trim().toLowerCase().replace(/^0x/, "");
}

/** Display controllers: base class 0x03 (0x0300 VGA, 0x0302 3D controller, 0x0380 other). */
export function isDisplayClass(classCode: string): boolean {
  return classCode.startsWith("03");
}

/**
 * Bridges whose config header is not a normal endpoint header (PCI-to-PCI 0x0604, semi-transparent
 * PCI-to-PCI 0x0609, CardBus 0x0607). VFIO lets these stay on their host driver (pcieport) while
 * the group is in use; every other member must be on vfio-pci or unbound. Host and ISA bridges
 * (0x0600, 0x0601) are ordinary endpoints for this purpose.
 */
export function isBridgeClass(classCode: string): boolean {
  return classCode.startsWith("0604") || classCode.startsWith("0609") || classCode.startsWith("0607");
}

const CLASS_NAMES: Record<string, string> = {
  "0100": "SCSI controller",
  "0101": "IDE controller",
  "0104": "RAID controller",
  "0106": "SATA controller",
  "0107": "SAS controller",
  "0108": "NVMe controller",
  "0200": "Ethernet controller",
  "0207": "InfiniBand controller",
  "0280": "network controller",
  "0300": "VGA controller",
  "0302": "3D controller",
  "0380": "display controller",
  "0401": "audio device",
  "0403": "audio device",
  "0500": "RAM controller",
  "0580": "memory controller",
  "0600": "host bridge",
  "0601": "ISA bridge",
  "0604": "PCI bridge",
  "0607": "CardBus bridge",
  "0609": "PCI bridge",
  "0700": "serial controller",
  "0780": "communication controller",
  "0805": "SD host controller",
  "0806": "IOMMU",
  "0880": "system peripheral",
  "0c03": "USB controller",
  "0c05": "SMBus controller",
  "0c80": "serial bus controller",
  "1080": "encryption controller",
  "1180": "signal processing controller",
  ff00: "unassigned class",
};

/** A short human name for a class code such as `040300` ("audio device"). */
export function className(classCode: string): string {
  return CLASS_NAMES[classCode.slice(0, 4)] ?? `device of class ${classCode.slice(0, 4)}`;
}
