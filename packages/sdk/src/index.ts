/**
 * @authn.sh/js — the typed client of authn.sh's Frontend API (FAPI), for browsers and Node.
 *
 * Phone flows are named after Clerk's current API (`signIn.phoneCode.sendCode()` / `.verifyCode({ code })`,
 * `signIn.mfa.sendPhoneCode()`, `signUp.verifications.sendPhoneCode()`), because the server's resources are
 * Clerk's (sign-ups and sign-ins with prepare/attempt steps); results are Supabase's `{ data, error }`.
 */
import type { FapiOperations } from './fapi.generated.js';
import { AuthnError, decodeJwtPart, fail, ok, readResponse, sdkError, type Result } from './http.js';

export { AuthnError, type ErrorDetail, type Result, type SdkErrorCode } from './http.js';
export type { FapiOperations, ServerErrorCode } from './fapi.generated.js';

type Operation = keyof FapiOperations;
type ResponseOf<K extends Operation> = FapiOperations[K]['response'];
type BodyOf<K extends Operation> = FapiOperations[K] extends { body: infer B } ? B : undefined;

export type Environment = ResponseOf<'GET /v1/environment'>;
export type SignUp = ResponseOf<'GET /v1/client/sign_ups/{id}'>;
export type SignIn = ResponseOf<'GET /v1/client/sign_ins/{id}'>;
export type Session = ResponseOf<'POST /v1/client/sessions/{id}/end'>;
export type User = ResponseOf<'GET /v1/me'>;
export type PhoneNumber = ResponseOf<'POST /v1/me/mfa/phone_numbers'>;
export type Verification = NonNullable<SignIn['first_factor_verification']>;
/** Where a code's SMS stands (`verification.delivery`): carrier-neutral, to show the person waiting for it. */
export type Delivery = NonNullable<Verification['delivery']>;

/** Whether a delivery state may still change (`queued`, `sent`): worth reading the flow again (`reload()`) to follow it. */
export function deliveryPending(delivery: Delivery | null | undefined): boolean {
  return delivery?.next_step === 'wait';
}

/** How a code travels. Only SMS today; the union grows with the server's channels. */
export type Channel = 'sms';
const STRATEGY_OF_CHANNEL = { sms: 'phone_code' } as const satisfies Record<
  Channel,
  BodyOf<'POST /v1/client/sign_ins/{id}/prepare_first_factor'>['strategy']
>;

/**
 * Where a native app or server keeps its client token (`ct_…`). The default keeps it in memory; pass your own to
 * keep it across restarts (Keychain, a file…). Never used in browser mode, where the token is an HttpOnly cookie.
 */
export interface ClientTokenStore {
  get(): string | null | Promise<string | null>;
  set(token: string | null): void | Promise<void>;
}

export function memoryTokenStore(initial: string | null = null): ClientTokenStore {
  let token = initial;
  return {
    get: () => token,
    set: (next) => {
      token = next;
    },
  };
}

export interface AuthnOptions {
  /** The FAPI's base URL, e.g. `https://auth.example.com`. */
  url: string;
  /**
   * `browser` (the default where `document` exists): requests carry cookies (`credentials: 'include'`) and the
   * SDK never sees a client token. `native` (the default elsewhere): the SDK creates a client and sends its token.
   */
  mode?: 'browser' | 'native';
  /** Native mode only: where the client token lives (default: memory). */
  tokenStore?: ClientTokenStore;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** The clock, in ms since the epoch (default: `Date.now`); tests pass a fake one. */
  now?: () => number;
  /** `getToken()` fetches a new token when the cached one has less than this left (default 10 s of its 60 s). */
  refreshLeewaySeconds?: number;
}

export type AuthEvent = 'SIGNED_IN' | 'SIGNED_OUT' | 'TOKEN_REFRESHED';
export type AuthListener = (event: AuthEvent, session: Session | null) => void;

/** Seconds until a new code may be requested for this verification (0: now). */
export function resendIn(verification: Verification | null | undefined, now: number = Date.now()): number {
  const at = verification?.next_resend_at;
  return at == null ? 0 : Math.max(0, Math.ceil((at - now) / 1000));
}

