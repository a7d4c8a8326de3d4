import { readRepoFile } from './repo.ts';

/** Dockerfile instructions with continuation lines joined, comments and heredoc bodies dropped. */
export function dockerfileInstructions(text: string): { keyword: string; args: string }[] {
  const logical: string[] = [];
  let current = '';
  let heredoc: string | undefined;
  for (const line of text.split('\n')) {
    if (heredoc !== undefined) {
      if (line.trim() === heredoc) heredoc = undefined;
      continue;
    }
    if (current === '' && /^\s*#/.test(line)) continue;
    const marker = /<<-?['"]?(\w+)['"]?/.exec(line);
    if (marker?.[1]) heredoc = marker[1];
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  return logical.map((text) => {
    const space = text.search(/\s/);
    return space < 0
      ? { keyword: text.toUpperCase(), args: '' }
      : { keyword: text.slice(0, space).toUpperCase(), args: text.slice(space).trim() };
  });
}

/** The exec-form (JSON array) command of the last CMD, or undefined for shell form or none. */
export function dockerfileCmd(file: string): string[] | undefined {
  const cmd = dockerfileInstructions(readRepoFile(file))
    .filter((i) => i.keyword === 'CMD')
    .at(-1);
  return cmd ? parseExecForm(cmd.args) : undefined;
}

/** The exec-form command of the last HEALTHCHECK (`HEALTHCHECK [options] CMD [...]`). */
export function dockerfileHealthcheck(file: string): string[] | undefined {
  const check = dockerfileInstructions(readRepoFile(file))
    .filter((i) => i.keyword === 'HEALTHCHECK')
    .at(-1);
  const cmd = check && /(?:^|\s)CMD\s+(.*)$/.exec(check.args);
  return cmd?.[1] ? parseExecForm(cmd[1]) : undefined;
}

function parseExecForm(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * BuildKit cache mounts (`RUN --mount=type=cache,...`) whose id Railway's builder refuses: it
 * accepts only `id=s/<service id>-<target path>`, with a literal service id
 * (https://docs.railway.com/builds/dockerfiles#cache-mounts).
 */
export function railwayIncompatibleCacheMounts(dockerfile: string): string[] {
  const mounts: string[] = [];
  for (const { keyword, args } of dockerfileInstructions(dockerfile)) {
    if (keyword !== 'RUN') continue;
    for (const match of args.matchAll(/--mount=(\S+)/g)) {
      const options = match[1] ?? '';
      if (!/(?:^|,)type=cache(?:,|$)/.test(options)) continue;
      const id = /(?:^|,)id=([^,]+)/.exec(options)?.[1];
      if (!id?.startsWith('s/')) mounts.push(`--mount=${options}`);
    }
  }
  return mounts;
}

/** The variables the final stage sets with ENV (`ENV A=1 B="two"` or `ENV A 1`). */
export function dockerfileFinalEnv(dockerfile: string): Map<string, string> {
  const instructions = dockerfileInstructions(dockerfile);
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  const env = new Map<string, string>();
  for (const { keyword, args } of instructions.slice(lastFrom + 1)) {
    if (keyword !== 'ENV') continue;
    if (!args.includes('=')) {
      const [key = '', ...rest] = args.split(/\s+/);
      env.set(key, rest.join(' '));
      continue;
    }
    for (const match of args.matchAll(
      /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g,
    )) {
      const raw = match[2] ?? '';
      env.set(match[1] ?? '', /^["']/.test(raw) ? raw.slice(1, -1) : raw);
    }
  }
  return env;
}
