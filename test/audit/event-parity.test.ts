/**
 * Events and audit entries of the same action carry the same documented data. Walks the event catalogue: every
 * type that has an audit entry of its name is triggered through the real server (FAPI, BAPI, the send engine and
 * carrier callbacks), and each event is compared field by field with the catalogue's example (no undocumented
 * field, every documented one produced) and with its audit entry (every field of the event, less the catalogue's
 * `auditOmits`). A new action whose event or audit entry forgets a field fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CATALOGUE } from '../../src/webhooks/catalogue.js';
import { fromJson } from '../../src/store/database.js';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { startSmsServer, storeReader, type SmsHarness } from '../sms/harness.js';
import { Fapi, expectError, patchSettings, testNumber } from '../auth/helpers.js';
import { TWILIO_FAILURES } from '../fakes/twilio.js';
import type { LightMyRequestResponse } from 'fastify';

const MAGIC_CODE = '424242';
/** The code of the one verification SMS that goes through the carrier: it must appear in no event or audit entry. */
const LIVE_CODE = '482913';

interface Recorded {
  data: Record<string, unknown>;
}

describe.each(STORES)('events and audit entries on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let fapi: Fapi;
  const secrets: string[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'twilio', twilio: { callbacks: 'manual' } });
    const { server } = h;
    await patchSettings(server, {
      test_mode: 'enabled',
      abuse: { sends_per_ip: { max: 1_000 }, attempts_per_ip: { max: 1_000 }, creates_per_ip: { max: 1_000 } },
    });
    fapi = await new Fapi(server).start();
    secrets.push(fapi.token);
    await triggerEveryAction(server);
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  const ok = async (res: Promise<LightMyRequestResponse>, status = 200) => {
    const answer = await res;
    expect(answer.statusCode, answer.body).toBe(status);
    return answer.json();
  };

  /** One of each action, on test-range numbers (code 424242) except the messages that go through the carrier. */
  async function triggerEveryAction(server: SmsHarness['server']): Promise<void> {
    // user.created, session.created, challenge.created, challenge.verified, sms.queued (test_noop)
    const signUp = await ok(fapi.call('POST', '/v1/client/sign_ups', { phone_number: testNumber(1) }), 201);
    await ok(fapi.call('POST', `/v1/client/sign_ups/${signUp.id}/prepare_verification`, { strategy: 'phone_code' }));
    const done = await ok(
      fapi.call('POST', `/v1/client/sign_ups/${signUp.id}/attempt_verification`, { strategy: 'phone_code', code: MAGIC_CODE }),
    );
    const jwt: string = done.session.last_active_token.jwt;
    secrets.push(jwt);
    const me = { auth: jwt };

    // challenge.failed: five wrong codes on a sign-in
    const signIn = await ok(fapi.call('POST', '/v1/client/sign_ins', { identifier: testNumber(1) }), 201);
    await ok(fapi.call('POST', `/v1/client/sign_ins/${signIn.id}/prepare_first_factor`, { strategy: 'phone_code' }));
    for (let i = 0; i < 4; i++)
      expectError(
        await fapi.call('POST', `/v1/client/sign_ins/${signIn.id}/attempt_first_factor`, { strategy: 'phone_code', code: '111111' }),
        422,
        'form_code_incorrect',
      );
    expectError(
      await fapi.call('POST', `/v1/client/sign_ins/${signIn.id}/attempt_first_factor`, { strategy: 'phone_code', code: '111111' }),
      422,
      'verification_failed',
    );

    // mfa.enrolled, mfa.removed
    const factor = await ok(fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: testNumber(2) }, me), 201);
    await ok(fapi.call('POST', `/v1/me/mfa/phone_numbers/${factor.id}/prepare_verification`, { strategy: 'phone_code' }, me));
    await ok(
      fapi.call('POST', `/v1/me/mfa/phone_numbers/${factor.id}/attempt_verification`, { strategy: 'phone_code', code: MAGIC_CODE }, me),
    );
    await ok(fapi.call('DELETE', `/v1/me/mfa/phone_numbers/${factor.id}`, undefined, me));

    // session.ended
    await ok(fapi.call('POST', `/v1/client/sessions/${done.created_session_id}/end`));

    // session.revoked, user.deleted: a second user
    const other = await ok(fapi.call('POST', '/v1/client/sign_ups', { phone_number: testNumber(3) }), 201);
    await ok(fapi.call('POST', `/v1/client/sign_ups/${other.id}/prepare_verification`, { strategy: 'phone_code' }));
    const otherDone = await ok(
      fapi.call('POST', `/v1/client/sign_ups/${other.id}/attempt_verification`, { strategy: 'phone_code', code: MAGIC_CODE }),
    );
    await ok(server.bapi('POST', `/v1/sessions/${otherDone.created_session_id}/revoke`));
    await ok(server.bapi('DELETE', `/v1/users/${otherDone.created_user_id}`));

    // abuse.limit_reached: a second client from an address allowed one
    await patchSettings(server, { abuse: { creates_per_ip: { max: 1 } } });
    await ok(fapi.call('POST', '/v1/client', undefined, { auth: null, ip: '198.51.100.20' }), 201);
    expectError(await fapi.call('POST', '/v1/client', undefined, { auth: null, ip: '198.51.100.20' }), 429, 'ip_create_limit_reached');
    await patchSettings(server, { abuse: { creates_per_ip: { max: 1_000 } } });

    // sms.queued with the body an operator delivers
    await ok(server.bapi('PATCH', '/v1/templates/sms/invitation', { delivered_by_us: false }));
    await server.running.services.sms.send({
      template: 'invitation',
      to: '+14155552001',
      variables: { inviter_name: 'Ann', action_url: 'https://acme.example/invite/abc' },
    });

    // sms.sent and sms.delivered; sms.failed with the carrier's error
    const read = storeReader(server);
    const { sms } = server.running.services;
    const delivered = await sms.send({
      template: 'verification_code',
      to: '+14155552002',
      variables: { code: LIVE_CODE, expires_in_minutes: '10' },
    });
    const failed = await sms.send({
      template: 'verification_code',
      to: '+14155552003',
      variables: { code: LIVE_CODE, expires_in_minutes: '10' },
    });
    await h.twilio.sendStatus((await read.waitForStatus(delivered.id, 'sent')).carrier_message_id!, { status: 'delivered' });
    await h.twilio.sendStatus((await read.waitForStatus(failed.id, 'sent')).carrier_message_id!, { status: 'failed', errorCode: '30003' });
    await read.waitForStatus(failed.id, 'failed');
    await read.waitForStatus(delivered.id, 'delivered');

    // sms.failover: Twilio may not send to the region, Vonage takes the message over
    await patchSettings(server, { sms: { failover: { driver: 'vonage' } } });
    h.twilio.fail(TWILIO_FAILURES.geoBlocked);
    const moved = await sms.send({
      template: 'verification_code',
      to: '+14155552004',
      variables: { code: LIVE_CODE, expires_in_minutes: '10' },
    });
    await read.waitForStatus(moved.id, (s) => s === 'sent' || s === 'delivered');
  }

  async function recorded(): Promise<{ events: Map<string, Recorded[]>; audit: Map<string, Recorded[]> }> {
    const { db } = h.server.running.services.store;
    const events = new Map<string, Recorded[]>();
    for (const row of await db.selectFrom('events').select(['type', 'data']).orderBy('id').execute()) {
      events.set(row.type, [...(events.get(row.type) ?? []), { data: fromJson<Record<string, unknown>>(row.data) }]);
    }
    // The audit log as an operator reads it.
    const audit = new Map<string, Recorded[]>();
    let cursor: string | null = null;
    do {
      const page: { data: { action: string; data: Record<string, unknown> }[]; next_cursor: string | null } = await ok(
        h.server.bapi('GET', `/v1/audit_logs?limit=500${cursor ? `&starting_after=${cursor}` : ''}`),
      );
      for (const entry of page.data) audit.set(entry.action, [...(audit.get(entry.action) ?? []), { data: entry.data }]);
      cursor = page.next_cursor;
    } while (cursor);
    return { events, audit };
  }

  const audited = EVENT_CATALOGUE.filter((info) => info.auditOmits !== null);

  it.each(audited.map((info) => [info.type, info] as const))(
    '%s: the event carries the documented fields, and its audit entry the same',
    async (type, info) => {
      const { events, audit } = await recorded();
      const documented = Object.keys(info.example).sort();
      const fired = events.get(type) ?? [];
      expect(fired.length, `${type} was not triggered`).toBeGreaterThan(0);
      for (const event of fired)
        expect(documented, `${type} has a field the catalogue does not document`).toEqual(expect.arrayContaining(Object.keys(event.data)));
      // Fields that only some events carry (the body of an operator's message) must be produced at least once.
      expect(
        fired.map((event) => Object.keys(event.data).sort()),
        `${type} never carries every documented field`,
      ).toContainEqual(documented);

      const entries = [...(audit.get(type) ?? [])];
      expect(entries, `one audit entry ${type} per event`).toHaveLength(fired.length);
      const omitted = info.auditOmits ?? [];
      for (const event of fired) {
        const expected = Object.fromEntries(Object.entries(event.data).filter(([field]) => !omitted.includes(field)));
        const at = entries.findIndex((entry) =>
          Object.entries(expected).every(
            ([field, value]) => field in entry.data && JSON.stringify(entry.data[field]) === JSON.stringify(value),
          ),
        );
        // No entry matches: show the difference against the one about the same thing (or the first).
        if (at === -1)
          expect(entries.find((entry) => entry.data.id === event.data.id)?.data ?? entries[0]?.data, type).toMatchObject(expected);
        const [entry] = entries.splice(at, 1);
        for (const field of omitted) expect(entry!.data, `${type} audit entry keeps ${field}`).not.toHaveProperty(field);
      }
    },
  );

  it('puts no code, client token or session token in any event or audit entry', async () => {
    const { events, audit } = await recorded();
    // String values only: a 13-digit timestamp may hold any six digits.
    const strings: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect([...events.values(), ...audit.values()]);
    expect(strings.length).toBeGreaterThan(100);
    for (const secret of [LIVE_CODE, ...secrets]) expect(strings.filter((value) => value.includes(secret))).toEqual([]);
  });
});
