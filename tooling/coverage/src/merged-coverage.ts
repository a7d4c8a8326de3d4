import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CoverageMap, CoverageMapData, CoverageSummary } from 'istanbul-lib-coverage';
import libCoverage from 'istanbul-lib-coverage';
import { addCountsByStart } from './merge-by-start.ts';
import { processCoverageToIstanbul, readProcessCoverage } from './process-coverage.ts';

export interface MergedCoverage {
  map: CoverageMap;
  /** Suites whose coverage was read (one Istanbul JSON per package). */
  suites: number;
  /** Process coverage files read (one per process that exited on its own or on SIGTERM). */
  processes: number;
  /** Statements, functions and branches of process coverage with no match in the suites' map. */
  unmatched: number;
}

/** A suite started collecting coverage but did not write its report (it was stopped). */
export class MissingCoverageError extends Error {
  constructor(path: string) {
    super(`a suite wrote no coverage report: ${path} is missing`);
    this.name = 'MissingCoverageError';
  }
}

/** A package's Vitest left a map whose statements for a file differ from another package's. */
export class InconsistentCoverageError extends Error {
  readonly files: string[];

  constructor(files: string[]) {
    super(
      `the suites converted these files differently, so their coverage cannot be added up: ${files.join(', ')}`,
    );
    this.name = 'InconsistentCoverageError';
    this.files = files;
  }
}

/**
 * Every suite's Istanbul JSON (each lists every product file, with the same statements) merged,
 * then the processes' coverage added to it statement by statement.
 */
export async function mergeCoverage(
  vitestDir: string,
  processDir: string,
): Promise<MergedCoverage> {
  const map = libCoverage.createCoverageMap({});
  const statementCounts = new Map<string, number>();
  const inconsistent = new Set<string>();
  const suites = await readdir(vitestDir);
  for (const suite of suites) {
    const data = await readSuiteCoverage(join(vitestDir, suite, 'coverage-final.json'));
    for (const [path, file] of Object.entries(data)) {
      const statements = Object.keys(file.statementMap).length;
      const seen = statementCounts.get(path);
      if (seen !== undefined && seen !== statements) inconsistent.add(path);
      statementCounts.set(path, statements);
    }
    map.merge(data);
  }
  if (inconsistent.size > 0) throw new InconsistentCoverageError([...inconsistent]);

  const measured = new Set(map.files());
  const { scripts, processes } = await readProcessCoverage(processDir, (path) =>
    measured.has(path),
  );
  let unmatched = 0;
  for (const [path, script] of scripts) {
    const text = await readFile(path, 'utf8');
    const converted = await processCoverageToIstanbul(path, text, script);
    if (converted) unmatched += addCountsByStart(map.fileCoverageFor(path).data, converted, text);
  }
  return { map, suites: suites.length, processes, unmatched };
}

/** A suite's Istanbul JSON; a suite that started but wrote none is an error, not a zero. */
async function readSuiteCoverage(path: string): Promise<CoverageMapData> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as CoverageMapData;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingCoverageError(path);
    throw error;
  }
}

/** The package a file belongs to: `apps/api`, `packages/db`, … */
export function packageOf(root: string, path: string): string {
  return relative(root, path).split('/').slice(0, 2).join('/');
}

/** Summaries per package, by directory, in order. */
export function packageSummaries(root: string, map: CoverageMap): Map<string, CoverageSummary> {
  const summaries = new Map<string, CoverageSummary>();
  for (const path of map.files().sort()) {
    const pkg = packageOf(root, path);
    const summary = summaries.get(pkg) ?? libCoverage.createCoverageSummary();
    summary.merge(map.fileCoverageFor(path).toSummary());
    summaries.set(pkg, summary);
  }
  return summaries;
}
