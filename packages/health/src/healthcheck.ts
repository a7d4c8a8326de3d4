#!/usr/bin/env node
// Docker HEALTHCHECK for every image, so no curl or wget ships in them:
//   node node_modules/@repo/health/dist/healthcheck.js <api|worker|beat>
// Asks the service's own /health/ready on loopback; exit 0 when it answers 200, else 1.
// The port variable and its default come from the service's config schema.
import { describeServiceEnv, type ServiceName } from '@repo/config';

const SERVICES: Record<string, { portVariable: string }> = {
  api: { portVariable: 'PORT' },
  worker: { portVariable: 'HEALTH_PORT' },
  beat: { portVariable: 'HEALTH_PORT' },
};

export async function probe(service: string, env: NodeJS.ProcessEnv, timeoutMs = 3_000) {
  const target = SERVICES[service];
  if (!target) throw new Error(`usage: healthcheck <${Object.keys(SERVICES).join('|')}>`);
  const variable = describeServiceEnv(service as ServiceName).find(
    (v) => v.name === target.portVariable,
  );
  const port = env[target.portVariable] || variable?.default;
  const url = `http://127.0.0.1:${port}/health/ready`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { url, status: response.status, body: await response.text() };
}

if (import.meta.main) {
  try {
    const result = await probe(process.argv[2] ?? '', process.env);
    if (result.status !== 200) {
      console.error(`${result.url} answered ${result.status}: ${result.body.slice(0, 500)}`);
      process.exit(1);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
