/**
 * The full matrix of the seed page's test-number rules: test_mode {enabled, disabled, rejected} × {sign-up,
 * sign-in, MFA enrolment} × {test number, real number} × {424242, the real code, a wrong code}.
 * The real code is read from the message log (a test-range send is recorded, never sent).
 */
import { describe, expect, it } from 'vitest';
import { MAGIC_CODE } from '../../src/challenges/codes.js';
import { STORES, type TestServer } from '../helpers/server.js';
import { Fapi, useAuthServer, numbers, patchSettings, snapshot, testNumber } from './helpers.js';

type Mode = 'enabled' | 'disabled' | 'rejected';
type Flow = 'sign_up' | 'sign_in' | 'mfa_enrollment';
type Kind = 'test' | 'real';
type CodeKind = 'magic' | 'real' | 'wrong';
/** `ok`: the flow completes (user + session, session, enrolled number); otherwise the error code. */
type Outcome = 'ok' | 'form_code_incorrect' | 'test_number_rejected';

/** [424242, the real code, a wrong code] */
const OUTCOMES: Record<Mode, Record<Flow, Record<Kind, [Outcome, Outcome, Outcome]>>> = {
  enabled: {
    sign_up: { test: ['ok', 'ok', 'form_code_incorrect'], real: ['form_code_incorrect', 'ok', 'form_code_incorrect'] },
    sign_in: { test: ['ok', 'ok', 'form_code_incorrect'], real: ['form_code_incorrect', 'ok', 'form_code_incorrect'] },
    mfa_enrollment: { test: ['ok', 'ok', 'form_code_incorrect'], real: ['form_code_incorrect', 'ok', 'form_code_incorrect'] },
  },
  disabled: {
    sign_up: { test: ['form_code_incorrect', 'ok', 'form_code_incorrect'], real: ['form_code_incorrect', 'ok', 'form_code_incorrect'] },
    sign_in: { test: ['form_code_incorrect', 'ok', 'form_code_incorrect'], real: ['form_code_incorrect', 'ok', 'form_code_incorrect'] },
    mfa_enrollment: {
      test: ['form_code_incorrect', 'ok', 'form_code_incorrect'],
      real: ['form_code_incorrect', 'ok', 'form_code_incorrect'],
    },
  },
  rejected: {
    // Refused before any code is sent: the number itself is not accepted.
    sign_up: {
      test: ['test_number_rejected', 'test_number_rejected', 'test_number_rejected'],
      real: ['form_code_incorrect', 'ok', 'form_code_incorrect'],
    },
    // Existing accounts on test numbers still sign in, without the magic code.
    sign_in: { test: ['form_code_incorrect', 'ok', 'form_code_incorrect'], real: ['form_code_incorrect', 'ok', 'form_code_incorrect'] },
    mfa_enrollment: {
      test: ['test_number_rejected', 'test_number_rejected', 'test_number_rejected'],
      real: ['form_code_incorrect', 'ok', 'form_code_incorrect'],
    },
  },
};

const CODE_KINDS: CodeKind[] = ['magic', 'real', 'wrong'];
const cases = (Object.keys(OUTCOMES) as Mode[]).flatMap((mode) =>
  (Object.keys(OUTCOMES[mode]) as Flow[]).flatMap((flow) =>
    (['test', 'real'] as Kind[]).flatMap((kind) =>
      CODE_KINDS.map((code, i) => ({ mode, flow, kind, code, outcome: OUTCOMES[mode][flow][kind][i]! })),
    ),
  ),
);

describe.each(STORES)('test_mode matrix on %s', (storeKind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const realNumber = numbers();
  let nextTest = 0;

  useAuthServer(storeKind, (s, f) => {
    server = s;
    fapi = f;
  });

  /** The code to type: the magic one, the one in the SMS, or any other. */
  async function codeFor(kind: CodeKind, phone: string): Promise<string> {
    const sent = await fapi.lastCode(phone);
    if (kind === 'real') return sent;
    if (kind === 'magic') return MAGIC_CODE;
    return Fapi.wrong(sent);
  }

  const errorOf = (res: { statusCode: number; json(): { errors: { code: string }[] } }) => res.json().errors[0]!.code;

  it.each(cases)('$mode · $flow · $kind number · $code code → $outcome', async ({ mode, flow, kind, code, outcome }) => {
    const phone = kind === 'test' ? testNumber(nextTest++) : realNumber();
    // What the flow needs beforehand, made while test numbers are accepted.
    await patchSettings(server, { test_mode: 'enabled' });
    const user =
      flow === 'sign_in' ? await fapi.signedUpUser(phone) : flow === 'mfa_enrollment' ? await fapi.signedUpUser(realNumber()) : null;
    await patchSettings(server, { test_mode: mode });
    const before = await snapshot(server);

    let result: Outcome;
    if (flow === 'sign_up') {
      const { id, res } = await fapi.signUp(phone);
      if (res.statusCode !== 201) result = errorOf(res) as Outcome;
      else {
        expect((await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' })).statusCode).toBe(
          200,
        );
        const done = await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
          strategy: 'phone_code',
          code: await codeFor(code, phone),
        });
        result = done.statusCode === 200 ? 'ok' : (errorOf(done) as Outcome);
        if (result === 'ok') expect(done.json()).toMatchObject({ status: 'complete', session: { status: 'active' } });
      }
    } else if (flow === 'sign_in') {
      const created = await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json().id;
      expect((await fapi.call('POST', `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: 'phone_code' })).statusCode).toBe(200);
      const done = await fapi.call('POST', `/v1/client/sign_ins/${id}/attempt_first_factor`, {
        strategy: 'phone_code',
        code: await codeFor(code, phone),
      });
      result = done.statusCode === 200 ? 'ok' : (errorOf(done) as Outcome);
      if (result === 'ok') expect(done.json()).toMatchObject({ status: 'complete', session: { status: 'active', user_id: user!.userId } });
    } else {
      const auth = { auth: user!.jwt };
      const started = await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: phone }, auth);
      if (started.statusCode !== 201) result = errorOf(started) as Outcome;
      else {
        const id = started.json().id;
        expect(
          (await fapi.call('POST', `/v1/me/mfa/phone_numbers/${id}/prepare_verification`, { strategy: 'phone_code' }, auth)).statusCode,
        ).toBe(200);
        const done = await fapi.call(
          'POST',
          `/v1/me/mfa/phone_numbers/${id}/attempt_verification`,
          { strategy: 'phone_code', code: await codeFor(code, phone) },
          auth,
        );
        result = done.statusCode === 200 ? 'ok' : (errorOf(done) as Outcome);
        if (result === 'ok')
          expect(done.json()).toMatchObject({
            phone_number: phone,
            reserved_for_second_factor: true,
            verification: { status: 'verified' },
          });
      }
    }

    expect(result).toBe(outcome);
    const after = await snapshot(server);
    if (outcome === 'test_number_rejected') {
      // Refused up front: no code, no message, nothing else.
      expect(after).toEqual(before);
    } else if (outcome !== 'ok') {
      // One code sent (the message and its challenge); no user, verified number or session came of it (an MFA
      // enrolment keeps its unverified number, to try again).
      const pending = flow === 'mfa_enrollment' ? 1 : 0;
      expect(after).toEqual({
        ...before,
        sms_messages: before.sms_messages! + 1,
        challenges: before.challenges! + 1,
        phone_numbers: before.phone_numbers! + pending,
      });
    }
  });
});
