/** The endpoints API: CRUD, validation, the URL safety rules, and secrets (shown once, sealed at rest). */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/webhooks/events.js';
import { STORES, createTestStore, startTestServer, storeBytes, type TestServer, type TestStore } from '../helpers/server.js';
import { Receiver, webhookEnv } from './receiver.js';
import { eventually } from '../helpers/eventually.js';

describe.each(STORES)('webhook endpoints API on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;

  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { env: webhookEnv() });
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  const audit = async (action: string) => (await server.bapi('GET', `/v1/audit_logs?action=${action}`)).json().data;

  it('creates, reads, lists, updates and deletes; the secret is shown only at creation', async () => {
    const created = await server.bapi('POST', '/v1/webhooks/endpoints', {
      url: 'https://example.com/hooks?token=abc',
      event_types: ['sms.failed', 'sms.delivered', 'sms.failed'],
      description: 'ops',
    });
    expect(created.statusCode, created.body).toBe(200);
    const endpoint = created.json();
    expect(endpoint).toMatchObject({
      object: 'webhook_endpoint',
      url: 'https://example.com/hooks?token=abc',
      description: 'ops',
      event_types: ['sms.delivered', 'sms.failed'],
      enabled: true,
    });
    expect(endpoint.id).toMatch(/^whe_/);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const got = (await server.bapi('GET', `/v1/webhooks/endpoints/${endpoint.id}`)).json();
    expect(got).toEqual({ ...endpoint, secret: undefined });
    expect(JSON.stringify(got)).not.toContain(endpoint.secret);
    const list = (await server.bapi('GET', '/v1/webhooks/endpoints')).json();
    expect(list.data.map((e: { id: string }) => e.id)).toContain(endpoint.id);
    expect(JSON.stringify(list)).not.toContain(endpoint.secret);

    const patched = await server.bapi('PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, {
      enabled: false,
      event_types: null,
      description: null,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ enabled: false, event_types: null, description: null, url: endpoint.url });
    expect((await audit('webhook_endpoint.updated'))[0].data.changes).toEqual({
      description: { from: 'ops', to: null },
      event_types: { from: ['sms.delivered', 'sms.failed'], to: null },
      enabled: { from: true, to: false },
    });

    // Secrets are sealed at rest: the plaintext is nowhere in the store, nor in the audit log or logs.
    expect((await storeBytes(server)).includes(endpoint.secret.slice('whsec_'.length))).toBe(false);
    expect(server.logs.join('')).not.toContain(endpoint.secret);

    const deleted = await server.bapi('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`);
    expect(deleted.json()).toEqual({ id: endpoint.id, object: 'webhook_endpoint', deleted: true });
    for (const [method, url] of [
      ['GET', `/v1/webhooks/endpoints/${endpoint.id}`],
      ['PATCH', `/v1/webhooks/endpoints/${endpoint.id}`],
      ['DELETE', `/v1/webhooks/endpoints/${endpoint.id}`],
      ['POST', `/v1/webhooks/endpoints/${endpoint.id}/rotate_secret`],
    ] as const) {
      const res = await server.bapi(method, url, method === 'PATCH' ? { enabled: true } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().errors[0]).toMatchObject({ code: 'resource_not_found', meta: { param_name: 'id' } });
    }
    expect((await audit('webhook_endpoint.*')).map((e: { action: string }) => e.action)).toEqual([
      'webhook_endpoint.deleted',
      'webhook_endpoint.updated',
      'webhook_endpoint.created',
    ]);
  });

  it('rotation returns a new secret once and records it in the audit log without the value', async () => {
    const endpoint = (await server.bapi('POST', '/v1/webhooks/endpoints', { url: 'https://example.com/a' })).json();
    const rotated = await server.bapi('POST', `/v1/webhooks/endpoints/${endpoint.id}/rotate_secret`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(endpoint.secret);
    const entries = JSON.stringify(await audit('webhook_endpoint.*'));
    expect(entries).toContain('webhook_endpoint.secret_rotated');
    expect(entries).not.toContain(endpoint.secret);
    expect(entries).not.toContain(rotated.json().secret);
  });

  it.each([
    [{ url: 'ftp://example.com/x' }, 'webhook_url_scheme_unsupported', 'url'],
    [{ url: 'javascript:alert(1)' }, 'webhook_url_scheme_unsupported', 'url'],
    [{ url: 'not a url' }, 'webhook_url_invalid', 'url'],
    [{ url: 'https://user:pass@example.com/x' }, 'webhook_url_invalid', 'url'],
    [{ url: 'https://example.com/x#frag' }, 'webhook_url_invalid', 'url'],
    [{ url: 'https://example.com', event_types: ['SMS Delivered'] }, 'form_param_format_invalid', 'event_types.0'],
    [{ url: 'https://example.com', event_types: [] }, 'form_param_format_invalid', 'event_types'],
    [{ url: 'https://example.com', secret: 'whsec_abc' }, 'form_param_unknown', 'secret'],
    [{ url: 'https://example.com', enabled: 'yes' }, 'form_param_type_invalid', 'enabled'],
    [{}, 'form_param_missing', 'url'],
  ])('refuses %j with %s and creates nothing', async (body, code, param) => {
    const before = (await server.bapi('GET', '/v1/webhooks/endpoints?limit=500')).json().data.length;
    const res = await server.bapi('POST', '/v1/webhooks/endpoints', body);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0]).toMatchObject({ code, meta: { param_name: param } });
    expect((await server.bapi('GET', '/v1/webhooks/endpoints?limit=500')).json().data.length).toBe(before);
  });

  it('lists the event catalogue, which docs/webhooks.md documents type by type', async () => {
    const res = (await server.bapi('GET', '/v1/webhooks/event_types')).json();
    const types: string[] = res.data.map((t: { type: string }) => t.type);
    expect(types).toEqual(expect.arrayContaining(['sms.queued', 'sms.sent', 'sms.delivered', 'sms.failed', 'webhook.test']));
    // What the catalogue keeps for itself (which fields stay out of the audit log) is not served.
    for (const entry of res.data) expect(Object.keys(entry).sort()).toEqual(['description', 'example', 'type']);
    const page = fs.readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
    const catalogue = page.slice(page.indexOf('## Event catalogue'));
    for (const type of types) expect(catalogue, type).toContain(`\`${type}\``);
  });
});

