import { readdir, readFile } from 'node:fs/promises';
import type { Profiler } from 'node:inspector';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeScriptCovs } from '@bcoe/v8-coverage';
import convert from 'ast-v8-to-istanbul';
import type { FileCoverageData } from 'istanbul-lib-coverage';
import { parseAstAsync } from 'vitest/node';

/**
 * The V8 coverage that the processes started by the tests wrote (NODE_V8_COVERAGE, one file per
 * process), of the files `isMeasured` accepts, merged per file across processes.
 */
export async function readProcessCoverage(
  directory: string,
  isMeasured: (path: string) => boolean,
): Promise<{ scripts: Map<string, Profiler.ScriptCoverage>; processes: number }> {
  const scripts = new Map<string, Profiler.ScriptCoverage>();
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { scripts, processes: 0 };
    throw error;
  }
  for (const name of names) {
    const dump = JSON.parse(await readFile(join(directory, name), 'utf8')) as {
      result: Profiler.ScriptCoverage[];
    };
    for (const script of dump.result) {
      if (!script.url.startsWith('file://')) continue;
      const path = fileURLToPath(script.url);
      if (!isMeasured(path)) continue;
      const previous = scripts.get(path);
      const merged = mergeScriptCovs(previous ? [previous, script] : [script]);
      if (merged) scripts.set(path, merged);
    }
  }
  return { scripts, processes: names.length };
}

/**
 * One file's process coverage as Istanbul data, converted the way Vitest's V8 provider converts
 * a subprocess's: Node ran the TypeScript with its types stripped (replaced by blanks, so every
 * offset is the source file's), parsed by Vite's parser and converted by ast-v8-to-istanbul.
 */
export async function processCoverageToIstanbul(
  path: string,
  source: string,
  script: Profiler.ScriptCoverage,
): Promise<FileCoverageData | undefined> {
  const code = path.endsWith('.ts') ? stripTypeScriptTypes(source, { mode: 'strip' }) : source;
  const map = await convert({
    code,
    ast: parseAstAsync(code),
    coverage: { url: script.url, functions: script.functions },
  });
  return map[path] as FileCoverageData | undefined;
}
