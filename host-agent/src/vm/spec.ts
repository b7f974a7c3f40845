import { createHash } from "node:crypto";
import { z } from "zod";
import { DeclineReason } from "../decline-reason.ts";

/** Every domain this agent creates is named with this prefix; reconcile treats the prefix as its namespace. */
export const DOMAIN_PREFIX = "computehive-booking-";

/** The namespace of the `<metadata>` element the agent puts on each domain. */
export const METADATA_NS = "urn:computehive:vm:1";

/** `DeclineReason.PROVISIONING_FAILED`: what a failed provision tells the oracle-node to put on-chain. */
export const PROVISIONING_FAILED = DeclineReason.PROVISIONING_FAILED;

const absPath = z
  .string()
  .min(2)
  .max(4096)
  .startsWith("/", "must be an absolute path")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");

/** `dddd:bb:ss.f`, as sysfs and `lspci -D` print it. */
const pciAddress = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, "must look like 0000:01:00.0"));

const ipv4 = z.ipv4();

export const GpuSpec = z
  .object({
    pciAddress,
    /**
     * The IOMMU group's endpoints that go with the GPU (its audio function, USB-C controller, …), the GPU
     * included. Inventory leaves PCIe bridges out: they stay with the host and vfio-pci never binds them.
     * VFIO can only hand a group to a guest whole, so each member becomes its own `<hostdev>`.
     */
    groupMembers: z.array(pciAddress).min(1).max(32),
  })
  .refine((g) => g.groupMembers.includes(g.pciAddress), "groupMembers must include the GPU itself");

export const NetworkSpec = z.discriminatedUnion("mode", [
  z.object({
    /**
     * QEMU user-mode networking with `restrict=on` (the dev/CI default): the guest reaches nothing at all,
     * host included; the only way in is the loopback forward to its port 22.
     */
    mode: z.literal("user-restricted"),
    sshForward: z.object({ host: z.literal("127.0.0.1"), port: z.number().int().min(1024).max(65535) }),
  }),
  z.object({
    /**
     * A libvirt network (production): the guest gets `guestIp` on the bridge and the
     * `computehive-guest-isolation` nwfilter keeps it away from the host and private ranges.
     */
    mode: z.literal("isolated-bridge"),
    network: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    guestIp: ipv4,
    /** The guest network's prefix length, for the seed's static address (the host is its gateway). */
    guestPrefix: z.number().int().min(8).max(30).default(24),
    /**
     * The bridge's address on the host and the guest's gateway: the filter drops guest traffic to it
     * (DNS excepted, if it is the resolver); routed traffic to the internet passes through it.
     */
    hostIp: ipv4,
    /** The only resolver the guest may query. */
    dnsServer: ipv4,
    mac: z
      .string()
      .regex(/^52:54:00(:[0-9a-f]{2}){3}$/)
      .optional(),
  }),
]);

export const VmSpec = z
  .object({
    /** The on-chain booking id, a uint256 in decimal. */
    bookingId: z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "must be a decimal uint256"),
    vmUser: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name")
      .refine((u) => u !== "root", "must not be root"),
    vcpus: z.number().int().min(1).max(256),
    memoryMiB: z
      .number()
      .int()
      .min(128)
      .max(4 * 1024 * 1024),
    gpus: z.array(GpuSpec).max(16).default([]),
    confidential: z.enum(["none", "sev-snp", "tdx"]).default("none"),
    /** Stateless firmware for a confidential guest: OVMF built for SEV-SNP, or TDVF for TDX. */
    firmware: absPath.optional(),
    /** `kvm` where /dev/kvm works, `tcg` (QEMU's emulator) elsewhere. See `detectAccel`. */
    accel: z.enum(["kvm", "tcg"]),
    boot: z.object({ kernel: absPath, initrd: absPath, cmdline: z.string().max(4096) }),
    /** Read-only qcow2 base; every session writes to its own encrypted overlay on top. */
    baseImage: absPath,
    diskGiB: z.number().int().min(1).max(65536),
    /** Unix seconds, [start, end). */
    window: z.object({ start: z.number().int().nonnegative(), end: z.number().int().positive() }),
    network: NetworkSpec,
  })
  .superRefine((s, ctx) => {
    if (s.window.end <= s.window.start) {
      ctx.addIssue({ code: "custom", path: ["window", "end"], message: "must be after start" });
    }
    if (s.confidential !== "none") {
      if (s.accel !== "kvm") {
        ctx.addIssue({ code: "custom", path: ["accel"], message: `${s.confidential} needs kvm` });
      }
      if (!s.firmware) {
        ctx.addIssue({ code: "custom", path: ["firmware"], message: `${s.confidential} needs its firmware` });
      }
    }
    const owner = new Map<string, number>();
    s.gpus.forEach((g, i) => {
      for (const m of g.groupMembers) {
        const other = owner.get(m);
        // Two GPUs in one IOMMU group list the same members; a member in two different groups is a lie.
        if (
          other !== undefined &&
          other !== i &&
          !sameGroup(s.gpus[other]?.groupMembers ?? [], g.groupMembers)
        ) {
          ctx.addIssue({ code: "custom", path: ["gpus", i], message: `${m} is in two different groups` });
        }
        owner.set(m, i);
      }
    });
  });

function sameGroup(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m) => b.includes(m));
}

export type VmSpecInput = z.input<typeof VmSpec>;
export type VmSpec = z.output<typeof VmSpec>;
export type GpuSpec = z.output<typeof GpuSpec>;
export type NetworkSpec = z.output<typeof NetworkSpec>;

export function parseVmSpec(input: unknown): VmSpec {
  return VmSpec.parse(input);
}

export function domainName(bookingId: string): string {
  return `${DOMAIN_PREFIX}${bookingId}`;
}

/** The booking id of one of our domains, or undefined for anybody else's. */
export function bookingIdOfDomain(name: string): string | undefined {
  if (!name.startsWith(DOMAIN_PREFIX)) return undefined;
  const id = name.slice(DOMAIN_PREFIX.length);
  return /^(0|[1-9][0-9]{0,77})$/.test(id) ? id : undefined;
}

/** Every PCI function the domain takes, each once, in a stable order. */
export function passthroughAddresses(spec: Pick<VmSpec, "gpus">): string[] {
  return [...new Set(spec.gpus.flatMap((g) => g.groupMembers))].sort();
}

/** SHA-256 over the spec's canonical JSON (keys sorted): what the journal records as the intent. */
export function specHash(spec: VmSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
