// `--variant NAME=VALUE` (repeatable), shared by the commands that read a tutorial: which of its alternatives to take,
// before the inventory's `variants:` and the tutorial's defaults.
import type { Command } from 'commander';

export function withVariantOption(cmd: Command): Command {
  return cmd.option(
    '--variant <name=value>',
    "take this alternative of the tutorial's variants, e.g. storage=ceph (repeatable; before the inventory's variants: and the tutorial's defaults)",
    (v: string, prev: string[] = []) => [...prev, v],
  );
}
