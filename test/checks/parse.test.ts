import { describe, expect, test } from 'vitest';
import { qemuUuids, virshUuids } from '../../src/checks/parse.js';

describe('qemu and virsh output', () => {
  const ps = [
    ' 1201 /usr/bin/qemu-system-x86_64 -name guest=instance-00000001,debug-threads=on -S -uuid 6f1f0c5e-2a7b-4a53-9c33-0e7f3c1e9a11 -machine pc-i440fx-7.2,accel=tcg',
    ' 1302 /usr/bin/qemu-system-x86_64 -name guest=instance-00000002 -uuid 0a8c7f6e-1111-4222-8333-944455556666',
    ' 1400 /usr/bin/qemu-system-x86_64 -nodefaults -display none',
    ' 1500 /usr/sbin/libvirtd',
  ].join('\n');

  test('each qemu process gives its instance UUID, or ? when it has none', () => {
    expect(qemuUuids(ps)).toEqual(['6f1f0c5e-2a7b-4a53-9c33-0e7f3c1e9a11', '0a8c7f6e-1111-4222-8333-944455556666', '?']);
  });

  test('virsh list --uuid: UUIDs only', () => {
    expect(virshUuids('6f1f0c5e-2a7b-4a53-9c33-0e7f3c1e9a11\n\nerror: failed to connect\n')).toEqual(['6f1f0c5e-2a7b-4a53-9c33-0e7f3c1e9a11']);
  });
});
