import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mergeIni, parseIni } from '../../src/runner/ini.js';

const novaConf = readFileSync(new URL('../../fixtures/ini/nova.conf', import.meta.url), 'utf8');
const keystoneConf = readFileSync(new URL('../../fixtures/ini/keystone.conf', import.meta.url), 'utf8');

describe('mergeIni', () => {
  it('replaces the active key in its section and keeps comments, order and other keys', () => {
    const existing = ['[DEFAULT]', '# a comment', 'debug = false', 'log_dir = /var/log/nova', '', '[database]', '#connection = <None>', 'connection = sqlite:////var/lib/nova/novadb', 'max_retries = 10', ''].join('\n');
    const merged = mergeIni(existing, '[database]\nconnection = mysql+pymysql://nova:secret@db-node/nova?charset=utf8\n');
    expect(merged).toBe(
      ['[DEFAULT]', '# a comment', 'debug = false', 'log_dir = /var/log/nova', '', '[database]', '#connection = <None>', 'connection = mysql+pymysql://nova:secret@db-node/nova?charset=utf8', 'max_retries = 10', ''].join('\n'),
    );
  });

  it('leaves commented-out keys alone and adds the key after the last active key of the section', () => {
    const existing = '[keystone_authtoken]\n#www_authenticate_uri = <None>\nauth_type = password\n\n#memcached_servers = <None>\n\n[other]\nx = 1\n';
    const merged = mergeIni(existing, '[keystone_authtoken]\nwww_authenticate_uri = http://auth-node:5000/\nmemcached_servers = db-node:11211\n');
    expect(merged).toBe(
      '[keystone_authtoken]\n#www_authenticate_uri = <None>\nauth_type = password\nwww_authenticate_uri = http://auth-node:5000/\nmemcached_servers = db-node:11211\n\n#memcached_servers = <None>\n\n[other]\nx = 1\n',
    );
  });

  it('puts a key right after the header when the section has only comments', () => {
    const merged = mergeIni('[database]\n#\n# From oslo.db\n#\n#connection = <None>\n\n[glance]\n', '[database]\nconnection = mysql://x\n');
    expect(merged).toBe('[database]\nconnection = mysql://x\n#\n# From oslo.db\n#\n#connection = <None>\n\n[glance]\n');
  });

  it('appends a missing section at the end after one blank line', () => {
    expect(mergeIni('[DEFAULT]\ndebug = true\n\n\n', '[neutron]\nurl = http://network-node:9696\nauth_type = password\n')).toBe(
      '[DEFAULT]\ndebug = true\n\n[neutron]\nurl = http://network-node:9696\nauth_type = password\n',
    );
  });

  it('creates the file content from the patch when the file is empty, dropping placeholders and comments', () => {
    const patch = '[DEFAULT]\n# ...\nrpc_backend = rabbit\n...\n\n[database]\n...\nconnection = mysql://glance:gridka@db-node/glance\n';
    expect(mergeIni('', patch)).toBe('[DEFAULT]\nrpc_backend = rabbit\n\n[database]\nconnection = mysql://glance:gridka@db-node/glance\n');
  });

  it('keeps everything after the first = in a value (connection URLs, query strings)', () => {
    const merged = mergeIni('[database]\nconnection = a=b\n', '[database]\nconnection = mysql+pymysql://k:p@db/keystone?charset=utf8&plugin=x\n');
    expect(parseIni(merged).database?.connection).toBe('mysql+pymysql://k:p@db/keystone?charset=utf8&plugin=x');
  });

  it('replaces a multi-line value including its continuation lines', () => {
    const existing = '[DEFAULT]\nenabled_apis = osapi_compute,\n    metadata\nother = 1\n';
    const merged = mergeIni(existing, '[DEFAULT]\nenabled_apis = osapi_compute\n');
    expect(merged).toBe('[DEFAULT]\nenabled_apis = osapi_compute\nother = 1\n');
    const multi = mergeIni('[DEFAULT]\nother = 1\n', '[DEFAULT]\nenabled_apis = a,\n    b\n');
    expect(parseIni(multi).DEFAULT?.enabled_apis).toBe('a,\nb');
  });

  it('reads a patch indented as a whole as unindented keys (not continuation lines)', () => {
    expect(mergeIni('[database]\nx = 1\n', '  [database]\n  connection = a\n  max_pool_size = 5\n')).toBe('[database]\nx = 1\nconnection = a\nmax_pool_size = 5\n');
  });

  it('treats - and _ in key names as the same key (MySQL and oslo.config do)', () => {
    expect(mergeIni('[mysqld]\nbind-address = 127.0.0.1\n', '[mysqld]\nbind_address = 10.0.0.3\n')).toBe('[mysqld]\nbind_address = 10.0.0.3\n');
  });

  it('handles bare keys (my.cnf flags) and keys before any section (sysctl.conf)', () => {
    expect(mergeIni('[mysqld]\nport = 3306\n', '[mysqld]\nskip-name-resolve\n')).toBe('[mysqld]\nport = 3306\nskip-name-resolve\n');
    expect(mergeIni('# sysctl\nnet.ipv4.ip_forward=0\nkernel.x=1\n', 'net.ipv4.ip_forward=1\nnet.ipv4.conf.all.rp_filter=0\n')).toBe(
      '# sysctl\nnet.ipv4.ip_forward=1\nkernel.x=1\nnet.ipv4.conf.all.rp_filter=0\n',
    );
    expect(mergeIni('NODE_IP_ADDRESS=127.0.0.1\n', 'NODE_IP_ADDRESS=10.0.0.3\n')).toBe('NODE_IP_ADDRESS=10.0.0.3\n');
  });

  it('removes later active duplicates of a replaced key (the last one would win otherwise)', () => {
    expect(mergeIni('[DEFAULT]\ndebug = false\nx = 1\ndebug = false\n', '[DEFAULT]\ndebug = true\n')).toBe('[DEFAULT]\ndebug = true\nx = 1\n');
  });

  it('writes every value of a key given several times (multi-valued options)', () => {
    const merged = mergeIni('[pci]\npassthrough_whitelist = a\n', '[pci]\npassthrough_whitelist = b\npassthrough_whitelist = c\n');
    expect(merged).toBe('[pci]\npassthrough_whitelist = b\npassthrough_whitelist = c\n');
    expect(mergeIni(merged, '[pci]\npassthrough_whitelist = b\npassthrough_whitelist = c\n')).toBe(merged);
  });

  it('merges into the real Debian nova.conf: replaced lines change, added lines appear, the rest is byte-identical', () => {
    const patch = [
      '[DEFAULT]',
      'transport_url = rabbit://openstack:gridka@db-node',
      'my_ip = 10.0.0.6',
      '[database]',
      'connection = mysql+pymysql://nova:gridka@db-node/nova',
      '[keystone_authtoken]',
      'auth_url = http://auth-node:5000/',
    ].join('\n');
    const merged = mergeIni(novaConf, patch);
    const before = novaConf.split('\n');
    const after = merged.split('\n');
    expect(after.length).toBe(before.length + 2);
    expect(after.filter((l) => l === 'connection = mysql+pymysql://nova:gridka@db-node/nova')).toHaveLength(1);
    expect(after).not.toContain('connection = sqlite:////var/lib/nova/novadb');
    expect(after).toContain('#transport_url = rabbit://'); // the commented default stays
    const conf = parseIni(merged);
    expect(conf.DEFAULT?.transport_url).toBe('rabbit://openstack:gridka@db-node');
    expect(conf.DEFAULT?.state_path).toBe('/var/lib/nova');
    expect(conf.database?.connection).toBe('mysql+pymysql://nova:gridka@db-node/nova');
    expect(conf.keystone_authtoken?.auth_url).toBe('http://auth-node:5000/');
    // the new DEFAULT keys go after the last active DEFAULT key (state_path), not at the end of the file
    expect(after.indexOf('transport_url = rabbit://openstack:gridka@db-node')).toBe(before.indexOf('state_path = /var/lib/nova') + 1);
    // removing the added lines and restoring the replaced one gives back the original
    const restored = after
      .filter((l) => !['transport_url = rabbit://openstack:gridka@db-node', 'my_ip = 10.0.0.6'].includes(l))
      .map((l) => (l === 'connection = mysql+pymysql://nova:gridka@db-node/nova' ? 'connection = sqlite:////var/lib/nova/novadb' : l))
      .map((l) => (l === 'auth_url = http://auth-node:5000/' ? 'auth_url = http://localhost:5000' : l));
    expect(restored.join('\n')).toBe(novaConf);
  });

  it('is idempotent on real files: merging twice equals merging once', () => {
    const patch = '[database]\nconnection = mysql+pymysql://keystone:pw@db-node/keystone\n[token]\nprovider = fernet\n[new_section]\na = 1\nb = x=y\n';
    const once = mergeIni(keystoneConf, patch);
    expect(mergeIni(once, patch)).toBe(once);
    expect(once).not.toBe(keystoneConf);
    expect(parseIni(once).token?.provider).toBe('fernet');
    expect(once.endsWith('\n[new_section]\na = 1\nb = x=y\n')).toBe(true);
  });
});

