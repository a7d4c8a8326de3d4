import { z } from 'zod';
import { describeEnv, duration, integer } from '../env-values.ts';

const trustProxy = z
  .string()
  .trim()
  .transform((value, ctx): boolean | number | string[] => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.every((entry) => /^[\w.:/-]+$/.test(entry))) return entries;
    ctx.addIssue({
      code: 'custom',
      message: 'expected false, true, a number of proxy hops, or comma-separated addresses/subnets',
    });
    return z.NEVER;
  });

export const httpEnv = z.object({
  PORT: describeEnv(integer({ min: 1, max: 65_535 }).prefault('8000'), {
    description: 'Port the HTTP API listens on (Render and Railway set it).',
  }),
  HOST: describeEnv(z.string().min(1).prefault('::'), {
    description: 'Address to listen on; :: accepts IPv6 and IPv4.',
  }),
  TRUST_PROXY: describeEnv(trustProxy.prefault('false'), {
    description:
      "Express 'trust proxy': how many proxies (or which addresses) sit in front and may set X-Forwarded-*. Render and Railway put one in front: 1.",
    example: '1',
  }),
  BODY_LIMIT: describeEnv(
    z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 100kb or 1mb')
      .prefault('100kb'),
    { description: 'Largest JSON request body accepted; larger bodies get 413.' },
  ),
  REQUEST_TIMEOUT: describeEnv(duration({ min: 1_000 }).prefault('30s'), {
    description: 'Requests that take longer are answered 503 and their socket closed.',
  }),
});
export type HttpConfig = z.output<typeof httpEnv>;
