/**
 * The example page's script: the sign-up, sign-in and profile screens are the `@authn.sh/elements` web components;
 * the page's own code only says who is signed in and calls its backend with `getToken()`. Page and elements share
 * one SDK client (the elements' `.authn` property), so they see one session and one token.
 */
// The elements' module defines them and re-exports the SDK's createAuthn: one copy of the SDK in the bundle.
import { createAuthn } from '@authn.sh/elements';

const authn = createAuthn({ url: document.querySelector<HTMLMetaElement>('meta[name="authn-url"]')!.content });

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const setStatus = (text: string) => {
  byId('status').textContent = text;
};

type ElementName = 'authn-sign-up' | 'authn-sign-in' | 'authn-user-profile';

/**
 * Puts a fresh element in its screen. Created by the script rather than written in the HTML, so the element gets
 * the page's client before it connects (written in the HTML, it would start without one as the module defines it).
 */
function mount(screen: string, name: ElementName): void {
  const element = document.createElement(name);
  element.authn = authn;
  byId(screen).replaceChildren(element);
}

function render(): void {
  const signedIn = authn.session !== null;
  byId('sign-up').hidden = signedIn;
  byId('sign-in').hidden = signedIn;
  byId('user-profile').hidden = !signedIn;
}

// The backend: the session token goes to the app's own route, which checks it offline.
byId('call-api').addEventListener('click', async () => {
  const { data: token, error } = await authn.getToken();
  if (error) return setStatus(error.message);
  const response = await fetch('/api/me', { headers: token ? { authorization: `Bearer ${token}` } : {} });
  byId('api-result').textContent = `${response.status} ${await response.text()}`;
});

document.addEventListener('authn:mfa-changed', (event) => {
  if ((event as CustomEvent<{ enabled: boolean }>).detail.enabled) setStatus('Second factor added.');
});

authn.onAuthStateChange((event) => {
  if (event === 'TOKEN_REFRESHED') return;
  // A finished sign-up shows "Your account is ready" until it is replaced: after sign-out it starts over.
  if (event === 'SIGNED_OUT') mount('sign-up', 'authn-sign-up');
  render();
  byId('api-result').textContent = '';
  setStatus(event === 'SIGNED_IN' ? 'Signed in.' : 'Signed out.');
});

// The session a returning user already has is restored before the elements render, so they start in it.
const loaded = await authn.load();
mount('sign-up', 'authn-sign-up');
mount('sign-in', 'authn-sign-in');
mount('user-profile', 'authn-user-profile');
render();
if (loaded.error) setStatus(`authn.sh is out of reach: ${loaded.error.message}`);
else if (!authn.session) setStatus('Signed out.');
