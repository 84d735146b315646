/**
 * @authn.sh/js/server — checks authn.sh session tokens in your backend, offline: the ES256 signature against the
 * instance's JWKS (fetched once, cached, fetched again for a key it has not seen), the issuer, the expiry and the
 * not-before time, with one error code per failure. WebCrypto only (Node 20+, Deno, Bun, edge runtimes): no
 * dependency, and the same code runs wherever a route handler does.
 */
import { base64urlBytes, decodeJwtPart, fail, ok, type Result } from './http.js';

export type { Result } from './http.js';

export type TokenErrorCode =
  /** No `Authorization: Bearer …` header (or an empty token). */
  | 'token_missing'
  /** Not three base64url parts of JSON. */
  | 'token_malformed'
  /** `alg` is not ES256 (this refuses `none`, HS256 and every other). */
  | 'token_algorithm_invalid'
  /** No key of the JWKS has the token's `kid`, even after fetching the JWKS again. */
  | 'token_key_unknown'
  /** The signature does not match: the token was altered or signed by someone else. */
  | 'token_signature_invalid'
  /** `iss` is not the instance's URL. */
  | 'token_issuer_invalid'
  /** Past `exp` (plus the tolerance). */
  | 'token_expired'
  /** Before `nbf` (less the tolerance). */
  | 'token_not_yet_valid'
  /** A claim the session token always has (`sub`, `sid`, `exp`, `nbf`) is missing or of the wrong type. */
  | 'token_claims_invalid'
  /** The JWKS could not be fetched: the token could not be checked (a 503, not the caller's fault). */
  | 'jwks_unavailable';

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** 401 for a bad token; 503 when the keys could not be fetched. */
  get status(): number {
    return this.code === 'jwks_unavailable' ? 503 : 401;
  }
}

/** The claims of a verified session token. */
export interface SessionClaims {
  /** The user id. */
  sub: string;
  /** The session id. */
  sid: string;
  iss: string;
  iat?: number;
  nbf: number;
  exp: number;
  [claim: string]: unknown;
}

export interface VerifyOptions {
  /** The instance's public URL (`AUTHN_PUBLIC_URL`): the tokens' `iss`. */
  issuer: string;
  /** Default: `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Seconds of slack on `exp` and `nbf` for clocks that differ (default 5). */
  clockToleranceSeconds?: number;
  /** How long the JWKS is kept before it is fetched again (default 300 s, as the server's Cache-Control says). */
  jwksMaxAgeSeconds?: number;
  /** A `kid` the cached JWKS lacks makes it fetched again, at most this often (default 30 s). */
  jwksRefetchCooldownSeconds?: number;
  /** The clock, ms since the epoch (default `Date.now`). */
  now?: () => number;
  fetch?: typeof fetch;
}

type VerifyKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const ALGORITHM = 'ES256';
const textEncoder = new TextEncoder();

