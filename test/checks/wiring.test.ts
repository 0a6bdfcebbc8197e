// The wiring between services, as the config checks read it: the reader (CONFIG_SCRIPT, run here by this
// machine's python3) against the very files the tutorial writes — each FileStep of tutorial/, both storage variants
// merged the way `stackcheck run` merges it, filled with fixture values — passes them all, and names every
// setting someone breaks (wrong password, wrong host or port, missing section, a metadata secret the two sides do
// not share, the Cinder backend's user, pool, secret and keyring) without ever printing a secret. Then the run-time
// half: a file newer than the service reading it, refusals in its log, and "only the file was read".
import { execFileSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  CONFIG_SCRIPT,
  cinderBackend,
  judgeRuntime,
  readerSpec,
  remedyStage,
  serviceConfig,
  sharedMessage,
  type ConfigRule,
  type ConfigSide,
  type ConfigTarget,
  type ReaderOutput,
  type RuntimeFacts,
} from '../../src/checks/config.js';
import { expectedFor } from '../../src/checks/expect.js';
import type { Inventory } from '../../src/inventory/types.js';
import { mergeIni } from '../../src/runner/ini.js';
import { parseTutorial } from '../../src/runner/parse.js';
import { parseVariantArgs, selectVariants } from '../../src/runner/variants.js';
import { fillVariables } from '../../src/runner/plan.js';
import { newContent } from '../../src/runner/apply-file.js';
import type { FileStep } from '../../src/runner/types.js';
import { tempDir } from '../helpers/tmp.js';

const ROLES: Record<string, string> = {
  'db-node': '10.0.0.11',
  'auth-node': '10.0.0.12',
  'image-node': '10.0.0.13',
  'api-node': '10.0.0.14',
  'network-node': '10.0.0.15',
  'volume-node': '10.0.0.16',
  'compute-1': '10.0.0.17',
};

const SECRETS: Record<string, string> = {
  RABBIT_PASS: 'fx-rabbit-5e1',
  ADMIN_PASS: 'fx-admin-5e1',
  DEMO_PASS: 'fx-demo-5e1',
  KEYSTONE_DBPASS: 'fx-keystone-db-5e1',
  GLANCE_DBPASS: 'fx-glance-db-5e1',
  GLANCE_PASS: 'fx-glance-5e1',
  PLACEMENT_DBPASS: 'fx-placement-db-5e1',
  PLACEMENT_PASS: 'fx-placement-5e1',
  NOVA_DBPASS: 'fx-nova-db-5e1',
  NOVA_PASS: 'fx-nova-5e1',
  NEUTRON_DBPASS: 'fx-neutron-db-5e1',
  NEUTRON_PASS: 'fx-neutron-5e1',
  METADATA_SECRET: 'fx-metadata-5e1',
  CINDER_DBPASS: 'fx-cinder-db-5e1',
  CINDER_PASS: 'fx-cinder-5e1',
  HORIZON_SECRET_KEY: 'fx-horizon-5e1',
  CEPH_CINDER_KEY: 'AQBfxfxfAAAAABAAfixtureKeyOfCinder5e1==',
};

const COMMON_VARS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(ROLES).map(([r, a]) => [`${r.toUpperCase().replace(/-/g, '_')}_IP`, a])),
  MANAGEMENT_CIDR: '10.0.0.0/24',
  REGION: 'RegionOne',
  ...SECRETS,
};

/** The lab variant's inventory (Ceph variables) and the real machines' one (CINDER_DISK). */
const LAB_VARS: Record<string, string> = { ...COMMON_VARS, CEPH_FSID: '0f1e2d3c-4b5a-4678-9abc-def012345678', CEPH_CINDER_SECRET_UUID: '5e1c0de0-1111-4222-8333-944455556666' };
const { CEPH_CINDER_KEY: _labOnly, ...WITHOUT_CEPH } = COMMON_VARS;
const REAL_VARS: Record<string, string> = { ...WITHOUT_CEPH, CINDER_DISK: '/dev/vdb' };

