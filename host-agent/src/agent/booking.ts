/**
 * What the oracle-node asks of the agent, as zod schemas: the API validates every body with them and the
 * agent validates again (it is also called in-process). Objects are strict: a misspelt field is an error,
 * not something silently ignored.
 */
import { z } from "zod";

/** A market booking id: a uint256 in decimal, no leading zeros. */
export const BookingId = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "must be a decimal uint256");

/** `dddd:bb:ss.f`, as sysfs and `lspci -D` print it. */
const PciAddress = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, "must look like 0000:01:00.0"));

/** Unix seconds, [start, end), as the market's calendar has it. */
export const BookingWindow = z
  .strictObject({
    start: z.number().int().nonnegative(),
    end: z.number().int().positive(),
  })
  .refine((w) => w.end > w.start, { path: ["end"], message: "must be after start" });

/** The listing's hardware: what the VM gets. GPUs by PCI address; each must be VFIO-ready here. */
export const ListingHardware = z.strictObject({
  vcpus: z.number().int().min(1).max(256),
  memoryMiB: z
    .number()
    .int()
    .min(128)
    .max(4 * 1024 * 1024),
  gpus: z.array(PciAddress).max(16).default([]),
  /** The guest's disk (an encrypted overlay); default: the agent's `defaultDiskGiB`. */
  diskGiB: z.number().int().min(1).max(65536).optional(),
});

export const BookingRequest = z.strictObject({
  bookingId: BookingId,
  window: BookingWindow,
  /**
   * The borrower's OpenSSH public key line from the `Booked` event. Any string is accepted here: the key
   * checks themselves (validateBorrowerKey) give the on-chain reason code (2..5) for a bad one, which a
   * schema error could not. The cap only bounds the request.
   */
  borrowerSshKey: z.string().max(16 * 1024),
  hardware: ListingHardware,
});

export type BookingRequest = z.output<typeof BookingRequest>;
export type BookingRequestInput = z.input<typeof BookingRequest>;

export const ExtendRequest = z.strictObject({
  /** The new end of the window, Unix seconds; later than the current one. */
  end: z.number().int().positive(),
});

export const ReconcileRequest = z.strictObject({
  /**
   * Every booking that should have a VM now: a booking id keeps (or tears down, if its window is over) a
   * VM that exists; a full booking is also provisioned when it has none. Anything else of ours is torn down.
   */
  desired: z.array(z.union([BookingId, BookingRequest])).max(10_000),
});

export type ReconcileRequest = z.output<typeof ReconcileRequest>;

/** zod's issues as `path: message` pairs, for the API's 400 body. */
export function formatIssues(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({
    path: i.path.map(String).join(".") || "(body)",
    message: i.message,
  }));
}
