import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateReplayLog } from './generate-replay-log';
import { evaluatorFromSpec, HttpEvaluator, ReplayEvaluator, SimulatedRagEvaluator } from './index';

describe('evaluatorFromSpec', () => {
  it('builds each evaluator from the --env argument', () => {
    expect(evaluatorFromSpec('simulator')).toBeInstanceOf(SimulatedRagEvaluator);
    const drifting = evaluatorFromSpec('simulator:drift') as SimulatedRagEvaluator;
    drifting.setClock(500);
    expect(drifting.surfaceAt('howto').dStar).toBeCloseTo(0.8, 12);
    const http = evaluatorFromSpec('http:http://127.0.0.1:8080/rag') as HttpEvaluator;
    expect(http).toBeInstanceOf(HttpEvaluator);
    expect(http.url).toBe('http://127.0.0.1:8080/rag/tuner/evaluate');
    expect((evaluatorFromSpec('https://rag.example') as HttpEvaluator).url).toBe('https://rag.example/tuner/evaluate');
    // Secret headers by reference: resolved from the environment, a missing variable named (never a value).
    expect(() => evaluatorFromSpec('http:http://127.0.0.1:8080;header:Authorization=env:SURELY_UNSET_VAR_42')).toThrow(
      'http evaluator header Authorization: environment variable SURELY_UNSET_VAR_42 is not set on this worker',
    );
    expect(() => evaluatorFromSpec('http:http://127.0.0.1:8080;header:Authorization=Bearer xyz')).toThrow(/option "header:Authorization=…" after the URL/);
    expect((evaluatorFromSpec('http:http://127.0.0.1:8080;header:X-T=env:T', { http: { environment: { T: 'v' } } }) as HttpEvaluator).url).toBe('http://127.0.0.1:8080/tuner/evaluate');
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    try {
      const file = join(dir, 'log.jsonl');
      writeFileSync(file, generateReplayLog({ ks: [3, 8], fusionWeights: [0], prompts: ['default'] }).join('\n'));
      const replay = evaluatorFromSpec(`replay:${file}`);
      expect(replay).toBeInstanceOf(ReplayEvaluator);
      expect(replay.name).toBe(`replay:${file}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what it accepts', () => {
    for (const bad of ['sim', 'replay:', 'http:rag', 'ftp://x']) {
      expect(() => evaluatorFromSpec(bad)).toThrow(`unknown evaluator ${JSON.stringify(bad)} (expected simulator, simulator:drift, replay:FILE or http:URL)`);
    }
  });
});
