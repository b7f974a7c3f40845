/**
 * Security tests at the edges (issue 8), each able to fail:
 *
 * 1. the lender's own side cannot open a borrower's endpoint envelope: not with the agent's key, the lender's
 *    key, a session key the lender's wallet derives for the borrower's context, nor any 32-byte value in the
 *    daemon's state directory; the borrower's session key does (positive control); the daemon's state and logs
 *    never hold the plaintext endpoint;
 * 2. malformed contract calls made directly with Foundry's `cast`: non-zero exit, the revert decoded to the
 *    market's custom error, and no state changed (counters, host, booking, balances, nonces, block number);
 * 3. the host agent's HTTP API: malformed JSON, a missing field, an oversized body, an invalid SSH key, an
 *    unknown booking id, a wrong method or media type → a 4xx with a JSON error in words, and no VM created
 *    (libvirt's domains on test:///default and the agent's list unchanged);
 * 4. the subgraph's query endpoint: a syntax error, an unknown field, `first: 100000`, a bad variable type, a
 *    body that is not JSON → an error naming the problem (graph-node's style and status codes), and the next
 *    valid query answers the same data.
 *
 * The dApp's forms are covered by vitest in dapp/test (forms-config.test.ts, schedule.test.ts), not here.
 *
 * Run: cd oracle-node && node --import tsx --test test/boundaries.test.ts
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AgentClient, ssh, vm } from "@computehive/host-agent";
import {
  deriveSessionKey,
  EnvelopeError,
  marketAbi,
  openEndpoint,
  sessionKeyFromPrivateKey,
  sessionKeyMessage,
} from "@computehive/sdk";
import { pino } from "pino";
import { decodeErrorResult, type Hex, hexToBytes, parseEther, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { bin } from "../../script/src/lib/paths.ts";
import { prepareSubgraph } from "../../script/src/lib/subgraph.ts";
import { type SubgraphHost, startSubgraphHost } from "../../subgraph/host/main.ts";
import { Daemon } from "../src/daemon.ts";
import { openPinner, type Pinner } from "../src/ipfs.ts";
import { startTestAgent, type TestAgent } from "./agent.ts";
import {
  AGENT,
  argsOf,
  type Borrower,
  book,
  bookingStatus,
  borrower,
  type Chain,
  chainNow,
  dev,
  devKey,
  eventsOf,
  hostWithListing,
  LENDER,
  SLOT,
  Status,
  startChain,
  waitFor,
} from "./fixture.ts";
import { tempDir } from "./helpers.ts";

const CAST = bin("cast");
const BOOK_SIG = "book(uint256,uint40,uint40,bytes32,bytes)";
const OUTSIDER = 5;

let chain: Chain;
let agent: TestAgent;
let alice: Borrower;
let hostId: bigint;
let listingId: bigint;
let pricePerHour: bigint;
let stateDir: string;
let logFile: string;
let daemon: Daemon | undefined;
let pinner: Pinner | undefined;
/** The booking the daemon activated (test 1), still Active afterwards. */
let active: { bookingId: bigint; start: number; end: number };
let envelope: Hex;

async function stopDaemon() {
  await daemon?.stop();
  daemon = undefined;
  await pinner?.close();
  pinner = undefined;
}

before(async () => {
  chain = await startChain();
  agent = await startTestAgent();
  alice = await borrower();
  ({ hostId, listingId, pricePerHour } = await hostWithListing(chain));
  stateDir = await tempDir("oracle-boundaries-");
  logFile = join(stateDir, "daemon.log");
  pinner = await openPinner({ dir: join(stateDir, "ipfs") });
  daemon = await Daemon.start({
    market: chain.market,
    account: privateKeyToAccount(devKey(AGENT)),
    hostId,
    agent: new AgentClient({ socketPath: agent.socketPath }),
    pinner,
    stateDir,
    // Every line the daemon writes, at the most verbose level, into its own state folder.
    logger: pino({ level: "trace" }, pino.destination({ dest: logFile, sync: true })),
    confirmations: 0,
    pollMs: 100,
    provisionLeadS: 3600,
    upkeepEveryMs: 200,
  });
  const b = await book(chain, alice, listingId);
  await waitFor("activation", async () => (await bookingStatus(chain, b.bookingId)) === Status.Active);
  active = b;
  envelope = argsOf<{ encryptedEndpoint: Hex }>(
    await eventsOf(chain, "EndpointPublished", b.bookingId),
    "EndpointPublished",
  ).encryptedEndpoint;
});

