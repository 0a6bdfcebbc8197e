// What the guide shows of a step: variables filled but secrets kept as {{ NAME }}, and what to type by hand.
import { describe, expect, it } from 'vitest';
import { displayStep, runsAs, secretsIn, stepCard, typingInstructions } from '../../src/guide/step-text.js';
import { choiceRow } from '../../src/guide/choose.js';
import type { FileStep, ShellStep } from '../../src/runner/types.js';

const inventory = { vars: { DB_NODE_IP: '10.0.0.11', RABBIT_PASS: 'Zq9x-K7vLmP2wRt' }, secretNames: ['RABBIT_PASS'] };
const base = { id: 's/1', stage: 's', host: 'db-node', loc: { file: 't.md', line: 7 }, root: true, expectExit: [0], retries: 0 };
const shell: ShellStep = { ...base, kind: 'shell', command: "rabbitmqctl change_password openstack '{{ RABBIT_PASS }}' # on {{ DB_NODE_IP }}", output: 'Changing password\n' };
const file: FileStep = { ...base, kind: 'file', path: '/etc/x.conf', mode: 'ini', content: '[database]\nconnection = mysql+pymysql://nova:{{ RABBIT_PASS }}@{{ DB_NODE_IP }}/nova\n' };

describe('the step as the guide shows it', () => {
  it('fills every variable but the secrets, which stay {{ NAME }}', () => {
    const shown = displayStep(shell, inventory) as ShellStep;
    expect(shown.command).toBe("rabbitmqctl change_password openstack '{{ RABBIT_PASS }}' # on 10.0.0.11");
    const f = displayStep(file, inventory) as FileStep;
    expect(f.content).toContain('nova:{{ RABBIT_PASS }}@10.0.0.11/nova');
    expect(JSON.stringify([shown, f])).not.toContain('Zq9x');
    expect(secretsIn(shell, inventory)).toEqual(['RABBIT_PASS']);
  });

  it('says where, as whom and from which source line', () => {
    const card = stepCard(displayStep(shell, inventory), 1, 4, runsAs(shell, 'debian'));
    expect(card.header).toBe('Step 1 of 4 · db-node (as root) · t.md:7');
    expect(runsAs({ ...shell, root: false }, 'debian')).toBe('as debian');
    expect(runsAs({ ...shell, user: 'keystone' }, 'debian')).toBe('as keystone');
  });

  it('tells a student typing by hand what to do, file edits included, and which secrets to fill in', () => {
    const t = typingInstructions(displayStep(shell, inventory), 'as root', ['RABBIT_PASS']);
    expect(t.where).toBe('On db-node, as root, type:');
    expect(t.note).toBe('({{ RABBIT_PASS }}: your own value, from your secrets file or inventory)');
    const f = typingInstructions(displayStep(file, inventory), 'as root', []);
    expect(f.where).toBe('On db-node, as root, edit the file:');
    expect(f.body).toMatch(/^ {2}in \/etc\/x\.conf, set these keys in their \[sections\] \(keep every other line\):\n {4}\[database\]/);
    expect(f.note).toBeUndefined();
  });
});

describe('the row of choices', () => {
  const choices = [
    { key: 'r', label: 'run it', value: 'run' },
    { key: 't', label: 'type it myself', value: 'type' },
    { key: 's', label: 'skip', value: 'skip' },
    { key: 'e', label: 'expected output', value: 'expected' },
    { key: 'b', label: 'back', value: 'back' },
    { key: 'q', label: 'quit', value: 'quit' },
  ];

  it('shows every key, marks the highlighted choice without colour, and breaks between choices to fit', () => {
    expect(choiceRow(choices, 1, false, 200)).toBe('[r] run it  >[t] type it myself<  [s] skip  [e] expected output  [b] back  [q] quit');
    const narrow = choiceRow(choices, 0, false, 40).split('\n');
    expect(narrow.length).toBeGreaterThan(1);
    for (const line of narrow) expect(line.length).toBeLessThan(40);
    expect(narrow.join('  ')).toBe(choiceRow(choices, 0, false, 200));
  });

  it('highlights with inverse video when colours are on', () => {
    expect(choiceRow(choices, 0, true, 200)).toContain('\u001b[7m');
  });
});
