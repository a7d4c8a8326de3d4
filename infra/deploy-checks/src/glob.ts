/**
 * Path patterns as both platforms read them, reduced to what deploy files here use:
 * `**` (any number of directories), `*` (within one path segment), `?` (one character).
 * A leading `/` anchors a Railway watch pattern at the repository root (gitignore style,
 * https://docs.railway.com/builds/build-configuration#configure-watch-paths); Render build
 * filters are always relative to the root (https://render.com/docs/monorepo-support#filter-syntax).
 * Patterns are matched against whole repo-relative file paths, so a directory must be written
 * with `/**` to cover its files.
 */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern.replace(/^\/+/, '');
  let re = '';
  for (let i = 0; i < source.length; i++) {
    const c = source.charAt(i);
    if (c === '*' && source.charAt(i + 1) === '*') {
      const segmentStart = i === 0 || source.charAt(i - 1) === '/';
      i++;
      if (segmentStart && source.charAt(i + 1) === '/') {
        re += '(?:.*/)?';
        i++;
      } else {
        re += '.*';
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

export function matchesAny(file: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(file));
}
