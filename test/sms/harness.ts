/**
 * A real server (in this process, listening on a known port so carriers can call it back) wired to a fake
 * carrier, plus readers for what the store holds about messages.
 */
import type { Clock } from '../../src/clock.js';
import type { SmsMessagesTable } from '../../src/store/schema.js';
import type { DeliveryStats } from '../../src/sms/delivery-stats.js';
import { isTerminal } from '../../src/sms/transitions.js';
import type { ManualClock } from '../helpers/clock.js';
import { fromJson } from '../../src/store/database.js';
import { startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { freePort, sleep } from '../fakes/common.js';
import { eventually } from '../helpers/eventually.js';
import { FakeTwilio, type FakeTwilioOptions } from '../fakes/twilio.js';
import { FakeVonage, type FakeVonageOptions } from '../fakes/vonage.js';
import { expect } from 'vitest';

export const TWILIO = {
  accountSid: `AC${'0123456789abcdef'.repeat(2)}`,
  authToken: 'f'.repeat(32),
  messagingServiceSid: `MG${'abcdef0123456789'.repeat(2)}`,
};
export const VONAGE = { apiKey: 'abcd1234', apiSecret: 'secretValue42' };
export const FROM = '+14155550100';

/** Both fakes run, whichever driver the server starts with, so a test can switch drivers with a PATCH. */
/** Bootstrap credentials for both carriers: a PATCH of sms.driver alone switches between them. */
const CREDENTIALS = {
  AUTHN_SMS_TWILIO_ACCOUNT_SID: TWILIO.accountSid,
  AUTHN_SMS_TWILIO_AUTH_TOKEN: TWILIO.authToken,
  AUTHN_SMS_VONAGE_API_KEY: VONAGE.apiKey,
  AUTHN_SMS_VONAGE_API_SECRET: VONAGE.apiSecret,
};

export interface SmsHarness {
  /** The running server; a test that restarts it puts the new one here. */
  server: TestServer;
  twilio: FakeTwilio;
  vonage: FakeVonage;
  publicUrl: string;
  /** The server's environment, to start it again on the same store. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Fast retries and polling, so a test sees several attempts without waiting long. */
export const FAST_DISPATCH = {
  AUTHN_SMS_RETRY_BASE_MS: '20',
  AUTHN_SMS_RETRY_MAX_MS: '80',
  AUTHN_SMS_DISPATCH_POLL_MS: '20',
  AUTHN_CARRIER_TIMEOUT_MS: '500',
  AUTHN_SMS_LEASE_MS: '5000',
};

export async function startSmsServer(
  store: TestStore,
  options: {
    driver: 'twilio' | 'vonage' | null;
    env?: Record<string, string>;
    clock?: Clock;
    twilio?: Partial<FakeTwilioOptions>;
    vonage?: Partial<FakeVonageOptions>;
  },
): Promise<SmsHarness> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'auto', ...options.twilio });
  const vonage = await FakeVonage.start({ ...VONAGE, receipts: 'auto', ...options.vonage });
  const env = {
    AUTHN_PORT: String(port),
    AUTHN_PUBLIC_URL: publicUrl,
    AUTHN_TWILIO_API_URL: twilio.url,
    AUTHN_VONAGE_API_URL: vonage.url,
    ...FAST_DISPATCH,
    ...(options.driver ? { AUTHN_SMS_DRIVER: options.driver, AUTHN_SMS_FROM_NUMBER: FROM } : {}),
    ...CREDENTIALS,
    ...options.env,
  };
  const harness: SmsHarness = {
    server: await startTestServer(store, { env, clock: options.clock, listen: true }),
    twilio,
    vonage,
    publicUrl,
    env,
    /** Closes the server it holds (a test may have started another on the same store) and both fakes. */
    async close() {
      await harness.server.close();
      await twilio.close();
      await vonage.close();
    },
  };
  return harness;
}

