import { defineConfig } from 'vitest/config';

// Three tiers: fast unit tests, integration against real sshd / lab hosts / services,
// and the whole tutorial on the lab (slow; `npm run test:tutorial`).
export default defineConfig({
  test: {
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
        test: { name: 'tutorial', include: ['test/tutorial/**/*.test.ts'], testTimeout: 5_400_000, hookTimeout: 5_400_000, fileParallelism: false },
      },
    ],
  },
});
