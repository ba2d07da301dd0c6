// Page-test helpers: the page served as the README serves it, opened in headless
// Chromium with every request recorded, files dropped as a user drops them.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { serve, chromiumArgs, artifacts } from "./support.mjs";

/** Starts the static server and the browser; `close()` stops both. */
export async function launch() {
  mkdirSync(artifacts, { recursive: true });
  const server = await serve();
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumArgs });
  return { server, browser, close: async () => { await browser.close(); server.stop(); } };
}

/** Opens the page with every request recorded and any off-host request aborted. */
export async function openPage({ server, browser }) {
  // The service worker's own requests (it caches the page after load) are tested in offline.test.mjs.
  const context = await browser.newContext({ acceptDownloads: true, serviceWorkers: "block" });
  const requests = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    requests.push({ url, at: Date.now() });
    return url.startsWith(`${server.origin}/`) ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  const problems = [];
  page.on("dialog", (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.blockedURI));
  });
  await page.goto(`${server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, requests, problems, loadedAt: Date.now(), origin: server.origin };
}

/** Drops files on the drop zone as a user's drag and drop would. */
export async function drop(page, files) {
  const payload = files.map(({ name, bytes }) => ({ name, data: bytes.toString("base64") }));
  await page.evaluate((payload) => {
    const transfer = new DataTransfer();
    for (const { name, data } of payload) {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], name));
    }
    const zone = document.getElementById("drop");
    for (const type of ["dragenter", "dragover", "drop"]) {
      zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }
  }, payload);
  await page.waitForSelector("body[data-state=done]");
}

/** No request left 127.0.0.1, none came after load, no dialog, error or CSP violation. */
export async function assertNoTraffic({ page, requests, loadedAt, problems, origin }) {
  const offHost = requests.filter((r) => !r.url.startsWith(`${origin}/`));
  assert.deepEqual(offHost, [], "no request may leave 127.0.0.1");
  const late = requests.filter((r) => r.at > loadedAt);
  assert.deepEqual(late, [], "no request after load");
  assert.deepEqual(problems, []);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
}
