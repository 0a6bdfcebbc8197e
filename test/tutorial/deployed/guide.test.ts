// `stackcheck guide` on the real tutorial and the lab it built: a student in manual mode (the way the course is taught)
// goes through the MariaDB stage in an 80-column terminal — the tutorial's own explanation rendered, every step with
// its host and source line (the database passwords as {{ NAME }}), the step at mysql's own prompt with what to type
// there — and the stage's real checks then pass against the deployed MariaDB. The student had typed the steps before
// (the tutorial tier installed them): saying "done" is all it takes, and the checks decide.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildCli, CLI, ROOT } from '../../helpers/build.js';
import { prerequisite, requires } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';
import { Tmux } from '../../helpers/tmux.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { inventoryPath } from '../../../src/lab/inventory.js';

const LAB = process.env.STACKCHECK_LAB ?? 'lab';
const LAB_INVENTORY = inventoryPath(LAB) ?? `/var/lib/stackcheck/lab/${LAB}/inventory.yaml`;

const gate = requires(prerequisite.root(), prerequisite.tmux(), {
  what: `the deployed lab's inventory (${LAB_INVENTORY})`,
  ok: existsSync(LAB_INVENTORY),
  how: 'build the lab and install the tutorial on it first: `npx stackcheck run tutorial` (or `npm run test:tutorial`)',
});

gate.describe('stackcheck guide --manual on the lab tutorial (tmux, 80 columns)', () => {
  let tmux: Tmux;
  let secrets: string[];

  beforeAll(async () => {
    buildCli();
    const inventory = await loadInventory(LAB_INVENTORY);
    secrets = inventory.secretNames.map((n) => inventory.vars[n]).filter((v): v is string => !!v && v.length >= 4);
    tmux = new Tmux('guide-lab', { width: 80, height: 50 });
  });
  afterAll(() => tmux?.kill());

  gate.it("goes through the MariaDB stage by hand and the stage's checks pass", async () => {
    const reports = tempDir('guide-lab-');
    tmux.window('g', `cd ${ROOT} && NO_COLOR=1 node ${CLI} guide tutorial --manual --restart --from mysql-mariadb-on-db-node --reports ${reports}; echo "GUIDE EXIT=$?"; sleep 3600`);
    let text = await tmux.after('g', () => undefined, /Step 1 of 5 · db-node \(as root\)/, 120_000);
    expect(text).toContain('Stage 2 of 12: MySQL (MariaDB) on db-node');
    expect(text).toContain('manual mode: you type every step yourself');
    expect(text).toMatch(/This stage will:\n {2}1\. \[db-node\] /);
    // (the checks line wraps at 80 columns like the prose: compare it with its line breaks as spaces)
    expect(text.replace(/\s+/g, ' ')).toContain('Then its checks: mysql.server, mysql.databases, mysql.users, mysql.grants, mysql.reachable');
    const checksLine = text.split('\n').find((l) => l.startsWith('Then its checks:')) ?? '';
    expect(checksLine.length, checksLine).toBeLessThanOrEqual(80);
    // Prose is wrapped to the terminal: no line of the stage's explanation is wider than 80 columns.
    const intro = text.slice(text.indexOf('Stage 2 of 12'), text.indexOf('This stage will:'));
    for (const line of intro.split('\n').slice(1)) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(text).toContain('On db-node, as root, type:');

    for (let n = 2; n <= 5; n++) {
      text = await tmux.press('g', 'd', new RegExp(`Step ${n} of 5 · db-node`));
      if (n === 4) {
        expect(text).toContain('then, at its prompt:');
        expect(text).toMatch(/IDENTIFIED BY '\{\{ KEYSTONE_DBPASS \}\}'/);
      }
    }
    // The checks run (whoever typed the steps); green, the guide opens the next stage.
    text = await tmux.press('g', 'd', /Stage 3 of 12: /, 180_000);
    expect(text).toMatch(/✔ mysql\.databases @ db-node/);
    expect(text).toContain('✔ stage mysql-mariadb-on-db-node: every check passed');
    await tmux.press('g', 'q', /GUIDE EXIT=0/);
    text = tmux.screen('g');
    for (const s of secrets) expect(text.includes(s), 'a secret value is on the screen').toBe(false);
  }, 600_000);
});
