// Service worker: offline shell, and notifications that act by themselves.
const SHELL = 'storehub-shell-v3';
const FILES = ['/app/', '/app/app.js', '/app/text.js', '/app/app.css', '/app/track.js', '/app/push-key.js', '/app/manifest.webmanifest', '/app/icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  // The API is always live; the shell comes from the network, else the cache.
  if (event.request.method !== 'GET' || !url.pathname.startsWith('/app/')) return;
  event.respondWith(fetch(event.request).catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match('/app/'))));
});

const seen = new Set();

/// Shows one push message; a repeat (same id) is dropped, a newer message
/// with the same tag replaces the one on screen.
async function showPush(message) {
  const id = message.data && message.data.id;
  // The hub delivers at least once: a repeat carries the same id.
  if (id && seen.has(id)) return;
  const actions = message.actions || [];
  // The same tag replaces the alert on screen, buttons and all. Closing the
  // old one first, as this did, sometimes left no notification at all in
  // headless chromium.
  await self.registration.showNotification(message.title || 'Storehub', {
    body: message.body,
    tag: message.tag || undefined,
    renotify: Boolean(message.tag),
    icon: '/app/icon.svg',
    data: { url: message.url, actions },
    actions: actions.map((a) => ({ action: a.action, title: a.title })),
  });
  // Marked only once shown: a message that failed to show may come again.
  if (id) seen.add(id);
}

/// What a tap does: a button POSTs its signed link, the body opens the app
/// on the reservation (reusing an open window).
async function notificationClicked(notification, action) {
  const { url, actions } = notification.data || {};
  const chosen = (actions || []).find((a) => a.action === action);
  notification.close();
  if (chosen) {
    const response = await fetch(chosen.url, { method: 'POST', headers: { Accept: 'application/json' } });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      await self.registration.showNotification('Storehub', { body: answer.message || `HTTP ${response.status}`, tag: notification.tag || undefined });
    }
    return response.status;
  }
  const target = url || '/app/';
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).pathname === new URL(target, self.location.origin).pathname);
  const moved = open && await open.navigate(target).catch(() => null);
  // Focus needs the platform's click; without it the page still moved.
  if (moved) return moved.focus().catch(() => moved);
  return self.clients.openWindow(target);
}

self.addEventListener('push', (event) => {
  event.waitUntil(showPush(event.data ? event.data.json() : {}));
});

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(notificationClicked(event.notification, event.action));
});

// Lets tests press a notification's button the way the platform would.
self.storehub = { notificationClicked };
