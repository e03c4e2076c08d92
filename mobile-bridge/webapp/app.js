// Storehub staff app: sign in, watch every store of yours live over the
// WebSocket (catching up by sequence number after a reconnect), act on
// reservations, hand them over, and choose how you are alerted.

import { keyBytes } from './push-key.js';
import { TEXT } from './text.js';

const $ = (id) => document.getElementById(id);
const state = {
  token: localStorage.getItem('storehub.token'),
  me: null,
  store: localStorage.getItem('storehub.store'),
  tab: 'pending',
  items: new Map(), // number -> board item, with its store
  seqs: {},         // store -> last event applied
  socket: null,
  retry: 0,
  picked: null,     // the reservation being handed over
  scanned: [],      // article codes scanned for it
  detector: null,
  notice: null,     // said on the next screen
  opening: null,    // a reservation to show once the board is in
  focused: null,    // the reservation last opened from a notification
};
let lang = localStorage.getItem('storehub.lang') || (navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en');

function t(key, vars = {}) {
  const text = TEXT[lang][key] ?? TEXT.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

function translatePage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  for (const node of document.querySelectorAll('[data-t-label]')) node.setAttribute('aria-label', t(node.dataset.tLabel));
  $('language').value = lang;
  setConnection(state.socket?.readyState === WebSocket.OPEN);
}

const isManager = () => state.me && (state.me.role === 'manager' || state.me.role === 'admin');

function column(item) {
  if (item.state === 'pending') return 'pending';
  if (item.state === 'set_aside') return 'set_aside';
  if ((item.state === 'cancelled' || item.state === 'expired') && item.set_aside_at && !item.reintegration) return 'to_put_back';
  return null;
}

const isOverdue = (item) => item.state === 'pending' && (item.overdue || (item.confirm_by && new Date(item.confirm_by) <= new Date()));

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${state.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || `HTTP ${response.status}`);
    Object.assign(error, { code: data.error, status: response.status, handled: data.handled });
    throw error;
  }
  return data;
}

function when(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', { weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
}

/// Says an error in words; a colleague being faster is not a failure.
function explain(error) {
  if (error.handled) {
    const { number, state: now, by, at } = error.handled;
    return t('conflict', { number, state: t(`state_${now}`), by: by || t('system'), at: when(at) });
  }
  return error.message;
}

function say(text, kind = 'error') {
  const message = $('message');
  message.textContent = text;
  message.dataset.kind = kind;
}

// ---- views and navigation (the hash keeps the phone's back button useful)

const VIEWS = ['login', 'board', 'handover', 'settings', 'slip'];

function show(view) {
  for (const name of VIEWS) $(`${name}-view`).hidden = name !== view;
  $('logout').hidden = view === 'login';
  const heading = $(`${view}-view`).querySelector('h2');
  if (heading && view !== 'board') {
    heading.tabIndex = -1;
    heading.focus();
  }
}

