import { createHash } from 'node:crypto';

// Prisma's migration checksum, as its schema engine computes it (prisma/prisma-engines,
// schema-engine/connectors/schema-connector/src/checksum.rs): SHA-256 of the migration.sql text,
// as 64 lowercase, zero-padded hex digits. It is what `_prisma_migrations.checksum` holds.

/** The checksum Prisma records for a migration script. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Whether `script` is the script an applied migration was recorded with, accepting what Prisma
 * accepts (same file, checksum.rs `script_matches_checksum`): the script with its line endings
 * as they are, turned to LF, or turned to CRLF — git may check a file out either way — and the
 * unpadded hex an early schema engine wrote (prisma-engines#1887).
 */
export function scriptMatchesChecksum(script: string, recorded: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    const expected =
      recorded.length !== 0 && recorded.length !== 64
        ? [...digest].map((byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return expected === recorded;
  });
}
