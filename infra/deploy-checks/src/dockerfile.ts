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

/**
 * The repository files a Dockerfile builds from by name: sources of `COPY` from the build context
 * (the repository root), files copied from a stage that holds a copy of the context, and files a
 * `RUN` names in such a stage (`node tooling/docker/x.mjs`). `COPY . .` itself stands for the whole
 * context and is left out. `exists` says whether a repo-relative path is a file of the repository.
 */
export function dockerfileRepoFiles(
  dockerfile: string,
  exists: (path: string) => boolean,
): string[] {
  const found = new Set<string>();
  /** Per stage: where in the stage the build context was copied to, if it was. */
  const contextDirOf = new Map<string, string>();
  let stage = '';
  let workdir = '/';
  let contextDir: string | undefined;
  const add = (path: string) => {
    const relative = path.replace(/^\.\//, '').replace(/\/$/, '');
    if (relative !== '' && relative !== '.' && !relative.startsWith('..') && exists(relative)) {
      found.add(relative);
    }
  };
  const inStage = (path: string, dir: string | undefined) => {
    if (dir === undefined) return undefined;
    const absolute = path.startsWith('/') ? path : `${workdir.replace(/\/$/, '')}/${path}`;
    return absolute.startsWith(`${dir}/`) ? absolute.slice(dir.length + 1) : undefined;
  };
  for (const { keyword, args } of dockerfileInstructions(dockerfile)) {
    const words = args.split(/\s+/).filter(Boolean);
    if (keyword === 'FROM') {
      const from = words.find((w) => !w.startsWith('--')) ?? '';
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stage = as >= 0 ? (words[as + 1] ?? '') : '';
      contextDir = contextDirOf.get(from);
      if (contextDir !== undefined) contextDirOf.set(stage, contextDir);
      workdir = '/';
    } else if (keyword === 'WORKDIR') {
      const dir = words[0] ?? '/';
      workdir = dir.startsWith('/') ? dir : `${workdir.replace(/\/$/, '')}/${dir}`;
    } else if (keyword === 'COPY' || keyword === 'ADD') {
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      const sources = paths.slice(0, -1);
      const destination = paths.at(-1) ?? '';
      if (from === undefined) {
        if (sources.length === 1 && sources[0] === '.') {
          contextDir = destination === '.' || destination === './' ? workdir : destination;
          contextDirOf.set(stage, contextDir);
        }
        for (const source of sources) add(source);
      } else {
        for (const source of sources) {
          const relative = inStage(source, contextDirOf.get(from));
          if (relative !== undefined) add(relative);
        }
      }
    } else if (keyword === 'RUN') {
      for (const word of words) {
        const relative = inStage(word, contextDir);
        if (relative !== undefined) add(relative);
      }
    }
  }
  return [...found].sort();
}
