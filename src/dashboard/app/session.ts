/**
 * The signed-in secret key. Kept in sessionStorage: it survives a reload of the tab and ends with the tab, and
 * never reaches localStorage, a cookie or a URL.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.js';

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
