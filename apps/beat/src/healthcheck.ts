// The image's Docker HEALTHCHECK: exit 0 when this app's /health/ready answers 200 on loopback,
// else 1 with the reason. The port is HEALTH_PORT as the app itself reads it (its default included).
import { runHealthcheck } from '@repo/health';
import { beatEnv } from './env.ts';

await runHealthcheck({
  port: beatEnv.shape.HEALTH_PORT.parse(process.env.HEALTH_PORT || undefined),
});
