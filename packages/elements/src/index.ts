/**
 * @authn.sh/elements — drop-in sign-in, sign-up and profile for authn.sh as custom elements: no framework, Shadow
 * DOM themed by CSS custom properties and `::part()`. Importing the module defines the elements.
 */
import { AuthnSignInElement } from './sign-in.js';
import { AuthnSignUpElement } from './sign-up.js';
import { AuthnUserProfileElement } from './user-profile.js';

export { AuthnSignInElement, AuthnSignUpElement, AuthnUserProfileElement };
export { createAuthn, type AuthnClient } from '../../sdk/src/index.js';

const ELEMENTS = {
  'authn-sign-in': AuthnSignInElement,
  'authn-sign-up': AuthnSignUpElement,
  'authn-user-profile': AuthnUserProfileElement,
} as const;
for (const [name, element] of Object.entries(ELEMENTS)) if (!customElements.get(name)) customElements.define(name, element);

declare global {
  interface HTMLElementTagNameMap {
    'authn-sign-in': AuthnSignInElement;
    'authn-sign-up': AuthnSignUpElement;
    'authn-user-profile': AuthnUserProfileElement;
  }
}
