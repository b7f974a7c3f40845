import { cLocaleEnv, run } from "../system/exec.ts";
import type { SessionKey } from "./key.ts";
import { el, renderXml } from "./xml.ts";

/**
 * libvirt secrets holding overlay passphrases. The binding has no secret API, so the real store is
 * `virsh`; tests on `test:///default` use an in-memory one (virsh would open a different, empty
 * test driver in its own process).
 */
export interface SecretStore {
  /** Defines an ephemeral (never written to disk by libvirt), private (never readable back) volume secret. */
  define(uuid: string, volumePath: string, description: string): Promise<void>;
  setValue(uuid: string, key: SessionKey): Promise<void>;
  /** Fine when it is already gone. */
  undefine(uuid: string): Promise<void>;
  list(): Promise<string[]>;
}

export function buildSecretXml(uuid: string, volumePath: string, description: string): string {
  return renderXml(
    el(
      "secret",
      { ephemeral: "yes", private: "yes" },
      el("uuid", {}, uuid),
      el("description", {}, description),
      el("usage", { type: "volume" }, el("volume", {}, volumePath)),
    ),
  );
}

export class VirshSecretStore implements SecretStore {
  constructor(readonly uri: string) {}

  async define(uuid: string, volumePath: string, description: string): Promise<void> {
    await this.virsh(
      ["secret-define", "/dev/stdin"],
      Buffer.from(buildSecretXml(uuid, volumePath, description)),
    );
  }

  /** `--plain` takes the file's bytes as they are; the file is the pipe from this process. */
  async setValue(uuid: string, key: SessionKey): Promise<void> {
    await this.virsh(["secret-set-value", uuid, "--file", "/dev/stdin", "--plain"], key.passphrase);
  }

  async undefine(uuid: string): Promise<void> {
    if (!(await this.list()).includes(uuid)) return;
    await this.virsh(["secret-undefine", uuid]);
  }

  async list(): Promise<string[]> {
    const out = await this.virsh(["secret-list"]);
    return out
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[0])
      .filter((u): u is string => !!u && /^[0-9a-f-]{36}$/.test(u));
  }

  private virsh(args: string[], stdinFile?: Buffer): Promise<string> {
    return run("virsh", ["-q", "-c", this.uri, ...args], { stdinFile, timeoutMs: 60_000, env: cLocaleEnv() });
  }
}
