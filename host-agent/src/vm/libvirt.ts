/**
 * The part of `@unraid/libvirt` the manager uses, as structural types: the binding is an optional
 * dependency (it needs libvirt-dev to build), so nothing here imports it statically, and tests can
 * hand in any connection with these methods.
 */

export interface LibvirtDomain {
  getName(): Promise<string>;
  getUUIDString(): Promise<string>;
  /** A number while the domain runs; null or undefined when it is shut off. */
  getID(): Promise<number | null | undefined>;
  getXMLDesc(flags?: number): Promise<string>;
  create(): Promise<void>;
  destroy(): Promise<void>;
  undefine(): Promise<void>;
}

export interface VmConnection {
  domainDefineXML(xml: string): Promise<LibvirtDomain>;
  domainLookupByName(name: string): Promise<LibvirtDomain>;
  connectListAllDomains(): Promise<LibvirtDomain[]>;
}

/** Opens a libvirt connection through the binding: `test:///default` in tests, `qemu:///system` for real. */
export async function openLibvirt(uri: string): Promise<VmConnection & { connectClose(): Promise<void> }> {
  // A computed specifier keeps the optional binding out of the type check and out of static imports.
  const specifier = "@unraid/libvirt";
  const mod = (await import(specifier)) as {
    Hypervisor: new (opts: {
      uri: string;
    }) => VmConnection & {
      connectOpen(): Promise<void>;
      connectClose(): Promise<void>;
    };
  };
  const hv = new mod.Hypervisor({ uri });
  await hv.connectOpen();
  return hv;
}

/** The domain with this name, or undefined. The binding drops libvirt's error codes, so absence is checked by listing. */
export async function findDomain(conn: VmConnection, name: string): Promise<LibvirtDomain | undefined> {
  try {
    return await conn.domainLookupByName(name);
  } catch (e) {
    const names = await Promise.all((await conn.connectListAllDomains()).map((d) => d.getName()));
    if (!names.includes(name)) return undefined;
    throw e;
  }
}

export async function isActive(domain: LibvirtDomain): Promise<boolean> {
  const id = await domain.getID();
  return typeof id === "number" && id >= 0;
}
