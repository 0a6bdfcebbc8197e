// API credentials as OpenStack users keep them: clouds.yaml, an openrc file (read, never run), OS_* variables.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiCredentials, cloudsYamlPaths, fromCloudsYaml, fromOpenrc } from '../../src/openstack/credentials.js';
import { StackcheckError } from '../../src/error.js';
import { tempDir } from '../helpers/tmp.js';

const CLOUDS = `clouds:
  lab:
    auth:
      auth_url: http://10.99.0.12:5000/v3
      username: admin
      password: "s3cret Pass"
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
  broken:
    auth:
      username: admin
`;

function thrown(f: () => unknown): StackcheckError {
  try {
    f();
  } catch (err) {
    if (err instanceof StackcheckError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('API credentials', () => {
  it('reads a cloud of clouds.yaml', () => {
    const dir = tempDir('creds-');
    writeFileSync(join(dir, 'clouds.yaml'), CLOUDS);
    expect(fromCloudsYaml('lab', [join(dir, 'clouds.yaml')])).toEqual({
      authUrl: 'http://10.99.0.12:5000/v3',
      username: 'admin',
      password: 's3cret Pass',
      projectName: 'admin',
      userDomainName: 'Default',
      projectDomainName: 'Default',
      regionName: 'RegionOne',
      source: `${join(dir, 'clouds.yaml')}: cloud "lab"`,
    });
  });

  it('names the file, the cloud and the missing fields (exit 2), and the clouds there are', () => {
    const dir = tempDir('creds-');
    const file = join(dir, 'clouds.yaml');
    writeFileSync(file, CLOUDS);
    const broken = thrown(() => fromCloudsYaml('broken', [file]));
    expect(broken.exitCode).toBe(2);
    expect(broken.message).toBe(`${file}: cloud "broken": missing auth_url (OS_AUTH_URL), password (OS_PASSWORD), project_name (OS_PROJECT_NAME)`);
    const none = thrown(() => fromCloudsYaml('nope', [file]));
    expect(none.message).toBe(`${file}: no cloud "nope" under clouds:`);
    expect(none.hint).toBe('clouds there: lab, broken');
    expect(thrown(() => fromCloudsYaml('lab', [join(dir, 'absent.yaml')])).message).toMatch(/no clouds\.yaml \(looked in .*absent\.yaml\)/);
  });

  it('reads an openrc file without running it', () => {
    const dir = tempDir('creds-');
    const file = join(dir, 'admin-openrc');
    writeFileSync(file, `export OS_USERNAME=admin\nexport OS_PASSWORD='p@ss $(touch ${dir}/ran)'\nexport OS_PROJECT_NAME=admin\nexport OS_AUTH_URL=http://10.99.0.12:5000/v3\nexport OS_IDENTITY_API_VERSION=3\n`);
    const c = fromOpenrc(file);
    expect(c).toMatchObject({ username: 'admin', password: `p@ss $(touch ${dir}/ran)`, projectName: 'admin', userDomainName: 'Default', source: `--openrc ${file}` });
  });

  it('takes --os-cloud, then --openrc, then OS_CLOUD, then OS_* variables; none: undefined', () => {
    const dir = tempDir('creds-');
    writeFileSync(join(dir, 'clouds.yaml'), CLOUDS);
    const env = { OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml') };
    expect(cloudsYamlPaths(env)).toEqual([join(dir, 'clouds.yaml')]);
    expect(apiCredentials({ osCloud: 'lab' }, env)?.username).toBe('admin');
    expect(apiCredentials({}, { ...env, OS_CLOUD: 'lab' })?.source).toContain('cloud "lab"');
    expect(apiCredentials({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'x' })?.source).toBe('the OS_* environment');
    expect(apiCredentials({}, {})).toBeUndefined();
    expect(thrown(() => apiCredentials({ osCloud: 'lab', openrc: 'f' }, env)).message).toBe('use either --os-cloud or --openrc, not both');
    expect(thrown(() => apiCredentials({}, { OS_AUTH_URL: 'not a url', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'x' })).message).toBe('the OS_* environment: auth_url "not a url" is not a URL');
  });
});
