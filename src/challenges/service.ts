/**
 * Challenges prove control of a phone number. `issue` sends a fresh code (after the abuse checks) and
 * `attempt` checks one: the attempt is counted before the code is compared, and a right code is consumed
 * with a conditional UPDATE, so two concurrent attempts can never both succeed nor go uncounted.
 *
 * Both run inside the caller's transaction. A refusal is *returned* as a `Refusal` (not thrown): what the
 * refusal itself records (an attempt, a failed challenge, the audit entry of a limit being reached) must
 * commit; the flow services return it from their transaction, which throws it after the commit (`src/refusal.ts`).
 */
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import { appError, type AppError } from '../errors.js';
import { Refusal } from '../refusal.js';
import { newId } from '../ids.js';
import type { Tx } from '../store/database.js';
import { insertRow, prepared } from '../store/prepared.js';
import type { ChallengesTable } from '../store/schema.js';
import type { Actor } from '../audit/audit-log.js';
import { recordEventAndAudit } from '../webhooks/events.js';
import type { InstanceSettings } from '../instance/settings.js';
import { isTestNumber } from '../phone/numbers.js';
import type { SmsEngine } from '../sms/engine.js';
import { challengeDelivery, deliveryState, type DeliveryState } from '../sms/delivery.js';
import {
  MAGIC_CODE,
  RESEND_COOLDOWN_MS,
  WRONG_CODE_MEMORY_MS,
  codeLifetimeMs,
  codeMatches,
  generateCode,
  hashCode,
  wrongCodeWaitMs,
} from './codes.js';
import { recordLimitReached, retryAfter, type LimitName, type Limits, type Window } from '../limits/limits.js';

export const CHALLENGE_PURPOSES = ['sign_up', 'sign_in', 'mfa_enrollment', 'mfa_verification'] as const;
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

/** A factor's verification as flows show it (Clerk's shape); the numbers are null for a password or a number verified earlier. */
export interface Verification {
  status: 'unverified' | 'verified' | 'failed' | 'expired';
  strategy: 'phone_code' | 'password';
  attempts: number | null;
  attempts_remaining: number | null;
  expire_at: number | null;
  /** When a new code may be requested (the resend cooldown). */
  next_resend_at: number | null;
  /** Where the code's message stands; null without one (a password, a number verified earlier, a test number, the null driver). */
  delivery: DeliveryState | null;
}

/** A challenge just issued, and its code's delivery state as the message was queued. */
export interface IssuedChallenge {
  challenge: ChallengesTable;
  delivery: DeliveryState | null;
}

export interface IssueInput {
  purpose: ChallengePurpose;
  /** E.164. */
  phoneNumber: string;
  /** ISO 3166-1 alpha-2 of the number (null for non-geographic numbers). */
  country: string | null;
  /** The requester's address, for the per-IP limit. */
  ip: string;
  actor: Actor;
  settings: InstanceSettings;
  /** The request parameter the number came from, for error messages. */
  paramName?: string;
}

export type AttemptResult = { challenge: ChallengesTable; magic: boolean; delivery: DeliveryState | null };

// The statements of every code request and every attempt, compiled once.
const pendingChallenge = prepared<{ purpose: string; phone_number: string }, { id: string; resend_at: number }>((db, $) =>
  db
    .selectFrom('challenges')
    .select(['id', 'resend_at'])
    .where('purpose', '=', $('purpose'))
    .where('phone_number', '=', $('phone_number'))
    // A literal, not a parameter: SQLite only uses the partial index `challenges_pending` when it can see that
    // the query asks for what the index holds.
    .where('status', '=', sql.lit('pending')),
);
/** The last code sent for a purpose and number, whatever became of it: the next one waits for its `resend_at`. */
const latestChallenge = prepared<
  { purpose: string; phone_number: string },
  { id: string; status: string; created_at: number; resend_at: number }