async function route() {
  if (!state.me) return;
  const hash = location.hash.replace(/^#\/?/, '');
  const [page, arg] = hash.split('/');
  // A message left for the next screen (e.g. "handed over") is shown there.
  say(state.notice ?? '', 'info');
  state.notice = null;
  if (page === 'handover') {
    show('handover');
    if (arg) await pick(decodeURIComponent(arg));
  } else if (page === 'settings') {
    show('settings');
    await loadSettings();
  } else if (page === 'slip' && arg) {
    show('slip');
    await loadSlip(decodeURIComponent(arg));
  } else {
    show('board');
    render();
    if (page === 'r' && arg) openReservation(decodeURIComponent(arg));
  }
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

// ---- the board

function render() {
  const counts = { pending: 0, set_aside: 0, to_put_back: 0, overdue: 0 };
  const shown = [];
  for (const item of state.items.values()) {
    if (isManager() && isOverdue(item)) {
      counts.overdue += 1;
      if (state.tab === 'overdue') shown.push(item);
    }
    if (item.store !== state.store) continue;
    const col = column(item);
    if (!col) continue;
    counts[col] += 1;
    if (col === state.tab) shown.push(item);
  }
  for (const [name, count] of Object.entries(counts)) {
    $(`count-${name}`).textContent = String(count);
    $(`tab-${name}`).setAttribute('aria-label', `${t(`tab_${name}`)} : ${count}`);
  }
  $('tab-overdue').hidden = !isManager();
  shown.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  const list = $('list');
  list.setAttribute('aria-labelledby', `tab-${state.tab}`);
  list.replaceChildren();
  if (shown.length === 0) {
    const empty = document.createElement('p');
    empty.className = 'empty';
    empty.textContent = t('nothing');
    list.append(empty);
  }
  for (const item of shown) list.append(card(item));
  const pending = counts.pending;
  if (navigator.setAppBadge) navigator.setAppBadge(pending).catch(() => {});
}

function selectTab(name) {
  state.tab = name;
  for (const tab of document.querySelectorAll('[role="tab"]')) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  render();
}

function card(item) {
  const node = $('card').content.firstElementChild.cloneNode(true);
  node.dataset.number = item.number;
  node.setAttribute('aria-label', `${item.number} ${item.customer_name}`);
  node.querySelector('.number').textContent = item.number;
  node.querySelector('.who').textContent = item.customer_name;
  node.querySelector('.store-code').textContent = state.tab === 'overdue' ? item.store : '';
  node.classList.toggle('overdue', Boolean(isOverdue(item)));
  node.classList.toggle('focused', item.number === state.focused);
  for (const line of item.lines) {
    const li = document.createElement('li');
    li.textContent = `${line.quantity} × ${line.designation}${line.variant ? ` (${line.variant})` : ''}`;
    node.querySelector('.lines').append(li);
  }
  const deadline = item.state === 'set_aside'
    ? t('collectBefore', { at: when(item.pickup_by) })
    : item.state === 'pending'
      ? (isOverdue(item) ? t('lateSince', { at: when(item.confirm_by) }) : t('handleBefore', { at: when(item.confirm_by) }))
      : t('ended', { state: t(`state_${item.state}`) });
  node.querySelector('.deadline').textContent = deadline;
  const actions = node.querySelector('.actions');
  const named = (label) => `${label} ${item.number}`;
  if (item.state === 'pending') {
    actions.append(button(t('setAside'), '', () => act(item, 'set-aside'), named(t('setAside'))));
    actions.append(button(t('reject'), 'danger', () => askReject(item), named(t('reject'))));
  } else if (item.state === 'set_aside') {
    actions.append(button(t('handOverShort'), '', () => go(`#/handover/${encodeURIComponent(item.number)}`), named(t('handOverShort'))));
    actions.append(button(t('slipShort'), 'secondary', () => go(`#/slip/${encodeURIComponent(item.number)}`), named(t('slip'))));
  } else if (column(item) === 'to_put_back') {
    actions.append(button(t('putBack'), '', () => askPutBack(item), named(t('putBack'))));
  }
  if (item.state === 'pending' || item.state === 'set_aside') {
    actions.append(button(t('cancelShort'), 'secondary', () => askCancel(item), named(t('cancel'))));
  }
  return node;
}

function button(label, kind, onClick, accessibleName) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (accessibleName) b.setAttribute('aria-label', accessibleName);
  if (kind) b.className = kind;
  b.addEventListener('click', onClick);
  return b;
}

function openReservation(number) {
  const item = state.items.get(number);
  const loaded = state.me.stores.every((code) => state.seqs[code] !== undefined);
  if (!item && !loaded) {
    // Opened from a notification before the board arrived: open it then.
    state.opening = number;
    return;
  }
  state.opening = null;
  if (!item) {
    say(t('notOnBoard', { number }), 'info');
    return;
  }
  if (item.store !== state.store) pickStore(item.store);
  state.focused = number;
  const col = column(item);
  if (col) selectTab(col); else render();
  const node = document.querySelector(`#list [data-number="${CSS.escape(number)}"]`);
  if (node) {
    node.scrollIntoView({ block: 'center' });
    node.focus();
  }
}

/// Applies what the hub answered at once; the live event confirms it.
function applyView(view) {
  const current = state.items.get(view.number);
  if (!current) return;
  state.items.set(view.number, {
    ...current,
    state: view.state,
    pickup_by: view.pickup_by,
    set_aside_at: view.set_aside_at,
    handled_by: view.handled_by,
    reintegration: view.reintegration,
  });
  render();
}

async function act(item, action, body) {
  say('');
  try {
    const view = await api('POST', `/api/v1/reservations/${encodeURIComponent(item.number)}/${action}`, body ?? {});
    applyView(view);
    if (action === 'set-aside') {
      const slip = button(t('printSlipFor', { number: item.number }), 'secondary', () => go(`#/slip/${encodeURIComponent(item.number)}`));
      say(t('doneSetAside', { number: item.number }), 'info');
      $('message').append(' ', slip);
    }
    return view;
  } catch (error) {
    say(explain(error));
    return null;
  }
}

function ask(dialogId, titleText, setup) {
  const dialog = $(dialogId);
  dialog.querySelector('h2').textContent = titleText;
  setup?.(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function askReject(item) {
  $('reject-reason').value = '';
  const answer = await ask('reject-dialog', t('rejectTitle', { number: item.number }));
  const reason = $('reject-reason').value.trim();
  if (answer === 'ok' && reason) await act(item, 'reject', { reason });
}

async function askCancel(item) {
  $('cancel-reason').value = '';
  const answer = await ask('cancel-dialog', t('cancelTitle', { number: item.number }));
  const reason = $('cancel-reason').value.trim();
  if (answer === 'ok') await act(item, 'cancel', reason ? { reason } : {});
}

async function askPutBack(item) {
  const lines = $('putback-lines');
  lines.replaceChildren(...item.lines.map((line) => {
    const li = document.createElement('li');
    const label = document.createElement('label');
    const input = document.createElement('input');
    Object.assign(input, { type: 'number', min: '0', max: String(line.quantity), value: String(line.quantity), inputMode: 'numeric' });
    input.dataset.sku = line.sku;
    label.append(`${line.designation} (${t('of', { n: line.quantity })}) `, input);
    li.append(label);
    return li;
  }));
  const answer = await ask('putback-dialog', t('putBackTitle', { number: item.number }));
  let chosen;
  if (answer === 'all') chosen = item.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
  else if (answer === 'none') chosen = [];
  else if (answer === 'lines') {
    chosen = [...lines.querySelectorAll('input')].map((input) => ({ sku: input.dataset.sku, quantity: Number(input.value) })).filter((l) => l.quantity > 0);
  } else return;
  const view = await act(item, 'put-back', { lines: chosen });
  if (view) say(t('donePutBack', { number: item.number, how: t(`reintegration_${view.reintegration}`) }), 'info');
}

// ---- live updates

let audio = null;
function alertArrival() {
  if (localStorage.getItem('storehub.sound') === 'off') return;
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch { /* no sound on this device */ }
}

function apply(frame) {
  if (frame.type === 'snapshot') {
    for (const [number, item] of state.items) if (item.store === frame.store) state.items.delete(number);
    for (const list of [frame.board.pending, frame.board.set_aside, frame.board.to_put_back]) {
      for (const item of list) state.items.set(item.number, { ...item, store: frame.store });
    }
    state.seqs[frame.store] = frame.seq;
  } else if (frame.type === 'event') {
    const last = state.seqs[frame.store];
    if (last !== undefined && last !== null && frame.seq <= last) return;
    if (last !== undefined && last !== null && frame.seq > last + 1) {
      // A gap: ask again from what we have.
      subscribe();
      return;
    }
    const item = frame.event.reservation;
    if (item) state.items.set(item.number, { ...item, store: frame.store });
    state.seqs[frame.store] = frame.seq;
    if (frame.event.kind === 'created' && frame.store === state.store) alertArrival();
  } else if (frame.type === 'subscribed') {
    if (frame.store) state.seqs[frame.store] = frame.seq;
  } else if (frame.type === 'error') {
    say(frame.message);
  }
  render();
  if (state.opening) openReservation(state.opening);
}

function subscribe() {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return;
  const stores = {};
  for (const code of state.me.stores) stores[code] = state.seqs[code] ?? null;
  state.socket.send(JSON.stringify({ type: 'subscribe', stores }));
}

function setConnection(online) {
  const badge = $('connection');
  badge.dataset.state = online ? 'online' : 'offline';
  badge.textContent = online ? t('online') : t('offline');
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  socket.addEventListener('open', () => {
    if (state.socket !== socket) return socket.close();
    state.retry = 0;
    setConnection(true);
    subscribe();
  });
  socket.addEventListener('message', (message) => {
    if (state.socket !== socket) return;
    const frame = JSON.parse(message.data);
    if (frame.type !== 'hello' && frame.type !== 'pong') apply(frame);
  });
  socket.addEventListener('close', (event) => lost(socket, event.reason));
}

/// The live connection is gone (or given up on: a close handshake can hang
/// while the network is down): say so, and reconnect with backoff.
function lost(socket, reason) {
  if (state.socket !== socket) return;
  state.socket = null;
  setConnection(false);
  if (reason && reason.startsWith('invalid_token')) return signOut();
  // Back off a little, then catch up from the last seq.
  const delay = Math.min(5000, 250 * 2 ** state.retry++);
  setTimeout(() => { if (state.token && !state.socket) connect(); }, delay);
}

function dropConnection() {
  const socket = state.socket;
  if (!socket) return;
  lost(socket);
  socket.close();
}

function pickStore(code) {
  state.store = code;
  localStorage.setItem('storehub.store', code);
  $('store-picker').value = code;
  $('title').textContent = `Storehub — ${code}`;
  render();
}

// ---- hand-over: find the reservation, check the articles, confirm

async function search(query) {
  const results = $('results');
  results.replaceChildren();
  $('collect-form').hidden = true;
  const q = query.trim();
  if (!q) return;
  try {
    const page = await api('GET', `/api/v1/reservations?store=${encodeURIComponent(state.store)}&state=set_aside&q=${encodeURIComponent(q)}&per_page=20`);
    if (page.items.length === 1) return pick(page.items[0].number);
    if (page.items.length === 0) {
      // A scanned article code finds the reservations holding it.
      say(t('noMatch', { q }), 'info');
      return;
    }
    for (const found of page.items) {
      const li = document.createElement('li');
      li.append(button(`${found.number} — ${found.customer_name} — ${found.articles.join(', ')}`, 'secondary', () => pick(found.number)));
      results.append(li);
    }
  } catch (error) {
    say(explain(error));
  }
}

async function pick(number) {
  try {
    const view = await api('GET', `/api/v1/reservations/${encodeURIComponent(number)}`);
    if (view.state !== 'set_aside') {
      say(t('notSetAside', { number: view.number, state: t(`state_${view.state}`) }));
      return;
    }
    state.picked = view;
    state.scanned = [];
    say('');
    $('results').replaceChildren();
    $('collect-title').textContent = `${view.number} — ${view.customer.first_name}${view.customer.last_name ? ` ${view.customer.last_name}` : ''}`;
    $('order-ref').value = '';
    renderChecklist();
    $('collect-form').hidden = false;
    $('order-ref').focus();
  } catch (error) {
    say(explain(error));
  }
}

function renderChecklist() {
  const view = state.picked;
  const lines = $('collect-lines');
  lines.replaceChildren(...view.lines.map((line) => {
    const code = line.ean || line.sku;
    const got = state.scanned.filter((c) => c === code).length;
    const li = document.createElement('li');
    li.dataset.done = String(got >= line.quantity);
    li.textContent = `${line.quantity} × ${line.designation}${line.variant ? ` (${line.variant})` : ''} — ${code}` + (state.scanned.length ? ` — ${t('scannedCount', { got, want: line.quantity })}` : '');
    return li;
  }));
}

function addArticleCode(code) {
  const clean = code.trim();
  if (!clean || !state.picked) return;
  state.scanned.push(clean);
  renderChecklist();
}

async function collect(event) {
  event.preventDefault();
  const view = state.picked;
  if (!view) return;
  const body = { order_ref: $('order-ref').value.trim() || undefined };
  if (state.scanned.length) body.scanned = state.scanned;
  try {
    const done = await api('POST', `/api/v1/reservations/${encodeURIComponent(view.number)}/collect`, body);
    applyView(done);
    state.picked = null;
    $('collect-form').hidden = true;
    $('search').value = '';
    state.notice = t('doneHandOver', { number: done.number });
    go('#/');
  } catch (error) {
    say(error.code === 'scan_mismatch' ? scanProblems() : explain(error));
  }
}

/// What does not match, line by line, in the app's language.
function scanProblems() {
  const expected = new Map();
  for (const line of state.picked.lines) {
    const code = line.ean || line.sku;
    expected.set(code, (expected.get(code) ?? 0) + line.quantity);
  }
  const scanned = new Map();
  for (const code of state.scanned) scanned.set(code, (scanned.get(code) ?? 0) + 1);
  const problems = [];
  for (const [code, want] of expected) {
    const got = scanned.get(code) ?? 0;
    if (got !== want) problems.push(t('scanWrongCount', { code, want, got }));
  }
  for (const [code, got] of scanned) if (!expected.has(code)) problems.push(t('scanNotHere', { code, got }));
  return `${t('scanMismatch')} ${problems.join(' ; ')}`;
}

async function scan() {
  if (state.detector) return stopScan();
  const video = $('camera');
  try {
    const formats = await BarcodeDetector.getSupportedFormats();
    state.detector = new BarcodeDetector({ formats: formats.filter((f) => ['qr_code', 'ean_13', 'ean_8', 'code_128', 'upc_a'].includes(f)) });
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.hidden = false;
    await video.play();
    $('scan').textContent = t('stopScan');
    const look = async () => {
      if (!state.detector) return;
      const codes = await state.detector.detect(video).catch(() => []);
      for (const code of codes) {
        if (code.format === 'qr_code' || !state.picked) {
          stopScan();
          $('search').value = code.rawValue;
          return search(code.rawValue);
        }
        addArticleCode(code.rawValue);
      }
      setTimeout(look, 400);
    };
    look();
  } catch (error) {
    stopScan();
    say(t('noCamera', { why: error.message }));
  }
}

function stopScan() {
  state.detector = null;
  const video = $('camera');
  for (const track of video.srcObject?.getTracks() ?? []) track.stop();
  video.srcObject = null;
  video.hidden = true;
  $('scan').textContent = t('scan');
}

// ---- preparation slip

async function loadSlip(number) {
  const target = $('slip');
  target.replaceChildren();
  const response = await fetch(`/api/v1/reservations/${encodeURIComponent(number)}/slip`, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    say(data.message || `HTTP ${response.status}`);
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), 'text/html');
  const slip = page.querySelector('.slip');
  slip?.querySelector('.no-print')?.remove();
  if (slip) target.append(document.adoptNode(slip));
}

// ---- alerts: push on this phone, channels and quiet hours per store

async function pushRegistration() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return null;
  return navigator.serviceWorker.ready;
}

async function refreshPushState() {
  const registration = await pushRegistration();
  const current = registration && await registration.pushManager.getSubscription();
  $('push-state').textContent = !registration ? t('pushUnsupported') : current ? t('pushOn') : t('pushOff');
  $('enable-push').hidden = !registration || Boolean(current);
}

async function enablePush() {
  say('');
  try {
    const registration = await pushRegistration();
    if (!registration) throw new Error(t('pushUnsupported'));
    if (await Notification.requestPermission() !== 'granted') throw new Error(t('pushDenied'));
    const { public_key: key } = await api('GET', '/api/v1/push/public-key');
    const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    await api('POST', '/api/v1/me/push-subscriptions', subscription.toJSON());
    say(t('pushRegistered'), 'info');
  } catch (error) {
    say(explain(error));
  }
  await refreshPushState();
}

const CHANNELS = ['ws', 'web_push', 'fcm', 'email'];

async function loadSettings() {
  $('sound').checked = localStorage.getItem('storehub.sound') !== 'off';
  refreshPushState();
  let mine = [];
  try { mine = await api('GET', '/api/v1/me/alert-lists'); } catch (error) { say(explain(error)); }
  const lists = $('lists');
  lists.replaceChildren(...state.me.stores.map((code) => listForm(code, mine.find((m) => m.store === code))));
}

function listForm(code, current) {
  const form = document.createElement('form');
  form.className = 'panel list-form';
  form.dataset.store = code;
  const legend = document.createElement('h3');
  legend.textContent = t('listOf', { store: code });
  const status = document.createElement('p');
  status.className = 'list-status';
  status.setAttribute('role', 'status');
  status.textContent = current ? t('onList') : t('notOnList');
  const fieldset = document.createElement('fieldset');
  const caption = document.createElement('legend');
  caption.textContent = t('channels');
  fieldset.append(caption);
  for (const channel of CHANNELS) {
    const label = document.createElement('label');
    label.className = 'inline';
    const box = document.createElement('input');
    Object.assign(box, { type: 'checkbox', name: 'channel', value: channel, checked: current ? current.channels.includes(channel) : channel !== 'fcm' });
    label.append(box, ` ${t(`channel_${channel}`)}`);
    fieldset.append(label);
  }
  const quiet = document.createElement('fieldset');
  const quietCaption = document.createElement('legend');
  quietCaption.textContent = t('quietHours');
  const from = Object.assign(document.createElement('input'), { type: 'time', name: 'from', value: current?.quiet_hours?.from?.slice(0, 5) ?? '' });
  const to = Object.assign(document.createElement('input'), { type: 'time', name: 'to', value: current?.quiet_hours?.to?.slice(0, 5) ?? '' });
  const fromLabel = document.createElement('label');
  fromLabel.append(t('from'), from);
  const toLabel = document.createElement('label');
  toLabel.append(t('to'), to);
  quiet.append(quietCaption, fromLabel, toLabel);
  const save = Object.assign(document.createElement('button'), { type: 'submit', textContent: current ? t('save') : t('join') });
  save.setAttribute('aria-label', `${save.textContent} ${code}`);
  const actions = document.createElement('div');
  actions.className = 'actions';
  actions.append(save);
  if (current) {
    const leave = button(t('leave'), 'secondary', async () => {
      try {
        await api('DELETE', `/api/v1/stores/${encodeURIComponent(code)}/alert-list/me`);
        await loadSettings();
      } catch (error) { say(explain(error)); }
    }, `${t('leave')} ${code}`);
    actions.append(leave);
  }
  form.append(legend, status, fieldset, quiet, actions);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const channels = [...form.querySelectorAll('input[name="channel"]:checked')].map((box) => box.value);
    const body = { channels };
    if (from.value && to.value) body.quiet_hours = { from: from.value, to: to.value };
    try {
      await api('PUT', `/api/v1/stores/${encodeURIComponent(code)}/alert-list/me`, body);
      await loadSettings();
      say(t('saved', { store: code }), 'info');
    } catch (error) { say(explain(error)); }
  });
  return form;
}

