/**
 * The simulated driver on its own (src/sms/drivers/simulated.ts): each digit's answer to a send and to a status
 * check, in the words of the carrier it plays, as a function of the role, the attempt and the time since acceptance.
 * The whole path (outbox, history, events, webhooks, failover) is in simulated-outcomes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CarrierError, type OutboundSms, type SendOutcome } from '../../src/sms/drivers/driver.js';
import { SIMULATED_RECEIPT_MS, SIMULATED_SLOW_RECEIPT_MS, SimulatedDriver, type SimulatedRole } from '../../src/sms/drivers/simulated.js';
import { failsOver, failureClass } from '../../src/sms/failures.js';
import { mapTwilioStatus } from '../../src/sms/drivers/twilio.js';
import { mapVonageStatus } from '../../src/sms/drivers/vonage.js';
import { isSimulatedNumber, isTestNumber } from '../../src/phone/numbers.js';
import type { SmsDriverName } from '../../src/instance/settings.js';
import { ManualClock } from '../helpers/clock.js';

const message = (digit: number): OutboundSms => ({
  id: `msg_${digit}`,
  to: `+1555555019${digit}`,
  from: '+14155550100',
  messagingServiceSid: null,
  body: '123456 is your code',
  validitySeconds: 600,
  statusCallbackUrl: 'http://127.0.0.1/never-called',
});

type Answer = { accepted: SendOutcome & { kind: 'accepted' } } | { error: CarrierError };

async function send(
  carrier: SmsDriverName,
  digit: number,
  options: { role?: SimulatedRole; attempt?: number; clock?: ManualClock; due?: number[] } = {},
): Promise<Answer> {
  const clock = options.clock ?? new ManualClock();
  const driver = new SimulatedDriver(carrier, {
    clock,
    role: options.role,
    attempt: options.attempt,
    onReceiptDue: (at) => options.due?.push(at),
  });
  try {
    const outcome = await driver.send(message(digit));
    if (outcome.kind !== 'accepted') throw new Error(`unexpected ${outcome.kind}`);
    return { accepted: outcome };
  } catch (error) {
    if (!(error instanceof CarrierError)) throw error;
    return { error };
  }
}

/** Our status a carrier's answer maps to, as the status checks apply it. */
const ours = (carrier: SmsDriverName, status: string) => (carrier === 'twilio' ? mapTwilioStatus(status) : mapVonageStatus(status));

describe('simulated numbers', () => {
  it('are +15555550190 … 0199, inside the test range', () => {
    for (let d = 0; d <= 9; d++) expect([isSimulatedNumber(`+1555555019${d}`), isTestNumber(`+1555555019${d}`)]).toEqual([true, true]);
    for (const other of ['+15555550189', '+15555550100', '+15555550200', '+155555501900', '+14155550190'])
      expect(isSimulatedNumber(other)).toBe(false);
  });
});