function inventory(vars: Record<string, string>): Inventory {
  return {
    file: 'fixture.yaml',
    name: 'fixture',
    hosts: Object.fromEntries(Object.entries(ROLES).map(([role, address]) => [role, { role, address, port: 22, user: 'root', hostname: role }])),
    vars,
    secretNames: Object.keys(SECRETS),
    knownHosts: '/dev/null',
    acceptNewHostKeys: false,
    connectTimeoutMs: 1000,
  };
}

/** What the tutorial's file steps leave in each file of each host: `host:path` → content (merged as `run` merges). */
type Files = Map<string, string>;

async function tutorialFiles(dir: string, vars: Record<string, string>, variants: string[] = []): Promise<Files> {
  const t = selectVariants(await parseTutorial(dir), parseVariantArgs(variants));
  const files: Files = new Map();
  for (const step of t.stages.flatMap((s) => s.steps)) {
    if (step.kind !== 'file') continue;
    const f: FileStep = step;
    const key = `${f.host}:${f.path}`;
    files.set(key, newContent({ mode: f.mode, content: fillVariables(f.content, vars) }, files.get(key)));
  }
  // The Ceph keyring is written by a shell step's here-document (the storage=ceph variant of stage 10).
  for (const step of t.stages.flatMap((s) => s.steps)) {
    if (step.kind !== 'shell') continue;
    const m = /cat > (\/etc\/ceph\/ceph\.client\.cinder\.keyring) <<'KEYRING'\n([\s\S]*?)\nKEYRING/.exec(step.command);
    if (m) files.set(`${step.host}:${m[1]}`, `${fillVariables(m[2]!, vars)}\n`);
  }
  return files;
}

const root = tempDir('stackcheck-wiring-');
let runs = 0;

/** Write one host's files under a fresh folder, as they would be on that host. */
function materialize(files: Files, host: string, change: Record<string, (text: string) => string> = {}): string {
  const base = join(root, `r${runs++}`);
  for (const [key, text] of files) {
    const [h, path] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    if (h !== host) continue;
    const out = join(base, path);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, change[path] ? change[path](text) : text);
  }
  return base;
}

// Every absolute path of a spec moved under `base` (files, rule files, services' files); messages moved back.
function rooted(spec: Record<string, unknown>, base: string): Record<string, unknown> {
  const move = (p: string): string => (p.startsWith('/') ? join(base, p) : p);
  return {
    ...spec,
    files: (spec.files as string[]).map(move),
    rules: (spec.rules as Record<string, unknown>[]).map((r) => (typeof r.file === 'string' ? { ...r, file: move(r.file) } : r)),
    units: (spec.units as { unit: string; files: string[] }[]).map((u) => ({ ...u, files: u.files.map(move) })),
  };
}

function runReader(spec: Record<string, unknown>, base?: string): ReaderOutput {
  const out = execFileSync('python3', ['-c', CONFIG_SCRIPT], { input: JSON.stringify(spec), env: { ...process.env, TZ: 'UTC' } }).toString();
  const parsed = JSON.parse(base ? out.split(`${base}/`).join('/') : out) as ReaderOutput;
  return parsed;
}

interface Case {
  service: 'keystone' | 'glance' | 'placement' | 'nova' | 'neutron' | 'cinder';
  side: ConfigSide;
  host: string;
}

const CASES: Case[] = [
  { service: 'keystone', side: 'controller', host: 'auth-node' },
  { service: 'glance', side: 'controller', host: 'image-node' },
  { service: 'placement', side: 'controller', host: 'api-node' },
  { service: 'nova', side: 'controller', host: 'api-node' },
  { service: 'nova', side: 'compute', host: 'compute-1' },
  { service: 'neutron', side: 'controller', host: 'network-node' },
  { service: 'neutron', side: 'compute', host: 'compute-1' },
  { service: 'cinder', side: 'controller', host: 'api-node' },
  { service: 'cinder', side: 'volume', host: 'volume-node' },
];

