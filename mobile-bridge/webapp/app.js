// Storehub staff app: sign in, pick a store, see the board live over the
// WebSocket (catching up by sequence number after a reconnect), act on it.

const $ = (id) => document.getElementById(id);
const state = {
  token: localStorage.getItem('storehub.token'),
  me: null,
  store: localStorage.getItem('storehub.store'),
  tab: 'pending',
  items: new Map(), // number -> board item
  seq: null,        // last store event applied
  socket: null,
  retry: 0,
};

const LABELS = { pending: 'À sortir du rayon', set_aside: 'Mises de côté', to_put_back: 'À remettre en rayon' };

function column(item) {
  if (item.state === 'pending') return 'pending';
  if (item.state === 'set_aside') return 'set_aside';
  if ((item.state === 'cancelled' || item.state === 'expired') && item.set_aside_at && !item.reintegration) return 'to_put_back';
  return null;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${state.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || `HTTP ${response.status}`);
    error.code = data.error;
    error.status = response.status;
    throw error;
  }
  return data;
}

function show(view) {
  $('login-view').hidden = view !== 'login';
  $('board-view').hidden = view !== 'board';
}

function setConnection(online) {
  const badge = $('connection');
  badge.dataset.state = online ? 'online' : 'offline';
  badge.textContent = online ? 'en direct' : 'hors ligne — reconnexion…';
}