describe.each(['twilio', 'vonage'] as const)('the simulated driver playing %s', (carrier) => {
  it('names itself after the carrier it plays, and can be asked for a status', () => {
    const driver = new SimulatedDriver(carrier, { clock: new ManualClock() });
    expect(driver.name).toBe(carrier);
    expect(driver.fetchStatus).toBeTypeOf('function');
  });

  it.each([
    [0, 'delivered', SIMULATED_RECEIPT_MS],
    [1, 'undelivered', SIMULATED_RECEIPT_MS],
    [6, 'delivered', SIMULATED_SLOW_RECEIPT_MS],
    [8, carrier === 'twilio' ? 'undelivered' : 'failed', SIMULATED_RECEIPT_MS],
  ])('digit %i: accepted, then %s once its receipt is due', async (digit, final, afterMs) => {
    const clock = new ManualClock();
    const due: number[] = [];
    const answer = await send(carrier, digit, { clock, due });
    if (!('accepted' in answer)) throw answer.error;
    const { accepted } = answer;
    expect(accepted).toMatchObject({
      kind: 'accepted',
      carrierStatus: carrier === 'twilio' ? 'queued' : '0',
      parts: 1,
      firstCheckAfterMs: afterMs,
    });
    expect(accepted.carrierMessageId).toMatch(/^sim-/);
    expect(due).toEqual([clock.now() + afterMs]);

    const driver = new SimulatedDriver(carrier, { clock });
    clock.advance(afterMs - 1);
    const pending = (await driver.fetchStatus(accepted.carrierMessageId))!;
    expect(ours(carrier, pending.status)).toBe('sent');
    clock.advance(1);
    const receipt = (await driver.fetchStatus(accepted.carrierMessageId))!;
    expect(ours(carrier, receipt.status)).toBe(final);
    // Carrier-neutrally: what a UI would say.
    const expected = { 0: 'unknown', 6: 'unknown', 1: 'unreachable', 8: 'carrier_filtered' }[digit];
    expect(failureClass(carrier, 'receipt', receipt.errorCode)).toBe(expected);
    // Later checks say the same: the receipt is final.
    clock.advance(3_600_000);
    expect(await driver.fetchStatus(accepted.carrierMessageId)).toEqual(receipt);
  });

  it('digit 3: accepted, and no receipt ever', async () => {
    const clock = new ManualClock();
    const due: number[] = [];
    const answer = await send(carrier, 3, { clock, due });
    if (!('accepted' in answer)) throw answer.error;
    expect(answer.accepted.firstCheckAfterMs).toBeUndefined();
    expect(due).toEqual([]);
    clock.advance(72 * 3_600_000);
    const status = (await new SimulatedDriver(carrier, { clock }).fetchStatus(answer.accepted.carrierMessageId))!;
    expect(ours(carrier, status.status)).toBe('sent');
  });

  it.each([
    [2, 'first', 'route_not_permitted'],
    [2, 'failover', 'route_not_permitted'],
    [4, 'first', 'route_not_permitted'],
    [7, 'first', 'invalid_number'],
    [7, 'failover', 'invalid_number'],
  ] as const)('digit %i as the %s driver: refused at send (%s)', async (digit, role, failure) => {
    const answer = await send(carrier, digit, { role });
    if (!('error' in answer)) throw new Error('accepted');
    expect(answer.error.kind).toBe('permanent');
    expect(answer.error.code).toBe(
      { twilio: { route_not_permitted: '21408', invalid_number: '21211' }, vonage: { route_not_permitted: '29', invalid_number: '33' } }[
        carrier
      ][failure],
    );
    expect(failureClass(carrier, 'send', answer.error.code)).toBe(failure);
    expect(failsOver(failure)).toBe(failure === 'route_not_permitted');
  });

  it('digit 4: the failover driver delivers', async () => {
    const answer = await send(carrier, 4, { role: 'failover' });
    expect('accepted' in answer && answer.accepted.firstCheckAfterMs).toBe(SIMULATED_RECEIPT_MS);
  });

  it('digit 5: the first attempt times out, the next is accepted', async () => {
    const first = await send(carrier, 5, { attempt: 1 });
    expect('error' in first && [first.error.kind, first.error.code]).toEqual(['transient', 'timeout']);
    const second = await send(carrier, 5, { attempt: 2 });
    expect('accepted' in second).toBe(true);
  });

  it('digit 9: every attempt times out, whichever driver', async () => {
    for (const [role, attempt] of [
      ['first', 1],
      ['first', 5],
      ['failover', 9],
    ] as const) {
      const answer = await send(carrier, 9, { role, attempt });
      expect('error' in answer && [answer.error.kind, answer.error.code]).toEqual(['transient', 'timeout']);
    }
  });

  it('does not know a carrier message id it did not give out', async () => {
    expect(await new SimulatedDriver(carrier, { clock: new ManualClock() }).fetchStatus('SM0123456789abcdef0123456789abcdef')).toBeNull();
  });
});
