// INI files as OpenStack (oslo.config), MySQL and friends write them: merge a tutorial's sections and keys into an
// existing file without disturbing anything else (comments, order, other keys), idempotently.
//
// Rules (see docs/tutorial-format.md):
//  - `[section]` headers; keys before the first header belong to the unnamed global section (sysctl.conf style);
//  - `key = value` (the key ends at the first `=`, so values may contain `=`), or a bare `key` (my.cnf flags);
//  - lines starting with `#` or `;` are comments and are never touched, so `#connection = …` stays as it is;
//  - an indented line right after a key continues its value (oslo.config multi-line values);
//  - keys match ignoring surrounding spaces, with `-` and `_` equivalent (both oslo.config and MySQL treat them so);
//  - in the patch, comments, blank lines and placeholder lines such as `...` or `# ...` are ignored.

const SECTION = /^\s*\[([^\]]+)\]\s*(?:[#;].*)?$/;
const PLACEHOLDER = /^\s*(?:[#;]\s*)?(?:\.{3,}|…)\s*$/;

/** One classified line. */
interface Line {
  kind: 'blank' | 'comment' | 'section' | 'key' | 'continuation';
  text: string;
  /** Section name, for `section` lines. */
  name?: string;
  /** Normalised key, for `key` lines. */
  key?: string;
}

/** An active key with its continuation lines: `lines[start, end)`. */
interface KeyRange {
  key: string;
  start: number;
  end: number;
}

/** One occurrence of a section in the file: header at `header` (-1 for the global area), body up to `end`. */
interface SectionRange {
  name: string;
  header: number;
  end: number;
  keys: KeyRange[];
}

/** A key of the patch, with its lines (key line, then continuation lines). */
interface PatchEntry {
  key: string;
  lines: string[];
}

function normaliseKey(key: string): string {
  return key.trim().replace(/-/g, '_');
}

// Classifies each line; an indented line directly after a key or continuation continues that value.
function classify(text: string[]): Line[] {
  const out: Line[] = [];
  let inValue = false;
  for (const t of text) {
    const trimmed = t.trim();
    if (trimmed === '') {
      out.push({ kind: 'blank', text: t });
      inValue = false;
    } else if (trimmed.startsWith('#') || trimmed.startsWith(';')) {
      out.push({ kind: 'comment', text: t });
    } else if (inValue && /^\s/.test(t)) {
      out.push({ kind: 'continuation', text: t });
    } else {
      const section = SECTION.exec(t);
      if (section) {
        out.push({ kind: 'section', text: t, name: (section[1] ?? '').trim() });
        inValue = false;
      } else {
        const eq = t.indexOf('=');
        out.push({ kind: 'key', text: t, key: normaliseKey(eq >= 0 ? t.slice(0, eq) : t) });
        inValue = true;
      }
    }
  }
  return out;
}

// The section occurrences of a classified file, with their active keys.
function structure(lines: Line[]): SectionRange[] {
  const sections: SectionRange[] = [{ name: '', header: -1, end: lines.length, keys: [] }];
  lines.forEach((line, i) => {
    const current = sections[sections.length - 1] as SectionRange;
    if (line.kind === 'section') {
      current.end = i;
      sections.push({ name: line.name ?? '', header: i, end: lines.length, keys: [] });
    } else if (line.kind === 'key') {
      current.keys.push({ key: line.key ?? '', start: i, end: i + 1 });
    } else if (line.kind === 'continuation') {
      const last = current.keys[current.keys.length - 1];
      if (last) last.end = i + 1;
    }
  });
  return sections;
}

// The patch as sections of entries, in order; repeated sections are merged, placeholders and comments dropped.
function readPatch(patch: string): Array<{ name: string; entries: PatchEntry[] }> {
  const text = dedent(splitLines(patch).filter((l) => !PLACEHOLDER.test(l)));
  const sections: Array<{ name: string; entries: PatchEntry[] }> = [];
  let current: { name: string; entries: PatchEntry[] } | undefined;
  const sectionNamed = (name: string) => {
    let s = sections.find((x) => x.name === name);
    if (!s) {
      s = { name, entries: [] };
      sections.push(s);
    }
    return s;
  };
  classify(text).forEach((line) => {
    if (line.kind === 'section') current = sectionNamed(line.name ?? '');
    else if (line.kind === 'key') {
      current ??= sectionNamed('');
      current.entries.push({ key: line.key ?? '', lines: [line.text.trim()] });
    } else if (line.kind === 'continuation') {
      current?.entries[current.entries.length - 1]?.lines.push(line.text.trimEnd());
    }
  });
  return sections;
}

// Removes indentation common to every non-blank line, so an indented block reads as unindented keys.
function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  // (reduce, not Math.min(...): a 130,000-line block would overflow the call stack)
  const common = indents.length > 0 ? indents.reduce((a, b) => Math.min(a, b)) : 0;
  return common === 0 ? lines : lines.map((l) => l.slice(Math.min(common, l.length - l.trimStart().length)));
}

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// Merges the patch's sections and keys into `existing`: the first active occurrence of a key is replaced (later
// active duplicates are removed: oslo.config would let the last one win), missing keys go after the last key of
// their section, missing sections at the end of the file. Merging twice gives the same text as merging once.
export function mergeIni(existing: string, patch: string): string {
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  let text = splitLines(existing);
  for (const section of readPatch(patch)) {
    const keys = [...new Set(section.entries.map((e) => e.key))];
    for (const key of keys) {
      const values = section.entries.filter((e) => e.key === key).map((e) => e.lines);
      text = setKey(text, section.name, key, values);
    }
    if (section.entries.length === 0 && !structure(classify(text)).some((s) => s.name === section.name)) {
      text = appendSection(text, section.name, []);
    }
  }
  return text.length === 0 ? '' : text.join(eol) + eol;
}

// Sets one key (one or more values, for multi-valued options) in a section of the file's lines.
function setKey(text: string[], sectionName: string, key: string, values: string[][]): string[] {
  const sections = structure(classify(text)).filter((s) => s.name === sectionName);
  if (sections.length === 0) return appendSection(text, sectionName, values.flat());
  const occurrences = sections.flatMap((s) => s.keys.filter((k) => k.key === key));
  const out = [...text];
  if (occurrences.length === 0) {
    const target = sections[sections.length - 1] as SectionRange;
    return [...out.slice(0, insertionPoint(text, target)), ...values.flat(), ...out.slice(insertionPoint(text, target))];
  }
  // Work from the end so earlier indexes stay valid.
  const last = occurrences[Math.min(values.length, occurrences.length) - 1] as KeyRange;
  const extraValues = values.slice(occurrences.length).flat();
  for (let n = occurrences.length - 1; n >= 0; n--) {
    const occ = occurrences[n] as KeyRange;
    const replacement = n < values.length ? (values[n] as string[]) : [];
    const withExtra = occ === last ? [...replacement, ...extraValues] : replacement;
    out.splice(occ.start, occ.end - occ.start, ...withExtra);
  }
  return out;
}

// New keys go after the section's last key, or right after its header when it has none (the global area: at its
// end, before the blank lines that separate it from the first section).
function insertionPoint(text: string[], section: SectionRange): number {
  const lastKey = section.keys[section.keys.length - 1];
  if (lastKey) return lastKey.end;
  if (section.header >= 0) return section.header + 1;
  let end = section.end;
  while (end > 0 && (text[end - 1] ?? '').trim() === '') end--;
  return end;
}

// A missing section goes at the end of the file, after one blank line.
function appendSection(text: string[], name: string, lines: string[]): string[] {
  const out = [...text];
  if (name === '') return [...lines, ...out];
  while (out.length > 0 && (out[out.length - 1] ?? '').trim() === '') out.pop();
  if (out.length > 0) out.push('');
  out.push(`[${name}]`, ...lines);
  return out;
}

/** Reads INI text into section → key → value, the last occurrence winning (oslo.config's reading). */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const lines = splitLines(text);
  const classified = classify(lines);
  const result: Record<string, Record<string, string>> = {};
  for (const section of structure(classified)) {
    const values = (result[section.name] ??= {});
    for (const k of section.keys) {
      const first = lines[k.start] ?? '';
      const eq = first.indexOf('=');
      const value = eq >= 0 ? first.slice(eq + 1).trim() : '';
      const more = lines.slice(k.start + 1, k.end).map((l) => l.trim());
      values[k.key] = [value, ...more].join('\n');
    }
  }
  if (Object.keys(result[''] ?? {}).length === 0) delete result[''];
  return result;
}
