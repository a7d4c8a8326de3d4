import type { FileCoverageData, Range } from 'istanbul-lib-coverage';

/**
 * Adds the counts of `source` to `target`, two Istanbul conversions of the same file (`text`),
 * matching statements, functions and branches by where they start. Returns how many of
 * `source`'s found no match (their counts are not added).
 *
 * Hand-written because the libraries merge by exact location: Vitest converts a test's
 * coverage from Vite's output through its source map, and a process's from the file as Node ran
 * it; both conversions find the same nodes starting at the same places, but the source map ends
 * some of them at other columns (or none), and starts an expression in parentheses — a type
 * assertion's, which Vite drops — at what they enclose. So a start is compared past any opening
 * parentheses and blanks.
 */
export function addCountsByStart(
  target: FileCoverageData,
  source: FileCoverageData,
  text: string,
): number {
  let unmatched = 0;
  const lineStarts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    lineStarts.push(index + 1);
  }
  const startOf = (range: Range) => {
    let offset = (lineStarts[range.start.line - 1] ?? 0) + range.start.column;
    while (/[(\s]/.test(text[offset] ?? '')) offset++;
    return offset;
  };

  const statements = indexByStart(target.statementMap, (loc) => startOf(loc));
  for (const [key, id] of indexByStart(source.statementMap, (loc) => startOf(loc))) {
    const targetId = statements.get(key);
    if (targetId === undefined) unmatched++;
    else target.s[targetId] = (target.s[targetId] ?? 0) + (source.s[id] ?? 0);
  }

  const functions = indexByStart(target.fnMap, (fn) => startOf(fn.loc));
  for (const [key, id] of indexByStart(source.fnMap, (fn) => startOf(fn.loc))) {
    const targetId = functions.get(key);
    if (targetId === undefined) unmatched++;
    else target.f[targetId] = (target.f[targetId] ?? 0) + (source.f[id] ?? 0);
  }

  const branchKey = (branch: FileCoverageData['branchMap'][string]) => startOf(branch.loc);
  const branches = indexByStart(target.branchMap, branchKey, (branch) => branch.type);
  for (const [key, id] of indexByStart(source.branchMap, branchKey, (branch) => branch.type)) {
    const targetId = branches.get(key);
    const into = targetId === undefined ? undefined : target.b[targetId];
    const from = source.b[id] ?? [];
    if (into === undefined || into.length !== from.length) {
      unmatched++;
      continue;
    }
    for (const [index, count] of from.entries()) into[index] = (into[index] ?? 0) + count;
  }

  return unmatched;
}

/**
 * Entries by their start (and kind), numbered when several start at the same place, in the
 * order of their ids: both conversions walk the file's syntax tree in the same order.
 */
function indexByStart<T>(
  entries: Record<string, T>,
  startOffset: (entry: T) => number,
  kind: (entry: T) => string = () => '',
): Map<string, string> {
  const index = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const id of Object.keys(entries).sort((a, b) => Number(a) - Number(b))) {
    const entry = entries[id] as T;
    const start = `${kind(entry)}@${startOffset(entry)}`;
    const occurrence = seen.get(start) ?? 0;
    seen.set(start, occurrence + 1);
    index.set(`${start}#${occurrence}`, id);
  }
  return index;
}