>((db, $) =>
  db
    .selectFrom('challenges')
    .select(['id', 'status', 'created_at', 'resend_at'])
    .where('phone_number', '=', $('phone_number'))
    .where('purpose', '=', $('purpose'))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1),
);
/**
 * Challenges for a purpose and number that ended, or are ending, on a wrong code (any attempt on a challenge that
 * is not verified was wrong) since the last right code and within the memory: the failures the wait doubles with.
 */
const wrongCodeFailures = prepared<{ purpose: string; phone_number: string; since: number }, { failures: number | string }>((db, $) =>
  db
    .selectFrom('challenges')
    .select((eb) => eb.fn.countAll<number | string>().as('failures'))
    .where('phone_number', '=', $('phone_number'))
    .where('purpose', '=', $('purpose'))
    .where('created_at', '>', $('since'))
    .where('attempts', '>', 0)
    .where('status', '!=', sql.lit('verified'))
    .where('created_at', '>', (eb) =>
      eb
        .selectFrom('challenges as verified')
        .select((v) => v.fn.coalesce(v.fn.max('verified.created_at'), sql.lit(0)).as('at'))
        .where('verified.phone_number', '=', $('phone_number'))
        .where('verified.purpose', '=', $('purpose'))
        .where('verified.status', '=', sql.lit('verified')),
    ),
);
/** Moves the time of the next code later (never earlier). */
const holdNextCode = prepared<{ id: string; resend_at: number }>((db, $) =>
  db
    .updateTable('challenges')
    .set({ resend_at: $('resend_at') })
    .where('id', '=', $('id'))
    .where('resend_at', '<', $('resend_at')),
);
const replaceChallenge = prepared<{ id: string; now: number }>((db, $) =>
  db
    .updateTable('challenges')
    .set({ status: 'replaced', updated_at: $('now') })
    .where('id', '=', $('id'))
    .where('status', '=', 'pending'),
);
const insertChallenge = insertRow('challenges');
const challengeById = prepared<{ id: string }, ChallengesTable>((db, $) =>
  db.selectFrom('challenges').selectAll().where('id', '=', $('id')),
);
/** Counts an attempt, only while the challenge is pending and has attempts left. */
const countAttempt = prepared<{ id: string; max_attempts: number; now: number }, { attempts: number }>((db, $) =>
  db
    .updateTable('challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), updated_at: $('now') }))
    .where('id', '=', $('id'))
    .where('status', '=', 'pending')
    .where('attempts', '<', $('max_attempts'))
    .returning('attempts'),
);
/** Moves a pending challenge to failed; affects no row when it already left pending. */
const failChallenge = prepared<{ id: string; now: number }>((db, $) =>
  db
    .updateTable('challenges')
    .set({ status: sql.lit('failed'), updated_at: $('now') })
    .where('id', '=', $('id'))
    .where('status', '=', 'pending'),
);
/**
 * Moves a pending challenge to verified (no row when it already left pending). A right code ends the wait after
 * wrong codes: the next code waits only the cooldown from this one's sending.
 */
const verifyChallenge = prepared<{ id: string; now: number }>((db, $) =>
  db
    .updateTable('challenges')
    .set((eb) => ({ status: sql.lit('verified'), updated_at: $('now'), resend_at: eb('created_at', '+', sql.lit(RESEND_COOLDOWN_MS)) }))
    .where('id', '=', $('id'))
    .where('status', '=', 'pending'),
);

/** Whether codes may go to a number's country. Test-range numbers are never sent, so always may. */
export function countryAllowed(settings: InstanceSettings, phoneNumber: string, country: string | null): boolean {
  if (isTestNumber(phoneNumber)) return true;
  const { mode, countries } = settings.abuse.sms_countries;
  const listed = country !== null && countries.includes(country);
  return mode === 'allow' ? listed : !listed;
}

export function countryRefusal(paramName: string): AppError {
  return appError('phone_country_not_allowed', {
    paramName,
    longMessage: 'Codes cannot be sent to phone numbers of this country (see abuse.sms_countries in the instance settings).',
  });
}

/** `45 s`, `3 min`: a wait as a person reads it (minutes rounded up). */
function formatWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

/** Where the key that codes are hashed with comes from (the auth keys, loaded at start: src/auth/keys.ts). */
export interface CodeKeys {
  codeKey(): Buffer;
}

export class ChallengeService {
  private readonly clock: Clock;
  private readonly keys: CodeKeys;
  private readonly limits: Limits;
  private readonly sms: SmsEngine;

  constructor(deps: { clock: Clock; keys: CodeKeys; limits: Limits; sms: SmsEngine }) {
    this.clock = deps.clock;
    this.keys = deps.keys;
    this.limits = deps.limits;
    this.sms = deps.sms;
  }

  async issue(tx: Tx, input: IssueInput): Promise<IssuedChallenge | Refusal> {
    const { settings, phoneNumber } = input;
    const paramName = input.paramName ?? 'phone_number';
    const testNumber = isTestNumber(phoneNumber);
    if (!countryAllowed(settings, phoneNumber, input.country)) return Refusal.from(countryRefusal(paramName));

    const now = this.clock.now();
    const latest = await latestChallenge.takeFirst(tx, { purpose: input.purpose, phone_number: phoneNumber });
    if (latest && latest.resend_at > now) return this.tooSoon(latest, now);

    // Test-range numbers are never sent and cost nothing: they skip the send limits and the budget.
    if (!testNumber) {
      const refusal = await this.consumeSendLimits(tx, input);
      if (refusal) return refusal;
    }

    // The pending challenge is the latest one, unless two processes' clocks disagree: then it is looked up by itself.
    const pending =
      !latest || latest.status === 'pending'
        ? latest
        : await pendingChallenge.takeFirst(tx, { purpose: input.purpose, phone_number: phoneNumber });
    if (pending) await replaceChallenge.execute(tx, { id: pending.id, now });
    const code = generateCode();
    const id = newId('chl', now);
    const row: ChallengesTable = {
      id,
      purpose: input.purpose,
      phone_number: phoneNumber,
      code_hash: hashCode(this.keys.codeKey(), id, code),
      test_number: testNumber ? 1 : 0,
      status: 'pending',
      attempts: 0,
      max_attempts: settings.abuse.attempts_per_challenge,
      expires_at: now + codeLifetimeMs(settings),
      resend_at: now + RESEND_COOLDOWN_MS,
      created_at: now,
      updated_at: now,
    };
    await insertChallenge(tx, row);
    const message = await this.sms.send(
      {
        template: 'verification_code',
        to: phoneNumber,
        variables: { code, expires_in_minutes: String(settings.abuse.code_lifetime_minutes) },
        challenge: { id, expiresAt: row.expires_at },
        actor: input.actor,
        paramName,
      },
      tx,
    );
    await this.record(tx, 'challenge.created', row, input.actor, { ip: input.ip, replaced: pending?.id ?? null });
    return {
      challenge: row,
      delivery: deliveryState({ status: message.status, driver: null, error_code: null, failed_by: null }, row.resend_at),
    };
  }

  /** Checks a code against a challenge; the challenge must be one the caller's flow owns. */
  async attempt(tx: Tx, challengeId: string, code: string, settings: InstanceSettings, actor: Actor): Promise<AttemptResult | Refusal> {
    const now = this.clock.now();
    const challenge = await this.reload(tx, challengeId);
    const unusable = this.unusable(challenge, now);
    if (unusable) return unusable;

    // Count first: an attempt is spent whether or not the code turns out right.
    const counted = await countAttempt.takeFirst(tx, { id: challengeId, max_attempts: challenge.max_attempts, now });
    if (!counted) return this.unusable(await this.reload(tx, challengeId), now) ?? this.alreadyUsed();
    challenge.attempts = counted.attempts;

    const magic = settings.test_mode === 'enabled' && challenge.test_number === 1 && code === MAGIC_CODE;
    if (magic || codeMatches(this.keys.codeKey(), challengeId, code, challenge.code_hash)) {
      if ((await verifyChallenge.affected(tx, { id: challengeId, now })) !== 1) return this.alreadyUsed();
      challenge.status = 'verified';
      challenge.resend_at = challenge.created_at + RESEND_COOLDOWN_MS;
      await this.record(tx, 'challenge.verified', challenge, actor, { magic_code: magic });
      return { challenge, magic, delivery: await challengeDelivery(tx, challengeId, challenge.resend_at) };
    }

    challenge.resend_at = await this.holdNextCodeAfterWrongCode(tx, challenge, settings, now);
    const remaining = challenge.max_attempts - challenge.attempts;
    if (remaining > 0) {
      return Refusal.of('form_code_incorrect', {
        paramName: 'code',
        longMessage: `The code is incorrect; ${remaining} attempt${remaining === 1 ? '' : 's'} left.`,
        meta: { attempts_remaining: remaining },
      });
    }
    await failChallenge.execute(tx, { id: challengeId, now });
    challenge.status = 'failed';
    await this.record(tx, 'challenge.failed', challenge, actor, {});
    return this.failed();
  }

  /** The verification object of a flow's current challenge (null before a code was requested). */
  async verification(tx: Tx, challengeId: string | null): Promise<Verification | null> {
    if (!challengeId) return null;
    const challenge = await this.reload(tx, challengeId);
    return this.view(challenge, await challengeDelivery(tx, challengeId, challenge.resend_at));
  }

  view(c: ChallengesTable, delivery: DeliveryState | null): Verification {
    const now = this.clock.now();
    const status =
      c.status === 'verified'
        ? 'verified'
        : c.status === 'failed'
          ? 'failed'
          : c.status === 'replaced' || c.expires_at <= now
            ? 'expired'
            : 'unverified';
    return {
      status,
      strategy: 'phone_code',
      attempts: c.attempts,
      attempts_remaining: Math.max(0, c.max_attempts - c.attempts),
      expire_at: c.expires_at,
      next_resend_at: c.resend_at,
      delivery,
    };
  }

  /**
   * After a wrong code, the next code for the purpose and number waits longer the more challenges in a row ended on
   * wrong codes, counted from this wrong code. Written on the challenge (its `resend_at`), so every process sees it.
   */
  private async holdNextCodeAfterWrongCode(tx: Tx, c: ChallengesTable, settings: InstanceSettings, now: number): Promise<number> {
    const backoff = settings.abuse.wrong_code_backoff;
    if (backoff.initial_seconds === 0) return c.resend_at;
    const row = await wrongCodeFailures.takeFirst(tx, {
      purpose: c.purpose,
      phone_number: c.phone_number,
      since: now - WRONG_CODE_MEMORY_MS,
    });
    const resendAt = now + wrongCodeWaitMs(Number(row?.failures ?? 1), backoff);
    if (resendAt <= c.resend_at) return c.resend_at;
    await holdNextCode.execute(tx, { id: c.id, resend_at: resendAt });
    return resendAt;
  }

  /** The refusal of a code requested before `resend_at`: the plain cooldown, or the longer wait after wrong codes. */
  private tooSoon(latest: { created_at: number; resend_at: number }, now: number): Refusal {
    const waitMs = latest.resend_at - now;
    const meta = { next_code_at: latest.resend_at };
    if (latest.resend_at > latest.created_at + RESEND_COOLDOWN_MS) {
      return Refusal.of('phone_code_failure_backoff', {
        longMessage: `Wrong codes were entered for this number; a new code can be requested in ${formatWait(waitMs)}.`,
        meta,
        headers: retryAfter(waitMs),
      });
    }
    return Refusal.of('phone_code_resend_cooldown', {
      longMessage: `A code was sent to this number moments ago; a new one can be requested in ${Math.ceil(waitMs / 1000)} s.`,
      meta,
      headers: retryAfter(waitMs),
    });
  }

  private async reload(tx: Tx, challengeId: string): Promise<ChallengesTable> {
    const row = await challengeById.takeFirst(tx, { id: challengeId });
    if (!row) throw new Error(`challenge ${challengeId} vanished`);
    return row;
  }

  private unusable(c: ChallengesTable, now: number): Refusal | null {
    if (c.status === 'failed') return this.failed();
    if (c.status === 'verified') return this.alreadyUsed();
    if (c.status === 'replaced') {
      return Refusal.of('verification_expired', {
        paramName: 'code',
        longMessage: 'A newer code was requested for this number; this one no longer works. Request a new code.',
      });
    }
    if (c.expires_at <= now)
      return Refusal.of('verification_expired', { paramName: 'code', longMessage: 'The code has expired. Request a new code.' });
    return null;
  }

  private failed(): Refusal {
    return Refusal.of('verification_failed', {
      paramName: 'code',
      longMessage: 'Too many wrong codes: this code no longer works. Request a new code.',
    });
  }

  private alreadyUsed(): Refusal {
    return Refusal.of('verification_expired', { paramName: 'code', longMessage: 'This code has already been used.' });
  }

  /** Per IP, then per number, then the instance budget; the first that refuses decides. */
  private async consumeSendLimits(tx: Tx, input: IssueInput): Promise<Refusal | null> {
    const { abuse } = input.settings;
    const checks: {
      name: LimitName;
      key: string;
      window: Window;
      code: 'ip_send_limit_reached' | 'phone_number_send_limit_reached' | 'sms_send_budget_exhausted';
      message: string;
    }[] = [
      {
        name: 'sends_per_ip',
        key: input.ip,
        window: { max: abuse.sends_per_ip.max, windowSeconds: abuse.sends_per_ip.window_seconds },
        code: 'ip_send_limit_reached',
        message: 'Too many codes were requested from this address.',
      },
      {
        name: 'sends_per_phone_number',
        key: input.phoneNumber,
        window: { max: abuse.sends_per_phone_number.max, windowSeconds: abuse.sends_per_phone_number.window_seconds },
        code: 'phone_number_send_limit_reached',
        message: 'Too many codes were sent to this number.',
      },
      {
        name: 'hourly_send_budget',
        key: 'instance',
        window: { max: abuse.hourly_send_budget, windowSeconds: 3_600 },
        code: 'sms_send_budget_exhausted',
        message: 'The instance has sent as many codes as its hourly budget allows.',
      },
    ];
    for (const check of checks) {
      const verdict = await this.limits.consume(tx, check.name, check.key, check.window);
      if (verdict.allowed) continue;
      if (verdict.justReached) {
        await recordLimitReached(tx, this.clock, {
          limit: check.name,
          key: check.key,
          window: check.window,
          retryAfterMs: verdict.retryAfterMs,
          actor: input.actor,
          details: { purpose: input.purpose, phone_number: input.phoneNumber, ip: input.ip },
        });
      }
      return Refusal.of(check.code, {
        longMessage: `${check.message} Try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s.`,
        headers: retryAfter(verdict.retryAfterMs),
      });
    }
    return null;
  }

  private async record(
    tx: Tx,
    type: 'challenge.created' | 'challenge.verified' | 'challenge.failed',
    c: ChallengesTable,
    actor: Actor,
    extra: Record<string, unknown>,
  ): Promise<void> {
    const data = {
      id: c.id,
      object: 'challenge',
      purpose: c.purpose,
      phone_number: c.phone_number,
      test_number: c.test_number === 1,
      status: c.status,
      attempts: c.attempts,
      expire_at: c.expires_at,
    };
    await recordEventAndAudit(tx, this.clock, {
      type,
      actor,
      target: { type: 'challenge', id: c.id },
      data: type === 'challenge.failed' ? { ...data, reason: 'attempts_exhausted' } : data,
      details: extra,
    });
  }
}
