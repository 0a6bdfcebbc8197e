// stackcheck's own version, read from package.json (used by --version and the reports' environment).
import { readFileSync } from 'node:fs';

// Works from sources (src/version.ts) and from the build (dist/src/version.js).
export function stackcheckVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stackcheck' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}
