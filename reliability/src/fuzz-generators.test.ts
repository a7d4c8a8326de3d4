import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  controlCharHeaderValue,
  edgeCaseJobBody,
  featuresOf,
  textWithLoneSurrogates,
  writeJson,
} from './fuzz-generators.ts';

const SAMPLES = 2_000;
const seed = 20261123;

// The generators used to produce no lone surrogate in 25,000 samples: each case must now show up
// often enough that a fuzz run of a thousand bodies meets it many times.
describe('fuzz generators', () => {
  const bodies = fc.sample(edgeCaseJobBody, { numRuns: SAMPLES, seed });
  const features = bodies.map((body) => featuresOf(body.tree));
  const share = (has: (f: ReturnType<typeof featuresOf>) => boolean) =>
    features.filter(has).length / SAMPLES;

  type Features = ReturnType<typeof featuresOf>;
  const cases: { name: string; has: (f: Features) => boolean }[] = [
    { name: 'lone surrogates', has: (f) => f.loneSurrogate },
    { name: '-0', has: (f) => f.negativeZero },
    { name: 'numbers beyond a double', has: (f) => f.beyondDouble },
    { name: 'arrays nested past 64 levels', has: (f) => f.depth > 64 },
    { name: 'duplicate keys', has: (f) => f.duplicateKey },
  ];
  it.each(cases)('bodies hold $name in at least 2 % of samples', ({ has }) => {
    expect(share(has)).toBeGreaterThanOrEqual(0.02);
  });

  it('writes JSON that parses, with a lone surrogate escaped as \\udXXX', () => {
    for (const body of bodies.slice(0, 200)) {
      expect(() => JSON.parse(body.text), body.text.slice(0, 200)).not.toThrow();
    }
    const lone = writeJson({ kind: 'string', value: 'a\ud800b' });
    expect(lone).toBe('"a\\ud800b"');
    expect(writeJson({ kind: 'number', text: '-0' })).toBe('-0');
    expect(
      writeJson({
        kind: 'object',
        entries: [
          ['a', { kind: 'literal', text: 'null' }],
          ['a', { kind: 'number', text: '1' }],
        ],
      }),
    ).toBe('{"a":null,"a":1}');
  });

  it('produces lone surrogates in plain text too', () => {
    const texts = fc.sample(textWithLoneSurrogates, { numRuns: SAMPLES, seed });
    expect(texts.filter((text) => !text.isWellFormed()).length).toBeGreaterThan(SAMPLES / 10);
  });

  it('puts a control character in every header value', () => {
    for (const value of fc.sample(controlCharHeaderValue, { numRuns: 500, seed })) {
      const codes = [...value].map((char) => char.charCodeAt(0));
      expect(codes.some((code) => code < 0x20 || (code >= 0x7f && code <= 0x9f))).toBe(true);
    }
  });
});
