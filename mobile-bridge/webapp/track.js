// The shopper's tracking page: cancel with a confirmation dialog, and an
// opt-in to Web Push for news of this reservation. The page works without it.
import { keyBytes } from './push-key.js';

const page = document.querySelector('main.tracking');
const token = page.dataset.token;
const fr = page.dataset.lang.startsWith('fr');
const say = (text) => { document.getElementById('message').textContent = text; };

const cancel = document.getElementById('cancel');
if (cancel) {
  const dialog = document.getElementById('cancel-dialog');
  cancel.addEventListener('click', () => dialog.showModal());
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'cancel') return;
    const response = await fetch(`/api/v1/tracking/${encodeURIComponent(token)}/cancel`, { method: 'POST' });
    if (response.ok) return location.reload();
    const answer = await response.json().catch(() => ({}));
    say(answer.message || (fr ? "L'annulation n'a pas abouti ; réessayez." : 'The cancellation did not go through; try again.'));
  });
}

const optin = document.getElementById('push-optin');
if (optin && 'serviceWorker' in navigator && 'PushManager' in window) {
  optin.hidden = false;
  optin.addEventListener('click', async () => {
    try {
      if (await Notification.requestPermission() !== 'granted') throw new Error(fr ? 'Notifications refusées.' : 'Notifications are blocked.');
      const keyAnswer = await fetch('/api/v1/push/public-key');
      if (!keyAnswer.ok) throw new Error(fr ? 'Les notifications ne sont pas proposées.' : 'Notifications are not offered.');
      const { public_key: key } = await keyAnswer.json();
      const registration = await navigator.serviceWorker.register('/app/sw.js', { scope: '/t/' });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      const saved = await fetch(`/api/v1/tracking/${encodeURIComponent(token)}/push-subscriptions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(subscription.toJSON()),
      });
      if (!saved.ok) throw new Error((await saved.json().catch(() => ({}))).message || `HTTP ${saved.status}`);
      optin.hidden = true;
      say(fr ? 'Vous serez prévenu sur ce téléphone.' : 'You will be told on this phone.');
    } catch (error) {
      say(error.message);
    }
  });
}
