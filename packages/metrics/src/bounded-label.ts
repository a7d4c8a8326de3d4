/**
 * A label value from a fixed set, or `other`: every label of every jobstack metric goes through
 * one, so no input (a job type nobody declared, an invented HTTP method) adds a series.
 */
export function boundedLabel(value: string, allowed: ReadonlySet<string>): string {
  return allowed.has(value) ? value : 'other';
}

/** HTTP status codes as Express can send them; anything else (none should occur) is `other`. */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}
