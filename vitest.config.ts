import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The tutorial tier is a sequence: install the tutorial on the lab first, then the read-only checks of the
// deployment it built (test/tutorial/deployed/), then the data plane, then the sabotages.
const TUTORIAL_ORDER = ['tutorial.test.ts', 'wiring.test.ts', 'wiring-hosts.test.ts', 'guide.test.ts', 'audit.test.ts', 'grade.test.ts', 'dataplane.test.ts', 'checks-faults.test.ts', '/faults.test.ts'];
class TutorialSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = TUTORIAL_ORDER.findIndex((n) => f.moduleId.endsWith(n));
      return i < 0 ? TUTORIAL_ORDER.length : i;
    };
    return [...(await super.sort(files))].sort((a, b) => rank(a) - rank(b));
  }
}

// Three tiers: fast unit tests, integration against real sshd / lab hosts / services,
// and the whole tutorial on the lab (slow; `npm run test:tutorial`).
export default defineConfig({
  test: {
    // (a root-level option: vitest ignores a sequencer set inside a project)
    sequence: { sequencer: TutorialSequencer },
    projects: [
      { test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.it.test.ts', 'test/tutorial/**'] } },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.it.test.ts'],
          exclude: ['test/tutorial/**'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'tutorial',
          include: ['test/tutorial/**/*.test.ts'],
          testTimeout: 5_400_000,
          hookTimeout: 5_400_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
