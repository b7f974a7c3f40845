/**
 * nvidia-smi, as real drivers print it: `--query-gpu … --format=csv,noheader,nounits` and `-q -x`.
 *
 * CSV quirks handled: a space after every comma, values nvidia-smi cannot give printed in brackets
 * (`[N/A]`, `[Not Supported]`, `[Requested functionality has been deprecated]`, `[Unknown Error]`),
 * plain `N/A` in a few newer fields, units left in when `nounits` is missing (`81559 MiB`), a header
 * line when `noheader` is missing, and an 8-hex-digit PCI domain (`00000000:3B:00.0`).
 * XML: `<nvidia_smi_log>` holding one `<gpu id="00000000:3B:00.0">` per device; values carry units
 * ("81559 MiB") and `N/A` where a field does not apply.
 */
import { XMLParser } from "fast-xml-parser";
import { type CommandRunner, isNotFound, systemRunner } from "./exec.ts";
import { normalizePciAddress } from "./pci.ts";

export const NVIDIA_SMI = "nvidia-smi";

/** Fields of the inventory query, in the order nvidia-smi prints them. */
export const INVENTORY_FIELDS = [
  "index",
  "uuid",
  "name",
  "pci.bus_id",
  "pci.device_id",
  "memory.total",
  "driver_version",
] as const;

/** Fields of the telemetry query (session reports). */
export const TELEMETRY_FIELDS = [
  "index",
  "uuid",
  "pci.bus_id",
  "utilization.gpu",
  "memory.used",
  "memory.total",
  "temperature.gpu",
  "power.draw",
] as const;

export const INVENTORY_ARGS = [`--query-gpu=${INVENTORY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
export const TELEMETRY_ARGS = [`--query-gpu=${TELEMETRY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
export const XML_ARGS = ["-q", "-x"];

/** One GPU as nvidia-smi describes it. Fields nvidia-smi could not give are null. */
export interface NvidiaSmiGpu {
  pciAddress: string;
  index: number | null;
  uuid: string | null;
  name: string | null;
  vendorId: string | null;
  deviceId: string | null;
  vramMiB: number | null;
  driverVersion: string | null;
  /** From `-q -x` only: "None" on bare metal, "Pass-Through" when nvidia-smi itself runs in a guest. */
  virtualizationMode: string | null;
}

export type NvidiaSmiStatus = "ok" | "not-found" | "no-devices" | "driver-unreachable" | "failed";

export interface NvidiaSmiReport {
  status: NvidiaSmiStatus;
  /** One plain sentence: what nvidia-smi said, or why it could not be asked. */
  detail: string;
  gpus: NvidiaSmiGpu[];
}

export interface GpuTelemetry {
  index: number | null;
  uuid: string | null;
  pciAddress: string;
  utilizationGpuPct: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
}

export class NvidiaSmiParseError extends Error {
  override name = "NvidiaSmiParseError";
}

/** A CSV cell, or null when nvidia-smi printed a placeholder instead of a value. */
export function csvValue(raw: string): string | null {
  const value = raw.trim();
  if (value === "" || value === "N/A" || /^\[[^\]]*\]$/.test(value)) return null;
  return value;
}

/** The leading number of a value ("81559", "81559 MiB", "69.85 W", "41 C", "0 %"), else null. */
export function leadingNumber(value: string | null): number | null {
  if (value === null) return null;
  const match = /^-?\d+(?:\.\d+)?/.exec(value.trim());
  return match === null ? null : Number(match[0]);
}

/**
 * `pci.device_id` as nvidia-smi prints it: the 32-bit PCI id, device in the high half and vendor
 * in the low half (`0x233010DE` in CSV, `233010DE` in XML) → `{ deviceId: "2330", vendorId: "10de" }`.
 */
export function splitPciDeviceId(value: string | null): { vendorId: string; deviceId: string } | null {
  if (value === null) return null;
  const hex = value.trim().toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{8}$/.test(hex)) return null;
  return { deviceId: hex.slice(0, 4), vendorId: hex.slice(4) };
}

/**
 * Parses `--query-gpu=<fields> --format=csv[,noheader][,nounits]` output into one record per GPU,
 * keyed by the requested field names. Throws NvidiaSmiParseError on a row with the wrong number of
 * cells (nvidia-smi never quotes, so a stray comma would shift every later column).
 */
