export * from "./doctor.ts";
export * from "./exec.ts";
export * from "./inventory.ts";
export * from "./nvidia-smi.ts";
export * from "./pci.ts";
export * from "./schema.ts";
export * from "./sysfs.ts";
