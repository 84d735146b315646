/**
 * Sign-in, identified by the user's phone number:
 * - first factor: a phone code, or the password;
 * - after a password, when the user has enrolled a phone second factor (and `multi_factor.phone_code.enabled`
 *   is on), a phone code to that number as second factor. A phone code as first factor already proves the
 *   phone, so it needs no second step.
 * Wrong passwords count towards `abuse.password_lockout`; the password is checked outside any transaction
 * (argon2 is slow), between a transaction that reads and one that records.
 */
import { appError, type AppError } from '../errors.js';
import { Refusal } from '../refusal.js';
import { newId } from '../ids.js';
import type { Tx } from '../store/database.js';
import type { PhoneNumbersTable, SessionsTable, SignInsTable, UsersTable } from '../store/schema.js';
import type { InstanceSettings } from '../instance/settings.js';
import type { Verification } from '../challenges/service.js';
import { recordLimitReached, type Window } from '../limits/limits.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { parseRecipient } from '../phone/numbers.js';
import { verifyPassword } from './passwords.js';
import type { SessionView, TokenView } from './sessions.js';
import type { UserView } from './users.js';
import { FlowService, abandonAt, assertNotAbandoned, mapLostRaces, maskPhoneNumber, parsePhoneParam } from './flow.js';
import { ANONYMOUS, type RequestContext } from './request-context.js';

export type SignInStatus = 'needs_first_factor' | 'needs_second_factor' | 'complete';

export interface FactorView {
  strategy: 'phone_code' | 'password';
  safe_identifier?: string;
  phone_number_id?: string;
}

export interface SignInView {
  object: 'sign_in';
  id: string;
  status: SignInStatus;
  identifier: string;
  supported_first_factors: FactorView[];
  supported_second_factors: FactorView[] | null;
  first_factor_verification: Verification | null;
  second_factor_verification: Verification | null;
  created_session_id: string | null;
  /** Steps after this time are refused (`flow_abandoned`); the row is deleted a week later. */
  abandon_at: number;
  created_at: number;
  updated_at: number;
  /** On the response that completes the sign-in: the new session and its first token. */
  session?: SessionView & { last_active_token: TokenView };
}

export type FirstFactorAttempt = { strategy: 'phone_code'; code: string } | { strategy: 'password'; password: string };

const PASSWORD_VERIFIED: Verification = {
  status: 'verified',
  strategy: 'password',
  attempts: null,
  attempts_remaining: null,
  expire_at: null,
  next_resend_at: null,
  delivery: null,
};

interface Loaded {
  row: SignInsTable;
  user: UsersTable;
  phones: PhoneNumbersTable[];
}

/** What a password is tried on: a stored sign-in, or the one `create` made, stored only if the password is right. */
type PasswordTarget = { clientId: string; id: string } | { unsaved: SignInsTable };

const lockoutWindow = (s: InstanceSettings): Window => ({
  max: s.abuse.password_lockout.max_failures,
  windowSeconds: s.abuse.password_lockout.window_seconds,
});

export class SignIns extends FlowService {
  /** Starts a sign-in; with a password, also attempts it at once. */
  async create(clientId: string, input: { identifier: string; password?: string }, ctx: RequestContext): Promise<SignInView> {
    const settings = await this.instance.current();
    await this.consumeCreateLimit(settings, ctx);
    const phone = parsePhoneParam(input.identifier, 'identifier');
    const user = await this.users.byPrimaryNumber(this.db, phone.e164);
    if (!user)
      throw appError('form_identifier_not_found', {
        paramName: 'identifier',
        longMessage: 'No account uses this phone number; sign up instead.',
      });
    const now = this.clock.now();
    const row: SignInsTable = {
      id: newId('sia', now),
      client_id: clientId,
      user_id: user.id,
      identifier: phone.e164,
      status: 'needs_first_factor',
      first_factor: null,
      first_factor_challenge_id: null,
      second_factor_challenge_id: null,
      created_session_id: null,
      created_at: now,
      updated_at: now,
    };
    // With the password at once, the sign-in is stored only with a right password: a refusal leaves no row behind.
    if (input.password !== undefined) return this.attemptPassword({ unsaved: row }, input.password, settings, ctx);
    await this.db.insertInto('sign_ins').values(row).execute();
    return this.get(clientId, row.id);
  }

