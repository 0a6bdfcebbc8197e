// Write a file atomically (a temporary file beside it, then a rename), private to its owner: an interrupted command
// never leaves half a state file behind.
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

const tmpOf = (path: string): string => `${path}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;

export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = tmpOf(path);
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

export function writeAtomicSync(path: string, text: string): void {
  const tmp = tmpOf(path);
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
