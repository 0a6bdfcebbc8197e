// Is a service's schema at the head migration the installed package ships? The package's alembic revisions are read
// on the service's host (module-level `revision`, `down_revision`, `depends_on` of every file under its versions
// directory, parsed with Python's ast: nothing is imported or run), the database's `alembic_version` rows as the
// service's database user; the comparison is here. A schema is at head when every head of the package's graph is
// one of its recorded revisions or an ancestor of one (alembic records only the tips: glance's contract head depends
// on its expand head, so `wallaby_contract01` alone means both are applied).

/** One revision file of a package. */
export interface Revision {
  revision: string;
  down: string[];
  depends: string[];
  file: string;
}

/** Where a service's alembic versions live, per schema: a Python package and the path under it. */
export interface MigrationSource {
  /** Python package to locate (importlib's find_spec: the package is not imported). */
  pkg: string;
  /** Folder of revision files under the package (searched recursively). */
  dir: string;
}

/** The tutorial's services (Zed, Debian 12 packages): where each schema's migrations are. */
export const MIGRATIONS: Readonly<Record<string, Readonly<Record<string, MigrationSource>>>> = {
  keystone: { keystone: { pkg: 'keystone', dir: 'common/sql/migrations/versions' } },
  glance: { glance: { pkg: 'glance', dir: 'db/sqlalchemy/alembic_migrations/versions' } },
  placement: { placement: { pkg: 'placement', dir: 'db/sqlalchemy/alembic/versions' } },
  nova: {
    nova_api: { pkg: 'nova', dir: 'db/api/migrations/versions' },
    nova: { pkg: 'nova', dir: 'db/main/migrations/versions' },
    nova_cell0: { pkg: 'nova', dir: 'db/main/migrations/versions' },
  },
  neutron: { neutron: { pkg: 'neutron', dir: 'db/migration/alembic_migrations/versions' } },
  cinder: { cinder: { pkg: 'cinder', dir: 'db/migrations/versions' } },
};

/**
 * The reader run on the service's host (python3 comes with every OpenStack package): stdin is a JSON list of
 * sources; stdout one JSON object `{ "<pkg>/<dir>": { "path": …, "revisions": [...] } | { "error": … } }`.
 */
export const REVISIONS_SCRIPT = String.raw`
import ast, json, os, sys, importlib.util
out = {}
for src in json.loads(sys.stdin.read()):
    key = src["pkg"] + "/" + src["dir"]
    if key in out:
        continue
    try:
        spec = importlib.util.find_spec(src["pkg"])
    except Exception as e:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        out[key] = {"error": "Python package %s is not installed" % src["pkg"]}
        continue
    path = os.path.join(list(spec.submodule_search_locations)[0], src["dir"])
    if not os.path.isdir(path):
        out[key] = {"error": "%s does not exist" % path}
        continue
    revs = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in sorted(files):
            if not f.endswith(".py") or f == "__init__.py":
                continue
            p = os.path.join(root, f)
            try:
                tree = ast.parse(open(p, encoding="utf-8").read(), p)
            except Exception:
                continue
            vals = {}
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
                for t in targets:
                    if isinstance(t, ast.Name) and t.id in ("revision", "down_revision", "depends_on"):
                        try:
                            vals[t.id] = ast.literal_eval(node.value)
                        except Exception:
                            vals[t.id] = None
            if isinstance(vals.get("revision"), str):
                lst = lambda v: [v] if isinstance(v, str) else [x for x in (v or []) if isinstance(x, str)]
                revs.append({"revision": vals["revision"], "down": lst(vals.get("down_revision")), "depends": lst(vals.get("depends_on")), "file": os.path.relpath(p, path)})
    out[key] = {"path": path, "revisions": revs}
print(json.dumps(out))
`;

/** What the reader says about one source. */
export type RevisionsFound = { path: string; revisions: Revision[] } | { error: string };

/** Parse the reader's output (its last line). */
export function parseRevisions(stdout: string): Record<string, RevisionsFound> {
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, RevisionsFound>;
}

/** The key of a source in the reader's output. */
export function sourceKey(s: MigrationSource): string {
  return `${s.pkg}/${s.dir}`;
}

/** Heads of a revision graph: revisions nothing lists as its `down_revision`. */
export function heads(revs: readonly Revision[]): string[] {
  const parents = new Set(revs.flatMap((r) => r.down));
  return revs
    .map((r) => r.revision)
    .filter((id) => !parents.has(id))
    .sort();
}

/** Every revision reachable from `ids` through `down_revision` and `depends_on` (the ids included). */
export function ancestors(revs: readonly Revision[], ids: readonly string[]): Set<string> {
  const by = new Map(revs.map((r) => [r.revision, r]));
  const seen = new Set<string>();
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const r = by.get(id);
    if (r) stack.push(...r.down, ...r.depends);
  }
  return seen;
}

/** How a schema's recorded revisions compare with the package's heads. */
export type SchemaVersion =
  | { state: 'head'; current: string[]; heads: string[] }
  | { state: 'behind'; current: string[]; heads: string[]; missing: string[] }
  | { state: 'unknown'; current: string[]; heads: string[]; unknown: string[] }
  | { state: 'unversioned'; heads: string[] };

/** Compare the `alembic_version` rows of a schema (undefined: no such table) with the package's revisions. */
export function compareVersion(revs: readonly Revision[], current: readonly string[] | undefined): SchemaVersion {
  const h = heads(revs);
  if (current === undefined || current.length === 0) return { state: 'unversioned', heads: h };
  const cur = [...current].sort();
  const known = new Set(revs.map((r) => r.revision));
  const unknown = cur.filter((c) => !known.has(c));
  if (unknown.length > 0) return { state: 'unknown', current: cur, heads: h, unknown };
  const applied = ancestors(revs, cur);
  const missing = h.filter((x) => !applied.has(x));
  return missing.length === 0 ? { state: 'head', current: cur, heads: h } : { state: 'behind', current: cur, heads: h, missing };
}

/** The revisions not yet applied on the way to the heads (for the message: how far behind). */
export function pendingCount(revs: readonly Revision[], current: readonly string[]): number {
  const applied = ancestors(revs, current);
  return ancestors(revs, heads(revs)).size - [...applied].filter((x) => revs.some((r) => r.revision === x)).length;
}
