// Head migrations: the reader (run here on this machine's python3 against a package laid out like Debian's), and the
// comparison with alembic_version rows, on the revision graphs of the lab's Zed packages.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ancestors, compareVersion, heads, parseRevisions, pendingCount, REVISIONS_SCRIPT, type Revision } from '../../src/checks/migrations.js';
import { tempDir } from '../helpers/tmp.js';

const rev = (revision: string, down: string[] = [], depends: string[] = []): Revision => ({ revision, down, depends, file: `${revision}.py` });

// keystone 22 (Zed): an initial revision, then an expand and a contract branch; both tips are recorded.
const KEYSTONE = [rev('27e647c0fad4'), rev('29e87d24a316', ['27e647c0fad4']), rev('e25ffa003242', ['27e647c0fad4'])];
// glance 25 (Zed), the end of its chain: the contract head depends on the expand head, so alembic records only it.
const GLANCE = [
  rev('ussuri_expand01'),
  rev('ussuri_contract01'),
  rev('wallaby_expand01', ['ussuri_expand01']),
  rev('wallaby_contract01', ['ussuri_contract01'], ['wallaby_expand01']),
];

describe('revision graphs', () => {
  test('heads are the revisions nothing builds on', () => {
    expect(heads(KEYSTONE)).toEqual(['29e87d24a316', 'e25ffa003242']);
    expect(heads(GLANCE)).toEqual(['wallaby_contract01', 'wallaby_expand01']);
  });

  test('ancestors follow down_revision and depends_on', () => {
    expect([...ancestors(GLANCE, ['wallaby_contract01'])].sort()).toEqual(['ussuri_contract01', 'ussuri_expand01', 'wallaby_contract01', 'wallaby_expand01']);
  });
});

describe('a schema against the package', () => {
  test('at head: every tip recorded (keystone), or reached through a dependency (glance)', () => {
    expect(compareVersion(KEYSTONE, ['e25ffa003242', '29e87d24a316'])).toEqual({ state: 'head', current: ['29e87d24a316', 'e25ffa003242'], heads: ['29e87d24a316', 'e25ffa003242'] });
    expect(compareVersion(GLANCE, ['wallaby_contract01']).state).toBe('head');
  });

  test('behind: names the heads not reached and how many migrations are pending', () => {
    expect(compareVersion(KEYSTONE, ['29e87d24a316'])).toEqual({ state: 'behind', current: ['29e87d24a316'], heads: ['29e87d24a316', 'e25ffa003242'], missing: ['e25ffa003242'] });
    expect(compareVersion(GLANCE, ['ussuri_contract01'])).toMatchObject({ state: 'behind', missing: ['wallaby_contract01', 'wallaby_expand01'] });
    expect(pendingCount(GLANCE, ['ussuri_contract01'])).toBe(3);
  });

  test('no alembic_version table or rows: unversioned; a revision the package lacks: unknown', () => {
    expect(compareVersion(KEYSTONE, undefined)).toEqual({ state: 'unversioned', heads: ['29e87d24a316', 'e25ffa003242'] });
    expect(compareVersion(KEYSTONE, [])).toMatchObject({ state: 'unversioned' });
    expect(compareVersion(KEYSTONE, ['ffffffffffff'])).toMatchObject({ state: 'unknown', unknown: ['ffffffffffff'] });
  });
});

describe('the reader on the service host', () => {
  const root = tempDir('stackcheck-revisions-');
  const versions = join(root, 'fakesvc', 'db', 'migrations', 'versions');
  mkdirSync(join(versions, 'yoga', 'expand'), { recursive: true });
  mkdirSync(join(versions, '__pycache__'), { recursive: true });
  writeFileSync(join(root, 'fakesvc', '__init__.py'), 'raise RuntimeError("the reader must not import the package")\n');
  writeFileSync(join(versions, '__init__.py'), '');
  // the shapes found in the Zed packages: plain strings, None, tuples (also over several lines), annotations
  writeFileSync(join(versions, '27e647c0fad4_initial_version.py'), `"""Initial version"""\nfrom alembic import op\n\nrevision = '27e647c0fad4'\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\ndef upgrade():\n    revision = 'not-module-level'\n`);
  writeFileSync(join(versions, 'yoga', 'expand', '29e87d24a316_initial.py'), `revision = '29e87d24a316'\ndown_revision = '27e647c0fad4'\nbranch_labels = ('expand',)\n`);
  writeFileSync(join(versions, 'merge.py'), `revision: str = 'abc123'\ndown_revision = (\n    '29e87d24a316',\n    '27e647c0fad4',\n)\ndepends_on = 'x1'\n`);
  writeFileSync(join(versions, 'broken.py'), 'revision = (\n');
  writeFileSync(join(versions, '__pycache__', 'stale.py'), "revision = 'stale'\n");

  const run = (sources: unknown[]): ReturnType<typeof parseRevisions> =>
    parseRevisions(execFileSync('python3', ['-c', REVISIONS_SCRIPT], { input: JSON.stringify(sources), env: { ...process.env, PYTHONPATH: root } }).toString());

  test('reads module-level revision, down_revision and depends_on of every file without importing anything', () => {
    const out = run([{ pkg: 'fakesvc', dir: 'db/migrations/versions' }]);
    const found = out['fakesvc/db/migrations/versions'];
    expect(found && 'revisions' in found).toBe(true);
    if (!found || !('revisions' in found)) return;
    expect(found.path).toBe(versions);
    expect([...found.revisions].sort((a, b) => a.revision.localeCompare(b.revision))).toEqual([
      { revision: '27e647c0fad4', down: [], depends: [], file: '27e647c0fad4_initial_version.py' },
      { revision: '29e87d24a316', down: ['27e647c0fad4'], depends: [], file: 'yoga/expand/29e87d24a316_initial.py' },
      { revision: 'abc123', down: ['29e87d24a316', '27e647c0fad4'], depends: ['x1'], file: 'merge.py' },
    ]);
    expect(heads(found.revisions)).toEqual(['abc123']);
  });

  test('a package that is not installed, or a folder that is not there, is said so', () => {
    const out = run([
      { pkg: 'no_such_package_xyz', dir: 'db' },
      { pkg: 'fakesvc', dir: 'db/nothing' },
    ]);
    expect(out['no_such_package_xyz/db']).toEqual({ error: 'Python package no_such_package_xyz is not installed' });
    expect(out['fakesvc/db/nothing']).toEqual({ error: `${join(root, 'fakesvc', 'db', 'nothing')} does not exist` });
  });
});
