// @bcoe/v8-coverage ships no types: the one function used here (tooling/coverage).
declare module '@bcoe/v8-coverage' {
  import type { Profiler } from 'node:inspector';

  /** Merges coverage of one script from several processes, summing counts range by range. */
  export function mergeScriptCovs(
    scriptCovs: readonly Profiler.ScriptCoverage[],
  ): Profiler.ScriptCoverage | undefined;
}
