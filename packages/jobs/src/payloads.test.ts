import { describe, expect, it } from 'vitest';
import { InvalidPayloadError, UnknownJobTypeError } from './errors.ts';
import { parseJobPayload, resolveEnqueueableType, resolveJobType } from './payloads.ts';
import { jobTypes } from './registry.ts';

// From the definitions, so that adding a job type leaves these tests as they are.
const definitions = Object.values(jobTypes);
const enqueueable = definitions.filter((d) => d.enqueueable).map((d) => d.type);
const scheduledOnly = definitions.filter((d) => !d.enqueueable).map((d) => d.type);

describe('resolveEnqueueableType', () => {
  it.each(enqueueable)('accepts %s, a type clients may enqueue', (type) => {
    expect(resolveEnqueueableType(type)).toBe(type);
  });

  it('offers the built-in types according to their definitions', () => {
    expect(enqueueable).toEqual(expect.arrayContaining(['system.echo', 'webhook.deliver']));
    expect(scheduledOnly).toEqual(
      expect.arrayContaining(['maintenance.reconcile', 'maintenance.prune']),
    );
  });

  it.each(['nope', ...scheduledOnly, '__proto__', 'toString', ''])(
    'rejects %j and lists the types clients may enqueue',
    (type) => {
      const error = (() => {
        try {
          resolveEnqueueableType(type);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UnknownJobTypeError);
      expect((error as UnknownJobTypeError).knownTypes).toEqual(enqueueable);
      expect((error as Error).message).toContain(`Known types: ${enqueueable.join(', ')}`);
    },
  );

  it.each(definitions.map((d) => d.type))('lets the worker resolve %s', (type) => {
    expect(resolveJobType(type)).toBe(type);
  });

  it('lists every type when the worker meets an unknown one', () => {
    expect(() => resolveJobType('nope')).toThrow(
      `Known types: ${definitions.map((d) => d.type).join(', ')}`,
    );
  });
});

describe('parseJobPayload', () => {
  it('returns a valid payload', () => {
    expect(parseJobPayload('system.echo', { data: { a: [1, 'x', null] }, delayMs: 10 })).toEqual({
      data: { a: [1, 'x', null] },
      delayMs: 10,
    });
    expect(
      parseJobPayload('webhook.deliver', { url: 'https://example.com/hook', body: { ok: true } }),
    ).toEqual({ url: 'https://example.com/hook', body: { ok: true } });
  });

  it.each([
    ['system.echo', { delayMs: 60_001 }, 'delayMs'],
    ['system.echo', { delayMs: 1.5 }, 'delayMs'],
    ['system.echo', { extra: true }, '(payload)'],
    ['system.echo', 'not an object', '(payload)'],
    ['webhook.deliver', { url: 'ftp://example.com', body: {} }, 'url'],
    ['webhook.deliver', { url: 'https://example.com' }, 'body'],
    [
      'webhook.deliver',
      { url: 'https://example.com', body: {}, headers: { 'Webhook-Signature': 'x' } },
      'headers.Webhook-Signature',
    ],
    [
      'webhook.deliver',
      { url: 'https://example.com', body: {}, headers: { 'bad header': 'x' } },
      'headers.bad header',
    ],
    ['maintenance.prune', { batch: 1 }, '(payload)'],
  ] as const)('rejects %s payload %j, naming %s', (type, payload, path) => {
    let error: unknown;
    try {
      parseJobPayload(type, payload);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message).toContain(`Invalid payload for job type "${type}": ${path}`);
  });
});

describe('payload depth', () => {
  function nested(levels: number): unknown {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  }

  it('accepts payloads up to the depth limit', () => {
    expect(parseJobPayload('system.echo', { data: nested(62) })).toHaveProperty('data');
  });

  it('refuses deeper payloads with a clear error instead of overflowing the stack', () => {
    for (const levels of [65, 100_000]) {
      expect(() => parseJobPayload('system.echo', { data: nested(levels) })).toThrow(
        'Invalid payload for job type "system.echo": (payload): nested more than 64 levels deep',
      );
    }
  });
});
