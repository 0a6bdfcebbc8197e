// What a tutorial declares (`<!-- installs: … -->`, `<!-- checks: … -->`) decides what the checks expect after each
// stage — headings are names for people, not input — and a declaration that could never produce a result is an
// input error at its file:line before anything runs.
import { describe, expect, it } from 'vitest';
import { installedAfter, stagesBefore, validateStageDeclarations } from '../../src/checks/declared.js';
import { InputErrors } from '../../src/error.js';
import { parseMarkdown } from '../../src/runner/parse.js';
import type { Tutorial } from '../../src/runner/types.js';

// A tutorial from Markdown lines (one file).
function tutorial(lines: string[]): Tutorial {
  return { source: 't.md', ...parseMarkdown(lines.join('\n'), 't.md') };
}

// The messages of the input errors a validation throws (none: []).
function problems(t: Tutorial): string[] {
  try {
    validateStageDeclarations(t);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(InputErrors);
    return (err as InputErrors).errors.map((e) => e.message);
  }
}

const COURSE = [
  '## Databases', '<!-- installs: mysql, rabbitmq -->', '<!-- checks: mysql.server -->', '    root@db:~# true',
  '## Identity', '<!-- installs: keystone -->', '<!-- checks: keystone.catalog -->', '    root@auth:~# true',
  '## Images', '<!-- after: identity -->', '<!-- installs: glance -->', '<!-- checks: glance.api -->', '    root@img:~# true',
  '## Compute controller', '<!-- after: identity -->', '<!-- installs: placement, nova-controller -->', '<!-- checks: nova.api -->', '    root@api:~# true',
  '## Use it', '    root@api:~# true',
];

describe('installs comments', () => {
  it('a stage expects what it and the stages it builds on installed, nothing more', () => {
    const t = tutorial(COURSE);
    expect(installedAfter(t, 'databases')).toEqual(['mysql', 'rabbitmq']);
    expect(installedAfter(t, 'identity')).toEqual(['mysql', 'rabbitmq', 'keystone']);
    // Images and the controller run side by side: neither expects the other
    expect(installedAfter(t, 'images')).toEqual(['mysql', 'rabbitmq', 'keystone', 'glance']);
    expect(installedAfter(t, 'compute-controller')).toEqual(['mysql', 'rabbitmq', 'keystone', 'placement', 'nova-controller']);
    // a stage without an after comment builds on everything before it
    expect(installedAfter(t, 'use-it')).toEqual(['mysql', 'rabbitmq', 'keystone', 'glance', 'placement', 'nova-controller']);
    expect(stagesBefore(t, 'images').map((s) => s.id)).toEqual(['databases', 'identity']);
    expect(problems(t)).toEqual([]);
  });

  it('renaming a heading changes nothing the checks expect', () => {
    const renamed = COURSE.map((l) => l.replace('## Identity', '## Who is who (glance at it later)').replace('after: identity', 'after: who-is-who-glance-at-it-later'));
    const t = tutorial(renamed);
    expect(installedAfter(t, 'who-is-who-glance-at-it-later')).toEqual(['mysql', 'rabbitmq', 'keystone']);
    expect(installedAfter(t, 'images')).toEqual(installedAfter(tutorial(COURSE), 'images'));
  });

  it('an unknown install key, a check before what it needs, and a second installs comment are errors at their lines', () => {
    const t = tutorial([
      '## One', '<!-- installs: mariadb -->', '<!-- checks: keystone.catalog -->', '    root@db:~# true',
      '## Two', '<!-- installs: keystone -->', '    root@db:~# true',
    ]);
    expect(problems(t)).toEqual([
      't.md:2: stage "one": "mariadb" is not something a stage can install',
      't.md:1: stage "one" declares keystone.catalog, which needs keystone (installed by "two", which this stage does not come after): it could produce no result here',
    ]);
    expect(() => parseMarkdown('## S\n<!-- installs: mysql -->\n<!-- installs: keystone -->\n', 't.md')).toThrow(
      't.md:3: stage "s" already has an installs comment: list everything it installs in one',
    );
    expect(() => parseMarkdown('## S\n<!-- installs: -->\n', 't.md')).toThrow('t.md:2: installs comment names nothing');
    expect(() => parseMarkdown('## S\n<!-- install: mysql -->\n', 't.md')).toThrow('"<!-- install: … -->" is not recognised: write <!-- installs: mysql -->');
  });

  it('a check nothing installs is an error naming the missing install', () => {
    expect(problems(tutorial(['## Only', '<!-- checks: cinder.volume -->', '    root@db:~# true']))).toEqual([
      't.md:1: stage "only" declares cinder.volume, which needs cinder-volume (installed by no stage: add <!-- installs: cinder-volume --> to the stage that installs it): it could produce no result here',
    ]);
  });
});
