import { describe, expect, it } from 'vitest';
import { hasUnreachableSocketCode } from './index.ts';

describe('hasUnreachableSocketCode', () => {
  it("looks at the error's own code only", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    expect(hasUnreachableSocketCode(refused)).toBe(true);
    expect(hasUnreachableSocketCode(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(false);
    expect(hasUnreachableSocketCode(new Error('wrapped', { cause: refused }))).toBe(false);
    expect(hasUnreachableSocketCode(null)).toBe(false);
  });
});
