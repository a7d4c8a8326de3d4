import type { FileCoverageData } from 'istanbul-lib-coverage';
import { describe, expect, it } from 'vitest';
import { addCountsByStart } from './merge-by-start.ts';

// line 1: `const x = (input as string).trim();` ; line 2: `if (x) f();`
const text = 'const x = (input as string).trim();\nif (x) f();\n';
const at = (line: number, column: number, endColumn: number | null) => ({
  start: { line, column },
  end: { line, column: endColumn as number },
});

/** The file as Vitest converts a test's coverage: Vite dropped the parentheses, no end columns. */
function fromTests(): FileCoverageData {
  return {
    path: '/repo/file.ts',
    statementMap: { '0': at(1, 11, null), '1': at(2, 0, null), '2': at(2, 7, null) },
    s: { '0': 1, '1': 1, '2': 0 },
    fnMap: {},
    f: {},
    branchMap: {
      '0': {
        loc: at(2, 0, null),
        type: 'if',
        locations: [at(2, 0, null), at(2, 0, null)],
        line: 2,
      },
    },
    b: { '0': [0, 1] },
  };
}

/** The same file as a process's coverage converts: the parenthesis kept, real end columns. */
function fromProcess(): FileCoverageData {
  return {
    path: '/repo/file.ts',
    statementMap: { '0': at(1, 10, 34), '1': at(2, 0, 11), '2': at(2, 7, 11) },
    s: { '0': 2, '1': 2, '2': 1 },
    fnMap: {},
    f: {},
    branchMap: {
      '0': { loc: at(2, 0, 11), type: 'if', locations: [at(2, 0, 11), at(2, 0, 11)], line: 2 },
    },
    b: { '0': [1, 1] },
  };
}

describe('addCountsByStart', () => {
  it('adds counts to the statements and branches that start at the same place', () => {
    const target = fromTests();
    expect(addCountsByStart(target, fromProcess(), text)).toBe(0);
    expect(target.s).toEqual({ '0': 3, '1': 3, '2': 1 });
    expect(target.b).toEqual({ '0': [1, 2] });
    // the structure is the target's: nothing added, nothing counted twice
    expect(Object.keys(target.statementMap)).toHaveLength(3);
  });

  it('counts what matches nothing instead of adding it', () => {
    const target = fromTests();
    const source = fromProcess();
    source.statementMap['3'] = at(2, 4, 5);
    source.s['3'] = 5;
    source.branchMap['0'] = {
      ...(source.branchMap['0'] as FileCoverageData['branchMap'][string]),
      type: 'cond-expr',
    };
    expect(addCountsByStart(target, source, text)).toBe(2);
    expect(target.s).toEqual({ '0': 3, '1': 3, '2': 1 });
    expect(target.b).toEqual({ '0': [0, 1] });
  });

  it('matches statements that start at the same place in order', () => {
    const twice = 'a(); b();\n';
    const target: FileCoverageData = {
      path: '/repo/twice.ts',
      statementMap: { '0': at(1, 0, null), '1': at(1, 0, null) },
      s: { '0': 0, '1': 0 },
      fnMap: {},
      f: {},
      branchMap: {},
      b: {},
    };
    const source = { ...target, s: { '0': 4, '1': 7 } };
    expect(addCountsByStart(target, source, twice)).toBe(0);
    expect(target.s).toEqual({ '0': 4, '1': 7 });
  });
});
