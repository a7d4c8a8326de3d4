// The generators' edits of existing files: each inserts rendered text at a named place and fails
// loudly when that place is gone. (plop's own `modify` action leaves a file unchanged when its
// pattern no longer matches, and the generator would report success with a half-wired result.)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Inserts `text` into a repository file right before the first match of `before` (or right
 * after the first match of `after`).
 */
export function insertInFile(
  root: string,
  file: string,
  text: string,
  place: { before: RegExp } | { after: RegExp },
): string {
  const path = join(root, file);
  const content = readFileSync(path, 'utf8');
  const anchor = 'before' in place ? place.before : place.after;
  const match = anchor.exec(content);
  if (!match) {
    throw new Error(`${file}: found no ${anchor} to insert at; add it by hand`);
  }
  const at = 'before' in place ? match.index : match.index + match[0].length;
  writeFileSync(path, content.slice(0, at) + text + content.slice(at));
  return file;
}

/**
 * Adds `item` to every YAML flow list `list` matches (a matrix of apps, Dependabot's
 * directories); `list` captures the list's opening up to `[`, and its items.
 */
export function appendToFlowLists(root: string, file: string, list: RegExp, item: string): string {
  const path = join(root, file);
  const content = readFileSync(path, 'utf8');
  const lists = new RegExp(list.source, 'g');
  if (!lists.test(content)) throw new Error(`${file}: found no ${list} list of the apps`);
  writeFileSync(
    path,
    content.replace(lists, (_all, head: string, items: string) => `${head}${items}, ${item}]`),
  );
  return file;
}
