// The shopper's tracking page in the app's look, and what staff see when
// the shopper cancels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, startPushService, localPushSubscriptions, until, count, exactly, card, SHOTS } from './helpers.mjs';

let demo, push;
before(async () => {
  demo = await startDemo();
  push = await startPushService();
});
after(async () => {
  push?.stop();
  await demo?.stop();
});

test('the shopper follows and cancels; the staff app moves it to put back', async () => {
  const julie = await demo.signIn('julie@demo.storehub.test');
  const created = await demo.reserve({ first_name: 'Inès', email: 'ines@example.fr', identified: true, external_id: 'S1', language: 'fr' }, { sku: 'CHEM-OXF-41', quantity: 2 });
  await card(julie.page, created.number).getByRole('button', { name: 'Mettre de côté' }).click();
  await count(julie.page, 'set_aside').filter({ hasText: exactly(1) }).waitFor();

  const shopper = await demo.phone();
  await shopper.page.goto(created.tracking_url);
  const status = shopper.page.locator('#state');
  assert.equal(await status.getAttribute('data-state'), 'set_aside');
  assert.equal(await status.textContent(), 'Prête : mise de côté en magasin');
  // The number as a QR code for the till, the deadline in the store's time, the steps, the hours.
  await shopper.page.getByRole('img', { name: `QR code du numéro ${created.number}` }).waitFor();
  assert.match(await shopper.page.locator('#deadline').textContent(), /^À retirer avant le \w+ \d\d\/\d\d\/\d{4} à \d\d:\d\d$/);
  const steps = await shopper.page.locator('.timeline li').allTextContents();
  assert.deepEqual(steps.map((s) => s.replace(/^.* à \d\d:\d\d /, '')), ['Transmise au magasin', 'Mise de côté : prête à retirer']);
  assert.ok((await shopper.page.locator('table.hours').textContent()).includes('Lundi'));
  await shopper.page.screenshot({ path: `${SHOTS}tracking-360.png`, fullPage: true });

  // Cancel asks first; keeping it changes nothing.
  await shopper.page.getByRole('button', { name: 'Annuler ma réservation' }).click();
  await shopper.page.getByRole('dialog').getByRole('button', { name: 'Garder' }).click();
  assert.equal((await demo.api('GET', `/api/v1/reservations/${created.number}`)).body.state, 'set_aside');
  await shopper.page.getByRole('button', { name: 'Annuler ma réservation' }).click();
  await shopper.page.screenshot({ path: `${SHOTS}tracking-cancel-dialog-360.png` });
  await shopper.page.getByRole('dialog').getByRole('button', { name: 'Oui, annuler' }).click();
  await shopper.page.locator('#state[data-state="cancelled"]').waitFor();
  assert.equal(await shopper.page.getByRole('button', { name: 'Annuler ma réservation' }).count(), 0);

  // Julie's phone moves it from "set aside" to "to put back" without reload.
  await count(julie.page, 'set_aside').filter({ hasText: exactly(0) }).waitFor({ timeout: 2_000 });
  await count(julie.page, 'to_put_back').filter({ hasText: exactly(1) }).waitFor({ timeout: 2_000 });
  await julie.page.getByRole('tab', { name: /À remettre/ }).click();
  // One of the two shirts goes back on the shelf, the other was sold meanwhile.
  await card(julie.page, created.number).getByRole('button', { name: 'Remettre en rayon' }).click();
  const dialog = julie.page.getByRole('dialog');
  await dialog.getByRole('spinbutton').fill('1');
  await julie.page.screenshot({ path: `${SHOTS}put-back-360.png` });
  await dialog.getByRole('button', { name: 'Ces quantités' }).click();
  await julie.page.locator('#message', { hasText: `${created.number} : remise en rayon partielle` }).waitFor();
  await count(julie.page, 'to_put_back').filter({ hasText: exactly(0) }).waitFor();
  const after = await demo.api('GET', `/api/v1/reservations/${created.number}`);
  assert.equal(after.body.reintegration, 'partial');
  await julie.context.close();
  await shopper.context.close();
});

test('the tracking page speaks English to English shoppers and refuses unknown links', async () => {
  const created = await demo.reserve({ first_name: 'Tom', email: 'tom@example.com', identified: true, external_id: 'S2', language: 'en' }, { sku: 'PULL-LAIN-S' });
  const shopper = await demo.phone({ locale: 'en-GB' });
  await shopper.page.goto(created.tracking_url);
  assert.equal(await shopper.page.locator('#state').textContent(), 'Sent to the store');
  assert.match(await shopper.page.locator('#deadline').textContent(), /^The store answers before /);
  const missing = await shopper.page.goto(`${demo.base}/t/not-a-token`);
  assert.equal(missing.status(), 404);
  await shopper.context.close();
});

test('the shopper opts in to Web Push on the tracking page and hears that it is ready', async () => {
  const subscription = await (await fetch(`${push.url}/new?status=201`, { method: 'POST' })).json();
  const created = await demo.reserve({ first_name: 'Nora', email: 'nora@example.fr', identified: true, external_id: 'S3', language: 'fr' }, { sku: 'JEAN-SLIM-42' });
  const shopper = await demo.phone({ permissions: ['notifications'], init: localPushSubscriptions, initArg: subscription });
  await shopper.page.goto(created.tracking_url);
  await shopper.page.getByRole('button', { name: 'Me prévenir sur ce téléphone' }).click();
  await shopper.page.locator('#message', { hasText: 'Vous serez prévenu sur ce téléphone' }).waitFor();
  const publicKey = (await demo.api('GET', '/api/v1/push/public-key')).body.public_key;
  assert.equal(await shopper.page.evaluate(() => window.subscribedWithKey), publicKey);

  const manon = await demo.staffToken('manon@demo.storehub.test');
  assert.equal((await demo.api('POST', `/api/v1/reservations/${created.number}/set-aside`, {}, manon)).status, 200);
  const ready = await until('the shopper\'s push', async () => (await push.log()).find((d) => d.subscription === subscription.endpoint.split('/').pop()));
  assert.equal(ready.error, undefined, JSON.stringify(ready));
  assert.ok(ready.payload.title.includes(created.number) || ready.payload.body.includes(created.number), JSON.stringify(ready.payload));
  assert.equal(ready.payload.url, created.tracking_url);
  await shopper.context.close();
});
