/**
 * Inventory and doctor: fixtures shaped like real machines (sysfs trees with the kernel's symlinks,
 * nvidia-smi output as real drivers print it), parser edge cases, and this machine as it is.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  cpSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type CommandRunner,
  CPU_ONLY_VERDICT,
  classifyFailure,
  csvValue,
  type DiscoverOptions,
  discover,
  doctor,
  formatDoctor,
  INVENTORY_ARGS,
  type Inventory,
  InventorySchema,
  type KvmDeviceState,
  kvmVerdict,
  leadingNumber,
  NvidiaSmiParseError,
  normalizePciAddress,
  parseCmdline,
  parseCpuinfo,
  parseInventoryCsv,
  parseNvidiaSmiXml,
  parseQueryCsv,
  parseTelemetryCsv,
  probeKvmDevice,
  queryNvidiaSmi,
  runDoctorCli,
  sampleTelemetry,
  splitPciDeviceId,
  TELEMETRY_ARGS,
  XML_ARGS,
} from "../src/inventory/index.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", "inventory");
const NOW = () => new Date("2026-01-01T00:00:00.000Z");

interface HostJson {
  kvmDevice: Omit<KvmDeviceState, "path">;
  nvidiaSmi:
    | { installed: false }
    | { installed: true; exitCode: number; stdout: string; stderr: string }
    | { installed: true; csv: string; xml: string; telemetry: string };
  virsh: { installed: false } | { installed: true; exitCode: number; stdout: string; stderr: string };
}

function enoent(file: string): Error {
  return Object.assign(new Error(`spawn ${file} ENOENT`), { code: "ENOENT" });
}

/** Replays a fixture's nvidia-smi and virsh exactly as host.json and nvidia-smi/* record them. */
function fixtureRunner(name: string, calls: string[] = []): CommandRunner {
  const dir = join(FIXTURES, name);
  const host = JSON.parse(readFileSync(join(dir, "host.json"), "utf8")) as HostJson;
  return async (file, args) => {
    calls.push([file, ...args].join(" "));
    if (file === "nvidia-smi") {
      const smi = host.nvidiaSmi;
      if (!smi.installed) throw enoent(file);
      if ("exitCode" in smi) return { code: smi.exitCode, stdout: smi.stdout, stderr: smi.stderr };
      const wanted = args.join(" ");
      const path =
        wanted === INVENTORY_ARGS.join(" ")
          ? smi.csv
          : wanted === TELEMETRY_ARGS.join(" ")
            ? smi.telemetry
            : wanted === XML_ARGS.join(" ")
              ? smi.xml
              : null;
      if (path === null) throw new Error(`fixture ${name}: unexpected nvidia-smi ${wanted}`);
      return { code: 0, stdout: readFileSync(join(dir, path), "utf8"), stderr: "" };
    }
    if (file === "virsh") {
      if (!host.virsh.installed) throw enoent(file);
      assert.deepEqual(args, ["-c", "qemu:///system", "version"]);
      return { code: host.virsh.exitCode, stdout: host.virsh.stdout, stderr: host.virsh.stderr };
    }
    throw new Error(`fixture ${name}: unexpected command ${file}`);
  };
}

function fixtureOptions(name: string, calls?: string[]): DiscoverOptions {
  const dir = join(FIXTURES, name);
  const host = JSON.parse(readFileSync(join(dir, "host.json"), "utf8")) as HostJson;
  return {
    sysRoot: join(dir, "sys"),
    procRoot: join(dir, "proc"),
    devRoot: "/dev",
    run: fixtureRunner(name, calls),
    probeKvm: async (devRoot) => ({ path: join(devRoot, "kvm"), ...host.kvmDevice }),
    now: NOW,
  };
}

/** The parts of a GPU a test pins exactly (fix texts are checked separately). */
function gpuFacts(inv: Inventory) {
  return inv.gpus.map((g) => ({
    pciAddress: g.pciAddress,
    vendor: g.vendor,
    id: `${g.vendorId}:${g.deviceId}`,
    classCode: g.classCode,
    name: g.name,
    nameSource: g.nameSource,
    uuid: g.uuid,
    vramMiB: g.vramMiB,
    driver: g.driver,
    iommuGroup: g.iommuGroup,
    supported: g.supported,
    vfioReady: g.vfioReady,
    blockers: g.blockers.map((b) => b.code),
    members: g.groupMembers.map(
      (m) => `${m.address} ${m.role} ${m.driver ?? "-"} ${m.driverOk ? "ok" : "NO"}`,
    ),
  }));
}

function stepStatuses(inv: Inventory): string[] {
  return doctor(inv).steps.map((s) => `${s.status} ${s.check}`);
}

