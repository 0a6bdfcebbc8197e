// The lab's private bridge on the host: created with `ip`, marked as ours with an interface alias,
// no NAT and no forwarding, so containers reach nothing but the host's own address on it.
import { writeFileSync } from 'node:fs';
import { StackcheckError, ExitCode } from '../error.js';
import { exec, execTry } from './exec.js';
import { inSubnet, type LabSpec } from './spec.js';

interface IpAddrInfo {
  ifname: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

// Every interface on the host with its addresses (from `ip -j -d addr`).
export async function hostInterfaces(): Promise<IpAddrInfo[]> {
  const out = await exec('ip', ['-j', '-d', 'addr', 'show']);
  return JSON.parse(out) as IpAddrInfo[];
}

// The alias that marks a bridge as belonging to lab `name`.
export function bridgeAlias(name: string): string {
  return `stackcheck-lab:${name}`;
}

// IPv4 addresses of every Linux bridge on the host (the package cache serves all of them).
export async function bridgeAddresses(): Promise<string[]> {
  const ifs = await hostInterfaces();
  return ifs
    .filter((i) => i.linkinfo?.info_kind === 'bridge')
    .flatMap((i) => (i.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local));
}

// Refuse a bridge or subnet that something else on the host already uses (exit 2, nothing touched).
export async function checkBridge(spec: LabSpec): Promise<'absent' | 'ours'> {
  const ifs = await hostInterfaces();
  for (const i of ifs) {
    if (i.ifname === spec.bridge) continue;
    for (const a of i.addr_info ?? []) {
      if (a.family === 'inet' && (inSubnet(a.local, spec.network, spec.prefix) || a.local === spec.bridgeAddress)) {
        throw new StackcheckError(
          'E_LAB',
          `address clash: ${i.ifname} already has ${a.local}, inside the lab's subnet ${spec.network}/${spec.prefix}`,
          { exitCode: ExitCode.badInput, hint: 'choose another subnet in a lab spec (`--spec FILE`, field `subnet`)' },
        );
      }
    }
  }
  const br = ifs.find((i) => i.ifname === spec.bridge);
  if (!br) return 'absent';
  if (br.linkinfo?.info_kind !== 'bridge' || br.ifalias !== bridgeAlias(spec.name)) {
    throw new StackcheckError(
      'E_LAB',
      `bridge ${spec.bridge} already exists and is used by something else (${br.linkinfo?.info_kind ?? 'interface'}${
        br.ifalias ? `, alias "${br.ifalias}"` : ', no stackcheck alias'
      })`,
      { exitCode: ExitCode.badInput, hint: 'choose another bridge name in a lab spec (`--spec FILE`, field `bridge`)' },
    );
  }
  return 'ours';
}

// Create (or repair) the lab bridge with the host's address on it.
export async function ensureBridge(spec: LabSpec): Promise<'created' | 'existing'> {
  const state = await checkBridge(spec);
  const cidr = `${spec.bridgeAddress}/${spec.prefix}`;
  if (state === 'absent') {
    await exec('ip', ['link', 'add', 'name', spec.bridge, 'type', 'bridge']);
    try {
      await exec('ip', ['link', 'set', spec.bridge, 'alias', bridgeAlias(spec.name)]);
      disableIpv6(spec.bridge);
      await exec('ip', ['addr', 'add', cidr, 'dev', spec.bridge]);
      await exec('ip', ['link', 'set', spec.bridge, 'up']);
    } catch (err) {
      await execTry('ip', ['link', 'del', spec.bridge]);
      throw err;
    }
    return 'created';
  }
  const ifs = await hostInterfaces();
  const br = ifs.find((i) => i.ifname === spec.bridge);
  if (!(br?.addr_info ?? []).some((a) => a.family === 'inet' && a.local === spec.bridgeAddress)) {
    await exec('ip', ['addr', 'add', cidr, 'dev', spec.bridge]);
  }
  await exec('ip', ['link', 'set', spec.bridge, 'up']);
  return 'existing';
}

// No IPv6 on the lab bridge: no router advertisements, no link-local chatter to route anywhere.
function disableIpv6(ifname: string): void {
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, '1');
  } catch {
    // IPv6 disabled on the host altogether: nothing to do.
  }
}

// Delete the lab bridge if it is ours; leaves anything else alone.
export async function removeBridge(spec: LabSpec): Promise<boolean> {
  const ifs = await hostInterfaces();
  const br = ifs.find((i) => i.ifname === spec.bridge);
  if (!br || br.ifalias !== bridgeAlias(spec.name)) return false;
  await exec('ip', ['link', 'del', spec.bridge]);
  return true;
}
