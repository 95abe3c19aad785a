import { CommanderError } from 'commander';

/** The exit status of every input error: a bad flag value, a bad file, or a command line commander refuses. */
export const USAGE_EXIT = 2;

/** An error meant for the person at the terminal: printed without a stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = USAGE_EXIT) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * commander's exit callback (`exitOverride`). commander has already written its message to stderr;
 * this only decides the status: help and `--version` end with 0, and what commander refuses with its
 * default status 1 (an unknown command or option, a missing argument or option value, a value outside
 * `choices`, a command that needs a subcommand) ends with {@link USAGE_EXIT}, like the CLI's own input
 * errors. A status a command chose itself (`command.error(msg, { exitCode })`) is kept.
 */
export function exitOnUsageError(err: CommanderError): never {
  if (err.exitCode !== 1) throw err;
  throw new CommanderError(USAGE_EXIT, err.code, err.message);
}