describe("fixture (a) h100-vfio: one H100 on vfio-pci in its own group", () => {
  test("inventory", async () => {
    const inv = await discover(fixtureOptions("h100-vfio"));
    assert.deepEqual(gpuFacts(inv), [
      {
        pciAddress: "0000:3b:00.0",
        vendor: "nvidia",
        id: "10de:2330",
        classCode: "030200",
        name: "unknown NVIDIA device 10de:2330",
        nameSource: "pci-id",
        uuid: undefined,
        vramMiB: undefined,
        driver: "vfio-pci",
        iommuGroup: 17,
        supported: true,
        vfioReady: true,
        blockers: [],
        members: ["0000:3b:00.0 gpu vfio-pci ok"],
      },
    ]);
    assert.equal(inv.pciDeviceCount, 3);
    assert.deepEqual(inv.iommu, {
      enabled: true,
      groupCount: 3,
      units: ["dmar0", "dmar1"],
      evidence: [
        "/sys/class/iommu lists dmar0, dmar1",
        "/sys/kernel/iommu_groups holds 3 groups",
        "kernel command line has intel_iommu=on iommu=pt",
      ],
    });
    assert.deepEqual(inv.vfio, { moduleLoaded: true, driverRegistered: true });
    assert.equal(inv.kvm.usable, true);
    assert.equal(inv.kvm.cpuFlag, "vmx");
    assert.deepEqual(inv.kvm.modules, ["kvm", "kvm_intel"]);
    assert.deepEqual(inv.libvirt, {
      available: true,
      uri: "qemu:///system",
      libraryVersion: "10.0.0",
      hypervisor: "QEMU 8.2.2",
    });
    assert.deepEqual(inv.nvidiaSmi, { status: "not-found", detail: "nvidia-smi not found" });
    assert.deepEqual(inv.cpu, {
      model: "Intel(R) Xeon(R) Platinum 8480+",
      vendor: "intel",
      cores: 4,
      underHypervisor: false,
    });
    assert.equal(inv.ramMiB, 2063924);
    assert.equal(inv.canPassThrough, true);
    assert.equal(inv.mode, "gpu-passthrough");
    assert.deepEqual(inv.warnings, []);
    assert.equal(inv.collectedAt, "2026-01-01T00:00:00.000Z");
  });

  test("doctor", async () => {
    const inv = await discover(fixtureOptions("h100-vfio"));
    assert.deepEqual(stepStatuses(inv), [
      "ok KVM (hardware virtualization)",
      "ok IOMMU",
      "ok vfio-pci driver",
      "ok NVIDIA GPU",
      "ok GPU 0000:3b:00.0 (unknown NVIDIA device 10de:2330): IOMMU group 17",
      "ok GPU 0000:3b:00.0 (unknown NVIDIA device 10de:2330): drivers",
      "ok nvidia-smi",
      "ok libvirt",
    ]);
    assert.equal(
      doctor(inv).verdict,
      "This host can offer GPU passthrough: 1 GPU ready (0000:3b:00.0 unknown NVIDIA device 10de:2330).",
    );
    assert.ok(!doctor(inv).verdict.includes(CPU_ONLY_VERDICT));
  });
});

describe("fixture (b) a100x2-nvidia: two A100s on the nvidia driver", () => {
  test("inventory: names, memory and UUIDs from nvidia-smi, driver blockers", async () => {
    const calls: string[] = [];
    const inv = await discover(fixtureOptions("a100x2-nvidia", calls));
    assert.deepEqual(gpuFacts(inv), [
      {
        pciAddress: "0000:07:00.0",
        vendor: "nvidia",
        id: "10de:20b2",
        classCode: "030200",
        name: "NVIDIA A100-SXM4-80GB",
        nameSource: "nvidia-smi",
        uuid: "GPU-513536b6-7d19-9063-b049-1e69664bb298",
        vramMiB: 81920,
        driver: "nvidia",
        iommuGroup: 30,
        supported: true,
        vfioReady: false,
        blockers: ["driver-not-vfio"],
        members: ["0000:07:00.0 gpu nvidia NO"],
      },
      {
        pciAddress: "0000:0f:00.0",
        vendor: "nvidia",
        id: "10de:20b2",
        classCode: "030200",
        name: "NVIDIA A100-SXM4-80GB",
        nameSource: "nvidia-smi",
        uuid: "GPU-00000000-0000-0000-0000-000000000001",
        vramMiB: 81920,
        driver: "nvidia",
        iommuGroup: 40,
        supported: true,
        vfioReady: false,
        blockers: ["driver-not-vfio"],
        members: ["0000:0f:00.0 gpu nvidia NO"],
      },
    ]);
    assert.deepEqual(
      inv.gpus.map((g) => [g.nvidiaDriverVersion, g.virtualizationMode]),
      [
        ["535.54.03", "None"],
        ["535.54.03", "None"],
      ],
    );
    assert.deepEqual(inv.otherDisplayDevices, [
      { address: "0000:02:00.0", vendorId: "1a03", deviceId: "2000", classCode: "030000", driver: "ast" },
    ]);
    assert.deepEqual(inv.nvidiaSmi, { status: "ok", detail: "nvidia-smi lists 2 GPUs" });
    assert.deepEqual(inv.iommu.units, ["ivhd0"]);
    assert.equal(inv.kvm.cpuFlag, "svm");
    assert.equal(inv.cpu.vendor, "amd");
    assert.deepEqual(inv.vfio, { moduleLoaded: false, driverRegistered: false });
    assert.deepEqual(inv.libvirt, {
      available: false,
      uri: "qemu:///system",
      reason: "virsh not found: the libvirt client tools are not installed",
    });
    assert.equal(inv.canPassThrough, false);
    assert.equal(inv.mode, "cpu-only-development");
    assert.deepEqual(calls.sort(), [
      `nvidia-smi ${INVENTORY_ARGS.join(" ")}`,
      `nvidia-smi ${XML_ARGS.join(" ")}`,
      "virsh -c qemu:///system version",
    ]);
  });

  test("doctor: bind each function to vfio-pci, install libvirt, CPU-only verdict", async () => {
    const inv = await discover(fixtureOptions("a100x2-nvidia"));
    const report = doctor(inv);
    assert.deepEqual(stepStatuses(inv), [
      "ok KVM (hardware virtualization)",
      "ok IOMMU",
      "blocked vfio-pci driver",
      "ok NVIDIA GPU",
      "ok GPU 0000:07:00.0 (NVIDIA A100-SXM4-80GB): IOMMU group 30",
      "blocked GPU 0000:07:00.0 (NVIDIA A100-SXM4-80GB): drivers",
      "ok GPU 0000:0f:00.0 (NVIDIA A100-SXM4-80GB): IOMMU group 40",
      "blocked GPU 0000:0f:00.0 (NVIDIA A100-SXM4-80GB): drivers",
      "ok nvidia-smi",
      "blocked libvirt",
    ]);
    const drivers = report.steps.find((s) => s.check === "GPU 0000:07:00.0 (NVIDIA A100-SXM4-80GB): drivers");
    assert.equal(
      drivers?.detail,
      "0000:07:00.0 (3D controller) is bound to nvidia: every function of group 30 must be on vfio-pci (or unbound) for passthrough.",
    );
    assert.deepEqual(drivers?.fix, [
      "Stop what holds the GPU first: systemctl stop nvidia-persistenced, and end every process nvidia-smi lists on it.",
      "modprobe vfio-pci",
      "Bind every function of group 30 to vfio-pci (as root):",
      "echo 0000:07:00.0 > /sys/bus/pci/devices/0000:07:00.0/driver/unbind",
      "echo vfio-pci > /sys/bus/pci/devices/0000:07:00.0/driver_override",
      "echo 0000:07:00.0 > /sys/bus/pci/drivers_probe",
      "Or let libvirt do it: virsh nodedev-detach pci_0000_07_00_0",
      "To keep it across reboots: put 'options vfio-pci ids=10de:20b2' and 'softdep nvidia pre: vfio-pci' in /etc/modprobe.d/vfio.conf, run update-initramfs -u (dracut -f on RHEL/Fedora), reboot. ids= claims every device with those ids.",
    ]);
    const libvirt = report.steps.find((s) => s.check === "libvirt");
    assert.equal(
      libvirt?.fix[0],
      "apt install libvirt-daemon-system libvirt-clients qemu-system-x86 (dnf install libvirt qemu-kvm on RHEL/Fedora)",
    );
    assert.ok(
      report.steps.find((s) => s.check === "NVIDIA GPU")?.detail.includes("0000:02:00.0 (1a03:2000, ast)"),
    );
    assert.equal(
      report.verdict,
      `${CPU_ONLY_VERDICT} Why: no GPU is ready for VFIO. libvirt must be running before any VM can start.`,
    );
  });
});

