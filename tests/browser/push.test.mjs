// Push in the staff app: register this phone, receive the hub's real
// (encrypted, VAPID-signed) push through a local push service, deliver it to
// the service worker over CDP, and act from the notification's button.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, startPushService, localPushSubscriptions, until, count, exactly, SHOTS } from './helpers.mjs';

let demo, push;
before(async () => {
  demo = await startDemo();
  push = await startPushService();
});
after(async () => {
  push?.stop();
  await demo?.stop();
});

test('a push registered in the app shows a notification whose Set aside button works', async () => {
  const subscription = await (await fetch(`${push.url}/new?status=201`, { method: 'POST' })).json();
  const { context, page } = await demo.phone({ permissions: ['notifications'], init: localPushSubscriptions, initArg: subscription });
  await page.goto(`${demo.base}/app/`);
  await page.getByLabel('Email').fill('julie@demo.storehub.test');
  await page.getByLabel('Mot de passe').fill('storehub-demo');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.locator('#connection[data-state="online"]').waitFor();

  await page.getByRole('button', { name: 'Alertes' }).click();
  await page.getByRole('button', { name: 'Activer les notifications sur ce téléphone' }).click();
  await page.locator('#push-state', { hasText: 'Notifications activées' }).waitFor();
  const publicKey = (await demo.api('GET', '/api/v1/push/public-key')).body.public_key;
  assert.equal(await page.evaluate(() => window.subscribedWithKey), publicKey, 'subscribed with the hub’s VAPID key');
  const paris = page.locator('form[data-store="PAR01"]');
  assert.ok(await paris.getByLabel('Notification sur ce téléphone').isChecked());
  await paris.getByRole('button', { name: "S'abonner PAR01" }).click();
  await paris.locator('.list-status', { hasText: 'Vous êtes sur cette liste' }).waitFor();
  await page.getByRole('button', { name: 'Retour' }).click();

  const created = await demo.reserve({ first_name: 'Paul', email: 'paul@example.fr', identified: true, external_id: 'P1' }, { sku: 'SNEAK-WHT-41' });
  const delivery = await until('the hub’s push', async () => (await push.log()).find((d) => d.payload?.title?.includes(created.number)));
  assert.equal(delivery.error, undefined, JSON.stringify(delivery));
  assert.equal(delivery.vapid.k, publicKey);

  // Hand the decrypted message to the service worker as the browser would.
  const cdp = await context.newCDPSession(page);
  const registrations = new Map();
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
    for (const r of list) registrations.set(r.scopeURL, r.registrationId);
  });
  await cdp.send('ServiceWorker.enable');
  const registrationId = await until('the app’s service worker', () => registrations.get(`${demo.base}/app/`));
  const worker = await until('the worker', () => context.serviceWorkers().find((w) => w.url().endsWith('/app/sw.js')));
  const data = JSON.stringify(delivery.payload);
  const copy = (suffix, change = {}) => JSON.stringify({ ...delivery.payload, ...change, data: { ...delivery.payload.data, id: `${delivery.payload.data.id}-${suffix}` } });
  // Headless chromium now and then loses a notification that
  // showNotification reported shown (the push event ran without error, and
  // getNotifications stayed empty). So hand the message over again every
  // 5 s, each time under a new id, or the worker would drop it as a repeat.
  // Same tag, so a later one replaces an earlier one.
  let handedOver = 0;
  let attempt = 0;
  let message = data;
  const shown = await until('the notification', async () => {
    if (Date.now() >= handedOver + 5_000) {
      message = attempt === 0 ? data : copy(`attempt-${attempt}`);
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: demo.base, registrationId, data: message });
      handedOver = Date.now();
      attempt += 1;
    }
    const list = await worker.evaluate(async () => (await self.registration.getNotifications())
      .map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: n.actions.map((a) => a.title) })));
    return list.length ? list : null;
  });
  assert.equal(shown.length, 1);
  assert.equal(shown[0].title, `Nouvelle réservation ${created.number}`);
  assert.match(shown[0].body, /^Paul, 1 article\(s\), /);
  assert.equal(shown[0].tag, `res-${created.number}`);
  assert.deepEqual(shown[0].actions, ['Mettre de côté', 'Refuser']);
  await page.screenshot({ path: `${SHOTS}push-registered-360.png` });

  // A tap on its body opens the app on that reservation.
  await worker.evaluate(async () => {
    const [notification] = await self.registration.getNotifications();
    await self.storehub.notificationClicked(notification, '');
  });
  await page.waitForURL(`**/app/#/r/${created.number}`);
  await page.locator(`#list [data-number="${created.number}"].focused`).waitFor();
  const notifications = () => worker.evaluate(async () => (await self.registration.getNotifications()).map((n) => ({ title: n.title, actions: n.actions.length })));
  assert.deepEqual(await notifications(), [], 'the tapped notification closes');

  // The message shown, again (at-least-once delivery), shows nothing new.
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: demo.base, registrationId, data: message });
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(await notifications(), []);

  // Newer news with the same tag replaces the alert on screen.
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: demo.base, registrationId, data: copy('again') });
  await until('the second notification', async () => (await notifications()).length === 1);
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: demo.base, registrationId, data: copy('handled', { title: `Déjà traitée ${created.number}`, actions: [] }) });
  await until('the replacement', async () => (await notifications())[0]?.title === `Déjà traitée ${created.number}`);
  assert.deepEqual(await notifications(), [{ title: `Déjà traitée ${created.number}`, actions: 0 }]);

  // A fresh alert again, and its Set aside button.
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: demo.base, registrationId, data: copy('third') });
  await until('the third notification', async () => (await notifications())[0]?.actions === 2);
  const status = await worker.evaluate(async () => {
    const [notification] = await self.registration.getNotifications();
    return self.storehub.notificationClicked(notification, 'set_aside');
  });
  assert.equal(status, 200);
  assert.equal(await worker.evaluate(async () => (await self.registration.getNotifications()).length), 0, 'the pressed notification closes');
  const after = await demo.api('GET', `/api/v1/reservations/${created.number}`);
  assert.equal(after.body.state, 'set_aside');
  // And the board on the phone follows, live.
  await count(page, 'set_aside').filter({ hasText: exactly(1) }).waitFor({ timeout: 2_000 });
  await context.close();
});