/** The environment of a server listening on `port` that sends through the fake Twilio at `twilioUrl`. */
export function twilioServerEnv(port: number, twilioUrl: string): Record<string, string> {
  return {
    AUTHN_PORT: String(port),
    AUTHN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    AUTHN_TWILIO_API_URL: twilioUrl,
    AUTHN_SMS_DRIVER: 'twilio',
    AUTHN_SMS_FROM_NUMBER: FROM,
    AUTHN_SMS_TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    AUTHN_SMS_TWILIO_AUTH_TOKEN: TWILIO.authToken,
  };
}

/** The code the SMS tests send. */
export const CODE = '482913';

/** Queues a verification code for `to`, as a challenge would. */
export const sendCode = (server: TestServer, to: string) =>
  server.running.services.sms.send({ template: 'verification_code', to, variables: { code: CODE, expires_in_minutes: '10' } });

/** `GET /v1/sms/delivery_stats?<query>`, answered 200. */
export async function deliveryStats(server: TestServer, query: string): Promise<DeliveryStats> {
  const res = await server.bapi('GET', `/v1/sms/delivery_stats?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/**
 * Lets the dispatcher take a message until the carrier (or the one played) has it or is done with it, retries
 * included: each retry's backoff (at most 80 ms with FAST_DISPATCH) is passed by moving the clock on.
 */
export async function untilDispatched(read: StoreReader, clock: ManualClock, id: string): Promise<SmsMessagesTable> {
  for (let i = 0; i < 400; i++) {
    const row = await read.message(id);
    if (row.status === 'sent' || isTerminal(row.status)) return row;
    if (row.status === 'queued' && row.attempts > 0) clock.advance(100);
    await sleep(10);
  }
  throw new Error(`message ${id} was never dispatched`);
}

export type StoreReader = ReturnType<typeof storeReader>;

export function storeReader(server: TestServer) {
  const db = () => server.running.services.store.db;
  return {
    message: (id: string) => db().selectFrom('sms_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    history: (id: string) => db().selectFrom('sms_message_statuses').selectAll().where('message_id', '=', id).orderBy('id').execute(),
    attempts: (id: string) =>
      db().selectFrom('sms_message_attempts').selectAll().where('message_id', '=', id).orderBy('attempt').orderBy('id').execute(),
    events: async (id: string) =>
      (await db().selectFrom('events').selectAll().orderBy('id').execute())
        .map((e) => ({ type: e.type, data: fromJson<Record<string, unknown>>(e.data) }))
        .filter((e) => e.data.id === id),
    audit: async (id: string) => db().selectFrom('audit_logs').selectAll().where('target_id', '=', id).orderBy('id').execute(),
    async waitForStatus(id: string, status: string | ((s: string) => boolean)): Promise<SmsMessagesTable> {
      const ok = typeof status === 'string' ? (s: string) => s === status : status;
      let last: SmsMessagesTable | null = null;
      try {
        return await eventually(`message ${id}`, async () => {
          last = await this.message(id);
          return ok(last.status) ? last : undefined;
        });
      } catch {
        const row = last as SmsMessagesTable | null;
        throw new Error(`message ${id} never became ${String(status)}: it is ${row?.status} (${row?.error_code}: ${row?.error_message})`);
      }
    },
  };
}

/**
 * Template changes made as an operator makes them, through BAPI: the send path keeps the templates it read and
 * forgets them on a change made through the same server.
 */
export function templateEditor(server: () => TestServer) {
  return {
    async store(slug: string, fields: { body: string; from_number_override?: string | null; delivered_by_us?: boolean }): Promise<void> {
      const res = await server().bapi('PATCH', `/v1/templates/sms/${slug}`, {
        from_number_override: null,
        delivered_by_us: true,
        ...fields,
      });
      expect(res.statusCode, res.body).toBe(200);
    },
    async revert(slug: string): Promise<void> {
      const res = await server().bapi('POST', `/v1/templates/sms/${slug}/revert`);
      expect(res.statusCode, res.body).toBe(200);
    },
  };
}