describe("fixture (c) rtx4090-shared-group: group shared with a chipset NIC", () => {
  test("inventory: bridges are fine, the NIC is not, the audio function is on snd_hda_intel", async () => {
    const inv = await discover(fixtureOptions("rtx4090-shared-group"));
    assert.deepEqual(gpuFacts(inv), [
      {
        pciAddress: "0000:04:00.0",
        vendor: "nvidia",
        id: "10de:2684",
        classCode: "030000",
        name: "NVIDIA GeForce RTX 4090",
        nameSource: "nvidia-smi",
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        vramMiB: 24564,
        driver: "nvidia",
        iommuGroup: 14,
        supported: true,
        vfioReady: false,
        blockers: ["group-shared", "driver-not-vfio"],
        members: [
          "0000:02:00.0 bridge pcieport ok",
          "0000:03:00.0 bridge pcieport ok",
          "0000:03:08.0 bridge pcieport ok",
          "0000:04:00.0 gpu nvidia NO",
          "0000:04:00.1 gpu-function snd_hda_intel NO",
          "0000:0c:00.0 other-device r8169 NO",
        ],
      },
    ]);
    assert.equal(inv.libvirt.available, false);
    assert.equal(
      inv.libvirt.reason,
      "virsh cannot connect to qemu:///system: error: failed to connect to the hypervisor; error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
    );
    assert.equal(inv.mode, "cpu-only-development");
  });

  test("doctor: says what else is in the group and how to get out of it", async () => {
    const inv = await discover(fixtureOptions("rtx4090-shared-group"));
    const report = doctor(inv);
    const group = report.steps.find(
      (s) => s.check === "GPU 0000:04:00.0 (NVIDIA GeForce RTX 4090): IOMMU group 14",
    );
    assert.equal(group?.status, "blocked");
    assert.equal(
      group?.detail,
      "IOMMU group 14 also holds 0000:0c:00.0 (Ethernet controller 10ec:8125, driver r8169): passing 0000:04:00.0 through would hand it to the guest too.",
    );
    assert.deepEqual(group?.fix, [
      "Move the GPU to a slot wired to the CPU (those usually get an IOMMU group of their own), then run the doctor again.",
      "Or enable ACS (Access Control Services) for the PCIe ports in the firmware setup, if it offers it.",
      "Check with: ls /sys/kernel/iommu_groups/14/devices",
      "Do not use the pcie_acs_override kernel patch: it only pretends the devices are isolated.",
    ]);
    const drivers = report.steps.find(
      (s) => s.check === "GPU 0000:04:00.0 (NVIDIA GeForce RTX 4090): drivers",
    );
    assert.equal(
      drivers?.detail,
      "0000:04:00.0 (VGA controller) is bound to nvidia, 0000:04:00.1 (audio device) is bound to snd_hda_intel: every function of group 14 must be on vfio-pci (or unbound) for passthrough.",
    );
    assert.ok(drivers?.fix.includes("echo 0000:04:00.1 > /sys/bus/pci/devices/0000:04:00.1/driver/unbind"));
    assert.ok(
      drivers?.fix.includes(
        "Or let libvirt do it: virsh nodedev-detach pci_0000_04_00_0; virsh nodedev-detach pci_0000_04_00_1",
      ),
    );
    assert.ok(
      drivers?.fix.includes(
        "To keep it across reboots: put 'options vfio-pci ids=10de:2684,10de:22ba' and 'softdep nvidia pre: vfio-pci' and 'softdep snd_hda_intel pre: vfio-pci' in /etc/modprobe.d/vfio.conf, run update-initramfs -u (dracut -f on RHEL/Fedora), reboot. ids= claims every device with those ids.",
      ),
    );
    // The NIC is not in the binding commands: the fix for it is to move the GPU, not to take the host's NIC.
    assert.ok(!drivers?.fix.some((line) => line.includes("0000:0c:00.0")));
    const libvirt = report.steps.find((s) => s.check === "libvirt");
    assert.deepEqual(libvirt?.fix, [
      "systemctl enable --now libvirtd (or virtqemud.socket where libvirt runs modular daemons)",
      "Check with: virsh -c qemu:///system version",
    ]);
    assert.ok(report.verdict.startsWith(CPU_ONLY_VERDICT));
  });
});

test("an unreadable group listing does not make a GPU on nvidia look ready", async () => {
  const copy = mkdtempSync(join(tmpdir(), "inventory-group-"));
  cpSync(join(FIXTURES, "rtx4090-shared-group"), copy, { recursive: true, verbatimSymlinks: true });
  rmSync(join(copy, "sys", "kernel", "iommu_groups", "14", "devices"), { recursive: true });
  const options = fixtureOptions("rtx4090-shared-group");
  const inv = await discover({ ...options, sysRoot: join(copy, "sys"), procRoot: join(copy, "proc") });
  assert.deepEqual(gpuFacts(inv)[0]?.members, ["0000:04:00.0 gpu nvidia NO"]);
  assert.deepEqual(gpuFacts(inv)[0]?.blockers, ["driver-not-vfio"]);
  assert.equal(inv.gpus[0]?.vfioReady, false);
  assert.deepEqual(inv.warnings, ["IOMMU group 14 does not list 0000:04:00.0 (unreadable group)"]);
  rmSync(copy, { recursive: true });
});

