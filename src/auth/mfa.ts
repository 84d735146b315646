/**
 * The phone second factor of a signed-in user: enrol a number (start → prepare → attempt), list, remove.
 * `multi_factor.phone_code.enabled: false` refuses *new* enrolments at every step; enrolled numbers are left
 * exactly as they are (sign-in stops asking for them while it is off, and asks again once it is back on).
 */
import { appError } from '../errors.js';
import { Refusal } from '../refusal.js';
import { newId } from '../ids.js';
import type { Tx } from '../store/database.js';
import type { PhoneNumbersTable } from '../store/schema.js';
import type { Actor } from '../audit/audit-log.js';
import { recordEventAndAudit } from '../webhooks/events.js';
import type { InstanceSettings } from '../instance/settings.js';
import { phoneNumberView, type PhoneNumberView } from './users.js';
import { FlowService, assertNumberAccepted, mapLostRaces, parsePhoneParam } from './flow.js';
import type { RequestContext } from './request-context.js';

export class Mfa extends FlowService {
  /** Enrolled numbers and enrolments in progress. */
  async list(userId: string): Promise<PhoneNumberView[]> {
    return this.transactions.run(async (tx) => {
      const rows = (await this.users.phoneNumbers(tx, userId)).filter(
        (p) => p.reserved_for_second_factor === 1 || p.challenge_id !== null || p.verified_at === null,
      );
      return Promise.all(rows.map((p) => this.view(tx, p)));
    });
  }

