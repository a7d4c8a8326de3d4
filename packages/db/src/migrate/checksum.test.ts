import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { migrationChecksum, scriptMatchesChecksum } from './checksum.ts';

describe('migration checksums (Prisma checksum.rs)', () => {
  it('is the zero-padded SHA-256 hex of the script, as in Prisma’s own test vector', () => {
    expect(migrationChecksum('hello')).toBe(
      '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    expect(migrationChecksum('abcd')).toHaveLength(64);
    const script = 'CREATE TABLE "é" ("id" INTEGER);\n';
    expect(migrationChecksum(script)).toBe(
      createHash('sha256').update(Buffer.from(script, 'utf8')).digest('hex'),
    );
  });

  it('matches a script whatever its line endings, as Prisma does', () => {
    const scripts = [
      ['ab\ncd\nef\ngh\rab', 'ab\r\ncd\r\nef\r\ngh\rab'],
      ['ab\ncd\nef\ngh\rab\n', 'ab\r\ncd\r\nef\r\ngh\rab\r\n'],
    ];
    for (const group of scripts) {
      for (const script of group) {
        for (const other of group) {
          expect(scriptMatchesChecksum(script, migrationChecksum(other))).toBe(true);
        }
      }
    }
  });

  it('does not match a different script', () => {
    expect(scriptMatchesChecksum('abc', migrationChecksum('abcd'))).toBe(false);
    expect(scriptMatchesChecksum('abc\n', migrationChecksum('abc'))).toBe(false);
    expect(scriptMatchesChecksum('abc', '')).toBe(false);
  });

  it('accepts the unpadded hex early Prisma versions recorded (prisma-engines#1887)', () => {
    // find a script whose digest has a byte below 0x10, so padding makes a difference
    let script = '';
    let digest = Buffer.alloc(0);
    for (let i = 0; ; i += 1) {
      script = `SELECT ${i};`;
      digest = createHash('sha256').update(script).digest();
      if (digest.some((byte) => byte < 0x10)) break;
    }
    const unpadded = [...digest].map((byte) => byte.toString(16)).join('');
    expect(unpadded.length).toBeLessThan(64);
    expect(scriptMatchesChecksum(script, unpadded)).toBe(true);
    expect(scriptMatchesChecksum(`${script} `, unpadded)).toBe(false);
  });
});
