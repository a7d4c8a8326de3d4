// Generators for the fuzz suite that reach what JSON.stringify of a random value never writes:
// lone UTF-16 surrogates, -0, numbers at and beyond a double's limits, arrays nested past the
// api's depth limit, duplicate keys, and header values with control characters. JSON is built as
// a tree first and written out by hand, so each of those can be put into the text, and the tree
// says which of them a sample holds (fuzz-generators.test.ts checks that each one shows up).
import fc from 'fast-check';

export type JsonNode =
  | { kind: 'literal'; text: 'true' | 'false' | 'null' }
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'object'; entries: [string, JsonNode][] };

/** Number texts at the edges: -0, the largest and smallest doubles, past them, past 2^53. */
export const EDGE_NUMBERS = [
  '-0',
  '-0.0',
  '-0e5',
  '-0.000e-3',
  '0e-5',
  '1.7976931348623157e308',
  '-1.7976931348623157e308',
  '1e308',
  '1e309',
  '-1e400',
  '5e-324',
  '1e-400',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '123456789012345678901234567890',
  '0.1000000000000000055511151231257827',
] as const;

const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((code) => String.fromCharCode(code));

/** Any text, lone surrogates included (fast-check's own string units never produce one). */
export const textWithLoneSurrogates = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('a', 'é', '\u0000', '"', '\\') },
    {
      weight: 4,
      arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    },
    { weight: 2, arbitrary: loneSurrogate },
  ),
  maxLength: 12,
});

const numberNode = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...EDGE_NUMBERS)
      .map((text) => ({ kind: 'number', text }) as JsonNode),
  },
  {
    weight: 1,
    arbitrary: fc
      .double()
      .map((n) => ({ kind: 'number', text: Number.isFinite(n) ? String(n) : '0' }) as JsonNode),
  },
  {
    weight: 1,
    arbitrary: fc.integer().map((n) => ({ kind: 'number', text: String(n) }) as JsonNode),
  },
);

/** A JSON tree whose objects often repeat a key (keys come from a small set). */
export const jsonTree: fc.Arbitrary<JsonNode> = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('true', 'false', 'null').map((text) => ({ kind: 'literal', text }) as JsonNode),
    numberNode,
    textWithLoneSurrogates.map((value) => ({ kind: 'string', value }) as JsonNode),
    fc.array(tie('node'), { maxLength: 4 }).map((items) => ({ kind: 'array', items }) as JsonNode),
    fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom('data', 'a', 'b'), textWithLoneSurrogates), tie('node')),
        {
          maxLength: 4,
        },
      )
      .map((entries) => ({ kind: 'object', entries }) as JsonNode),
  ),
})).node;

/** Arrays nested around a value, around the api's limit of 64 levels and far past it. */
export const deepArrays = fc
  .tuple(fc.integer({ min: 55, max: 2_000 }), jsonTree)
  .map(([depth, inner]) => {
    let node = inner;
    for (let level = 0; level < depth; level += 1) node = { kind: 'array', items: [node] };
    return node;
  });

/** The JSON text of a tree: strings through JSON.stringify (a lone surrogate becomes \udXXX). */
export function writeJson(node: JsonNode): string {
  switch (node.kind) {
    case 'literal':
    case 'number':
      return node.text;
    case 'string':
      return JSON.stringify(node.value);
    case 'array':
      return `[${node.items.map(writeJson).join(',')}]`;
    case 'object':
      return `{${node.entries.map(([key, value]) => `${JSON.stringify(key)}:${writeJson(value)}`).join(',')}}`;
  }
}

/**
 * A POST /v1/jobs body (text) with an edge-case tree as the payload's data, as the payload, or
 * inside the job's metadata (a JSON object of the client's, stored as jsonb like the payload).
 */
export const edgeCaseJobBody = fc
  .tuple(
    fc.oneof(jsonTree, deepArrays),
    fc.constantFrom('data', 'payload', 'metadata'),
    fc.boolean(),
  )
  .map(([tree, where, duplicateType]) => {
    const payload =
      where === 'data'
        ? `{"data":${writeJson(tree)}}`
        : where === 'payload'
          ? writeJson(tree)
          : '{}';
    const metadata = where === 'metadata' ? `,"metadata":{"data":${writeJson(tree)}}` : '';
    // a repeated top-level key: JSON.parse (and jsonb) keep the last one
    const type = duplicateType ? '"type":"nope","type":"system.echo"' : '"type":"system.echo"';
    return { tree, text: `{${type},"payload":${payload}${metadata}}` };
  });

/** What a tree holds, to check that the generators reach each case. */
export function featuresOf(node: JsonNode): {
  loneSurrogate: boolean;
  negativeZero: boolean;
  beyondDouble: boolean;
  depth: number;
  duplicateKey: boolean;
} {
  const found = {
    loneSurrogate: false,
    negativeZero: false,
    beyondDouble: false,
    depth: 0,
    duplicateKey: false,
  };
  const pending: [JsonNode, number][] = [[node, 0]];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [current, depth] = item;
    found.depth = Math.max(found.depth, depth);
    if (current.kind === 'number') {
      const value = Number(current.text);
      if (Object.is(value, -0)) found.negativeZero = true;
      if (!Number.isFinite(value)) found.beyondDouble = true;
    } else if (current.kind === 'string') {
      if (!current.value.isWellFormed()) found.loneSurrogate = true;
    } else if (current.kind === 'array') {
      for (const child of current.items) pending.push([child, depth + 1]);
    } else if (current.kind === 'object') {
      const keys = current.entries.map(([key]) => key);
      if (new Set(keys).size < keys.length) found.duplicateKey = true;
      if (keys.some((key) => !key.isWellFormed())) found.loneSurrogate = true;
      for (const [, child] of current.entries) pending.push([child, depth + 1]);
    }
  }
  return found;
}

/** Header values a client may put on the wire raw: control characters (NUL, ESC, DEL, a bare CR). */
export const controlCharHeaderValue = fc
  .tuple(
    fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', ' '), maxLength: 8 }),
    fc.constantFrom('\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\t', '\r', '\u0085'),
    fc.string({ unit: fc.constantFrom('a', '9', '.'), maxLength: 8 }),
  )
  .map(([before, control, after]) => `${before}${control}${after}`);

/** Raw requests carrying one control-character header value in a header the api reads. */
export const controlCharHeaderRequest = (apiKey: string) =>
  fc
    .tuple(
      fc.constantFrom('Authorization', 'Idempotency-Key', 'X-Request-Id', 'Content-Type', 'Prefer'),
      controlCharHeaderValue,
    )
    .map(([name, value]) => {
      const body = '{"type":"system.echo","payload":{}}';
      const auth = name === 'Authorization' ? [] : [`Authorization: Bearer ${apiKey}`];
      const type = name === 'Content-Type' ? [] : ['Content-Type: application/json'];
      return [
        'POST /v1/jobs HTTP/1.1',
        'Host: 127.0.0.1',
        'Connection: close',
        ...auth,
        ...type,
        `${name}: ${value}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    });
