/**
 * The delivery state of a code's SMS on the FAPI verification objects (sign-up, sign-in first and second factor,
 * MFA enrolment), followed by polling, against the fake Twilio on both stores: queued → sent → delivered, a receipt
 * `undelivered` 30003, a permanent send failure 21408, and nothing carrier-specific in the bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { TWILIO_FAILURES } from '../fakes/twilio.js';
import { startSmsServer, storeReader, type SmsHarness } from '../sms/harness.js';
import { eventually } from '../helpers/eventually.js';
import { Fapi, numbers, patchSettings, testNumber } from './helpers.js';

interface Delivery {
  status: string;
  reason: string | null;
  next_step: string | null;
  resend_after: number | null;
}

describe.each(STORES)('FAPI delivery state on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let fapi: Fapi;
  let read: ReturnType<typeof storeReader>;
  const nextNumber = numbers(700);

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'twilio', twilio: { callbacks: 'manual' } });
    await patchSettings(h.server, {
      abuse: { sends_per_ip: { max: 1_000 }, attempts_per_ip: { max: 1_000 }, creates_per_ip: { max: 1_000 } },
    });
    read = storeReader(h.server);
    fapi = await new Fapi(h.server).start();
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  /** The code's message to `phone` once the dispatcher handed it to Twilio (`sent`, or final after a send failure). */
  async function messageTo(phone: string, status: string) {
    const row = await eventually(`a message to ${phone}`, () =>
      h.server.running.services.store.db
        .selectFrom('sms_messages')
        .selectAll()
        .where('to_number', '=', phone)
        .orderBy('id', 'desc')
        .executeTakeFirst(),
    );
    return read.waitForStatus(row.id, status);
  }

  /** Nothing of the carrier reaches the FAPI: no driver name, no carrier message id, no carrier code or text. */
  async function expectCarrierNeutral(res: LightMyRequestResponse, phone: string): Promise<void> {
    const rows = await h.server.running.services.store.db
      .selectFrom('sms_messages')
      .select(['carrier_message_id', 'error_code', 'error_message'])
      .where('to_number', '=', phone)
      .execute();
    const carrierValues = rows.flatMap((r) => [r.carrier_message_id, r.error_code, r.error_message]).filter((v): v is string => v !== null);
    expect(carrierValues.length).toBeGreaterThan(0);
    for (const value of [...carrierValues, 'twilio']) expect(res.body.toLowerCase()).not.toContain(value.toLowerCase());
  }

  /** The code of the `nth` message to `phone` as Twilio got it (the log masks codes sent through a real driver). */
  async function codeAt(phone: string, nth: number): Promise<string> {
    const message = await eventually(`message ${nth} to ${phone} at Twilio`, () => h.twilio.messagesTo(phone)[nth - 1]);
    return /(\d{6})/.exec(message.body)![1]!;
  }

  /** A user signed up with `phone` (the code delivered), and the first token of their session. */
  async function signedUpUser(phone: string, body: Record<string, unknown> = {}): Promise<string> {
    const { id, res } = await fapi.signUp(phone, body);
    expect(res.statusCode, res.body).toBe(201);
    await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
    await h.twilio.sendStatus((await messageTo(phone, 'sent')).carrier_message_id!, { status: 'delivered' });
    const done = await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
      strategy: 'phone_code',
      code: await codeAt(phone, 1),
    });
    expect(done.statusCode, done.body).toBe(200);
    return done.json().session.last_active_token.jwt;
  }

  async function startSignUp(phone: string): Promise<{ id: string; prepared: LightMyRequestResponse }> {
    const { id, res } = await fapi.signUp(phone);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().verifications.phone_number).toBeNull();
    const prepared = await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
    expect(prepared.statusCode, prepared.body).toBe(200);
    return { id, prepared };
  }

  const signUpDelivery = async (id: string): Promise<Delivery | null> =>
    (await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().verifications.phone_number.delivery;

  it('follows a sign-up code from queued to sent to delivered, by polling the sign-up', async () => {
    const phone = nextNumber();
    const { id, prepared } = await startSignUp(phone);
    expect(prepared.json().verifications.phone_number.delivery).toEqual({
      status: 'queued',
      reason: null,
      next_step: 'wait',
      resend_after: null,
    });

    const sent = await messageTo(phone, 'sent');
    expect(await signUpDelivery(id)).toEqual({ status: 'sent', reason: null, next_step: 'wait', resend_after: null });
    await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'delivered' });
    const polled = await fapi.call('GET', `/v1/client/sign_ups/${id}`);
    expect(polled.json().verifications.phone_number.delivery).toEqual({
      status: 'delivered',
      reason: null,
      next_step: null,
      resend_after: null,
    });
    await expectCarrierNeutral(polled, phone);

    // The verified code keeps the state of its message.
    const done = await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
      strategy: 'phone_code',
      code: await codeAt(phone, 1),
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().verifications.phone_number).toMatchObject({ status: 'verified', delivery: { status: 'delivered' } });
  });

  it('words a receipt undelivered with 30003 as number_unreachable: use another number, after the resend time', async () => {
    const phone = nextNumber();
    await signedUpUser(phone);
    const created = await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    const prepared = await fapi.call('POST', `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: 'phone_code' });
    expect(prepared.statusCode, prepared.body).toBe(200);
    const signInMessage = await eventually('the sign-in code sent', async () => {
      const rows = await h.server.running.services.store.db
        .selectFrom('sms_messages')
        .selectAll()
        .where('to_number', '=', phone)
        .orderBy('id', 'desc')
        .execute();
      return rows[0]!.status === 'sent' && rows.length === 2 ? rows[0] : undefined;
    });
    await h.twilio.sendStatus(signInMessage.carrier_message_id!, { status: 'undelivered', errorCode: '30003' });
    await read.waitForStatus(signInMessage.id, 'undelivered');

    const polled = await fapi.call('GET', `/v1/client/sign_ins/${id}`);
    const verification = polled.json().first_factor_verification;
    expect(verification.delivery).toEqual({
      status: 'undelivered',
      reason: 'number_unreachable',
      next_step: 'use_another_number',
      resend_after: verification.next_resend_at,
    });
    expect(verification.next_resend_at).toBeGreaterThan(Date.now());
    await expectCarrierNeutral(polled, phone);
  });

  it('words a permanent send failure 21408 (region not permitted) as carrier_rejected', async () => {
    const phone = nextNumber();
    h.twilio.fail(TWILIO_FAILURES.geoBlocked, { to: phone });
    const { id } = await startSignUp(phone);
    await messageTo(phone, 'failed');
    const polled = await fapi.call('GET', `/v1/client/sign_ups/${id}`);
    const verification = polled.json().verifications.phone_number;
    expect(verification.delivery).toEqual({
      status: 'failed',
      reason: 'carrier_rejected',
      next_step: 'use_another_number',
      resend_after: verification.next_resend_at,
    });
    await expectCarrierNeutral(polled, phone);
  });

  it('shows the state of the MFA enrolment code and of the second-factor code', async () => {
    const phone = nextNumber();
    const mfaPhone = nextNumber();
    const jwt = await signedUpUser(phone, { password: 'correct horse battery' });
    await patchSettings(h.server, { multi_factor: { phone_code: { enabled: true } } });
    const started = await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: mfaPhone }, { auth: jwt });
    expect(started.statusCode, started.body).toBe(201);
    const enrolling = await fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${started.json().id}/prepare_verification`,
      { strategy: 'phone_code' },
      { auth: jwt },
    );
    expect(enrolling.statusCode, enrolling.body).toBe(200);
    expect(enrolling.json().verification.delivery).toMatchObject({ status: 'queued', next_step: 'wait' });
    const enrolment = await messageTo(mfaPhone, 'sent');
    await h.twilio.sendStatus(enrolment.carrier_message_id!, { status: 'undelivered', errorCode: '30003' });
    await read.waitForStatus(enrolment.id, 'undelivered');
    const listed = await fapi.call('GET', '/v1/me/mfa/phone_numbers', undefined, { auth: jwt });
    expect(listed.json().data[0].verification.delivery).toMatchObject({
      status: 'undelivered',
      reason: 'number_unreachable',
      next_step: 'use_another_number',
    });
    await expectCarrierNeutral(listed, mfaPhone);

    // Enrolled with its code all the same (a late SMS), the number is the second factor of a password sign-in.
    const enrolled = await fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${started.json().id}/attempt_verification`,
      { strategy: 'phone_code', code: await codeAt(mfaPhone, 1) },
      { auth: jwt },
    );
    expect(enrolled.statusCode, enrolled.body).toBe(200);
    const signIn = await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone, password: 'correct horse battery' });
    expect(signIn.json().status).toBe('needs_second_factor');
    expect(signIn.json().first_factor_verification.delivery).toBeNull();
    const second = await fapi.call('POST', `/v1/client/sign_ins/${signIn.json().id}/prepare_second_factor`, { strategy: 'phone_code' });
    expect(second.statusCode, second.body).toBe(200);
    const secondMessage = await eventually('the second-factor code sent', async () => {
      const rows = await h.server.running.services.store.db
        .selectFrom('sms_messages')
        .selectAll()
        .where('to_number', '=', mfaPhone)
        .orderBy('id', 'desc')
        .execute();
      return rows.length === 2 && rows[0]!.status === 'sent' ? rows[0] : undefined;
    });
    await h.twilio.sendStatus(secondMessage.carrier_message_id!, { status: 'delivered' });
    await read.waitForStatus(secondMessage.id, 'delivered');
    const polled = await fapi.call('GET', `/v1/client/sign_ins/${signIn.json().id}`);
    expect(polled.json().second_factor_verification.delivery).toEqual({
      status: 'delivered',
      reason: null,
      next_step: null,
      resend_after: null,
    });
    await patchSettings(h.server, { multi_factor: { phone_code: { enabled: false } } });
  });

  it('has no delivery state for a test number, which is never sent', async () => {
    const { id, prepared } = await startSignUp(testNumber(71));
    expect(prepared.json().verifications.phone_number.delivery).toBeNull();
    expect(await signUpDelivery(id)).toBeNull();
  });
});