// ---- session

async function start() {
  translatePage();
  if (!state.token) return show('login');
  try {
    state.me = await api('GET', '/api/v1/me');
  } catch (error) {
    // Only a refused token signs out; no network keeps the session and
    // waits for the network to come back.
    if (error.status === 401 || error.status === 403) return signOut();
    show('board');
    setConnection(false);
    say(t('offlineStart'), 'info');
    setTimeout(() => { if (state.token && !state.me) start(); }, 5000);
    return;
  }
  const stores = state.me.stores;
  const picker = $('store-picker');
  picker.replaceChildren(...stores.map((code) => new Option(code, code)));
  $('store-picker-label').hidden = stores.length < 2;
  if (!stores.includes(state.store)) state.store = stores[0];
  pickStore(state.store);
  connect();
  await route();
}

function signOut() {
  localStorage.removeItem('storehub.token');
  Object.assign(state, { token: null, me: null, items: new Map(), seqs: {} });
  const socket = state.socket;
  state.socket = null;
  if (socket) socket.close();
  show('login');
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    const response = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: $('email').value, password: $('password').value }),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.message);
    state.token = data.token;
    localStorage.setItem('storehub.token', data.token);
    await start();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

const tabs = [...document.querySelectorAll('[role="tab"]')];
for (const tab of tabs) tab.addEventListener('click', () => selectTab(tab.dataset.tab));
// Arrow keys move between tabs, as screen-reader users expect of a tab list.
$('tabs').addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
  const visible = tabs.filter((tab) => !tab.hidden);
  const index = visible.indexOf(document.activeElement);
  const next = visible[(index + (event.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
  next.focus();
  selectTab(next.dataset.tab);
});
$('store-picker').addEventListener('change', (event) => pickStore(event.target.value));
$('open-handover').addEventListener('click', () => go('#/handover'));
$('open-settings').addEventListener('click', () => go('#/settings'));
for (const back of document.querySelectorAll('.back')) back.addEventListener('click', () => go('#/'));
$('search-form').addEventListener('submit', (event) => { event.preventDefault(); search($('search').value); });
$('scan').hidden = !('BarcodeDetector' in window);
$('scan').addEventListener('click', scan);
$('add-article').addEventListener('click', () => { addArticleCode($('article-code').value); $('article-code').value = ''; $('article-code').focus(); });
$('article-code').addEventListener('keydown', (event) => {
  // Hand scanners type the code and press Enter.
  if (event.key === 'Enter') { event.preventDefault(); $('add-article').click(); }
});
$('reset-scan').addEventListener('click', () => { state.scanned = []; renderChecklist(); say(''); });
$('collect-form').addEventListener('submit', collect);
$('print').addEventListener('click', () => print());
$('enable-push').addEventListener('click', enablePush);
$('sound').addEventListener('change', (event) => localStorage.setItem('storehub.sound', event.target.checked ? 'on' : 'off'));
$('language').addEventListener('change', (event) => {
  lang = event.target.value;
  localStorage.setItem('storehub.lang', lang);
  translatePage();
  route();
});
$('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* signed out anyway */ }
  signOut();
});
window.addEventListener('hashchange', route);
window.addEventListener('online', () => {
  if (state.me && !state.socket) connect();
  else if (state.token && !state.me) start();
});
window.addEventListener('offline', dropConnection);

// A small handle for support and tests: what the app holds, and a way to
// drop the live connection as a lost network would.
window.storehub = {
  get seq() { return state.seqs[state.store] ?? null; },
  get items() { return state.items.size; },
  dropConnection,
};

// Deadlines pass without events: look again every half minute.
setInterval(() => { if (state.me && !$('board-view').hidden) render(); }, 30_000);

if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: '/app/' }).catch(() => {});
start();