describe("fixture h100-cloud-vm: captured on a real H100 machine lent to this project", () => {
  test("discover() on the capture gives what the agent itself reported on that machine", async () => {
    // device-inventory.json is `computehive-host-agent inventory --json` as it ran there (UUID masked).
    const there = JSON.parse(
      readFileSync(join(FIXTURES, "h100-cloud-vm", "device-inventory.json"), "utf8"),
    ) as Inventory;
    const inv = await discover(fixtureOptions("h100-cloud-vm"));
    const gpu = (i: Inventory) => i.gpus.map(({ groupMembers: _m, ...g }) => g);
    assert.deepEqual(gpu(inv), gpu(there));
    assert.equal(inv.gpus[0]?.name, "NVIDIA H100 80GB HBM3");
    assert.equal(inv.gpus[0]?.vramMiB, 81559);
    assert.equal(inv.gpus[0]?.driver, "nvidia");
    assert.equal(inv.gpus[0]?.nvidiaDriverVersion, "580.159.04");
    assert.deepEqual(
      inv.gpus[0]?.blockers.map((b) => b.code),
      ["iommu-off"],
    );
    assert.equal(inv.mode, "cpu-only-development");
    assert.equal(there.mode, "cpu-only-development");
    assert.deepEqual(inv.iommu, there.iommu);
    assert.deepEqual(inv.vfio, there.vfio);
    assert.equal(inv.kvm.usable, false);
    assert.equal(there.kvm.usable, false);
    assert.equal(inv.nvidiaSmi.status, "ok");
    assert.equal(inv.pciDeviceCount, there.pciDeviceCount);
    assert.deepEqual(await sampleTelemetry(fixtureRunner("h100-cloud-vm")), [
      {
        index: 0,
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        pciAddress: "0000:00:06.0",
        utilizationGpuPct: 0,
        memoryUsedMiB: 0,
        memoryTotalMiB: 81559,
        temperatureC: 40,
        powerDrawW: 75.89,
      },
    ]);
  });
});

describe("fixture (d) iommu-off: an H100 on a host booted without an IOMMU", () => {
  test("inventory and doctor", async () => {
    const inv = await discover(fixtureOptions("iommu-off"));
    assert.deepEqual(gpuFacts(inv), [
      {
        pciAddress: "0000:18:00.0",
        vendor: "nvidia",
        id: "10de:2330",
        classCode: "030200",
        name: "NVIDIA H100 80GB HBM3",
        nameSource: "nvidia-smi",
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        vramMiB: 81559,
        driver: "nvidia",
        iommuGroup: null,
        supported: true,
        vfioReady: false,
        blockers: ["iommu-off"],
        members: [],
      },
    ]);
    assert.deepEqual(inv.iommu, {
      enabled: false,
      groupCount: 0,
      units: [],
      evidence: [
        "/sys/class/iommu is empty: the kernel registered no IOMMU",
        "/sys/kernel/iommu_groups holds no groups",
        "kernel command line sets no IOMMU option",
      ],
    });
    assert.equal(inv.gpus[0]?.nvidiaDriverVersion, "590.48.01");
    const report = doctor(inv);
    assert.deepEqual(stepStatuses(inv), [
      "ok KVM (hardware virtualization)",
      "blocked IOMMU",
      "blocked vfio-pci driver",
      "ok NVIDIA GPU",
      "blocked GPU 0000:18:00.0 (NVIDIA H100 80GB HBM3): IOMMU group",
      "ok nvidia-smi",
      "ok libvirt",
    ]);
    assert.deepEqual(report.steps[1]?.fix, [
      "Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup.",
      "Add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (grub2-mkconfig -o /boot/grub2/grub.cfg on RHEL/Fedora), then reboot.",
      "Check after the reboot: ls /sys/kernel/iommu_groups | wc -l (must print more than 0).",
    ]);
    assert.equal(
      inv.gpus[0]?.blockers[0]?.detail,
      "The IOMMU is off: the kernel formed no IOMMU groups, so VFIO cannot isolate a GPU.",
    );
    assert.equal(report.verdict, `${CPU_ONLY_VERDICT} Why: no GPU is ready for VFIO; IOMMU off.`);
  });
});

describe("fixture (e) no-gpu: a server without any GPU", () => {
  test("inventory: nothing invented, the BMC's VGA is not a GPU", async () => {
    const inv = await discover(fixtureOptions("no-gpu"));
    assert.deepEqual(inv.gpus, []);
    assert.deepEqual(inv.otherDisplayDevices, [
      { address: "0000:05:00.0", vendorId: "1a03", deviceId: "2000", classCode: "030000", driver: "ast" },
    ]);
    assert.equal(inv.pciDeviceCount, 4);
    assert.equal(inv.kvm.usable, true);
    assert.equal(inv.iommu.enabled, true);
    assert.equal(inv.canPassThrough, false);
    assert.equal(inv.mode, "cpu-only-development");
    assert.equal(
      inv.summary,
      "CPU-only development host (no passthrough GPU). GPUs: no GPU. IOMMU on; KVM usable; libvirt available.",
    );
  });

  test("doctor: says CPU-only plainly", async () => {
    const inv = await discover(fixtureOptions("no-gpu"));
    const report = doctor(inv);
    assert.deepEqual(stepStatuses(inv), [
      "ok KVM (hardware virtualization)",
      "ok IOMMU",
      "warn vfio-pci driver",
      "blocked NVIDIA GPU",
      "ok nvidia-smi",
      "ok libvirt",
    ]);
    assert.equal(
      report.steps[3]?.detail,
      "No NVIDIA GPU on this machine's PCI bus (4 PCI devices in /sys/bus/pci/devices, none of vendor 10de with a display class). Display devices that are not GPUs this agent lends: 0000:05:00.0 (1a03:2000, ast).",
    );
    assert.equal(report.verdict, `${CPU_ONLY_VERDICT} Why: no NVIDIA GPU.`);
    const text = formatDoctor(report);
    assert.ok(text.includes(`Verdict: ${CPU_ONLY_VERDICT}`));
    assert.ok(text.includes(" 4. [BLOCKED] NVIDIA GPU\n"));
  });
});

