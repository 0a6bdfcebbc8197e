// Nova's cells: URL passwords replaced by markers (in memory and on the host), `nova-manage cell_v2 list_cells
// --verbose` and `nova-status upgrade check` as Zed prints them on the lab, and the verdicts against the inventory.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cellForEvidence, cellProblems, isTemplate, LIST_CELLS_SCRIPT, maskUrlPasswords, parseListCells, parseUpgradeCheck, type Cell, type CellExpectation } from '../../src/checks/cells.js';
import { tempDir } from '../helpers/tmp.js';

const SECRETS = { NOVA_DBPASS: 'lab-nova-dbpass-00255868', RABBIT_PASS: 'r@bbit:pass/1' };

// list_cells --verbose on the lab's api-node (Zed), passwords in clear as nova-manage prints them.
const VERBOSE = `Modules with known eventlet monkey patching issues were imported prior to eventlet monkey patching: urllib3. This warning can usually be ignored if the caller is only importing and not executing nova code.
+-------+--------------------------------------+---------------------------------------------------------+--------------------------------------------------------------+----------+
|  Name |                 UUID                 |                      Transport URL                      |                     Database Connection                      | Disabled |
+-------+--------------------------------------+---------------------------------------------------------+--------------------------------------------------------------+----------+
| cell0 | 00000000-0000-0000-0000-000000000000 |                          none:/                         | mysql+pymysql://nova:lab-nova-dbpass-00255868@10.99.0.11/nova_cell0 |  False   |
| cell1 | cb5b29f2-6b23-467e-86b7-03bf156a0a90 | rabbit://openstack:r%40bbit%3Apass%2F1@10.99.0.11:5672/ |    mysql+pymysql://nova:lab-nova-dbpass-00255868@10.99.0.11/nova    |  False   |
+-------+--------------------------------------+---------------------------------------------------------+--------------------------------------------------------------+----------+
`;

const WANT: CellExpectation = {
  db: { user: 'nova', passwordVar: 'NOVA_DBPASS', hosts: ['db-node', '10.99.0.11'] },
  mq: { user: 'openstack', passwordVar: 'RABBIT_PASS', hosts: ['db-node', '10.99.0.11'], port: 5672, vhost: '/' },
};

const cell0: Cell = { name: 'cell0', uuid: '00000000-0000-0000-0000-000000000000', transportUrl: 'none:/', databaseConnection: 'mysql+pymysql://nova:__NOVA_DBPASS__@10.99.0.11/nova_cell0', disabled: false };
const cell1: Cell = { name: 'cell1', uuid: 'cb5b29f2-6b23-467e-86b7-03bf156a0a90', transportUrl: 'rabbit://openstack:__RABBIT_PASS__@10.99.0.11:5672/', databaseConnection: 'mysql+pymysql://nova:__NOVA_DBPASS__@10.99.0.11/nova', disabled: false };

describe('passwords in URLs', () => {
  test('replaced by the variable they equal (plain or URL-encoded), else __OTHER__; several hosts each', () => {
    expect(maskUrlPasswords('mysql+pymysql://nova:lab-nova-dbpass-00255868@10.99.0.11/nova', SECRETS)).toBe('mysql+pymysql://nova:__NOVA_DBPASS__@10.99.0.11/nova');
    expect(maskUrlPasswords('rabbit://openstack:r%40bbit%3Apass%2F1@10.99.0.11:5672/', SECRETS)).toBe('rabbit://openstack:__RABBIT_PASS__@10.99.0.11:5672/');
    expect(maskUrlPasswords('rabbit://openstack:wrong@h1:5672,openstack:r%40bbit%3Apass%2F1@h2:5672/', SECRETS)).toBe('rabbit://openstack:__OTHER__@h1:5672,openstack:__RABBIT_PASS__@h2:5672/');
    expect(maskUrlPasswords('none:///', SECRETS)).toBe('none:///');
  });

  test('templates are recognised', () => {
    expect(isTemplate('{scheme}://{username}:{password}@{hostname}/nova')).toBe(true);
    expect(isTemplate('rabbit://openstack:x@10.99.0.11:5672/')).toBe(false);
  });
});

describe('nova-manage cell_v2 list_cells', () => {
  test('the table, after the eventlet warning', () => {
    const cells = parseListCells(maskUrlPasswords(VERBOSE, SECRETS));
    expect(cells).toEqual([{ ...cell0 }, { ...cell1 }]);
  });

  test('no table: no cells', () => {
    expect(parseListCells('An error has occurred:\nTraceback (most recent call last):\n')).toEqual([]);
  });

  test('on the host, the passwords are masked before anything is printed', () => {
    const bin = tempDir('stackcheck-cells-');
    const runuser = join(bin, 'runuser');
    writeFileSync(join(bin, 'table.txt'), VERBOSE);
    writeFileSync(runuser, `#!/bin/sh\n[ "$*" = "-u nova -- nova-manage cell_v2 list_cells --verbose" ] || exit 9\ncat "${join(bin, 'table.txt')}"\n`);
    chmodSync(runuser, 0o755);
    const out = execFileSync('python3', ['-c', LIST_CELLS_SCRIPT], { input: JSON.stringify({ secrets: { NOVA_DBPASS: SECRETS.NOVA_DBPASS } }), env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } }).toString();
    expect(out).not.toContain(SECRETS.NOVA_DBPASS);
    expect(out).not.toContain('r%40bbit');
    expect(out.split('\n')[0]).toBe('RC 0');
    expect(parseListCells(out)).toEqual([cell0, { ...cell1, transportUrl: 'rabbit://openstack:__OTHER__@10.99.0.11:5672/' }]);
  });
});

