// Steps on the same host share shell state the way a student's terminal does: `export`, `cd` and
// `source ~/admin-openrc` carry over to later steps on that host (per remote user).
//
// How: every command runs as a bash script that first sources a per-run state file on the remote host
// (/var/tmp/stackcheck-<uid>/<runId>.env, directory mode 0700 and owned by that uid), runs the command in the
// same shell, and on EXIT saves `export -p` and the working directory back.
//
// Limits (documented in docs/running.md too): only *exported* variables and the working directory carry over;
// aliases, shell functions, non-exported variables, `set` options, `ulimit` and background jobs do not.
// A command that ends with `exec …` or is killed (timeout) does not save its state. The state file holds
// whatever the commands exported (e.g. OS_PASSWORD from an openrc file), readable only by that user.

export interface ShellStateOptions {
  /** Run id: one state file per run, so a `--resume` of the same run continues with the same state. */
  runId: string;
  /** Unique id of this execution (names the file holding its process-group id for a kill). */
  execId: string;
  /** Extra variables exported before the command (sshd ignores the protocol's env requests). */
  env?: Record<string, string>;
}

// Variables that describe the login, not the student's work: never restored from a previous step
// (HOME is kept: the state file is per user, and it saves a passwd lookup on every step).
const VOLATILE = 'PWD|OLDPWD|SHLVL|_|SSH_[A-Za-z_]*|SUDO_[A-Za-z_]*|USER|LOGNAME|MAIL|SHELL|TERM';

// Keep run ids safe for a file name on the remote.
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

// The remote directory for a user's state (used by the script, and by `pidFile`); `$(id -u)` is the effective user.
const STATE_DIR = '/var/tmp/stackcheck-$(id -u)';

/** Path (shell expression, expanded remotely) of the file holding an execution's process-group id. */
export function pidFile(runId: string, execId: string): string {
  return `${STATE_DIR}/${safeName(runId)}.${safeName(execId)}.pid`;
}

/**
 * The script that stops what a run left running on a host (stackcheck killed while a step ran): every process group
 * whose id a step of that run recorded, TERM then KILL; prints how many were still running.
 */
export function orphanKillScript(runId: string): string {
  const run = safeName(runId);
  return [
    'n=0',
    `for f in /var/tmp/stackcheck-*/${run}.*.pid; do`,
    '  [ -e "$f" ] || continue',
    '  pg=$(cat "$f" 2>/dev/null)',
    '  if [ -n "$pg" ] && kill -0 -- "-$pg" 2>/dev/null; then kill -TERM -- "-$pg" 2>/dev/null; sleep 1; kill -KILL -- "-$pg" 2>/dev/null; n=$((n+1)); fi',
    '  rm -f "$f"',
    'done',
    'echo "$n"',
  ].join('\n');
}

// Quote a value for bash (single quotes).
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// Wrap a command so it runs in, and updates, the host's shared shell state.
export function withShellState(command: string, opts: ShellStateOptions): string {
  const run = safeName(opts.runId);
  const exec = safeName(opts.execId);
  const env = Object.entries(opts.env ?? {})
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${q(v)}`)
    .join('\n');
  return [
    // Builtins only on the common path ($EUID, read, [ ]): each fork costs on a loaded host.
    `__sc_dir=/var/tmp/stackcheck-$EUID`,
    `[ -d "$__sc_dir" ] || mkdir -p -m 700 "$__sc_dir" 2>/dev/null`,
    // Someone else's directory there could feed us their state: refuse it.
    `if [ ! -O "$__sc_dir" ] || [ -L "$__sc_dir" ]; then echo "stackcheck: $__sc_dir is not a directory owned by uid $EUID; remove it" >&2; exit 125; fi`,
    `__sc_state="$__sc_dir/${run}.env"`,
    `__sc_pid="$__sc_dir/${run}.${exec}.pid"`,
    // Record our process group (set up by \`timeout\`) so the runner can kill the whole tree on abort.
    `{ read -r _ _ _ _ __sc_pg _ < /proc/$$/stat && echo "$__sc_pg" > "$__sc_pid"; } 2>/dev/null`,
    // First step of the run for this user: start in the user's home, as a login would. sudo/runuser may keep the
    // login user's HOME, so take it from the passwd database; later steps get HOME back from the state file.
    `if [ -f "$__sc_state" ]; then . "$__sc_state"; else __sc_home=$(getent passwd "$EUID" | cut -d: -f6); [ -n "$__sc_home" ] && export HOME="$__sc_home"; cd "$HOME" 2>/dev/null; fi`,
    `__sc_save() { { export -p | grep -Ev '^declare -x (${VOLATILE})(=|$)'; printf 'cd %q 2>/dev/null\\n' "$PWD"; } > "$__sc_state.$$" && mv -f "$__sc_state.$$" "$__sc_state"; rm -f "$__sc_pid"; }`,
    `trap __sc_save EXIT`,
    `unset __sc_pg __sc_home`,
    env,
    command,
    '',
  ].join('\n');
}

// A script that removes the run's state files (called when a run finishes for good).
export function clearShellState(runId: string): string {
  return `rm -f /var/tmp/stackcheck-$(id -u)/${safeName(runId)}.env /var/tmp/stackcheck-$(id -u)/${safeName(runId)}.*.pid`;
}
