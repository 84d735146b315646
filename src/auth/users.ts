/**
 * Users and their phone numbers. A user signs up with one phone number (primary, verified) and may enrol
 * numbers as the phone second factor (`reserved_for_second_factor`). A verified number belongs to one user.
 */
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import type { Db, Executor } from '../store/database.js';
import { insertRow, prepared } from '../store/prepared.js';
import { decodeCursor, toPage, type Page } from '../store/pagination.js';
import type { PhoneNumbersTable, UsersTable } from '../store/schema.js';
import type { Actor } from '../audit/audit-log.js';
import { recordEventAndAudit } from '../webhooks/events.js';
import type { Verification } from '../challenges/service.js';

export interface PhoneNumberView {
  object: 'phone_number';
  id: string;
  phone_number: string;
  /** `{ status: "verified" }` once verified; while an MFA enrolment waits for its code, that code's verification. */
  verification: Verification | null;
  reserved_for_second_factor: boolean;
  created_at: number;
  updated_at: number;
}

export interface UserView {
  object: 'user';
  id: string;
  primary_phone_number_id: string | null;
  phone_numbers: PhoneNumberView[];
  password_enabled: boolean;
  /** Whether a phone number is enrolled as second factor (whatever `multi_factor.phone_code.enabled` says now). */
  two_factor_enabled: boolean;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}

export const VERIFIED: Verification = {
  status: 'verified',
  strategy: 'phone_code',
  attempts: null,
  attempts_remaining: null,
  expire_at: null,
  next_resend_at: null,
  delivery: null,
};

export function phoneNumberView(row: PhoneNumbersTable, pending: Verification | null = null): PhoneNumberView {
  return {
    object: 'phone_number',
    id: row.id,
    phone_number: row.phone_number,
    verification: pending ?? (row.verified_at !== null ? VERIFIED : null),
    reserved_for_second_factor: row.reserved_for_second_factor === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function userView(user: UsersTable, phones: PhoneNumbersTable[]): UserView {
  return {
    object: 'user',
    id: user.id,
    primary_phone_number_id: phones.find((p) => p.is_primary === 1)?.id ?? null,
    phone_numbers: phones.map((p) => phoneNumberView(p)),
    password_enabled: user.password_hash !== null,
    two_factor_enabled: phones.some((p) => p.reserved_for_second_factor === 1 && p.verified_at !== null),
    created_at: user.created_at,
    updated_at: user.updated_at,
    last_sign_in_at: user.last_sign_in_at,
  };
}

// On every completed sign-up: compiled once.
const insertUser = insertRow('users');
const insertPhoneNumber = insertRow('phone_numbers');
const verifiedNumber = prepared<{ phone_number: string }, PhoneNumbersTable>((db, $) =>
  db.selectFrom('phone_numbers').selectAll().where('phone_number', '=', $('phone_number')).where('verified_at', 'is not', null),
);

export class Users {
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(deps: { db: Db; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  /** A user with a verified primary number, as a completed sign-up makes them. */
  async create(tx: Executor, input: { phoneNumber: string; passwordHash: string | null; signUpId: string }): Promise<UserView> {
    const now = this.clock.now();
    const user: UsersTable = {
      id: newId('user', now),
      password_hash: input.passwordHash,
      created_at: now,
      updated_at: now,
      last_sign_in_at: null,
    };
    const phone: PhoneNumbersTable = {
      id: newId('idn', now),
      user_id: user.id,
      phone_number: input.phoneNumber,
      is_primary: 1,
      verified_at: now,
      reserved_for_second_factor: 0,
      challenge_id: null,
      created_at: now,
      updated_at: now,
    };
    await insertUser(tx, user);
    await insertPhoneNumber(tx, phone);
    const view = userView(user, [phone]);
    await recordEventAndAudit(tx, this.clock, {
      type: 'user.created',
      actor: { type: 'user', id: user.id },
      target: { type: 'user', id: user.id },
      data: { ...view },
      details: { sign_up_id: input.signUpId, phone_number: input.phoneNumber },
    });
    return view;
  }

  /** The user whose primary number this is (the identifier of a sign-in). */
  async byPrimaryNumber(executor: Executor, phoneNumber: string): Promise<UsersTable | undefined> {
    return executor
      .selectFrom('phone_numbers')
      .innerJoin('users', 'users.id', 'phone_numbers.user_id')
      .selectAll('users')
      .where('phone_numbers.phone_number', '=', phoneNumber)
      .where('phone_numbers.is_primary', '=', 1)
      .where('phone_numbers.verified_at', 'is not', null)
      .executeTakeFirst();
  }

  /** Whether a verified number already belongs to someone. */
  async numberTaken(executor: Executor, phoneNumber: string): Promise<PhoneNumbersTable | undefined> {
    return verifiedNumber.takeFirst(executor, { phone_number: phoneNumber });
  }

  async phoneNumbers(executor: Executor, userId: string): Promise<PhoneNumbersTable[]> {
    return executor.selectFrom('phone_numbers').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  }

  async view(userId: string, executor: Executor = this.db): Promise<UserView> {
    const user = await executor.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!user) throw appError('resource_not_found', { paramName: 'id', longMessage: `No user ${userId}` });
    return userView(user, await this.phoneNumbers(executor, userId));
  }

  /** Newest first; `phone_number` finds the user a number belongs to. */
  async list(filter: { phone_number?: string; limit?: number }, startingAfter?: string): Promise<Page<UserView>> {
    const limit = filter.limit ?? 50;
    const after = decodeCursor(startingAfter);
    let query = this.db
      .selectFrom('users')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (filter.phone_number) {
      query = query.where(
        'id',
        'in',
        this.db
          .selectFrom('phone_numbers')
          .select('user_id')
          .where('phone_number', '=', filter.phone_number)
          .where('verified_at', 'is not', null),
      );
    }
    if (after) query = query.where('id', '<', after);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const phones = page.length
      ? await this.db
          .selectFrom('phone_numbers')
          .selectAll()
          .where(
            'user_id',
            'in',
            page.map((u) => u.id),
          )
          .orderBy('id')
          .execute()
      : [];
    return toPage(rows, limit, (u) =>
      userView(
        u,
        phones.filter((p) => p.user_id === u.id),
      ),
    );
  }

  /** Deletes a user with their numbers and sessions (their tokens stop being renewed at once). */
  async delete(userId: string, actor: Actor): Promise<{ object: 'user'; id: string; deleted: true }> {
    return this.db.transaction().execute(async (tx) => {
      const view = await this.view(userId, tx);
      await tx.deleteFrom('users').where('id', '=', userId).execute();
      await recordEventAndAudit(tx, this.clock, {
        type: 'user.deleted',
        actor,
        target: { type: 'user', id: userId },
        data: { object: 'user', id: userId, deleted: true },
        details: { phone_numbers: view.phone_numbers.map((p) => p.phone_number) },
      });
      return { object: 'user', id: userId, deleted: true };
    });
  }
}