  async get(clientId: string, id: string): Promise<SignInView> {
    return this.transactions.run(async (tx) => this.view(tx, await this.load(tx, clientId, id)));
  }

  async prepareFirstFactor(clientId: string, id: string, ctx: RequestContext): Promise<SignInView> {
    const settings = await this.instance.current();
    return mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const loaded = await this.load(tx, clientId, id, 'needs_first_factor');
        const challenge = await this.issue(tx, loaded, 'sign_in', loaded.row.identifier, settings, ctx);
        if (challenge instanceof Refusal) return challenge;
        return this.update(tx, loaded, { first_factor_challenge_id: challenge });
      }),
    );
  }

  async attemptFirstFactor(clientId: string, id: string, attempt: FirstFactorAttempt, ctx: RequestContext): Promise<SignInView> {
    const settings = await this.instance.current();
    if (attempt.strategy === 'password') return this.attemptPassword({ clientId, id }, attempt.password, settings, ctx);
    return this.completeOrStep(
      this.transactions.run(async (tx) => {
        const refused = await this.consumeAttemptLimit(tx, settings, ctx, ANONYMOUS);
        if (refused) return refused;
        const loaded = await this.load(tx, clientId, id, 'needs_first_factor');
        const challengeId = loaded.row.first_factor_challenge_id;
        if (!challengeId)
          return Refusal.of('verification_not_prepared', {
            paramName: 'code',
            longMessage: 'Request a code first (prepare_first_factor).',
          });
        const result = await this.challenges.attempt(tx, challengeId, attempt.code, settings, { type: 'user', id: loaded.user.id });
        if (result instanceof Refusal) return result;
        return this.finish(tx, loaded, { first_factor: 'phone_code', status: 'complete' });
      }),
    );
  }

  async prepareSecondFactor(clientId: string, id: string, input: { phone_number_id?: string }, ctx: RequestContext): Promise<SignInView> {
    const settings = await this.instance.current();
    return mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const loaded = await this.load(tx, clientId, id, 'needs_second_factor');
        const factors = secondFactors(loaded.phones);
        const phone = input.phone_number_id ? factors.find((p) => p.id === input.phone_number_id) : factors[0];
        if (!phone)
          return Refusal.of('form_param_value_invalid', {
            paramName: 'phone_number_id',
            longMessage: 'phone_number_id must be one of supported_second_factors.',
          });
        const challenge = await this.issue(tx, loaded, 'mfa_verification', phone.phone_number, settings, ctx);
        if (challenge instanceof Refusal) return challenge;
        return this.update(tx, loaded, { second_factor_challenge_id: challenge });
      }),
    );
  }

  async attemptSecondFactor(clientId: string, id: string, code: string, ctx: RequestContext): Promise<SignInView> {
    const settings = await this.instance.current();
    return this.completeOrStep(
      this.transactions.run(async (tx) => {
        const refused = await this.consumeAttemptLimit(tx, settings, ctx, ANONYMOUS);
        if (refused) return refused;
        const loaded = await this.load(tx, clientId, id, 'needs_second_factor');
        const challengeId = loaded.row.second_factor_challenge_id;
        if (!challengeId)
          return Refusal.of('verification_not_prepared', {
            paramName: 'code',
            longMessage: 'Request a code first (prepare_second_factor).',
          });
        const result = await this.challenges.attempt(tx, challengeId, code, settings, { type: 'user', id: loaded.user.id });
        if (result instanceof Refusal) return result;
        return this.finish(tx, loaded, { status: 'complete' });
      }),
    );
  }

  private async attemptPassword(
    target: PasswordTarget,
    password: string,
    settings: InstanceSettings,
    ctx: RequestContext,
  ): Promise<SignInView> {
    const window = lockoutWindow(settings);
    const loaded = await this.transactions.run(async (tx) => {
      const refused = await this.consumeAttemptLimit(tx, settings, ctx, ANONYMOUS);
      if (refused) return refused;
      const l = await this.loadTarget(tx, target);
      const lock = await this.limits.check(tx, 'password_lockout', l.user.id, window);
      return { ...l, lock };
    });
    if (loaded.user.password_hash === null)
      throw appError('strategy_not_allowed', {
        paramName: 'strategy',
        longMessage: 'This account has no password; sign in with a phone code.',
      });
    if (!loaded.lock.allowed) throw this.lockedOut(loaded.lock.retryAfterMs);
    const right = await verifyPassword(loaded.user.password_hash, password);
    return this.completeOrStep(
      this.transactions.run(async (tx) => {
        const current = await this.loadTarget(tx, target);
        if (!right) {
          const counted = await this.limits.count(tx, 'password_lockout', current.user.id, window);
          if (counted.justReached) {
            const details = 'id' in target ? { sign_in_id: target.id } : {};
            await recordLimitReached(tx, this.clock, {
              limit: 'password_lockout',
              key: current.user.id,
              window,
              retryAfterMs: counted.retryAfterMs,
              actor: { type: 'user', id: null },
              details,
            });
          }
          const lock = counted.allowed
            ? ''
            : ` Password sign-in is now locked for ${Math.ceil(counted.retryAfterMs / 1000)} s; a phone code still works.`;
          return Refusal.of('form_password_incorrect', { paramName: 'password', longMessage: `The password is incorrect.${lock}` });
        }
        await this.limits.reset(tx, 'password_lockout', current.user.id, window);
        if ('unsaved' in target) await tx.insertInto('sign_ins').values(target.unsaved).execute();
        const needsSecond = settings.multi_factor.phone_code.enabled && secondFactors(current.phones).length > 0;
        return this.finish(tx, current, { first_factor: 'password', status: needsSecond ? 'needs_second_factor' : 'complete' });
      }),
    );
  }

  /** An operator lifts a password lockout at once (BAPI), instead of the user waiting out the window. */
  async unlock(userId: string, actor: Actor): Promise<UserView> {
    const settings = await this.instance.current();
    return this.transactions.run(async (tx) => {
      const user = await this.users.view(userId, tx);
      await this.limits.reset(tx, 'password_lockout', userId, lockoutWindow(settings));
      await recordAudit(tx, this.clock, { actor, action: 'user.unlocked', target: { type: 'user', id: userId }, data: {} });
      return user;
    });
  }

  /** When password sign-in opens again for each of these users that is locked out of it now; the others are absent. */
  async lockouts(userIds: string[]): Promise<Map<string, number>> {
    const window = lockoutWindow(await this.instance.current());
    return this.transactions.run(async (tx) => {
      const verdicts = await Promise.all(userIds.map((id) => this.limits.check(tx, 'password_lockout', id, window)));
      const now = this.clock.now();
      return new Map(userIds.flatMap((id, i) => (verdicts[i]!.allowed ? [] : [[id, now + verdicts[i]!.retryAfterMs] as const])));
    });
  }

  /** Moves the sign-in on; on `complete`, with a new session. */
  private async finish(
    tx: Tx,
    loaded: Loaded,
    change: { status: SignInStatus; first_factor?: string },
  ): Promise<{ view: SignInView; session: SessionsTable | null }> {
    const session =
      change.status === 'complete' ? await this.sessions.create(tx, { clientId: loaded.row.client_id, userId: loaded.user.id }) : null;
    const view = await this.update(tx, loaded, { ...change, created_session_id: session?.id ?? null });
    return { view, session };
  }

  private async completeOrStep(pending: Promise<{ view: SignInView; session: SessionsTable | null }>): Promise<SignInView> {
    const { view, session } = await pending;
    if (session) view.session = { ...this.sessions.view(session), last_active_token: this.sessions.sign(session) };
    return view;
  }

  /** Sends a code to one of the user's numbers; the new challenge's id, or the refusal. */
  private async issue(
    tx: Tx,
    loaded: Loaded,
    purpose: 'sign_in' | 'mfa_verification',
    phoneNumber: string,
    settings: InstanceSettings,
    ctx: RequestContext,
  ): Promise<string | Refusal> {
    const parsed = parseRecipient(phoneNumber);
    const country = parsed.ok ? parsed.country : null;
    const issued = await this.challenges.issue(tx, {
      purpose,
      phoneNumber,
      country,
      ip: ctx.ip,
      actor: { type: 'user', id: loaded.user.id },
      settings,
    });
    return issued instanceof Refusal ? issued : issued.challenge.id;
  }

  private async update(
    tx: Tx,
    loaded: Loaded,
    change: Partial<
      Pick<SignInsTable, 'status' | 'first_factor' | 'first_factor_challenge_id' | 'second_factor_challenge_id' | 'created_session_id'>
    >,
  ): Promise<SignInView> {
    const now = this.clock.now();
    await tx
      .updateTable('sign_ins')
      .set({ ...change, updated_at: now })
      .where('id', '=', loaded.row.id)
      .execute();
    return this.view(tx, { ...loaded, row: { ...loaded.row, ...change, updated_at: now } });
  }

  private async view(tx: Tx, { row, user, phones }: Loaded): Promise<SignInView> {
    const factors = secondFactors(phones);
    const first =
      row.first_factor === 'password' ? PASSWORD_VERIFIED : await this.challenges.verification(tx, row.first_factor_challenge_id);
    return {
      object: 'sign_in',
      id: row.id,
      status: row.status as SignInStatus,
      identifier: row.identifier,
      supported_first_factors: [
        { strategy: 'phone_code', safe_identifier: maskPhoneNumber(row.identifier) },
        ...(user.password_hash !== null ? [{ strategy: 'password' as const }] : []),
      ],
      supported_second_factors:
        row.status === 'needs_second_factor' || row.second_factor_challenge_id
          ? factors.map((p) => ({
              strategy: 'phone_code' as const,
              phone_number_id: p.id,
              safe_identifier: maskPhoneNumber(p.phone_number),
            }))
          : null,
      first_factor_verification: first,
      second_factor_verification: await this.challenges.verification(tx, row.second_factor_challenge_id),
      created_session_id: row.created_session_id,
      abandon_at: abandonAt(row.created_at),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private async load(tx: Tx, clientId: string, id: string, expected?: SignInStatus): Promise<Loaded> {
    const row = await tx.selectFrom('sign_ins').selectAll().where('id', '=', id).where('client_id', '=', clientId).executeTakeFirst();
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No sign-in ${id} on this client` });
    if (expected && row.status !== expected) {
      throw appError('flow_step_invalid', { longMessage: `This step needs the sign-in to be ${expected}; it is ${row.status}.` });
    }
    if (expected) assertNotAbandoned('sign-in', row.created_at, this.clock.now());
    const user = await tx.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirstOrThrow();
    return { row, user, phones: await this.users.phoneNumbers(tx, user.id) };
  }

  /** A stored sign-in waiting for its first factor, or one not stored yet with its user as it is now. */
  private async loadTarget(tx: Tx, target: PasswordTarget): Promise<Loaded> {
    if ('id' in target) return this.load(tx, target.clientId, target.id, 'needs_first_factor');
    const user = await tx.selectFrom('users').selectAll().where('id', '=', target.unsaved.user_id).executeTakeFirst();
    // Deleted since the sign-in began: as if the number had no account.
    if (!user)
      throw appError('form_identifier_not_found', {
        paramName: 'identifier',
        longMessage: 'No account uses this phone number; sign up instead.',
      });
    return { row: target.unsaved, user, phones: await this.users.phoneNumbers(tx, user.id) };
  }

  private lockedOut(retryAfterMs: number): AppError {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return appError('password_attempts_exceeded', {
      longMessage: `Too many wrong passwords for this account; try again in ${seconds} s or sign in with a phone code.`,
      headers: { 'retry-after': String(seconds) },
    });
  }
}

/** The user's enrolled phone second factors. */
function secondFactors(phones: PhoneNumbersTable[]): PhoneNumbersTable[] {
  return phones.filter((p) => p.reserved_for_second_factor === 1 && p.verified_at !== null);
}