interface CachedToken {
  sessionId: string;
  jwt: string;
  /** Local time after which the token is no longer used. */
  refreshAt: number;
}

type Auth = 'none' | 'client' | 'session';

interface RequestInit<K extends Operation> {
  params?: { id: string };
  body?: BodyOf<K>;
  auth: Auth;
}

/** The refusal a flow step gives when there is no flow to continue: a programmer error, so it throws. */
function noFlow(what: string, start: string): never {
  throw new Error(`authn: ${what} needs a flow in progress: call ${start} first`);
}

export class AuthnClient {
  readonly mode: 'browser' | 'native';
  /** The environment from the last `load()` / `getEnvironment()`. */
  environment: Environment | null = null;

  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly leewayMs: number;
  private readonly tokenStore: ClientTokenStore;
  private activeSession: Session | null = null;
  private token: CachedToken | null = null;
  /** The token request in flight, shared by every caller for that session. */
  private refreshing: { sessionId: string; promise: Promise<Result<string | null>> } | null = null;
  private creatingClient: Promise<Result<null>> | null = null;
  private readonly listeners = new Set<AuthListener>();
  private signInFlow: SignIn | null = null;
  private signUpFlow: SignUp | null = null;

  constructor(options: AuthnOptions) {
    if (!options.url) throw new TypeError('authn: url is required');
    this.base = options.url.replace(/\/+$/, '');
    this.mode = options.mode ?? ('document' in globalThis ? 'browser' : 'native');
    if (this.mode === 'browser' && options.tokenStore)
      throw new TypeError('authn: a tokenStore is for native mode; in a browser the client lives in an HttpOnly cookie');
    this.tokenStore = options.tokenStore ?? memoryTokenStore();
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.leewayMs = (options.refreshLeewaySeconds ?? 10) * 1000;
  }

  /** The signed-in session, or null. */
  get session(): Session | null {
    return this.activeSession;
  }

  /**
   * Loads the environment and the client's live sessions; the newest becomes the active session (a returning
   * user stays signed in). Call once at start.
   */
  async load(): Promise<Result<{ environment: Environment; sessions: Session[] }>> {
    const environment = await this.getEnvironment();
    if (environment.error) return environment;
    const sessions = this.mode === 'native' && (await this.tokenStore.get()) === null ? ok([]) : await this.sessions.list();
    if (sessions.error) return sessions;
    const newest = sessions.data[0];
    if (!this.activeSession && newest) this.activate(newest, null);
    return ok({ environment: environment.data, sessions: sessions.data });
  }

  /** `GET /v1/environment`: which SMS driver is set up, whether phone MFA is on (public, nothing secret). */
  async getEnvironment(): Promise<Result<Environment>> {
    const result = await this.request('GET /v1/environment', { auth: 'none' });
    if (result.data) this.environment = result.data;
    return result;
  }

