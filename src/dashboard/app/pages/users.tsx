/**
 * Manage → Users over `GET /v1/users`: users newest first, found by phone number (kept in the address), those locked
 * out of password sign-in marked; and one user (`?user=<id>`) with their numbers, where an operator lifts a password
 * lockout (offered only while there is one) or deletes the user.
 */
import { useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { asApiError, type ApiError } from '../api.js';
import type { ApiErrorDetail, Page, User } from '../api-types.js';
import { ConfirmDialog } from '../components/dialog.js';
import { TextField, fieldErrorsOf } from '../components/fields.js';
import { speakErrors } from '../form-errors.js';
import { DataTable, type Column } from '../components/data-table.js';
import { LoadMore } from '../components/load-more.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { Time } from '../components/time.js';
import { useDraft, useLoaded, usePagedList } from '../hooks.js';
import { useSession } from '../session.js';

export const USERS_PATH = '/dashboard/manage/users';
const PAGE_SIZE = 25;

const userUrl = (id: string) => `${USERS_PATH}?user=${encodeURIComponent(id)}`;
const usersUrl = (phoneNumber: string) =>
  phoneNumber.trim() ? `${USERS_PATH}?phone_number=${encodeURIComponent(phoneNumber.trim())}` : USERS_PATH;

/** What a phone search accepts (the API's rule: a national number is read in the countries codes may go to). */
export const PHONE_SEARCH_HINT =
  'With its country code (+44 7911 123456), or without it for a number of a country codes may go to (see Abuse defences).';

const primaryNumber = (user: User) => user.phone_numbers.find((p) => p.id === user.primary_phone_number_id)?.phone_number ?? '—';

export function UsersPage() {
  const { query } = useLocation();
  if (query.user !== undefined) return <UserView key={query.user} id={query.user} />;
  return <UserList notice={query.deleted !== undefined ? `User ${query.deleted} was deleted.` : null} />;
}

function UserList({ notice }: { notice: string | null }) {
  const { api } = useSession();
  const location = useLocation();
  const applied = location.query.phone_number ?? '';
  const appliedKey = usersUrl(applied);
  const [phoneNumber, setPhoneNumber] = useDraft(applied, appliedKey);
  const list = usePagedList<User>(
    (cursor, limit) => api.get<Page<User>>('/v1/users', { phone_number: applied || undefined, limit, starting_after: cursor }),
    appliedKey,
    {
      pageSize: PAGE_SIZE,
    },
  );
  // A refused search (not a phone number) is shown beside its field.
  const searchErrors: ApiErrorDetail[] = list.error?.errors.every((e) => e.meta?.param_name === 'phone_number') ? list.error.errors : [];

  return (
    <div class="users">
      <p class="lede">Everyone who signed up, newest first. Open a user to see their numbers, lift a password lockout or delete them.</p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form
        class="filters"
        role="search"
        aria-label="Find users"
        onSubmit={(event) => {
          event.preventDefault();
          if (usersUrl(phoneNumber) === appliedKey) list.reload();
          else location.route(usersUrl(phoneNumber));
        }}
      >
        <TextField
          param="phone_number"
          label="Phone number"
          hint={`The user a verified number belongs to. ${PHONE_SEARCH_HINT}`}
          type="tel"
          code
          value={phoneNumber}
          onInput={setPhoneNumber}
          errors={fieldErrorsOf(speakErrors(searchErrors, [{ param: 'phone_number', label: 'Phone number' }]))}
        />
        <div class="filter-actions">
          <button type="submit" class="button button-primary">
            Find
          </button>
          <button type="button" class="button button-secondary" onClick={() => location.route(USERS_PATH)}>
            Show all
          </button>
        </div>
      </form>

      {searchErrors.length > 0 ? (
        <p class="state">Fix the phone number above to find users.</p>
      ) : list.error && !list.items ? (
        <ErrorPanel title="The users could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.items ? (
        <Loading what="users" />
      ) : list.items.length === 0 ? (
        <EmptyState title="No users">
          <p>{applied ? 'No user has this verified number.' : 'Nobody has signed up yet.'}</p>
        </EmptyState>
      ) : (
        <>
          <DataTable
            class="users-table"
            caption="Users, newest first"
            columns={USER_COLUMNS}
            rows={list.items}
            rowKey={(user) => user.id}
            keyAttribute="data-user"
          />
          <LoadMore list={list} label="Load older users" end="End of the users." />
        </>
      )}
    </div>
  );
}

const USER_COLUMNS: readonly Column<User>[] = [
  {
    header: 'Phone number',
    cell: (user) => (
      <a href={userUrl(user.id)} class="code">
        {primaryNumber(user)}
      </a>
    ),
  },
  { header: 'Signed up', cell: (user) => <Time ms={user.created_at} /> },
  { header: 'Last sign-in', cell: (user) => (user.last_sign_in_at === null ? 'Never' : <Time ms={user.last_sign_in_at} />) },
  {
    header: 'Sign-in',
    cell: (user) => (
      <>
        {signInSummary(user)}
        {user.password_locked_until !== null && (
          <>
            {' '}
            <span class="badge badge-unset">Password locked</span>
          </>
        )}
      </>
    ),
  },
];

function signInSummary(user: User): string {
  return [user.password_enabled ? 'Phone code or password' : 'Phone code', user.two_factor_enabled ? 'phone second factor' : null]
    .filter(Boolean)
    .join(', then ');
}

function UserView({ id }: { id: string }) {
  const { api } = useSession();
  const location = useLocation();
  const path = `/v1/users/${encodeURIComponent(id)}`;
  const loaded = useLoaded(() => api.get<User>(path), id);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const [deleting, setDeleting] = useState<{ busy: boolean; error: ApiError | null } | null>(null);

  if (loaded.error) {
    return loaded.error.code === 'resource_not_found' ? (
      <EmptyState title="No such user">
        <p>
          There is no user <code>{id}</code>: they may have been deleted. <a href={USERS_PATH}>See all users</a>
        </p>
      </EmptyState>
    ) : (
      <ErrorPanel title="The user could not be loaded" error={loaded.error} onRetry={loaded.reload} />
    );
  }
  const user = loaded.value;
  if (!user) return <Loading what="the user" />;

  const unlock = async () => {
    setBusy(true);
    setNotice(null);
    setActionError(null);
    try {
      loaded.setValue(await api.post<User>(`${path}/unlock`));
      setNotice('Password sign-in is unlocked: earlier wrong passwords no longer count.');
      // The button is gone with the lockout: the focus goes to what happened.
      noticeRef.current?.focus();
    } catch (error) {
      setActionError(asApiError(error));
    } finally {
      setBusy(false);
    }
  };
  const confirmDelete = async () => {
    setDeleting({ busy: true, error: null });
    try {
      await api.delete(path);
      location.route(`${USERS_PATH}?deleted=${encodeURIComponent(id)}`);
    } catch (error) {
      setDeleting({ busy: false, error: asApiError(error) });
    }
  };

  return (
    <div class="user-view">
      <p>
        <a href={USERS_PATH}>← All users</a>
      </p>
      <h2 class="code">{primaryNumber(user)}</h2>
      <dl class="facts">
        <dt>User id</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
        <dt>Signed up</dt>
        <dd>
          <Time ms={user.created_at} />
        </dd>
        <dt>Last sign-in</dt>
        <dd>{user.last_sign_in_at === null ? 'Never' : <Time ms={user.last_sign_in_at} />}</dd>
        <dt>Signs in with</dt>
        <dd>{signInSummary(user)}</dd>
        {user.password_enabled && (
          <>
            <dt>Password sign-in</dt>
            <dd>
              {user.password_locked_until === null ? (
                'Open'
              ) : (
                <>
                  <span class="badge badge-unset">Locked</span> after too many wrong passwords, until{' '}
                  <Time ms={user.password_locked_until} /> (a phone code still works)
                </>
              )}
            </dd>
          </>
        )}
      </dl>
      <h3>Phone numbers</h3>
      <ul class="plain phone-numbers">
        {user.phone_numbers.map((phone) => (
          <li key={phone.id}>
            <code>{phone.phone_number}</code>{' '}
            {phone.id === user.primary_phone_number_id && <span class="badge badge-set">Sign-in number</span>}{' '}
            {phone.reserved_for_second_factor && <span class="badge badge-set">Second factor</span>}{' '}
            {phone.verification?.status !== 'verified' && <span class="badge badge-unset">Not verified</span>}
          </li>
        ))}
      </ul>
      <p class="save-state" role="status" aria-live="polite" tabindex={-1} ref={noticeRef}>
        {notice}
      </p>
      {actionError && (
        <p class="field-error">
          {actionError.errors[0]?.long_message} <code>{actionError.errors[0]?.code}</code>
        </p>
      )}
      <div class="form-actions" role="group" aria-label="User actions">
        {user.password_locked_until !== null && (
          <button type="button" class="button button-secondary" onClick={() => busy || unlock()} aria-disabled={busy}>
            Unlock password sign-in
          </button>
        )}
        <button type="button" class="button button-danger" onClick={() => setDeleting({ busy: false, error: null })}>
          Delete user
        </button>
      </div>
      {deleting && (
        <ConfirmDialog
          title={`Delete ${primaryNumber(user)}?`}
          confirmLabel="Delete user"
          busy={deleting.busy}
          error={deleting.error}
          onConfirm={confirmDelete}
          onCancel={() => setDeleting(null)}
        >
          <p>
            The user, their phone numbers and their sessions are deleted: signed-in devices cannot renew their tokens. This cannot be
            undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
