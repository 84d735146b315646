/**
 * The signed-in secret key. Kept in sessionStorage: it survives a reload of the tab and ends with the tab, and
 * never reaches localStorage, a cookie or a URL.
 */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Api } from './api.js';
import type { SecretKeyInfo } from './api-types.js';

const STORAGE_KEY = 'authn.dashboard.secret_key';

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** `sk_test_…abcd`: enough to tell keys apart on screen. */
export function keyHint(key: string): string {
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

export interface Session {
  api: Api;
  keyHint: string;
  signOut(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in dashboard');
  return session;
}

/** One request per signed-in key, shared by the pages that name it. */
const currentKeys = new WeakMap<Api, Promise<SecretKeyInfo>>();

/** The signed-in key as the API names it (`id`: the `sk_01…` its audit entries carry); null until it is known. */
export function useCurrentKey(): SecretKeyInfo | null {
  const { api } = useSession();
  const [key, setKey] = useState<SecretKeyInfo | null>(null);
  useEffect(() => {
    let current = true;
    let request = currentKeys.get(api);
    if (!request) {
      request = api.get<SecretKeyInfo>('/v1/secret_keys/current');
      currentKeys.set(api, request);
    }
    request.then(
      (info) => current && setKey(info),
      // Only a name on screen: without it the pages still work; the next page asks again.
      () => currentKeys.delete(api),
    );
    return () => {
      current = false;
    };
  }, [api]);
  return key;
}
