/**
 * No small request is answered with a large one: carrier callbacks are authenticated before their fields are
 * checked (an unsigned request gets a short 403 whatever its body), and an answer reports at most
 * MAX_ERROR_DETAILS errors plus one `errors_truncated` note.
 */
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { MAX_ERROR_DETAILS } from '../../src/errors.js';
import { STORES, rowCount, useTestServer, type TestServer } from '../helpers/server.js';

const FIELDS = 5_000;
const TWILIO = {
  driver: 'twilio',
  from_number: '+15005550006',
  twilio: { account_sid: `AC${'a'.repeat(32)}`, auth_token: 'b'.repeat(32) },
};

/** `{ f0: value, f1: value, … }` */
const manyFields = <T>(value: T): Record<string, T> => Object.fromEntries(Array.from({ length: FIELDS }, (_, i) => [`f${i}`, value]));

/** What a refusal must leave alone: the callback-applied history, the audit log, the event log and the settings. */
async function state(server: TestServer): Promise<unknown> {
  return {
    statuses: await rowCount(server, 'sms_message_statuses'),
    audit: await rowCount(server, 'audit_logs'),
    events: await rowCount(server, 'events'),
    settings: (await server.bapi('GET', '/v1/instance')).body,
  };
}

const postJson = (server: TestServer, url: string, body: unknown) =>
  server.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

function expectShortRefusal(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  expect(res.json().errors.map((e: { code: string }) => e.code)).toEqual([code]);
  expect(res.body.length).toBeLessThan(1_000);
}

/** At least `atLeast` field errors, reported as the first MAX_ERROR_DETAILS and a note counting the rest. */
function expectCapped(res: LightMyRequestResponse, atLeast: number): void {
  expect(res.statusCode).toBe(422);
  const { errors } = res.json() as { errors: { code: string; long_message: string; meta?: { omitted?: number } }[] };
  expect(errors).toHaveLength(MAX_ERROR_DETAILS + 1);
  expect(errors.slice(0, MAX_ERROR_DETAILS).every((e) => e.code.startsWith('form_param_'))).toBe(true);
  const note = errors[MAX_ERROR_DETAILS]!;
  expect(note.code).toBe('errors_truncated');
  expect(note.meta?.omitted).toBeGreaterThanOrEqual(atLeast - MAX_ERROR_DETAILS);
  expect(note.long_message).toContain(`${note.meta?.omitted} more errors`);
  expect(res.body.length).toBeLessThan(4_000);
}

describe.each(STORES)('amplification on %s', (kind) => {
  const suite = useTestServer(kind);
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  it('an unsigned Twilio callback of 5,000 fields gets a short 403, whatever the fields, and changes nothing', async () => {
    const { server } = suite;
    expect((await server.bapi('PATCH', '/v1/instance', { sms: TWILIO })).statusCode).toBe(200);
    const url = '/callbacks/twilio/status/msg_01J9Z6Q4W8V2K3M5N7P9R1S3T5';
    const before = await state(server);
    const attempts = [
      { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(manyFields(1)) },
      {
        headers: { 'content-type': 'application/json', 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
        payload: JSON.stringify(manyFields({})),
      },
      { headers: { 'content-type': 'application/json' }, payload: JSON.stringify([1, 2, 3]) },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(manyFields('x')) },
    ];
    for (const attempt of attempts)
      expectShortRefusal(await server.inject({ method: 'POST', url, ...attempt }), 403, 'callback_signature_invalid');
    expect(await state(server)).toEqual(before);
  });

  it('a Vonage receipt through a URL this server did not give out gets a short 403, before its fields are checked', async () => {
    const { server } = suite;
    const before = await state(server);
    const url = '/callbacks/vonage/dlr/msg_01J9Z6Q4W8V2K3M5N7P9R1S3T5/not-our-token';
    expectShortRefusal(await postJson(server, url, manyFields({})), 403, 'callback_signature_invalid');
    expectShortRefusal(await server.inject({ method: 'GET', url: `${url}?${'a=1&'.repeat(FIELDS)}` }), 403, 'callback_signature_invalid');
    expect(await state(server)).toEqual(before);
  });

  it('a Vonage receipt through a URL we gave out has its fields checked, with the errors capped; with a signature secret, unsigned is 403', async () => {
    const { server } = suite;
    const url = new URL(server.running.services.callbackUrls.vonageDlr('msg_01J9Z6Q4W8V2K3M5N7P9R1S3T5')).pathname;
    const before = await state(server);
    expectCapped(await postJson(server, url, manyFields({})), FIELDS);
    expectCapped(
      await server.inject({ method: 'GET', url: `${url}?${Array.from({ length: FIELDS }, (_, i) => `f${i}=1&f${i}=2`).join('&')}` }),
      FIELDS,
    );
    expect(await state(server)).toEqual(before);

    expect((await server.bapi('PATCH', '/v1/instance', { sms: { vonage: { signature_secret: 'c'.repeat(32) } } })).statusCode).toBe(200);
    const signed = await state(server);
    expectShortRefusal(await postJson(server, url, manyFields({})), 403, 'callback_signature_invalid');
    expect(await state(server)).toEqual(signed);
  });

  it('PATCH /v1/instance with 5,000 bad countries reports 10 errors and a note, and changes nothing', async () => {
    const { server } = suite;
    const before = await state(server);
    const countries = Array.from({ length: FIELDS }, (_, i) => `c${i}`);
    const res = await server.bapi('PATCH', '/v1/instance', { abuse: { sms_countries: { countries } } });
    expectCapped(res, FIELDS);
    expect(await state(server)).toEqual(before);
  });
});
