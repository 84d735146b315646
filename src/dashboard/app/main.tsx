/** The dashboard: sign-in until a secret key is accepted, then the signed-in shell. */
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { LocationProvider } from 'preact-iso';
import { createApi } from './api.js';
import { SignInPage } from './pages/sign-in.js';
import { SessionContext, forgetKey, keyHint, storeKey, storedKey, type Session } from './session.js';
import { Shell } from './shell.js';
import './styles.css';

function App() {
  const [key, setKey] = useState(storedKey);
  const [notice, setNotice] = useState<string | null>(null);
  const [signedInHere, setSignedInHere] = useState(false);

  const session = useMemo<Session | null>(() => {
    if (!key) return null;
    const end = (message: string) => {
      forgetKey();
      setNotice(message);
      setKey(null);
    };
    return {
      // A key revoked while the dashboard is open: back to sign-in, saying why.
      api: createApi(key, (error) => end(`Your secret key no longer works (${error.code}). Sign in with another key.`)),
      keyHint: keyHint(key),
      signOut: () => end('You are signed out.'),
    };
  }, [key]);

  if (!session) {
    return (
      <SignInPage
        notice={notice}
        onSignedIn={(accepted) => {
          storeKey(accepted);
          setNotice(null);
          setSignedInHere(true);
          setKey(accepted);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <LocationProvider scope="/dashboard">
        <Shell focusOnArrival={signedInHere} />
      </LocationProvider>
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
