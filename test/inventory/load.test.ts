import { tempDir } from '../helpers/tmp.js';
import { chmodSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputErrors, StackcheckError } from '../../src/error.js';
import { inventoryFromObject, loadInventory } from '../../src/inventory/load.js';

const dir = relative(process.cwd(), resolve(__dirname, '../../fixtures/inventories'));
const fx = (name: string) => join(dir, name);

// git keeps no mode but the executable bit: the fixture's secrets file is made the owner's alone, as a user's must be.
beforeAll(() => chmodSync(fx('secrets.yaml'), 0o600));

// Loads an inventory that must fail and returns its error lines.
async function errorsOf(file: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadInventory(file, { env });
  } catch (err) {
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).code).toBe('E_INVENTORY');
    expect((err as StackcheckError).exitCode).toBe(2);
    return (err as Error).message.split('\n');
  }
  throw new Error(`${file} loaded without errors`);
}

describe('loadInventory', () => {
  it('maps every field of a complete inventory, resolving paths against the inventory folder', async () => {
    const inv = await loadInventory(fx('lab.yaml'), { env: {} });
    expect(inv.name).toBe('lab');
    expect(inv.file).toBe(fx('lab.yaml'));
    expect(inv.hosts['db-node']).toEqual({ role: 'db-node', address: '10.99.0.11', port: 2222, user: 'root', hostname: 'db1' });
    expect(inv.hosts['auth-node']).toMatchObject({ port: 22, user: 'root', jump: 'db-node', hostname: 'auth-node' });
    expect(inv.hosts['compute-1']).toMatchObject({ user: 'stack', jump: 'admin@gw.example:2200' });
    expect(inv.knownHosts).toBe(resolve(dir, 'known_hosts'));
    expect(inv.acceptNewHostKeys).toBe(true);
    expect(inv.connectTimeoutMs).toBe(5000);
    expect(inv.vars).toMatchObject({ DB_HOST: '10.99.0.11', DB_PORT: '3306', DEBUG: 'true', RABBIT_PASS: 'guest' });
  });

  it('lets the secrets file override vars and makes all of its entries secret, plus listed and *_PASS names', async () => {
    const inv = await loadInventory(fx('lab.yaml'), { env: {} });
    expect(inv.vars.ADMIN_PASS).toBe('s3cret-admin');
    expect(inv.vars.KEYSTONE_DBPASS).toBe('ks-db-pw');
    expect(inv.secretNames).toEqual(['ADMIN_PASS', 'KEYSTONE_DBPASS', 'RABBIT_PASS', 'REGION_KEY']);
  });

  it('takes STACKCHECK_VAR_<NAME> from the environment last; suffix names are secret', async () => {
    const inv = await loadInventory(fx('lab.yaml'), {
      env: { STACKCHECK_VAR_DB_HOST: '10.0.0.3', STACKCHECK_VAR_NOVA_TOKEN: 'tok', OTHER: 'x' },
    });
    expect(inv.vars.DB_HOST).toBe('10.0.0.3');
    expect(inv.vars.NOVA_TOKEN).toBe('tok');
    expect(inv.vars.OTHER).toBeUndefined();
    expect(inv.secretNames).toContain('NOVA_TOKEN');
    expect(inv.secretNames).not.toContain('DB_HOST');
  });

  it('adds a secrets file given on the command line', async () => {
    const tmp = tempDir('stackcheck-inv-');
    writeFileSync(join(tmp, 's.yaml'), 'GLANCE_DBPASS: glance-pw\nREGION: Zurich\n', { mode: 0o600 });
    const inv = await loadInventory(fx('minimal.yaml'), { secretsFile: join(tmp, 's.yaml'), env: {} });
    expect(inv.vars).toEqual({ GLANCE_DBPASS: 'glance-pw', REGION: 'Zurich' });
    expect(inv.secretNames).toEqual(['GLANCE_DBPASS', 'REGION']);
  });

  it('refuses an address or a user that would read as an SSH option or hold spaces, naming the line', async () => {
    const tmp = tempDir('stackcheck-inv-');
    const f = join(tmp, 'hostile.yaml');
    writeFileSync(f, 'ssh:\n  user: "-oProxyCommand=touch /tmp/x"\nhosts:\n  db-node: { address: "root -oProxyCommand=x" }\n  ok-node: { address: "fe80::1%eth0", user: debian }\n  v4: { address: 10.0.0.1 }\n');
    expect(await errorsOf(f)).toEqual([
      `${f}:2: ssh.user: expected a login name (letters, digits, "_", ".", "-"; not starting with "-") (got "-oProxyCommand=touch /tmp/x")`,
      `${f}:4: hosts.db-node.address: expected a host name or an IP address (letters, digits, ".", "-", ":"; not starting with "-") (got "root -oProxyCommand=x")`,
    ]);
  });

  it('refuses a YAML alias bomb with a clear error (exit 2), not a crash', async () => {
    const tmp = tempDir('stackcheck-inv-');
    const f = join(tmp, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i - 1]}`).join(',')}]`);
    writeFileSync(f, `${levels.join('\n')}\nhosts: {}\n`);
    const errors = await errorsOf(f);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${f}:1: not valid YAML: Excessive alias count`));
  });

  it('refuses a secrets file its group or everyone can read (as ssh a private key), naming the line or the option; an explicit opt-in accepts it', async () => {
    const tmp = tempDir('sc-inv-');
    writeFileSync(join(tmp, 's.yaml'), 'ADMIN_PASS: hunter2-secret\n', { mode: 0o644 });
    chmodSync(join(tmp, 's.yaml'), 0o644);
    writeFileSync(join(tmp, 'i.yaml'), 'hosts:\n  a:\n    address: 127.0.0.1\nsecrets_file: s.yaml\n');
    const lines = await errorsOf(join(tmp, 'i.yaml'));
    expect(lines).toEqual([
      `${join(tmp, 'i.yaml')}:4: secrets_file: the secrets file ${join(tmp, 's.yaml')} can be read by its group and everyone (mode 0644): make it yours alone with chmod 600 ${join(tmp, 's.yaml')} (or set STACKCHECK_ALLOW_READABLE_SECRETS=1 to accept it)`,
    ]);
    expect(lines.join('\n')).not.toContain('hunter2');
    chmodSync(join(tmp, 's.yaml'), 0o640);
    const option = await loadInventory(fx('minimal.yaml'), { secretsFile: join(tmp, 's.yaml'), env: {} }).then(
      () => undefined,
      (e: unknown) => e as StackcheckError,
    );
    expect(option?.exitCode).toBe(2);
    expect(option?.message).toMatch(/^--secrets .*s\.yaml: the secrets file .* can be read by its group \(mode 0640\)/);
    const accepted = await loadInventory(join(tmp, 'i.yaml'), { env: { STACKCHECK_ALLOW_READABLE_SECRETS: '1' } });
    expect(accepted.vars.ADMIN_PASS).toBe('hunter2-secret');
    chmodSync(join(tmp, 's.yaml'), 0o600);
    expect((await loadInventory(join(tmp, 'i.yaml'), { env: {} })).secretNames).toContain('ADMIN_PASS');
  });

  it('blames a missing --secrets file on the option, not on a line of the inventory (exit 2)', async () => {
    const tmp = tempDir('stackcheck-inv-');
    const err = await loadInventory(fx('minimal.yaml'), { secretsFile: join(tmp, 'absent.yaml'), env: {} }).then(
      () => undefined,
      (e: unknown) => e as StackcheckError,
    );
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toBe(`--secrets ${join(tmp, 'absent.yaml')}: cannot read it (ENOENT)`);
  });

  it('fills defaults: name from the file, root, port 22, ~/.ssh/known_hosts, 10 s connect timeout', async () => {
    const inv = await loadInventory(fx('minimal.yaml'), { env: {} });
    expect(inv.name).toBe('minimal');
    expect(inv.hosts['db-node']).toEqual({ role: 'db-node', address: '127.0.0.1', port: 22, user: 'root', hostname: 'db-node' });
    expect(inv.knownHosts).toBe(join(homedir(), '.ssh/known_hosts'));
    expect(inv.acceptNewHostKeys).toBe(false);
    expect(inv.connectTimeoutMs).toBe(10_000);
    expect(inv.secretNames).toEqual([]);
  });

  it('names the file, line and field of every schema error, with did-you-mean for typos', async () => {
    const f = fx('bad-fields.yaml');
    expect(await errorsOf(f)).toEqual([
      `${f}:3: ssh.usr: unknown key (did you mean "user"?); allowed here: user, key, agent, known_hosts, accept_new_host_keys, connect_timeout`,
      `${f}:6: hosts.db-node.address: required (the IP address or DNS name to connect to)`,
      `${f}:6: hosts.db-node.adress: unknown key (did you mean "address"?); allowed here: address, port, user, key, agent, jump, hostname`,
      `${f}:7: hosts.db-node.port: expected a number, got "abc"`,
      `${f}:10: hosts.auth-node.port: expected a port from 1 to 65535, got 70000`,
      `${f}:12: vars.DB_HOST: expected a string, number or true/false, got a list`,
    ]);
  });

  it('reports semantic errors: agent without a socket, bad durations, jump loops and typos, bad variable names', async () => {
    const f = fx('bad-semantics.yaml');
    expect(await errorsOf(f)).toEqual([
      `${f}:2: ssh.agent: true, but SSH_AUTH_SOCK is not set: start ssh-agent, or give the socket path`,
      `${f}:3: ssh.connect_timeout: expected a duration such as 10s, 2m or a number of seconds, got "soon"`,
      `${f}:7: hosts.db-node.jump: jump hosts form a loop: db-node → auth-node → db-node`,
      `${f}:10: hosts.auth-node.jump: jump hosts form a loop: auth-node → db-node → auth-node`,
      `${f}:13: hosts.compute-1.jump: "db-nod" is not a role in hosts: (did you mean "db-node"?); give a role, or user@host:port`,
      `${f}:15: vars.bad-name: "bad-name" is not a variable name: use letters, digits and _ (e.g. DB_HOST)`,
    ]);
  });

  it('uses $SSH_AUTH_SOCK for agent: true', async () => {
    const tmp = tempDir('stackcheck-inv-');
    writeFileSync(join(tmp, 'i.yaml'), 'ssh:\n  agent: true\nhosts:\n  a:\n    address: 127.0.0.1\n  b:\n    address: 127.0.0.2\n    agent: false\n');
    const inv = await loadInventory(join(tmp, 'i.yaml'), { env: { SSH_AUTH_SOCK: '/run/agent.sock' } });
    expect(inv.hosts.a?.agent).toBe('/run/agent.sock');
    expect(inv.hosts.b?.agent).toBeUndefined();
  });

  it('reports YAML syntax errors at their line', async () => {
    const f = fx('bad-yaml.yaml');
    expect(await errorsOf(f)).toEqual([`${f}:4: not valid YAML: All mapping items must start at the same column`]);
  });

  it('reports a missing secrets file and a missing key file with the resolved path', async () => {
    expect(await errorsOf(fx('missing-secrets.yaml'))).toEqual([
      `${fx('missing-secrets.yaml')}:4: secrets_file: cannot read the secrets file ${resolve(dir, 'no-such-secrets.yaml')} (ENOENT)`,
    ]);
    expect(await errorsOf(fx('missing-key.yaml'))).toEqual([`${fx('missing-key.yaml')}:2: ssh.key: key file not found: ${resolve(dir, 'no-such-key')}`]);
  });

  it('never shows a secret value in an error about the secrets file', async () => {
    const tmp = tempDir('stackcheck-inv-');
    writeFileSync(join(tmp, 's.yaml'), 'ADMIN_PASS:\n  - hunter2-secret\n', { mode: 0o600 });
    writeFileSync(join(tmp, 'i.yaml'), 'hosts:\n  a:\n    address: 127.0.0.1\nsecrets_file: s.yaml\n');
    const lines = await errorsOf(join(tmp, 'i.yaml'));
    expect(lines).toEqual([`${join(tmp, 's.yaml')}: ADMIN_PASS: expected a string or number (the value is not shown: it is secret), got a list`]);
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('says what to do when the inventory file does not exist', async () => {
    const err = await loadInventory(fx('nope.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).message).toBe(`inventory not found: ${fx('nope.yaml')} (ENOENT)`);
    expect((err as StackcheckError).hint).toContain('--inventory FILE');
    expect((err as StackcheckError).exitCode).toBe(2);
  });
});

describe('inventoryFromObject', () => {
  it('builds an inventory from a generated object, keys relative to baseDir, ~ expanded', () => {
    const inv = inventoryFromObject(
      {
        name: 'lab',
        ssh: { key: './id_ed25519', known_hosts: '~/kh', connect_timeout: 3 },
        hosts: { 'db-node': { address: '10.99.0.11' }, 'auth-node': { address: '10.99.0.12', key: '/abs/key' } },
        vars: { DB_HOST: '10.99.0.11' },
      },
      '<lab>',
      '/var/lib/stackcheck/lab',
      {},
    );
    expect(inv.file).toBe('<lab>');
    expect(inv.hosts['db-node']?.keyFile).toBe('/var/lib/stackcheck/lab/id_ed25519');
    expect(inv.hosts['auth-node']?.keyFile).toBe('/abs/key');
    expect(inv.knownHosts).toBe(join(homedir(), 'kh'));
    expect(inv.connectTimeoutMs).toBe(3000);
  });

  it('rejects unknown keys in generated objects too, naming the source', () => {
    let err: unknown;
    try {
      inventoryFromObject({ hosts: { a: { address: 'x', prot: 22 } } }, '<lab>', '/tmp', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputErrors);
    expect((err as Error).message).toBe(
      '<lab>: hosts.a.prot: unknown key (did you mean "port"?); allowed here: address, port, user, key, agent, jump, hostname',
    );
  });
});
