import { mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDecisionLine, encodeDecisionLine } from '../../decision-log';
import type { DecisionInput } from '../../decision-log';
import { InferenceMetrics } from '../metrics';
import { testDecision } from '../testing/decision-row';
import type { DecisionBatch } from './batch';
import { DecisionJournal, REJECTED_FILE, type JournalIo, type JournalOptions } from './journal';
import { DecisionLog, type DecisionSink } from './log';

/** A sink that behaves like the registry's idempotent insert, and can be made to fail or hang. */
class TableSink implements DecisionSink {
  readonly rows = new Map<string, DecisionInput>();
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  calls = 0;
  async insertDecisions(batch: DecisionBatch): Promise<void> {
    const rows = batch.rows();
    this.calls++;
    if (this.mode === 'fail') throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    if (this.mode === 'hang') await new Promise((r) => setTimeout(r, 200));
    for (const r of rows) if (!this.rows.has(r.decisionId)) this.rows.set(r.decisionId, r);
  }
}

let n = 0;
const row = (): DecisionInput => testDecision(++n);

describe('DecisionLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ap-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const segments = () => readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();

  async function setup(sink: TableSink, opts: Partial<ConstructorParameters<typeof DecisionLog>[0]> = {}, jopts: JournalOptions = {}) {
    const journal = new DecisionJournal(dir, { writeAhead: opts.durability === 'journal', ...jopts });
    await journal.open();
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    const log = new DecisionLog({ sink, journal, metrics, batchSize: 50, flushIntervalMs: 5, writeTimeoutMs: 50, retryIntervalMs: 20, ...opts });
    return { log, journal, metrics };
  }

  it('finds the decisions it holds and has not written — queued, being inserted, spilled to the journal — with their owners (pending)', async () => {
    const sink = new TableSink();
    sink.mode = 'hang';
    const { log } = await setup(sink, { flushIntervalMs: 60_000, writeTimeoutMs: 5_000 });
    const a = { ...row(), deployment: 'alpha', keyId: 'key-a' };
    const b = { ...row(), deployment: 'beta', keyId: null };
    log.enqueue(a);
    log.enqueueLine(encodeDecisionLine(b));
    const unknown = testDecision(900_000).decisionId;
    // Queued in the batch being filled.
    expect(await log.pending([a.decisionId, b.decisionId, unknown])).toEqual(new Map([[a.decisionId, { deployment: 'alpha', keyId: 'key-a' }], [b.decisionId, { deployment: 'beta', keyId: null }]]));
    // Being inserted (the sink hangs 200 ms).
    const drained = log.drain({ replay: false });
    await new Promise((r) => setTimeout(r, 20));
    expect([...(await log.pending([a.decisionId, unknown])).keys()]).toEqual([a.decisionId]);
    await drained;
    expect((await log.pending([a.decisionId])).size).toBe(0); // written: the database has it
    // The database down: spilled to the journal (on disk), still found until replayed.
    sink.mode = 'fail';
    const c = { ...row(), deployment: 'gamma' };
    log.enqueue(c);
    await log.drain({ replay: false });
    expect(segments().length).toBeGreaterThan(0);
    expect(await log.pending([c.decisionId, unknown])).toEqual(new Map([[c.decisionId, { deployment: 'gamma', keyId: null }]]));
    sink.mode = 'ok';
    await log.drain();
    expect(sink.rows.has(c.decisionId)).toBe(true);
    expect((await log.pending([c.decisionId])).size).toBe(0);
    await log.close();
  });

  it('finds decisions waiting in a journal commit group and in write-ahead segments (journal durability)', async () => {
    const sink = new TableSink();
    sink.mode = 'fail';
    const { log } = await setup(sink, { durability: 'journal', flushIntervalMs: 5 });
    const d = { ...row(), deployment: 'delta', keyId: 'k' };
    log.enqueue(d);
    // In the commit group being written, then in a segment (the database refuses the batch: backlog).
    expect(await log.pending([d.decisionId])).toEqual(new Map([[d.decisionId, { deployment: 'delta', keyId: 'k' }]]));
    await log.committed();
    await log.drain({ replay: false });
    expect(await log.pending([d.decisionId])).toEqual(new Map([[d.decisionId, { deployment: 'delta', keyId: 'k' }]]));
    sink.mode = 'ok';
    await log.drain();
    expect(sink.rows.has(d.decisionId)).toBe(true);
    await log.close();
  });

  it('writes lines handed to it already encoded with the rows it encodes itself', async () => {
    const sink = new TableSink();
    const { log } = await setup(sink);
    const rows = Array.from({ length: 120 }, () => row());
    rows.forEach((r, i) => (i % 2 === 0 ? log.enqueueLine(encodeDecisionLine(r)) : log.enqueue(r)));
    expect(await log.drain()).toMatchObject({ enqueued: 120, written: 120, rejected: 0, lost: 0 });
    for (const r of rows) expect(sink.rows.get(r.decisionId)).toEqual(decodeDecisionLine(encodeDecisionLine(r)));
  });

  it('sets aside rows the database refuses for their content and writes the rest of their batch, also on replay', async () => {
    /** Refuses, like PostgreSQL, any batch holding a row whose unit has a NUL character (SQLSTATE 22021). */
    class PickySink extends TableSink {
      override async insertDecisions(batch: DecisionBatch): Promise<void> {
        if (this.mode === 'ok' && batch.rows().some((r) => r.unit?.includes('\u0000'))) {
          this.calls++;
          throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
        }
        return super.insertDecisions(batch);
      }
    }
    const sink = new PickySink();
    const { log, metrics } = await setup(sink);
    const rows = Array.from({ length: 200 }, () => row());
    const bad = [rows[7], rows[120], rows[121]];
    for (const b of bad) b.unit = 'user\u0000x';
    rows.forEach((r) => log.enqueue(r));
    let stats = await log.drain();
    expect(stats).toMatchObject({ enqueued: 200, written: 197, rejected: 3, spilled: 0, lost: 0, databaseUp: true });
    expect(sink.rows.size).toBe(197);
    for (const b of bad) expect(sink.rows.has(b.decisionId)).toBe(false);
    const setAside = readFileSync(join(dir, REJECTED_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(setAside.map((x) => x.row.decisionId).sort()).toEqual(bad.map((b) => b.decisionId).sort());
    expect(setAside[0].error).toContain('0x00');
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_rejected_total')).toMatch(/ 3$/m);

    // Spilled while the database was down, then replayed: the bad row is set aside, the others written.
    sink.mode = 'fail';
    const later = Array.from({ length: 60 }, () => row());
    later[30].unit = '\u0000';
    later.forEach((r) => log.enqueue(r));
    await log.drain({ replay: false });
    expect(log.getStats().spilled).toBe(60);
    sink.mode = 'ok';
    stats = await log.drain();
    expect(stats).toMatchObject({ written: 197 + 59, rejected: 4, journalPending: 0, lost: 0, databaseUp: true });
    expect(sink.rows.has(later[30].decisionId)).toBe(false);
    expect(sink.rows.has(later[31].decisionId)).toBe(true);
    await log.close();
  });

  it('sets aside a row that fails validation when it is enqueued, without holding up the others', async () => {
    const sink = new TableSink();
    const { log } = await setup(sink);
    const rows = Array.from({ length: 30 }, () => row());
    rows[4].propensity = 1.5;
    rows[9].time = new Date(NaN);
    rows.forEach((r) => log.enqueue(r));
    const stats = await log.drain();
    expect(stats).toMatchObject({ enqueued: 30, written: 28, rejected: 2, spilled: 0, lost: 0, queued: 0 });
    expect(sink.rows.has(rows[4].decisionId)).toBe(false);
    const setAside = readFileSync(join(dir, REJECTED_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(setAside.map((x) => x.row.decisionId).sort()).toEqual([rows[4].decisionId, rows[9].decisionId].sort());
    expect(setAside.find((x) => x.row.decisionId === rows[4].decisionId).error).toMatch(/propensity/);
    await log.close();
  });

  it('sizes batch buffers from the lines it has seen, and gives a line larger than that a buffer of its own', async () => {
    class SizeSink extends TableSink {
      seen: { count: number; bytes: number; capacity: number }[] = [];
      override async insertDecisions(batch: DecisionBatch): Promise<void> {
        this.seen.push({ count: batch.count, bytes: batch.byteLength, capacity: batch.capacity });
        return super.insertDecisions(batch);
      }
    }
    const sink = new SizeSink();
    const { log } = await setup(sink, { batchSize: 100, flushIntervalMs: 10_000 });
    for (let i = 0; i < 1000; i++) log.enqueue(row());
    const huge = { ...row(), features: { blob: 'x'.repeat(300_000) } };
    log.enqueue(huge);
    for (let i = 0; i < 10; i++) log.enqueue(row());
    const stats = await log.drain();
    expect(stats).toMatchObject({ enqueued: 1011, written: 1011, lost: 0 });
    expect(sink.rows.get(huge.decisionId)?.features).toEqual(huge.features);
    const full = sink.seen.filter((b) => b.count === 100);
    expect(full.length).toBeGreaterThanOrEqual(9);
    const perLine = full[full.length - 1].bytes / 100;
    // Later buffers are sized from the observed line size (~1.25 × 100 lines), not a fixed 128 KiB.
    const last = full[full.length - 1].capacity;
    expect(last).toBeGreaterThanOrEqual(100 * perLine);
    expect(last).toBeLessThanOrEqual(Math.max(16 * 1024, 1.6 * 100 * perLine));
    expect(sink.seen.some((b) => b.count === 1 && b.bytes > 300_000 && b.capacity >= b.bytes)).toBe(true);
    await log.close();
  });

  it('writes every row in batches when the database is up', async () => {
    const sink = new TableSink();
    const { log } = await setup(sink);
    const ids = Array.from({ length: 1234 }, () => row());
    ids.forEach((r) => log.enqueue(r));
    const stats = await log.drain();
    expect(sink.rows.size).toBe(1234);
    expect(stats).toMatchObject({ enqueued: 1234, written: 1234, spilled: 0, lost: 0, queued: 0 });
    expect(sink.calls).toBeLessThan(1234 / 10);
    await log.close();
  });

  it('writes a backlog with up to maxInFlight batches at once, never more, none lost', async () => {
    class SlowSink extends TableSink {
      now = 0;
      peak = 0;
      override async insertDecisions(batch: DecisionBatch): Promise<void> {
        this.peak = Math.max(this.peak, ++this.now);
        await new Promise((r) => setTimeout(r, 5));
        this.now--;
        return super.insertDecisions(batch);
      }
    }
    for (const maxInFlight of [1, 3]) {
      const sink = new SlowSink();
      const { log } = await setup(sink, { maxInFlight, writeTimeoutMs: 5_000 });
      for (let i = 0; i < 1000; i++) log.enqueue(row());
      await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 1000; i++) log.enqueue(row());
      const stats = await log.drain();
      expect(sink.peak).toBe(maxInFlight);
      expect(sink.rows.size).toBe(2000);
      expect(stats).toMatchObject({ enqueued: 2000, written: 2000, spilled: 0, lost: 0, queued: 0 });
      await log.close();
    }
  });

  it('spills to the journal while the database is down and replays when it is back, none lost', async () => {
    const sink = new TableSink();
    const { log, metrics } = await setup(sink);
    for (let i = 0; i < 100; i++) log.enqueue(row());
    await log.drain();
    sink.mode = 'fail';
    for (let i = 0; i < 500; i++) log.enqueue(row());
    let stats = await log.drain();
    expect(stats.spilled).toBe(500);
    expect(stats.databaseUp).toBe(false);
    expect(sink.rows.size).toBe(100);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    sink.mode = 'ok';
    for (let i = 0; i < 100; i++) log.enqueue(row());
    stats = await log.drain();
    expect(sink.rows.size).toBe(700);
    expect(stats).toMatchObject({ lost: 0, journalPending: 0, databaseUp: true });
    expect(segments()).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_lost_total')).toMatch(/ 0$/);
    await log.close();
  });

  it('treats a slow database like a down one and writes each row once', async () => {
    const sink = new TableSink();
    const { log } = await setup(sink);
    sink.mode = 'hang';
    for (let i = 0; i < 120; i++) log.enqueue(row());
    await log.drain({ replay: false });
    expect(log.getStats().spilled).toBeGreaterThan(0);
    sink.mode = 'ok';
    await new Promise((r) => setTimeout(r, 250)); // the slow inserts commit late anyway
    const stats = await log.drain();
    expect(sink.rows.size).toBe(120);
    expect(stats.lost).toBe(0);
    await log.close();
  });

  it('moves the backlog to disk when the queue reaches its bound', async () => {
    const sink = new TableSink();
    const { log } = await setup(sink, { maxQueue: 200, batchSize: 1000, flushIntervalMs: 10_000 });
    for (let i = 0; i < 450; i++) log.enqueue(row());
    expect(log.getStats().queued).toBeLessThan(200);
    const stats = await log.drain();
    expect(stats.spilled).toBe(400);
    expect(sink.rows.size).toBe(450);
    await log.close();
  });

  it('replays a segment left by a crashed instance that had our PID (a restarted container), counting its torn last line lost', async () => {
    const sink = new TableSink();
    const a = row();
    const b = row();
    // The former instance's owner file names this host and this very PID: the PID says nothing about
    // who wrote the segment, the instance id does (before instance ids this segment was taken for ours).
    const former = 'aaaaaaaaaaaaaaaa';
    writeFileSync(join(dir, `owner-${former}.json`), JSON.stringify({ pid: process.pid, host: hostname() }));
    const seg = join(dir, `seg-${former}-1-0.open.log`);
    writeFileSync(seg, `#autopilot-journal v2 instance=${former}\n${encodeDecisionLine(a)}${encodeDecisionLine(b)}`);
    appendFileSync(seg, encodeDecisionLine(row()).slice(0, 60)); // torn by the crash
    const lostLines: [string, number][] = [];
    const { log, journal, metrics } = await setup(sink, {}, { onLost: (file, line) => lostLines.push([file, line]) });
    expect(journal.pending).toBe(3);
    const stats = await log.drain();
    expect([...sink.rows.keys()].sort()).toEqual([a.decisionId, b.decisionId].sort());
    expect(sink.rows.get(a.decisionId)!.time).toEqual(a.time);
    expect(stats).toMatchObject({ lost: 1, journalPending: 0 });
    expect(lostLines).toEqual([[join(dir, `seg-${former}-1-0.replay-${journal.instanceId}.log`), 4]]);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_journal_lines_unparsable_total')).toMatch(/\{log="decisions"\} 1$/m);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_lost_total')).toMatch(/ 1$/m);
    expect(segments()).toEqual([]);
    await log.close();
  });

  it('leaves the segment of a live instance alone until its owner file goes stale', async () => {
    const sink = new TableSink();
    const other = 'bbbbbbbbbbbbbbbb';
    // Another live process on this host (our parent) owns it, and touched its owner file just now.
    writeFileSync(join(dir, `owner-${other}.json`), JSON.stringify({ pid: process.ppid, host: hostname() }));
    const r = row();
    writeFileSync(join(dir, `seg-${other}-1-0.open.log`), `#autopilot-journal v2\n${encodeDecisionLine(r)}`);
    const { log, journal } = await setup(sink, {}, { staleMs: 300 });
    expect(journal.pending).toBe(0);
    await log.replay();
    expect(sink.rows.size).toBe(0);
    expect(segments()).toEqual([`seg-${other}-1-0.open.log`]);
    await new Promise((res) => setTimeout(res, 400)); // no heartbeat: the other instance is gone
    await log.replay();
    expect([...sink.rows.keys()]).toEqual([r.decisionId]);
    expect(segments()).toEqual([]);
    await log.close();
  });

  /** node:fs, except that the writes named in `failAt` (1-based, counting every write to a segment) throw EIO. */
  function faultyIo(failAt: Set<number>): JournalIo & { writes: number } {
    const io = {
      writes: 0,
      async open(path: string, flags: string) {
        const { promises } = await import('node:fs');
        const fh = await promises.open(path, flags);
        return {
          write: ((data: string) => {
            io.writes++;
            if (failAt.has(io.writes)) {
              // A partial write first, as a full disk leaves it: the journal must cut it off again.
              return fh.write(data.slice(0, 7)).then(() => Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })));
            }
            return fh.write(data);
          }) as never,
          datasync: () => fh.datasync(),
          close: () => fh.close(),
          truncate: (len?: number) => fh.truncate(len),
        };
      },
    };
    return io;
  }

  it('after a failed write closes the segment, starts a new one and writes the group there; nothing lost', async () => {
    const sink = new TableSink();
    sink.mode = 'fail';
    // Write 1 is the first segment's header, 2 the first group, 3 the second group: it fails.
    const io = faultyIo(new Set([3]));
    const { log, journal } = await setup(sink, { retryIntervalMs: 60_000 }, { io });
    const first = Array.from({ length: 10 }, () => row());
    first.forEach((r) => log.enqueue(r));
    await log.drain({ replay: false });
    const second = Array.from({ length: 10 }, () => row());
    second.forEach((r) => log.enqueue(r));
    const stats = await log.drain({ replay: false });
    expect(stats).toMatchObject({ spilled: 20, lost: 0 });
    // The failed segment was cut back to its good length and closed (backlog); the group went to a new one.
    const segs = segments();
    expect(segs).toHaveLength(2);
    expect(segs[0]).toMatch(/^seg-[0-9a-f]{16}-\d+-0\.log$/);
    expect(segs[1]).toMatch(/^seg-[0-9a-f]{16}-\d+-1\.open\.log$/);
    const firstText = readFileSync(join(dir, segs[0]), 'utf8');
    expect(firstText.endsWith('\n')).toBe(true);
    expect(firstText.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(10);
    expect(journal.pending).toBe(20);
    sink.mode = 'ok';
    expect(await log.drain()).toMatchObject({ written: 20, lost: 0, journalPending: 0 });
    expect(sink.rows.size).toBe(20);
    expect(segments()).toEqual([]);
    await log.close();
  });

  it('counts rows lost (and says why) when the journal cannot be written even on a new segment', async () => {
    const sink = new TableSink();
    sink.mode = 'fail';
    const errors: string[] = [];
    const io = faultyIo(new Set([3, 4, 5]));
    const { log, metrics } = await setup(sink, { onError: (e, what) => errors.push(`${what}: ${(e as Error).message}`) }, { io });
    for (let i = 0; i < 5; i++) log.enqueue(row());
    await log.drain({ replay: false });
    for (let i = 0; i < 7; i++) log.enqueue(row());
    const stats = await log.drain({ replay: false });
    expect(stats).toMatchObject({ spilled: 5, lost: 7 });
    expect(errors.some((e) => /7 rows could be written neither to the database nor to the journal: EIO/.test(e))).toBe(true);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_lost_total')).toMatch(/ 7$/m);
    await log.close();
  });

  it('caps the journal: rows past the cap are counted lost with one log line, and it takes rows again once replayed', async () => {
    const sink = new TableSink();
    sink.mode = 'fail';
    const said: string[] = [];
    const one = Buffer.byteLength(encodeDecisionLine(row()));
    const { log, journal, metrics } = await setup(sink, { batchSize: 10 }, { maxBytes: 200 + 30 * one, log: (_l, m) => said.push(m) });
    for (let i = 0; i < 100; i++) log.enqueue(row());
    const stats = await log.drain({ replay: false });
    expect(stats.spilled + stats.lost).toBe(100);
    expect(stats.spilled).toBeGreaterThanOrEqual(20);
    expect(stats.spilled).toBeLessThanOrEqual(30);
    expect(journal.isFull).toBe(true);
    expect(journal.bytes).toBeLessThanOrEqual(200 + 30 * one);
    expect(said.filter((m) => /reached its cap \(--journal-max-bytes/.test(m))).toHaveLength(1);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_journal_full')).toMatch(/\{log="decisions"\} 1$/m);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_lost_total')).toMatch(new RegExp(` ${stats.lost}$`, 'm'));
    sink.mode = 'ok';
    expect(await log.drain()).toMatchObject({ written: stats.spilled, journalPending: 0 });
    expect(journal.isFull).toBe(false);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_journal_full')).toMatch(/\{log="decisions"\} 0$/m);
    for (let i = 0; i < 10; i++) log.enqueue(row());
    expect(await log.drain()).toMatchObject({ written: stats.spilled + 10 });
    await log.close();
  });

  it('reports the rows at risk (acknowledged, not yet durable) in async durability, bounded by the queue', async () => {
    const sink = new TableSink();
    sink.mode = 'hang';
    const { log, metrics } = await setup(sink, { batchSize: 50, maxQueue: 300, writeTimeoutMs: 5_000, maxInFlight: 2 });
    for (let i = 0; i < 1000; i++) log.enqueue(row());
    // Right now the rows past the queue's bound are being spilled: at risk until their fsync.
    expect(log.atRisk).toBe(1000);
    await new Promise((r) => setTimeout(r, 50)); // the spills are on disk; the inserts still hang
    expect(log.getStats().spilled).toBeGreaterThan(0);
    expect(log.atRisk).toBeGreaterThan(0);
    expect(log.atRisk).toBeLessThanOrEqual(300 + 2 * 50);
    const text = await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_at_risk');
    expect(Number(/\{log="decisions"\} (\d+)$/m.exec(text)![1])).toBe(log.atRisk);
    sink.mode = 'ok';
    await log.drain();
    expect(log.atRisk).toBe(0);
    expect(sink.rows.size).toBe(1000);
    await log.close();
  });

  it('journal durability: committed() settles only once a row is fsynced; confirmed segments are deleted', async () => {
    const sink = new TableSink();
    const { log, journal } = await setup(sink, { durability: 'journal' }, { segmentMs: 0 });
    const rows = Array.from({ length: 200 }, () => row());
    const acked: Promise<unknown>[] = [];
    for (const r of rows) {
      log.enqueue(r);
      acked.push(log.committed());
    }
    expect(log.atRisk).toBe(0);
    await Promise.all(acked);
    // Every acknowledged row is in a segment on disk before the database has it.
    const onDisk = segments().flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')));
    expect(onDisk.length + sink.rows.size).toBeGreaterThanOrEqual(200);
    const stats = await log.drain();
    expect(stats).toMatchObject({ written: 200, lost: 0, refused: 0 });
    await journal.rotate();
    await new Promise((r) => setTimeout(r, 20));
    expect(segments()).toEqual([]);
    await log.close();
  });

  it('journal durability: a row the journal cannot take is refused (committed() rejects), not written', async () => {
    const sink = new TableSink();
    const { log, metrics } = await setup(sink, { durability: 'journal' }, { io: faultyIo(new Set([2, 3])) });
    const r = row();
    log.enqueue(r);
    await expect(log.committed()).rejects.toThrow(/EIO/);
    const s = row();
    log.enqueue(s);
    await expect(log.committed()).resolves.toBeDefined();
    const stats = await log.drain();
    expect(stats).toMatchObject({ refused: 1, lost: 0, written: 1 });
    expect([...sink.rows.keys()]).toEqual([s.decisionId]);
    expect(await metrics.registry.getSingleMetricAsString('autopilot_decision_log_rows_refused_total')).toMatch(/\{log="decisions"\} 1$/m);
    await log.close();
  });

  it('journal durability: an instance that dies leaves every acknowledged row for the next one, which replays it', async () => {
    const sink = new TableSink();
    const first = await setup(sink, { durability: 'journal', flushIntervalMs: 10_000, batchSize: 10_000 });
    const rows = Array.from({ length: 50 }, () => row());
    rows.forEach((r) => first.log.enqueue(r));
    await first.log.committed();
    // "kill -9": nothing flushed or closed; the owner file still names this PID.
    expect(sink.rows.size).toBe(0);
    const second = await setup(sink, { durability: 'journal' });
    expect(second.journal.pending).toBe(50);
    await second.log.drain();
    expect(sink.rows.size).toBe(50);
    await second.log.close();
    await first.log.close(); // (only to stop its timers)
  });

  it('journal durability: while the database is down segments are backlog, replayed when it is back', async () => {
    const sink = new TableSink();
    const { log, journal } = await setup(sink, { durability: 'journal' });
    for (let i = 0; i < 30; i++) log.enqueue(row());
    await log.drain();
    sink.mode = 'fail';
    for (let i = 0; i < 40; i++) log.enqueue(row());
    await log.committed();
    let stats = await log.drain({ replay: false });
    expect(stats.databaseUp).toBe(false);
    for (let i = 0; i < 40; i++) log.enqueue(row());
    await log.committed();
    await log.drain({ replay: false });
    expect(journal.pending).toBeGreaterThanOrEqual(40);
    sink.mode = 'ok';
    stats = await log.drain();
    expect(stats).toMatchObject({ databaseUp: true, lost: 0, refused: 0 });
    expect(sink.rows.size).toBe(110);
    await log.close();
    expect(segments()).toEqual([]);
  });

  it('sends live rows to the database as soon as it is back, while the backlog replays beside them', async () => {
    /** Replayed batches (the journal's) are slow, live ones are not. */
    class SlowReplaySink extends TableSink {
      override async insertDecisions(batch: DecisionBatch): Promise<void> {
        if (this.mode === 'ok' && batch.count >= 100) await new Promise((r) => setTimeout(r, 50));
        return super.insertDecisions(batch);
      }
    }
    const sink = new SlowReplaySink();
    sink.mode = 'fail';
    const { log, journal } = await setup(sink, { batchSize: 50, retryIntervalMs: 10_000 });
    for (let i = 0; i < 4000; i++) log.enqueue(row());
    await log.drain({ replay: false });
    expect(journal.pending).toBe(4000);
    sink.mode = 'ok';
    let replayed = false;
    const replay = log.replay().then(() => (replayed = true)); // 40 batches of 100, 50 ms each
    await new Promise((r) => setTimeout(r, 100));
    const live = Array.from({ length: 20 }, () => row());
    live.forEach((r) => log.enqueue(r));
    while (!replayed && !live.every((r) => sink.rows.has(r.decisionId))) await new Promise((r) => setTimeout(r, 5));
    // The live rows went in while the backlog was still being replayed.
    expect(replayed).toBe(false);
    expect(journal.pending).toBeGreaterThan(0);
    await replay;
    expect(await log.drain()).toMatchObject({ journalPending: 0, lost: 0 });
    expect(sink.rows.size).toBe(4020);
    await log.close();
  });

  it('leaves rows in the journal on close while the database is down, for the next process', async () => {
    const sink = new TableSink();
    const first = await setup(sink);
    sink.mode = 'fail';
    for (let i = 0; i < 30; i++) first.log.enqueue(row());
    const stats = await first.log.close();
    expect(stats).toMatchObject({ spilled: 30, lost: 0 });
    expect(segments().filter((f) => !f.includes('.open.'))).toHaveLength(1);
    sink.mode = 'ok';
    const second = await setup(sink);
    await second.log.drain();
    expect(sink.rows.size).toBe(30);
    await second.log.close();
  });
});
