// The drill's record, verdict and report, without a cloud: the fault stays hidden in the record, one active drill per
// target, a repair is accepted only when every check the fault broke passes and nothing else broke, the report names
// the faults only once the drill is stopped.
import { readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { activeDrill, faultKey, readDrill, resolveFault, saveDrill, type DrillRecord } from '../../src/drill/record.js';
import { faultsShow, judge } from '../../src/drill/judge.js';
import { drillJunit, drillReport, drillResult } from '../../src/drill/report.js';
import { drillChecks, listFaults, repairText, unusableBecause } from '../../src/drill/drill.js';
import { loadCatalogue } from '../../src/faults/catalogue.js';
import type { CheckResult } from '../../src/checks/types.js';
import { checkMeta } from '../../src/checks/registry.js';
import { inventory } from '../checks/fixtures-inventory.js';
import { tempDir } from '../helpers/tmp.js';
import { gradedAddress, ledgerFile, recordGraded } from '../../src/grade/ledger.js';

const catalogue = loadCatalogue();
const fault = (id: string) => catalogue.faults.find((f) => f.id === id)!;

function result(id: string, host: string, status: CheckResult['status'], message = ''): CheckResult {
  const m = checkMeta(id);
  return { id, host, component: m.component, title: m.title, severity: m.severity, weight: m.weight, status, message, remedy: m.remedy, evidence: [], durationMs: 1 };
}

function record(dir: string, over: Partial<DrillRecord> = {}): DrillRecord {
  const salt = 'a1b2c3';
  return {
    version: 1,
    id: 'drill-20261126-120000',
    startedAt: '2026-11-26T12:00:00Z',
    shownAt: '2026-11-26T12:01:00Z',
    target: { inventory: join(dir, 'inventory.yaml'), lab: 'lab', describe: 'the local lab "lab"' },
    salt,
    faults: [{ key: faultKey(salt, 'rabbitmq-stopped'), hints: 0 }],
    checks: ['rabbitmq.user', 'rabbitmq.reachable'],
    baseline: [],
    status: 'active',
    rounds: [],
    dir: join(dir, 'drill-20261126-120000'),
    ...over,
  };
}

describe('the drill record', () => {
  test('keeps the fault out of sight: neither its id nor its title is in the record or the report while it runs', () => {
    const dir = tempDir('drill-rec-');
    const env = { STACKCHECK_STATE_DIR: join(dir, 'state') };
    const r = record(dir);
    saveDrill(r, env);
    r.rounds.push({ at: '2026-11-26T12:03:00Z', failing: ['rabbitmq.user@db-node'], repaired: 0, other: [] });
    const text = readFileSync(join(r.dir, 'drill.json'), 'utf8') + drillReport(r);
    expect(text).not.toContain('rabbitmq-stopped');
    expect(text).not.toContain(fault('rabbitmq-stopped').title);
    expect(resolveFault(r, r.faults[0]!, catalogue).id).toBe('rabbitmq-stopped');
    // Stopped, the report names it, with the hints used and whether it was repaired.
    const done = { ...r, status: 'stopped' as const, stoppedAt: '2026-11-26T12:09:00Z', stoppedBy: 'snapshot' as const, repairedAt: '2026-11-26T12:08:30Z' };
    const report = drillReport(done, [fault('rabbitmq-stopped')]);
    expect(report).toContain('**rabbitmq-stopped** (rabbitmq, ');
    expect(report).toContain('repaired: 2026-11-26T12:08:30Z, in 7m30s');
    expect(report).toContain('the lab restored from its snapshot');
    expect(report).toMatch(/2026-11-26T12:03:00Z \(2m in\): 1 failing \(rabbitmq\.user@db-node\); 0 of 1 fault repaired/);
  });

  test('stopped, a result for machines and JUnit: a testcase a fault (failed when not repaired) and one for the deployment left as found', () => {
    const dir = tempDir('drill-res-');
    const salt = 'a1b2c3';
    const r = record(dir, {
      salt,
      faults: [
        { key: faultKey(salt, 'rabbitmq-stopped'), hints: 2, repairedAt: '2026-11-26T12:05:00Z' },
        { key: faultKey(salt, 'nova-api-stopped'), hints: 0, revealedAt: '2026-11-26T12:06:00Z' },
      ],
      status: 'stopped',
      stoppedAt: '2026-11-26T12:09:00Z',
      stoppedBy: 'catalogue',
      differences: ['api-node: nova-api.service no longer runs'],
    });
    const res = drillResult(r, [fault('rabbitmq-stopped'), fault('nova-api-stopped')]);
    expect(res.faults.map((f) => [f.id, f.hintsUsed, f.revealed, f.repairedInSeconds])).toEqual([
      ['rabbitmq-stopped', 2, false, 240],
      ['nova-api-stopped', 0, true, undefined],
    ]);
    expect(res.repairedInSeconds).toBeUndefined();
    const xml = drillJunit(res);
    expect(xml).toContain('<testsuite name="drill-20261126-120000 on the local lab &quot;lab&quot;" tests="3" failures="2"');
    expect(xml).toMatch(/<testcase classname="drill.rabbitmq" name="rabbitmq-stopped \(rabbitmq, \w+\)" time="240"><system-out>repaired; hints used 2 of \d+<\/system-out>/);
    expect(xml).toMatch(/name="nova-api-stopped \(nova, \w+\)" time="0"><failure type="not-repaired" message="not repaired: /);
    expect(xml).toContain('<failure type="not-as-found" message="1 differences from before the drill">api-node: nova-api.service no longer runs</failure>');
  });

  test('one active drill per target, found by its inventory; stopping forgets it (the folder stays)', () => {
    const dir = tempDir('drill-rec-');
    const env = { STACKCHECK_STATE_DIR: join(dir, 'state') };
    const r = record(dir);
    expect(activeDrill(r.target.inventory, env)).toBeUndefined();
    saveDrill(r, env);
    expect(activeDrill(r.target.inventory, env)?.id).toBe(r.id);
    expect(activeDrill(join(dir, 'other.yaml'), env)).toBeUndefined();
    saveDrill({ ...r, status: 'stopped' }, env);
    expect(activeDrill(r.target.inventory, env)).toBeUndefined();
    expect(readDrill(r.dir).status).toBe('stopped');
    // Records and pointers are private to their owner.
    expect(readdirSync(join(dir, 'state', 'drills'))).toEqual([]);
  });

  test('a record that is not one stackcheck wrote is refused with its file named', () => {
    const dir = tempDir('drill-rec-');
    const r = record(dir);
    saveDrill(r, { STACKCHECK_STATE_DIR: join(dir, 'state') });
    const file = join(r.dir, 'drill.json');
    writeFileSync(file, '{"version": 2}');
    expect(() => readDrill(r.dir)).toThrow(new RegExp(`the drill record ${file} is not one stackcheck wrote`));
    expect(existsSync(file)).toBe(true);
  });
});

describe('the verdict of a drill check', () => {
  const inv = inventory();
  const stopped = fault('rabbitmq-stopped');

  test('the fault still there: not repaired, its checks named', () => {
    const v = judge(inv, [stopped], [result('rabbitmq.user', 'deployment', 'failed'), result('rabbitmq.reachable', 'db-node', 'failed'), result('mysql.server', 'db-node', 'passed')], []);
    expect(v.repaired).toBe(false);
    expect(v.faults[0]!.failing.length).toBeGreaterThan(0);
    expect(v.other).toEqual([]);
  });

  test('every check it broke passes again and nothing else broke: repaired', () => {
    const v = judge(inv, [stopped], [result('rabbitmq.user', 'deployment', 'passed'), result('rabbitmq.reachable', 'db-node', 'passed'), result('mysql.server', 'db-node', 'passed')], []);
    expect(v.repaired).toBe(true);
  });

  test('repaired, but something that passed before now fails: not accepted, the other failure named', () => {
    const v = judge(inv, [stopped], [result('rabbitmq.user', 'deployment', 'passed'), result('rabbitmq.reachable', 'db-node', 'passed'), result('mysql.server', 'db-node', 'failed')], []);
    expect(v.repaired).toBe(false);
    expect(v.faults[0]!.repaired).toBe(true);
    expect(v.other).toEqual(['mysql.server@db-node']);
  });

  test('what failed before the drill is not the student\'s to repair', () => {
    const v = judge(inv, [stopped], [result('rabbitmq.user', 'deployment', 'passed'), result('rabbitmq.reachable', 'db-node', 'passed'), result('nova.api', 'api-node', 'broken')], ['nova.api@api-node']);
    expect(v.repaired).toBe(true);
    expect(v.failing).toEqual([]);
  });

  test('no result for the fault\'s checks (they did not run): not proven repaired', () => {
    expect(judge(inv, [stopped], [result('mysql.server', 'db-node', 'passed')], []).repaired).toBe(false);
  });

  test('the fault shows only when each of its checks fails as the catalogue says (message included)', () => {
    const lb = fault('compute-linuxbridge-agent-stopped');
    const showing = [
      result('rabbitmq.neutron-linuxbridge-agent', 'compute-1', 'failed', 'found 0 consumers'),
      result('neutron.linuxbridge-agent', 'compute-1', 'failed', 'expected … alive, found not alive (last heartbeat …)'),
      result('neutron.linuxbridge-retry', 'compute-1', 'broken', 'cannot check: neutron-linuxbridge-agent is not running on compute-1'),
    ];
    expect(faultsShow(inv, [lb], showing)).toBe(true);
    // Heartbeat not missed yet: the agent still counts as alive.
    expect(faultsShow(inv, [lb], [showing[0]!, result('neutron.linuxbridge-agent', 'compute-1', 'passed'), showing[2]!])).toBe(false);
  });
});

describe('which faults a drill can use', () => {
  const lab = { inventory: inventory(), inventoryFile: 'inventory.yaml', describe: 'x' };

  test('a fault whose checks the drill does not run, or whose host the deployment lacks, is left out with the reason', () => {
    const checks = new Set(drillChecks(['mysql', 'rabbitmq']));
    expect(unusableBecause(fault('rabbitmq-stopped'), lab, checks)).toBeUndefined();
    expect(unusableBecause(fault('dhcp-agent-stopped'), lab, checks)).toMatch(/acts on "neutron"|not among those this drill runs/);
    const dbOnly = inventory({ hosts: { 'db-node': { role: 'db-node', address: '10.0.0.11', port: 22, user: 'root', hostname: 'db-node' } } });
    expect(unusableBecause(fault('nova-api-stopped'), { ...lab, inventory: dbOnly }, new Set(drillChecks(undefined)))).toMatch(/acts on "nova", which this deployment does not have/);
  });

  test('a deployment that holds less than the fault needs (the lab after stage 4) is said so', () => {
    expect(unusableBecause(fault('rabbitmq-stopped'), { ...lab, installed: ['hosts', 'mysql'] }, new Set(drillChecks(undefined)))).toMatch(/needs rabbitmq, which this deployment does not hold/);
  });

  test('drill checks are read-only', () => {
    expect(drillChecks(undefined)).not.toContain('nova.boot');
    expect(drillChecks(undefined)).toContain('neutron.linuxbridge-retry');
  });

  test('the list shows difficulty, component and symptom, never how a fault is injected', () => {
    const list = listFaults(catalogue);
    expect(list).toHaveLength(catalogue.faults.length);
    const text = JSON.stringify(list);
    for (const f of catalogue.faults) for (const a of f.inject) expect(text).not.toContain(a.run.trim());
  });

  test('the revealed repair puts edited files back first, then the catalogue\'s commands', () => {
    const f = fault('linuxbridge-agent-stuck');
    expect(repairText(f)).toEqual([
      'put /etc/systemd/system/neutron-linuxbridge-agent.service.d/ebtables.conf back as it was (on compute)',
      'on compute: systemctl daemon-reload && systemctl restart neutron-linuxbridge-agent',
    ]);
  });
});

describe('the graded-hosts ledger', () => {
  test('remembers the addresses of a roster, the latest roster winning; an unreadable ledger is empty, not an error', () => {
    const dir = tempDir('ledger-');
    const env = { STACKCHECK_STATE_DIR: dir };
    expect(gradedAddress(['10.0.0.11'], env)).toBeUndefined();
    recordGraded('a.csv', ['10.0.0.11', '10.0.0.12'], env, new Date('2026-11-26T10:00:00Z'));
    recordGraded('b.csv', ['10.0.0.12'], env, new Date('2026-11-26T11:00:00Z'));
    expect(gradedAddress(['192.168.1.1', '10.0.0.12'], env)).toEqual({ address: '10.0.0.12', roster: join(process.cwd(), 'b.csv'), at: '2026-11-26T11:00:00.000Z' });
    expect(gradedAddress(['10.0.0.11'], env)?.roster).toBe(join(process.cwd(), 'a.csv'));
    writeFileSync(ledgerFile(env), 'not json');
    expect(gradedAddress(['10.0.0.11'], env)).toBeUndefined();
  });
});
