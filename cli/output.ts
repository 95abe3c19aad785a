/** Prints either a human line or, with `--json`, the machine-readable object. */
export function emit(json: boolean | undefined, value: unknown, human: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}
