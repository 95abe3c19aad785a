/**
 * The `autopilot` command. Each file in `cli/commands/` registers its own subcommands, so features
 * add commands without touching this file.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError, exitOnUsageError } from './errors';

/**
 * Loading every command file costs ~0.9 s of CPU per start (the API server, the Temporal and AWS SDKs…),
 * and one command needs one file. Each full load writes which file registers which top-level command
 * (names and aliases) to node_modules/.cache/autopilot-cli/, keyed by the command files' names, sizes and
 * modification times; a start whose command word is in a current manifest loads only that file. No
 * command word, an unknown one (help, typos) or a changed file: every file, as before. The manifest only
 * saves time: where node_modules is read-only, every start loads every file.
 */
// node_modules/commander/index.js → node_modules/.cache/autopilot-cli (the same from the sources and from dist/).
const MANIFEST_DIR = join(dirname(require.resolve('commander')), '..', '.cache', 'autopilot-cli');
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC']);

function commandFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.(test|int\.test|d)\.(ts|js)$/.test(f))
    .sort();
}

function registerFile(program: Command, dir: string, file: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- commands are discovered at run time
  const mod = require(join(dir, file)) as { register?: (program: Command) => void };
  if (typeof mod.register !== 'function') throw new Error(`cli/commands/${file} must export register(program)`);
  mod.register(program);
}

function manifestKey(dir: string, files: string[]): string {
  const h = createHash('sha256').update(dir);
  for (const f of files) {
    const st = statSync(join(dir, f));
    h.update(`\0${f}\0${st.size}\0${st.mtimeMs}`);
  }
  return h.digest('hex');
}

function readManifest(path: string, key: string): Record<string, string> | null {
  let m: { key?: unknown; commands?: Record<string, string> };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
  } catch {
    return null; // none yet (or unreadable): this start loads every file and writes it
  }
  return m.key === key && m.commands !== undefined ? m.commands : null;
}

function writeManifest(path: string, key: string, commands: Record<string, string>): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, JSON.stringify({ key, commands }));
    renameSync(tmp, path); // concurrent starts never read a half-written manifest
  } catch (err) {
    if (!UNWRITABLE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

/** The program; given the command word of the command line, only the file that registers it where known. */
export function buildProgram(commandWord?: string): Command {
  const program = new Command('autopilot')
    .description('Autopilot: learn, evaluate and safely ship the decision policies that tune LLM systems.')
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json is read at run time
    .version(require('../package.json').version)
    .showHelpAfterError()
    // Subcommands made with `.command()` inherit this; commander prints its message, main() returns the status.
    .exitOverride(exitOnUsageError);
  const dir = join(__dirname, 'commands');
  const files = commandFiles(dir);
  if (commandWord === undefined) {
    for (const file of files) registerFile(program, dir, file);
    return program;
  }
  const key = manifestKey(dir, files);
  const manifestPath = join(MANIFEST_DIR, `${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.json`);
  const known = readManifest(manifestPath, key)?.[commandWord];
  if (known !== undefined && files.includes(known)) {
    registerFile(program, dir, known);
    return program;
  }
  const commands: Record<string, string> = {};
  for (const file of files) {
    const before = program.commands.length;
    registerFile(program, dir, file);
    for (const c of program.commands.slice(before)) for (const name of [c.name(), ...c.aliases()]) commands[name] = file;
  }
  writeManifest(manifestPath, key, commands);
  return program;
}

/** The first word of the command line when it names a command (not an option such as --help). */
function commandWordOf(argv: string[]): string | undefined {
  const word = argv[2];
  return word !== undefined && !word.startsWith('-') ? word : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(commandWordOf(argv));
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
