/** The alertmux console: sign-in when a token is required, then the screens behind hash routes. */
import './style.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler, token } from './api.js';
import { useRoute, type Route } from './router.js';
import { ConfigScreen } from './screens/config.js';
import { Deliveries } from './screens/deliveries.js';
import { NotificationScreen } from './screens/notification.js';
import { Notifications } from './screens/notifications.js';
import { Overview } from './screens/overview.js';
import { Targets } from './screens/targets.js';
import { SessionContext, Toasts } from './ui.js';
import type { Session } from './types.js';

const NAV = [
  ['/overview', 'Overview'],
  ['/notifications', 'Notifications'],
  ['/deliveries', 'Dead letters & queue'],
  ['/targets', 'Targets'],
  ['/config', 'Config'],
] as const;

function SignIn({ message, onSignedIn }: { message?: string; onSignedIn(s: Session): void }) {
  const [error, setError] = useState(message);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const value = input.current?.value.trim() ?? '';
    if (!value) {
      setError('Enter the admin token.');
      return;
    }
    setBusy(true);
    try {
      const s = await api<Session>('/api/v1/ui/session', { token: value });
      if (s.authenticated) {
        token.set(value);
        onSignedIn(s);
      } else {
        setError('That token was refused: it is not the admin token (admin.bearer_token) of this alertmux.');
        input.current?.select();
      }
    } catch (err) {
      setError(`Cannot reach alertmux: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">alertmux console</h1>
        <p>This alertmux has an admin token (admin.bearer_token). Enter it to see deliveries and act on them.</p>
        <label>
          Admin token
          <input ref={input} type="password" name="token" autoComplete="current-password" aria-describedby={error ? 'signin-error' : undefined} />
        </label>
        {error ? (
          <p id="signin-error" class="note error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <p class="muted">The token is kept in this tab only (sessionStorage) and sent as an Authorization header.</p>
      </form>
    </main>
  );
}

function Screen({ route }: { route: Route }) {
  const m = /^\/notifications\/(.+)$/.exec(route.path);
  if (m) return <NotificationScreen id={decodeURIComponent(m[1] ?? '')} />;
  switch (route.path) {
    case '/notifications':
      return <Notifications route={route} />;
    case '/deliveries':
      return <Deliveries route={route} />;
    case '/targets':
      return <Targets route={route} />;
    case '/config':
      return <ConfigScreen />;
    default:
      return <Overview />;
  }
}

function Shell({ session, signOut }: { session: Session; signOut(): void }) {
  const route = useRoute();
  const first = useRef(true);
  // Keyboard and screen-reader users land on the new screen's heading, not at the top of the page.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-title')?.focus();
  }, [route.path]);
  const section = '/' + (route.path.split('/')[1] ?? 'overview');
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('page-title')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">alertmux</span>
        <nav aria-label="Console">
          {NAV.map(([path, label]) => (
            <a key={path} href={`#${path}`} aria-current={section === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.tokenRequired ? (
            <>
              Signed in{' '}
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : (
            <span title="Set admin.bearer_token to enable actions">Read-only</span>
          )}
        </span>
      </header>
      <main id="main">
        <Screen route={route} />
      </main>
      <Toasts />
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const check = () =>
    api<Session>('/api/v1/ui/session').then(
      (s) => {
        setError(undefined);
        setSession(s);
      },
      (err: Error) => setError(err.message),
    );
  useEffect(() => {
    setUnauthorizedHandler(() => {
      token.clear();
      setMessage('alertmux refused the token (it may have changed): sign in again.');
      void check();
    });
    void check();
  }, []);
  if (error) {
    return (
      <main class="signin">
        <p class="note error" role="alert">
          Cannot reach alertmux: {error}
        </p>
        <button type="button" onClick={() => void check()}>
          Try again
        </button>
      </main>
    );
  }
  if (!session) return <p class="muted">Loading…</p>;
  if (session.tokenRequired && !session.authenticated) {
    return (
      <SignIn
        message={message}
        onSignedIn={(s) => {
          setMessage(undefined);
          setSession(s);
        }}
      />
    );
  }
  const signOut = () => {
    token.clear();
    setMessage('Signed out.');
    setSession({ ...session, authenticated: false, actions: false });
  };
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} signOut={signOut} />
    </SessionContext.Provider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
