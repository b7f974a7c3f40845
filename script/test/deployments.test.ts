// The deployment-record loader (sdk/src/deployments.ts, sdk/src/node.ts) and the CID helper, without a chain.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { rawCid } from "../../sdk/src/cid.ts";
import { DeploymentError, parseDeployment } from "../../sdk/src/deployments.ts";
import { deploymentPath, loadDeployment, loadDeploymentFile } from "../../sdk/src/node.ts";

const record = {
  chainId: 31337,
  market: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  startBlock: 1,
  deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  owner: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  pendingOwner: null,
  treasury: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  arbiter: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  usdFeed: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  testToken: null,
  params: {
    slotLength: 900,
    activationGrace: 600,
    reportGrace: 3600,
    disputeWindow: 86400,
    arbiterDeadline: 604800,
    cancelCutoff: 86400,
    cancelFeeBps: 2000,
    unbondingDelay: 604800,
    minBond: "1000000000000000001",
    noShowSlash: "100000000000000000",
    feeBps: 250,
    usdFeedMaxAge: 3600,
  },
};

describe("deployment records", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "computehive-deployments-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses a record: checksummed addresses, wei as exact bigints, nulls kept", () => {
    const d = parseDeployment(record);
    assert.equal(d.market, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    assert.equal(d.startBlock, 1n);
    assert.equal(d.params.minBond, 1_000_000_000_000_000_001n);
    assert.equal(d.testToken, null);
    assert.equal(d.pendingOwner, null);
  });

  it("names the file and the field that is wrong", () => {
    assert.throws(
      () => parseDeployment({ ...record, market: "0x1234" }, "deployments/31337.json"),
      (e: unknown) =>
        e instanceof DeploymentError &&
        /deployments\/31337\.json: field "market" must be an address/.test(e.message),
    );
    assert.throws(
      () => parseDeployment({ ...record, params: { ...record.params, slotLength: -1 } }),
      /field "params\.slotLength" must be a non-negative integer/,
    );
    assert.throws(
      () => parseDeployment({ ...record, params: undefined }),
      /field "params" must be an object/,
    );
    assert.throws(() => parseDeployment([]), DeploymentError);
  });

  it("loads deployments/<chainId>.json and says what to do when it is missing", async () => {
    await writeFile(deploymentPath(31337, dir), JSON.stringify(record));
    const d = await loadDeployment(31337, dir);
    assert.equal(d.chainId, 31337);
    await assert.rejects(loadDeployment(1, dir), /1\.json: no deployment record\. Deploy first/);
    await writeFile(join(dir, "5.json"), JSON.stringify(record));
    await assert.rejects(loadDeployment(5, dir), /records chain 31337, expected 5/);
    await writeFile(join(dir, "bad.json"), "{ not json");
    await assert.rejects(loadDeploymentFile(join(dir, "bad.json")), /bad\.json: not valid JSON/);
  });

  it("computes raw CIDv1 content addresses as IPFS does", () => {
    // Known values: `ipfs add --cid-version 1 --raw-leaves` of an empty file and of "hello world".
    assert.equal(rawCid(""), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    assert.equal(rawCid("hello world"), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  });
});
