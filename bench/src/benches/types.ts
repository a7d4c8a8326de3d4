import type { Figure } from '../lib/result.ts';

export interface BenchContext {
  /** Shorter runs (fewer rounds, fewer jobs) for trying the bench out; not for BENCHMARKS.md. */
  quick: boolean;
  /** Progress for the terminal. */
  log(line: string): void;
  /** A note that goes into the result (and BENCHMARKS.md). */
  note(text: string): void;
}

export interface BenchOutput {
  settings: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
}

export interface BenchDefinition {
  name: string;
  title: string;
  run(context: BenchContext): Promise<BenchOutput>;
}
