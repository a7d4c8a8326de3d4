import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The workflow parser imports its JSON schema without an import attribute, which Node
    // refuses; letting Vite transform the package handles the JSON import.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
