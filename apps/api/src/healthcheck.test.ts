import { describeHealthcheckEntry } from '@repo/health/testing';

// The image's HEALTHCHECK (src/healthcheck.ts), as Docker runs it, asking the port api reads
// from PORT.
describeHealthcheckEntry({
  entry: new URL('./healthcheck.ts', import.meta.url),
  service: 'api',
  portVariable: 'PORT',
});
