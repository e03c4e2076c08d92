// The staff app at phone size: live board, actions, hand-over, slip,
// managers' overdue view, alert settings, English and the keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, count, exactly, card, SHOTS } from './helpers.mjs';

let demo;
before(async () => { demo = await startDemo(); });
after(async () => { await demo?.stop(); });

test('a reservation appears live on two phones and moves tabs when set aside', async () => {
  // Count the buzzes: the phone vibrates (and beeps) when one arrives.
  const julie = await demo.signIn('julie@demo.storehub.test', {
    init: () => { window.buzzes = 0; navigator.vibrate = () => { window.buzzes += 1; return true; }; },
  });
  const manon = await demo.signIn('manon@demo.storehub.test');
  // The manager has two stores: she picks Paris.
  await manon.page.getByLabel('Magasin').selectOption('PAR01');
  await count(julie.page, 'pending').filter({ hasText: exactly(0) }).waitFor();

  const created = await demo.reserve({ first_name: 'Marie', email: 'marie@example.fr', identified: true, external_id: 'B1' });
  for (const phone of [julie.page, manon.page]) {
    await count(phone, 'pending').filter({ hasText: exactly(1) }).waitFor({ timeout: 2_000 });
    await card(phone, created.number).waitFor();
  }
  assert.equal(await julie.page.evaluate(() => window.buzzes), 1);
  await julie.page.screenshot({ path: `${SHOTS}board-pending-360.png` });

  await card(julie.page, created.number).getByRole('button', { name: 'Mettre de côté' }).click();
  for (const phone of [julie.page, manon.page]) {
    await count(phone, 'pending').filter({ hasText: exactly(0) }).waitFor({ timeout: 2_000 });
    await count(phone, 'set_aside').filter({ hasText: exactly(1) }).waitFor({ timeout: 2_000 });
  }
  // Julie is offered the preparation slip at once.
  await julie.page.getByRole('button', { name: `Imprimer le bon de ${created.number}` }).waitFor();
  await manon.page.getByRole('tab', { name: /Mises de côté/ }).click();
  await card(manon.page, created.number).waitFor();
  await manon.page.screenshot({ path: `${SHOTS}board-set-aside-360.png` });
  await julie.context.close();
  await manon.context.close();
});

test('after a network cut the app catches up without duplicates', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test');
  const before = Number(await count(julie.page, 'pending').textContent());
  // The network goes: no new connection can open, and the live one drops.
  await julie.context.setOffline(true);
  await julie.page.evaluate(() => window.storehub.dropConnection());
  await julie.page.locator('#connection[data-state="offline"]').waitFor();
  const a = await demo.reserve({ first_name: 'Anna', email: 'anna@example.fr', identified: true, external_id: 'B2' });
  const b = await demo.reserve({ first_name: 'Bob', email: 'bob@example.fr', identified: true, external_id: 'B3' });
  // Missed while offline: nothing shows yet.
  assert.equal(Number(await count(julie.page, 'pending').textContent()), before);
  await julie.context.setOffline(false);
  await count(julie.page, 'pending').filter({ hasText: exactly(before + 2) }).waitFor({ timeout: 10_000 });
  for (const number of [a.number, b.number]) {
    assert.equal(await card(julie.page, number).count(), 1);
  }
  // Caught up by sequence number, not by reloading.
  assert.ok(await julie.page.evaluate(() => window.storehub.seq) > 0);
  await julie.page.screenshot({ path: `${SHOTS}board-after-reconnect-360.png` });
  await julie.context.close();
});

test('the installed app opens offline, says so, and reconnects by itself', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test');
  // The service worker has cached the shell and controls the page.
  await julie.page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  });
  await julie.context.setOffline(true);
  await julie.page.reload();
  await julie.page.locator('#connection[data-state="offline"]').waitFor();
  await julie.page.locator('#message', { hasText: 'Pas de réseau' }).waitFor();
  assert.equal(await julie.page.locator('#login-view').isVisible(), false, 'still signed in');
  await julie.page.screenshot({ path: `${SHOTS}offline-360.png` });
  await julie.context.setOffline(false);
  await julie.page.locator('#connection[data-state="online"]').waitFor({ timeout: 10_000 });
  const created = await demo.reserve({ first_name: 'Olga', email: 'olga@example.fr', identified: true, external_id: 'O1' }, { sku: 'PARKA-NAV-L' });
  await card(julie.page, created.number).waitFor({ timeout: 2_000 });
  await julie.context.close();
});