after(async () => {
  await stopDaemon().catch(() => {});
  await agent?.close();
  await chain?.close();
  if (alice) await rm(alice.dir, { recursive: true, force: true });
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

/* 1. THE LENDER'S SIDE CANNOT OPEN THE ENVELOPE */

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe("the lender's own node cannot decrypt a borrower's envelope", () => {
  test("every key the lender's side holds fails with decrypt-failed; the borrower's session key opens it", async () => {
    const context = {
      chainId: chain.deployment.chainId,
      market: chain.market.address,
      bookingId: active.bookingId,
    };
    // Positive control: the borrower opens it, and it is this booking's endpoint.
    const endpoint = ssh.SshEndpointSchema.parse(
      openEndpoint({ recipientPrivateKey: alice.session.privateKey, envelope, context }),
    );
    assert.equal(endpoint.bookingId, active.bookingId.toString());

    const borrowerCtx = { chainId: context.chainId, market: context.market, account: alice.address };
    const lenderWallet = dev(LENDER);
    const agentWallet = dev(AGENT);
    const candidates: { what: string; key: Uint8Array }[] = [
      { what: "the agent's private key (raw bytes)", key: hexToBytes(devKey(AGENT)) },
      { what: "the lender's private key (raw bytes)", key: hexToBytes(devKey(LENDER)) },
      {
        what: "the lender's private key as a pasted session key",
        key: sessionKeyFromPrivateKey(devKey(LENDER)).privateKey,
      },
      {
        what: "the agent's private key as a pasted session key",
        key: sessionKeyFromPrivateKey(devKey(AGENT)).privateKey,
      },
      {
        what: "a session key the lender's wallet derives for the borrower's context",
        key: deriveSessionKey(
          await lenderWallet.signMessage({ message: sessionKeyMessage(borrowerCtx) }),
          borrowerCtx,
        ).privateKey,
      },
      {
        what: "a session key the agent's wallet derives for the borrower's context",
        key: deriveSessionKey(
          await agentWallet.signMessage({ message: sessionKeyMessage(borrowerCtx) }),
          borrowerCtx,
        ).privateKey,
      },
      {
        what: "the lender's own session key for this market",
        key: deriveSessionKey(
          await lenderWallet.signMessage({
            message: sessionKeyMessage({ ...borrowerCtx, account: lenderWallet.address }),
          }),
          { ...borrowerCtx, account: lenderWallet.address },
        ).privateKey,
      },
    ];

    // Every 32-byte hex value in the daemon's state folder (its state file, logs, IPFS store).
    const stateFile = join(stateDir, "daemon-state.json");
    assert.ok((await stat(stateFile)).size > 0, "the daemon wrote its state file");
    const files = await filesUnder(stateDir);
    const seen = new Set<string>();
    for (const f of files) {
      // The daemon is still running: a file listed a moment ago may be gone (its state file's atomic-write
      // temporary is renamed away). What is renamed is read under its final name.
      const bytes = await readFile(f).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return null;
        throw e;
      });
      if (bytes === null) continue;
      const text = bytes.toString("latin1");
      for (const m of text.matchAll(/(?<![0-9a-fA-F])(?:0x)?([0-9a-fA-F]{64})(?![0-9a-fA-F])/g)) {
        const hex = (m[1] as string).toLowerCase();
        if (seen.has(hex)) continue;
        seen.add(hex);
        candidates.push({
          what: `${hex.slice(0, 10)}… from ${f.slice(stateDir.length)}`,
          key: hexToBytes(`0x${hex}`),
        });
      }
    }
    // The state file itself, whole, as key material: its SHA-256-sized slices would be the above; its raw
    // first 32 bytes too.
    candidates.push({
      what: "the state file's first 32 bytes",
      key: (await readFile(stateFile)).subarray(0, 32),
    });
    assert.ok(seen.size > 0, "the state folder holds 32-byte values to try (transaction hashes at least)");

    for (const c of candidates) {
      assert.throws(
        () => openEndpoint({ recipientPrivateKey: c.key, envelope, context }),
        (e: unknown) => e instanceof EnvelopeError && e.code === "decrypt-failed",
        `${c.what} must not open the envelope`,
      );
    }
  });

  test("the daemon's state and logs never contain the plaintext endpoint", async () => {
    const context = {
      chainId: chain.deployment.chainId,
      market: chain.market.address,
      bookingId: active.bookingId,
    };
    const endpoint = ssh.SshEndpointSchema.parse(
      openEndpoint({ recipientPrivateKey: alice.session.privateKey, envelope, context }),
    );
    // The certificate's base64 blob, the host:port pair and the JSON field as the endpoint serialises it.
    const certBlob = endpoint.certificate.split(/\s+/)[1] as string;
    assert.ok(certBlob.length > 100, "the certificate has a blob to look for");
    const needles = [
      certBlob,
      certBlob.slice(0, 64),
      `"host":"${endpoint.host}"`,
      `${endpoint.host}:${endpoint.port}`,
      `"port":${endpoint.port}`,
      ...endpoint.hostKeys.map((k) => k.split(/\s+/)[1] as string),
    ];
    const log = await readFile(logFile, "utf8");
    assert.ok(log.length > 0 && /activat/i.test(log), "the log was written and covers the activation");
    for (const f of await filesUnder(stateDir)) {
      // A file may vanish between listing and reading (the state file's atomic-write temporary).
      const bytes = await readFile(f).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return null;
        throw e;
      });
      if (bytes === null) continue;
      const text = bytes.toString("latin1");
      for (const n of needles) assert.ok(!text.includes(n), `${f} must not contain ${n.slice(0, 40)}`);
    }
    await stopDaemon();
  });
});

