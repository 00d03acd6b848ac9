// Browser checks of the public pages (WEB.md), run by scripts/browser_checks.sh against the
// release binary on a fresh SQLite database: Debian's chromium driven by playwright-core,
// axe-core on every page, screenshots under target/browser/. Usage:
//   node tests/browser/pages.js <base url> <screenshot dir> <defarm binary> <sqlite file>
"use strict";

const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const jsqrSource = fs.readFileSync(require.resolve("jsqr/dist/jsQR.js"), "utf8");

const [base, shots, binary, database] = process.argv.slice(2);
const origin = new URL(base).origin;
const PHONE = { width: 360, height: 780 };
const DESKTOP = { width: 1280, height: 900 };

async function api(method, route, token, body, contentType = "application/json") {
  const response = await fetch(base + route, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": contentType } : {}),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const timeline = [];
async function step(name, run) {
  const started = Date.now();
  await run();
  timeline.push(`${name}: ${Date.now() - started} ms`);
  console.log(`ok - ${name}`);
}

// A cooperative with a public page publishing a coffee lot, made (by an EPCIS transformation)
// from a harvest that is published too, and a protected page.
async function seed() {
  const owner = await api("POST", "/api/auth/register", null, {
    username: "cooperativa",
    email: "coop@example.test",
    password: "Uma-Senha-Longa-e-Boa-42",
  });
  const token = owner.token;
  const circuit = await api("POST", "/api/circuits", token, {
    name: "Cooperativa Café Sul",
    permissions: { allow_public_visibility: true },
  });
  const document = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: "2026-12-01T10:00:00Z",
    epcisBody: {
      eventList: [
        {
          type: "ObjectEvent",
          eventTime: "2026-11-20T09:00:00-03:00",
          eventTimeZoneOffset: "-03:00",
          epcList: ["urn:epc:id:sgtin:7891234.012345.COLHEITA-7"],
          action: "ADD",
          bizStep: "commissioning",
          disposition: "active",
          readPoint: { id: "urn:epc:id:sgln:7891234.00001.0" },
        },
        {
          type: "TransformationEvent",
          eventTime: "2026-12-01T10:00:00-03:00",
          eventTimeZoneOffset: "-03:00",
          inputEPCList: ["urn:epc:id:sgtin:7891234.012345.COLHEITA-7"],
          outputEPCList: ["urn:epc:id:sgtin:7891234.022222.LOTE-42"],
          bizStep: "https://ref.gs1.org/cbv/BizStep-commissioning",
          readPoint: { id: "urn:epc:id:sgln:7891234.00003.0" },
        },
      ],
    },
  };
  await api(
    "POST",
    `/api/circuits/${circuit.circuit_id}/epcis/capture?visibility=Public`,
    token,
    JSON.stringify(document),
    "application/ld+json",
  );
  const named = async (epc) =>
    (await api("GET", `/api/items?key=epc&value=${encodeURIComponent(epc)}`, token)).data[0].dfid;
  // Captured EPCs are kept as GS1 Digital Link URIs.
  const harvest = await named("https://id.gs1.org/01/07891234123459/21/COLHEITA-7");
  const lot = await named("https://id.gs1.org/01/07891234222220/21/LOTE-42");
  await api("POST", "/api/events", token, {
    dfid: lot,
    event_type: "torra",
    visibility: "Public",
    metadata: { fazenda: "Santa Rita", torra: "média", sacas: 12 },
  });
  await api("POST", "/api/events", token, {
    dfid: lot,
    event_type: "preco",
    visibility: "CircuitOnly",
    metadata: { reais: 900 },
  });
  await api("PUT", `/api/circuits/${circuit.circuit_id}/public-settings`, token, {
    enabled: true,
    access_mode: "Public",
    public_name: "Cooperativa Café Sul",
    public_description: "Cafés especiais do sul de Minas.",
    tagline: "Do pé à xícara",
    primary_color: "#ffd400",
    footer_text: "Cooperativa Café Sul · Minas Gerais",
    published_items: [lot, harvest],
  });
  const locked = await api("POST", "/api/circuits", token, {
    name: "Lotes reservados",
    permissions: { allow_public_visibility: true },
  });
  const local = await api("POST", "/api/items/local", token, {
    identifiers: [{ key: "lote", value: "RESERVA-1" }],
  });
  const pushed = await api("POST", `/api/circuits/${locked.circuit_id}/push-local`, token, {
    local_id: local.local_id,
  });
  await api("PUT", `/api/circuits/${locked.circuit_id}/public-settings`, token, {
    enabled: true,
    access_mode: "Protected",
    access_password: "reserva-secreta",
    public_name: "Lotes reservados",
    published_items: [pushed.dfid],
  });
  return { circuit: circuit.circuit_id, lot, harvest, locked: locked.circuit_id, reserved: pushed.dfid };
}

async function axeCheck(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`),
    [],
    `axe-core on ${name}`,
  );
}

async function waitForPanel(page, states) {
  await page.waitForFunction(
    (wanted) => wanted.includes(document.getElementById("verification").dataset.verification),
    states,
    { timeout: 30000 },
  );
  return page.evaluate(() => {
    const panel = document.getElementById("verification");
    return {
      state: panel.dataset.verification,
      record: panel.dataset.failedRecord || "",
      text: panel.querySelector(".outcome").textContent,
    };
  });
}

async function main() {
  const world = await seed();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const requests = [];
  const problems = [];
  async function open(viewport, locale, javaScriptEnabled = true) {
    const context = await browser.newContext({ viewport, locale, javaScriptEnabled });
    const page = await context.newPage();
    page.on("request", (request) => requests.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(String(error)));
    return { context, page };
  }

  const itemPath = `/p/${world.circuit}/items/${world.lot}`;
  try {
    let printed;
    await step("the item's QR code, read by jsQR, holds the resolver URL of its EPC", async () => {
      const { context, page } = await open(DESKTOP, "pt-BR");
      await page.goto(`${origin}${itemPath}`);
      await page.evaluate(jsqrSource);
      printed = await page.evaluate(async () => {
        const image = document.querySelector("img.qr");
        await image.decode();
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 400;
        const drawing = canvas.getContext("2d");
        drawing.fillStyle = "#fff";
        drawing.fillRect(0, 0, 400, 400);
        drawing.drawImage(image, 20, 20, 360, 360);
        const read = window.jsQR(drawing.getImageData(0, 0, 400, 400).data, 400, 400);
        return read && read.data;
      });
      assert.equal(printed, `${base}/id/${world.lot}`);
      await context.close();
    });

    await step("the QR code's URL resolves to the item page, and the panel verifies it (pt-BR, phone)", async () => {
      const { context, page } = await open(PHONE, "pt-BR");
      const response = await page.goto(printed);
      assert.equal(new URL(page.url()).pathname, itemPath);
      assert.equal(response.status(), 200);
      assert.equal(await page.getAttribute("html", "lang"), "pt-BR");
      const panel = await waitForPanel(page, ["verified", "failed"]);
      assert.equal(panel.state, "verified", panel.text);
      assert.match(panel.text, /^Verificado: este histórico está registrado no log da DeFarm/);
      const text = await page.textContent("main");
      for (const shown of ["torra", "Santa Rita", "TransformationEvent", "Feito a partir de"]) {
        assert.ok(text.includes(shown), shown);
      }
      assert.ok(!text.includes("preco"), "a CircuitOnly event is not shown");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.width, `no sideways scrolling at 360 px (${width})`);
      await page.screenshot({ path: path.join(shots, "item-pt-BR-phone.png"), fullPage: true });
      await axeCheck(page, "item page (pt-BR)");
      await context.close();
    });

    await step("the item page in English at desktop width, its lineage link, and the circuit page", async () => {
      const { context, page } = await open(DESKTOP, "en-US");
      await page.goto(`${origin}${itemPath}`);
      assert.equal(await page.getAttribute("html", "lang"), "en");
      const panel = await waitForPanel(page, ["verified", "failed"]);
      assert.equal(panel.state, "verified", panel.text);
      assert.match(panel.text, /^Verified: this history is recorded in the DeFarm log/);
      await page.screenshot({ path: path.join(shots, "item-en-desktop.png"), fullPage: true });
      await axeCheck(page, "item page (en)");
      await page.click(`a[href^="/p/${world.circuit}/items/${world.harvest}"]`);
      assert.equal(new URL(page.url()).pathname, `/p/${world.circuit}/items/${world.harvest}`);
      assert.equal((await waitForPanel(page, ["verified", "failed"])).state, "verified");
      assert.ok((await page.textContent("main")).includes("Went into"));
      await axeCheck(page, "linked item page");
      await page.goto(`${origin}/p/${world.circuit}`);
      assert.ok((await page.textContent("main")).includes("Published items"));
      await page.screenshot({ path: path.join(shots, "circuit-en-desktop.png"), fullPage: true });
      await axeCheck(page, "circuit page (en)");
      await context.close();
    });

    await step("the circuit page in Portuguese at phone width, and the not-found page", async () => {
      const { context, page } = await open(PHONE, "pt-BR");
      await page.goto(`${origin}/p/${world.circuit}`);
      assert.ok((await page.textContent("main")).includes("Itens publicados"));
      await page.screenshot({ path: path.join(shots, "circuit-pt-BR-phone.png"), fullPage: true });
      await axeCheck(page, "circuit page (pt-BR)");
      const missing = await page.goto(`${origin}/id/DFID-20261204-999999-0000`);
      assert.equal(missing.status(), 404);
      assert.ok((await page.textContent("main")).includes("Página não encontrada"));
      await axeCheck(page, "not-found page");
      await context.close();
    });

    await step("a protected page asks for its password once, then verifies", async () => {
      const { context, page } = await open(PHONE, "pt-BR");
      const response = await page.goto(`${origin}/p/${world.locked}/items/${world.reserved}`);
      assert.equal(response.status(), 401);
      await axeCheck(page, "password form");
      await page.fill("#password", "errada");
      await page.click("button[type=submit]");
      assert.ok((await page.textContent("main")).includes("Senha incorreta."));
      await page.fill("#password", "reserva-secreta");
      await page.click("button[type=submit]");
      assert.equal(new URL(page.url()).pathname, `/p/${world.locked}/items/${world.reserved}`);
      assert.equal((await waitForPanel(page, ["verified", "failed"])).state, "verified");
      await page.screenshot({ path: path.join(shots, "protected-item-pt-BR-phone.png"), fullPage: true });
      await context.close();
    });

    await step("without JavaScript the page still shows everything and says how to verify offline", async () => {
      const { context, page } = await open(PHONE, "en", false);
      await page.goto(`${origin}${itemPath}?lang=en`);
      const panel = await page.getAttribute("#verification", "data-verification");
      assert.equal(panel, "pending");
      const text = await page.textContent("#verification");
      assert.ok(text.includes("needs JavaScript") && text.includes("defarm verify proof.json --key"), text);
      assert.ok((await page.textContent("main")).includes("torra"));
      await page.screenshot({ path: path.join(shots, "item-no-javascript-en-phone.png"), fullPage: true });
      await context.close();
    });

    await step("an item page weighs under 100 KB in all", async () => {
      const { context, page } = await open(PHONE, "pt-BR");
      let bytes = 0;
      page.on("response", async (response) => {
        const body = await response.body().catch(() => Buffer.alloc(0));
        bytes += body.length;
      });
      await page.goto(`${origin}${itemPath}`);
      await waitForPanel(page, ["verified", "failed"]);
      await page.waitForLoadState("networkidle");
      assert.ok(bytes < 100 * 1024, `${bytes} bytes`);
      timeline.push(`item page weight: ${bytes} bytes`);
      await context.close();
    });

    await step("a published event changed behind the service fails the panel, naming it, and `defarm verify`", async () => {
      const proof = await (await fetch(`${origin}${itemPath}/proof.json`)).json();
      const torra = proof.events.find((e) => e.event.event_type === "torra").event;
      const changed = spawnSync("python3", [
        "-c",
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); " +
          "n=c.execute(\"UPDATE events SET metadata=json_set(metadata,'$.sacas',13) WHERE event_id=?\",(sys.argv[2],)).rowcount; " +
          "c.commit(); assert n==1, n",
        database,
        torra.event_id,
      ]);
      assert.equal(changed.status, 0, String(changed.stderr));
      const { context, page } = await open(PHONE, "en");
      await page.goto(`${origin}${itemPath}?lang=en`);
      const panel = await waitForPanel(page, ["verified", "failed"]);
      assert.equal(panel.state, "failed", panel.text);
      assert.ok(panel.record.includes(torra.event_id), panel.record);
      assert.ok(panel.text.includes(torra.event_id) && panel.text.includes("changed after it was logged"), panel.text);
      await page.screenshot({ path: path.join(shots, "item-tampered-en-phone.png"), fullPage: true });
      await context.close();

      const file = path.join(shots, "tampered-proof.json");
      fs.writeFileSync(file, await (await fetch(`${origin}${itemPath}/proof.json`)).text());
      const key = (await (await fetch(`${origin}/log/key`)).text()).trim();
      const verify = spawnSync(binary, ["verify", file, "--key", key]);
      assert.notEqual(verify.status, 0, "defarm verify refuses the tampered bundle");
      assert.ok(String(verify.stderr).includes(torra.event_id), String(verify.stderr));
    });

    await step("no request left the origin, and no page logged an error", async () => {
      const elsewhere = requests.filter((url) => !url.startsWith(origin + "/"));
      assert.deepEqual(elsewhere, []);
      // The 401 and 404 pages above are answers, not errors of the page.
      const real = problems.filter((p) => !/status of (401|404)/.test(p));
      assert.deepEqual(real, []);
      timeline.push(`requests, all to ${origin}: ${requests.length}`);
    });
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(shots, "timeline.txt"), timeline.join("\n") + "\n");
  console.log(timeline.join("\n"));
}

// Every wait above has its own bound; this one bounds the whole run.
const deadline = setTimeout(() => {
  console.error("the browser checks did not finish within 5 minutes");
  process.exit(1);
}, 5 * 60 * 1000);
deadline.unref();

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
