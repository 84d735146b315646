/**
 * Sign-up with a phone number (and an optional password): create → prepare the phone code → attempt it →
 * the user exists with a verified number, and a session. Each step is one transaction.
 */
import { appError } from '../errors.js';
import { Refusal } from '../refusal.js';
import { newId } from '../ids.js';
import type { Tx } from '../store/database.js';
import { prepared } from '../store/prepared.js';
import type { SignUpsTable } from '../store/schema.js';
import type { Verification } from '../challenges/service.js';
import { hashPassword } from './passwords.js';
import type { SessionView, TokenView } from './sessions.js';
import { FlowService, abandonAt, assertNotAbandoned, assertNumberAccepted, mapLostRaces, parsePhoneParam } from './flow.js';
import { ANONYMOUS, type RequestContext } from './request-context.js';

export interface SignUpView {
  object: 'sign_up';
  id: string;
  status: 'missing_requirements' | 'complete';
  phone_number: string;
  password_enabled: boolean;
  unverified_fields: string[];
  verifications: { phone_number: Verification | null };
  created_user_id: string | null;
  created_session_id: string | null;
  /** Steps after this time are refused (`flow_abandoned`); the row is deleted a week later. */
  abandon_at: number;
  created_at: number;
  updated_at: number;
  /** On the response that completes the sign-up: the new session and its first token. */
  session?: SessionView & { last_active_token: TokenView };
}

// The statements of every code request and verification on a sign-up, compiled once.
const signUpOfClient = prepared<{ id: string; client_id: string }, SignUpsTable>((db, $) =>
  db.selectFrom('sign_ups').selectAll().where('id', '=', $('id')).where('client_id', '=', $('client_id')),
);
const setSignUpChallenge = prepared<{ id: string; challenge_id: string; now: number }>((db, $) =>
  db
    .updateTable('sign_ups')
    .set({ challenge_id: $('challenge_id'), updated_at: $('now') })
    .where('id', '=', $('id')),
);
const completeSignUp = prepared<{ id: string; user_id: string; session_id: string; now: number }>((db, $) =>
  db
    .updateTable('sign_ups')
    .set({ status: 'complete', created_user_id: $('user_id'), created_session_id: $('session_id'), updated_at: $('now') })
    .where('id', '=', $('id')),
);

export class SignUps extends FlowService {
  async create(clientId: string, input: { phone_number: string; password?: string }, ctx: RequestContext): Promise<SignUpView> {
    const settings = await this.instance.current();
    await this.consumeCreateLimit(settings, ctx);
    const phone = parsePhoneParam(input.phone_number, 'phone_number');
    assertNumberAccepted(settings, phone, 'phone_number');
    if (await this.users.numberTaken(this.db, phone.e164)) throw this.taken();
    // Hashed before the transaction: argon2 takes tens of milliseconds.
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
    const now = this.clock.now();
    const row: SignUpsTable = {
      id: newId('sua', now),
      client_id: clientId,
      phone_number: phone.e164,
      password_hash: passwordHash,
      status: 'missing_requirements',
      challenge_id: null,
      created_user_id: null,
      created_session_id: null,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('sign_ups').values(row).execute();
    return this.view(row, null);
  }

  async get(clientId: string, id: string): Promise<SignUpView> {
    return this.transactions.run(async (tx) => {
      const row = await this.load(tx, clientId, id);
      return this.view(row, row.challenge_id ? await this.challenges.verification(tx, row.challenge_id) : null);
    });
  }

  /** Sends a code to the sign-up's number. */
  async prepare(clientId: string, id: string, ctx: RequestContext): Promise<SignUpView> {
    const settings = await this.instance.current();
    return mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const row = await this.loadOpen(tx, clientId, id);
        // The settings may have changed since the sign-up was made.
        const phone = parsePhoneParam(row.phone_number, 'phone_number');
        assertNumberAccepted(settings, phone, 'phone_number');
        const issued = await this.challenges.issue(tx, {
          purpose: 'sign_up',
          phoneNumber: phone.e164,
          country: phone.country,
          ip: ctx.ip,
          actor: ANONYMOUS,
          settings,
        });
        if (issued instanceof Refusal) return issued;
        const { challenge, delivery } = issued;
        const now = this.clock.now();
        await setSignUpChallenge.execute(tx, { id, challenge_id: challenge.id, now });
        return this.view({ ...row, challenge_id: challenge.id, updated_at: now }, this.challenges.view(challenge, delivery));
      }),
    );
  }

  /** Checks the code; a right one completes the sign-up: user, verified number, session. */
  async attempt(clientId: string, id: string, code: string, ctx: RequestContext): Promise<SignUpView> {
    const settings = await this.instance.current();
    const completed = await mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const refused = await this.consumeAttemptLimit(tx, settings, ctx, ANONYMOUS);
        if (refused) return refused;
        const row = await this.loadOpen(tx, clientId, id);
        if (!row.challenge_id)
          return Refusal.of('verification_not_prepared', {
            paramName: 'code',
            longMessage: 'Request a code first (prepare_verification).',
          });
        if (await this.users.numberTaken(tx, row.phone_number)) return Refusal.from(this.taken());
        const result = await this.challenges.attempt(tx, row.challenge_id, code, settings, ANONYMOUS);
        if (result instanceof Refusal) return result;
        const user = await this.users.create(tx, { phoneNumber: row.phone_number, passwordHash: row.password_hash, signUpId: row.id });
        const session = await this.sessions.create(tx, { clientId, userId: user.id });
        const now = this.clock.now();
        const done: SignUpsTable = {
          ...row,
          status: 'complete',
          created_user_id: user.id,
          created_session_id: session.id,
          updated_at: now,
        };
        await completeSignUp.execute(tx, { id, user_id: user.id, session_id: session.id, now });
        return { done, challenge: result.challenge, delivery: result.delivery, session };
      }),
    );
    const view = this.view(completed.done, this.challenges.view(completed.challenge, completed.delivery));
    view.session = { ...this.sessions.view(completed.session), last_active_token: this.sessions.sign(completed.session) };
    return view;
  }

  private view(row: SignUpsTable, verification: Verification | null): SignUpView {
    const complete = row.status === 'complete';
    return {
      object: 'sign_up',
      id: row.id,
      status: complete ? 'complete' : 'missing_requirements',
      phone_number: row.phone_number,
      password_enabled: row.password_hash !== null,
      unverified_fields: complete ? [] : ['phone_number'],
      verifications: { phone_number: verification },
      created_user_id: row.created_user_id,
      created_session_id: row.created_session_id,
      abandon_at: abandonAt(row.created_at),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private async load(tx: Tx, clientId: string, id: string): Promise<SignUpsTable> {
    const row = await signUpOfClient.takeFirst(tx, { id, client_id: clientId });
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No sign-up ${id} on this client` });
    return row;
  }

  private async loadOpen(tx: Tx, clientId: string, id: string): Promise<SignUpsTable> {
    const row = await this.load(tx, clientId, id);
    if (row.status === 'complete') throw appError('flow_step_invalid', { longMessage: 'This sign-up is already complete.' });
    assertNotAbandoned('sign-up', row.created_at, this.clock.now());
    return row;
  }

  private taken() {
    return appError('form_identifier_exists', {
      paramName: 'phone_number',
      longMessage: 'This phone number already belongs to an account; sign in instead.',
    });
  }
}