/** The JWKS of one instance, cached. */
class KeySet {
  private keys = new Map<string, VerifyKey>();
  /** The last successful fetch (for the max age), and the last attempt (for the cooldown). */
  private fetchedAt = -Infinity;
  private attemptedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly maxAgeMs: number,
    private readonly cooldownMs: number,
    private readonly now: () => number,
    private readonly fetch: typeof globalThis.fetch,
  ) {}

  async key(kid: string): Promise<Result<VerifyKey, TokenError>> {
    const now = this.now();
    const wanted = !this.keys.has(kid) || now - this.fetchedAt >= this.maxAgeMs;
    // Never fetched: always try. Otherwise at most once per cooldown, so tokens with made-up kids cannot flood the JWKS.
    const allowed = this.fetchedAt === -Infinity || now - this.attemptedAt >= this.cooldownMs;
    let failure: string | null = null;
    if (wanted && allowed) {
      this.attemptedAt = now;
      try {
        await this.refresh();
      } catch (error) {
        // Keys fetched earlier stay in use while the JWKS is out of reach.
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    const key = this.keys.get(kid);
    if (key) return ok(key);
    if (failure !== null || this.fetchedAt === -Infinity)
      return fail(new TokenError('jwks_unavailable', `The JWKS at ${this.url} could not be fetched${failure ? `: ${failure}` : ''}.`));
    return fail(new TokenError('token_key_unknown', `No key with kid "${kid}" in the JWKS at ${this.url}.`));
  }

  /** One fetch at a time, however many tokens are waiting. */
  private refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const response = await this.fetch(this.url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { keys } = (await response.json()) as {
      keys?: { kty?: string; crv?: string; x?: string; y?: string; kid?: string; alg?: string }[];
    };
    const next = new Map<string, VerifyKey>();
    for (const jwk of keys ?? []) {
      if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.kid || (jwk.alg !== undefined && jwk.alg !== ALGORITHM)) continue;
      next.set(
        jwk.kid,
        await crypto.subtle.importKey(
          'jwk',
          { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
          { name: 'ECDSA', namedCurve: 'P-256' },
          false,
          ['verify'],
        ),
      );
    }
    this.keys = next;
    this.fetchedAt = this.now();
  }
}

export interface TokenVerifier {
  /** Verifies a session token: its claims, or the reason it is refused. */
  verify(token: string | null | undefined): Promise<Result<SessionClaims, TokenError>>;
  /** Reads `Authorization: Bearer …` from a header bag (Node, Fastify, Express) or a `Headers` (fetch, Next). */
  verifyRequest(headers: HeaderBag | Headers): Promise<Result<SessionClaims, TokenError>>;
}

/** Node's `IncomingMessage.headers` shape. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(headers: HeaderBag | Headers): string | null {
  const header =
    typeof (headers as Headers).get === 'function' ? (headers as Headers).get('authorization') : (headers as HeaderBag).authorization;
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match ? match[1]! : null;
}

/** A verifier for one instance; keep one per process so the JWKS is fetched once, not per request. */
export function createTokenVerifier(options: VerifyOptions): TokenVerifier {
  if (!options.issuer) throw new TypeError('authn: issuer is required (the instance URL, AUTHN_PUBLIC_URL)');
  const issuer = options.issuer.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const toleranceSeconds = options.clockToleranceSeconds ?? 5;
  const keySet = new KeySet(
    options.jwksUrl ?? `${issuer}/.well-known/jwks.json`,
    (options.jwksMaxAgeSeconds ?? 300) * 1000,
    (options.jwksRefetchCooldownSeconds ?? 30) * 1000,
    now,
    options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
  );

  async function verify(token: string | null | undefined): Promise<Result<SessionClaims, TokenError>> {
    if (!token) return fail(new TokenError('token_missing', 'Send the session token as "Authorization: Bearer <jwt>".'));
    const parts = token.split('.');
    const header = parts.length === 3 ? decodeJwtPart(parts[0]) : null;
    const payload = header ? decodeJwtPart(parts[1]) : null;
    if (!header || !payload) return fail(new TokenError('token_malformed', 'The token is not a JWT.'));
    if (header.alg !== ALGORITHM)
      return fail(
        new TokenError(
          'token_algorithm_invalid',
          `The token's algorithm is ${JSON.stringify(header.alg)}; session tokens are ${ALGORITHM}.`,
        ),
      );
    if (typeof header.kid !== 'string') return fail(new TokenError('token_key_unknown', 'The token names no key (kid).'));
    const key = await keySet.key(header.kid);
    if (key.error) return key;
    let signature: Uint8Array<ArrayBuffer>;
    try {
      signature = base64urlBytes(parts[2]!);
    } catch {
      return fail(new TokenError('token_malformed', 'The token signature is not base64url.'));
    }
    const signed = await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      key.data,
      signature,
      textEncoder.encode(`${parts[0]}.${parts[1]}`),
    );
    if (!signed)
      return fail(
        new TokenError('token_signature_invalid', 'The token signature does not verify: it was altered or not signed by this instance.'),
      );
    if (payload.iss !== issuer)
      return fail(new TokenError('token_issuer_invalid', `The token was issued by ${JSON.stringify(payload.iss)}, not ${issuer}.`));
    const { sub, sid, exp, nbf } = payload;
    if (typeof sub !== 'string' || typeof sid !== 'string' || typeof exp !== 'number' || typeof nbf !== 'number')
      return fail(new TokenError('token_claims_invalid', 'The token lacks sub, sid, exp or nbf.'));
    const seconds = now() / 1000;
    if (seconds > exp + toleranceSeconds)
      return fail(new TokenError('token_expired', 'The token has expired: the client gets a new one with getToken().'));
    if (seconds < nbf - toleranceSeconds)
      return fail(new TokenError('token_not_yet_valid', "The token is not valid yet (nbf): check this server's clock."));
    return ok(payload as SessionClaims);
  }

  return { verify, verifyRequest: (headers) => verify(bearerToken(headers)) };
}