export function parseQueryCsv<F extends string>(
  stdout: string,
  fields: readonly F[],
): Array<Record<F, string | null>> {
  const rows: Array<Record<F, string | null>> = [];
  const lines = stdout.split(/\r?\n/).filter((line) => line.trim() !== "");
  for (const [lineNumber, line] of lines.entries()) {
    const cells = line.split(",");
    if (lineNumber === 0 && cells[0]?.trim() === fields[0]) continue; // header (no `noheader`)
    if (cells.length !== fields.length) {
      throw new NvidiaSmiParseError(
        `nvidia-smi CSV line ${lineNumber + 1} has ${cells.length} values, expected ${fields.length} (${fields.join(",")}): ${line}`,
      );
    }
    const row = {} as Record<F, string | null>;
    fields.forEach((field, i) => {
      row[field] = csvValue(cells[i] ?? "");
    });
    rows.push(row);
  }
  return rows;
}

function requireAddress(raw: string | null, where: string): string {
  const address = raw === null ? null : normalizePciAddress(raw);
  if (address === null) throw new NvidiaSmiParseError(`${where}: not a PCI bus id: ${String(raw)}`);
  return address;
}

/** The inventory query's CSV → GPUs. */
export function parseInventoryCsv(stdout: string): NvidiaSmiGpu[] {
  return parseQueryCsv(stdout, INVENTORY_FIELDS).map((row) => {
    const ids = splitPciDeviceId(row["pci.device_id"]);
    return {
      pciAddress: requireAddress(row["pci.bus_id"], "nvidia-smi CSV pci.bus_id"),
      index: leadingNumber(row.index),
      uuid: row.uuid,
      name: row.name,
      vendorId: ids?.vendorId ?? null,
      deviceId: ids?.deviceId ?? null,
      vramMiB: leadingNumber(row["memory.total"]),
      driverVersion: row.driver_version,
      virtualizationMode: null,
    };
  });
}

/** The telemetry query's CSV → samples. */
export function parseTelemetryCsv(stdout: string): GpuTelemetry[] {
  return parseQueryCsv(stdout, TELEMETRY_FIELDS).map((row) => ({
    index: leadingNumber(row.index),
    uuid: row.uuid,
    pciAddress: requireAddress(row["pci.bus_id"], "nvidia-smi CSV pci.bus_id"),
    utilizationGpuPct: leadingNumber(row["utilization.gpu"]),
    memoryUsedMiB: leadingNumber(row["memory.used"]),
    memoryTotalMiB: leadingNumber(row["memory.total"]),
    temperatureC: leadingNumber(row["temperature.gpu"]),
    powerDrawW: leadingNumber(row["power.draw"]),
  }));
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Keep every value a string: "00" and "0x0000" are ids, not numbers.
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (_name, jpath) => jpath === "nvidia_smi_log.gpu",
});

type XmlNode = Record<string, unknown>;

function child(node: unknown, key: string): unknown {
  return typeof node === "object" && node !== null ? (node as XmlNode)[key] : undefined;
}

function text(node: unknown): string | null {
  if (typeof node !== "string") return null;
  const value = node.trim();
  return value === "" || value === "N/A" ? null : value;
}

/** `nvidia-smi -q -x` → driver version and GPUs. Throws NvidiaSmiParseError when it is not that document. */
export function parseNvidiaSmiXml(stdout: string): { driverVersion: string | null; gpus: NvidiaSmiGpu[] } {
  let doc: unknown;
  try {
    doc = xmlParser.parse(stdout.trim());
  } catch (error) {
    throw new NvidiaSmiParseError(`nvidia-smi -q -x printed malformed XML: ${(error as Error).message}`);
  }
  const log = child(doc, "nvidia_smi_log");
  if (log === undefined || log === null || typeof log !== "object") {
    throw new NvidiaSmiParseError("nvidia-smi -q -x output has no <nvidia_smi_log> element");
  }
  const driverVersion = text(child(log, "driver_version"));
  const gpuNodes = (child(log, "gpu") as unknown[] | undefined) ?? [];
  const gpus = gpuNodes.map((gpu): NvidiaSmiGpu => {
    const pci = child(gpu, "pci");
    const rawAddress = text(child(pci, "pci_bus_id")) ?? text(child(gpu, "@_id"));
    const ids = splitPciDeviceId(text(child(pci, "pci_device_id")));
    return {
      pciAddress: requireAddress(rawAddress, "nvidia-smi XML <gpu id>"),
      index: null, // -q -x has no index (minor_number is the /dev/nvidiaN number, not the index)
      uuid: text(child(gpu, "uuid")),
      name: text(child(gpu, "product_name")),
      vendorId: ids?.vendorId ?? null,
      deviceId: ids?.deviceId ?? null,
      vramMiB: leadingNumber(text(child(child(gpu, "fb_memory_usage"), "total"))),
      driverVersion,
      virtualizationMode: text(child(child(gpu, "gpu_virtualization_mode"), "virtualization_mode")),
    };
  });
  return { driverVersion, gpus };
}

