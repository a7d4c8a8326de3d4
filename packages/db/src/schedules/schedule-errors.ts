/** A schedule with this key exists already (keys are unique). */
export class ScheduleKeyTakenError extends Error {
  override readonly name = 'ScheduleKeyTakenError';
  readonly key: string;

  constructor(key: string, options?: { cause?: unknown }) {
    super(`a schedule with key "${key}" exists already`, options);
    this.key = key;
  }
}
