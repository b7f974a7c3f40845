/**
 * The inventory's shape, as zod schemas: the local API validates what it serves with them, and the
 * refinements refuse an inventory that claims more than its own facts support (passthrough without a
 * VFIO-ready GPU and usable KVM, a ready GPU that still has blockers).
 */
import { z } from "zod";

/** sysfs form: a 4-digit domain, or a wider one without leading zeros (VMD domains such as 10000). */
export const PciAddressSchema = z
  .string()
  .regex(/^(?:[0-9a-f]{4}|[1-9a-f][0-9a-f]{4,7}):[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
const PciIdSchema = z.string().regex(/^[0-9a-f]{4}$/);
const ClassCodeSchema = z.string().regex(/^[0-9a-f]{6}$/);

export const BlockerCodeSchema = z.enum([
  "vendor-unsupported",
  "iommu-off",
  "no-iommu-group",
  "group-shared",
  "driver-not-vfio",
  "vfio-missing",
]);

export const BlockerSchema = z.object({
  code: BlockerCodeSchema,
  /** What is wrong, in one or two plain sentences. */
  detail: z.string().min(1),
  /** What to do, as exact commands or settings, one per line. */
  fix: z.array(z.string()),
});

export const GroupMemberSchema = z.object({
  address: PciAddressSchema,
  vendorId: PciIdSchema,
  deviceId: PciIdSchema,
  classCode: ClassCodeSchema,
  /** Short class name: "3D controller", "audio device", "PCI bridge", … */
  className: z.string(),
  driver: z.string().nullable(),
  isBridge: z.boolean(),
  /** gpu: the GPU itself; gpu-function: another function of the same card (its audio, USB-C, …);
   * bridge: a PCI bridge (may stay on its host driver); other-device: anything else, which passing
   * the group through would hand to the guest. */
  role: z.enum(["gpu", "gpu-function", "bridge", "other-device"]),
  /** VFIO accepts this member as it is: a bridge, or bound to vfio-pci, or bound to nothing. */
  driverOk: z.boolean(),
});

export const GpuSchema = z.object({
  pciAddress: PciAddressSchema,
  vendor: z.enum(["nvidia", "amd"]),
  vendorId: PciIdSchema,
  deviceId: PciIdSchema,
  classCode: ClassCodeSchema,
  /** From nvidia-smi when it lists the GPU, else "unknown NVIDIA device 10de:xxxx". */
  name: z.string().min(1),
  nameSource: z.enum(["nvidia-smi", "pci-id"]),
  uuid: z.string().optional(),
  vramMiB: z.number().int().nonnegative().optional(),
  nvidiaDriverVersion: z.string().optional(),
  /** nvidia-smi's virtualization mode: "Pass-Through" means this machine is itself a guest. */
  virtualizationMode: z.string().optional(),
  driver: z.string().nullable(),
  iommuGroup: z.number().int().nonnegative().nullable(),
  groupMembers: z.array(GroupMemberSchema),
  /** This agent can pass it through (NVIDIA). AMD GPUs are listed honestly but not supported yet. */
  supported: z.boolean(),
  vfioReady: z.boolean(),
  blockers: z.array(BlockerSchema),
});

export const OtherDisplayDeviceSchema = z.object({
  address: PciAddressSchema,
  vendorId: PciIdSchema,
  deviceId: PciIdSchema,
  classCode: ClassCodeSchema,
  driver: z.string().nullable(),
});

export const InventorySchema = z
  .object({
    schemaVersion: z.literal(1),
    collectedAt: z.iso.datetime(),
    gpus: z.array(GpuSchema),
    /** Display-class devices that are not GPUs this agent lends (a BMC's VGA, an iGPU). */
    otherDisplayDevices: z.array(OtherDisplayDeviceSchema),
    pciDeviceCount: z.number().int().nonnegative(),
    iommu: z.object({
      enabled: z.boolean(),
      groupCount: z.number().int().nonnegative(),
      units: z.array(z.string()),
      evidence: z.array(z.string()),
    }),
    vfio: z.object({ moduleLoaded: z.boolean(), driverRegistered: z.boolean() }),
    kvm: z.object({
      /** Hardware-assisted KVM: /dev/kvm opens read-write and the CPU exposes vmx or svm. */
      usable: z.boolean(),
      reason: z.string().min(1),
      device: z.object({
        path: z.string(),
        exists: z.boolean(),
        characterDevice: z.boolean(),
        openable: z.boolean(),
        error: z.string().nullable(),
      }),
      cpuFlag: z.enum(["vmx", "svm"]).nullable(),
      modules: z.array(z.string()),
    }),
    libvirt: z.object({
      available: z.boolean(),
      uri: z.string(),
      libraryVersion: z.string().optional(),
      hypervisor: z.string().optional(),
      reason: z.string().optional(),
    }),
    nvidiaSmi: z.object({
      status: z.enum(["ok", "not-found", "no-devices", "driver-unreachable", "failed"]),
      detail: z.string(),
    }),
    cpu: z.object({
      model: z.string(),
      vendor: z.enum(["intel", "amd", "other"]),
      cores: z.number().int().nonnegative(),
      underHypervisor: z.boolean(),
    }),
    ramMiB: z.number().int().nonnegative().nullable(),
    canPassThrough: z.boolean(),
    mode: z.enum(["gpu-passthrough", "cpu-only-development"]),
    warnings: z.array(z.string()),
    summary: z.string().min(1),
  })
  .superRefine((inv, ctx) => {
    const ready = inv.gpus.some((g) => g.vfioReady);
    if (inv.canPassThrough !== (ready && inv.kvm.usable)) {
      ctx.addIssue({
        code: "custom",
        path: ["canPassThrough"],
        message: "canPassThrough must equal (a GPU is vfioReady and KVM is usable)",
      });
    }
    if ((inv.mode === "gpu-passthrough") !== inv.canPassThrough) {
      ctx.addIssue({
        code: "custom",
        path: ["mode"],
        message: "mode must be gpu-passthrough exactly when canPassThrough",
      });
    }
    inv.gpus.forEach((gpu, i) => {
      if (gpu.vfioReady && (gpu.blockers.length > 0 || !gpu.supported || !inv.iommu.enabled)) {
        ctx.addIssue({
          code: "custom",
          path: ["gpus", i, "vfioReady"],
          message: "a GPU with blockers, unsupported, or without an IOMMU cannot be vfioReady",
        });
      }
    });
  });

export type Blocker = z.infer<typeof BlockerSchema>;
export type BlockerCode = z.infer<typeof BlockerCodeSchema>;
export type GroupMember = z.infer<typeof GroupMemberSchema>;
export type Gpu = z.infer<typeof GpuSchema>;
export type OtherDisplayDevice = z.infer<typeof OtherDisplayDeviceSchema>;
export type Inventory = z.infer<typeof InventorySchema>;
