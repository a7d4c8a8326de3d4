import { readFileSync } from 'node:fs';

/** KEY=VALUE lines of a dotenv-style file; comments, blank lines and quotes-free values only. */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1]) values.set(match[1], (match[2] ?? '').trim().replace(/^(['"])(.*)\1$/, '$2'));
  }
  return values;
}

export function readEnvFile(path: string): Map<string, string> {
  return parseEnvFile(readFileSync(path, 'utf8'));
}
