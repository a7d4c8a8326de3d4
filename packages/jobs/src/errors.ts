import type { z } from 'zod';

export class UnknownJobTypeError extends Error {
  override readonly name = 'UnknownJobTypeError';
  readonly type: string;
  readonly knownTypes: readonly string[];

  constructor(type: string, knownTypes: readonly string[]) {
    super(`Unknown job type "${type}". Known types: ${knownTypes.join(', ')}`);
    this.type = type;
    this.knownTypes = knownTypes;
  }
}

export class InvalidPayloadError extends Error {
  override readonly name = 'InvalidPayloadError';
  readonly type: string;
  readonly issues: readonly z.core.$ZodIssue[];

  constructor(type: string, issues: readonly z.core.$ZodIssue[]) {
    const summary = issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(payload)'}: ${issue.message}`)
      .join('; ');
    super(`Invalid payload for job type "${type}": ${summary}`);
    this.type = type;
    this.issues = issues;
  }
}

/** A job type in ./types that breaks a rule of the contract; thrown when its module loads. */
export class JobTypeDefinitionError extends Error {
  override readonly name = 'JobTypeDefinitionError';
  readonly type: string;

  constructor(type: string, problem: string) {
    super(`Job type "${type}": ${problem}`);
    this.type = type;
  }
}
