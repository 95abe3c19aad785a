/**
 * The `autopilot` command. Each file in `cli/commands/` registers its own subcommands, so features
 * add commands without touching this file.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError, exitOnUsageError } from './errors';

export function buildProgram(): Command {
  const program = new Command('autopilot')
    .description('Autopilot: learn, evaluate and safely ship the decision policies that tune LLM systems.')
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json is read at run time
    .version(require('../package.json').version)
    .showHelpAfterError()
    // Subcommands made with `.command()` inherit this; commander prints its message, main() returns the status.
    .exitOverride(exitOnUsageError);
  const dir = join(__dirname, 'commands');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.(test|int\.test|d)\.(ts|js)$/.test(f))
    .sort();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- commands are discovered at run time
    const mod = require(join(dir, file)) as { register?: (program: Command) => void };
    if (typeof mod.register !== 'function') throw new Error(`cli/commands/${file} must export register(program)`);
    mod.register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // already printed by commander
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

if (require.main === module || process.argv[1]?.endsWith('autopilot')) {
  main(process.argv).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
