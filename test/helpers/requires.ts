// What an integration suite needs from the machine (sshd, root, sudo, Chromium), used instead of
// `describe.skipIf(!…)`. Outside CI a missing prerequisite skips the suite or test, with the reason in its
// name and on stderr. On CI (CI=true or CI=1) a skip is a setup defect: the suite fails instead, with one
// test naming what is missing and how to install it, so a green CI run cannot pass by omission.
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { SSHD, sshdAvailable } from './sshd.js';

export interface Prerequisite {
  /** What is needed, as a person names it: `sshd (/usr/sbin/sshd)`. */
  what: string;
  /** Whether this machine has it. */
  ok: boolean;
  /** How to get it: `` `apt-get install openssh-server` (scripts/setup.sh installs it) ``. */
  how: string;
}

/** What to do with a suite: run it, skip it (outside CI) or fail it (on CI), with the reason. */
export type Decision = { action: 'run' } | { action: 'skip' | 'fail'; reason: string };

/** A `describe` for suites and an `it` for single tests, behaving as the decision says. */
export interface Gate {
  decision: Decision;
  describe: (name: string, body: () => void) => void;
  it: (name: string, body: () => unknown, timeout?: number) => void;
}

/** Whether this is a CI run (CI=true or CI=1, as CI services and .ci/run set it). */
export function onCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v === 'true' || v === '1';
}

/** Run when every prerequisite is there; otherwise skip, or fail on CI. */
export function decide(prereqs: readonly Prerequisite[], env: NodeJS.ProcessEnv = process.env): Decision {
  const missing = prereqs.filter((p) => !p.ok);
  if (missing.length === 0) return { action: 'run' };
  const what = missing.map((p) => p.what).join(', ');
  const how = missing.map((p) => p.how).join('; ');
  return onCi(env)
    ? { action: 'fail', reason: `missing ${what}: on CI a skipped suite is a setup defect; ${how}` }
    : { action: 'skip', reason: `missing ${what}; ${how}` };
}

/** A describe/it pair gated on all of `prereqs`. */
export function requires(...prereqs: Prerequisite[]): Gate {
  const decision = decide(prereqs);
  if (decision.action === 'run') {
    return {
      decision,
      describe: (name, body) => describe(name, body),
      it: (name, body, timeout) => it(name, body, timeout),
    };
  }
  const { reason } = decision;
  if (decision.action === 'skip') {
    const skipped = (name: string): string => {
      process.stderr.write(`skipped "${name}": ${reason}\n`);
      return `${name} [skipped: ${reason}]`;
    };
    return {
      decision,
      describe: (name, body) => describe.skip(skipped(name), body),
      it: (name, body, timeout) => it.skip(skipped(name), body, timeout),
    };
  }
  // On CI: the suite's own tests are not even collected (their hooks would fail for the same reason, less
  // clearly); one failing test says what is missing.
  const fail = (): never => {
    throw new Error(reason);
  };
  return {
    decision,
    describe: (name) =>
      describe(name, () => {
        it('has what it needs on this machine', fail);
      }),
    it: (name) => it(name, fail),
  };
}

/** `requires` for one prerequisite. */
export function requireOrSkip(what: string, ok: boolean, how: string): Gate {
  return requires({ what, ok, how });
}

const SETUP = 'scripts/setup.sh installs it';

/** The prerequisites the integration suites share. */
export const prerequisite = {
  sshd: (): Prerequisite => ({
    what: `sshd (${SSHD} and /usr/bin/ssh-keygen)`,
    ok: sshdAvailable(),
    how: `\`apt-get install openssh-server openssh-client\` (${SETUP})`,
  }),
  root: (): Prerequisite => ({
    what: `root (running as uid ${process.getuid?.() ?? '?'})`,
    ok: process.getuid?.() === 0,
    how: 'run the tests as root (`sudo npm test`), as scripts/setup.sh and the lab require',
  }),
  sudo: (): Prerequisite => ({ what: 'sudo (/usr/bin/sudo)', ok: existsSync('/usr/bin/sudo'), how: `\`apt-get install sudo\` (${SETUP})` }),
  tmux: (): Prerequisite => ({ what: 'tmux (/usr/bin/tmux)', ok: existsSync('/usr/bin/tmux'), how: `\`apt-get install tmux\` (${SETUP})` }),
  chromium: (path = '/usr/bin/chromium'): Prerequisite => ({ what: `Chromium (${path})`, ok: existsSync(path), how: `\`apt-get install chromium\` (${SETUP})` }),
};
