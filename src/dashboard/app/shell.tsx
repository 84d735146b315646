/**
 * The signed-in frame: skip link, top bar (key hint and id, sign out), navigation (behind a menu on a phone, closed
 * by Escape), and the page. After a page change (and after signing in) the page heading takes the focus, so keyboard
 * and screen-reader users start at the new content; the same after a change of view within a page, unless the page
 * placed the focus itself.
 */
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Route, Router, useLocation } from 'preact-iso';
import { AUDIT_LOG_PATH } from './pages/audit-log.js';
import { HOME_PATH, PAGES, navTree, type NavGroup } from './routes.js';
import { useCurrentKey, useSession } from './session.js';

function currentPage(path: string) {
  const normalised = path.replace(/\/+$/, '');
  return PAGES.find((page) => page.path === normalised);
}

function NavList({ groups, path, level }: { groups: NavGroup[]; path: string; level: number }) {
  return (
    <>
      {groups.map((group) => {
        const Heading = level === 0 ? 'h2' : 'h3';
        return (
          <Fragment key={group.name}>
            <Heading class={`nav-group nav-level-${level}`}>{group.name}</Heading>
            <NavList groups={group.groups} path={path} level={level + 1} />
            {group.pages.length > 0 && (
              <ul class={`nav-links nav-level-${level}`}>
                {group.pages.map((page) => (
                  <li key={page.path}>
                    <a href={page.path} aria-current={currentPage(path) === page ? 'page' : undefined}>
                      {page.title}
                    </a>
                  </li>
                ))}
              </ul>
            )}
          </Fragment>
        );
      })}
    </>
  );
}

function GoHome() {
  const { route } = useLocation();
  useEffect(() => route(HOME_PATH, true), []);
  return null;
}

function NotFound() {
  return (
    <div class="state state-empty">
      <p>There is no dashboard page at this address.</p>
      <p>
        <a href={HOME_PATH}>Go to the SMS settings</a>
      </p>
    </div>
  );
}

/** `focusOnArrival`: take the focus at once (just signed in); on a fresh page load the browser's focus is left alone. */
export function Shell({ focusOnArrival }: { focusOnArrival: boolean }) {
  const { keyHint, signOut } = useSession();
  const currentKey = useCurrentKey();
  const { path, url } = useLocation();
  const page = currentPage(path);
  const heading = useRef<HTMLHeadingElement>(null);
  const sidebar = useRef<HTMLElement>(null);
  const menuButton = useRef<HTMLButtonElement>(null);
  const firstUrl = useRef(true);
  const [menuOpen, setMenuOpen] = useState(false);
  const arrived = useRef(focusOnArrival);
  const isHome = /^\/dashboard\/?$/.test(path);

  useEffect(() => {
    if (isHome) return;
    document.title = `${page?.title ?? 'Page not found'} · authn.sh dashboard`;
    if (arrived.current) heading.current?.focus();
    arrived.current = true;
  }, [path]);

  useEffect(() => {
    setMenuOpen(false);
    if (firstUrl.current) {
      firstUrl.current = false;
      return;
    }
    // Another view of the same page (only the query changed): when the focus went with the link that was followed,
    // or stayed in the navigation, start reading at the page again. A page may have put it somewhere better already.
    const active = document.activeElement;
    if (!active || active === document.body || sidebar.current?.contains(active)) heading.current?.focus();
  }, [url]);

  // Escape closes the open menu, as it would a disclosure, and hands the focus back to its button.
  useEffect(() => {
    if (!menuOpen) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [menuOpen]);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={HOME_PATH}>
          authn.sh <span>dashboard</span>
        </a>
        <button
          type="button"
          ref={menuButton}
          class="menu-button button button-secondary"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <div class="account">
          <span class="key-hint">
            <span class="visually-hidden">Signed in with </span>
            <code>{keyHint}</code>
            {/* The id audit entries name as their actor: it leads to what this key did. */}
            {currentKey && (
              <>
                {' '}
                <a href={`${AUDIT_LOG_PATH}?actor_id=${encodeURIComponent(currentKey.id)}`}>
                  key <code>{currentKey.id}</code>
                </a>
              </>
            )}
          </span>
          <button type="button" class="button button-secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <div class="layout">
        <nav id="sidebar" ref={sidebar} class={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Dashboard">
          <NavList groups={navTree()} path={path} level={0} />
        </nav>
        <main id="main" tabindex={-1}>
          {page && <p class="trail">{page.trail.join(' › ')}</p>}
          <h1 tabindex={-1} ref={heading}>
            {page?.title ?? (isHome ? 'authn.sh dashboard' : 'Page not found')}
          </h1>
          <Router>
            {[
              ...PAGES.map((entry) => <Route key={entry.path} path={entry.path} component={entry.component} />),
              <Route key="home" path="/dashboard" component={GoHome} />,
              <Route key="not-found" default component={NotFound} />,
            ]}
          </Router>
        </main>
      </div>
    </>
  );
}