/* 2. MALFORMED CONTRACT CALLS WITH CAST */

interface Run {
  code: number | null;
  out: string;
}

function runCast(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(CAST, args, { cwd: stateDir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const send = (from: number, sig: string, args: string[], value?: bigint) =>
  runCast([
    "send",
    chain.market.address,
    sig,
    ...args,
    ...(value === undefined ? [] : ["--value", value.toString()]),
    "--private-key",
    devKey(from),
    "--rpc-url",
    chain.anvil.url,
  ]);

/** What a revert must leave exactly as it was. */
async function snapshot() {
  const c = chain.market.client;
  const read = (functionName: string, args: readonly unknown[] = []) =>
    // biome-ignore lint/suspicious/noExplicitAny: any view by name.
    c.readContract({ address: chain.market.address, abi: marketAbi, functionName, args } as any);
  const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  const nonces = await Promise.all(
    [0, 1, 2, 3, 4, 5].map((i) => c.getTransactionCount({ address: dev(i).address })),
  );
  return json({
    block: await c.getBlockNumber(),
    hostCount: await read("hostCount"),
    listingCount: await read("listingCount"),
    bookingCount: await read("bookingCount"),
    host: await read("getHost", [hostId]),
    listing: await read("getListing", [listingId]),
    booking: await read("getBooking", [active.bookingId]),
    marketBalance: await c.getBalance({ address: chain.market.address }),
    credits: await Promise.all([1, 3, 5].map((i) => read("credits", [dev(i).address, zeroAddress]))),
    nonces,
  });
}

/** The revert data cast printed, decoded with the market's ABI. */
function revertOf(r: Run): { errorName: string; args: readonly unknown[] | undefined } {
  const data = /data: \\?"(0x[0-9a-fA-F]*)\\?"/.exec(r.out)?.[1];
  assert.ok(data, `cast printed the revert data: ${r.out}`);
  const d = decodeErrorResult({ abi: marketAbi, data: data as Hex });
  return { errorName: d.errorName, args: d.args as readonly unknown[] | undefined };
}

describe("malformed contract calls made directly with cast revert with the custom error and change nothing", () => {
  const session = () => alice.session.publicKeyHex;
  const sshKey = () => `0x${Buffer.from(alice.sshPublicKey).toString("hex")}`;
  /** An aligned window after every booking so far, inside the horizon. */
  const window = async () => {
    const start = Math.ceil(((await chainNow(chain)) + 3600) / SLOT) * SLOT;
    return { start, end: start + SLOT };
  };
  const hourPrice = (seconds: number) => (pricePerHour * BigInt(seconds)) / 3600n;

  const cases: {
    name: string;
    run: () => Promise<Run>;
    error: string;
    args?: (w: { start: number; end: number }) => readonly unknown[];
  }[] = [
    {
      name: "book with a start that is not slot-aligned",
      run: async () => {
        const w = await window();
        return send(
          alice.index,
          BOOK_SIG,
          [`${listingId}`, `${w.start + 7}`, `${w.end}`, session(), sshKey()],
          parseEther("1"),
        );
      },
      error: "MisalignedWindow",
    },
    {
      name: "book with end ≤ start",
      run: async () => {
        const w = await window();
        return send(
          alice.index,
          BOOK_SIG,
          [`${listingId}`, `${w.start}`, `${w.start}`, session(), sshKey()],
          parseEther("1"),
        );
      },
      error: "EmptyWindow",
    },
    {
      name: "book with an empty SSH key",
      run: async () => {
        const w = await window();
        return send(
          alice.index,
          BOOK_SIG,
          [`${listingId}`, `${w.start}`, `${w.end}`, session(), "0x"],
          hourPrice(SLOT),
        );
      },
      error: "BadLength",
    },
    {
      name: "book with an all-zero session key",
      run: async () => {
        const w = await window();
        return send(
          alice.index,
          BOOK_SIG,
          [`${listingId}`, `${w.start}`, `${w.end}`, `0x${"00".repeat(32)}`, sshKey()],
          hourPrice(SLOT),
        );
      },
      error: "BadSessionKey",
    },
    {
      name: "book an unknown listing id",
      run: async () => {
        const w = await window();
        return send(
          alice.index,
          BOOK_SIG,
          ["999", `${w.start}`, `${w.end}`, session(), sshKey()],
          parseEther("1"),
        );
      },
      error: "UnknownListing",
    },
    {
      name: "book paying less than the price",
      run: async () => {
        const w = await window();
        return send(
          alice.index,
          BOOK_SIG,
          [`${listingId}`, `${w.start}`, `${w.end}`, session(), sshKey()],
          hourPrice(SLOT) - 1n,
        );
      },
      error: "WrongPayment",
    },
    {
      name: "activate by the borrower (not the host's agent)",
      run: () => send(alice.index, "activate(uint256,bytes)", [`${active.bookingId}`, "0x01"]),
      error: "NotAgent",
    },
    {
      name: "report by the lender (not the host's agent)",
      run: () => send(LENDER, "report(uint256,uint32,string)", [`${active.bookingId}`, "1", "bafy"]),
      error: "NotAgent",
    },
    {
      name: "withdraw with nothing to withdraw",
      run: () => send(OUTSIDER, "withdraw(address)", [zeroAddress]),
      error: "NothingToWithdraw",
    },
    {
      name: "createListing with a GPU count and no VRAM",
      run: () =>
        send(
          LENDER,
          "createListing(uint256,(string,uint8,uint32,uint16,uint32,uint32,string,uint8),address,bool,uint128,uint16,uint16,uint32,string)",
          [
            `${hostId}`,
            '("NVIDIA GeForce RTX 4090",1,0,4,1024,10,"local",0)',
            zeroAddress,
            "false",
            "1000",
            "1",
            "10",
            "0",
            "",
          ],
        ),
      error: "BadHardware",
    },
    {
      name: "createListing on a host of another lender",
      run: () =>
        send(
          OUTSIDER,
          "createListing(uint256,(string,uint8,uint32,uint16,uint32,uint32,string,uint8),address,bool,uint128,uint16,uint16,uint32,string)",
          [`${hostId}`, '("",0,0,4,1024,10,"local",0)', zeroAddress, "false", "1000", "1", "10", "0", ""],
        ),
      error: "NotLender",
    },
    {
      name: "registerHost with a bond below the minimum",
      run: () => send(OUTSIDER, "registerHost(address,string)", [dev(4).address, ""], 1n),
      error: "InsufficientBond",
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const before = await snapshot();
      const r = await c.run();
      assert.notEqual(r.code, 0, `cast must fail: ${r.out}`);
      assert.match(r.out, /revert/i, "the node refused it as a revert");
      assert.equal(revertOf(r).errorName, c.error, r.out);
      // cast names the error itself when its signature cache knows the selector: then it must be the same one.
      const named = /": (\w+)(?:\(|\s*$)/.exec(r.out)?.[1];
      if (named !== undefined) assert.equal(named, c.error, r.out);
      if (process.env.BOUNDARIES_VERBOSE) console.log(`cast ${c.name}: ${r.out.trim()}`);
      assert.equal(await snapshot(), before, "no state changed");
    });
  }

  test("a session key of the wrong length is refused by cast's encoder before anything is sent", async () => {
    const before = await snapshot();
    const w = await window();
    const r = await send(
      alice.index,
      BOOK_SIG,
      [`${listingId}`, `${w.start}`, `${w.end}`, "0x1111", sshKey()],
      hourPrice(SLOT),
    );
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /invalid string length|bytes32|length/i);
    assert.equal(await snapshot(), before);
  });

  test("raw calldata with an unknown selector reverts (no fallback) and changes nothing", async () => {
    const before = await snapshot();
    const r = await runCast([
      ...["send", chain.market.address, "0xdeadbeef00000000000000000000000000000000000000000000000000000001"],
      ...["--private-key", devKey(OUTSIDER), "--rpc-url", chain.anvil.url],
    ]);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /execution reverted/i);
    const withValue = await runCast([
      ...["send", chain.market.address, "0xdeadbeef", "--value", "1000"],
      ...["--private-key", devKey(OUTSIDER), "--rpc-url", chain.anvil.url],
    ]);
    assert.notEqual(withValue.code, 0, withValue.out);
    assert.equal(await snapshot(), before);
  });

  test("cast call (a read-only simulation) of a malformed book reports the same error", async () => {
    const before = await snapshot();
    const w = await window();
    const r = await runCast([
      ...[
        "call",
        chain.market.address,
        BOOK_SIG,
        `${listingId}`,
        `${w.start + 1}`,
        `${w.end}`,
        session(),
        sshKey(),
      ],
      ...["--from", alice.address, "--value", parseEther("1").toString(), "--rpc-url", chain.anvil.url],
    ]);
    assert.notEqual(r.code, 0, r.out);
    assert.equal(revertOf(r).errorName, "MisalignedWindow", r.out);
    assert.equal(await snapshot(), before);
  });
});

