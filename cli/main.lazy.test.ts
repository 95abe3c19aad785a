/**
 * `buildProgram(word)` loads only the command file that registers `word` once a manifest says which:
 * for every command, that program must be the full program's command, subcommands and help included.
 */
import type { Command } from 'commander';
import { buildProgram } from './main';

/** A command's help and its subcommands' helps, depth first. */
function helpTree(c: Command, path = c.name()): string[] {
  return [`${path}\n${c.helpInformation()}`, ...c.commands.flatMap((s) => helpTree(s, `${path} ${s.name()}`))];
}

describe('buildProgram with a command word', () => {
  const full = buildProgram();
  const words = full.commands.flatMap((c) => [c.name(), ...c.aliases()]);

  it('knows every command after one start with an unknown word (which loads, and records, every file)', () => {
    const all = buildProgram('no-such-command');
    expect(all.commands.map((c) => c.name())).toEqual(full.commands.map((c) => c.name()));
    expect(words.length).toBeGreaterThan(20);
  });

  it.each(words.map((w) => [w]))('%s: only its file, the same commands and help as the full program', (word) => {
    const lazy = buildProgram(word);
    const mine = lazy.commands.find((c) => c.name() === word || c.aliases().includes(word));
    const theirs = full.commands.find((c) => c.name() === word || c.aliases().includes(word))!;
    expect(mine).toBeDefined();
    expect(lazy.commands.length).toBeLessThan(full.commands.length);
    expect(helpTree(mine!)).toEqual(helpTree(theirs));
  });
});