describe("fixture (f) rtx4090-vfio: GPU and its audio on vfio-pci, root port in the group", () => {
  test("inventory: ready; the bridge may stay on pcieport", async () => {
    const inv = await discover(fixtureOptions("rtx4090-vfio"));
    assert.deepEqual(gpuFacts(inv), [
      {
        pciAddress: "0000:01:00.0",
        vendor: "nvidia",
        id: "10de:2684",
        classCode: "030000",
        name: "unknown NVIDIA device 10de:2684",
        nameSource: "pci-id",
        uuid: undefined,
        vramMiB: undefined,
        driver: "vfio-pci",
        iommuGroup: 2,
        supported: true,
        vfioReady: true,
        blockers: [],
        members: [
          "0000:00:01.0 bridge pcieport ok",
          "0000:01:00.0 gpu vfio-pci ok",
          "0000:01:00.1 gpu-function vfio-pci ok",
        ],
      },
    ]);
    assert.deepEqual(inv.nvidiaSmi, {
      status: "no-devices",
      detail: 'nvidia-smi found no GPU it can manage ("No devices were found")',
    });
    assert.equal(inv.mode, "gpu-passthrough");
    const report = doctor(inv);
    assert.ok(report.steps.every((s) => s.status === "ok"));
    assert.equal(
      report.steps.find((s) => s.check.endsWith("IOMMU group 2"))?.detail,
      "The group holds only this GPU's own functions and PCI bridges (which may stay on their driver): 0000:00:01.0 PCI bridge (pcieport), 0000:01:00.0 VGA controller (vfio-pci), 0000:01:00.1 audio device (vfio-pci).",
    );
    assert.equal(
      report.verdict,
      "This host can offer GPU passthrough: 1 GPU ready (0000:01:00.0 unknown NVIDIA device 10de:2684).",
    );
  });

  test("without usable KVM the same GPU does not make a passthrough host", async () => {
    const options = fixtureOptions("rtx4090-vfio");
    options.probeKvm = async (devRoot) => ({
      path: join(devRoot, "kvm"),
      exists: true,
      characterDevice: true,
      openable: false,
      error: "EACCES: permission denied, open '/dev/kvm'",
    });
    const inv = await discover(options);
    assert.equal(inv.gpus[0]?.vfioReady, true);
    assert.equal(inv.kvm.usable, false);
    assert.equal(inv.canPassThrough, false);
    assert.equal(inv.mode, "cpu-only-development");
    const report = doctor(inv);
    assert.deepEqual(report.steps[0]?.fix, [
      `usermod -aG kvm "$USER"   # the agent's user must be able to open /dev/kvm read-write; log in again`,
      "Check with: ls -l /dev/kvm && grep -c -E 'vmx|svm' /proc/cpuinfo",
    ]);
    assert.equal(
      report.verdict,
      `${CPU_ONLY_VERDICT} Why: KVM unusable. KVM is unusable here, so that VM cannot be hardware-accelerated.`,
    );
  });
});

describe("fixture (g) amd-radeon: an AMD GPU, listed honestly, not supported", () => {
  test("inventory and doctor", async () => {
    const inv = await discover(fixtureOptions("amd-radeon"));
    assert.deepEqual(gpuFacts(inv), [
      {
        pciAddress: "0000:03:00.0",
        vendor: "amd",
        id: "1002:744c",
        classCode: "030000",
        name: "unknown AMD device 1002:744c",
        nameSource: "pci-id",
        uuid: undefined,
        vramMiB: undefined,
        driver: "amdgpu",
        iommuGroup: 15,
        supported: false,
        vfioReady: false,
        blockers: ["vendor-unsupported"],
        members: ["0000:03:00.0 gpu amdgpu NO", "0000:03:00.1 gpu-function snd_hda_intel NO"],
      },
    ]);
    const report = doctor(inv);
    assert.deepEqual(stepStatuses(inv), [
      "ok KVM (hardware virtualization)",
      "ok IOMMU",
      "warn vfio-pci driver",
      "blocked NVIDIA GPU",
      "warn GPU 0000:03:00.0 (unknown AMD device 1002:744c)",
      "ok nvidia-smi",
      "ok libvirt",
    ]);
    assert.equal(
      report.steps[4]?.detail,
      "0000:03:00.0 is an AMD GPU (1002:744c): not supported by this agent yet, so it is not offered.",
    );
    assert.equal(report.verdict, `${CPU_ONLY_VERDICT} Why: no NVIDIA GPU.`);
  });
});