test('reject asks for the reason, and a colleague being faster is said in words', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test');
  const first = await demo.reserve({ first_name: 'Rita', email: 'rita@example.fr', identified: true, external_id: 'R1' }, { sku: 'JEAN-SLIM-42' });
  await card(julie.page, first.number).getByRole('button', { name: 'Refuser' }).click();
  const dialog = julie.page.getByRole('dialog', { name: `Refuser ${first.number}` });
  await dialog.getByLabel('Motif du refus').fill('Abîmé, dernier exemplaire');
  await julie.page.screenshot({ path: `${SHOTS}reject-dialog-360.png` });
  await dialog.getByRole('button', { name: 'Refuser' }).click();
  await card(julie.page, first.number).waitFor({ state: 'detached' });
  const rejected = await demo.api('GET', `/api/v1/reservations/${first.number}`);
  assert.equal(rejected.body.state, 'rejected');
  assert.equal(rejected.body.reason, 'Abîmé, dernier exemplaire');

  // Julie's phone stops hearing the hub (a stale screen) while Manon acts.
  const second = await demo.reserve({ first_name: 'Sam', email: 'sam@example.fr', identified: true, external_id: 'R2' }, { sku: 'JEAN-SLIM-42' });
  await card(julie.page, second.number).waitFor();
  await julie.page.routeWebSocket(/\/api\/v1\/ws/, () => { /* never reaches the hub */ });
  await julie.page.evaluate(() => window.storehub.dropConnection());
  const manon = await demo.staffToken('manon@demo.storehub.test');
  const done = await demo.api('POST', `/api/v1/reservations/${second.number}/set-aside`, {}, manon);
  assert.equal(done.status, 200);
  await card(julie.page, second.number).getByRole('button', { name: 'Mettre de côté' }).click();
  const message = julie.page.locator('#message');
  await message.filter({ hasText: `Déjà traitée : ${second.number} a été mise de côté par ${done.body.handled_by}` }).waitFor();
  await julie.page.screenshot({ path: `${SHOTS}conflict-360.png` });
  await julie.context.close();
});

test('staff cancel a reservation after confirming, with a reason', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test');
  const created = await demo.reserve({ first_name: 'Zoé', email: 'zoe@example.fr', identified: true, external_id: 'Z1' }, { sku: 'TSHIRT-WHT-M' });
  await card(julie.page, created.number).getByRole('button', { name: `Annuler la réservation ${created.number}` }).click();
  const dialog = julie.page.getByRole('dialog', { name: `Annuler ${created.number} ?` });
  await dialog.getByLabel('Motif').fill('Client au téléphone');
  await dialog.getByRole('button', { name: 'Annuler la réservation' }).click();
  await card(julie.page, created.number).waitFor({ state: 'detached' });
  const cancelled = await demo.api('GET', `/api/v1/reservations/${created.number}`);
  assert.equal(cancelled.body.state, 'cancelled');
  assert.equal(cancelled.body.reason, 'Client au téléphone');
  await julie.context.close();
});