function target(vars: Record<string, string>, c: Pick<Case, 'service' | 'side' | 'host'>, keep: (r: ConfigRule) => boolean = (r) => r.kind !== 'libvirt-secret'): ConfigTarget {
  const t = serviceConfig(expectedFor(inventory(vars)), c.service, c.side, { vars, role: c.host });
  return { ...t, rules: t.rules.filter(keep) };
}

/** Check one host's files (the tutorial's, optionally changed) with an inventory's variables; no run-time part. */
function check(files: Files, vars: Record<string, string>, c: Case, change: Record<string, (text: string) => string> = {}, keep?: (r: ConfigRule) => boolean): ReaderOutput & { target: ConfigTarget } {
  const base = materialize(files, c.host, change);
  const t = target(vars, c, keep);
  const spec = readerSpec(inventory(vars), (n) => vars[n] ?? '', { ...t, readers: [] }, 'nonce-for-the-test');
  return { ...runReader(rooted(spec, base), base), target: t };
}

const setIni = (patch: string) => (text: string): string => mergeIni(text, patch);
const dropSection = (name: string) => (text: string): string => text.replace(new RegExp(`^\\[${name}\\]\\n(?:(?!\\[).*\\n?)*`, 'm'), '');

let lab: Files;
let real: Files;
beforeAll(async () => {
  lab = await tutorialFiles('tutorial', LAB_VARS, ['storage=ceph']);
  real = await tutorialFiles('tutorial', REAL_VARS);
});

describe('the files the tutorials write pass their checks', () => {
  test.each(CASES)('tutorial/ on the lab (storage=ceph): $service ($side) on $host', (c) => {
    const out = check(lab, LAB_VARS, c);
    expect(out.read.length).toBeGreaterThan(0);
    expect(out.problems).toEqual([]);
  });

  test.each(CASES)('tutorial/: $service ($side) on $host', (c) => {
    const out = check(real, REAL_VARS, c);
    expect(out.problems).toEqual([]);
  });

  test('the checks cover each wiring section the tutorial writes', () => {
    const sections = (c: Case): string[] => [...new Set(target(LAB_VARS, c, () => true).rules.map((r) => ('section' in r ? `[${r.section}]${r.file ? ` ${r.file}` : ''}` : r.kind)))];
    expect(sections({ service: 'nova', side: 'compute', host: 'compute-1' })).toEqual([
      '[DEFAULT]',
      '[keystone_authtoken]',
      '[service_user]',
      '[placement]',
      '[glance]',
      '[neutron]',
      '[cinder]',
      '[vnc]',
      '[libvirt]',
      'libvirt-secret',
      '[global] /etc/ceph/ceph.conf',
    ]);
    expect(sections({ service: 'nova', side: 'controller', host: 'api-node' })).toEqual([
      '[DEFAULT]',
      '[api_database]',
      '[database]',
      '[keystone_authtoken]',
      '[service_user]',
      '[placement]',
      '[glance]',
      '[neutron]',
      '[neutron] /etc/nova/nova.conf',
      '[cinder]',
    ]);
    expect(sections({ service: 'neutron', side: 'controller', host: 'network-node' })).toEqual([
      '[database]',
      '[DEFAULT]',
      '[keystone_authtoken]',
      '[nova]',
      '[vxlan] /etc/neutron/plugins/ml2/linuxbridge_agent.ini',
      '[DEFAULT] /etc/neutron/metadata_agent.ini',
    ]);
    expect(sections({ service: 'cinder', side: 'volume', host: 'volume-node' })).toEqual(['[DEFAULT]', '[database]', '[keystone_authtoken]', '[ceph]', '[global] /etc/ceph/ceph.conf', 'keyring']);
  });
});

