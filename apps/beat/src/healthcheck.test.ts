import { describeHealthcheckEntry } from '@repo/health/testing';

// The image's HEALTHCHECK (src/healthcheck.ts), as Docker runs it, asking the port beat reads
// from HEALTH_PORT.
describeHealthcheckEntry({
  entry: new URL('./healthcheck.ts', import.meta.url),
  service: 'beat',
  portVariable: 'HEALTH_PORT',
});
