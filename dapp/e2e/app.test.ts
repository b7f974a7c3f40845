/**
 * The dApp in Debian's Chromium against the real stack (stack.ts): the marketplace shows the listings the
 * subgraph indexed, honestly without a GPU; a borrower connects the injected wallet, books, and sees the
 * session become active with the endpoint decrypted in the page; an auditor finds the booking's history. Every
 * request off the machine is blocked and must not happen. Screenshots of each page are kept under
 * dapp/test-results/.
 *
 * Needs a production build first (`npm -w dapp run build`); `npm test` builds it.
 * Run: node --import tsx --test --test-reporter=spec dapp/e2e/app.test.ts
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { marketAbi } from "@computehive/sdk";
import ICAL from "ical.js";
import type { Page } from "playwright-core";
import { createPublicClient, createTestClient, http } from "viem";
import { realAgentUnusable } from "../../oracle-node/test/agent.ts";
import { walletClientFor } from "../../script/src/lib/clients.ts";
import { repoRoot } from "../../script/src/lib/paths.ts";
import { chromiumMissing, type E2eBrowser, launch } from "./browser.ts";
import { type E2eStack, startE2eStack } from "./stack.ts";

const say = (l: string) => process.stderr.write(`[dapp e2e] ${l}\n`);
const why = chromiumMissing();
if (why) say(`!!! SKIPPED: ${why}`);
// The SSH login needs a real guest (QEMU through libvirt, as root); without one the agent runs on libvirt's
// test:///default driver and everything but the login is tested.
const noVm = why ? undefined : await realAgentUnusable(say);
if (noVm) say(`!!! the SSH login from the page is SKIPPED (no real VM: ${noVm}); the rest runs`);

const ARTIFACTS = join(repoRoot, "dapp", "test-results");

describe("the dApp in Chromium (anvil, subgraph host, oracle daemon, host agent)", {
  skip: why ?? false,
}, () => {
  let stack: E2eStack;
  let browser: E2eBrowser;

  before(async () => {
    stack = await startE2eStack({ realVm: !noVm, log: say });
    browser = await launch({ rpcUrl: stack.rpcUrl, chainId: 31337, artifactsDir: ARTIFACTS });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(page: Page, path: string): Promise<void> {
    await page.goto(`${stack.appUrl}${path}`, { waitUntil: "domcontentloaded" });
  }

  test("marketplace: the indexed listings, each saying plainly that it has no passthrough GPU", async () => {
    const page = await browser.page({ account: stack.local.accounts.borrower.address });
    await open(page, "/");
    const cards = page.getByTestId("listing-card");
    await cards.first().waitFor({ timeout: 30_000 });
    assert.ok((await cards.count()) >= 2, "the demo listing and the small one");
    const small = page.locator(`[data-testid=listing-card][data-listing-id="${stack.listingId}"]`);
    await small.waitFor();
    assert.match((await small.textContent()) ?? "", /no passthrough GPU/i);
    await browser.screenshot(page, "marketplace");
    // The same page on a phone-sized screen.
    const phone = await browser.page({
      account: stack.local.accounts.borrower.address,
      viewport: { width: 390, height: 844 },
    });
    await open(phone, "/");
    await phone.getByTestId("listing-card").first().waitFor({ timeout: 30_000 });
    await browser.screenshot(phone, "marketplace-phone");
    assert.deepEqual(browser.external, [], "no request left the machine");
  });

  test("a borrower books, the session turns active, the endpoint is decrypted in the page and its ssh command works", async () => {
    const borrower = stack.local.accounts.borrower.address;
    const page = await browser.page({ account: borrower });
    await open(page, `/listings/${stack.listingId}`);
    await page.getByRole("button", { name: "Sign to derive the session key" }).click({ timeout: 30_000 });
    await page.getByRole("button", { name: "Generate SSH key pair" }).click();
    const keyDir = await mkdtemp(join(tmpdir(), "dapp-e2e-key-"));
    try {
      const download = page.waitForEvent("download");
      await page.getByRole("button", { name: "Download the private key" }).click();
      const keyFile = join(keyDir, "id_ed25519");
      await (await download).saveAs(keyFile);
      await chmod(keyFile, 0o600);
      await page.getByLabel("I saved the private key file").check();
      // The pricing assistant's mark: honest about a CPU-only development host.
      await page
        .getByText(/No price estimate exists for CPU-only listings/)
        .first()
        .waitFor({ timeout: 30_000 });
      await browser.screenshot(page, "listing-booking-form");
      await page.getByTestId("book-button").click();
      const status = page.getByTestId("booking-status");
      await status.first().waitFor({ timeout: 30_000 });
      const bookingId = (await page.getByRole("status").first().textContent())?.match(/booking (\d+)/)?.[1];
      assert.ok(bookingId, "the page names the booking");
      // The oracle daemon provisions the VM and publishes the endpoint: the page follows the chain.
      await page.waitForFunction(
        () => document.querySelector("[data-testid=booking-status]")?.textContent?.trim() === "Active",
        undefined,
        { timeout: 60_000 },
      );
      await browser.screenshot(page, "listing-booked-active");

      // My bookings: derive the session key again (it lives in the tab only) and read the endpoint.
      await open(page, "/bookings");
      await page
        .getByRole("button", { name: "Sign to derive the session key" })
        .first()
        .click({ timeout: 30_000 });
      const command =
        (await page.getByTestId("ssh-command").first().textContent({ timeout: 30_000 }))?.trim() ?? "";
      const certificate = (await page.getByTestId("ssh-certificate").first().textContent())?.trim() ?? "";
      const knownHosts = (await page.getByTestId("known-hosts").first().textContent())?.trim() ?? "";
      assert.match(
        command,
        /^ssh -i \S+ -o CertificateFile=computehive-\d+-cert\.pub -o UserKnownHostsFile=/,
      );
      assert.match(certificate, /^ssh-ed25519-cert-v01@openssh\.com /);
      await browser.screenshot(page, "my-bookings");

      // The booking's calendar file: RFC 5545 (parsed with ical.js), the booking's stable UID, no secret in it.
      const icsDownload = page.waitForEvent("download");
      await page.getByRole("button", { name: `Add booking ${bookingId} to calendar (.ics)` }).click();
      const icsFile = join(keyDir, "booking.ics");
      await (await icsDownload).saveAs(icsFile);
      const icsText = await readFile(icsFile, "utf8");
      const event = new ICAL.Component(ICAL.parse(icsText)).getFirstSubcomponent("vevent");
      assert.equal(
        event?.getFirstPropertyValue("uid"),
        `booking-31337-${stack.local.deployment.market.toLowerCase()}-${bookingId}@computehive`,
      );
      assert.equal(event?.getFirstPropertyValue("sequence"), 0);
      assert.equal(event?.getAllSubcomponents("valarm").length, 2);
      assert.ok(!icsText.includes(certificate.split(" ")[1] ?? "-"), "no certificate in the calendar file");
      assert.ok(!/ssh |BEGIN OPENSSH/.test(icsText), "no ssh command or key in the calendar file");

      // The auditor's view of the same booking.
      const auditor = await browser.page({ account: stack.local.accounts.deployer.address });
      await open(auditor, `/audit?booking=${bookingId}`);
      await auditor.getByTestId("audit-event-row").nth(1).waitFor({ timeout: 30_000 });
      const rows = await auditor.getByTestId("audit-event-row").allTextContents();
      assert.ok(
        rows.some((r) => /Booked/.test(r)) && rows.some((r) => /EndpointPublished|Endpoint/.test(r)),
        rows.join("\n"),
      );
      assert.ok(
        rows.every((r) => /0x[0-9a-f]{6}/i.test(r)),
        "every row links its transaction",
      );
      await browser.screenshot(auditor, "audit-booking");

      if (noVm) return;
      // The command exactly as shown, run by OpenSSH from a folder holding the files the page offers, with the
      // downloaded key in place of ~/.ssh/id_ed25519 (as the page says to do).
      const names = /CertificateFile=(\S+) -o UserKnownHostsFile=(\S+)/.exec(command);
      assert.ok(names?.[1] && names[2]);
      await writeFile(join(keyDir, names[1]), `${certificate}\n`);
      await writeFile(join(keyDir, names[2]), `${knownHosts}\n`);
      const args = command
        .split(/\s+/)
        .slice(1)
        .map((a) => (a.startsWith("~/") ? join(keyDir, "id_ed25519") : a));
      const ssh = () =>
        new Promise<{ code: number; out: string }>((resolve) => {
          execFile(
            "ssh",
            ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...args, "id -un"],
            { cwd: keyDir, timeout: 60_000, encoding: "utf8" },
            (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }),
          );
        });
      let r = await ssh();
      const deadline = Date.now() + 150_000; // the window starts on the next slot boundary; then the guest boots
      while (r.code !== 0 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 2000));
        r = await ssh();
      }
      assert.equal(r.code, 0, r.out);
      assert.equal(r.out.trim().split("\n")[0], "computehive");
      say(`logged in with the page's ssh command: ${r.out.trim()}`);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
    assert.deepEqual(browser.external, [], "no request left the machine");
  });

  test("a lender creates a listing in the dashboard, and sees what a settled session earned", async () => {
    const page = await browser.page({ account: stack.local.accounts.lender.address });
    await open(page, "/lender");
    const form = page.getByTestId("create-listing-form");
    await form.waitFor({ timeout: 30_000 });
    await form.getByLabel("CPU cores").fill("2");
    await form.getByLabel("RAM (GiB)").fill("4");
    await form.getByLabel("Disk (GiB)").fill("20");
    await form.getByLabel(/^Region/).fill("eu-west");
    await form.getByLabel(/^Price per hour/).fill("0.05");
    await browser.screenshot(page, "lender-dashboard");
    await form.getByRole("button", { name: "Create listing" }).click();
    // The new listing reaches the chain and the subgraph.
    const deadline = Date.now() + 30_000;
    let found = false;
    while (!found && Date.now() < deadline) {
      const res = await fetch(stack.subgraph.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: '{ listings(where: { region: "eu-west" }) { id cpuCores diskGiB } }' }),
      });
      const body = (await res.json()) as { data?: { listings: { cpuCores: number; diskGiB: string }[] } };
      found = (body.data?.listings ?? []).some((l) => l.cpuCores === 2 && l.diskGiB === "20");
      if (!found) await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(found, "the listing is on-chain and indexed");

    // The borrower ends the first booking early; the daemon reports, its loop settles once the dispute window
    // is over (anvil's clock moved on), and the dashboard charts what the lender earned.
    const { local } = stack;
    const client = createPublicClient({ transport: http(stack.rpcUrl) });
    const status = async () =>
      (
        await client.readContract({
          address: local.deployment.market,
          abi: marketAbi,
          functionName: "getBooking",
          args: [1n],
        })
      ).status;
    const booking = await client.readContract({
      address: local.deployment.market,
      abi: marketAbi,
      functionName: "getBooking",
      args: [1n],
    });
    const test = createTestClient({ mode: "anvil", transport: http(stack.rpcUrl) });
    const now = Number((await client.getBlock({ blockTag: "pending" })).timestamp);
    if (now <= Number(booking.start) + 30)
      await test.increaseTime({ seconds: Number(booking.start) + 30 - now });
    await test.mine({ blocks: 1 });
    const borrower = walletClientFor(stack.rpcUrl, 31337, local.accounts.borrower.account);
    await client.waitForTransactionReceipt({
      hash: await borrower.writeContract({
        address: local.deployment.market,
        abi: marketAbi,
        functionName: "endSession",
        args: [1n],
      }),
    });
    const until = async (want: number, what: string) => {
      const end = Date.now() + 30_000;
      while ((await status()) !== want) {
        if (Date.now() > end) throw new Error(`booking 1 never became ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await until(3, "Reported");
    await test.increaseTime({ seconds: 301 });
    await test.mine({ blocks: 1 });
    await until(5, "Settled");
    await page.reload();
    const chart = page.locator('svg[role=img][aria-label^="Earnings per day"]');
    await chart.first().waitFor({ timeout: 30_000 });
    assert.match((await chart.first().getAttribute("aria-label")) ?? "", /ETH in all/);
    await browser.screenshot(page, "lender-earnings");
    assert.deepEqual(browser.external, [], "no request left the machine");
  });

  test("the market index charts the day's bookings; Find a slot shows what it understood, then options", async () => {
    const page = await browser.page({ account: stack.local.accounts.borrower.address });
    await open(page, "/market");
    await page.getByRole("heading", { name: "Market index" }).waitFor({ timeout: 30_000 });
    await page.getByText("CPU-only (development hosts)").first().waitFor({ timeout: 30_000 });
    assert.ok((await page.getByRole("img").count()) >= 2, "the utilization and price charts");
    await browser.screenshot(page, "market-index");

    await open(page, "/schedule");
    await page.getByLabel("What do you need?").fill("5 minutes on a CPU-only machine tomorrow");
    await page.getByRole("button", { name: "Find a slot", exact: true }).click();
    await page.getByRole("heading", { name: /What was understood from/ }).waitFor({ timeout: 30_000 });
    const option = page.getByTestId("schedule-option").first();
    await option.waitFor({ timeout: 30_000 });
    const link = option.getByRole("link", { name: /Review and book listing \d+/ });
    const href = (await link.getAttribute("href")) ?? "";
    assert.match(href, /^\/listings\/\d+\?start=\d+&end=\d+$/);
    const [, start, end] = /start=(\d+)&end=(\d+)/.exec(href) ?? [];
    assert.equal(Number(end) - Number(start), 300, "five one-minute slots");
    await browser.screenshot(page, "find-a-slot");
    assert.deepEqual(browser.external, [], "no request left the machine");
  });
});