describe('each rule names what is wrong, never a secret', () => {
  const compute: Case = { service: 'nova', side: 'compute', host: 'compute-1' };

  test('a wrong [placement] password on the compute host', () => {
    const out = check(lab, LAB_VARS, compute, { '/etc/nova/nova.conf': setIni('[placement]\npassword = not-the-placement-pass\n') });
    expect(out.problems).toEqual(['[placement] password differs from PLACEMENT_PASS']);
    expect(JSON.stringify(out)).not.toMatch(/not-the-placement-pass|fx-placement-5e1/);
  });

  test('the same file against an inventory whose PLACEMENT_PASS differs from the deployment', () => {
    const out = check(lab, { ...LAB_VARS, PLACEMENT_PASS: 'inventory-disagrees' }, compute);
    expect(out.problems).toEqual(['[placement] password differs from PLACEMENT_PASS']);
    expect(JSON.stringify(out)).not.toMatch(/inventory-disagrees|fx-placement-5e1/);
  });

  test('a wrong host and a wrong port', () => {
    const out = check(lab, LAB_VARS, compute, {
      '/etc/nova/nova.conf': setIni('[placement]\nauth_url = http://10.0.0.99:5000/v3\n[glance]\napi_servers = http://10.0.0.13:9393\n[vnc]\nnovncproxy_base_url = http://127.0.0.1:6080/vnc_auto.html\n'),
    });
    expect(out.problems).toEqual([
      '[placement] auth_url points at host 10.0.0.99, not auth-node (10.0.0.12)',
      '[glance] api_servers uses port 9393, not 9292',
      '[vnc] novncproxy_base_url points at host 127.0.0.1, not api-node (10.0.0.14)',
    ]);
  });

  test('a missing section: every credential of it is named', () => {
    const out = check(lab, LAB_VARS, compute, { '/etc/nova/nova.conf': dropSection('neutron') });
    expect(out.problems).toEqual(['[neutron] username is not set', '[neutron] password is not set', '[neutron] auth_url is not set', '[neutron] auth_type is not set', '[neutron] project_name is not set']);
  });

  test("Neutron's [nova] and the metadata agent's address on the network host", () => {
    const net: Case = { service: 'neutron', side: 'controller', host: 'network-node' };
    const out = check(lab, LAB_VARS, net, {
      '/etc/neutron/neutron.conf': setIni('[nova]\nusername = neutron\npassword = fx-neutron-5e1\n'),
      '/etc/neutron/metadata_agent.ini': setIni('[DEFAULT]\nnova_metadata_host = 10.0.0.15\n'),
    });
    expect(out.problems).toEqual([
      '[nova] username = neutron, not nova',
      '[nova] password differs from NOVA_PASS',
      '[DEFAULT] nova_metadata_host in /etc/neutron/metadata_agent.ini is 10.0.0.15, not api-node (10.0.0.14)',
    ]);
    expect(JSON.stringify(out)).not.toContain('fx-neutron-5e1');
  });

  test('a metadata secret the two sides do not share: named on each side with both files', () => {
    const api: Case = { service: 'nova', side: 'controller', host: 'api-node' };
    const net: Case = { service: 'neutron', side: 'controller', host: 'network-node' };
    // Nova's side holds another secret than the inventory's; Neutron's holds the inventory's.
    const novaSide = check(lab, LAB_VARS, api, { '/etc/nova/nova.conf': setIni('[neutron]\nmetadata_proxy_shared_secret = stale-metadata-secret\n') });
    const neutronSide = check(lab, LAB_VARS, net);
    expect(novaSide.problems).toEqual(['[neutron] metadata_proxy_shared_secret in /etc/nova/nova.conf differs from METADATA_SECRET']);
    expect(neutronSide.problems).toEqual([]);
    // The two hosts' digests (same nonce) tell whether the sides agree, without either value leaving its host.
    const i = novaSide.target.rules.findIndex((r) => r.kind === 'shared');
    const j = neutronSide.target.rules.findIndex((r) => r.kind === 'shared');
    expect(novaSide.digests?.[String(i)]).toMatch(/^[0-9a-f]{64}$/);
    expect(novaSide.digests?.[String(i)]).not.toBe(neutronSide.digests?.[String(j)]);
    const rule = novaSide.target.rules[i] as ConfigRule & { kind: 'shared' };
    expect(sharedMessage(rule, false)).toBe(
      '[neutron] metadata_proxy_shared_secret in /etc/nova/nova.conf differs from METADATA_SECRET and from [DEFAULT] metadata_proxy_shared_secret in /etc/neutron/metadata_agent.ini on network-node: both must hold METADATA_SECRET, or Nova refuses the metadata agent\'s requests (instances get no metadata)',
    );
    // An inventory whose METADATA_SECRET is not the deployed one: both sides differ from it, and agree with each other.
    const vars = { ...LAB_VARS, METADATA_SECRET: 'inventory-metadata' };
    const a = check(lab, vars, api);
    const b = check(lab, vars, net);
    expect(a.problems).toEqual(['[neutron] metadata_proxy_shared_secret in /etc/nova/nova.conf differs from METADATA_SECRET']);
    expect(b.problems).toEqual(['[DEFAULT] metadata_proxy_shared_secret in /etc/neutron/metadata_agent.ini differs from METADATA_SECRET']);
    expect(a.digests?.[String(i)]).toBe(b.digests?.[String(j)]);
    expect(sharedMessage(b.target.rules[j] as ConfigRule & { kind: 'shared' }, true)).toBe(
      "[DEFAULT] metadata_proxy_shared_secret in /etc/neutron/metadata_agent.ini differs from METADATA_SECRET, but holds the same secret as [neutron] metadata_proxy_shared_secret in /etc/nova/nova.conf on api-node: the two sides agree, the inventory's METADATA_SECRET is not the deployed one",
    );
    expect(JSON.stringify([novaSide, neutronSide, a, b])).not.toMatch(/stale-metadata-secret|inventory-metadata|fx-metadata-5e1/);
  });

  test('Cinder on Ceph (tutorial/, storage=ceph): the RBD user, the cluster address, the keyring', () => {
    const vol: Case = { service: 'cinder', side: 'volume', host: 'volume-node' };
    const out = check(lab, LAB_VARS, vol, {
      '/etc/cinder/cinder.conf': setIni('[ceph]\nrbd_user = admin\nrbd_pool = images\n'),
      '/etc/ceph/ceph.conf': (t) => t.replace('mon_host = 10.0.0.16', 'mon_host = 10.0.0.14'),
      '/etc/ceph/ceph.client.cinder.keyring': (t) => t.replace(SECRETS.CEPH_CINDER_KEY!, 'AQBnotTheKeyOfTheInventory0000000000=='),
    });
    expect(out.problems).toEqual([
      '[ceph] rbd_pool = images, not volumes',
      '[ceph] rbd_user = admin, not cinder',
      '[global] mon_host in /etc/ceph/ceph.conf is 10.0.0.14, not volume-node (10.0.0.16)',
      'the key of client.cinder in /etc/ceph/ceph.client.cinder.keyring differs from CEPH_CINDER_KEY',
    ]);
    expect(remedyStage(out.target, out.problemRules ?? [])).toBe('cinder-volume');
    expect(JSON.stringify(out)).not.toMatch(/AQBnotTheKey|AQBfxfxf/);
  });

  test('Cinder on LVM (tutorial/): the volume group, the iSCSI address, the backend the DEFAULT section enables', () => {
    const vol: Case = { service: 'cinder', side: 'volume', host: 'volume-node' };
    const out = check(real, REAL_VARS, vol, { '/etc/cinder/cinder.conf': setIni('[DEFAULT]\nenabled_backends = ceph\n[lvm]\nvolume_group = vg0\ntarget_ip_address = 10.0.0.14\n') });
    expect(out.problems).toEqual([
      '[DEFAULT] enabled_backends = ceph, which does not name lvm',
      '[lvm] volume_group = vg0, not cinder-volumes',
      '[lvm] target_ip_address is 10.0.0.14, not volume-node (10.0.0.16)',
    ]);
  });

  test("the compute host's Ceph settings are the cinder-volume stage's: the remedy points there", () => {
    const out = check(lab, LAB_VARS, compute, { '/etc/nova/nova-compute.conf': dropSection('libvirt') });
    expect(out.problems).toEqual(['[libvirt] rbd_user is not set', '[libvirt] rbd_secret_uuid is not set']);
    expect(remedyStage(out.target, out.problemRules ?? [])).toBe('cinder-volume');
    const other = check(lab, LAB_VARS, compute, { '/etc/nova/nova.conf': setIni('[cinder]\nos_region_name = RegionTwo\n') });
    expect(other.problems).toEqual(['[cinder] os_region_name = RegionTwo, not RegionOne']);
    expect(remedyStage(other.target, other.problemRules ?? [])).toBe('nova-compute');
  });

  test('the Cinder API trusts service tokens only with the service role', () => {
    const out = check(lab, LAB_VARS, { service: 'cinder', side: 'controller', host: 'api-node' }, { '/etc/cinder/cinder.conf': setIni('[keystone_authtoken]\nservice_token_roles_required = false\n') });
    expect(out.problems).toEqual(['[keystone_authtoken] service_token_roles_required = false, not true']);
  });
});

