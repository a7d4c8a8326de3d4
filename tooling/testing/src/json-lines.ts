import { Writable } from 'node:stream';

export interface CapturedJsonLines {
  /** Pass as a JSON logger's destination (`createLogger({ destination, … })` with LOG_FORMAT=json). */
  destination: Writable;
  /** Every line written so far, parsed. */
  lines: Record<string, unknown>[];
}

/** Keeps what a JSON logger writes, one parsed object per line, for tests that assert on logs. */
export function captureJsonLines(): CapturedJsonLines {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { destination, lines };
}