function render() {
  const counts = { pending: 0, set_aside: 0, to_put_back: 0 };
  const shown = [];
  for (const item of state.items.values()) {
    const col = column(item);
    if (!col) continue;
    counts[col] += 1;
    if (col === state.tab) shown.push(item);
  }
  for (const [name, count] of Object.entries(counts)) {
    $(`count-${name}`).textContent = String(count);
    $(`tab-${name}`).setAttribute('aria-label', `${LABELS[name]} : ${count}`);
  }
  shown.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  const list = $('list');
  list.replaceChildren();
  if (shown.length === 0) {
    const empty = document.createElement('p');
    empty.className = 'empty';
    empty.textContent = 'Rien pour le moment.';
    list.append(empty);
  }
  for (const item of shown) list.append(card(item));
  if (navigator.setAppBadge) navigator.setAppBadge(counts.pending).catch(() => {});
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString('fr-FR', { weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' }) : '';
}

function card(item) {
  const node = $('card').content.firstElementChild.cloneNode(true);
  node.dataset.number = item.number;
  node.querySelector('.number').textContent = item.number;
  node.querySelector('.who').textContent = item.customer_name;
  const overdue = item.state === 'pending' && item.confirm_by && new Date(item.confirm_by) <= new Date();
  node.classList.toggle('overdue', Boolean(overdue));
  for (const line of item.lines) {
    const li = document.createElement('li');
    li.textContent = `${line.quantity} × ${line.designation}${line.variant ? ` (${line.variant})` : ''}`;
    node.querySelector('.lines').append(li);
  }
  const deadline = item.state === 'set_aside' ? `À retirer avant ${when(item.pickup_by)}` : item.state === 'pending' ? `À traiter avant ${when(item.confirm_by)}` : `Terminée : ${item.state}`;
  node.querySelector('.deadline').textContent = deadline;
  const actions = node.querySelector('.actions');
  if (item.state === 'pending') {
    actions.append(button('Mettre de côté', '', () => act(item.number, 'set-aside')));
    actions.append(button('Refuser', 'danger', () => {
      const reason = prompt('Motif du refus (lu par le client)');
      if (reason) act(item.number, 'reject', { reason });
    }));
  }
  return node;
}

function button(label, kind, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (kind) b.className = kind;
  b.addEventListener('click', onClick);
  return b;
}

async function act(number, action, body) {
  $('message').textContent = '';
  try {
    const view = await api('POST', `/api/v1/reservations/${encodeURIComponent(number)}/${action}`, body ?? {});
    // The live event updates every phone; apply ours at once too.
    const current = state.items.get(number);
    if (current) {
      state.items.set(number, { ...current, state: view.state, pickup_by: view.pickup_by, set_aside_at: view.set_aside_at, handled_by: view.handled_by });
      render();
    }
  } catch (error) {
    // A colleague was faster: say so in words.
    $('message').textContent = error.status === 409 ? `Déjà traitée : ${error.message}` : error.message;
  }
}

function apply(frame) {
  if (frame.type === 'snapshot') {
    state.items = new Map();
    for (const list of [frame.board.pending, frame.board.set_aside, frame.board.to_put_back]) {
      for (const item of list) state.items.set(item.number, item);
    }
    state.seq = frame.seq;
  } else if (frame.type === 'event') {
    if (state.seq !== null && frame.seq <= state.seq) return;
    if (state.seq !== null && frame.seq > state.seq + 1) {
      // A gap: ask again from what we have.
      subscribe();
      return;
    }
    const item = frame.event.reservation;
    state.items.set(item.number, item);
    state.seq = frame.seq;
    if (frame.event.kind === 'created' && navigator.vibrate) navigator.vibrate([200, 100, 200]);
  } else if (frame.type === 'subscribed') {
    state.seq = frame.seq;
  } else if (frame.type === 'error') {
    $('message').textContent = frame.message;
  }
  sessionStorage.setItem(`storehub.seq.${state.store}`, String(state.seq ?? ''));
  render();
}

function subscribe() {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return;
  state.socket.send(JSON.stringify({ type: 'subscribe', stores: { [state.store]: state.seq } }));
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  socket.addEventListener('open', () => {
    state.retry = 0;
    setConnection(true);
    subscribe();
  });
  socket.addEventListener('message', (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type !== 'hello' && frame.type !== 'pong') apply(frame);
  });
  socket.addEventListener('close', (event) => {
    setConnection(false);
    if (state.socket !== socket) return;
    if (event.reason && event.reason.startsWith('invalid_token')) return signOut();
    // Back off a little, then catch up from the last seq.
    const delay = Math.min(5000, 250 * 2 ** state.retry++);
    setTimeout(() => { if (state.socket === socket) connect(); }, delay);
  });
}

function pickStore(code) {
  state.store = code;
  localStorage.setItem('storehub.store', code);
  state.items = new Map();
  state.seq = null;
  $('title').textContent = `Storehub — ${code}`;
  if (state.socket && state.socket.readyState === WebSocket.OPEN) subscribe();
}

async function start() {
  if (!state.token) return show('login');
  try {
    state.me = await api('GET', '/api/v1/me');
  } catch {
    return signOut();
  }
  const stores = state.me.stores;
  const picker = $('store-picker');
  picker.replaceChildren(...stores.map((code) => new Option(code, code)));
  $('store-picker-label').hidden = stores.length < 2;
  if (!stores.includes(state.store)) state.store = stores[0];
  picker.value = state.store;
  pickStore(state.store);
  show('board');
  render();
  connect();
}

function signOut() {
  localStorage.removeItem('storehub.token');
  state.token = null;
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

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('click', () => {
    state.tab = tab.dataset.tab;
    for (const other of document.querySelectorAll('[role="tab"]')) other.setAttribute('aria-selected', String(other === tab));
    render();
  });
}
$('store-picker').addEventListener('change', (event) => pickStore(event.target.value));
$('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* signed out anyway */ }
  signOut();
});
window.addEventListener('online', () => { if (state.socket && state.socket.readyState !== WebSocket.OPEN) connect(); });

// A small handle for support and tests: what the app holds, and a way to
// drop the live connection as a lost network would.
window.storehub = {
  get seq() { return state.seq; },
  get items() { return state.items.size; },
  dropConnection() { if (state.socket) state.socket.close(); },
};

if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: '/app/' }).catch(() => {});
start();
