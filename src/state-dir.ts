// Where stackcheck keeps what must outlive a command (active drills, the deployments grading has seen):
// $STACKCHECK_STATE_DIR, else $XDG_STATE_HOME/stackcheck, else ~/.local/state/stackcheck.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STACKCHECK_STATE_DIR) return resolve(env.STACKCHECK_STATE_DIR);
  return join(env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state'), 'stackcheck');
}