describe("nvidia-smi parsing", () => {
  test("PCI bus ids: nvidia-smi's 8-digit domain becomes the sysfs form", () => {
    assert.equal(normalizePciAddress("00000000:3B:00.0"), "0000:3b:00.0");
    assert.equal(normalizePciAddress(" 00000000:0F:00.0 "), "0000:0f:00.0");
    assert.equal(normalizePciAddress("0000:3b:00.1"), "0000:3b:00.1");
    assert.equal(normalizePciAddress("00010000:E1:00.0"), "10000:e1:00.0");
    assert.equal(normalizePciAddress("GPU-513536b6"), null);
    assert.equal(normalizePciAddress("0000:3b:00.8"), null);
  });

  test("CSV cells: placeholders are absent values, units are stripped from numbers", () => {
    assert.equal(csvValue(" [N/A]"), null);
    assert.equal(csvValue(" [Not Supported]"), null);
    assert.equal(csvValue(" [Requested functionality has been deprecated]"), null);
    assert.equal(csvValue(" N/A"), null);
    assert.equal(csvValue(" "), null);
    assert.equal(csvValue(" Direct Connected"), "Direct Connected");
    assert.equal(leadingNumber("81559 MiB"), 81559);
    assert.equal(leadingNumber("69.85 W"), 69.85);
    assert.equal(leadingNumber("0x233010DE"), 0); // ids go through splitPciDeviceId, not here
    assert.deepEqual(splitPciDeviceId("0x233010DE"), { deviceId: "2330", vendorId: "10de" });
    assert.deepEqual(splitPciDeviceId("20B210DE"), { deviceId: "20b2", vendorId: "10de" });
    assert.equal(splitPciDeviceId("[N/A]"), null);
  });

  test("a real 212-column --query-gpu capture (H100, driver 590.48.01, with header and units)", () => {
    const text = readFileSync(join(FIXTURES, "samples", "h100-590.48.01-query-gpu-full.csv"), "utf8");
    const header = text.split("\n")[0] ?? "";
    const fields = header.split(",").map((f) => f.trim().replace(/ \[.*\]$/, ""));
    assert.equal(fields.length, 212);
    const [row] = parseQueryCsv(text, fields);
    assert.ok(row !== undefined);
    assert.equal(row.name, "NVIDIA H100 80GB HBM3");
    assert.equal(normalizePciAddress(row["pci.bus_id"] ?? ""), "0000:00:09.0");
    assert.deepEqual(splitPciDeviceId(row["pci.device_id"] ?? null), { deviceId: "2330", vendorId: "10de" });
    assert.equal(leadingNumber(row["memory.total"] ?? null), 81559);
    assert.equal(leadingNumber(row["power.draw"] ?? null), 69.85);
    assert.equal(leadingNumber(row["temperature.gpu"] ?? null), 41);
    assert.equal(row.display_mode, null); // [Requested functionality has been deprecated]
    assert.equal(row["fabric.health.summary"], null); // plain N/A
    assert.equal(row["platform.chassis_serial_number"], null); // empty cell
    assert.equal(row["platform.peer_type"], "Direct Connected");
    assert.equal(row.hostname, null); // [N/A], last column
  });

  test("a real CSV with a header line (Tesla P100, netdata's testdata)", () => {
    const text = readFileSync(join(FIXTURES, "samples", "tesla-p100.csv"), "utf8");
    const fields = (text.split("\n")[0] ?? "").split(",").map((f) => f.trim().replace(/ \[.*\]$/, ""));
    const rows = parseQueryCsv(text, fields);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.name, "Tesla P100-PCIE-16GB");
    assert.equal(rows[0]?.["fan.speed"], null);
    assert.equal(leadingNumber(rows[0]?.["power.draw"] ?? null), 28.16);
  });

  test("inventory CSV: nounits and units forms parse the same; a shifted row is an error", () => {
    const nounits = "0, GPU-1, NVIDIA H100 80GB HBM3, 00000000:3B:00.0, 0x233010DE, 81559, 590.48.01\n";
    const units =
      "index, uuid, name, pci.bus_id, pci.device_id, memory.total [MiB], driver_version\n0, GPU-1, NVIDIA H100 80GB HBM3, 00000000:3B:00.0, 0x233010DE, 81559 MiB, 590.48.01\n";
    assert.deepEqual(parseInventoryCsv(units), parseInventoryCsv(nounits));
    assert.deepEqual(parseInventoryCsv(nounits), [
      {
        pciAddress: "0000:3b:00.0",
        index: 0,
        uuid: "GPU-1",
        name: "NVIDIA H100 80GB HBM3",
        vendorId: "10de",
        deviceId: "2330",
        vramMiB: 81559,
        driverVersion: "590.48.01",
        virtualizationMode: null,
      },
    ]);
    assert.deepEqual(parseInventoryCsv(""), []);
    assert.throws(
      () => parseInventoryCsv("0, GPU-1, NVIDIA, H100, 00000000:3B:00.0, 0x233010DE, 81559, 590.48.01\n"),
      NvidiaSmiParseError,
    );
    assert.throws(
      () => parseInventoryCsv("0, GPU-1, X, [N/A], 0x233010DE, 81559, 590.48.01\n"),
      /not a PCI bus id/,
    );
  });

  test("XML: a real -q -x document (Tesla P100 in a cloud guest, driver 510.47.03, v11 DTD)", () => {
    const parsed = parseNvidiaSmiXml(readFileSync(join(FIXTURES, "samples", "tesla-p100.xml"), "utf8"));
    assert.deepEqual(parsed, {
      driverVersion: "510.47.03",
      gpus: [
        {
          pciAddress: "0000:00:04.0",
          index: null,
          uuid: "GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e",
          name: "Tesla P100-PCIE-16GB",
          vendorId: "10de",
          deviceId: "15f8",
          vramMiB: 16384,
          driverVersion: "510.47.03",
          virtualizationMode: "Pass-Through",
        },
      ],
    });
  });

  test("XML: several GPUs, and malformed or foreign documents are errors", () => {
    const parsed = parseNvidiaSmiXml(
      readFileSync(join(FIXTURES, "a100x2-nvidia", "nvidia-smi", "query.xml"), "utf8"),
    );
    assert.deepEqual(
      parsed.gpus.map((g) => [g.pciAddress, g.name, g.vramMiB, g.deviceId]),
      [
        ["0000:07:00.0", "NVIDIA A100-SXM4-80GB", 81920, "20b2"],
        ["0000:0f:00.0", "NVIDIA A100-SXM4-80GB", 81920, "20b2"],
      ],
    );
    const none = parseNvidiaSmiXml(
      '<?xml version="1.0" ?>\n<nvidia_smi_log>\n<driver_version>550.54.14</driver_version>\n<attached_gpus>0</attached_gpus>\n</nvidia_smi_log>\n',
    );
    assert.deepEqual(none, { driverVersion: "550.54.14", gpus: [] });
    assert.throws(() => parseNvidiaSmiXml("<html><body>nope</body></html>"), /no <nvidia_smi_log>/);
    assert.throws(
      () => parseNvidiaSmiXml('<nvidia_smi_log><gpu id="x"></gpu></nvidia_smi_log>'),
      NvidiaSmiParseError,
    );
  });

  test("failures are classified from the words real drivers print", () => {
    assert.equal(classifyFailure(6, "No devices were found\n", "").status, "no-devices");
    assert.equal(
      classifyFailure(
        9,
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
        "",
      ).status,
      "driver-unreachable",
    );
    assert.deepEqual(
      classifyFailure(2, "", "Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error\n"),
      {
        status: "failed",
        detail:
          "nvidia-smi exited with status 2: Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error",
        gpus: [],
      },
    );
  });

  test("queryNvidiaSmi: absent nvidia-smi is an answer, not a crash", async () => {
    const absent: CommandRunner = async (file) => {
      throw enoent(file);
    };
    assert.deepEqual(await queryNvidiaSmi(absent), {
      status: "not-found",
      detail: "nvidia-smi not found",
      gpus: [],
    });
    const garbled: CommandRunner = async () => ({ code: 0, stdout: "0, GPU-1, only three\n", stderr: "" });
    const report = await queryNvidiaSmi(garbled);
    assert.equal(report.status, "failed");
    assert.match(report.detail, /has 3 values, expected 7/);
  });

  test("sampleTelemetry: parsed per GPU; [N/A] under MIG is null; no GPU or no nvidia-smi is an empty list", async () => {
    assert.deepEqual(await sampleTelemetry(fixtureRunner("a100x2-nvidia")), [
      {
        index: 0,
        uuid: "GPU-513536b6-7d19-9063-b049-1e69664bb298",
        pciAddress: "0000:07:00.0",
        utilizationGpuPct: null,
        memoryUsedMiB: 50,
        memoryTotalMiB: 81920,
        temperatureC: 27,
        powerDrawW: 67.03,
      },
      {
        index: 1,
        uuid: "GPU-00000000-0000-0000-0000-000000000001",
        pciAddress: "0000:0f:00.0",
        utilizationGpuPct: 0,
        memoryUsedMiB: 4,
        memoryTotalMiB: 81920,
        temperatureC: 29,
        powerDrawW: 61.2,
      },
    ]);
    assert.deepEqual(await sampleTelemetry(fixtureRunner("iommu-off")), [
      {
        index: 0,
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        pciAddress: "0000:18:00.0",
        utilizationGpuPct: 0,
        memoryUsedMiB: 0,
        memoryTotalMiB: 81559,
        temperatureC: 41,
        powerDrawW: 69.85,
      },
    ]);
    assert.deepEqual(await sampleTelemetry(fixtureRunner("no-gpu")), []);
    assert.deepEqual(await sampleTelemetry(fixtureRunner("rtx4090-vfio")), []);
    await assert.rejects(
      sampleTelemetry(async () => ({ code: 15, stdout: "", stderr: "Insufficient Permissions\n" })),
      /exited with status 15: Insufficient Permissions/,
    );
    assert.deepEqual(
      parseTelemetryCsv("0, GPU-x, 00000000:01:00.0, [Not Supported], 10, 100, 30, [N/A]\n")[0]?.powerDrawW,
      null,
    );
  });
});

