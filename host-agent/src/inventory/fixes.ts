/** The exact remedies the inventory's blockers and the doctor's steps print. */

import { libvirtNodeDevice } from "./pci.ts";
import type { GroupMember } from "./schema.ts";
import type { CpuInfo, KernelCmdline, KvmDeviceState } from "./sysfs.ts";

const GRUB = "run update-grub (grub2-mkconfig -o /boot/grub2/grub.cfg on RHEL/Fedora), then reboot";

export function iommuFix(cpu: CpuInfo): string[] {
  const fix: string[] = [];
  if (cpu.underHypervisor) {
    fix.push(
      "This machine is itself a virtual machine (CPU flag 'hypervisor'): kernel parameters here cannot create an IOMMU or a GPU. Run the agent on the physical host; a VM would need a virtual IOMMU and a GPU passed through to it first.",
    );
  }
  if (cpu.vendor === "amd") {
    fix.push("Enable the IOMMU (AMD-Vi, often called 'IOMMU' or 'SVM/IOMMU') in the firmware setup.");
    fix.push(`Add amd_iommu=on iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, ${GRUB}.`);
  } else {
    fix.push("Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup.");
    fix.push(`Add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, ${GRUB}.`);
  }
  fix.push("Check after the reboot: ls /sys/kernel/iommu_groups | wc -l (must print more than 0).");
  return fix;
}

export function iommuOffDetail(cmdline: KernelCmdline): string {
  const off = [
    cmdline.intelIommu === "off" ? "intel_iommu=off" : null,
    cmdline.amdIommu === "off" ? "amd_iommu=off" : null,
    cmdline.iommu === "off" ? "iommu=off" : null,
  ].filter((p): p is string => p !== null);
  return off.length > 0
    ? `The IOMMU is off: the kernel command line turns it off (${off.join(" ")}), so there are no IOMMU groups and VFIO cannot isolate a GPU.`
    : "The IOMMU is off: the kernel formed no IOMMU groups, so VFIO cannot isolate a GPU.";
}

export function vfioModuleFix(): string[] {
  return ["modprobe vfio-pci", "echo vfio-pci > /etc/modules-load.d/vfio-pci.conf   # load it at every boot"];
}

/**
 * Binding commands for every member of a group that VFIO does not accept yet, the libvirt way
 * to do the same, and how to make it survive a reboot.
 */
export function bindToVfioFix(group: number, wrong: GroupMember[], vfioLoaded: boolean): string[] {
  const fix: string[] = [];
  if (wrong.some((m) => m.driver === "nvidia")) {
    fix.push(
      "Stop what holds the GPU first: systemctl stop nvidia-persistenced, and end every process nvidia-smi lists on it.",
    );
  }
  if (!vfioLoaded) fix.push("modprobe vfio-pci");
  fix.push(`Bind every function of group ${group} to vfio-pci (as root):`);
  for (const member of wrong) {
    fix.push(`echo ${member.address} > /sys/bus/pci/devices/${member.address}/driver/unbind`);
    fix.push(`echo vfio-pci > /sys/bus/pci/devices/${member.address}/driver_override`);
    fix.push(`echo ${member.address} > /sys/bus/pci/drivers_probe`);
  }
  fix.push(
    `Or let libvirt do it: ${wrong.map((m) => `virsh nodedev-detach ${libvirtNodeDevice(m.address)}`).join("; ")}`,
  );
  const ids = [...new Set(wrong.map((m) => `${m.vendorId}:${m.deviceId}`))].join(",");
  const drivers = [...new Set(wrong.map((m) => m.driver).filter((d): d is string => d !== null))];
  fix.push(
    `To keep it across reboots: put 'options vfio-pci ids=${ids}'${drivers.map((d) => ` and 'softdep ${d} pre: vfio-pci'`).join("")} in /etc/modprobe.d/vfio.conf, run update-initramfs -u (dracut -f on RHEL/Fedora), reboot. ids= claims every device with those ids.`,
  );
  return fix;
}

export function groupSharedFix(group: number): string[] {
  return [
    "Move the GPU to a slot wired to the CPU (those usually get an IOMMU group of their own), then run the doctor again.",
    "Or enable ACS (Access Control Services) for the PCIe ports in the firmware setup, if it offers it.",
    `Check with: ls /sys/kernel/iommu_groups/${group}/devices`,
    "Do not use the pcie_acs_override kernel patch: it only pretends the devices are isolated.",
  ];
}

export function kvmFix(device: KvmDeviceState, cpu: CpuInfo): string[] {
  const fix: string[] = [];
  if (cpu.virtualizationFlag === null) {
    if (cpu.underHypervisor) {
      fix.push(
        "This machine is a virtual machine whose CPU shows no vmx/svm: enable nested virtualization on the host that runs it (kvm_intel nested=1 or kvm_amd nested=1, and a CPU model that passes vmx/svm through), or run the agent on bare metal.",
      );
    } else {
      fix.push(
        cpu.vendor === "amd"
          ? "Enable SVM (AMD-V) in the firmware setup, then reboot."
          : "Enable Intel VT-x (Virtualization Technology) in the firmware setup, then reboot.",
      );
    }
  }
  if (!device.exists) {
    fix.push(cpu.vendor === "amd" ? "modprobe kvm_amd" : "modprobe kvm_intel");
  } else if (!device.characterDevice) {
    fix.push(`${device.path} is not a character device: remove it and load the KVM module (modprobe kvm).`);
  } else if (!device.openable) {
    fix.push(
      `usermod -aG kvm "$USER"   # the agent's user must be able to open ${device.path} read-write; log in again`,
    );
  }
  fix.push("Check with: ls -l /dev/kvm && grep -c -E 'vmx|svm' /proc/cpuinfo");
  return fix;
}

export function libvirtFix(notInstalled: boolean, uri: string): string[] {
  return [
    ...(notInstalled
      ? [
          "apt install libvirt-daemon-system libvirt-clients qemu-system-x86 (dnf install libvirt qemu-kvm on RHEL/Fedora)",
        ]
      : []),
    "systemctl enable --now libvirtd (or virtqemud.socket where libvirt runs modular daemons)",
    `Check with: virsh -c ${uri} version`,
  ];
}
