import type { AuthnClient, PhoneNumber } from '../../sdk/src/index.js';
import { AuthnElement, h, sessionRestored } from './base.js';

const isEnrolled = (number: PhoneNumber) => number.reserved_for_second_factor && number.verification?.status === 'verified';

/**
 * `<authn-user-profile>`: the signed-in user's numbers, sign-out, and the phone second factor (a switch, the
 * enrolled numbers, adding one with a code, removing). The second-factor section exists only while the environment
 * says an SMS driver is configured and phone MFA is on; `refresh()` (or the page becoming visible) re-reads it.
 */
export class AuthnUserProfileElement extends AuthnElement {
  private unsubscribe: (() => void) | null = null;
  private readonly mfa = h('section', { part: 'mfa', class: 'section', 'aria-labelledby': 'mfa-heading' });

  protected connected(client: AuthnClient): void {
    this.unsubscribe?.();
    this.unsubscribe = client.onAuthStateChange((event) => {
      if (event !== 'TOKEN_REFRESHED') void this.renderProfile();
    });
    void sessionRestored(client).then(() => this.renderProfile());
  }

  protected override disconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  protected override environmentChanged(): void {
    void this.renderMfa();
  }

  private async renderProfile(): Promise<void> {
    const client = this.authn!;
    if (!client.session) {
      this.mfa.replaceChildren();
      this.show(this.heading('Your account'), h('p', {}, 'You are signed out.'));
      return;
    }
    const user = await client.user.get();
    if (user.error) return this.setStatus(user.error.message, true);
    const signOut = this.button('Sign out', { class: 'button secondary sign-out' }, true);
    signOut.addEventListener('click', async () => {
      const result = await client.signOut();
      if (result.error) return this.setStatus(result.error.message, true);
      this.setStatus('Signed out.');
      this.emit('authn:signed-out', {});
    });
    this.show(
      this.heading('Your account'),
      h(
        'ul',
        { part: 'list', class: 'list', 'aria-label': 'Your phone numbers' },
        ...user.data.phone_numbers.map((n) => h('li', { part: 'item', class: 'item' }, n.phone_number)),
      ),
      h('div', { class: 'actions' }, signOut),
      this.mfa,
    );
    await this.renderMfa();
  }

  /** The second-factor section, or nothing when the instance cannot send its codes or has phone MFA off. */
  private async renderMfa(): Promise<void> {
    const client = this.authn;
    if (!client?.session || !this.phoneMfaAvailable()) {
      this.stopCountdown();
      this.mfa.replaceChildren();
      this.mfa.hidden = true;
      return;
    }
    const listed = await client.user.phoneMfa.list();
    if (listed.error) return this.setStatus(listed.error.message, true);
    if (!this.phoneMfaAvailable()) return;
    const enrolled = listed.data.filter(isEnrolled);
    const toggle = h(
      'button',
      { type: 'button', role: 'switch', part: 'toggle', class: 'switch', 'aria-checked': enrolled.length > 0 ? 'true' : 'false' },
      h('span', { class: 'switch-track', 'aria-hidden': 'true' }),
      'Ask for a code by SMS when I sign in with my password',
    );
    const area = h('div', { class: 'mfa-area' });
    toggle.addEventListener('click', async () => {
      if (enrolled.length === 0) return this.addForm(area);
      for (const number of enrolled) {
        const removed = await client.user.phoneMfa.remove({ id: number.id });
        if (removed.error) return this.setStatus(removed.error.message, true);
      }
      this.setStatus('Two-step verification is off.');
      this.emit('authn:mfa-changed', { enabled: false });
      await this.renderMfa();
    });
    const list = h(
      'ul',
      { part: 'list', class: 'list', 'aria-label': 'Second-factor numbers' },
      ...enrolled.map((number) => {
        const remove = this.button('Remove', { 'aria-label': `Remove ${number.phone_number}` }, true);
        remove.addEventListener('click', async () => {
          const removed = await client.user.phoneMfa.remove({ id: number.id });
          if (removed.error) return this.setStatus(removed.error.message, true);
          this.setStatus(`${number.phone_number} no longer receives sign-in codes.`);
          this.emit('authn:mfa-changed', { enabled: enrolled.length > 1 });
          await this.renderMfa();
        });
        return h('li', { part: 'item', class: 'item' }, h('span', {}, number.phone_number), remove);
      }),
    );
    const add = this.button('Add a number', { class: 'button secondary add' }, true);
    add.addEventListener('click', () => this.addForm(area));
    this.stopCountdown();
    this.mfa.hidden = false;
    this.mfa.replaceChildren(
      h('h3', { id: 'mfa-heading', class: 'section-heading' }, 'Two-step verification'),
      toggle,
      ...(enrolled.length ? [list, h('div', { class: 'actions' }, add)] : []),
      area,
    );
  }

  /** Enrolling a number: the number, then the code sent to it. */
  private addForm(area: HTMLElement): void {
    const client = this.authn!;
    this.stopCountdown();
    const phone = this.phoneField('Number for sign-in codes');
    const submit = async () => {
      this.setStatus('Sending a code…');
      const added = await client.user.phoneMfa.add({ phoneNumber: phone.input.value });
      if (added.error) return this.showError(added.error);
      const sent = await client.user.phoneMfa.sendCode({ id: added.data.id });
      if (sent.error) return this.showError(sent.error);
      this.enrolmentCodeForm(area, sent.data);
    };
    area.replaceChildren(
      this.form(
        submit,
        phone.block,
        h('div', { class: 'actions' }, h('button', { type: 'submit', part: 'button', class: 'button' }, 'Send code')),
      ),
    );
    phone.input.focus();
  }

  private enrolmentCodeForm(area: HTMLElement, pending: PhoneNumber): void {
    const client = this.authn!;
    let current = pending;
    this.stopCountdown();
    this.setStatus(`We sent a code to ${pending.phone_number}.`);
    const { form, focus } = this.codeForm({
      delivery: () => current.verification?.delivery ?? null,
      reload: async () => {
        const read = await client.user.phoneMfa.reload({ id: pending.id });
        if (read.data) current = read.data;
      },
      resendIn: () => client.user.phoneMfa.resendIn(current),
      resend: () => client.user.phoneMfa.sendCode({ id: pending.id }),
      resent: (sent) => {
        current = sent;
      },
      verify: (code) => client.user.phoneMfa.verifyCode({ id: pending.id, code }),
      verified: async () => {
        this.setStatus(`${pending.phone_number} now receives your sign-in codes.`);
        this.emit('authn:mfa-changed', { enabled: true });
        await this.renderMfa();
      },
      leave: {
        label: 'Cancel',
        class: 'cancel',
        action: async () => {
          await client.user.phoneMfa.remove({ id: pending.id });
          await this.renderMfa();
        },
      },
    });
    area.replaceChildren(form);
    focus();
  }
}