/** What a failed nvidia-smi run means, from the words real drivers print. */
export function classifyFailure(code: number, stdout: string, stderr: string): NvidiaSmiReport {
  const output = `${stdout}\n${stderr}`;
  const firstLine = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line !== "");
  if (/No devices were found/i.test(output)) {
    return {
      status: "no-devices",
      detail: 'nvidia-smi found no GPU it can manage ("No devices were found")',
      gpus: [],
    };
  }
  if (/couldn't communicate with the NVIDIA driver/i.test(output)) {
    return {
      status: "driver-unreachable",
      detail:
        "nvidia-smi cannot reach the NVIDIA kernel driver (not loaded, or every GPU is bound to another driver)",
      gpus: [],
    };
  }
  return {
    status: "failed",
    detail: `nvidia-smi exited with status ${code}${firstLine === undefined ? "" : `: ${firstLine}`}`,
    gpus: [],
  };
}

const NOT_FOUND: NvidiaSmiReport = { status: "not-found", detail: "nvidia-smi not found", gpus: [] };

/**
 * Asks nvidia-smi for the GPUs it manages: the CSV query first, then `-q -x` for what only the XML
 * says. A missing nvidia-smi is an answer ("nvidia-smi not found"), not an error; so is a driver that
 * sees no GPU. Output that cannot be parsed is reported as status "failed" with the reason.
 */
export async function queryNvidiaSmi(run: CommandRunner = systemRunner()): Promise<NvidiaSmiReport> {
  let csv: Awaited<ReturnType<CommandRunner>>;
  try {
    csv = await run(NVIDIA_SMI, INVENTORY_ARGS);
  } catch (error) {
    if (isNotFound(error)) return NOT_FOUND;
    return { status: "failed", detail: `nvidia-smi could not run: ${(error as Error).message}`, gpus: [] };
  }
  if (csv.code !== 0) return classifyFailure(csv.code, csv.stdout, csv.stderr);
  let gpus: NvidiaSmiGpu[];
  try {
    gpus = parseInventoryCsv(csv.stdout);
  } catch (error) {
    return { status: "failed", detail: (error as Error).message, gpus: [] };
  }
  let xmlNote = "";
  try {
    const xml = await run(NVIDIA_SMI, XML_ARGS);
    if (xml.code === 0) {
      const parsed = parseNvidiaSmiXml(xml.stdout);
      for (const gpu of gpus) {
        const fromXml = parsed.gpus.find((g) => g.pciAddress === gpu.pciAddress);
        if (fromXml === undefined) continue;
        gpu.uuid ??= fromXml.uuid;
        gpu.name ??= fromXml.name;
        gpu.vendorId ??= fromXml.vendorId;
        gpu.deviceId ??= fromXml.deviceId;
        gpu.vramMiB ??= fromXml.vramMiB;
        gpu.driverVersion ??= fromXml.driverVersion;
        gpu.virtualizationMode = fromXml.virtualizationMode;
      }
    } else {
      xmlNote = `; -q -x failed: ${classifyFailure(xml.code, xml.stdout, xml.stderr).detail}`;
    }
  } catch (error) {
    xmlNote = `; -q -x unusable: ${(error as Error).message}`;
  }
  const count = gpus.length;
  return {
    status: count === 0 ? "no-devices" : "ok",
    detail: `nvidia-smi lists ${count} GPU${count === 1 ? "" : "s"}${xmlNote}`,
    gpus,
  };
}

/**
 * One telemetry sample per GPU nvidia-smi manages (utilization, memory, temperature, power), for
 * session reports. No nvidia-smi, no driver, or no GPU → an empty list. GPUs bound to vfio-pci
 * are invisible to the host's nvidia-smi: their telemetry has to come from inside the guest.
 * Throws when nvidia-smi fails in any other way or prints something unparseable.
 */
export async function sampleTelemetry(run: CommandRunner = systemRunner()): Promise<GpuTelemetry[]> {
  let result: Awaited<ReturnType<CommandRunner>>;
  try {
    result = await run(NVIDIA_SMI, TELEMETRY_ARGS);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  if (result.code !== 0) {
    const failure = classifyFailure(result.code, result.stdout, result.stderr);
    if (failure.status === "failed") throw new Error(failure.detail);
    return [];
  }
  return parseTelemetryCsv(result.stdout);
}
