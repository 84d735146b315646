import type { AuthnClient } from '../../sdk/src/index.js';
import { AuthnElement, h } from './base.js';

/**
 * `<authn-sign-up>`: a phone number (and a password when the instance allows one), then the code sent to it.
 * Fires `authn:signed-up` and `authn:signed-in` when the account exists and its session is active.
 */
export class AuthnSignUpElement extends AuthnElement {
  private phoneNumber = '';

  protected connected(client: AuthnClient): void {
    this.phoneStep(client);
  }

  private phoneStep(client: AuthnClient): void {
    const environment = this.environment!;
    const phone = this.phoneField('Phone number', this.phoneNumber);
    const password = environment.password.enabled ? this.passwordField('Password (optional)', 'new-password') : null;
    if (password) password.input.minLength = environment.password.min_length;
    const submit = async () => {
      this.phoneNumber = phone.input.value;
      this.setStatus('Sending a code…');
      const created = await client.signUp.create({
        phoneNumber: this.phoneNumber,
        ...(password?.input.value ? { password: password.input.value } : {}),
      });
      if (created.error) return this.showError(created.error);
      const sent = await client.signUp.verifications.sendPhoneCode();
      if (sent.error) return this.showError(sent.error);
      this.phoneCodeStep(client);
    };
    this.show(
      this.heading(`Create your ${environment.app_name} account`),
      this.form(
        submit,
        phone.block,
        ...(password ? [password.block] : []),
        h('div', { class: 'actions' }, h('button', { type: 'submit', part: 'button', class: 'button' }, 'Send code')),
      ),
    );
  }

  private phoneCodeStep(client: AuthnClient): void {
    this.setStatus(`We sent a code to ${this.phoneNumber}.`);
    this.codeStep(`Enter the code sent to ${this.phoneNumber}`, {
      delivery: () => client.signUp.verifications.delivery(),
      reload: () => client.signUp.reload(),
      resendIn: () => client.signUp.verifications.resendIn(),
      resend: () => client.signUp.verifications.sendPhoneCode(),
      verify: (code) => client.signUp.verifications.verifyPhoneCode({ code }),
      verified: () => {
        this.show(this.heading('Your account is ready'));
        this.setStatus('Signed up and signed in.');
        this.emit('authn:signed-up', { session: client.session });
        this.emit('authn:signed-in', { session: client.session });
      },
      leave: { label: 'Use another number', class: 'back', action: () => this.phoneStep(client) },
    });
  }
}
