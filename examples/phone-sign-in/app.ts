/**
 * The example page's script: every screen on `@authn.sh/js`. Each screen works inside its own container
 * (`section[data-screen]`), so it can be swapped for the matching web component without touching the others.
 */
import { createAuthn, type AuthnError, type Environment, type Result } from '@authn.sh/js';

const authn = createAuthn({ url: document.querySelector<HTMLMetaElement>('meta[name="authn-url"]')!.content });

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const valueOf = (id: string) => byId<HTMLInputElement>(id).value.trim();
const setStatus = (text: string) => {
  byId('status').textContent = text;
};

type Screen = 'sign-up' | 'sign-in' | 'mfa';

/** Shows the server's message under the screen (or clears it); true when there was an error. */
function showError(screen: Screen, error: AuthnError | null): boolean {
  const box = byId(`${screen}-error`);
  box.textContent = error?.message ?? '';
  box.dataset.code = error?.code ?? '';
  return error !== null;
}

/** Runs one step of a flow: its error goes under the screen, its data comes back (null on an error). */
async function step<T>(screen: Screen, call: Promise<Result<T>>): Promise<T | null> {
  const { data, error } = await call;
  return showError(screen, error) ? null : data;
}

const countdowns = new Map<HTMLButtonElement, ReturnType<typeof setInterval>>();

/** "Resend code in N s" until the server's next_resend_at, then "Resend code". */
function startCountdown(buttonId: string, secondsLeft: () => number): void {
  const button = byId<HTMLButtonElement>(buttonId);
  const tick = () => {
    const seconds = secondsLeft();
    button.disabled = seconds > 0;
    button.textContent = seconds > 0 ? `Resend code in ${seconds} s` : 'Resend code';
  };
  clearInterval(countdowns.get(button));
  tick();
  countdowns.set(button, setInterval(tick, 1000));
}

function showCodeForm(formId: string, codeId: string): void {
  byId(formId).hidden = false;
  byId<HTMLInputElement>(codeId).value = '';
  byId(codeId).focus();
}

function resetForms(): void {
  for (const form of document.querySelectorAll('form')) form.reset();
  for (const id of ['sign-up-verify', 'sign-in-verify', 'mfa-verify']) byId(id).hidden = true;
  for (const screen of ['sign-up', 'sign-in', 'mfa'] as const) showError(screen, null);
}

/** The seed's rule: offer the phone second factor only when SMS can be sent and the instance has it on. */
const phoneMfaOffered = (environment: Environment | null) => environment !== null && environment.sms.driver !== null && environment.multi_factor.phone_code.enabled;

function render(): void {
  const signedIn = authn.session !== null;
  byId('sign-up').hidden = signedIn;
  byId('sign-in').hidden = signedIn;
  byId('account').hidden = !signedIn;
  byId('user-profile').hidden = !signedIn || !phoneMfaOffered(authn.environment);
}

// Sign up: number (and an optional password), then the code.
byId('sign-up-start').addEventListener('submit', async (event) => {
  event.preventDefault();
  const password = byId<HTMLInputElement>('sign-up-password').value;
  if (!(await step('sign-up', authn.signUp.create({ phoneNumber: valueOf('sign-up-phone'), ...(password ? { password } : {}) })))) return;
  if (!(await step('sign-up', authn.signUp.verifications.sendPhoneCode()))) return;
  showCodeForm('sign-up-verify', 'sign-up-code');
  startCountdown('sign-up-resend', () => authn.signUp.verifications.resendIn());
});
byId('sign-up-verify').addEventListener('submit', async (event) => {
  event.preventDefault();
  await step('sign-up', authn.signUp.verifications.verifyPhoneCode({ code: valueOf('sign-up-code') }));
});
byId('sign-up-resend').addEventListener('click', async () => {
  if (await step('sign-up', authn.signUp.verifications.sendPhoneCode())) setStatus('A new code is on its way.');
  startCountdown('sign-up-resend', () => authn.signUp.verifications.resendIn());
});

// Sign in: a code to the number, or the password (then a code to the second factor when the user has one).
let signInFactor: 'first' | 'second' = 'first';
const signInResendIn = () => (signInFactor === 'first' ? authn.signIn.phoneCode.resendIn() : authn.signIn.mfa.resendIn());

