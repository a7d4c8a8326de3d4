import { testKindsConfig } from '@repo/testing/vitest-config';

// The kinds of test by file name (tooling/testing/src/vitest-config.ts): the compose checks need
// the Docker CLI and are the `docker` kind (`pnpm test:docker`), everything else is `unit`.
export default testKindsConfig({
  // Inlining the parser makes Vite warn that its published source maps point at missing files.
  logLevel: 'error',
  test: {
    // The workflow parser imports its JSON schema without an import attribute, which Node
    // refuses; letting Vite transform the package handles the JSON import.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
