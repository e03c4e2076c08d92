// Service worker: offline shell, and notifications that act by themselves.
const SHELL = 'storehub-shell-v1';
const FILES = ['/app/', '/app/app.js', '/app/app.css', '/app/manifest.webmanifest', '/app/icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  // The API is always live; the shell comes from the network, else the cache.
  if (event.request.method !== 'GET' || !url.pathname.startsWith('/app/')) return;
  event.respondWith(fetch(event.request).catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match('/app/'))));
});

const seen = new Set();

self.addEventListener('push', (event) => {
  const message = event.data ? event.data.json() : {};
  const id = message.data && message.data.id;
  // The hub delivers at least once: a repeat carries the same id.
  if (id && seen.has(id)) return;
  if (id) seen.add(id);
  event.waitUntil(self.registration.showNotification(message.title || 'Storehub', {
    body: message.body,
    tag: message.tag || undefined,
    renotify: Boolean(message.tag),
    data: { url: message.url, actions: message.actions || [] },
    actions: (message.actions || []).map((a) => ({ action: a.action, title: a.title })),
  }));
});

self.addEventListener('notificationclick', (event) => {
  const { url, actions } = event.notification.data || {};
  const chosen = (actions || []).find((a) => a.action === event.action);
  event.notification.close();
  if (chosen) {
    event.waitUntil(fetch(chosen.url, { method: 'POST', headers: { Accept: 'application/json' } }));
    return;
  }
  event.waitUntil(self.clients.openWindow(url || '/app/'));
});
