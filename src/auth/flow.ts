/** What the sign-up, sign-in and MFA flows share: their dependencies, request context, number checks, lost races. */
import { appError, AppError } from '../errors.js';
import type { Refusal } from '../refusal.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../audit/audit-log.js';
import type { Db, Tx } from '../store/database.js';
import type { Transactions } from '../store/group-commit.js';
import type { InstanceService } from '../instance/service.js';
import type { InstanceSettings } from '../instance/settings.js';
import { isTestNumber, parseRecipient } from '../phone/numbers.js';
import { countryAllowed, countryRefusal, type ChallengeService } from '../challenges/service.js';
import { RESEND_COOLDOWN_MS } from '../challenges/codes.js';
import { consumeCallLimit, type Limits } from '../limits/limits.js';
import type { Users } from './users.js';
import type { Sessions } from './sessions.js';
import { ANONYMOUS, type RequestContext } from './request-context.js';

export interface FlowDeps {
  db: Db;
  transactions: Transactions;
  clock: Clock;
  instance: InstanceService;
  challenges: ChallengeService;
  limits: Limits;
  users: Users;
  sessions: Sessions;
}

/** The flow services (sign-up, sign-in, MFA) and what they work with, built once in `src/services.ts`. */
export abstract class FlowService {
  protected readonly db: Db;
  protected readonly transactions: Transactions;
  protected readonly clock: Clock;
  protected readonly instance: InstanceService;
  protected readonly challenges: ChallengeService;
  protected readonly limits: Limits;
  protected readonly users: Users;
  protected readonly sessions: Sessions;

  constructor(deps: FlowDeps) {
    this.db = deps.db;
    this.transactions = deps.transactions;
    this.clock = deps.clock;
    this.instance = deps.instance;
    this.challenges = deps.challenges;
    this.limits = deps.limits;
    this.users = deps.users;
    this.sessions = deps.sessions;
  }

  /**
   * Counts an answer (a code or a password, right or wrong) against the caller's address: someone guessing
   * across many challenges or accounts meets this limit, whatever each one's own.
   */
  protected consumeAttemptLimit(tx: Tx, settings: InstanceSettings, ctx: RequestContext, actor: Actor): Promise<Refusal | null> {
    return consumeCallLimit(this.limits, this.clock, tx, { limit: 'attempts_per_ip', settings, ip: ctx.ip, actor });
  }

  /** Counts a new sign-up or sign-in against the caller's address, before any work is done for it (argon2). */
  protected async consumeCreateLimit(settings: InstanceSettings, ctx: RequestContext): Promise<void> {
    await this.transactions.run((tx) =>
      consumeCallLimit(this.limits, this.clock, tx, { limit: 'creates_per_ip', settings, ip: ctx.ip, actor: ANONYMOUS }),
    );
  }
}

/** A sign-up or sign-in not completed this long after it started is abandoned (Clerk's `abandon_at`). */
export const FLOW_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** When a flow started at `createdAt` is abandoned. */
export const abandonAt = (createdAt: number): number => createdAt + FLOW_LIFETIME_MS;

/** Refuses a step on a sign-up or sign-in that was started too long ago: the client starts a new one. */
export function assertNotAbandoned(kind: 'sign-up' | 'sign-in', createdAt: number, now: number): void {
  if (now >= abandonAt(createdAt)) {
    throw appError('flow_abandoned', {
      longMessage: `This ${kind} was started more than 24 hours ago and was abandoned; start a new one.`,
    });
  }
}

export interface PhoneParam {
  e164: string;
  country: string | null;
}

/** `homeCountries`: also a national number of these countries (see `parseRecipient`). */
export function parsePhoneParam(value: string, paramName: string, homeCountries: readonly string[] = []): PhoneParam {
  const parsed = parseRecipient(value, homeCountries);
  if (!parsed.ok) throw appError('form_param_format_invalid', { paramName, longMessage: `${paramName} ${parsed.reason}` });
  return { e164: parsed.e164, country: parsed.country };
}

/**
 * The rules for a number someone wants to add (sign-up, MFA enrolment): under `test_mode: rejected` the test
 * range is refused, and codes must be allowed to go to its country.
 */
export function assertNumberAccepted(settings: InstanceSettings, phone: PhoneParam, paramName: string): void {
  if (settings.test_mode === 'rejected' && isTestNumber(phone.e164)) {
    throw appError('test_number_rejected', {
      paramName,
      longMessage: `${paramName} is in the reserved test range (+15555550100 to +15555550199), which this instance refuses (test_mode: rejected).`,
    });
  }
  if (!countryAllowed(settings, phone.e164, phone.country)) throw countryRefusal(paramName);
}

/** `+1••••••0123`: enough to recognise one's own number. */
export function maskPhoneNumber(e164: string): string {
  return `${e164.slice(0, 2)}${'•'.repeat(Math.max(0, e164.length - 6))}${e164.slice(-4)}`;
}

/**
 * On PostgreSQL two processes can pass the same check at once; the unique index then refuses the second
 * writer. Such a lost race is answered as the check would have answered it, not as a 500.
 */
export async function mapLostRaces<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AppError) throw error;
    const e = error as { code?: string; constraint?: string; message?: string };
    const unique = e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE';
    const on = (index: string, columns: string) => e.constraint === index || (e.message ?? '').includes(columns);
    if (unique && on('challenges_pending', 'challenges.purpose, challenges.phone_number')) {
      throw appError('phone_code_resend_cooldown', {
        longMessage: 'A code was sent to this number moments ago.',
        headers: { 'retry-after': String(RESEND_COOLDOWN_MS / 1000) },
      });
    }
    if (unique && on('phone_numbers_verified', 'phone_numbers.phone_number')) {
      throw appError('form_identifier_exists', {
        paramName: 'phone_number',
        longMessage: 'This phone number already belongs to an account.',
      });
    }
    throw error;
  }
}