describe('which Cinder backend the inventory describes', () => {
  test('Ceph variables: RBD; CINDER_DISK: LVM; CINDER_BACKEND names the section', () => {
    expect(cinderBackend(LAB_VARS)).toMatchObject({ name: 'ceph', driver: 'rbd' });
    expect(cinderBackend(REAL_VARS)).toMatchObject({ name: 'lvm', driver: 'lvm' });
    expect(cinderBackend({ ...REAL_VARS, CINDER_BACKEND: 'lvm-1' })).toMatchObject({ name: 'lvm-1', driver: 'lvm' });
    expect(cinderBackend({ ...LAB_VARS, CINDER_BACKEND: 'rbd-fast' })).toMatchObject({ name: 'rbd-fast', driver: 'rbd' });
    expect(cinderBackend(WITHOUT_CEPH)).toEqual({ why: 'the inventory names no backend (CINDER_BACKEND, CEPH_* or CINDER_DISK): only enabled_backends is checked' });
  });

  test('without a backend in the inventory only enabled_backends is required', () => {
    const out = check(lab, WITHOUT_CEPH, { service: 'cinder', side: 'volume', host: 'volume-node' }, { '/etc/cinder/cinder.conf': dropSection('DEFAULT') });
    expect(out.problems).toContain('[DEFAULT] enabled_backends is not set');
  });
});

