import { readFileSync } from 'node:fs';

/** `<NAME>_FILE` names a file that holds the secret `<NAME>` (Docker and Compose secrets, Kubernetes mounts). */
export const SECRET_FILE_SUFFIX = '_FILE';

export interface SecretFileProblem {
  variable: string;
  message: string;
}

export interface SecretFilesRead {
  /** The variables whose value came from a file, and the file's path. */
  readonly paths: ReadonlyMap<string, string>;
  /** The variables whose file could not be used: the problem names the file, not a missing value. */
  readonly unusable: ReadonlySet<string>;
  readonly problems: readonly SecretFileProblem[];
}

/**
 * For each secret variable that has `<NAME>_FILE` set, puts the file's content (without its
 * trailing line break) into `input[NAME]`. Setting both forms, an unreadable file and an empty
 * one are problems naming the variable and the path; the content never appears in a message.
 */
export function readSecretFiles(
  secretNames: readonly string[],
  input: Record<string, string | undefined>,
  env: Readonly<Record<string, string | undefined>>,
): SecretFilesRead {
  const paths = new Map<string, string>();
  const unusable = new Set<string>();
  const problems: SecretFileProblem[] = [];
  for (const name of secretNames) {
    const fileVariable = `${name}${SECRET_FILE_SUFFIX}`;
    const path = env[fileVariable]?.trim();
    if (!path) continue;
    if (input[name] !== undefined) {
      problems.push({
        variable: name,
        message: `is set both directly and through ${fileVariable}; set only one of them`,
      });
      continue;
    }
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (error) {
      problems.push({
        variable: fileVariable,
        message: `cannot read ${path}: ${whyUnreadable(error)}`,
      });
      unusable.add(name);
      continue;
    }
    const value = content.replace(/[\r\n]+$/, '');
    if (value.trim() === '') {
      problems.push({ variable: fileVariable, message: `${path} is empty` });
      unusable.add(name);
      continue;
    }
    input[name] = value;
    paths.set(name, path);
  }
  return { paths, unusable, problems };
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

function whyUnreadable(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return REASONS[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}
