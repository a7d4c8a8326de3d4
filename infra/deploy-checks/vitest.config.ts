import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Inlining the parser makes Vite warn that its published source maps point at missing files.
  logLevel: 'error',
  test: {
    // The workflow parser imports its JSON schema without an import attribute, which Node
    // refuses; letting Vite transform the package handles the JSON import.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
