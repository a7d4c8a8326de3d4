// The image's Docker HEALTHCHECK: exit 0 when this app's /health/ready answers 200 on loopback,
// else 1 with the reason. The port is PORT as the app itself reads it (its default included).
import { runHealthcheck } from '@repo/health';
import { apiEnv } from './env.ts';

await runHealthcheck({ port: apiEnv.shape.PORT.parse(process.env.PORT || undefined) });
