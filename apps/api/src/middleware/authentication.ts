import { hash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../problems.ts';

// Both sides are hashed before comparing: timingSafeEqual needs equal lengths, and comparing
// fixed-size digests leaks neither a secret's content nor its length through timing. The one-shot
// `hash` runs on every authenticated request, and builds no Hash object as createHash does.
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** Checks every accepted digest, without stopping at the first match, so timing says nothing about which one matched. */
function matchesAny(candidate: Buffer, accepted: readonly Buffer[]): boolean {
  let matched = false;
  for (const digest of accepted) {
    if (timingSafeEqual(candidate, digest)) matched = true;
  }
  return matched;
}

// RFC 6750 b64token; anything else in the header is malformed.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * `Authorization: Bearer <token>` where the token is one of `tokens` (several at once, so keys can
 * be rotated without downtime). With no tokens configured every request is refused.
 */
export function requireBearerToken(options: {
  tokens: readonly string[];
  realm: string;
}): RequestHandler {
  const accepted = options.tokens.map(digest);
  const challenge = `Bearer realm="${options.realm}"`;
  return (req, _res, next) => {
    const header = req.get('authorization');
    if (header === undefined) {
      throw new UnauthorizedError(
        'This endpoint requires an Authorization: Bearer <key> header.',
        challenge,
      );
    }
    const token = BEARER.exec(header)?.[1];
    if (token === undefined || !matchesAny(digest(token), accepted)) {
      throw new UnauthorizedError(
        'The Authorization header does not carry a valid bearer token.',
        `${challenge}, error="invalid_token"`,
      );
    }
    next();
  };
}

const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/** HTTP basic auth (RFC 7617) against one username and password; a browser shows its sign-in dialog. */
export function requireBasicAuth(options: {
  username: string;
  password: string;
  realm: string;
}): RequestHandler {
  const username = digest(options.username);
  const password = digest(options.password);
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;
  return (req, _res, next) => {
    const encoded = BASIC.exec(req.get('authorization') ?? '')?.[1];
    const decoded = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    // both comparisons always run: which half was wrong must not show in the timing
    const userMatches = timingSafeEqual(digest(decoded.slice(0, Math.max(separator, 0))), username);
    const passwordMatches = timingSafeEqual(digest(decoded.slice(separator + 1)), password);
    if (separator < 0 || !userMatches || !passwordMatches) {
      throw new UnauthorizedError('Sign in with the dashboard username and password.', challenge);
    }
    next();
  };
}
