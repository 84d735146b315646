/** Driving the FAPI flows in tests: a client, its calls, and the code an SMS carried (read from the message log). */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { createTestStore, rowCount, startTestServer, type StoreKind, type TestServer, type TestStore } from '../helpers/server.js';

export interface CallOptions {
  /** Authorization bearer; defaults to the client token. */
  auth?: string | null;
  ip?: string;
  headers?: Record<string, string>;
}

export class Fapi {
  token = '';

  constructor(readonly server: TestServer) {}

  /** Makes the client whose token later calls carry. */
  async start(): Promise<this> {
    const res = await this.call('POST', '/v1/client', undefined, { auth: null });
    expect(res.statusCode).toBe(201);
    this.token = res.json().token;
    return this;
  }

  call(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    url: string,
    body?: unknown,
    options: CallOptions = {},
  ): Promise<LightMyRequestResponse> {
    const auth = options.auth === undefined ? this.token : options.auth;
    return this.server.inject({
      method,
      url,
      remoteAddress: options.ip ?? '203.0.113.7',
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  }

  /** The code of the latest verification SMS to `phone`. */
  async lastCode(phone: string): Promise<string> {
    const row = await this.server.running.services.store.db
      .selectFrom('sms_messages')
      .select('body')
      .where('to_number', '=', phone)
      .where('template', '=', 'verification_code')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    return /(\d{6})/.exec(row.body)![1]!;
  }

  /** A wrong code: any other six digits (never the magic one). */
  static wrong(code: string): string {
    for (const candidate of ['111111', '222222', '333333']) if (candidate !== code) return candidate;
    throw new Error('unreachable');
  }

  async signUp(phone: string, body: Record<string, unknown> = {}): Promise<{ id: string; res: LightMyRequestResponse }> {
    const res = await this.call('POST', '/v1/client/sign_ups', { phone_number: phone, ...body });
    return { id: res.statusCode === 201 ? res.json().id : '', res };
  }

  /** A complete sign-up; returns the user id, the session id and its first token. */
  async signedUpUser(phone: string, body: Record<string, unknown> = {}): Promise<{ userId: string; sessionId: string; jwt: string }> {
    const { id, res } = await this.signUp(phone, body);
    expect(res.statusCode, res.body).toBe(201);
    const prepared = await this.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
    expect(prepared.statusCode, prepared.body).toBe(200);
    const done = await this.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
      strategy: 'phone_code',
      code: await this.lastCode(phone),
    });
    expect(done.statusCode, done.body).toBe(200);
    const signUp = done.json();
    return { userId: signUp.created_user_id, sessionId: signUp.created_session_id, jwt: signUp.session.last_active_token.jwt };
  }

  /** A complete sign-in by phone code; returns the new session and its first token. */
  async signIn(phone: string): Promise<{ sessionId: string; jwt: string }> {
    const created = await this.call('POST', '/v1/client/sign_ins', { identifier: phone });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    await this.call('POST', `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: 'phone_code' });
    const done = await this.call('POST', `/v1/client/sign_ins/${id}/attempt_first_factor`, {
      strategy: 'phone_code',
      code: await this.lastCode(phone),
    });
    expect(done.statusCode, done.body).toBe(200);
    return { sessionId: done.json().session.id, jwt: done.json().session.last_active_token.jwt };
  }
}

export function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json().errors[0].code, res.body).toBe(code);
  expect(res.json().errors[0].meta, res.body).toBeTypeOf('object');
}

/** Changes instance settings through BAPI (the way an operator would). */
export async function patchSettings(server: TestServer, patch: unknown): Promise<void> {
  const res = await server.bapi('PATCH', '/v1/instance', patch);
  expect(res.statusCode, res.body).toBe(200);
}

/** Row counts of the tables a refusal must leave alone. */
export async function snapshot(server: TestServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['sms_messages', 'challenges', 'users', 'phone_numbers', 'sessions'] as const)
    out[table] = await rowCount(server, table);
  return out;
}

/** A stream of distinct valid US numbers outside the test range (+1 201 2xx xxxx). */
export function numbers(start = 0): () => string {
  let n = start;
  return () => `+1201${2_000_000 + n++}`;
}

/** The test range, +15555550100 … 0199. */
export function testNumber(i: number): string {
  return `+155555501${String(i).padStart(2, '0')}`;
}

export async function auditActions(server: TestServer, prefix: string): Promise<{ action: string; data: Record<string, unknown> }[]> {
  const rows = await server.running.services.store.db.selectFrom('audit_logs').select(['action', 'data']).orderBy('id').execute();
  return rows
    .filter((r) => r.action.startsWith(prefix))
    .map((r) => ({ action: r.action, data: JSON.parse(r.data) as Record<string, unknown> }));
}

export async function eventTypes(server: TestServer): Promise<string[]> {
  const rows = await server.running.services.store.db.selectFrom('events').select('type').orderBy('id').execute();
  return rows.map((r) => r.type);
}

export interface SuiteOptions {
  clock?: Clock;
  listen?: boolean;
  /** Every request of a suite comes from one address; unless false, the per-IP limit is lifted out of the way. */
  liftIpLimit?: boolean;
  env?: Record<string, string>;
}

/** Per suite: a server on a fresh store (closed and removed afterwards) and a FAPI client, handed to `ready`. */
export function useAuthServer(
  kind: StoreKind,
  ready: (server: TestServer, fapi: Fapi) => void | Promise<void>,
  options: SuiteOptions = {},
): void {
  let store: TestStore | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { clock: options.clock, listen: options.listen, env: options.env });
    if (options.liftIpLimit !== false)
      await patchSettings(server, {
        abuse: { sends_per_ip: { max: 1_000 }, attempts_per_ip: { max: 1_000 }, creates_per_ip: { max: 1_000 } },
      });
    await ready(server, await new Fapi(server).start());
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });
}
