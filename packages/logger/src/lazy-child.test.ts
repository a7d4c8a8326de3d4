import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChild } from './lazy-child.ts';

/** A pino logger writing to `lines`; with `countChildren`, each child it makes is noted in `made`. */
function collectingLogger(options: { countChildren?: boolean } = {}) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const parent = pino({ level: 'info', base: { service: 'worker' } }, destination);
  const made: unknown[] = [];
  if (options.countChildren) {
    // an own property, which every child inherits: children of children must not use it
    const child = parent.child.bind(parent);
    parent.child = ((bindings, childOptions) => {
      made.push(bindings);
      return child(bindings, childOptions);
    }) as typeof parent.child;
  }
  return { parent, lines, made };
}

describe('lazyChild', () => {
  it('makes no child until it is used, then writes as the child would', () => {
    const { parent, lines, made } = collectingLogger({ countChildren: true });
    const logger = lazyChild(parent, { jobId: 'j1', attempt: 2 });
    const unused = lazyChild(parent, { jobId: 'j2' });
    expect(made).toEqual([]);

    logger.info({ status: 'queued' }, 'job skipped');
    logger.warn('again');
    expect(made).toEqual([{ jobId: 'j1', attempt: 2 }]);
    expect(lines).toEqual([
      expect.objectContaining({
        service: 'worker',
        jobId: 'j1',
        attempt: 2,
        status: 'queued',
        msg: 'job skipped',
      }),
      expect.objectContaining({ jobId: 'j1', attempt: 2, msg: 'again' }),
    ]);
    expect(typeof unused.info).toBe('function');
    expect(made).toHaveLength(2);
  });

  it('behaves as the child for everything else: its level, its children, its bindings', () => {
    const { parent, lines } = collectingLogger();
    const logger = lazyChild(parent, { jobId: 'j1' });
    expect(logger.level).toBe('info');
    expect(logger.isLevelEnabled('debug')).toBe(false);
    logger.level = 'debug';
    expect(logger.isLevelEnabled('debug')).toBe(true);
    expect(parent.level).toBe('info');
    expect(logger.bindings()).toEqual({ service: 'worker', jobId: 'j1' });
    logger.child({ step: 'send' }).debug('nested');
    expect(lines).toEqual([expect.objectContaining({ jobId: 'j1', step: 'send', msg: 'nested' })]);
  });
});