  /** Subscribes to sign-in, sign-out and token refreshes; returns the unsubscribe function. */
  onAuthStateChange(listener: AuthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The session token (an ES256 JWT, 60 s) to send to your backend, or null when signed out. A cached token is
   * reused until `refreshLeewaySeconds` before it expires; then one request fetches a new one, however many
   * callers are waiting. A session that has ended (revoked elsewhere) signs the client out.
   */
  async getToken(): Promise<Result<string | null>> {
    for (;;) {
      const session = this.activeSession;
      if (!session) return ok(null);
      const cached = this.token;
      if (cached && cached.sessionId === session.id && this.now() < cached.refreshAt) return ok(cached.jwt);
      if (this.refreshing?.sessionId !== session.id) {
        const refresh = { sessionId: session.id, promise: this.refreshToken(session.id) };
        const done = () => {
          if (this.refreshing === refresh) this.refreshing = null;
        };
        refresh.promise.then(done, done);
        this.refreshing = refresh;
      }
      const result = await this.refreshing.promise;
      // The active session changed while the token was fetched: go round for the one active now.
      if (result.error || this.activeSession?.id === session.id) return result;
    }
  }

  /** Ends the active session (or the one named); the client is signed out of it at once. */
  async signOut(options: { sessionId?: string } = {}): Promise<Result<Session>> {
    const id = options.sessionId ?? this.activeSession?.id;
    if (!id) return fail(sdkError('signed_out', 'There is no session to sign out of.'));
    const result = await this.request('POST /v1/client/sessions/{id}/end', { params: { id }, auth: 'client' });
    if (result.data && this.activeSession?.id === id) this.deactivate();
    return result;
  }

  /** The client's sessions. */
  readonly sessions = {
    /** The live sessions of this client (browser or app), newest first. */
    list: async (): Promise<Result<Session[]>> => {
      const result = await this.request('GET /v1/client', { auth: 'client' });
      return result.error ? result : ok(result.data.sessions);
    },
    /** Makes one of the client's live sessions the active one (multi-session apps). */
    setActive: async (sessionId: string): Promise<Result<Session>> => {
      const listed = await this.sessions.list();
      if (listed.error) return listed;
      const session = listed.data.find((s) => s.id === sessionId);
      if (!session)
        return fail(
          new AuthnError(
            {
              code: 'resource_not_found',
              message: 'Resource not found',
              long_message: `No live session ${sessionId} on this client`,
              meta: { param_name: 'sessionId' },
            },
            { status: 404 },
          ),
        );
      this.activate(session, null);
      return ok(session);
    },
  };

  /** Sign-in with a phone number: by a code, by password, and the phone second factor. */
  readonly signIn = {
    /** The sign-in in progress (as the server last returned it), or null. */
    current: (): SignIn | null => this.signInFlow,
    /** Starts a sign-in (`identifier` is the phone number, E.164); with `password`, tries it at once. */
    create: (params: { identifier: string; password?: string }): Promise<Result<SignIn>> =>
      this.signInStep(this.request('POST /v1/client/sign_ins', { body: params, auth: 'client' })),
    /** Reads the sign-in in progress again (Clerk's `reload()`): its verifications' `delivery` follows the code's SMS. */
    reload: (): Promise<Result<SignIn>> => {
      const id = this.signInFlow?.id ?? noFlow('signIn.reload()', 'signIn.create()');
      return this.signInStep(this.request('GET /v1/client/sign_ins/{id}', { params: { id }, auth: 'client' }));
    },
    /**
     * Signs in with the password. The result's `status` is `complete` (signed in), or `needs_second_factor`:
     * then `signIn.mfa.sendPhoneCode()` and `signIn.mfa.verifyPhoneCode({ code })`.
     */
    password: (params: { identifier: string; password: string }): Promise<Result<SignIn>> => this.signIn.create(params),
    phoneCode: {
      /**
       * Sends a sign-in code. With `phoneNumber`, starts a new sign-in for it first (one call, like Supabase's
       * `signInWithOtp`); without, continues the current one.
       */
      sendCode: async (params: { phoneNumber?: string; channel?: Channel } = {}): Promise<Result<SignIn>> => {
        if (params.phoneNumber !== undefined) {
          const created = await this.signIn.create({ identifier: params.phoneNumber });
          if (created.error) return created;
        }
        const id = this.signInFlow?.id ?? noFlow('signIn.phoneCode.sendCode()', 'signIn.create() or pass phoneNumber');
        return this.signInStep(
          this.request('POST /v1/client/sign_ins/{id}/prepare_first_factor', {
            params: { id },
            body: { strategy: STRATEGY_OF_CHANNEL[params.channel ?? 'sms'] },
            auth: 'client',
          }),
        );
      },
      /** Checks the code; a right one completes the sign-in (or asks for the second factor). */
      verifyCode: async (params: { code: string }): Promise<Result<SignIn>> => {
        const id = this.signInFlow?.id ?? noFlow('signIn.phoneCode.verifyCode()', 'signIn.phoneCode.sendCode()');
        return this.signInStep(
          this.request('POST /v1/client/sign_ins/{id}/attempt_first_factor', {
            params: { id },
            body: { strategy: 'phone_code', code: params.code },
            auth: 'client',
          }),
        );
      },
      /** Seconds until a new code may be sent. */
      resendIn: (): number => resendIn(this.signInFlow?.first_factor_verification, this.now()),
      /** Where the code's SMS stands as last read (`signIn.reload()` reads it again); null when nothing is sent to follow. */
      delivery: (): Delivery | null => this.signInFlow?.first_factor_verification?.delivery ?? null,
    },
    mfa: {
      /** Sends a code to the phone second factor (the first one listed, or `phoneNumberId`). */
      sendPhoneCode: async (params: { phoneNumberId?: string; channel?: Channel } = {}): Promise<Result<SignIn>> => {
        const id = this.signInFlow?.id ?? noFlow('signIn.mfa.sendPhoneCode()', 'signIn.password()');
        const body = {
          strategy: STRATEGY_OF_CHANNEL[params.channel ?? 'sms'],
          ...(params.phoneNumberId !== undefined ? { phone_number_id: params.phoneNumberId } : {}),
        };
        return this.signInStep(
          this.request('POST /v1/client/sign_ins/{id}/prepare_second_factor', { params: { id }, body, auth: 'client' }),
        );
      },
      /** Checks the second-factor code; a right one completes the sign-in. */
      verifyPhoneCode: async (params: { code: string }): Promise<Result<SignIn>> => {
        const id = this.signInFlow?.id ?? noFlow('signIn.mfa.verifyPhoneCode()', 'signIn.mfa.sendPhoneCode()');
        return this.signInStep(
          this.request('POST /v1/client/sign_ins/{id}/attempt_second_factor', {
            params: { id },
            body: { strategy: 'phone_code', code: params.code },
            auth: 'client',
          }),
        );
      },
      /** Seconds until a new second-factor code may be sent. */
      resendIn: (): number => resendIn(this.signInFlow?.second_factor_verification, this.now()),
      /** Where the second-factor code's SMS stands as last read (`signIn.reload()` reads it again). */
      delivery: (): Delivery | null => this.signInFlow?.second_factor_verification?.delivery ?? null,
    },
  };

  /** Sign-up with a phone number (and an optional password), verified by a code. */
  readonly signUp = {
    /** The sign-up in progress (as the server last returned it), or null. */
    current: (): SignUp | null => this.signUpFlow,
    /** Starts a sign-up. */
    create: (params: { phoneNumber: string; password?: string }): Promise<Result<SignUp>> => {
      const body = { phone_number: params.phoneNumber, ...(params.password !== undefined ? { password: params.password } : {}) };
      return this.signUpStep(this.request('POST /v1/client/sign_ups', { body, auth: 'client' }));
    },
    /** Reads the sign-up in progress again (Clerk's `reload()`): its verification's `delivery` follows the code's SMS. */
    reload: (): Promise<Result<SignUp>> => {
      const id = this.signUpFlow?.id ?? noFlow('signUp.reload()', 'signUp.create()');
      return this.signUpStep(this.request('GET /v1/client/sign_ups/{id}', { params: { id }, auth: 'client' }));
    },
    verifications: {
      /** Sends the verification code to the sign-up's number. */
      sendPhoneCode: async (params: { channel?: Channel } = {}): Promise<Result<SignUp>> => {
        const id = this.signUpFlow?.id ?? noFlow('signUp.verifications.sendPhoneCode()', 'signUp.create()');
        return this.signUpStep(
          this.request('POST /v1/client/sign_ups/{id}/prepare_verification', {
            params: { id },
            body: { strategy: STRATEGY_OF_CHANNEL[params.channel ?? 'sms'] },
            auth: 'client',
          }),
        );
      },
      /** Checks the code; a right one creates the user and signs them in. */
      verifyPhoneCode: async (params: { code: string }): Promise<Result<SignUp>> => {
        const id = this.signUpFlow?.id ?? noFlow('signUp.verifications.verifyPhoneCode()', 'signUp.verifications.sendPhoneCode()');
        return this.signUpStep(
          this.request('POST /v1/client/sign_ups/{id}/attempt_verification', {
            params: { id },
            body: { strategy: 'phone_code', code: params.code },
            auth: 'client',
          }),
        );
      },
      /** Seconds until a new code may be sent. */
      resendIn: (): number => resendIn(this.signUpFlow?.verifications.phone_number, this.now()),
      /** Where the code's SMS stands as last read (`signUp.reload()` reads it again); null when nothing is sent to follow. */
      delivery: (): Delivery | null => this.signUpFlow?.verifications.phone_number?.delivery ?? null,
    },
  };

  /** The signed-in user and their phone second factor. */
  readonly user = {
    /** The signed-in user. */
    get: (): Promise<Result<User>> => this.request('GET /v1/me', { auth: 'session' }),
    phoneMfa: {
      /** Enrolled numbers and enrolments in progress. */
      list: async (): Promise<Result<PhoneNumber[]>> => {
        const result = await this.request('GET /v1/me/mfa/phone_numbers', { auth: 'session' });
        return result.error ? result : ok(result.data.data);
      },
      /** Starts enrolling a number; then `sendCode` and `verifyCode`. */
      add: (params: { phoneNumber: string }): Promise<Result<PhoneNumber>> =>
        this.request('POST /v1/me/mfa/phone_numbers', { body: { phone_number: params.phoneNumber }, auth: 'session' }),
      /** Sends a code to the number being enrolled. */
      sendCode: (params: { id: string; channel?: Channel }): Promise<Result<PhoneNumber>> =>
        this.request('POST /v1/me/mfa/phone_numbers/{id}/prepare_verification', {
          params: { id: params.id },
          body: { strategy: STRATEGY_OF_CHANNEL[params.channel ?? 'sms'] },
          auth: 'session',
        }),
      /** Checks the code; a right one enrols the number as second factor. */
      verifyCode: (params: { id: string; code: string }): Promise<Result<PhoneNumber>> =>
        this.request('POST /v1/me/mfa/phone_numbers/{id}/attempt_verification', {
          params: { id: params.id },
          body: { strategy: 'phone_code', code: params.code },
          auth: 'session',
        }),
      /** Removes a second factor (or an enrolment in progress). */
      remove: (params: { id: string }): Promise<Result<PhoneNumber>> =>
        this.request('DELETE /v1/me/mfa/phone_numbers/{id}', { params: { id: params.id }, auth: 'session' }),
      /** Seconds until a new code may be sent to this number. */
      resendIn: (phoneNumber: PhoneNumber): number => resendIn(phoneNumber.verification, this.now()),
      /** Reads an enrolment in progress again (`verification.delivery` follows its code's SMS); null once it is gone. */
      reload: async (params: { id: string }): Promise<Result<PhoneNumber | null>> => {
        const listed = await this.user.phoneMfa.list();
        return listed.error ? listed : ok(listed.data.find((phone) => phone.id === params.id) ?? null);
      },
    },
  };

  private async signInStep(step: Promise<Result<SignIn>>): Promise<Result<SignIn>> {
    const result = await step;
    if (result.data) {
      this.signInFlow = result.data;
      this.completeFlow(result.data);
    }
    return result;
  }

  private async signUpStep(step: Promise<Result<SignUp>>): Promise<Result<SignUp>> {
    const result = await step;
    if (result.data) {
      this.signUpFlow = result.data;
      this.completeFlow(result.data);
    }
    return result;
  }

  /** A completed flow carries its new session and first token: that session becomes the active one. */
  private completeFlow(flow: SignIn | SignUp): void {
    if (flow.status !== 'complete' || !flow.session) return;
    const { last_active_token, ...session } = flow.session;
    this.activate(session, last_active_token.jwt);
  }

  private activate(session: Session, jwt: string | null): void {
    this.activeSession = session;
    this.token = jwt === null ? null : this.cacheable(session.id, jwt);
    this.emit('SIGNED_IN', session);
  }

  private deactivate(): void {
    this.activeSession = null;
    this.token = null;
    this.emit('SIGNED_OUT', null);
  }

  private emit(event: AuthEvent, session: Session | null): void {
    for (const listener of this.listeners) listener(event, session);
  }

  /**
   * When to stop using a token: its lifetime (exp − iat) counted from now on this clock, less the leeway. Counting
   * from our clock rather than comparing `exp` with it keeps a device whose clock is off from refreshing too late.
   */
  private cacheable(sessionId: string, jwt: string): CachedToken {
    // Unverified: the client only reads the token's times (backends verify it with `./server`).
    const payload = decodeJwtPart(jwt.split('.')[1]);
    const lifetimeMs = typeof payload?.exp === 'number' && typeof payload.iat === 'number' ? (payload.exp - payload.iat) * 1000 : 0;
    return { sessionId, jwt, refreshAt: this.now() + lifetimeMs - this.leewayMs };
  }

  private async refreshToken(sessionId: string): Promise<Result<string | null>> {
    const result = await this.request('POST /v1/client/sessions/{id}/tokens', { params: { id: sessionId }, auth: 'client' });
    if (result.error) {
      // The session was ended or revoked elsewhere: this client is signed out of it.
      const gone = result.error.code === 'session_inactive' || result.error.code === 'resource_not_found';
      if (gone && this.activeSession?.id === sessionId) this.deactivate();
      return result;
    }
    // Another session became active meanwhile: this token is not kept (getToken() goes round for that one).
    if (this.activeSession?.id !== sessionId) return ok(result.data.jwt);
    this.token = this.cacheable(sessionId, result.data.jwt);
    this.emit('TOKEN_REFRESHED', this.activeSession);
    return ok(result.data.jwt);
  }

  /** A client is made on first need (native: its token kept in the store; browser: the FAPI sets its cookie). */
  private async createClient(): Promise<Result<null>> {
    this.creatingClient ??= (async () => {
      const created = await this.send('POST /v1/client', { auth: 'none' }, null);
      if (created.error) return created;
      // A browser gets its client as an HttpOnly cookie, and no token in the body; a native app keeps the token.
      if (this.mode === 'browser') return ok(null);
      if (!created.data.token) return fail(sdkError('invalid_response', 'POST /v1/client answered without a client token.', 201));
      await this.tokenStore.set(created.data.token);
      return ok(null);
    })().finally(() => {
      this.creatingClient = null;
    });
    return this.creatingClient;
  }

  private async request<K extends Operation>(operation: K, init: RequestInit<K>): Promise<Result<ResponseOf<K>>> {
    if (init.auth === 'session') {
      const token = await this.getToken();
      if (token.error) return token;
      if (token.data === null) return fail(sdkError('signed_out', 'Sign in first: this call needs a session.'));
      return this.send(operation, init, token.data);
    }
    if (init.auth === 'none') return this.send(operation, init, null);
    if (this.mode === 'native' && (await this.tokenStore.get()) === null) {
      const created = await this.createClient();
      if (created.error) return created;
    }
    const first = await this.send(operation, init, this.mode === 'native' ? await this.tokenStore.get() : null);
    // A client the server no longer knows (or, in a browser, no cookie yet): make one, and try once more.
    if (first.error?.code !== 'client_token_missing' && first.error?.code !== 'client_token_invalid') return first;
    if (this.mode === 'native') await this.tokenStore.set(null);
    const created = await this.createClient();
    if (created.error) return created;
    return this.send(operation, init, this.mode === 'native' ? await this.tokenStore.get() : null);
  }

  private async send<K extends Operation>(
    operation: K,
    init: Omit<RequestInit<K>, 'auth'> & { auth: Auth },
    bearer: string | null,
  ): Promise<Result<ResponseOf<K>>> {
    const space = operation.indexOf(' ');
    const method = operation.slice(0, space);
    const path = operation.slice(space + 1).replace('{id}', () => encodeURIComponent(init.params?.id ?? ''));
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let response: Response;
    try {
      response = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        ...(this.mode === 'browser' ? { credentials: 'include' as const } : {}),
      });
    } catch (error) {
      return fail(sdkError('network_error', `${method} ${path} got no answer: ${error instanceof Error ? error.message : String(error)}`));
    }
    return readResponse<ResponseOf<K>>(response, this.now());
  }
}

/** Creates a client of the FAPI at `options.url`. */
export function createAuthn(options: AuthnOptions): AuthnClient {
  return new AuthnClient(options);
}
