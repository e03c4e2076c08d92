// The staff app in a real browser: Debian's chromium driven by
// playwright-core (no browser download), against `storehub demo`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const BIN = process.env.STOREHUB_BIN || new URL('../../target/debug/storehub', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = new URL('../../target/screenshots/', import.meta.url).pathname;
let hub, base, apiKey, browser;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'storehub-browser-'));
  hub = spawn(BIN, ['demo', '--bind', '127.0.0.1:0'], { cwd: dir, env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: hub.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo did not start')), 60_000);
    lines.on('line', (line) => {
      const docs = line.match(/API docs:\s+(http\S+)\/api\/docs\//);
      if (docs) base = docs[1];
      const key = line.match(/API key:\s+(\S+)/);
      if (key) { apiKey = key[1]; clearTimeout(timer); resolve(); }
    });
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
  });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  hub?.kill();
});

async function reserve(customer) {
  const response = await fetch(`${base}/api/v1/reservations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ store: 'PAR01', customer, lines: [{ sku: 'SNEAK-WHT-42', quantity: 1 }], accept_terms: true }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return response.json();
}

async function signIn(email) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${base}/app/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Mot de passe').fill('storehub-demo');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.locator('#connection[data-state="online"]').waitFor({ timeout: 10_000 });
  return { context, page };
}

const count = (page, tab) => page.locator(`#count-${tab}`);

test('a reservation appears live on two phones and moves tabs when set aside', async () => {
  const julie = await signIn('julie@demo.storehub.test');
  const manon = await signIn('manon@demo.storehub.test');
  // The manager has two stores: she picks Paris.
  await manon.page.getByLabel('Magasin').selectOption('PAR01');
  await assert.doesNotReject(count(julie.page, 'pending').filter({ hasText: /^0$/ }).waitFor());

  const created = await reserve({ first_name: 'Marie', email: 'marie@example.fr', identified: true, external_id: 'B1' });
  for (const phone of [julie.page, manon.page]) {
    await count(phone, 'pending').filter({ hasText: /^1$/ }).waitFor({ timeout: 2_000 });
    await phone.locator(`[data-number="${created.number}"]`).waitFor();
  }
  await julie.page.screenshot({ path: `${SHOTS}board-pending-360.png` });

  await julie.page.locator(`[data-number="${created.number}"]`).getByRole('button', { name: 'Mettre de côté' }).click();
  for (const phone of [julie.page, manon.page]) {
    await count(phone, 'pending').filter({ hasText: /^0$/ }).waitFor({ timeout: 2_000 });
    await count(phone, 'set_aside').filter({ hasText: /^1$/ }).waitFor({ timeout: 2_000 });
  }
  await manon.page.getByRole('tab', { name: /Mises de côté/ }).click();
  await manon.page.locator(`[data-number="${created.number}"]`).waitFor();
  await manon.page.screenshot({ path: `${SHOTS}board-set-aside-360.png` });
  await julie.context.close();
  await manon.context.close();
});

test('after a network cut the app catches up without duplicates', async () => {
  const julie = await signIn('julie@demo.storehub.test');
  const before = Number(await count(julie.page, 'pending').textContent());
  // The network goes: no new connection can open, and the live one drops.
  await julie.context.setOffline(true);
  await julie.page.evaluate(() => window.storehub.dropConnection());
  await julie.page.locator('#connection[data-state="offline"]').waitFor();
  const a = await reserve({ first_name: 'Anna', email: 'anna@example.fr', identified: true, external_id: 'B2' });
  const b = await reserve({ first_name: 'Bob', email: 'bob@example.fr', identified: true, external_id: 'B3' });
  // Missed while offline: nothing shows yet.
  assert.equal(Number(await count(julie.page, 'pending').textContent()), before);
  await julie.context.setOffline(false);
  await count(julie.page, 'pending').filter({ hasText: new RegExp(`^${before + 2}$`) }).waitFor({ timeout: 10_000 });
  for (const number of [a.number, b.number]) {
    assert.equal(await julie.page.locator(`[data-number="${number}"]`).count(), 1);
  }
  // Caught up by sequence number, not by reloading.
  assert.ok(await julie.page.evaluate(() => window.storehub.seq) > 0);
  await julie.page.screenshot({ path: `${SHOTS}board-after-reconnect-360.png` });
  await julie.context.close();
});
