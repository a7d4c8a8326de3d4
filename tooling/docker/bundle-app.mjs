// Runs in the images' build stage, on the output of `pnpm deploy --prod <dir>` (after
// trim-prisma-client.mjs):   node bundle-app.mjs <app dir> <deploy dir>
//
// Bundles each program the image runs (the app's dist/main.js, dist/tracing.js,
// dist/healthcheck.js, its dist/bin/*.js, and the bins of its workspace packages, e.g. @repo/db's
// db-migrate) into one file with esbuild, then removes from node_modules everything the bundles
// now hold. What stays
// in node_modules is what cannot be bundled (EXTERNAL, with its dependencies) and the files the
// code reads at run time (the workspace packages' package.json and prisma/migrations).
//
// Each program is a separate build without code splitting, and every module's import.meta.url
// (and a CommonJS module's __dirname/__filename) is rewritten to the module's original location,
// so that `new URL('../../prisma/migrations', import.meta.url)` and the like still find their files.
// esbuild rather than rolldown or tsdown: one small native package (already in the lockfile through
// Vite), and its onLoad hook is enough for these rewrites.
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [appDir, deployArg = '/deploy'] = process.argv.slice(2);
if (!appDir) throw new Error('usage: node bundle-app.mjs <app dir> <deploy dir>');
const deployDir = realpathSync(deployArg);
const esbuild = createRequire(resolve(appDir, 'package.json'))('esbuild');

// Left out of the bundles, loaded from node_modules at run time:
const EXTERNAL = [
  // OpenTelemetry patches these when they are loaded (require and import hooks): bundled, they
  // would never be loaded, so never traced.
  'pg',
  'ioredis',
  // the instrumentations' hook (registered as '@opentelemetry/instrumentation/hook.mjs') and the
  // API, whose one copy the hook, the patched modules and the app share
  '@opentelemetry/instrumentation',
  '@opentelemetry/api',
  // Prisma's runtime loads its Wasm query compiler (trimmed to PostgreSQL's by
  // trim-prisma-client.mjs) by import
  '@prisma/client',
  // native (.node) prebuilds, found at run time next to the package, and msgpackr, which loads
  // them with createRequire (and falls back to JavaScript without them)
  'msgpackr',
  'msgpackr-extract',
  // development only: @repo/logger imports it for LOG_FORMAT=pretty and reports when it is absent
  'pino-pretty',
];

// Kept as files, without their dependencies: packages whose files the code finds at run time
// rather than imports. @bull-board/api serves the dashboard's pages and assets from @bull-board/ui,
// which it locates with an eval'd require.resolve that no bundler can see; swagger-ui-express
// serves the API reference's assets from swagger-ui-dist's directory (its __dirname).
const KEEP_FILES = ['@bull-board/ui', 'swagger-ui-dist'];

const packageJson = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const toPosix = (path) => path.split(sep).join('/');

/**
 * The programs the image runs, relative to deployDir: the app's entries, its one-off commands
 * (dist/bin/*.js, run as `node dist/bin/<name>.js`) and its workspace packages' bins (by their
 * real path).
 */
function entries() {
  const list = ['dist/main.js', 'dist/tracing.js', 'dist/healthcheck.js'];
  const commands = join(deployDir, 'dist/bin');
  if (existsSync(commands)) {
    for (const file of readdirSync(commands).filter((f) => f.endsWith('.js'))) {
      list.push(`dist/bin/${file}`);
    }
  }
  const app = packageJson(deployDir);
  for (const name of Object.keys(app.dependencies ?? {}).filter((n) => n.startsWith('@repo/'))) {
    const dir = realpathSync(join(deployDir, 'node_modules', name));
    const bin = packageJson(dir).bin ?? {};
    for (const file of typeof bin === 'string' ? [bin] : Object.values(bin)) {
      list.push(relative(deployDir, join(dir, file)));
    }
  }
  for (const entry of list) {
    if (!existsSync(join(deployDir, entry))) throw new Error(`${entry} is missing in ${deployDir}`);
  }
  return list;
}

const ROLLDOWN_RUNTIME = /[\\/]_rolldown[\\/]runtime\.m?js$/;

/** Rewrites import.meta.url, __dirname and __filename to the module's original location. */
const originalLocation = (outfile) => ({
  name: 'original-location',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
      let contents = readFileSync(args.path, 'utf8');
      if (ROLLDOWN_RUNTIME.test(args.path)) return { contents, loader: 'js' };
      if (/from\s*["'][./]+(?:_virtual\/)?_rolldown\/runtime\.m?js["']/.test(contents)) {
        // a package built by rolldown requires its CommonJS dependencies through the runtime's
        // __require (createRequire(import.meta.url)), which esbuild cannot follow; as plain
        // require() calls, esbuild bundles them
        contents = contents.replace(/\b__require\((["'][^"']+["'])\)/g, 'require($1)');
      } else if (contents.includes('createRequire(import.meta.url)')) {
        throw new Error(
          `${args.path} loads modules with createRequire(import.meta.url), which esbuild cannot follow: add its package to EXTERNAL in bundle-app.mjs`,
        );
      }
      const fromOut = toPosix(relative(dirname(outfile), args.path));
      // __bundleUrl (the banner's) rather than import.meta.url: esbuild takes a module that
      // mentions import.meta for ESM, and would not give a CommonJS one its `module`
      const url = `new URL(${JSON.stringify(fromOut)}, __bundleUrl)`;
      if (contents.includes('import.meta.url')) {
        contents = contents.replaceAll('import.meta.url', `${url}.href`);
      }
      const cjsGlobals = [];
      for (const name of ['__dirname', '__filename']) {
        const declared = new RegExp(`\\b(?:var|let|const|function)\\s+${name}\\b`);
        if (new RegExp(`\\b${name}\\b`).test(contents) && !declared.test(contents)) {
          cjsGlobals.push(name);
        }
      }
      if (cjsGlobals.length > 0) {
        const header = cjsGlobals.map((name) =>
          name === '__filename'
            ? `var __filename = require('node:url').fileURLToPath(${url});`
            : `var __dirname = require('node:path').dirname(require('node:url').fileURLToPath(${url}));`,
        );
        contents = `${header.join('\n')}\n${contents}`;
      }
      return { contents, loader: 'js' };
    });
  },
});

