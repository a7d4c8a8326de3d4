import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type RunOptions, run } from './process.ts';

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  Size: number;
  Config: {
    User?: string;
    Env?: string[];
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    ExposedPorts?: Record<string, unknown>;
    Labels?: Record<string, string> | null;
    Healthcheck?: { Test?: string[] };
  };
  RootFS: { Layers: string[] };
}

export function inspectImage(ref: string): ImageInspect {
  const [image] = JSON.parse(run('docker', ['image', 'inspect', ref]).stdout) as ImageInspect[];
  if (!image) throw new Error(`docker image inspect ${ref} returned nothing`);
  return image;
}

export function imageExists(ref: string): boolean {
  return run('docker', ['image', 'inspect', ref], { allowFailure: true }).status === 0;
}

export interface OwnLayers {
  base: string;
  baseSize: number;
  /** Bytes the image adds above its base image (uncompressed). */
  ownBytes: number;
  ownLayers: number;
}

/** What an image adds above the base it names in org.opencontainers.image.base.name. */
export function ownLayers(image: ImageInspect): OwnLayers {
  const base = image.Config.Labels?.['org.opencontainers.image.base.name'];
  if (!base)
    throw new Error(`${image.RepoTags[0]} has no org.opencontainers.image.base.name label`);
  const baseImage = inspectImage(base);
  const baseLayers = baseImage.RootFS.Layers;
  if (baseLayers.some((layer, i) => image.RootFS.Layers[i] !== layer)) {
    throw new Error(`${image.RepoTags[0]} is not built on the local ${base} (its layers differ)`);
  }
  return {
    base,
    baseSize: baseImage.Size,
    ownBytes: image.Size - baseImage.Size,
    ownLayers: image.RootFS.Layers.length - baseLayers.length,
  };
}

export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export interface LayerFinding {
  layer: number;
  what: string;
}

/**
 * Looks through every layer of an image (`docker save`) for files named .env* and for any of the
 * given strings in file names or contents. Returns what it found.
 */
export function scanImageLayers(
  ref: string,
  needles: readonly string[],
  workDir: string,
): LayerFinding[] {
  const dir = join(workDir, ref.replace(/[^\w.-]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    run('docker', ['save', '--output', join(dir, 'image.tar'), ref]);
    run('tar', ['-xf', join(dir, 'image.tar'), '-C', dir]);
    rmSync(join(dir, 'image.tar'));
    const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      Layers: string[];
    }[];
    if (!manifest?.Layers.length) throw new Error(`docker save ${ref}: no layers in manifest.json`);
    const findings: LayerFinding[] = [];
    manifest.Layers.forEach((layerPath, index) => {
      const file = join(dir, layerPath);
      const names = run('tar', ['-tf', file]).stdout.split('\n');
      for (const name of names) {
        const base = name.replace(/\/$/, '').split('/').pop() ?? '';
        // .wh.* entries are deletions (whiteouts), not files
        if (/^\.env(\.|$)/.test(base)) findings.push({ layer: index, what: `file ${name}` });
      }
      const bytes = readFileSync(file);
      for (const needle of needles) {
        if (bytes.includes(needle)) findings.push({ layer: index, what: `the string "${needle}"` });
      }
    });
    return findings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The build context Docker actually sends for a directory (after .dockerignore), exported with a
 * two-line Dockerfile into `dest`: lets the test see what an image build can see.
 */
export function exportBuildContext(
  contextDir: string,
  dest: string,
): { files: string[]; bytes: number } {
  rmSync(dest, { recursive: true, force: true });
  run(
    'docker',
    ['build', '--quiet', '--file', '-', '--output', `type=local,dest=${dest}`, contextDir],
    {
      input: 'FROM scratch\nCOPY . /\n',
    },
  );
  const files: string[] = [];
  let bytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        files.push(relative(dest, path));
        bytes += statSync(path).size;
      }
    }
  };
  walk(dest);
  return { files: files.sort(), bytes };
}

export interface ComposeContainer {
  ID: string;
  Name: string;
  Service: string;
  State: string;
  Health: string;
  ExitCode: number;
  Publishers?: { URL: string; TargetPort: number; PublishedPort: number }[];
}

export interface ContainerState {
  Status: string;
  ExitCode: number;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
}

export function inspectContainer(id: string): {
  Name: string;
  State: ContainerState;
  Config: { User: string };
} {
  const [container] = JSON.parse(run('docker', ['container', 'inspect', id]).stdout) as {
    Name: string;
    State: ContainerState;
    Config: { User: string };
  }[];
  if (!container) throw new Error(`docker container inspect ${id} returned nothing`);
  return container;
}

/** `docker compose` for one project: fixed files, env file, and a clean environment. */
export interface ComposeOptions {
  project: string;
  files: readonly string[];
  envFile: string;
  cwd: string;
  /** The whole environment compose sees (the shell's would win over the env file). */
  env: NodeJS.ProcessEnv;
}

export class Compose {
  readonly options: ComposeOptions;

  constructor(options: ComposeOptions) {
    this.options = options;
  }

  args(rest: readonly string[]): string[] {
    const { project, files, envFile } = this.options;
    return [
      'compose',
      '--project-name',
      project,
      ...files.flatMap((f) => ['--file', f]),
      '--env-file',
      envFile,
      ...rest,
    ];
  }

  run(rest: readonly string[], options: RunOptions = {}) {
    return run('docker', this.args(rest), {
      cwd: this.options.cwd,
      env: this.options.env,
      ...options,
    });
  }

  containers(): ComposeContainer[] {
    const out = this.run(['ps', '--all', '--format', 'json']).stdout.trim();
    if (out === '') return [];
    // compose >= 2.21 prints one object per line, older versions one array
    return out.startsWith('[')
      ? (JSON.parse(out) as ComposeContainer[])
      : out.split('\n').map((line) => JSON.parse(line) as ComposeContainer);
  }

  /** `host:port` where a service's container port is published. */
  port(service: string, port: number): string {
    const address = this.run(['port', service, String(port)]).stdout.trim();
    if (!/:\d+$/.test(address))
      throw new Error(`${service}:${port} is not published (got "${address}")`);
    return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:');
  }

  psql(sql: string): string {
    return this.run([
      'exec',
      '-T',
      'postgres',
      'psql',
      '-v',
      'ON_ERROR_STOP=1',
      '-U',
      'jobstack',
      '-d',
      'jobstack',
      '-tA',
      '-c',
      sql,
    ]).stdout.trim();
  }

  /** Container states and the last log lines of every service, for failure messages. */
  diagnostics(lines = 60): string {
    const ps = this.run(['ps', '--all'], { allowFailure: true }).stdout;
    const logs = this.run(['logs', '--no-color', '--tail', String(lines)], {
      allowFailure: true,
    }).stdout;
    return `--- docker compose ps ---\n${ps}\n--- docker compose logs (last ${lines} lines each) ---\n${logs}`;
  }
}
