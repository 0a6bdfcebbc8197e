// Parsers for command output the checks read over SSH (kept pure so they are unit-tested).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Instance UUIDs of qemu processes in `ps -eo pid=,args=` output (`-uuid <id>`; `?` when a process has none). */
export function qemuUuids(ps: string): string[] {
  return ps
    .split('\n')
    .filter((l) => /qemu-system-/.test(l))
    .map((l) => /\s-uuid\s+([0-9a-f-]{36})/.exec(l)?.[1] ?? '?');
}

/** Domain UUIDs from `virsh list --uuid` (one per line, blank lines and errors ignored). */
export function virshUuids(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => UUID.test(l));
}