describe.each(STORES)('webhook URL safety on %s (private targets not allowed)', (kind) => {
  let store: TestStore;
  let server: TestServer;
  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { env: webhookEnv({ AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'false' }) });
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://localhost/hook',
    'http://10.1.2.3/hook',
    'http://192.168.0.10/hook',
    'http://172.16.5.4/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hook',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://0.0.0.0/hook',
    'http://2130706433/hook',
    'http://[::a9fe:a9fe]/latest/meta-data/',
    'http://[::127.0.0.1]:8080/',
    'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/',
  ])('refuses %s with webhook_url_private, on create and on update', async (url) => {
    const res = await server.bapi('POST', '/v1/webhooks/endpoints', { url });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors[0]).toMatchObject({ code: 'webhook_url_private', meta: { param_name: 'url' } });
    expect((await server.bapi('GET', '/v1/webhooks/endpoints')).json().data).toEqual([]);
  });

  it('refuses a private URL on update and leaves the endpoint as it was', async () => {
    const endpoint = (await server.bapi('POST', '/v1/webhooks/endpoints', { url: 'https://93.184.216.34/hook' })).json();
    const res = await server.bapi('PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { url: 'http://127.0.0.1/hook', enabled: false });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].code).toBe('webhook_url_private');
    expect((await server.bapi('GET', `/v1/webhooks/endpoints/${endpoint.id}`)).json()).toMatchObject({
      url: 'https://93.184.216.34/hook',
      enabled: true,
    });
    await server.bapi('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`);
  });

  it('refuses a host that does not resolve with webhook_url_unresolvable', async () => {
    const res = await server.bapi('POST', '/v1/webhooks/endpoints', { url: 'https://no-such-host.invalid/hook' });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].code).toBe('webhook_url_unresolvable');
  });
});

describe.each(STORES)('webhooks across restarts on %s', (kind) => {
  let store: TestStore;
  let receiver: Receiver;
  beforeAll(async () => {
    store = await createTestStore(kind);
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await store?.cleanup();
  });

  it('re-seals secrets when the encryption key rotates; deliveries still verify with the same secret', async () => {
    const first = await startTestServer(store, { env: webhookEnv() });
    const endpoint = (await first.bapi('POST', '/v1/webhooks/endpoints', { url: receiver.url })).json();
    await first.close();

    const oldKey = store.env.AUTHN_ENCRYPTION_KEY!;
    const newKey = randomBytes(32).toString('base64');
    const second = await startTestServer(store, {
      env: webhookEnv({ AUTHN_ENCRYPTION_KEY: newKey, AUTHN_PREVIOUS_ENCRYPTION_KEYS: oldKey }),
    });
    // The store now answers to the new key only.
    store.env.AUTHN_ENCRYPTION_KEY = newKey;
    try {
      const envelopes = await second.running.services.store.db.selectFrom('webhook_secrets').select('envelope').execute();
      expect(envelopes.every((e) => second.running.services.box.isStale(e.envelope) === false)).toBe(true);
      await recordEvent(second.running.services.store.db, second.running.services.clock, { type: 'user.created', data: {} });
      await eventually('delivered', () => receiver.received.length === 1);
      expect(receiver.verified(endpoint.secret)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('checks the target again at delivery time: a private address is refused once private targets are no longer allowed', async () => {
    const allowed = await startTestServer(store, { env: webhookEnv() });
    const endpoint = (await allowed.bapi('POST', '/v1/webhooks/endpoints', { url: receiver.url })).json();
    await allowed.close();
    const before = receiver.received.length;

    const strict = await startTestServer(store, {
      env: webhookEnv({ AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'false', AUTHN_WEBHOOKS_RETRY_SCHEDULE: '10ms' }),
    });
    try {
      await recordEvent(strict.running.services.store.db, strict.running.services.clock, { type: 'user.created', data: {} });
      const [delivery] = await eventually('failed', async () => {
        const list = (await strict.bapi('GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries`)).json().data;
        return list.length === 1 && list[0].status === 'failed' && list;
      });
      expect(delivery.attempts).toHaveLength(2);
      for (const attempt of delivery.attempts) {
        expect(attempt).toMatchObject({ status_code: null, succeeded: false });
        expect(attempt.error).toContain('loopback address: refused');
      }
      // Every endpoint from the first test, and this one, were refused: nothing reached the receiver.
      expect(receiver.received.length).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
