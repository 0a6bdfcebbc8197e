import { defineConfig } from 'vitest/config';

// Benchmarks are not tests: run them on demand (`npx vitest bench --run --config bench/vitest.bench.config.ts`).
export default defineConfig({ test: { include: [], benchmark: { include: ['bench/**/*.bench.ts'] }, hookTimeout: 60_000 } });
