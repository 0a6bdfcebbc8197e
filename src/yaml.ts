// YAML read for people: the value, and a locator from a field path to the line it is on, so that a schema error
// names file:line; syntax errors become input errors at file:line.
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import { InputErrors, StackcheckError, type ErrorCode } from './error.js';

/** A field path in a YAML document (keys and list indexes). */
export type Path = ReadonlyArray<string | number>;
/** The 1-based line of a field path's value (or of `keyName` under it), when known. */
export type Locate = (path: Path, keyName?: string) => number | undefined;

// YAML text → plain value and a locator for field paths; syntax errors become input errors at file:line.
export function readYaml(text: string, file: string, code: ErrorCode): { value: unknown; locate: Locate } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new InputErrors(
      doc.errors.map(
        (e) =>
          new StackcheckError(code, `not valid YAML: ${e.message.split('\n')[0] ?? e.message}`, {
            location: { file, line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line },
          }),
      ),
    );
  }
  let value: unknown;
  try {
    // (the yaml package refuses documents whose aliases multiply without bound: a "billion laughs" bomb)
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new StackcheckError(code, `not valid YAML: ${err instanceof Error ? err.message : String(err)}`, { location: { file, line: 1 } });
  }
  return { value, locate: locator(doc, lineCounter) };
}

// Maps a field path to the line of its value (or of one of its keys) in the YAML document.
function locator(doc: Document, lines: LineCounter): Locate {
  return (path, keyName) => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    if (keyName !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === keyName);
      const range = isScalar(pair?.key) ? pair.key.range : undefined;
      if (range) return lines.linePos(range[0]).line;
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
    if (path.length > 0) return locator(doc, lines)(path.slice(0, -1), String(path[path.length - 1]));
    return undefined;
  };
}


/** A schema's issues as input errors at the line of each field (`students.3: Unrecognized key…`), for InputErrors. */
export function issueErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, file: string, locate: Locate, code: ErrorCode): StackcheckError[] {
  return issues.map((iss) => {
    const path = iss.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
    return new StackcheckError(code, `${path.join('.') || '(top)'}: ${iss.message}`, { location: { file, line: locate(path) ?? 1 } });
  });
}