byId('sign-in-start').addEventListener('submit', async (event) => {
  event.preventDefault();
  const password = byId<HTMLInputElement>('sign-in-password').value;
  if (password) {
    const signIn = await step('sign-in', authn.signIn.password({ identifier: valueOf('sign-in-phone'), password }));
    if (signIn?.status !== 'needs_second_factor') return;
    signInFactor = 'second';
    if (!(await step('sign-in', authn.signIn.mfa.sendPhoneCode()))) return;
    byId('sign-in-code-label').textContent = 'Code sent to your second-factor phone';
  } else {
    signInFactor = 'first';
    if (!(await step('sign-in', authn.signIn.phoneCode.sendCode({ phoneNumber: valueOf('sign-in-phone') })))) return;
    byId('sign-in-code-label').textContent = 'Code sent by SMS';
  }
  showCodeForm('sign-in-verify', 'sign-in-code');
  startCountdown('sign-in-resend', signInResendIn);
});
byId('sign-in-verify').addEventListener('submit', async (event) => {
  event.preventDefault();
  const code = valueOf('sign-in-code');
  await step('sign-in', signInFactor === 'first' ? authn.signIn.phoneCode.verifyCode({ code }) : authn.signIn.mfa.verifyPhoneCode({ code }));
});
byId('sign-in-resend').addEventListener('click', async () => {
  const sent = await step('sign-in', signInFactor === 'first' ? authn.signIn.phoneCode.sendCode() : authn.signIn.mfa.sendPhoneCode());
  if (sent) setStatus('A new code is on its way.');
  startCountdown('sign-in-resend', signInResendIn);
});

// The account: who is signed in, and sign-out.
async function showAccount(): Promise<void> {
  const { data: user, error } = await authn.user.get();
  if (error) return setStatus(error.message);
  byId('account-phone').textContent = user.phone_numbers.find((number) => number.id === user.primary_phone_number_id)?.phone_number ?? '';
  if (phoneMfaOffered(authn.environment)) await showSecondFactors();
}
byId('sign-out').addEventListener('click', async () => {
  const { error } = await authn.signOut();
  if (error) setStatus(error.message);
});

// The backend: the session token goes to the app's own route, which checks it offline.
byId('call-api').addEventListener('click', async () => {
  const { data: token, error } = await authn.getToken();
  if (error) return setStatus(error.message);
  const response = await fetch('/api/me', { headers: token ? { authorization: `Bearer ${token}` } : {} });
  byId('api-result').textContent = `${response.status} ${await response.text()}`;
});

// The user profile: the phone second factor.
let enrolling: string | null = null;

async function showSecondFactors(): Promise<void> {
  const numbers = await step('mfa', authn.user.phoneMfa.list());
  if (!numbers) return;
  const list = byId('mfa-list');
  list.replaceChildren(
    ...numbers.map((number) => {
      const item = document.createElement('li');
      item.textContent = `${number.phone_number} — ${number.reserved_for_second_factor ? 'second factor' : 'not verified yet'} `;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', `Remove ${number.phone_number}`);
      remove.addEventListener('click', async () => {
        if (await step('mfa', authn.user.phoneMfa.remove({ id: number.id }))) await showSecondFactors();
      });
      item.append(remove);
      return item;
    }),
  );
}
byId('mfa-start').addEventListener('submit', async (event) => {
  event.preventDefault();
  const number = await step('mfa', authn.user.phoneMfa.add({ phoneNumber: valueOf('mfa-phone') }));
  if (!number || !(await step('mfa', authn.user.phoneMfa.sendCode({ id: number.id })))) return;
  enrolling = number.id;
  showCodeForm('mfa-verify', 'mfa-code');
});
byId('mfa-verify').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!enrolling || !(await step('mfa', authn.user.phoneMfa.verifyCode({ id: enrolling, code: valueOf('mfa-code') })))) return;
  enrolling = null;
  resetForms();
  setStatus('Second factor added.');
  await showSecondFactors();
});

authn.onAuthStateChange((event) => {
  if (event === 'TOKEN_REFRESHED') return;
  resetForms();
  render();
  byId('api-result').textContent = '';
  setStatus(event === 'SIGNED_IN' ? 'Signed in.' : 'Signed out.');
  if (event === 'SIGNED_IN') void showAccount();
});

const loaded = await authn.load();
render();
if (loaded.error) setStatus(`authn.sh is out of reach: ${loaded.error.message}`);
else if (!authn.session) setStatus('Signed out.');
