import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Problem } from './problems.js';

/** A parsed YAML file that can say where a field is: its value, and the line and column of any JSON pointer in it. */
export interface YamlSource {
  file?: string;
  /** The document as plain JSON-like data (undefined when it did not parse). */
  value: unknown;
  /** Syntax errors, each with its line and column; the value is unusable when there are any. */
  errors: Problem[];
  /** Line and column of the node at `pointer` (of its key with `key`), or of its nearest ancestor that exists. */
  locate(pointer: string, key?: boolean): { line: number; column: number } | undefined;
}

/**
 * Parse YAML with the `yaml` package, which keeps node positions (js-yaml does not). YAML 1.2 core schema, so
 * `2026-01-01` stays a string; `<<` merge keys work as they did with js-yaml; duplicate keys are errors.
 */
export function parseYamlSource(text: string, file?: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const errors: Problem[] = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    // `Unexpected scalar token in YAML stream: "<text>"` quotes the file: a value there may be a secret, the position says enough.
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/: ".*$/, '');
    return { message, file, line: pos.line, column: pos.col };
  });
  let value: unknown;
  if (!errors.length) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push({ message: (err as Error).message, file });
    }
  }
  return {
    file,
    value,
    errors,
    locate(pointer, key = false) {
      const offset = find(doc, pointer, key);
      if (offset === undefined) return undefined;
      const pos = lines.linePos(offset);
      return { line: pos.line, column: pos.col };
    },
  };
}

/** Offset of the node at `pointer` (or its key), walking maps, sequences and aliases; the nearest ancestor's when it is missing. */
function find(doc: Document, pointer: string, key: boolean): number | undefined {
  let node: unknown = doc.contents;
  let at: number | undefined = (node as Node | null)?.range?.[0];
  const segments = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const [i, seg] of segments.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      if (key && i === segments.length - 1) return (pair.key as Node).range?.[0] ?? at;
      next = pair.value;
    } else if (isSeq(node)) next = node.items[Number(seg)];
    else break;
    const range = (next as Node | null)?.range;
    if (!range) break;
    node = next;
    at = range[0];
  }
  return at;
}
