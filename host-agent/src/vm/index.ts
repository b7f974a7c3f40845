export { detectAccel } from "./accel.ts";
export { buildDomainXml, type DomainResources, SEV_SNP_POLICY, TDX_POLICY } from "./domain-xml.ts";
export { ProvisioningError, VmError, type VmErrorCode } from "./errors.ts";
export {
  type JournalRecord,
  PROVISION_STEPS,
  TEARDOWN_STEPS,
  type TeardownFacts,
  type TeardownReason,
  type TeardownStep,
  VmJournal,
} from "./journal.ts";
export { SessionKey } from "./key.ts";
export { findDomain, type LibvirtDomain, openLibvirt, type VmConnection } from "./libvirt.ts";
export {
  type Clock,
  nodeTimers,
  type ReconcileReport,
  type RecoveryReport,
  type Timers,
  VmManager,
  type VmManagerOptions,
  type VmState,
  type VmStatus,
} from "./manager.ts";
export {
  BLOCKED_IPV4,
  buildGuestIsolationFilterXml,
  GUEST_ISOLATION_FILTER,
  type NwFilterStore,
  VirshNwFilterStore,
} from "./nwfilter.ts";
export { ensureBaseImage, type OverlayStore, QemuImgOverlayStore } from "./overlay.ts";
export { type SecretStore, VirshSecretStore } from "./secrets.ts";
export type { SeedProvider, SeedRequest, SeedResult } from "./seed.ts";
export {
  DOMAIN_PREFIX,
  domainName,
  PROVISIONING_FAILED,
  parseVmSpec,
  VmSpec,
  type VmSpecInput,
} from "./spec.ts";
