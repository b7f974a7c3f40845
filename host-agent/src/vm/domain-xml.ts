import { GUEST_ISOLATION_FILTER } from "./nwfilter.ts";
import { domainName, METADATA_NS, passthroughAddresses, type VmSpec } from "./spec.ts";
import { el, renderXml, type XmlChild, type XmlElement } from "./xml.ts";

/** What the manager made for one session and the domain XML points at. */
export interface DomainResources {
  /** The domain's UUID, chosen before define so a define the journal missed is still recognisable. */
  uuid: string;
  /** The journal's session id for this provisioning. */
  sessionId: string;
  overlayPath: string;
  /** The libvirt secret holding the overlay's LUKS passphrase. */
  secretUuid: string;
  seedPath: string;
  consoleLogPath: string;
}

const QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";

/** The user-mode NIC's id on the QEMU command line. */
export const USER_NETDEV_ID = "chnet0";

/**
 * Policy for `<launchSecurity type='sev-snp'>`: bit 17 is reserved-must-be-one, bit 16 allows SMT, and
 * bit 19 (debug) stays clear so the host cannot read guest memory through the debug interface.
 */
export const SEV_SNP_POLICY = "0x00030000";

/** Policy for `<launchSecurity type='tdx'>`: bit 28 (SEPT_VE_DISABLE) set, bit 0 (debug) clear; QEMU's default. */
export const TDX_POLICY = "0x10000000";

/**
 * The libvirt domain for a booking. Direct kernel boot, the encrypted overlay as `vda`, the seed as a
 * read-only `vdb`, one managed VFIO `<hostdev>` per PCI function of each GPU's IOMMU group, no
 * filesystem shares, no USB, no balloon, a serial console into a file, and the network by mode.
 * Elements follow libvirt's schema (SEV-SNP needs libvirt ≥ 10.5 and TDX ≥ 11; Debian 12's 9.0 rejects
 * both at define, which the manager reports as a provisioning failure).
 */
export function buildDomainXml(spec: VmSpec, res: DomainResources): string {
  return renderXml(domainElement(spec, res));
}

function domainElement(spec: VmSpec, res: DomainResources): XmlElement {
  const confidential = spec.confidential !== "none";
  const userNet = spec.network.mode === "user-restricted";
  // Confidential guests cannot let devices DMA into encrypted memory: virtio goes through bounce buffers.
  const iommu = confidential ? "on" : undefined;
  return el(
    "domain",
    { type: spec.accel === "kvm" ? "kvm" : "qemu", "xmlns:qemu": userNet ? QEMU_NS : undefined },
    el("name", {}, domainName(spec.bookingId)),
    el("uuid", {}, res.uuid),
    el("title", {}, `ComputeHive booking ${spec.bookingId}`),
    el(
      "metadata",
      {},
      el("computehive:booking", {
        "xmlns:computehive": METADATA_NS,
        id: spec.bookingId,
        session: res.sessionId,
        windowStart: spec.window.start,
        windowEnd: spec.window.end,
      }),
    ),
    el("memory", { unit: "MiB" }, String(spec.memoryMiB)),
    el("currentMemory", { unit: "MiB" }, String(spec.memoryMiB)),
    el("vcpu", { placement: "static" }, String(spec.vcpus)),
    el(
      "os",
      {},
      el("type", { arch: "x86_64", machine: "q35" }, "hvm"),
      confidential && el("loader", { readonly: "yes", type: "rom" }, spec.firmware ?? ""),
      el("kernel", {}, spec.boot.kernel),
      el("initrd", {}, spec.boot.initrd),
      el("cmdline", {}, spec.boot.cmdline),
    ),
    el(
      "features",
      {},
      el("acpi"),
      el("apic"),
      // TDX needs the split irqchip (IOAPIC in QEMU, LAPIC in KVM).
      spec.confidential === "tdx" && el("ioapic", { driver: "qemu" }),
    ),
    spec.accel === "kvm" && el("cpu", { mode: "host-passthrough", check: "none", migratable: "off" }),
    el("clock", { offset: "utc" }),
    el("on_poweroff", {}, "destroy"),
    // The guest kernel runs with panic=-1 (reboot on panic): destroy rather than loop; teardown follows.
    el("on_reboot", {}, "destroy"),
    el("on_crash", {}, "destroy"),
    el("pm", {}, el("suspend-to-mem", { enabled: "no" }), el("suspend-to-disk", { enabled: "no" })),
    el(
      "devices",
      {},
      el(
        "disk",
        { type: "file", device: "disk" },
        el("driver", { name: "qemu", type: "qcow2", discard: "unmap", iommu }),
        el(
          "source",
          { file: res.overlayPath },
          el("encryption", { format: "luks" }, el("secret", { type: "passphrase", uuid: res.secretUuid })),
        ),
        el(
          "backingStore",
          { type: "file" },
          el("format", { type: "qcow2" }),
          el("source", { file: spec.baseImage }),
          el("backingStore"),
        ),
        el("target", { dev: "vda", bus: "virtio" }),
      ),
      el(
        "disk",
        { type: "file", device: "disk" },
        el("driver", { name: "qemu", type: "raw", iommu }),
        el("source", { file: res.seedPath }),
        el("target", { dev: "vdb", bus: "virtio" }),
        el("readonly"),
        // The guest's init finds its seed by this serial (src/guest/init.sh) without scanning other disks.
        el("serial", {}, "computehive-seed"),
      ),
      el("controller", { type: "usb", model: "none" }),
      ...networkDevices(spec, iommu),
      ...passthroughAddresses(spec).map(hostdev),
      el("serial", { type: "file" }, el("source", { path: res.consoleLogPath }), el("target", { port: 0 })),
      el(
        "rng",
        { model: "virtio" },
        iommu && el("driver", { iommu }),
        el("backend", { model: "random" }, "/dev/urandom"),
      ),
      el("memballoon", { model: "none" }),
    ),
    launchSecurity(spec),
    userNet && userNetCommandline(spec, confidential),
  );
}

