// Where the `job-type` generator registers a new type in existing files: its contract in the
// registry of job types, its handler in the worker's handler map.
import { insertInFile } from './file-edits.ts';

export interface JobTypeNames {
  /** `report.render` */
  name: string;
  /** `report-render`: file names */
  kebab: string;
  /** `reportRender`: identifiers */
  camel: string;
}

export interface FileEdit {
  file: string;
  before: RegExp;
  text: string;
}

export function jobTypeEdits({ name, kebab, camel }: JobTypeNames): FileEdit[] {
  return [
    {
      file: 'packages/jobs/src/registry.ts',
      before: /\n\/\*\* Every job type\./,
      text: `import { ${camel} } from './types/${kebab}.ts';\n`,
    },
    {
      file: 'packages/jobs/src/registry.ts',
      before: /\n} as const;/,
      text: `\n  [${camel}.type]: ${camel},`,
    },
    {
      file: 'apps/worker/src/handlers/index.ts',
      before: /\nexport type \{[^}]*\} from '\.\/job-handler\.ts';/,
      text: `import { ${camel} } from './${kebab}.ts';\n`,
    },
    {
      file: 'apps/worker/src/handlers/index.ts',
      before: /\n {2}};\n}\n?$/,
      text: `\n    '${name}': ${camel},`,
    },
  ];
}

/** Applies the edits in order; the first whose place is gone stops the generator, naming the file. */
export function applyEdits(root: string, edits: readonly FileEdit[]): string {
  for (const edit of edits) insertInFile(root, edit.file, edit.text, { before: edit.before });
  return `registered in ${[...new Set(edits.map((edit) => edit.file))].join(', ')}`;
}
