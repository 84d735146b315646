/** Each driver against its fake carrier: the exact wire request, success, and every class of failure. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CarrierHttp } from '../../src/sms/drivers/carrier-http.js';
import { CarrierError, type OutboundSms } from '../../src/sms/drivers/driver.js';
import { TwilioDriver } from '../../src/sms/drivers/twilio.js';
import { VonageDriver } from '../../src/sms/drivers/vonage.js';
import { NullDriver } from '../../src/sms/drivers/null.js';
import { FakeTwilio, TWILIO_FAILURES } from '../fakes/twilio.js';
import { FakeVonage, VONAGE_FAILURES } from '../fakes/vonage.js';
import { TWILIO, VONAGE } from './harness.js';

const outbound = (overrides: Partial<OutboundSms> = {}): OutboundSms => ({
  id: 'msg_01J0000000000000000000TEST',
  to: '+14155550123',
  from: '+14155550100',
  messagingServiceSid: null,
  body: '123456 is your Acme verification code.',
  validitySeconds: null,
  statusCallbackUrl: 'https://auth.example.test/callbacks/twilio/status/msg_01J0000000000000000000TEST',
  ...overrides,
});

async function carrierError(promise: Promise<unknown>): Promise<CarrierError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CarrierError);
  return error as CarrierError;
}

describe('null driver', () => {
  it('drops the message', async () => {
    expect(await new NullDriver().send()).toEqual({ kind: 'dropped' });
  });
});

describe('Twilio driver', () => {
  let fake: FakeTwilio;
  let http: CarrierHttp;
  let driver: TwilioDriver;
  beforeAll(async () => {
    fake = await FakeTwilio.start({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken, callbacks: 'manual' });
    http = new CarrierHttp(400);
    driver = new TwilioDriver({ apiUrl: fake.url, accountSid: TWILIO.accountSid, authToken: TWILIO.authToken, http });
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
    fake.failures.clear();
  });
  afterAll(async () => {
    await http.close();
    await fake.close();
  });

  it('sends the exact request the contract describes and reads the Message back', async () => {
    const outcome = await driver.send(outbound({ validitySeconds: 540 }));
    expect(outcome).toMatchObject({ kind: 'accepted', carrierStatus: 'queued', parts: 1, httpStatus: 201 });
    const request = fake.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${TWILIO.accountSid}/Messages.json`);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${TWILIO.accountSid}:${TWILIO.authToken}`).toString('base64')}`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.fields).toEqual({
      To: '+14155550123',
      From: '+14155550100',
      Body: '123456 is your Acme verification code.',
      StatusCallback: 'https://auth.example.test/callbacks/twilio/status/msg_01J0000000000000000000TEST',
      ValidityPeriod: '540',
    });
    expect(outcome.kind === 'accepted' && fake.messages.get(outcome.carrierMessageId)).toBeTruthy();
  });

  it('sends MessagingServiceSid instead of From, and clamps ValidityPeriod to Twilio’s range', async () => {
    const outcome = await driver.send(outbound({ from: null, messagingServiceSid: TWILIO.messagingServiceSid, validitySeconds: 90_000 }));
    expect(outcome).toMatchObject({ kind: 'accepted', carrierStatus: 'accepted' });
    expect(fake.requests.at(-1)!.fields).toMatchObject({ MessagingServiceSid: TWILIO.messagingServiceSid, ValidityPeriod: '36000' });
    expect(fake.requests.at(-1)!.fields.From).toBeUndefined();
  });

  it.each([
    ['an invalid number: permanent 21211', TWILIO_FAILURES.invalidNumber, 'permanent', '21211'],
    ['an unsubscribed recipient: permanent 21610', TWILIO_FAILURES.unsubscribed, 'permanent', '21610'],
    ['a geo-blocked region: permanent 21408', TWILIO_FAILURES.geoBlocked, 'permanent', '21408'],
    ['bad credentials: permanent 20003', { kind: 'auth' } as const, 'permanent', '20003'],
    ['429 Too Many Requests: transient 20429', TWILIO_FAILURES.rateLimited, 'transient', '20429'],
    ['a 500: transient 20500', TWILIO_FAILURES.serverError, 'transient', '20500'],
    ['a 503: transient 20503', TWILIO_FAILURES.badGateway, 'transient', '20503'],
    ['a reset connection: transient network_error', { kind: 'reset' } as const, 'transient', 'network_error'],
    ['a hanging response: transient timeout', { kind: 'hang' } as const, 'transient', 'timeout'],
  ])('maps %s, keeping the carrier code and message', async (_name, failure, kind, code) => {
    fake.fail(failure);
    const error = await carrierError(driver.send(outbound()));
    expect(error).toMatchObject({ kind, code });
    if ('message' in failure) expect(error.message).toBe(failure.message);
  });

  it('honours Retry-After on a 429', async () => {
    fake.fail({ ...TWILIO_FAILURES.rateLimited, retryAfter: '7' });
    expect(await carrierError(driver.send(outbound()))).toMatchObject({ kind: 'transient', retryAfterMs: 7_000, httpStatus: 429 });
  });

  it('a slow answer within the timeout is a success', async () => {
    fake.fail({ kind: 'slow', ms: 100 });
    expect(await driver.send(outbound())).toMatchObject({ kind: 'accepted' });
  });

  it('refuses a message without any sender before calling Twilio', async () => {
    const before = fake.requests.length;
    expect(await carrierError(driver.send(outbound({ from: null })))).toMatchObject({ kind: 'permanent', code: 'sender_missing' });
    expect(fake.requests.length).toBe(before);
  });

  it('the fake answers Twilio’s own validation errors (what a broken driver would meet)', async () => {
    const wrongToken = new TwilioDriver({ apiUrl: fake.url, accountSid: TWILIO.accountSid, authToken: 'e'.repeat(32), http });
    expect(await carrierError(wrongToken.send(outbound()))).toMatchObject({ kind: 'permanent', code: '20003', httpStatus: 401 });
    expect(await carrierError(driver.send(outbound({ to: '+1555' })))).toMatchObject({ kind: 'permanent', code: '21211' });
    expect(await carrierError(driver.send(outbound({ body: 'x'.repeat(1601) })))).toMatchObject({ kind: 'permanent', code: '21617' });
  });
});

describe('Vonage driver', () => {
  let fake: FakeVonage;
  let http: CarrierHttp;
  let driver: VonageDriver;
  const callback = 'https://auth.example.test/callbacks/vonage/dlr/msg_01J0000000000000000000TEST/token';
  beforeAll(async () => {
    fake = await FakeVonage.start({ ...VONAGE, receipts: 'manual' });
    http = new CarrierHttp(400);
    driver = new VonageDriver({ apiUrl: fake.url, ...VONAGE, http });
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
    fake.failures.clear();
  });
  afterAll(async () => {
    await http.close();
    await fake.close();
  });

  it('sends the exact request the contract describes: to without +, GSM-7 as text, per-message callback', async () => {
    const outcome = await driver.send(outbound({ statusCallbackUrl: callback, validitySeconds: 300 }));
    expect(outcome).toMatchObject({ kind: 'accepted', carrierStatus: '0', parts: 1, httpStatus: 200 });
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/sms/json');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.fields).toEqual({
      api_key: VONAGE.apiKey,
      api_secret: VONAGE.apiSecret,
      from: '14155550100',
      to: '14155550123',
      text: '123456 is your Acme verification code.',
      type: 'text',
      callback,
      'client-ref': 'msg_01J0000000000000000000TEST',
      ttl: '300000',
    });
  });

  it('sends type=unicode when the body is not GSM-7, and an alphanumeric sender as it is', async () => {
    await driver.send(outbound({ body: 'Votre code: 123456 ✓', from: 'AcmeAuth', statusCallbackUrl: callback }));
    expect(fake.requests.at(-1)!.fields).toMatchObject({ type: 'unicode', from: 'AcmeAuth', text: 'Votre code: 123456 ✓' });
  });

  it('reports every part of a long message', async () => {
    const outcome = await driver.send(outbound({ body: 'a'.repeat(400), statusCallbackUrl: callback }));
    expect(outcome).toMatchObject({ kind: 'accepted', parts: 3 });
  });

  it.each([
    ['HTTP 200 with status 1 (throttled): transient', VONAGE_FAILURES.throttled, 'transient', '1'],
    ['HTTP 200 with status 5 (internal error): transient', VONAGE_FAILURES.internalError, 'transient', '5'],
    ['HTTP 200 with status 4 (bad credentials): permanent', VONAGE_FAILURES.invalidCredentials, 'permanent', '4'],
    ['HTTP 200 with status 6 (invalid message): permanent', VONAGE_FAILURES.invalidMessage, 'permanent', '6'],
    ['HTTP 200 with status 7 (number barred): permanent', VONAGE_FAILURES.numberBarred, 'permanent', '7'],
    ['HTTP 200 with status 29 (non-whitelisted destination): permanent', VONAGE_FAILURES.nonWhitelisted, 'permanent', '29'],
    ['HTTP 500: transient', VONAGE_FAILURES.serverError, 'transient', 'http_500'],
    ['HTTP 429: transient', VONAGE_FAILURES.tooManyRequests, 'transient', 'http_429'],
    ['HTTP 401: permanent (credentials)', VONAGE_FAILURES.unauthorized, 'permanent', '4'],
    ['a reset connection: transient', { kind: 'reset' } as const, 'transient', 'network_error'],
    ['a hanging response: transient timeout', { kind: 'hang' } as const, 'transient', 'timeout'],
  ])('maps %s', async (_name, failure, kind, code) => {
    fake.fail(failure);
    const error = await carrierError(driver.send(outbound({ statusCallbackUrl: callback })));
    expect(error).toMatchObject({ kind, code });
    if ('errorText' in failure) expect(error.message).toBe(failure.errorText);
  });

  it('the fake refuses a wrong secret with status 4, as Vonage does', async () => {
    const wrong = new VonageDriver({ apiUrl: fake.url, apiKey: VONAGE.apiKey, apiSecret: 'notTheSecret', http });
    expect(await carrierError(wrong.send(outbound({ statusCallbackUrl: callback })))).toMatchObject({
      kind: 'permanent',
      code: '4',
      message: 'Bad Credentials',
    });
  });
});
