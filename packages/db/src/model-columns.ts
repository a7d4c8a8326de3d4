/**
 * The column of a model field: the schema maps every field to its snake_case name (@map), which
 * the drift test checks against the generated data model.
 */
export function columnOf(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The select list of a whole row as the generated model types it, from the model's field list
 * (`Prisma.<Model>ScalarFieldEnum`): `max_attempts AS "maxAttempts"`, …
 */
export function selectListOf(fields: readonly string[]): string {
  return fields
    .map((field) => {
      const column = columnOf(field);
      return column === field ? field : `${column} AS "${field}"`;
    })
    .join(', ');
}