describe("kernel facts", () => {
  test("kernel command line: the last value wins, init's arguments after -- are not the kernel's", () => {
    const cmdline = parseCmdline(
      "BOOT_IMAGE=/vmlinuz ro intel_iommu=off intel_iommu=on iommu=pt -- amd_iommu=on",
    );
    assert.equal(cmdline.intelIommu, "on");
    assert.equal(cmdline.iommu, "pt");
    assert.equal(cmdline.amdIommu, null);
  });

  test("cpuinfo: vendor, logical CPUs, virtualization flag, hypervisor flag", () => {
    const cpu = parseCpuinfo(readFileSync(join(FIXTURES, "rtx4090-shared-group", "proc", "cpuinfo"), "utf8"));
    assert.deepEqual(cpu, {
      model: "AMD Ryzen 9 7950X 16-Core Processor",
      vendor: "amd",
      cores: 4,
      virtualizationFlag: "svm",
      underHypervisor: false,
    });
    const guest = parseCpuinfo(
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 hypervisor\n",
    );
    assert.equal(guest.virtualizationFlag, null);
    assert.equal(guest.underHypervisor, true);
  });

  test("KVM verdicts: each way it can be unusable says why", () => {
    const cpu = {
      model: "x",
      vendor: "intel" as const,
      cores: 1,
      virtualizationFlag: "vmx" as const,
      underHypervisor: false,
    };
    const ok = { path: "/dev/kvm", exists: true, characterDevice: true, openable: true, error: null };
    assert.equal(kvmVerdict(ok, cpu, ["kvm", "kvm_intel"]).usable, true);
    assert.equal(
      kvmVerdict(ok, cpu, ["kvm", "kvm_intel"]).reason,
      "/dev/kvm opens read-write, the CPU has vmx, KVM modules: kvm, kvm_intel",
    );
    assert.equal(
      kvmVerdict({ ...ok, exists: false, characterDevice: false, openable: false, error: "ENOENT" }, cpu, [])
        .reason,
      "KVM unusable: /dev/kvm does not exist (no KVM module loaded)",
    );
    assert.equal(
      kvmVerdict({ ...ok, openable: false, error: "EACCES: permission denied" }, cpu, ["kvm", "kvm_intel"])
        .reason,
      "KVM unusable: /dev/kvm cannot be opened read-write: EACCES: permission denied",
    );
    // A guest whose /dev/kvm is served by a paravirtual module, with no vmx/svm: not hardware KVM.
    const guest = { ...cpu, vendor: "amd" as const, virtualizationFlag: null, underHypervisor: true };
    const verdict = kvmVerdict(ok, guest, ["kvm", "kvm_pvm"]);
    assert.equal(verdict.usable, false);
    assert.equal(
      verdict.reason,
      "KVM unusable: the CPU flags in /proc/cpuinfo have neither vmx (Intel VT-x) nor svm (AMD-V): no hardware virtualization is exposed to this machine, which is itself a virtual machine (flag 'hypervisor'); /dev/kvm opens, but what serves it (kvm_pvm) is not hardware-assisted KVM",
    );
  });

  test("probeKvmDevice: missing, and a regular file posing as /dev/kvm", async () => {
    const dir = mkdtempSync(join(tmpdir(), "inventory-kvm-"));
    const missing = await probeKvmDevice(dir);
    assert.equal(missing.exists, false);
    assert.equal(missing.openable, false);
    writeFileSync(join(dir, "kvm"), "");
    assert.deepEqual(await probeKvmDevice(dir), {
      path: join(dir, "kvm"),
      exists: true,
      characterDevice: false,
      openable: false,
      error: "not a character device",
    });
    rmSync(dir, { recursive: true });
  });
});

