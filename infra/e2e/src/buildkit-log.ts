/** One step of a BuildKit build, from `docker build --progress=plain` output. */
export interface BuildStep {
  id: number;
  /** e.g. `[build 3/6] RUN pnpm install --frozen-lockfile` */
  name: string;
  /** The Dockerfile stage (`build`), or undefined for BuildKit's own steps (`[internal]`, export). */
  stage: string | undefined;
  cached: boolean;
}

/**
 * The steps of a plain-progress build log, in order of first appearance. Lines may carry a prefix
 * (turbo prints `@repo/api:docker:build: #12 ...`); a step's header and its CACHED/DONE lines may
 * be interleaved with other steps'.
 */
export function parseBuildSteps(log: string): BuildStep[] {
  const steps = new Map<number, BuildStep>();
  for (const line of log.split('\n')) {
    const match = /(?:^|\s)#(\d+) (.*?)\s*$/.exec(line);
    if (!match) continue;
    const id = Number(match[1]);
    const rest = match[2] ?? '';
    let step = steps.get(id);
    if (!step) {
      const header = /^\[([^\]]+)\]/.exec(rest);
      const stage = header?.[1]?.split(' ')[0];
      step = {
        id,
        name: rest,
        stage: stage === 'internal' || stage === undefined ? undefined : stage,
        cached: false,
      };
      steps.set(id, step);
    }
    if (rest === 'CACHED') step.cached = true;
  }
  return [...steps.values()];
}

/** Steps of the given stages that ran (were not restored from the cache). */
export function stepsThatRan(log: string, stages: readonly string[]): BuildStep[] {
  return parseBuildSteps(log).filter(
    (s) =>
      s.stage !== undefined && stages.includes(s.stage) && !s.cached && !/\bFROM\b/.test(s.name),
  );
}
