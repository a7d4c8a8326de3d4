/** A `list()` cursor that this repository did not produce (or that was altered). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';

  constructor(cursor: string) {
    super(
      `"${cursor.length > 64 ? `${cursor.slice(0, 64)}…` : cursor}" is not a valid cursor: pass back the nextCursor of a previous page unchanged`,
    );
  }
}

/** A `list()` limit outside 1..JOB_LIST_MAX_LIMIT, or not a whole number. */
export class InvalidListLimitError extends RangeError {
  override readonly name = 'InvalidListLimitError';
}

/** A payload or result that cannot be stored as JSON (undefined, a function, a cycle, a BigInt). */
export class JobJsonError extends TypeError {
  override readonly name = 'JobJsonError';
  /** Which field of the job cannot be stored: `payload`, `result` or `metadata`. */
  readonly field: string;

  constructor(message: string, options: ErrorOptions & { field: string }) {
    super(message, options);
    this.field = options.field;
  }
}
