/**
 * `autopilot drift --detector adwin|page-hinkley --input FILE [--param value …]`: runs a streaming
 * drift detector over a JSON array of numbers and prints the 0-based indices where it detected
 * drift, as a JSON array. Parameters are River's (`--delta 0.002 --clock 32`, `--min-instances 30`
 * or `--min_instances 30`); unknown ones and bad values are refused by name.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ADWIN, ADWIN_DEFAULTS, detectAll, DriftDetector, PAGE_HINKLEY_DEFAULTS, PageHinkley } from '../../ml/drift';
import { CliError } from '../errors';

type ParamKind = 'number' | 'integer' | 'mode';

interface DetectorSpec {
  params: Record<string, ParamKind>;
  defaults: Record<string, unknown>;
  make: (params: Record<string, unknown>) => DriftDetector;
}

const detectors: Record<string, DetectorSpec> = {
  adwin: {
    params: { delta: 'number', clock: 'integer', max_buckets: 'integer', min_window_length: 'integer', grace_period: 'integer' },
    defaults: ADWIN_DEFAULTS as unknown as Record<string, unknown>,
    make: (p) => new ADWIN(p),
  },
  'page-hinkley': {
    params: { min_instances: 'integer', delta: 'number', threshold: 'number', alpha: 'number', mode: 'mode' },
    defaults: PAGE_HINKLEY_DEFAULTS as unknown as Record<string, unknown>,
    make: (p) => new PageHinkley(p),
  },
};

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Parses `--name value` / `--name=value` pairs into the detector's parameters. */
export function parseDetectorParams(detector: string, args: readonly string[]): Record<string, unknown> {
  const spec = detectors[detector];
  const known = Object.keys(spec.params);
  const list = known.map((k) => `--${k.replace(/_/g, '-')}`).join(', ');
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new CliError(`unexpected argument ${JSON.stringify(arg)}: parameters are given as --name value (for ${detector}: ${list})`);
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const name = flag.replace(/-/g, '_');
    if (!(name in spec.params)) throw new CliError(`unknown parameter --${flag} for detector ${detector} (expected one of ${list})`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new CliError(`parameter --${flag} needs a value (default ${String(spec.defaults[name])})`);
      raw = args[++i];
    }
    if (name in out) throw new CliError(`parameter --${flag} is given twice`);
    const kind = spec.params[name];
    if (kind === 'mode') {
      out[name] = raw;
    } else {
      if (!NUMBER.test(raw.trim())) throw new CliError(`--${flag} must be ${kind === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
      const v = Number(raw);
      if (kind === 'integer' && !Number.isInteger(v)) throw new CliError(`--${flag} must be an integer, got ${JSON.stringify(raw)}`);
      out[name] = v;
    }
  }
  return out;
}

/** Reads a JSON array of finite numbers from a file ('-' = standard input). */
export function readSeries(file: string): number[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --input ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--input ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new CliError(`--input ${file} must hold a JSON array of numbers, got ${data === null ? 'null' : typeof data}`);
  data.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CliError(`--input ${file}: element [${i}] must be a finite number, got ${JSON.stringify(v)}`);
  });
  return data as number[];
}

export function register(program: Command): void {
  program
    .command('drift')
    .description('run a drift detector (River parameters) over a JSON array of numbers; prints the 0-based indices of detected drifts as JSON')
    .requiredOption('--detector <name>', `detector: ${Object.keys(detectors).join(' | ')}`)
    .requiredOption('--input <file>', "JSON file holding an array of numbers ('-' for standard input)")
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', [
      '',
      'Detector parameters (River names, as --kebab-case or --snake_case):',
      ...Object.entries(detectors).map(([n, s]) => `  ${n}: ${Object.keys(s.params).map((k) => `--${k.replace(/_/g, '-')} (default ${String(s.defaults[k])})`).join(', ')}`),
      '',
      'Example: autopilot drift --detector adwin --input rewards.json --delta 0.002 --clock 32',
      '',
    ].join('\n'))
    .action((opts: { detector: string; input: string }, cmd: Command) => {
      const spec = detectors[opts.detector];
      if (!spec) throw new CliError(`--detector must be one of ${Object.keys(detectors).join(', ')}; got ${JSON.stringify(opts.detector)}`);
      const params = parseDetectorParams(opts.detector, cmd.args);
      let detector: DriftDetector;
      try {
        detector = spec.make(params);
      } catch (err) {
        // "ADWIN: max_buckets must be …" → "--max-buckets must be …": the name the person typed.
        const msg = (err as Error).message.replace(/^\w+: (\w+) must/, (_m, name: string) => `--${name.replace(/_/g, '-')} must`);
        throw new CliError(`${opts.detector}: ${msg}`);
      }
      const series = readSeries(opts.input);
      process.stdout.write(`${JSON.stringify(detectAll(detector, series))}\n`);
    });
}
