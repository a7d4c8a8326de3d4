import { describe, expect, it } from 'vitest';
import { isRedisUnavailableError } from './redis-connection.ts';

describe('isRedisUnavailableError', () => {
  it.each([
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), true],
    [Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }), true],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    [new Error('LOADING Redis is loading the dataset in memory'), true],
    [new Error('OOM command not allowed when used memory > maxmemory'), true],
    [new Error('ERR wrong number of arguments'), false],
    ['Connection is closed.', false],
    // a foreign error that merely wraps a socket error (a webhook delivery) says nothing about Redis
    [
      new Error('http://127.0.0.1:1 network error: ECONNREFUSED', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
          code: 'ECONNREFUSED',
        }),
      }),
      false,
    ],
  ])('%s → %s', (error, expected) => {
    expect(isRedisUnavailableError(error)).toBe(expected);
  });
});
