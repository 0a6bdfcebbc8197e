// rabbitmqctl output as permissionsScript prints it on the lab's RabbitMQ 3.10 (captured), and the verdicts.
import { describe, expect, test } from 'vitest';
import { parsePermissions, permissionProblems, permissionsScript } from '../../src/checks/rabbitmq-permissions.js';

const OK = `RC 0
[
{"vhost":"/","configure":".*","write":".*","read":".*"}
]`;
const NO_USER = `RC 69
Error:
{:no_such_user, "nosuch"}
--- users
[
{"user":"guest","tags":["administrator"]}
,{"user":"openstack","tags":[]}
]`;
const DOWN = `RC 69
Error: unable to perform an operation on node 'rabbit@db-node'. Please see diagnostics information and suggestions below.`;

describe('rabbitmqctl list_user_permissions', () => {
  test('the script asks for one user (quoted) and lists the users only when that failed', () => {
    const s = permissionsScript("open'stack");
    expect(s).toContain(`list_user_permissions -- 'open'\\''stack'`);
    expect(s).toContain('list_users');
  });

  test('permissions per vhost', () => {
    expect(parsePermissions(OK)).toEqual({ kind: 'permissions', permissions: [{ vhost: '/', configure: '.*', write: '.*', read: '.*' }] });
    expect(parsePermissions('RC 0\n[\n]')).toEqual({ kind: 'permissions', permissions: [] });
  });

  test('no such user, with the users the broker has', () => {
    expect(parsePermissions(NO_USER)).toEqual({ kind: 'no-user', users: ['guest', 'openstack'] });
  });

  test('a broker that does not answer is an error, not a verdict', () => {
    expect(parsePermissions(DOWN)).toEqual({ kind: 'error', text: "Error: unable to perform an operation on node 'rabbit@db-node'. Please see diagnostics information and suggestions below." });
    expect(parsePermissions('')).toMatchObject({ kind: 'error' });
  });
});

describe('permission verdicts', () => {
  test('the tutorial\'s ".*" three times passes; so does any pattern admitting every name', () => {
    expect(permissionProblems([{ vhost: '/', configure: '.*', write: '.*', read: '.*' }], '/')).toEqual([]);
    expect(permissionProblems([{ vhost: '/', configure: '^.*$', write: '.', read: '.*' }], '/')).toEqual([]);
  });

  test('empty, restrictive and invalid patterns are named with what they refuse', () => {
    expect(permissionProblems([{ vhost: '/', configure: '', write: '^nova.*', read: '(' }], '/')).toEqual([
      'configure "" refuses openstack, nova, neutron and 9 more',
      'write "^nova.*" refuses openstack, neutron, cinder and 8 more',
      'read "(" is not a valid regular expression',
    ]);
  });

  test('permissions on another vhost only', () => {
    expect(permissionProblems([{ vhost: 'openstack', configure: '.*', write: '.*', read: '.*' }], '/')).toEqual(['no permissions on vhost / (only on openstack)']);
    expect(permissionProblems([], '/')).toEqual(['no permissions on vhost /']);
  });
});