describe('mergeIni on every section of keystone.conf', () => {
  it('sets one commented-out option per section, idempotently, touching nothing else', () => {
    // For each section, the first commented default `#name = value` becomes an active `name = set-<section>`.
    const patchLines: string[] = [];
    let section = '';
    const picked = new Map<string, string>();
    for (const line of keystoneConf.split('\n')) {
      const header = /^\[(.+)\]$/.exec(line);
      if (header) section = header[1] ?? '';
      const opt = /^#([a-z_]+) = /.exec(line);
      if (section && opt && !picked.has(section)) picked.set(section, opt[1] ?? '');
    }
    for (const [sec, key] of picked) patchLines.push(`[${sec}]`, `${key} = set-${sec}`);
    expect(picked.size).toBeGreaterThan(30);
    const once = mergeIni(keystoneConf, patchLines.join('\n'));
    expect(mergeIni(once, patchLines.join('\n'))).toBe(once);
    const conf = parseIni(once);
    for (const [sec, key] of picked) expect(conf[sec]?.[key], `[${sec}] ${key}`).toBe(`set-${sec}`);
    // every original line is still there, in order; only the new lines were added
    const added = new Set([...picked].map(([sec, key]) => `${key} = set-${sec}`));
    expect(once.split('\n').filter((l) => !added.has(l)).join('\n')).toBe(keystoneConf);
  });
});

describe('parseIni', () => {
  it('reads sections and keys, last occurrence winning, ignoring comments', () => {
    const conf = parseIni('top = 1\n[DEFAULT]\n#debug = true\ndebug = false\ndebug = true\n[database]\nconnection = a=b\n');
    expect(conf).toEqual({ '': { top: '1' }, DEFAULT: { debug: 'true' }, database: { connection: 'a=b' } });
  });
});
