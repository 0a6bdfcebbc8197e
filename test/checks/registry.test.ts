import { describe, expect, test } from 'vitest';
import { CHECKS, checkMeta, selectChecks } from '../../src/checks/registry.js';
import { StackcheckError } from '../../src/error.js';

describe('check registry', () => {
  test('ids are unique and named <component>.<name>', () => {
    const ids = CHECKS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of CHECKS) expect(m.id.startsWith(`${m.component}.`)).toBe(true);
  });

  test('every check has a remedy pointing at a stage', () => {
    for (const m of CHECKS) {
      expect(m.remedy.stage).not.toBe('');
      expect(m.remedy.text.length).toBeGreaterThan(10);
    }
  });

  test('only the checks that change the deployment are mutating', () => {
    expect(CHECKS.filter((m) => m.mutating).map((m) => m.id).sort()).toEqual(['cinder.attach', 'dataplane.end-to-end', 'glance.upload', 'neutron.floating-ip', 'nova.boot']);
  });

  test('--only takes ids, components and prefixes', () => {
    expect(selectChecks(['nova.compute-up'])).toEqual(['nova.compute-up']);
    expect(selectChecks(['rabbitmq'])).toContain('rabbitmq.nova-compute');
    expect(selectChecks(['mysql.*-schema'])).toHaveLength(6);
    expect(selectChecks(['mysql.n*'])).toEqual(['mysql.nova-schema', 'mysql.neutron-schema']);
    expect(selectChecks(undefined)).toHaveLength(CHECKS.length);
  });

  test('an unknown name is an input error (exit 2) naming it', () => {
    let err: unknown;
    try {
      selectChecks(['nova', 'novva.api']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).exitCode).toBe(2);
    expect((err as Error).message).toContain('novva.api');
    // a pattern that matches no check is named too, never an empty selection
    expect(() => selectChecks(['keystone', 'nova.zz*'])).toThrow('unknown check id or component: nova.zz*');
  });

  test('checkMeta refuses ids that are not registered', () => {
    expect(() => checkMeta('nova.nope')).toThrow(/unknown check id/);
  });
});

describe('check groups the tutorial references', () => {
  test('a group expands to its checks', () => {
    expect(selectChecks(['nova.services'])).toEqual(['nova.conductor', 'nova.scheduler', 'nova.compute-up']);
    expect(selectChecks(['rabbitmq.consumers'])).not.toContain('rabbitmq.user');
    expect(selectChecks(['rabbitmq.consumers'])).toContain('rabbitmq.cinder-volume');
  });

  test('every id referenced by the tutorial in tutorial/ is a check or a group', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { isKnownCheck } = await import('../../src/checks/registry.js');
    const dir = new URL('../../tutorial/', import.meta.url);
    const ids = readdirSync(dir)
      .filter((f) => f.endsWith('.md'))
      .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/<!--\s*checks:\s*([^>]*?)\s*-->/g)].flatMap((m) => m[1]!.split(',').map((x) => x.trim())));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => !isKnownCheck(id))).toEqual([]);
  });
});
