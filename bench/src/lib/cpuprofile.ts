import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by function, largest first. */
  functions: { name: string; where: string; selfMs: number; share: number }[];
  /** Self time by package (node_modules name, workspace package, or node internals). */
  packages: { name: string; selfMs: number; share: number }[];
}

/** Where a script URL belongs: an npm package, a workspace package, Node itself, or V8/GC. */
export function packageOf(url: string): string {
  if (url === '') return '(native / GC / idle)';
  if (url.startsWith('node:')) return 'node (internals)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const workspace = /\/(apps|packages|tooling|bench|reliability)\/([^/]+)\//.exec(url);
  if (workspace) return `@repo/${workspace[2]}`;
  return url;
}

/** Self time per function and per package of a .cpuprofile written by `node --cpu-prof`. */
export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  let totalMs = 0;
  const functions = new Map<string, { name: string; where: string; selfMs: number }>();
  const packages = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, selfMs: 0 };
    entry.selfMs += ms;
    functions.set(key, entry);
    const pkg = name === '(idle)' ? '(idle)' : packageOf(url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
  }
  const share = (ms: number) => Math.round((ms / totalMs) * 1000) / 10;
  return {
    totalMs,
    functions: [...functions.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, share: share(f.selfMs) })),
    packages: [...packages.entries()]
      .map(([name, selfMs]) => ({ name, selfMs, share: share(selfMs) }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}
