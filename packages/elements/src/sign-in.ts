import type { AuthnClient, SignIn } from '../../sdk/src/index.js';
import { AuthnElement, h, type CodeForm } from './base.js';

/**
 * `<authn-sign-in>`: a phone number, then the code sent to it; or, when the instance allows passwords, the number
 * and a password, then the phone second factor when the user has one. Fires `authn:signed-in` when done.
 */
export class AuthnSignInElement extends AuthnElement {
  private phoneNumber = '';
  private unsubscribe: (() => void) | null = null;

  /** A signed-in user (a returning one, or one signed in by another element) sees so; signing out shows the form. */
  protected connected(client: AuthnClient): void {
    this.unsubscribe?.();
    this.unsubscribe = client.onAuthStateChange((event) => {
      if (event === 'SIGNED_OUT') this.phoneStep(client);
      else if (event === 'SIGNED_IN') this.show(this.heading('You are signed in'));
    });
    if (client.session) this.show(this.heading('You are signed in'));
    else this.phoneStep(client);
  }

  protected override disconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private phoneStep(client: AuthnClient, withPassword = false): void {
    const environment = this.environment!;
    const phone = this.phoneField('Phone number', this.phoneNumber);
    const password = withPassword ? this.passwordField('Password', 'current-password') : null;
    const submit = async () => {
      this.phoneNumber = phone.input.value;
      this.setStatus(withPassword ? 'Signing in…' : 'Sending a code…');
      const result = password
        ? await client.signIn.password({ identifier: this.phoneNumber, password: password.input.value })
        : await client.signIn.phoneCode.sendCode({ phoneNumber: this.phoneNumber });
      if (result.error) return this.showError(result.error);
      if (result.data.status === 'needs_second_factor') return this.secondFactor(client);
      if (!password) return this.phoneCodeStep(client);
      this.done(client);
    };
    const switcher = environment.password.enabled
      ? [
          this.button(
            withPassword ? 'Use a code by SMS instead' : 'Use your password instead',
            { class: 'button secondary switch-method' },
            true,
          ),
        ]
      : [];
    switcher[0]?.addEventListener('click', () => {
      this.phoneNumber = phone.input.value;
      this.setStatus('');
      this.phoneStep(client, !withPassword);
    });
    this.show(
      this.heading(`Sign in to ${environment.app_name}`),
      this.form(
        submit,
        phone.block,
        ...(password ? [password.block] : []),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit', part: 'button', class: 'button' }, withPassword ? 'Sign in' : 'Send code'),
          ...switcher,
        ),
      ),
    );
  }

  private phoneCodeStep(client: AuthnClient): void {
    this.setStatus(`We sent a code to ${this.phoneNumber}.`);
    this.verifyStep(
      `Enter the code sent to ${this.phoneNumber}`,
      {
        delivery: () => client.signIn.phoneCode.delivery(),
        resendIn: () => client.signIn.phoneCode.resendIn(),
        resend: () => client.signIn.phoneCode.sendCode(),
        verify: (code) => client.signIn.phoneCode.verifyCode({ code }),
      },
      client,
    );
  }

  private async secondFactor(client: AuthnClient): Promise<void> {
    this.setStatus('Sending a code to your second factor…');
    const sent = await client.signIn.mfa.sendPhoneCode();
    if (sent.error) return this.showError(sent.error);
    this.setStatus('Your account asks for a second step: we sent a code by SMS.');
    this.verifyStep(
      'Enter the code of your second step',
      {
        delivery: () => client.signIn.mfa.delivery(),
        resendIn: () => client.signIn.mfa.resendIn(),
        resend: () => client.signIn.mfa.sendPhoneCode(),
        verify: (code) => client.signIn.mfa.verifyPhoneCode({ code }),
      },
      client,
    );
  }

  /** A code step of the sign-in: a right code signs in, or asks for the second factor. */
  private verifyStep(
    title: string,
    code: Pick<CodeForm<SignIn, SignIn>, 'delivery' | 'resendIn' | 'resend' | 'verify'>,
    client: AuthnClient,
  ): void {
    this.codeStep(title, {
      ...code,
      reload: () => client.signIn.reload(),
      verified: (signIn) => (signIn.status === 'needs_second_factor' ? this.secondFactor(client) : this.done(client)),
      leave: { label: 'Use another number', class: 'back', action: () => this.phoneStep(client) },
    });
  }

  /** The event carries the session as the SDK keeps it (no token: the page asks `getToken()` when it needs one). */
  private done(client: AuthnClient): void {
    this.setStatus('Signed in.');
    this.emit('authn:signed-in', { session: client.session });
  }
}
