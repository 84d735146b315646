/**
 * Users as the BAPI shows them to operators: found by a phone number in any notation (a national number is read in
 * the countries codes may go to), each with whether password sign-in is locked out and until when.
 */
import type { Actor } from '../audit/audit-log.js';
import { homeCountries } from '../instance/settings.js';
import type { InstanceService } from '../instance/service.js';
import type { Page } from '../store/pagination.js';
import { parsePhoneParam } from './flow.js';
import type { SignIns } from './sign-ins.js';
import type { UserView, Users } from './users.js';

export interface OperatorUserView extends UserView {
  /** When password sign-in opens again after too many wrong passwords (`abuse.password_lockout`); null: not locked. */
  password_locked_until: number | null;
}

export class OperatorUsers {
  private readonly users: Users;
  private readonly signIns: SignIns;
  private readonly instance: InstanceService;

  constructor(deps: { users: Users; signIns: SignIns; instance: InstanceService }) {
    this.users = deps.users;
    this.signIns = deps.signIns;
    this.instance = deps.instance;
  }

  /** Newest first; `phone_number` finds the user a verified number belongs to. */
  async list(filter: { phone_number?: string; limit?: number }, startingAfter?: string): Promise<Page<OperatorUserView>> {
    const { phone_number, limit } = filter;
    const phone =
      phone_number === undefined
        ? undefined
        : parsePhoneParam(phone_number, 'phone_number', homeCountries(await this.instance.current())).e164;
    const page = await this.users.list({ limit, ...(phone !== undefined ? { phone_number: phone } : {}) }, startingAfter);
    return { ...page, data: await this.withLockouts(page.data) };
  }

  async view(userId: string): Promise<OperatorUserView> {
    const [user] = await this.withLockouts([await this.users.view(userId)]);
    return user!;
  }

  /** Lifts the user's password lockout at once. */
  async unlock(userId: string, actor: Actor): Promise<OperatorUserView> {
    return { ...(await this.signIns.unlock(userId, actor)), password_locked_until: null };
  }

  private async withLockouts(users: UserView[]): Promise<OperatorUserView[]> {
    const lockouts = await this.signIns.lockouts(users.map((user) => user.id));
    return users.map((user) => ({ ...user, password_locked_until: lockouts.get(user.id) ?? null }));
  }
}