describe('at run time', () => {
  const compute: Case = { service: 'nova', side: 'compute', host: 'compute-1' };
  // The reader with its services: here systemd cannot be asked (no systemd on this machine), so the test gives each
  // service's start the way a host without systemd would; logs are real files in the oslo.log format.
  function withServices(started: number | undefined, log: string | undefined, mtime: number): ReaderOutput {
    const base = materialize(lab, 'compute-1');
    utimesSync(join(base, 'etc/nova/nova.conf'), mtime, mtime);
    utimesSync(join(base, 'etc/nova/nova-compute.conf'), started ? started - 60 : mtime, started ? started - 60 : mtime);
    const logFile = join(base, 'nova-compute.log');
    if (log !== undefined) writeFileSync(logFile, log);
    const t = target(LAB_VARS, compute);
    const spec = readerSpec(inventory(LAB_VARS), (n) => LAB_VARS[n] ?? '', { ...t, readers: t.readers.map((r) => ({ ...r, log: logFile, ...(started ? { started } : {}) })) }, 'n');
    return runReader(rooted(spec, base), base);
  }
  const at = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 23).replace('T', ' ');

  test('without systemd and without a start time, the result says only the file was read', () => {
    const out = withServices(undefined, '', Date.now() / 1000 - 3600);
    expect(out.problems).toEqual([]);
    expect(out.runtime?.note).toMatch(/^systemd cannot be asked|^systemctl cannot be run/);
    const v = judgeRuntime('compute-1', target(LAB_VARS, compute), out.runtime);
    expect(v.problems).toEqual([]);
    expect(v.fileOnly).toBe(out.runtime?.note);
  });

  test('a file changed after its service started, and the refusals the service logged since then', () => {
    const now = Math.floor(Date.now() / 1000);
    const started = now - 1800;
    const log = [
      `${at(started - 60)} 4242 ERROR oslo.messaging._drivers.impl_rabbit [-] Connection failed: (0, 0): (403) ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. (retrying in 2.0 seconds): amqp.exceptions.AccessRefused`,
      `${at(started + 5)} 4243 ERROR oslo.messaging._drivers.impl_rabbit [-] [0e9c] AMQP server on 10.0.0.11:5672 is unreachable: [Errno 111] ECONNREFUSED. Trying again in 1 seconds.: ConnectionRefusedError: [Errno 111] ECONNREFUSED`,
      `${at(now - 120)} 4243 WARNING nova.scheduler.client.report [None req-1 - - - - - -] Placement service credentials do not work.`,
      `${at(now - 60)} 4243 ERROR nova.compute.manager [None req-2 - - - - - -] Error updating resources for node compute-1.: keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401) (Request-ID: req-9f3a7c1e-5d2b-4e8f-a6b0-1c2d3e4f5a6b)`,
      `${at(now - 60)} 4243 ERROR nova.compute.manager Traceback (most recent call last):`,
      `${at(now - 60)} 4243 ERROR nova.compute.manager   File "/usr/lib/python3/dist-packages/nova/scheduler/client/report.py", line 1017, in get_provider_tree_and_ensure_root`,
      `${at(now - 900)} 4243 WARNING keystonemiddleware.auth_token [-] Identity response: {"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`,
      `${at(now - 30)} 4243 ERROR nova.conductor [-] (1045, "Access denied for user 'nova'@'10.0.0.17' (using password: YES)")`,
      `${at(now - 10)} 4243 INFO nova.compute.manager [-] Updating resource usage`,
    ].join('\n');
    const out = withServices(started, `${log}\n`, now - 600);
    expect(out.problems).toEqual([]);
    const rt = out.runtime as RuntimeFacts;
    expect(rt.note).toBeNull();
    expect(rt.stale).toHaveLength(1);
    expect(rt.stale[0]?.file).toBe('/etc/nova/nova.conf');
    // The refusal before the start is not counted; the database is not this host's business (no [database] here).
    expect(rt.findings.map((f) => `${f.kind}:${f.tag}:${f.count}`).sort()).toEqual(['auth:keystone_authtoken:1', 'auth:placement:2', 'connection:mq:1']);
    const v = judgeRuntime('compute-1', target(LAB_VARS, compute), rt);
    const fmt = (e: number): string => `${new Date(e * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    expect(v.problems).toEqual([
      `/etc/nova/nova.conf changed at ${fmt(now - 600)}, after nova-compute started (${fmt(started)}): the running service still uses the old settings; restart it (systemctl restart nova-compute)`,
      `nova-compute has been refused with the credentials of [placement] since it started (2 times, last at ${fmt(now - 60)}: "Error updating resources for node compute-1.: keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401) (Request-ID: …)")`,
    ]);
    expect(v.restart).toEqual(['nova-compute']);
    // The keystonemiddleware refusal is 15 minutes old and the AMQP error is a connection error: evidence, not failures.
    const body = v.evidence.map((e) => e.body).join('\n');
    expect(body).toContain('nova-compute: auth error about [keystone_authtoken], 1×');
    expect(body).toContain('nova-compute: connection error about [DEFAULT] transport_url, 1×');
    expect(body).toContain('nova-compute: running since');
  });

  test('a service that exits at start because it is refused (systemd retrying it): named down, with the refusal of its last start', () => {
    const now = Math.floor(Date.now() / 1000);
    const lastStart = now - 20;
    const base = materialize(lab, 'compute-1');
    const logFile = join(base, 'nova-compute.log');
    writeFileSync(
      logFile,
      [
        `${at(now - 900)} 4100 ERROR nova keystoneauth1.exceptions.http.Unauthorized: an older attempt (HTTP 401)`,
        `${at(lastStart + 2)} 4243 CRITICAL nova [None req-8f68 - - - - - -] Unhandled error: keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401)`,
        `${at(lastStart + 2)} 4243 ERROR nova Traceback (most recent call last):`,
        `${at(lastStart + 2)} 4243 ERROR nova   File "/usr/lib/python3/dist-packages/nova/scheduler/client/report.py", line 245, in __init__`,
        `${at(lastStart + 2)} 4243 ERROR nova keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401)`,
        '',
      ].join('\n'),
    );
    const t = target(LAB_VARS, compute);
    // systemd retrying it: the attempt now starting has logged nothing yet; the one before was refused (2 s before).
    const spec = readerSpec(inventory(LAB_VARS), (n) => LAB_VARS[n] ?? '', { ...t, readers: t.readers.map((r) => ({ ...r, log: logFile, state: 'activating', lastStart: lastStart + 4, restarts: 7 })) }, 'n');
    const out = runReader(rooted(spec, base), base);
    const rt = out.runtime as RuntimeFacts;
    expect(rt.note).toBeNull();
    expect(rt.findings.map((f) => `${f.kind}:${f.tag}:${f.count}:${String(f.down)}`)).toEqual(['auth:placement:1:true']);
    const v = judgeRuntime('compute-1', t, rt);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatch(/^nova-compute is not running \(activating\): when it last started it was refused with the credentials of \[placement\] \(1 time, last at .*\); it exits at start until they work$/);
    expect(v.evidence.map((e) => e.body).join('\n')).toMatch(/scanned since its last start/);
  });

  test('the refusal that ended the attempt before the one now running (a fraction of a second before its start) is not counted', () => {
    const now = Math.floor(Date.now() / 1000);
    const started = now - 300;
    const log = [
      `${at(started - 0.3)} 4518 CRITICAL nova [None req-7784 - - - - - -] Unhandled error: keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401)`,
      `${at(started - 0.3)} 4518 ERROR nova   File "/usr/lib/python3/dist-packages/nova/scheduler/client/report.py", line 245, in __init__`,
      `${at(started + 0.2)} 4530 INFO nova.compute.manager [-] Starting compute node`,
      '',
    ].join('\n');
    const out = withServices(started, log, now - 3600);
    expect((out.runtime as RuntimeFacts).findings).toEqual([]);
    expect(judgeRuntime('compute-1', target(LAB_VARS, compute), out.runtime).problems).toEqual([]);
  });

  test('a file older than its running service, and a clean log: nothing to say', () => {
    const now = Math.floor(Date.now() / 1000);
    const out = withServices(now - 600, `${at(now - 5)} 4243 INFO nova.compute.manager [-] Updating resource usage\n`, now - 3600);
    const v = judgeRuntime('compute-1', target(LAB_VARS, compute), out.runtime);
    expect(v).toMatchObject({ problems: [], restart: [] });
    expect(v.fileOnly).toBeUndefined();
  });

  test('no running service: only the files were read, and the result says why', () => {
    const rt: RuntimeFacts = { now: 1000, note: null, units: [{ unit: 'glance-api', state: 'inactive', started: null, files: {}, log: null }], stale: [], findings: [] };
    const v = judgeRuntime('image-node', target(LAB_VARS, { service: 'glance', side: 'controller', host: 'image-node' }), rt);
    expect(v.fileOnly).toBe('glance-api is not running (inactive)');
  });
});
