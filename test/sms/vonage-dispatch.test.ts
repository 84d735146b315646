/**
 * The whole path with the Vonage driver, on both stores: per-message callback URLs with their token, receipts
 * by JSON, form and GET, signed receipts (all five methods), multi-part messages, and HTTP-200 refusals.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { VONAGE_FAILURES, type VonageMethod } from '../fakes/vonage.js';
import { Fapi, patchSettings } from '../auth/helpers.js';
import { VONAGE, startSmsServer, storeReader, templateEditor, type SmsHarness } from './harness.js';
import { eventually } from '../helpers/eventually.js';

const SIGNATURE_SECRET = 's3cr3tSIGkey0123456789abcdefABCD';

describe.each(STORES)('Vonage dispatch on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  let next = 0;
  const recipient = () => `+4479111${String(10_000 + next++).slice(-5)}`;
  const templates = templateEditor(() => h.server);
  const send = (to: string) =>
    h.server.running.services.sms.send({ template: 'verification_code', to, variables: { code: '482913', expires_in_minutes: '10' } });
  const sentPart = async (id: string) => {
    const row = await read.waitForStatus(id, 'sent');
    return { row, part: row.carrier_message_id! };
  };

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'vonage', vonage: { receipts: 'manual' } });
    read = storeReader(h.server);
  });
  afterEach(() => {
    expect(h.vonage.violations).toEqual([]);
    h.vonage.failures.clear();
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('sends the exact request, with a per-message callback holding an unguessable token', async () => {
    const to = recipient();
    const { id } = await send(to);
    const { row, part } = await sentPart(id);
    const request = h.vonage.requests.find((r) => r.fields.to === to.slice(1))!;
    expect(request.fields).toMatchObject({
      api_key: VONAGE.apiKey,
      api_secret: VONAGE.apiSecret,
      from: '14155550100',
      type: 'text',
      'client-ref': id,
    });
    const callback = String(request.fields.callback);
    expect(callback).toMatch(new RegExp(`^${h.publicUrl}/callbacks/vonage/dlr/${id}/[A-Za-z0-9_-]{43}$`));
    expect(row).toMatchObject({ carrier_status: '0', carrier_parts: 1 });

    expect((await h.vonage.sendReceipt(part, { status: 'delivered' })).status).toBe(200);
    expect(await read.message(id)).toMatchObject({ status: 'delivered', carrier_status: 'delivered' });
    expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued', 'sms.sent', 'sms.delivered']);
  });

  it('gives a code requested through FAPI the lifetime of abuse.code_lifetime_minutes: its text and ttl', async () => {
    await patchSettings(h.server, { abuse: { code_lifetime_minutes: 2 } });
    try {
      // A US number: the default country list allows the US and Canada only.
      const to = `+1415555${String(3000 + next++)}`;
      const fapi = await new Fapi(h.server).start();
      const { id } = await fapi.signUp(to);
      const prepared = await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
      expect(prepared.statusCode, prepared.body).toBe(200);
      const request = await eventually('the code at Vonage', () => h.vonage.requests.find((r) => r.fields.to === to.slice(1)));
      expect(request.fields.text).toMatch(/^\d{6} is your authn\.sh verification code\. It expires in 2 minutes\.$/);
      expect(Number(request.fields.ttl)).toBeGreaterThan(100_000);
      expect(Number(request.fields.ttl)).toBeLessThanOrEqual(120_000);
    } finally {
      await patchSettings(h.server, { abuse: { code_lifetime_minutes: null } });
    }
  });

  it.each(['json', 'form', 'get'] as const)('takes a receipt sent as %s', async (method) => {
    const { id } = await send(recipient());
    const { part } = await sentPart(id);
    expect((await h.vonage.sendReceipt(part, { status: 'failed', errCode: '6' }, { method })).status).toBe(200);
    expect(await read.message(id)).toMatchObject({ status: 'failed', error_code: '6', error_message: 'Anti-spam rejection' });
    expect((await read.events(id)).at(-1)!.data).toMatchObject({ status: 'failed', error_code: '6', error_message: 'Anti-spam rejection' });
  });

  it('refuses a receipt whose token is wrong, and changes nothing', async () => {
    const { id } = await send(recipient());
    await sentPart(id);
    const before = { message: await read.message(id), history: await read.history(id) };
    for (const token of ['x'.repeat(43), '', 'short']) {
      const res = await fetch(`${h.publicUrl}/callbacks/vonage/dlr/${id}/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messageId: 'X', status: 'delivered' }),
      });
      expect([403, 404]).toContain(res.status);
    }
    // A real token of another message does not open this one.
    const other = await send(recipient());
    await sentPart(other.id);
    const otherUrl = String(h.vonage.requests.at(-1)!.fields.callback);
    const res = await fetch(otherUrl.replace(other.id, id), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messageId: 'X', status: 'delivered' }),
    });
    expect(res.status).toBe(403);
    expect({ message: await read.message(id), history: await read.history(id) }).toEqual(before);
  });

  it('applies a multi-part message’s delivery once every part is delivered', async () => {
    await templates.store('invitation', { body: `{{inviter_name}} invited you: {{action_url}} ${'lorem ipsum '.repeat(20)}` });
    const { id } = await h.server.running.services.sms.send({
      template: 'invitation',
      to: recipient(),
      variables: { inviter_name: 'Ada', action_url: 'https://app.example.com/i/1' },
    });
    const { row } = await sentPart(id);
    expect(row.carrier_parts).toBe(2);
    const parts = [...h.vonage.parts.values()].filter((p) => p.request['client-ref'] === id);
    expect(parts).toHaveLength(2);
    await h.vonage.sendReceipt(parts[0]!.messageId, { status: 'delivered' });
    expect((await read.message(id)).status).toBe('sent');
    await h.vonage.sendReceipt(parts[0]!.messageId, { status: 'delivered' });
    expect((await read.message(id)).status).toBe('sent');
    await h.vonage.sendReceipt(parts[1]!.messageId, { status: 'delivered' });
    expect((await read.message(id)).status).toBe('delivered');
    await templates.revert('invitation');
  });

  it('sends type=unicode for a body outside GSM-7', async () => {
    await templates.store('verification_code', { body: 'Votre code ✓ {{code}}' });
    const to = recipient();
    const { id } = await send(to);
    await sentPart(id);
    expect(h.vonage.requests.find((r) => r.fields.to === to.slice(1))!.fields).toMatchObject({
      type: 'unicode',
      text: 'Votre code ✓ 482913',
    });
    expect((await read.message(id)).body).toBe('Votre code ✓ ******');
    await templates.revert('verification_code');
  });

  it('treats HTTP 200 with a non-zero status as a failure: permanent at once, throttling retried', async () => {
    const barred = recipient();
    h.vonage.fail(VONAGE_FAILURES.numberBarred, { to: barred.slice(1) });
    const a = await send(barred);
    expect(await read.waitForStatus(a.id, 'failed')).toMatchObject({ attempts: 1, error_code: '7', error_message: 'Number barred.' });

    const throttled = recipient();
    h.vonage.fail(VONAGE_FAILURES.throttled, { to: throttled.slice(1), times: 2 });
    const b = await send(throttled);
    expect(await read.waitForStatus(b.id, 'sent')).toMatchObject({ attempts: 3 });
    expect((await read.attempts(b.id)).map((x) => x.error_code)).toEqual(['1', '1', null]);
  });

  describe('with a signature secret', () => {
    beforeAll(async () => {
      const res = await h.server.bapi('PATCH', '/v1/instance', { sms: { vonage: { signature_secret: SIGNATURE_SECRET } } });
      expect(res.statusCode).toBe(200);
      h.vonage.options.signatureSecret = SIGNATURE_SECRET;
    });

    it.each(['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as VonageMethod[])(
      'accepts receipts signed with %s, refuses forged, unsigned and stale ones',
      async (method) => {
        expect((await h.server.bapi('PATCH', '/v1/instance', { sms: { vonage: { signature_method: method } } })).statusCode).toBe(200);
        h.vonage.options.signatureMethod = method;
        const { id } = await send(recipient());
        const { part } = await sentPart(id);
        const before = { message: await read.message(id), history: await read.history(id) };
        const refused = [
          await h.vonage.sendReceipt(part, { status: 'delivered' }, { secret: 'not-the-secret-at-all', retry: false }),
          await h.vonage.sendReceipt(part, { status: 'delivered' }, { unsigned: true, retry: false }),
          await h.vonage.sendReceipt(part, { status: 'delivered' }, { timestamp: Math.floor(Date.now() / 1000) - 3600, retry: false }),
        ];
        expect(refused.map((r) => r.status)).toEqual([403, 403, 403]);
        expect({ message: await read.message(id), history: await read.history(id) }).toEqual(before);
        expect((await h.vonage.sendReceipt(part, { status: 'delivered' }, { method: method === 'md5' ? 'get' : 'json' })).status).toBe(200);
        expect((await read.message(id)).status).toBe('delivered');
      },
    );
  });

  it('keeps the masked body in the log and nothing of the code in events', async () => {
    const { id } = await send(recipient());
    await sentPart(id);
    const detail = (await h.server.bapi('GET', `/v1/sms_messages/${id}`)).json();
    expect(detail.body).toBe('****** is your authn.sh verification code. It expires in 10 minutes.');
    expect(JSON.stringify(await read.events(id))).not.toContain('482913');
    expect(JSON.stringify(await read.audit(id))).not.toContain('482913');
    await eventually('row payload cleared', async () => (await read.message(id)).payload === null);
  });
});
