// Check results as the checks runner produces them (one failed with remedy, one broken, one passed, one on a
// second host) — input for the reporters' unit tests.
import type { CheckResult } from '../../src/checks/types.js';

export const SECRET = 'Sup3r-s3cret-DBPASS';

export function checkResults(): CheckResult[] {
  const base: Pick<CheckResult, 'component' | 'severity' | 'weight' | 'evidence' | 'durationMs' | 'stage'> = {
    component: 'keystone',
    severity: 'critical',
    weight: 2,
    evidence: [],
    durationMs: 120,
    stage: 'keystone',
  };
  return [
    { ...base, id: 'keystone.token', host: 'auth-node', title: 'Admin gets a token', status: 'passed', message: '', remedy: { stage: 'keystone', text: 'bootstrap keystone' } },
    {
      ...base,
      id: 'keystone.catalog',
      host: 'auth-node',
      title: 'Catalog holds every service',
      status: 'failed',
      message: 'expected an "image" endpoint <public>, found none',
      expected: 'image endpoint',
      found: 'none',
      remedy: { stage: 'glance', text: 'create the glance service & its endpoints' },
      evidence: [{ name: 'catalog', contentType: 'application/json', body: `{"password":"${SECRET}","bell":"\u0007"}` }],
    },
    {
      ...base,
      id: 'mysql.server',
      component: 'mysql',
      host: 'db-node',
      title: 'MariaDB answers',
      status: 'broken',
      message: 'cannot check: connect ECONNREFUSED 127.0.0.1:3306',
      remedy: { stage: 'basic', text: 'start mariadb' },
      stage: 'basic',
    },
    { ...base, id: 'nova.compute-up', component: 'nova', host: 'compute-2', title: 'nova-compute up', status: 'skipped', message: 'not run', remedy: { stage: 'nova', text: 'x' } },
  ];
}
