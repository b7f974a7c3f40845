// The subset of the WebAssembly JS API the host uses. tsconfig.base.json has lib ES2022 only (no DOM) and this
// @types/node does not declare WebAssembly.
declare namespace WebAssembly {
  type ImportExportKind = "function" | "global" | "memory" | "table" | "tag";
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: ImportExportKind;
  }
  interface ModuleExportDescriptor {
    name: string;
    kind: ImportExportKind;
  }
  class Module {
    constructor(bytes: BufferSource);
    static imports(module: Module): ModuleImportDescriptor[];
    static exports(module: Module): ModuleExportDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, ImportValue>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Global {
    value: unknown;
  }
  // biome-ignore lint/complexity/noBannedTypes: any callable is a valid import
  type ImportValue = Function | Global | Memory | number;
}
type BufferSource = ArrayBufferView | ArrayBuffer;
