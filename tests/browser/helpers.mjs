// Shared set-up for the browser tests: `storehub demo` in a temporary
// directory, Debian's chromium driven by playwright-core (no download).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const BIN = process.env.STOREHUB_BIN || new URL('../../target/debug/storehub', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = new URL('../../target/screenshots/', import.meta.url).pathname;
export const PASSWORD = 'storehub-demo';

/// Starts a process and resolves with the first stdout line matching `pattern`.
function startAndWait(command, args, options, pattern, what) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const found = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 60_000);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    const seen = [];
    lines.on('line', (line) => {
      seen.push(line);
      const match = pattern(seen);
      if (match) { clearTimeout(timer); resolve(match); }
    });
  });
  return { child, found };
}

/// The demo hub, a browser, and helpers bound to them.
export async function startDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'storehub-browser-'));
  const { child: hub, found } = startAndWait(BIN, ['demo', '--bind', '127.0.0.1:0'], { cwd: dir, env: { ...process.env, RUST_LOG: 'warn,hub::notify::worker=error' } }, (seen) => {
    const text = seen.join('\n');
    const docs = text.match(/API docs:\s+(http\S+)\/api\/docs\//);
    const key = text.match(/API key:\s+(\S+)/);
    return docs && key ? { base: docs[1], apiKey: key[1] } : null;
  }, 'the demo');
  const { base, apiKey } = await found;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // A synthetic camera, so the scanner's video runs without hardware.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
  mkdirSync(SHOTS, { recursive: true });
  return new Demo(hub, browser, base, apiKey);
}

/// The independent Web Push service of the Rust tests (Python: VAPID check
/// and aes128gcm decryption with http_ece), on a free port.
export async function startPushService() {
  const script = new URL('../scripts/push_service.py', import.meta.url).pathname;
  const { child, found } = startAndWait('python3', [script, '0'], {}, (seen) => seen.map((l) => l.match(/^ready (\d+)$/)).find(Boolean), 'the push service');
  const port = Number((await found)[1]);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stop: () => child.kill(),
    async log() { return (await fetch(`${url}/log`)).json(); },
  };
}

/// Chromium's own push service is Google's, out of reach here: pages get
/// their subscription from the local push service instead (`made` is its
/// answer to /new), which keeps the private key, checks the VAPID JWT and
/// decrypts what the hub sends. Runs in the page, before its scripts.
export function localPushSubscriptions(made) {
  let current = null;
  const fake = {
    endpoint: made.endpoint,
    expirationTime: null,
    toJSON: () => ({ endpoint: made.endpoint, expirationTime: null, keys: { p256dh: made.p256dh, auth: made.auth } }),
    unsubscribe: async () => { current = null; return true; },
  };
  PushManager.prototype.subscribe = async function subscribe(options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.subscribedWithKey = btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    current = fake;
    return fake;
  };
  PushManager.prototype.getSubscription = async function getSubscription() { return current; };
}

export async function until(what, probe, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

class Demo {
  constructor(hub, browser, base, apiKey) {
    Object.assign(this, { hub, browser, base, apiKey });
  }

  async stop() {
    await this.browser.close();
    this.hub.kill();
  }

  async api(method, path, body, token = this.apiKey) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async reserve(customer, { store = 'PAR01', sku = 'SNEAK-WHT-42', quantity = 1 } = {}) {
    const answer = await this.api('POST', '/api/v1/reservations', { store, customer, lines: [{ sku, quantity }], accept_terms: true });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return answer.body;
  }

  async staffToken(email) {
    const answer = await this.api('POST', '/api/v1/auth/login', { email, password: PASSWORD }, '');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.token;
  }

  async phone({ locale = 'fr-FR', permissions = [], init, initArg } = {}) {
    const context = await this.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale, permissions });
    if (init) await context.addInitScript(init, initArg);
    return { context, page: await context.newPage() };
  }

  async signIn(email, options = {}) {
    const { context, page } = await this.phone(options);
    await page.goto(`${this.base}/app/`);
    const fr = (options.locale ?? 'fr-FR').startsWith('fr');
    await page.getByLabel(fr ? 'Email' : 'Email').fill(email);
    await page.getByLabel(fr ? 'Mot de passe' : 'Password').fill(PASSWORD);
    await page.getByRole('button', { name: fr ? 'Se connecter' : 'Sign in' }).click();
    await page.locator('#connection[data-state="online"]').waitFor({ timeout: 10_000 });
    return { context, page };
  }
}

export const count = (page, tab) => page.locator(`#count-${tab}`);
export const exactly = (n) => new RegExp(`^${n}$`);
export const card = (page, number) => page.locator(`#list [data-number="${number}"]`);