/* 3. THE HOST AGENT'S API */

function agentRequest(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" },
): Promise<{
  status: number;
  headers: Record<string, unknown>;
  json: {
    error?: {
      code: string;
      message: string;
      issues?: { path: string; message: string }[];
      declineReason?: number;
    };
  };
}> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: agent.socketPath, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) });
        } catch (e) {
          reject(new Error(`not JSON (${res.statusCode}): ${text}`, { cause: e }));
        }
      });
    });
    req.on("error", (e) => {
      // The agent may close the socket after answering an oversized body; the answer was already read.
      if ((e as NodeJS.ErrnoException).code !== "EPIPE" && (e as NodeJS.ErrnoException).code !== "ECONNRESET")
        reject(e);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe("the host agent API answers malformed input with a 4xx in words and creates no VM", () => {
  let libvirt: Awaited<ReturnType<typeof vm.openLibvirt>>;
  const domains = async () =>
    (await Promise.all((await libvirt.connectListAllDomains()).map((d) => d.getName()))).sort();
  const vms = async () => JSON.stringify(await agent.client.list());

  before(async () => {
    libvirt = await vm.openLibvirt("test:///default");
  });
  after(async () => {
    await libvirt?.connectClose().catch(() => {});
  });

  const future = () => {
    const start = Math.ceil((Date.now() / 1000 + 3600) / SLOT) * SLOT;
    return { start, end: start + SLOT };
  };
  const valid = (over: Record<string, unknown> = {}) => ({
    bookingId: "900001",
    window: future(),
    borrowerSshKey: alice.sshPublicKey,
    hardware: { vcpus: 1, memoryMiB: 512 },
    ...over,
  });

  const cases: {
    name: string;
    send: () => ReturnType<typeof agentRequest>;
    status: number;
    code: string;
    message: RegExp;
  }[] = [
    {
      name: "malformed JSON",
      send: () => agentRequest("POST", "/v1/bookings", '{"bookingId": "900001", '),
      status: 400,
      code: "invalid-json",
      message: /not JSON/,
    },
    {
      name: "a missing field",
      send: () => {
        const { hardware: _, ...rest } = valid();
        return agentRequest("POST", "/v1/bookings", JSON.stringify(rest));
      },
      status: 400,
      code: "invalid-request",
      message: /hardware/,
    },
    {
      name: "a misspelt (unknown) field",
      send: () => agentRequest("POST", "/v1/bookings", JSON.stringify(valid({ hardwares: {} }))),
      status: 400,
      code: "invalid-request",
      message: /hardwares|unrecognized|unknown/i,
    },
    {
      name: "an oversized body",
      send: () =>
        agentRequest(
          "POST",
          "/v1/bookings",
          JSON.stringify(valid({ borrowerSshKey: "A".repeat(2 * 1024 * 1024) })),
        ),
      status: 413,
      code: "payload-too-large",
      message: /over \d+ bytes/,
    },
    {
      name: "an invalid SSH key",
      send: () =>
        agentRequest(
          "POST",
          "/v1/bookings",
          JSON.stringify(valid({ borrowerSshKey: "ssh-ed25519 AAAAnot-a-key x@y" })),
        ),
      status: 422,
      code: "ssh-key-rejected",
      message: /key/i,
    },
    {
      name: "an unknown booking id",
      send: () => agentRequest("GET", "/v1/bookings/424242"),
      status: 404,
      code: "not-found",
      message: /424242|booking/,
    },
    {
      name: "a booking id that is not a uint256",
      send: () => agentRequest("GET", "/v1/bookings/-1"),
      status: 400,
      code: "invalid-request",
      message: /decimal uint256/,
    },
    {
      name: "a wrong method",
      send: () => agentRequest("PUT", "/v1/bookings", JSON.stringify(valid())),
      status: 405,
      code: "method-not-allowed",
      message: /PUT is not allowed/,
    },
    {
      name: "a body that is not application/json",
      send: () =>
        agentRequest("POST", "/v1/bookings", JSON.stringify(valid()), { "content-type": "text/plain" }),
      status: 415,
      code: "unsupported-media-type",
      message: /application\/json/,
    },
    {
      name: "a window that is over",
      send: () =>
        agentRequest("POST", "/v1/bookings", JSON.stringify(valid({ window: { start: 60, end: 120 } }))),
      status: 409,
      code: "window-ended",
      message: /\w+ \w+/,
    },
  ];

  test("positive control: the daemon's VM is a domain libvirt lists", async () => {
    const names = await domains();
    assert.ok(names.length > 0, "the active booking's domain is listed");
    assert.ok(
      (await agent.client.list()).bookings.some((v) => v.bookingId === active.bookingId.toString()),
      "the agent lists the active booking's VM",
    );
  });

  for (const c of cases) {
    test(c.name, async () => {
      const beforeDomains = await domains();
      const beforeVms = await vms();
      const r = await c.send();
      assert.equal(r.status, c.status, JSON.stringify(r.json));
      assert.equal(r.json.error?.code, c.code);
      assert.equal(typeof r.json.error?.message, "string");
      assert.match(r.json.error?.message ?? "", c.message);
      if (process.env.BOUNDARIES_VERBOSE)
        console.log(`agent ${c.name}: ${r.status} ${r.json.error?.message}`);
      assert.match(r.json.error?.message ?? "", /[a-z]{2,} [a-z]{2,}/i, "an error in words");
      if (c.code === "invalid-request" && c.name.includes("missing"))
        assert.ok(
          r.json.error?.issues?.some((i) => i.path === "hardware"),
          "the issue names the field",
        );
      if (c.code === "ssh-key-rejected") assert.ok((r.json.error?.declineReason ?? 0) >= 2);
      if (c.code === "method-not-allowed") assert.match(String(r.headers.allow), /GET|POST/);
      assert.deepEqual(await domains(), beforeDomains, "no domain created");
      assert.equal(await vms(), beforeVms, "the agent's VMs unchanged");
      assert.equal(agent.intents("900001"), 0, "nothing was ever provisioned for the refused booking");
    });
  }
});

/* 4. SUBGRAPH QUERIES */

describe("the subgraph answers malformed queries with an error naming the problem and changes nothing", () => {
  let subgraph: SubgraphHost | undefined;
  const VALID =
    "{ bookings(orderBy: id) { id start end price listing { id } } listings(orderBy: id) { id } }";

  const post = async (body: string, contentType = "application/json") => {
    const res = await fetch(subgraph?.url as string, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    });
    return {
      status: res.status,
      json: (await res.json()) as { data?: unknown; errors?: { message: string }[]; error?: string },
    };
  };
  const query = (q: string, variables?: Record<string, unknown>) =>
    post(JSON.stringify({ query: q, variables }));

  before(async () => {
    await prepareSubgraph(chain.deploymentFile);
    subgraph = await startSubgraphHost({
      rpcUrl: chain.anvil.url,
      deployment: chain.deployment,
      dbFile: ":memory:",
      port: 0,
      pollMs: 100,
    });
    const head = Number(await chain.market.client.getBlockNumber());
    await waitFor(
      "the subgraph to index the chain",
      async () => {
        const r = await query("{ _meta { block { number } } }").catch(() => null);
        return (
          ((r?.json.data as { _meta?: { block: { number: number } } })?._meta?.block.number ?? -1) >= head
        );
      },
      30_000,
    );
  });
  after(async () => {
    await subgraph?.stop().catch(() => {});
  });

  const cases: { name: string; send: () => ReturnType<typeof post>; status: number; message: RegExp }[] = [
    {
      name: "a syntax error",
      send: () => query("{ bookings { id "),
      status: 200,
      message: /syntax|expected|unexpected/i,
    },
    { name: "an unknown field", send: () => query("{ bookings { id nope } }"), status: 200, message: /nope/ },
    {
      name: "first: 100000",
      send: () => query("{ bookings(first: 100000) { id } }"),
      status: 200,
      message: /first.*between 0 and 1000.*100000/,
    },
    {
      name: "a bad variable type",
      send: () => query("query Q($n: Int!) { bookings(first: $n) { id } }", { n: "ten" }),
      status: 200,
      message: /\bn\b|variable/i,
    },
    {
      name: "a body that is not JSON",
      send: () => post("{ bookings { id } }"),
      status: 400,
      message: /JSON|Unexpected/i,
    },
    {
      name: "a JSON body without a query",
      send: () => post(JSON.stringify({ q: "{ bookings { id } }" })),
      status: 400,
      message: /"query" field is missing/,
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const before = await query(VALID);
      assert.equal(before.status, 200);
      assert.ok(
        ((before.json.data as { bookings: unknown[] }).bookings ?? []).length >= 1,
        "the active booking is indexed",
      );
      const block = await chain.market.client.getBlockNumber();
      const r = await c.send();
      assert.equal(r.status, c.status, JSON.stringify(r.json));
      const message = r.status === 200 ? r.json.errors?.[0]?.message : r.json.error;
      assert.ok(message, `an error answer: ${JSON.stringify(r.json)}`);
      if (r.status === 200) assert.equal(r.json.data, undefined, "no data beside the errors");
      assert.match(message, c.message);
      if (process.env.BOUNDARIES_VERBOSE) console.log(`subgraph ${c.name}: ${r.status} ${message}`);
      const again = await query(VALID);
      assert.deepEqual(again, before, "the next valid query answers the same data");
      assert.equal(await chain.market.client.getBlockNumber(), block);
    });
  }
});