describe('cells against the inventory', () => {
  test('the tutorial\'s layout passes', () => {
    expect(cellProblems([cell0, cell1], WANT)).toEqual([]);
    expect(cellProblems([cell0, { ...cell1, databaseConnection: 'mysql+pymysql://nova:__NOVA_DBPASS__@db-node/nova?charset=utf8' }], WANT)).toEqual([]);
  });

  test('wrong database, host, password and transport are each named, never the password', () => {
    const bad = [
      { ...cell0, databaseConnection: 'mysql+pymysql://nova:__NOVA_DBPASS__@10.99.0.11/nova' },
      { ...cell1, transportUrl: 'rabbit://guest:__OTHER__@10.99.0.99:5673/', databaseConnection: 'mysql+pymysql://nova:__OTHER__@localhost/nova' },
    ];
    expect(cellProblems(bad, WANT)).toEqual([
      'cell0 database_connection names database nova, not nova_cell0',
      'cell1 database_connection has a password that differs from NOVA_DBPASS',
      'cell1 database_connection points at host localhost, not db-node',
      'cell1 transport_url uses user guest, not openstack',
      'cell1 transport_url has a password that differs from RABBIT_PASS',
      'cell1 transport_url points at host 10.99.0.99, not db-node',
      'cell1 transport_url uses port 5673, not 5672',
    ]);
  });

  test('missing, duplicated and disabled cells; a transport that is not RabbitMQ; another vhost', () => {
    expect(cellProblems([cell0], WANT)).toEqual(['cell1 is not mapped']);
    expect(cellProblems([cell0, cell1, { ...cell1, uuid: 'aaaaaaaa-0000-0000-0000-000000000001' }], WANT)).toEqual([
      '2 cells are named cell1 (cb5b29f2-6b23-467e-86b7-03bf156a0a90, aaaaaaaa-0000-0000-0000-000000000001): delete the extra one',
    ]);
    expect(cellProblems([cell0, { ...cell1, disabled: true, transportUrl: 'none:///' }], WANT)).toEqual([
      'cell1 is disabled (nova-manage cell_v2 update_cell --cell_uuid cb5b29f2-6b23-467e-86b7-03bf156a0a90 --enable)',
      'cell1 transport_url is a none:// URL, not rabbit://',
    ]);
    expect(cellProblems([cell0, { ...cell1, transportUrl: 'rabbit://openstack:__RABBIT_PASS__@10.99.0.11:5672/nova' }], WANT)).toEqual(['cell1 transport_url uses vhost nova, not /']);
  });
});

describe('nova-status upgrade check', () => {
  // On the lab's api-node while nova-compute had registered and discover_hosts had not run yet.
  const OUT = `Modules with known eventlet monkey patching issues were imported prior to eventlet monkey patching: urllib3. This warning can usually be ignored if the caller is only importing and not executing nova code.
+------------------------------------------------------------------+
| Upgrade Check Results                                            |
+------------------------------------------------------------------+
| Check: Cells v2                                                  |
| Result: Failure                                                  |
| Details: No host mappings found but there are compute nodes. Run |
|   command 'nova-manage cell_v2 simple_cell_setup' and then       |
|   retry.                                                         |
+------------------------------------------------------------------+
| Check: Placement API                                             |
| Result: Success                                                  |
| Details: None                                                    |
+------------------------------------------------------------------+
| Check: Cinder API                                                |
| Result: Success                                                  |
| Details: None                                                    |
+------------------------------------------------------------------+
| Check: Service User Token Configuration                          |
| Result: Success                                                  |
| Details: None                                                    |
+------------------------------------------------------------------+
`;

  test('each check with its result and details (continued lines joined)', () => {
    expect(parseUpgradeCheck(OUT)).toEqual([
      { check: 'Cells v2', result: 'Failure', details: "No host mappings found but there are compute nodes. Run command 'nova-manage cell_v2 simple_cell_setup' and then retry." },
      { check: 'Placement API', result: 'Success', details: '' },
      { check: 'Cinder API', result: 'Success', details: '' },
      { check: 'Service User Token Configuration', result: 'Success', details: '' },
    ]);
  });

  test('no table: nothing', () => {
    expect(parseUpgradeCheck('Error: could not connect\n')).toEqual([]);
  });
});

describe('cells as evidence', () => {
  test('URLs without a password field, and which variable the password equals', () => {
    expect(cellForEvidence(cell1)).toEqual({
      name: 'cell1',
      uuid: 'cb5b29f2-6b23-467e-86b7-03bf156a0a90',
      transport_url: 'rabbit://openstack@10.99.0.11:5672/ (password equals RABBIT_PASS)',
      database_connection: 'mysql+pymysql://nova@10.99.0.11/nova (password equals NOVA_DBPASS)',
      disabled: false,
    });
    expect(cellForEvidence({ ...cell0, databaseConnection: 'mysql+pymysql://nova:__OTHER__@db/nova_cell0' }).database_connection).toBe("mysql+pymysql://nova@db/nova_cell0 (password equals none of the inventory's)");
  });
});