test('hand-over: find by name, check the article code, add the order, print the slip', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test');
  const article = await demo.api('GET', '/api/v1/articles/PULL-LAIN-M');
  const ean = article.body.ean;
  const created = await demo.reserve({ first_name: 'Hugo', last_name: 'Lambert', email: 'hugo@example.fr', identified: true, external_id: 'H1' }, { sku: 'PULL-LAIN-M' });
  await card(julie.page, created.number).getByRole('button', { name: 'Mettre de côté' }).click();
  await julie.page.getByRole('button', { name: `Imprimer le bon de ${created.number}` }).click();
  // The slip: number, first name, the article's EAN as a barcode, the deadline.
  const slip = julie.page.locator('#slip');
  await slip.locator('.number', { hasText: created.number }).waitFor();
  assert.equal(await slip.locator('.first-name').textContent(), 'Hugo');
  assert.equal(await slip.locator(`svg.barcode[aria-label="EAN ${ean}"]`).count(), 1);
  assert.ok((await slip.locator('.pickup').textContent()).match(/\d\d\/\d\d\/\d{4} \d\d:\d\d/));
  await julie.page.screenshot({ path: `${SHOTS}slip-360.png`, fullPage: true });
  await julie.page.emulateMedia({ media: 'print' });
  assert.equal(await julie.page.locator('header').isVisible(), false, 'the app bar is not printed');
  await julie.page.emulateMedia({ media: 'screen' });

  await julie.page.getByRole('button', { name: 'Retour' }).last().click();
  await julie.page.getByRole('button', { name: 'Remise au client' }).click();
  await julie.page.getByLabel('Numéro, nom ou code scanné').fill('Lambert');
  await julie.page.getByRole('button', { name: 'Chercher' }).click();
  await julie.page.locator('#collect-title', { hasText: created.number }).waitFor();
  // A wrong code first: the hub refuses and says what does not match.
  await julie.page.getByLabel('Code article').fill('3760000000000');
  await julie.page.getByLabel('Code article').press('Enter');
  await julie.page.getByLabel('Référence de la vente').fill('TICKET-881');
  await julie.page.getByRole('button', { name: 'Confirmer la remise' }).click();
  await julie.page.locator('#message', { hasText: `Les articles scannés ne correspondent pas à la réservation : ${ean} attendu 1, scanné 0 ; 3760000000000 n'est pas dans cette réservation (scanné 1)` }).waitFor();
  assert.equal((await demo.api('GET', `/api/v1/reservations/${created.number}`)).body.state, 'set_aside');
  // Start again with the right code.
  await julie.page.getByRole('button', { name: 'Recommencer le scan' }).click();
  await julie.page.getByLabel('Code article').fill(ean);
  await julie.page.getByLabel('Code article').press('Enter');
  await julie.page.locator('#collect-lines li[data-done="true"]').waitFor();
  await julie.page.getByLabel('Référence de la vente').fill('TICKET-881');
  await julie.page.screenshot({ path: `${SHOTS}hand-over-360.png`, fullPage: true });
  await julie.page.getByRole('button', { name: 'Confirmer la remise' }).click();
  await julie.page.locator('#message', { hasText: `${created.number} est remise au client` }).waitFor();
  const collected = await demo.api('GET', `/api/v1/reservations/${created.number}`);
  assert.equal(collected.body.state, 'collected');
  assert.equal(collected.body.order_ref, 'TICKET-881');
  await julie.context.close();
});

test('hand-over by camera: the shopper\'s QR code, then the article\'s barcode', async () => {
  // Linux chromium has no BarcodeDetector: a stand-in reads what the test
  // queues, from the real (synthetic) camera stream the app opens.
  const julie = await demo.signIn('julie@demo.storehub.test', {
    permissions: ['camera'],
    init: () => {
      window.queuedCodes = [];
      window.BarcodeDetector = class {
        static async getSupportedFormats() { return ['qr_code', 'ean_13', 'code_128']; }
        constructor(options) { window.detectorFormats = options.formats; }
        async detect(video) {
          if (!(video instanceof HTMLVideoElement) || video.readyState < 2) return [];
          return window.queuedCodes.splice(0, 1);
        }
      };
    },
  });
  const ean = (await demo.api('GET', '/api/v1/articles/ROBE-LIN-38')).body.ean;
  const created = await demo.reserve({ first_name: 'Camille', email: 'camille@example.fr', identified: true, external_id: 'C1' }, { sku: 'ROBE-LIN-38' });
  const manon = await demo.staffToken('manon@demo.storehub.test');
  assert.equal((await demo.api('POST', `/api/v1/reservations/${created.number}/set-aside`, {}, manon)).status, 200);
  await julie.page.getByRole('button', { name: 'Remise au client' }).click();
  await julie.page.getByRole('button', { name: 'Scanner' }).click();
  await julie.page.locator('#camera').waitFor();
  assert.deepEqual(await julie.page.evaluate(() => window.detectorFormats), ['qr_code', 'ean_13', 'code_128']);
  await julie.page.evaluate((number) => window.queuedCodes.push({ format: 'qr_code', rawValue: number }), created.number);
  await julie.page.locator('#collect-title', { hasText: created.number }).waitFor();
  assert.equal(await julie.page.locator('#camera').isVisible(), false, 'the camera stops once the QR code is read');
  await julie.page.getByRole('button', { name: 'Scanner' }).click();
  await julie.page.evaluate((code) => window.queuedCodes.push({ format: 'ean_13', rawValue: code }), ean);
  await julie.page.locator('#collect-lines li[data-done="true"]').waitFor();
  await julie.page.getByRole('button', { name: 'Arrêter le scan' }).click();
  await julie.page.getByRole('button', { name: 'Confirmer la remise' }).click();
  await julie.page.locator('#message', { hasText: `${created.number} est remise au client` }).waitFor();
  assert.equal((await demo.api('GET', `/api/v1/reservations/${created.number}`)).body.state, 'collected');
  await julie.context.close();
});