  /** Starts enrolling a number: a new one, or one of the user's own verified numbers (a code is still needed). */
  async start(userId: string, input: { phone_number: string }): Promise<PhoneNumberView> {
    const settings = await this.instance.current();
    this.assertEnabled(settings);
    const phone = parsePhoneParam(input.phone_number, 'phone_number');
    assertNumberAccepted(settings, phone, 'phone_number');
    return mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const own = (await this.users.phoneNumbers(tx, userId)).find((p) => p.phone_number === phone.e164);
        if (own?.reserved_for_second_factor === 1)
          throw appError('mfa_already_enrolled', {
            paramName: 'phone_number',
            longMessage: 'This number is already enrolled as your second factor.',
          });
        if (own) return phoneNumberView(own);
        if (await this.users.numberTaken(tx, phone.e164))
          throw appError('form_identifier_exists', {
            paramName: 'phone_number',
            longMessage: 'This phone number belongs to another account.',
          });
        const now = this.clock.now();
        const row: PhoneNumbersTable = {
          id: newId('idn', now),
          user_id: userId,
          phone_number: phone.e164,
          is_primary: 0,
          verified_at: null,
          reserved_for_second_factor: 0,
          challenge_id: null,
          created_at: now,
          updated_at: now,
        };
        await tx.insertInto('phone_numbers').values(row).execute();
        return phoneNumberView(row);
      }),
    );
  }

  async prepare(userId: string, phoneNumberId: string, ctx: RequestContext): Promise<PhoneNumberView> {
    const settings = await this.instance.current();
    this.assertEnabled(settings);
    return mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const row = await this.enrolling(tx, userId, phoneNumberId);
        const phone = parsePhoneParam(row.phone_number, 'phone_number');
        assertNumberAccepted(settings, phone, 'phone_number');
        const issued = await this.challenges.issue(tx, {
          purpose: 'mfa_enrollment',
          phoneNumber: phone.e164,
          country: phone.country,
          ip: ctx.ip,
          actor: { type: 'user', id: userId },
          settings,
        });
        if (issued instanceof Refusal) return issued;
        const { challenge, delivery } = issued;
        const now = this.clock.now();
        await tx.updateTable('phone_numbers').set({ challenge_id: challenge.id, updated_at: now }).where('id', '=', row.id).execute();
        return phoneNumberView({ ...row, challenge_id: challenge.id, updated_at: now }, this.challenges.view(challenge, delivery));
      }),
    );
  }

  /** A right code enrols the number: verified, and reserved for the second factor. */
  async attempt(userId: string, phoneNumberId: string, code: string, ctx: RequestContext): Promise<PhoneNumberView> {
    const settings = await this.instance.current();
    this.assertEnabled(settings);
    return mapLostRaces(() =>
      this.transactions.run(async (tx) => {
        const actor: Actor = { type: 'user', id: userId };
        const refused = await this.consumeAttemptLimit(tx, settings, ctx, actor);
        if (refused) return refused;
        const row = await this.enrolling(tx, userId, phoneNumberId);
        if (!row.challenge_id)
          return Refusal.of('verification_not_prepared', {
            paramName: 'code',
            longMessage: 'Request a code first (prepare_verification).',
          });
        const result = await this.challenges.attempt(tx, row.challenge_id, code, settings, actor);
        if (result instanceof Refusal) return result;
        const now = this.clock.now();
        const enrolled: PhoneNumbersTable = {
          ...row,
          verified_at: row.verified_at ?? now,
          reserved_for_second_factor: 1,
          challenge_id: null,
          updated_at: now,
        };
        await tx
          .updateTable('phone_numbers')
          .set({ verified_at: enrolled.verified_at, reserved_for_second_factor: 1, challenge_id: null, updated_at: now })
          .where('id', '=', row.id)
          .execute();
        await this.record(tx, 'mfa.enrolled', enrolled, actor);
        return phoneNumberView(enrolled);
      }),
    );
  }

  /**
   * Removes the second factor (allowed whatever the toggle says). The sign-up number stays on the account,
   * no longer reserved; a number added only for the second factor is deleted.
   */
  async remove(userId: string, phoneNumberId: string): Promise<PhoneNumberView> {
    return this.transactions.run(async (tx) => {
      const row = await this.owned(tx, userId, phoneNumberId);
      const now = this.clock.now();
      const removed: PhoneNumbersTable = { ...row, reserved_for_second_factor: 0, challenge_id: null, updated_at: now };
      if (row.is_primary === 1) {
        await tx
          .updateTable('phone_numbers')
          .set({ reserved_for_second_factor: 0, challenge_id: null, updated_at: now })
          .where('id', '=', row.id)
          .execute();
      } else {
        await tx.deleteFrom('phone_numbers').where('id', '=', row.id).execute();
      }
      if (row.reserved_for_second_factor === 1) await this.record(tx, 'mfa.removed', removed, { type: 'user', id: userId });
      return phoneNumberView(removed);
    });
  }

  private async view(tx: Tx, row: PhoneNumbersTable): Promise<PhoneNumberView> {
    return phoneNumberView(row, row.challenge_id ? await this.challenges.verification(tx, row.challenge_id) : null);
  }

  private assertEnabled(settings: InstanceSettings): void {
    if (!settings.multi_factor.phone_code.enabled) {
      throw appError('phone_mfa_disabled', {
        longMessage: 'New phone second factors cannot be enrolled now (multi_factor.phone_code.enabled is false); enrolled ones are kept.',
      });
    }
  }

  private async owned(tx: Tx, userId: string, phoneNumberId: string): Promise<PhoneNumbersTable> {
    const row = await tx
      .selectFrom('phone_numbers')
      .selectAll()
      .where('id', '=', phoneNumberId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No phone number ${phoneNumberId} on your account` });
    return row;
  }

  private async enrolling(tx: Tx, userId: string, phoneNumberId: string): Promise<PhoneNumbersTable> {
    const row = await this.owned(tx, userId, phoneNumberId);
    if (row.reserved_for_second_factor === 1)
      throw appError('mfa_already_enrolled', { longMessage: 'This number is already enrolled as your second factor.' });
    return row;
  }

  private async record(tx: Tx, type: 'mfa.enrolled' | 'mfa.removed', row: PhoneNumbersTable, actor: Actor): Promise<void> {
    const data = {
      object: 'phone_second_factor',
      user_id: row.user_id,
      strategy: 'phone_code',
      phone_number_id: row.id,
      phone_number: row.phone_number,
    };
    await recordEventAndAudit(tx, this.clock, { type, actor, target: { type: 'user', id: row.user_id }, data });
  }
}
