// Whether a process of this machine is alive (signal 0 checks without sending anything; EPERM: alive, not ours).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
