/**
 * The Python client (clients/python) against a real inference server: this test starts the server (auth
 * on, PostgreSQL, Redis), two delaying proxies in front of it, installs the package with pip into a
 * fresh venv (from a copy of clients/python, offline: its build backend's wheel comes from
 * .wheelhouse-pyclient, `make setup-pyclient`) and runs
 * its unittest suite (tests/test_client.py: round trip, batch, retried rewards, errors). Then it checks
 * what Python cannot see: the retried rewards were applied once each (the bandit learner's sequence and
 * the rewards table), and every body the client sent and received parses with the server's wire schemas
 * (inference/http/wire-schemas.ts). Needs python3 ≥ 3.9 with venv and the wheelhouse; in CI a missing one fails the suite.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as wire from '../../inference/http/wire-schemas';
import { TEST_API_KEY } from '../../inference/testing/api-key';
import { deleteBanditDecisions } from '../../inference/testing/bandit-keys';
import { createServingFixture, type ServingFixture } from '../../inference/testing/fixture';
import { TcpProxy } from '../../inference/testing/tcp-proxy';
import { describeWithTool } from '../../test/support/tools';

jest.setTimeout(180_000);

const python = process.env.PYTHON ?? 'python3';
const version = spawnSync(python, ['-c', 'import sys, venv; print(sys.version_info >= (3, 9))'], { encoding: 'utf8' });
/** The build backend's wheels (make setup-pyclient), so pip installs the package offline. */
const wheelhouse = join(__dirname, '..', '..', '.wheelhouse-pyclient');
const hasPython = version.status === 0 && version.stdout.trim() === 'True';
const describeWithPython = describeWithTool(
  'clients/python/python-sdk.int.test.ts',
  hasPython && existsSync(join(wheelhouse, '.requirements.sha256')),
  hasPython ? '.wheelhouse-pyclient is absent; create it with scripts/pyclient-wheelhouse.sh (make setup-pyclient)' : `${python} (≥ 3.9, with venv) not found (set PYTHON=…)`,
);

const tag = randomBytes(4).toString('hex');
const stateKey = `test-pysdk-${tag}`;

describeWithPython('the Python client against the inference server', () => {
  let fx: ServingFixture;
  const proxies: TcpProxy[] = [];
  const redis = new Redis('redis://127.0.0.1:6379');
  let dir: string;

  beforeAll(async () => {
    fx = await createServingFixture();
    const v = await fx.register('ranker', 4);
    await fx.deploy('ranker', { champion: v.version });
    await fx.registry.createModel({ name: 'coin', actor: 'test' });
    await fx.registry.setDeployment({ model: 'coin', kind: 'bandit', championVersion: null, actor: 'test', config: { learner: { kind: 'beta-ts' }, arms: ['heads', 'tails'], stateKey } });
    dir = mkdtempSync(join(tmpdir(), 'ap-pysdk-'));
  });

  afterAll(async () => {
    for (const p of proxies) await p.close();
    await fx?.close();
    await redis.del(`bandit:state:${stateKey}`, `bandit:flushed:${stateKey}`);
    await deleteBanditDecisions(redis, tag);
    redis.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs with pip and passes its suite; retried rewards counted once; bodies match the wire schemas', async () => {
    // A copy, so the build leaves nothing in the repository; installed like a user would.
    const src = join(dir, 'autopilot-client');
    cpSync(join(__dirname), src, { recursive: true, filter: (p) => !/(__pycache__|\.egg-info|\/build$|\.ts$)/.test(p) });
    const venv = join(dir, 'venv');
    const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = dir) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8', env, cwd, timeout: 150_000 });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    run(python, ['-m', 'venv', venv]);
    run(join(venv, 'bin/python'), ['-m', 'pip', 'install', '--no-index', '--find-links', wheelhouse, '--disable-pip-version-check', '-q', src]);
    expect(existsSync(join(venv, 'bin/python'))).toBe(true);

    // Started after the (blocking) install, so nothing in this process waits on it.
    const server = await fx.start();
    const port = Number(new URL(server.url).port);
    for (let i = 0; i < 2; i++) {
      const p = new TcpProxy('127.0.0.1', port);
      await p.start();
      p.delayAnswers(1500); // each proxy's first answer comes after the client's 0.4-s timeout
      proxies.push(p);
    }

    const seq0 = Number((await redis.hget(`bandit:state:${stateKey}`, 'seq')) ?? 0);
    const exchanges = join(dir, 'exchanges.jsonl');
    const retried = join(dir, 'retried.json');
    // Not spawnSync: the server runs in this process and must answer meanwhile.
    const child = spawn(join(venv, 'bin/python'), ['-m', 'unittest', 'discover', '-v', '-s', join(src, 'tests')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        AUTOPILOT_URL: server.url,
        AUTOPILOT_SLOW_URLS: proxies.map((p) => `http://127.0.0.1:${p.port}`).join(','),
        AUTOPILOT_API_KEY: TEST_API_KEY,
        AUTOPILOT_EXCHANGES: exchanges,
        AUTOPILOT_RETRIED: retried,
      },
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    if (code !== 0) throw new Error(`the Python client's suite failed (exit ${code}):\n${output}`);
    expect(output).toMatch(/Ran 4 tests[\s\S]*\nOK\s*$/);

    // Four rewards reached the coin learner: one in the round trip, three retried after a lost answer (each sent twice).
    const deadline = Date.now() + 15_000;
    while (Number(await redis.hget(`bandit:state:${stateKey}`, 'seq')) < seq0 + 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 300));
    expect(Number(await redis.hget(`bandit:state:${stateKey}`, 'seq')) - seq0).toBe(4);
    const ids = JSON.parse(readFileSync(retried, 'utf8')) as string[];
    expect(ids).toHaveLength(3);
    const rows = async () => (await fx.db.pool.query<{ reward: number }>('SELECT reward FROM rewards WHERE decision_id = ANY($1::uuid[]) ORDER BY reward', [ids])).rows;
    const deadline2 = Date.now() + 15_000;
    while ((await rows()).length < 3 && Date.now() < deadline2) await new Promise((res) => setTimeout(res, 50));
    expect(await rows()).toEqual([{ reward: 0 }, { reward: 0 }, { reward: 1 }]);

    const seen = readFileSync(exchanges, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; sent: unknown; status: number; answer: unknown });
    expect(seen.length).toBeGreaterThan(15);
    for (const s of seen) {
      const batch = s.sent !== null && typeof s.sent === 'object' && 'rewards' in s.sent;
      const request = s.path === '/v1/decide' ? wire.decideRequest : batch ? wire.rewardBatchRequest : wire.rewardRequest;
      expect({ path: s.path, sent: request.safeParse(s.sent).error?.issues }).toEqual({ path: s.path, sent: undefined });
      const answer = s.status >= 400 ? wire.errorResponse : s.path === '/v1/decide' ? wire.decideResponse : batch ? wire.rewardBatchResponse : wire.rewardResponse;
      expect({ path: s.path, status: s.status, answer: answer.safeParse(s.answer).error?.issues }).toEqual({ path: s.path, status: s.status, answer: undefined });
    }
  });
});