/** The error envelope authn.sh itself answers with, for a refused token. */
export function errorBody(error: TokenError): { errors: { code: TokenErrorCode; message: string; long_message: string }[] } {
  return {
    errors: [
      {
        code: error.code,
        message: error.status === 401 ? 'Session token invalid' : 'Session token could not be checked',
        long_message: error.message,
      },
    ],
  };
}

const challenge = (error: TokenError) => `Bearer error="invalid_token", error_description="${error.code}"`;

/** Node's request and response, as Express, Connect and `node:http` have them. */
export interface NodeRequest {
  headers: HeaderBag;
  auth?: SessionClaims;
}
export interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/**
 * Express / Connect / `node:http` middleware: sets `req.auth` to the token's claims and calls `next()`, or answers
 * 401 (503 when the JWKS is out of reach) with the error envelope.
 */
export function requireSession(
  verifier: TokenVerifier,
): (req: NodeRequest, res: NodeResponse, next: (error?: unknown) => void) => Promise<void> {
  return async (req, res, next) => {
    let result: Result<SessionClaims, TokenError>;
    try {
      result = await verifier.verifyRequest(req.headers);
    } catch (error) {
      // Express 4 does not watch a middleware's promise: hand anything unexpected to its error handler.
      next(error);
      return;
    }
    if (result.error) {
      res.statusCode = result.error.status;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      if (result.error.status === 401) res.setHeader('www-authenticate', challenge(result.error));
      res.end(JSON.stringify(errorBody(result.error)));
      return;
    }
    req.auth = result.data;
    next();
  };
}

/** Fastify's request and reply, as far as the hook needs them. */
export interface FastifyLikeRequest {
  headers: HeaderBag;
  auth?: SessionClaims;
}
export interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(body: unknown): unknown;
}

/** A Fastify `onRequest` / `preHandler` hook: sets `request.auth`, or answers 401 with the error envelope. */
export function fastifyRequireSession(verifier: TokenVerifier): (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<void> {
  return async (request, reply) => {
    const result = await verifier.verifyRequest(request.headers);
    if (result.error) {
      if (result.error.status === 401) reply.header('www-authenticate', challenge(result.error));
      await reply.code(result.error.status).send(errorBody(result.error));
      return;
    }
    request.auth = result.data;
  };
}

/**
 * A fetch-style handler (Next.js route handlers, Hono, Deno, Bun, workers) that only runs with a valid token:
 * `export const GET = withSession(verifier, (request, auth) => Response.json({ user: auth.sub }))`.
 */
export function withSession(
  verifier: TokenVerifier,
  handler: (request: Request, auth: SessionClaims) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const result = await verifier.verifyRequest(request.headers);
    if (result.error) {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (result.error.status === 401) headers['www-authenticate'] = challenge(result.error);
      return new Response(JSON.stringify(errorBody(result.error)), { status: result.error.status, headers });
    }
    return handler(request, result.data);
  };
}

const defaultVerifiers = new Map<string, TokenVerifier>();

/**
 * Verifies one token with a verifier shared per issuer and JWKS URL (so its JWKS cache is reused across calls).
 * Pass `now` / `fetch` through `createTokenVerifier` instead when you need them.
 */
export function verifyToken(
  token: string | null | undefined,
  options: Pick<VerifyOptions, 'issuer' | 'jwksUrl'>,
): Promise<Result<SessionClaims, TokenError>> {
  const cacheKey = `${options.issuer} ${options.jwksUrl ?? ''}`;
  let verifier = defaultVerifiers.get(cacheKey);
  if (!verifier) {
    verifier = createTokenVerifier(options);
    defaultVerifiers.set(cacheKey, verifier);
  }
  return verifier.verify(token);
}
