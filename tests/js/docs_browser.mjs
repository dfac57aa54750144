// Opens /docs (Swagger UI) and /redoc (ReDoc) of a running pxt service in Debian's headless
// Chromium and checks that they render every operation of /openapi.json with no failed request,
// no request to any other host, no error status and no script error. The service is reached as
// http://pxt.test:PORT (mapped to 127.0.0.1), not localhost: Swagger UI hides its online
// validator badge (an image from another host) for localhost only.
// Run by tests/cli/test_docs_browser.sh: node docs_browser.mjs PORT USER_DATA_DIR
import assert from "node:assert/strict";

import puppeteer from "puppeteer-core";

const [port, userDataDir] = process.argv.slice(2);
const origin = `http://pxt.test:${port}`;
const timeout = 120_000; // a generous bound: the machine running the suite may be busy

const doc = await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json();
const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
const summaries = operations.map((op) => op.summary);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  userDataDir,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--host-resolver-rules=MAP pxt.test 127.0.0.1`,
  ],
  protocolTimeout: timeout,
});

// Loads `path` and returns the problems seen: failed requests, requests elsewhere, error
// statuses, script errors; `encodings` gets each asset's Content-Encoding.
async function open(path, encodings) {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  const problems = [];
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("data:") || url.startsWith("blob:") || url.startsWith(origin + "/")) return req.continue();
    problems.push(`request to another host: ${url}`);
    return req.abort("blockedbyclient");
  });
  page.on("requestfailed", (req) => {
    if (!req.url().startsWith(origin + "/")) return; // already counted above
    problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`${res.status()} for ${res.url()}`);
    if (res.url().includes("/docs/assets/")) encodings[res.url().replace(/.*\/docs\/assets\/|\?.*/g, "")] = res.headers()["content-encoding"] ?? "identity";
  });
  page.on("pageerror", (err) => problems.push(`script error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  await page.goto(origin + path, { waitUntil: "networkidle0", timeout });
  return { page, problems };
}

const encodings = {};

// Swagger UI: one block per operation, each with its summary.
{
  const { page, problems } = await open("/docs", encodings);
  await page.waitForFunction((n) => document.querySelectorAll(".opblock").length === n, { timeout }, operations.length);
  const shown = await page.$$eval(".opblock-summary-description", (els) => els.map((e) => e.textContent.trim()));
  assert.deepEqual([...shown].sort(), [...summaries].sort(), "Swagger UI shows every operation's summary");
  assert.equal(await page.$(".info .title") !== null, true, "Swagger UI shows the title");
  assert.deepEqual(problems, [], "/docs");
  console.log(`ok: /docs renders ${shown.length} operations`);
}

// ReDoc: every summary, and no Redocly logo fetched from its CDN.
{
  const { page, problems } = await open("/redoc", encodings);
  await page.waitForFunction(
    (all) => all.every((s) => document.body.innerText.includes(s)),
    { timeout },
    summaries,
  );
  assert.equal(await page.$('img[alt="redocly logo"]'), null, "no Redocly logo image");
  assert.deepEqual(problems, [], "/redoc");
  console.log(`ok: /redoc renders ${summaries.length} operations`);
}

// The browser received the big bundles compressed (over plain HTTP Chromium asks for gzip; it
// offers brotli on HTTPS only, as behind a TLS-terminating proxy).
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"])
  assert.ok(["gzip", "br"].includes(encodings[name]), `${name} sent as ${encodings[name]}`);
console.log(`ok: assets sent compressed: ${JSON.stringify(encodings)}`);
await browser.close();
