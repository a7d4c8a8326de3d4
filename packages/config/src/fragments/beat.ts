import { z } from 'zod';
import { describeEnv, duration } from '../env-values.ts';

export const beatEnv = z.object({
  BEAT_RESYNC_INTERVAL: describeEnv(duration({ min: 5_000 }).prefault('5m'), {
    description:
      'How often beat re-applies the declared schedules, repairing any that were removed or changed in Redis.',
  }),
});
export type BeatConfig = z.output<typeof beatEnv>;