const bundleDir = join(dirname(deployDir), `${deployDir.split(sep).pop()}-bundles`);
rmSync(bundleDir, { recursive: true, force: true });
for (const entry of entries()) {
  const outfile = join(bundleDir, entry);
  const result = await esbuild.build({
    entryPoints: [join(deployDir, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: EXTERNAL,
    // error classes are mapped to problem+json and logged by name
    keepNames: true,
    // the bundled CommonJS packages require Node's modules, which ESM output has no require for
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module';\nconst __bundleUrl = import.meta.url;\nconst require = __bundleCreateRequire(__bundleUrl);",
    },
    plugins: [originalLocation(join(deployDir, entry))],
    logLevel: 'warning',
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${entry}`);
}

// node_modules: keep the externals and their dependencies (pnpm's layout: .pnpm/<entry>/node_modules/<name>)
const store = join(deployDir, 'node_modules/.pnpm');
const keep = new Set();
const visit = (packageDir) => {
  if (keep.has(packageDir)) return;
  keep.add(packageDir);
  const manifest = packageJson(packageDir);
  // pnpm links a package's dependencies next to it
  const siblings = packageDir.slice(0, packageDir.lastIndexOf(`${sep}node_modules${sep}`) + 14);
  for (const dep of Object.keys({
    ...manifest.dependencies,
    ...manifest.optionalDependencies,
    ...manifest.peerDependencies,
  })) {
    const link = join(siblings, dep);
    if (existsSync(link)) visit(realpathSync(link));
  }
};
const externalDirs = new Map();
for (const entry of readdirSync(store)) {
  for (const name of [...EXTERNAL, ...KEEP_FILES]) {
    const dir = join(store, entry, 'node_modules', name);
    if (entry.startsWith(`${name.replace('/', '+')}@`) && existsSync(dir)) {
      if (KEEP_FILES.includes(name)) keep.add(dir);
      else visit(dir);
      externalDirs.set(name, [...(externalDirs.get(name) ?? []), dir]);
    }
  }
}
for (const [name, dirs] of externalDirs) {
  if (dirs.length > 1) {
    throw new Error(`${name} is installed in ${dirs.length} versions; the bundles import one`);
  }
}
const keptEntries = new Set([...keep].map((dir) => relative(store, dir).split(sep)[0]));
for (const entry of readdirSync(store)) {
  const entryDir = join(store, entry);
  if (entry.startsWith('@repo+')) {
    // a workspace package: its code is in the bundles; its package.json and data files stay
    const scope = join(entryDir, 'node_modules/@repo');
    for (const name of readdirSync(scope)) {
      if (lstatSync(join(scope, name)).isSymbolicLink()) continue;
      rmSync(join(scope, name, 'dist'), { recursive: true, force: true });
    }
  } else if (!keptEntries.has(entry) && lstatSync(entryDir).isDirectory()) {
    rmSync(entryDir, { recursive: true, force: true });
  }
}
// the app's top-level links: only those that still lead somewhere, plus every external, which
// the bundles in dist/ import by name
const topLevel = join(deployDir, 'node_modules');
for (const name of readdirSync(topLevel).flatMap((n) =>
  n.startsWith('@') ? readdirSync(join(topLevel, n)).map((m) => `${n}/${m}`) : [n],
)) {
  if (name === '.pnpm' || name.startsWith('.')) continue;
  if (!existsSync(join(topLevel, name))) rmSync(join(topLevel, name), { force: true });
}
for (const scope of readdirSync(topLevel).filter((n) => n.startsWith('@'))) {
  if (readdirSync(join(topLevel, scope)).length === 0)
    rmSync(join(topLevel, scope), { recursive: true });
}
for (const [name, [dir]] of externalDirs) {
  const link = join(topLevel, name);
  if (existsSync(link)) continue;
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), dir), link);
}
// what the externals ship for editors and debuggers: Node loads neither (it runs without
// --enable-source-maps)
const dropDevelopmentFiles = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) dropDevelopmentFiles(path);
    else if (entry.isFile() && /\.(?:map|d\.[cm]?ts)$/.test(entry.name)) rmSync(path);
  }
};
dropDevelopmentFiles(store);
rmSync(join(deployDir, 'dist'), { recursive: true, force: true });
const copyTree = (from, to) => {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyTree(source, target);
    else {
      mkdirSync(dirname(target), { recursive: true });
      // through the links: a bin's path runs through node_modules/@repo/<name>
      copyFileSync(source, target);
    }
  }
};
copyTree(bundleDir, deployDir);
rmSync(bundleDir, { recursive: true, force: true });
