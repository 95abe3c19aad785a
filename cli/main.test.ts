/** The `autopilot` command line as a whole: what commander itself refuses exits 2, like every input error. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { exitOnUsageError, USAGE_EXIT } from './errors';
import { runCliInProcess } from './testing/in-process';

const bin = join(__dirname, '..', 'bin', 'autopilot');

function autopilot(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bin/autopilot usage errors', () => {
  it('an unknown command exits 2 and says which', () => {
    const r = autopilot('bogus');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("error: unknown command 'bogus'");
  });

  it('a command without its required argument exits 2 and names the argument', () => {
    const r = autopilot('models', 'show');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("error: missing required argument 'model'");
    expect(r.stderr).toContain('Usage: autopilot models show [options] <model>');
  });

  it('--help exits 0 with the help on stdout', () => {
    const r = autopilot('--help');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Usage: autopilot [options] [command]');
  });
});

describe('main() with commander refusing the command line', () => {
  it.each([
    [['models', 'show', 'm', '--bogus'], "error: unknown option '--bogus'"],
    [['models', 'search', '--limit'], "error: option '--limit <n>' argument missing"],
    [['models', 'alias', 'rm', 'm'], "error: missing required argument 'alias'"],
    [['models', 'alias', 'nope'], "error: unknown command 'nope'"],
  ])('%j exits 2: %s', async (args, message) => {
    const r = await runCliInProcess(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(message);
  });

  it('a command that needs a subcommand exits 2 with its help on stderr', async () => {
    const r = await runCliInProcess('models');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: autopilot models [options] [command]');
  });

  it('help and --version exit 0', async () => {
    expect((await runCliInProcess('models', 'show', '--help')).code).toBe(0);
    expect((await runCliInProcess('help', 'models')).code).toBe(0);
    const v = await runCliInProcess('--version');
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('exitOnUsageError', () => {
  function program(): { run: (args: string[]) => number; stderr: () => string } {
    let err = '';
    const p = new Command('t')
      .exitOverride(exitOnUsageError)
      .configureOutput({ writeOut: () => undefined, writeErr: (s) => (err += s) })
      .addOption(new Option('--mode <mode>').choices(['up', 'down']))
      .action(() => undefined);
    p.command('fail').action(function (this: Command) {
      this.error('chosen by the command', { exitCode: 3 });
    });
    return {
      run(args) {
        try {
          p.parse(args, { from: 'user' });
          return 0;
        } catch (e) {
          if (e instanceof CommanderError) return e.exitCode;
          throw e;
        }
      },
      stderr: () => err,
    };
  }

  it('turns a value outside choices into exit 2, keeping commander\'s message', () => {
    const p = program();
    expect(p.run(['--mode', 'sideways'])).toBe(USAGE_EXIT);
    expect(p.stderr()).toBe("error: option '--mode <mode>' argument 'sideways' is invalid. Allowed choices are up, down.\n");
  });

  it('keeps 0 for help and a status a command chose itself', () => {
    const p = program();
    expect(p.run(['--help'])).toBe(0);
    expect(p.run(['fail'])).toBe(3);
    expect(p.run(['--mode', 'up'])).toBe(0);
  });
});
