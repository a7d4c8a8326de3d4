import { describe, expect, it } from 'vitest';
import { parseEnvFile } from './env-file.ts';

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines and skips comments and blank lines', () => {
    const values = parseEnvFile('# comment\n\nA=1\nexport B="two"\n  C=\nD=x=y\n# E=5\n');
    expect([...values]).toEqual([
      ['A', '1'],
      ['B', 'two'],
      ['C', ''],
      ['D', 'x=y'],
    ]);
  });
});