describe("schema and CLI", () => {
  test("the schema refuses an inventory that claims more than its facts", async () => {
    const inv = await discover(fixtureOptions("no-gpu"));
    assert.equal(InventorySchema.safeParse(inv).success, true);
    assert.equal(
      InventorySchema.safeParse({ ...inv, canPassThrough: true, mode: "gpu-passthrough" }).success,
      false,
    );
    assert.equal(InventorySchema.safeParse({ ...inv, mode: "gpu-passthrough" }).success, false);
    const shared = await discover(fixtureOptions("rtx4090-shared-group"));
    const lie = { ...shared, gpus: shared.gpus.map((g) => ({ ...g, vfioReady: true })) };
    assert.equal(InventorySchema.safeParse(lie).success, false);
    assert.equal(
      InventorySchema.safeParse({ ...inv, gpus: [{ ...shared.gpus[0], pciAddress: "00000000:04:00.0" }] })
        .success,
      false,
    );
  });

  test("runDoctorCli: text, --json, exit status, bad arguments", async () => {
    let out = "";
    let err = "";
    const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
    assert.equal(await runDoctorCli([], io, fixtureOptions("h100-vfio")), 0);
    assert.ok(out.startsWith("ComputeHive host doctor\n"));
    assert.ok(out.includes("Verdict: This host can offer GPU passthrough"));
    out = "";
    assert.equal(await runDoctorCli(["--json"], io, fixtureOptions("no-gpu")), 1);
    const json = JSON.parse(out) as { inventory: unknown; steps: unknown[]; verdict: string };
    assert.equal(InventorySchema.parse(json.inventory).mode, "cpu-only-development");
    assert.ok(json.verdict.startsWith(CPU_ONLY_VERDICT));
    assert.equal(json.steps.length, 6);
    assert.equal(await runDoctorCli(["--frobnicate"], io, fixtureOptions("no-gpu")), 2);
    assert.match(err, /unknown argument --frobnicate/);
    const dir = join(FIXTURES, "iommu-off");
    out = "";
    assert.equal(
      await runDoctorCli([`--sys=${join(dir, "sys")}`, `--proc=${join(dir, "proc")}`, "--json"], io, {
        run: fixtureRunner("iommu-off"),
        probeKvm: fixtureOptions("iommu-off").probeKvm,
      }),
      1,
    );
    assert.equal(
      (JSON.parse(out) as { inventory: Inventory }).inventory.gpus[0]?.name,
      "NVIDIA H100 80GB HBM3",
    );
  });
});

/** The NVIDIA display-class devices sysfs lists here, read independently of the code under test. */
function nvidiaDisplayDevicesHere(): string[] {
  const root = "/sys/bus/pci/devices";
  return readdirSync(root).filter((address) => {
    const vendor = readFileSync(join(root, address, "vendor"), "utf8").trim();
    const cls = readFileSync(join(root, address, "class"), "utf8").trim();
    return vendor === "0x10de" && cls.startsWith("0x03");
  });
}

function hardwareKvmHere(): boolean {
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "";
  if (!/\b(vmx|svm)\b/.test(flags)) return false;
  try {
    if (!statSync("/dev/kvm").isCharacterDevice()) return false;
    closeSync(openSync("/dev/kvm", "r+"));
    return true;
  } catch {
    return false;
  }
}

describe("this machine, as it is", () => {
  test("discover() with the real /sys, /proc and PATH", async (t) => {
    const inv = await discover();
    t.diagnostic(inv.summary);
    t.diagnostic(`KVM: ${inv.kvm.reason}`);
    t.diagnostic(
      `libvirt: ${inv.libvirt.available ? `available (${inv.libvirt.hypervisor ?? "?"})` : inv.libvirt.reason}`,
    );
    t.diagnostic(`nvidia-smi: ${inv.nvidiaSmi.detail}`);
    const here = nvidiaDisplayDevicesHere();
    const found = inv.gpus.filter((g) => g.vendor === "nvidia").map((g) => g.pciAddress);
    assert.deepEqual(found, here, "discover() must find exactly the NVIDIA GPUs sysfs lists");
    if (here.length > 0) {
      t.diagnostic(
        `this machine has NVIDIA GPUs: ${inv.gpus.map((g) => `${g.pciAddress} ${g.name} (${g.driver ?? "no driver"}, ready: ${g.vfioReady})`).join("; ")}`,
      );
    } else {
      assert.deepEqual(found, []);
    }
    assert.equal(inv.kvm.usable, hardwareKvmHere());
    const virsh = spawnSync("virsh", ["-c", "qemu:///system", "version"], { encoding: "utf8" });
    assert.equal(inv.libvirt.available, virsh.status === 0);
    const smi = spawnSync("nvidia-smi", ["-L"], { encoding: "utf8" });
    if (smi.error !== undefined && (smi.error as NodeJS.ErrnoException).code === "ENOENT") {
      assert.deepEqual(inv.nvidiaSmi, { status: "not-found", detail: "nvidia-smi not found" });
    }
    const ready = inv.gpus.some((g) => g.vfioReady);
    assert.equal(inv.canPassThrough, ready && inv.kvm.usable);
    assert.equal(inv.mode, inv.canPassThrough ? "gpu-passthrough" : "cpu-only-development");
    const report = doctor(inv);
    t.diagnostic(`verdict: ${report.verdict}`);
    if (!inv.canPassThrough) {
      assert.ok(report.verdict.startsWith(CPU_ONLY_VERDICT), report.verdict);
    }
    if (here.length === 0) {
      assert.equal(inv.mode, "cpu-only-development");
      assert.equal(report.steps.find((s) => s.check === "NVIDIA GPU")?.status, "blocked");
      assert.deepEqual(await sampleTelemetry(), []);
    }
  });
});