test('managers see overdue reservations of all their stores', async () => {
  const manon = await demo.signIn('manon@demo.storehub.test');
  const julie = await demo.signIn('julie@demo.storehub.test');
  assert.equal(await julie.page.getByRole('tab', { name: /En retard/ }).isVisible(), false, 'staff have no overdue view');
  const lyon = await demo.reserve({ first_name: 'Lou', email: 'lou@example.fr', identified: true, external_id: 'L1' }, { store: 'LYO01', sku: 'SNEAK-WHT-42' });
  await manon.page.locator('#connection[data-state="online"]').waitFor();
  // The phone's clock passes the store's deadline.
  await manon.page.clock.setFixedTime(new Date(Date.parse(lyon.confirm_by) + 60_000));
  await manon.page.getByRole('tab', { name: /En retard/ }).click();
  const late = card(manon.page, lyon.number);
  await late.waitFor();
  assert.equal(await late.locator('.store-code').textContent(), 'LYO01');
  assert.ok(await late.evaluate((node) => node.classList.contains('overdue')));
  await manon.page.screenshot({ path: `${SHOTS}overdue-360.png` });
  await manon.context.close();
  await julie.context.close();
});

test('alert settings: channels and quiet hours per store list', async () => {
  const manon = await demo.signIn('manon@demo.storehub.test');
  await manon.page.getByRole('button', { name: 'Alertes' }).click();
  const lyon = manon.page.locator('form[data-store="LYO01"]');
  await lyon.getByLabel('Email').uncheck();
  await lyon.getByLabel('De').fill('21:00');
  await lyon.getByLabel('À', { exact: true }).fill('08:00');
  await lyon.getByRole('button', { name: "S'abonner LYO01" }).click();
  await manon.page.locator('#message', { hasText: 'Alertes de LYO01 enregistrées' }).waitFor();
  await manon.page.screenshot({ path: `${SHOTS}alerts-360.png`, fullPage: true });
  const token = await manon.page.evaluate(() => localStorage.getItem('storehub.token'));
  const mine = await demo.api('GET', '/api/v1/me/alert-lists', undefined, token);
  const entry = mine.body.find((l) => l.store === 'LYO01');
  assert.deepEqual(entry.channels, ['ws', 'web_push']);
  assert.deepEqual(entry.quiet_hours, { from: '21:00:00', to: '08:00:00' });
  await manon.page.locator('form[data-store="LYO01"] .list-status', { hasText: 'Vous êtes sur cette liste' }).waitFor();
  await manon.context.close();
});

test('in English, by keyboard alone', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test', { locale: 'en-GB' });
  const created = await demo.reserve({ first_name: 'Kate', email: 'kate@example.fr', identified: true, external_id: 'K1' }, { sku: 'ROBE-LIN-38' });
  await card(julie.page, created.number).waitFor();
  await julie.page.getByRole('tab', { name: /To take off the shelf/ }).focus();
  await julie.page.keyboard.press('ArrowRight');
  assert.equal(await julie.page.getByRole('tab', { name: /Set aside/ }).getAttribute('aria-selected'), 'true');
  await julie.page.keyboard.press('ArrowLeft');
  // Tab onto the card's first button and press it with the keyboard.
  const setAside = card(julie.page, created.number).getByRole('button', { name: `Set aside ${created.number}` });
  await setAside.focus();
  await julie.page.keyboard.press('Enter');
  await julie.page.locator('#message', { hasText: `${created.number} is set aside` }).waitFor();
  // Every button and field has a name a screen reader can say.
  const unnamed = await julie.page.evaluate(() => [...document.querySelectorAll('button, input, select, textarea')]
    .filter((node) => node.offsetParent !== null)
    .filter((node) => !(node.getAttribute('aria-label') || node.labels?.length || node.textContent.trim()))
    .map((node) => node.outerHTML));
  assert.deepEqual(unnamed, []);
  // Touch targets stay large at 360 px.
  const small = await julie.page.evaluate(() => [...document.querySelectorAll('button')]
    .filter((node) => node.offsetParent !== null && node.getBoundingClientRect().height < 44)
    .map((node) => node.textContent));
  assert.deepEqual(small, []);
  await julie.page.screenshot({ path: `${SHOTS}board-english-360.png` });
  await julie.context.close();
});
