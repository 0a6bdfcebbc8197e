// JUnit XML from a real (local) run and check results: a real XML parser accepts it, counts add up,
// failures carry message and remedy, output is in system-out, control characters and secrets are gone.
import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { JunitCollector, xmlEscape } from '../../src/report/junit.js';
import { localStages, runLocally } from './local-run.js';
import { checkResults, SECRET } from './checks-fixture.js';

interface Tc {
  '@_classname': string;
  '@_name': string;
  failure?: { '@_message': string; '#text': string };
  error?: { '@_message': string };
  skipped?: unknown;
  'system-out'?: string;
}
interface Ts {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  testcase: Tc[];
}

function build(): string {
  const bus = new EventBus();
  const junit = new JunitCollector('stackcheck alice');
  junit.attach(bus);
  runLocally(
    localStages([
      { id: 'basic', title: 'Basic', steps: [{ host: 'db-node', command: "printf 'ok \\001\\033[1mbold\\033[0m <tag> & \"q\"\\n'" }] },
      { id: 'keystone', title: 'Keystone', steps: [{ host: 'auth-node', command: `echo ${SECRET}; echo boom >&2; exit 3` }] },
    ]),
    bus,
    [SECRET],
  );
  junit.addChecks(checkResults());
  return junit.render(new Redactor([SECRET]));
}

describe('JunitCollector', () => {
  it('produces XML a JUnit parser accepts, one testsuite per stage with the right counts', () => {
    const xml = build();
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(xml) as {
      testsuites: { '@_tests': string; '@_failures': string; '@_errors': string; '@_skipped': string; testsuite: Ts[] };
    };
    const root = doc.testsuites;
    expect([root['@_tests'], root['@_failures'], root['@_errors'], root['@_skipped']]).toEqual(['6', '2', '1', '1']);
    const keystone = root.testsuite.find((s) => s['@_name'] === 'keystone');
    expect(keystone?.testcase.map((t) => t['@_classname'])).toEqual(['keystone', 'checks.keystone', 'checks.keystone', 'checks.nova']);
    const step = keystone?.testcase[0];
    expect(step?.['@_name']).toMatch(/^keystone\/1 · echo ••••••; echo boom >&2; exit 3 \[auth-node\]$/);
    expect(step?.failure?.['@_message']).toBe('step keystone/1 on auth-node failed: exit code 3');
    expect(step?.['system-out']).toContain('--- stderr ---\nboom');
    const check = keystone?.testcase.find((t) => t['@_name'] === 'keystone.catalog [auth-node]');
    expect(check?.failure?.['@_message']).toBe('expected an "image" endpoint <public>, found none — Fix (stage glance): create the glance service & its endpoints');
    expect(check?.failure?.['#text']).toContain('found: none');
    const broken = root.testsuite.find((s) => s['@_name'] === 'basic')?.testcase.find((t) => t['@_name'] === 'mysql.server [db-node]');
    expect(broken?.error?.['@_message']).toMatch(/^cannot check: connect ECONNREFUSED/);
  });

  it('strips characters XML forbids, escapes markup, and contains no secret', () => {
    const xml = build();
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).toContain('&lt;tag&gt; &amp; &quot;q&quot;');
    expect(xml).not.toContain(SECRET);
    expect(xmlEscape('a\u0000b\ud800c')).toBe('a\ufffdb\ufffdc');
  });
});
