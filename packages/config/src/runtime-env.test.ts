import { describe, expect, it } from 'vitest';
import { runsAsProduction, runtimeSettingsFor } from './runtime-env.ts';

describe('runsAsProduction', () => {
  it('relaxes only for an explicit development or test', () => {
    expect(runsAsProduction('development')).toBe(false);
    expect(runsAsProduction(' test ')).toBe(false);
    for (const nodeEnv of [undefined, '', '  ', 'production', 'staging', 'Development']) {
      expect(runsAsProduction(nodeEnv), String(nodeEnv)).toBe(true);
    }
  });
});

describe('runtimeSettingsFor', () => {
  it('reads NODE_ENV, LOG_LEVEL and LOG_FORMAT, each falling back to its default when invalid', () => {
    expect(runtimeSettingsFor({})).toEqual({
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      LOG_FORMAT: undefined,
    });
    expect(
      runtimeSettingsFor({ NODE_ENV: 'development', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }),
    ).toEqual({ NODE_ENV: 'development', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
    expect(
      runtimeSettingsFor({ NODE_ENV: 'prod', LOG_LEVEL: 'loud', LOG_FORMAT: 'xml', PORT: 'x' }),
    ).toEqual({ NODE_ENV: 'production', LOG_LEVEL: 'info', LOG_FORMAT: undefined });
    expect(runtimeSettingsFor({ NODE_ENV: ' ', LOG_FORMAT: '' }).NODE_ENV).toBe('production');
  });
});
