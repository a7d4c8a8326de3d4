import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never reach a log line, an error message or a response. Every way of turning
 * it into text (String(), JSON.stringify, util.inspect, template literals) yields a redacted form;
 * `reveal()` is the one explicit way to read it, so each use is visible in review.
 */
export class Secret<T = string> {
  readonly #value: T;
  readonly #display: string;

  constructor(value: T, display: string = REDACTED) {
    this.#value = value;
    this.#display = display;
    Object.freeze(this);
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return this.#display;
  }

  toJSON(): string {
    return this.#display;
  }

  [inspect.custom](): string {
    return `Secret(${this.#display})`;
  }

  [Symbol.toPrimitive](): string {
    return this.#display;
  }
}

/** A connection URL shown with its password (and any query string) masked: host and database stay readable. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    if (url.search) url.search = '?***';
    return url.toString();
  } catch {
    return REDACTED;
  }
}