/** `0000:01:00.1` → `<hostdev>` with the address split the way libvirt wants it. */
function hostdev(address: string): XmlElement {
  const [domain = "", bus = "", slotFn = ""] = address.split(":");
  const [slot = "", fn = ""] = slotFn.split(".");
  return el(
    "hostdev",
    { mode: "subsystem", type: "pci", managed: "yes" },
    el("driver", { name: "vfio" }),
    el(
      "source",
      {},
      el("address", { domain: `0x${domain}`, bus: `0x${bus}`, slot: `0x${slot}`, function: `0x${fn}` }),
    ),
  );
}

function networkDevices(spec: VmSpec, iommu: string | undefined): XmlChild[] {
  const net = spec.network;
  if (net.mode !== "isolated-bridge") return [];
  return [
    el(
      "interface",
      { type: "network" },
      el("source", { network: net.network }),
      net.mac ? el("mac", { address: net.mac }) : undefined,
      el("model", { type: "virtio" }),
      iommu && el("driver", { iommu }),
      el(
        "filterref",
        { filter: GUEST_ISOLATION_FILTER },
        el("parameter", { name: "IP", value: net.guestIp }),
        el("parameter", { name: "HOST_IP", value: net.hostIp }),
        el("parameter", { name: "DNS_SERVER", value: net.dnsServer }),
      ),
    ),
  ];
}

function launchSecurity(spec: VmSpec): XmlChild {
  switch (spec.confidential) {
    case "sev-snp":
      // kernelHashes puts the direct-boot kernel, initrd and command line into the launch measurement.
      return el("launchSecurity", { type: "sev-snp", kernelHashes: "yes" }, el("policy", {}, SEV_SNP_POLICY));
    case "tdx":
      return el("launchSecurity", { type: "tdx" }, el("policy", {}, TDX_POLICY));
    case "none":
      return undefined;
  }
}

/**
 * The user-mode NIC's slot on the root bus. libvirt cannot see a device on the QEMU command line, so
 * left to QEMU it takes the first free slot, which libvirt then hands to its own root ports and QEMU
 * refuses to start. Root ports fill slots upwards from 1; 0x1e is only ever libvirt's for a
 * dmi-to-pci bridge, which appears with conventional-PCI devices, and this guest has none.
 */
export const USER_NIC_SLOT = "0x1e";

/**
 * libvirt 9.0 has no `<interface type='user'>` option for QEMU's `restrict=on` (and its `portForward`
 * needs passt), so the NIC goes on QEMU's command line through libvirt's qemu namespace. Every value
 * is a validated number or a constant, so nothing in the option string can add another option.
 */
function userNetCommandline(spec: VmSpec, confidential: boolean): XmlElement {
  if (spec.network.mode !== "user-restricted") throw new Error("user networking only");
  const { host, port } = spec.network.sshForward;
  const netdev = `user,id=${USER_NETDEV_ID},restrict=on,hostfwd=tcp:${host}:${port}-:22`;
  const device = `virtio-net-pci,netdev=${USER_NETDEV_ID},bus=pcie.0,addr=${USER_NIC_SLOT}${confidential ? ",iommu_platform=on" : ""}`;
  return el(
    "qemu:commandline",
    {},
    ...["-netdev", netdev, "-device", device].map((value) => el("qemu:arg", { value })),
  );
}
