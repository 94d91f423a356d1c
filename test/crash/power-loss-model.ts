/**
 * The model checker behind power-loss.test.ts: runs one generated history against the real engine
 * on a PowerLossDisk, keeps what the engine acknowledged and what must therefore survive, and after
 * every reopen compares the whole recovered log and every cursor with it (the promises are listed in
 * power-loss.test.ts and docs/reliability.md). Failures throw with the last steps of the history.
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Walrus } from '../../src/engine/walrus.js';
import { CURSORS, TOPICS, type Mode, type Op } from './power-loss-ops.js';
import { PowerLossDisk, mulberry32, type CrashReport } from '../support/power-loss-io.js';
import { decodePayload, encodePayload, payloadKey } from '../support/payload.js';

/** Small geometry so blocks seal, span slots and segments roll over within a few dozen appends. */
const GEOMETRY = { blockBytes: 16384, blocksPerSegment: 4 };
const SEGMENT_BLOCK_BYTES = GEOMETRY.blockBytes * GEOMETRY.blocksPerSegment - 512;
const silent = pino({ level: 'silent' });

/**
 * Event-loop turns a simulated fdatasync takes (PowerLossDisk `syncTurns`): 1, as the fs backend
 * syncs on the thread pool, so the engine's own work interleaves with its syncs (0 hid engine bug 1,
 * docs/reliability.md). WALRUS_SYNC_TURNS=n overrides it.
 */
function syncTurnsFor(_mode: Mode): number {
  return Number(process.env.WALRUS_SYNC_TURNS ?? 1);
}

const settleTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the test knows about a cursor. */
interface CursorModel {
  /** Highest position acknowledged by a resolved checkpointing read or commit (since the last reopen, from the recovered position). */
  acked: number;
  /** Highest position ever asked for (an upper bound on anything persisted). */
  requested: number;
}

interface TopicModel {
  /** offset → entry key that must be there (durable for sure) while the offset is retained. */
  durable: Map<number, string>;
  /** offset → entry key acknowledged by the current engine instance (any fsync mode). */
  ackedNow: Map<number, string>;
  /** Every append acknowledged by the current instance: seq → base offset. */
  ackedSeqs: Map<number, number>;
  cursors: Map<string, CursorModel>;
  firstOffset: number;
}

/** Figures summed over every run, printed at the end. */
export const totals = { runs: 0, crashes: 0, restarts: 0, acked: 0, recoveredEntries: 0, tornSectors: 0, lostUnsynced: 0, deletes: 0, storageFull: 0, cursorRefused: 0 };

/** One generated history: the engine, the disk under it, and what the test knows must be true. */
export class Run {
  readonly disk: PowerLossDisk;
  readonly dir = fs.mkdtempSync(join(os.tmpdir(), 'walrus-power-loss-'));
  wal!: Walrus;
  generation = 0;
  seq = 1;
  readonly issued = new Map<number, { topic: number; count: number }>();
  readonly topics: TopicModel[] = TOPICS.map(() => ({ durable: new Map(), ackedNow: new Map(), ackedSeqs: new Map(), cursors: new Map(), firstOffset: 0 }));
  inFlight = new Set<Promise<unknown>>();
  /** Seqs seen in some recovered log, and seqs issued but never recovered (lost in a crash). */
  readonly everPresent = new Set<number>();
  readonly lostSeqs = new Set<number>();
  /** Seqs of topic incarnations deleted with an acknowledged deleteTopic. */
  readonly deletedSeqs = new Set<number>();
  /** Seqs whose append was refused with STORAGE_FULL (an injected write fault). */
  readonly rejectedSeqs = new Set<number>();
  faultBudget = 0;
  /** A failure seen inside a promise handler, raised by the next step. */
  problem: string | null = null;
  readonly log: string[] = [];

  constructor(readonly mode: Mode) {
    this.disk = new PowerLossDisk({ syncTurns: syncTurnsFor(mode) });
  }

  private get syncEach(): boolean {
    return this.mode.fsync.kind === 'sync-each';
  }

  fail(message: string): never {
    throw new Error(`${this.mode.name}: ${message}\n  history: ${this.log.slice(-25).join(' | ')}`);
  }

  async open(): Promise<void> {
    try {
      this.wal = await Walrus.open({
        dataDir: this.dir,
        io: this.disk.io(),
        fsync: this.mode.fsync,
        consistency: this.mode.consistency,
        logger: silent,
        checkpointBytesInterval: 48 * 1024,
        ...GEOMETRY,
      });
    } catch (error) {
      this.fail(`Walrus.open threw after ${this.disk.crashCount} crashes: ${(error as Error).stack}`);
    }
  }

  async execute(op: Op): Promise<void> {
    if (this.problem) this.fail(this.problem);
    this.log.push(JSON.stringify(op).replace(/"/g, ''));
    switch (op.kind) {
      case 'append':
        return this.append(op.topic, [op.size], op.wait, false);
      case 'batch': {
        let sizes = op.sizes;
        // Keep a batch within one segment (the engine rejects larger ones; that path has unit tests).
        let bytes = 0;
        sizes = sizes.filter((s) => (bytes += s + 32) <= SEGMENT_BLOCK_BYTES);
        if (sizes.length === 0) return;
        return this.append(op.topic, sizes, op.wait, true);
      }
      case 'read':
        return this.read(op);
      case 'commit':
        return this.commit(op);
      case 'pause':
        return op.ms < 0 ? settleTurn() : sleep(op.ms);
      case 'crash':
        return this.crash(op.seed, op.settle);
      case 'restart':
        return this.restart();
      case 'delete':
        return this.deleteTopic(op.topic);
      case 'fault':
        // The next `writes` writes to segments (or to the cursor log) store only the leading `keep`
        // share of their bytes, then fail with ENOSPC (a short write into a full disk).
        this.faultBudget = op.writes;
        this.disk.writeFault = (path, _position, bytes) => {
          if (!path.endsWith(op.target === 'segment' ? '.seg' : 'cursors.log') || this.faultBudget <= 0) return undefined;
          this.faultBudget--;
          return Math.floor(bytes * op.keep);
        };
        return;
    }
  }

  private append(topicIndex: number, sizes: number[], wait: boolean, batch: boolean): Promise<void> | void {
    const topic = TOPICS[topicIndex];
    const seq = this.seq++;
    const payloads = sizes.map((size, index) => encodePayload({ stream: topicIndex, seq, index, count: sizes.length }, size));
    this.issued.set(seq, { topic: topicIndex, count: sizes.length });
    const generation = this.generation;
    const model = this.topics[topicIndex];
    const pending: Promise<number> = batch
      ? this.wal.batchAppendForTopic(topic, payloads).then((r) => r.baseOffset)
      : this.wal.appendForTopic(topic, payloads[0]);
    const tracked = pending.then(
      (base) => {
        totals.acked += sizes.length;
        // Acks that arrive after the crash are still honest: their fdatasync ran before it.
        if (generation !== this.generation && !this.syncEach) return;
        if (generation === this.generation) model.ackedSeqs.set(seq, base);
        for (let i = 0; i < sizes.length; i++) {
          const key = `${seq}:${i}`;
          if (this.syncEach) this.noteDurable(topicIndex, base + i, key, 'acknowledged append', false);
          if (generation === this.generation) model.ackedNow.set(base + i, key);
        }
      },
      (error: Error & { code?: string }) => {
        if (error.code === 'STORAGE_FULL') {
          // Only injected write faults fill this disk: the append was refused, nothing acknowledged.
          // A refusal that settles after the crash proves nothing (model bug 8, docs/reliability.md):
          // the engine refuses only once the failed write's bytes are zeroed and synced, and a crash
          // before that sync leaves the append's fate open, as a real power cut would (it would also
          // kill the process before the refusal reached anyone).
          if (generation === this.generation) this.rejectedSeqs.add(seq);
          totals.storageFull++;
          return;
        }
        if (generation === this.generation) this.problem ??= `append to ${topic} failed without a crash: ${error.code} ${error.message}`;
      },
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    if (wait) return tracked;
  }

  private noteDurable(topicIndex: number, offset: number, key: string, why: string, mayThrow = true): void {
    const durable = this.topics[topicIndex].durable;
    const known = durable.get(offset);
    if (known !== undefined && known !== key) {
      const message = `${TOPICS[topicIndex]}@${offset}: ${why} holds ${key}, but ${known} was durable there`;
      if (mayThrow) this.fail(message);
      this.problem ??= message; // inside a promise handler: reported by the next step
    }
    durable.set(offset, key);
  }

  /** Checks entries a read returned against everything known; they must be whole and where they belong. */
  private checkEntries(topicIndex: number, entries: { offset: number; data: Buffer }[], context: string): void {
    const model = this.topics[topicIndex];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (i > 0 && e.offset !== entries[i - 1].offset + 1) this.fail(`${context}: offsets ${entries[i - 1].offset} then ${e.offset} are not dense`);
      const id = decodePayload(e.data);
      if (typeof id === 'string') this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} returned a corrupt entry: ${id}`);
      const key = payloadKey(id);
      const issued = this.issued.get(id.seq);
      if (this.deletedSeqs.has(id.seq)) this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} holds ${key}, an entry of a deleted topic`);
      // Engine bugs 2 and 4 (docs/reliability.md, fixed): entries a crash took, or an append refused
      // with STORAGE_FULL, must never come back.
      if (this.rejectedSeqs.has(id.seq)) this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} holds ${key}, an append refused with STORAGE_FULL`);
      if (this.lostSeqs.has(id.seq)) this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} holds ${key}, lost in an earlier crash and now back`);
      if (!issued || issued.topic !== topicIndex || issued.count !== id.count || id.stream !== topicIndex) {
        this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} holds ${key} which was never appended to this topic`);
      }
      const durable = model.durable.get(e.offset);
      if (durable !== undefined && durable !== key) this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} holds ${key}, durable was ${durable}`);
      const acked = model.ackedNow.get(e.offset);
      if (acked !== undefined && acked !== key) this.fail(`${context}: ${TOPICS[topicIndex]}@${e.offset} holds ${key}, acknowledged was ${acked}`);
      // Under SyncEach readers only see synced entries, so whatever a read returns must survive a crash.
      if (this.syncEach) this.noteDurable(topicIndex, e.offset, key, 'entry seen by a reader');
    }
  }

  private cursorModel(topicIndex: number, cursor: string): CursorModel {
    const cursors = this.topics[topicIndex].cursors;
    let c = cursors.get(cursor);
    if (!c) cursors.set(cursor, (c = { acked: 0, requested: 0 }));
    return c;
  }

  private async read(op: Extract<Op, { kind: 'read' }>): Promise<void> {
    const topic = TOPICS[op.topic];
    const cursor = CURSORS[op.cursor];
    const name = cursor ?? '__default';
    const model = this.cursorModel(op.topic, name);
    const positionBefore = await this.wal.cursorPosition(topic, cursor);
    let entries;
    try {
      entries = await this.wal.batchReadForTopic(topic, op.maxBytes, op.checkpoint, { cursor });
    } catch (error) {
      if ((error as { code?: string }).code !== 'STORAGE_FULL') throw error;
      // The cursor record could not be written (an injected fault): nothing was handed out, and the
      // cursor must not have moved (engine bug 5, fixed). Bound what may have been persisted anyway.
      totals.cursorRefused++;
      const positionAfter = await this.wal.cursorPosition(topic, cursor);
      if (positionAfter !== positionBefore) this.fail(`batchRead(${topic}, ${name}) failed (${(error as Error).message}) yet moved the cursor ${positionBefore} → ${positionAfter}`);
      if (this.wal.hasTopic(topic)) model.requested = Math.max(model.requested, (await this.wal.topicStats(topic)).nextOffset);
      return;
    }
    this.checkEntries(op.topic, entries, `batchRead(${topic}, ${name})`);
    if (entries.length > 0) {
      const next = entries[entries.length - 1].offset + 1;
      if (op.checkpoint) {
        model.requested = Math.max(model.requested, next);
        model.acked = Math.max(model.acked, next);
      }
    }
  }

  private async commit(op: Extract<Op, { kind: 'commit' }>): Promise<void> {
    const topic = TOPICS[op.topic];
    if (!this.wal.hasTopic(topic)) return;
    const cursor = CURSORS[op.cursor] as string;
    const model = this.cursorModel(op.topic, cursor);
    const [position, stats] = [await this.wal.cursorPosition(topic, cursor), await this.wal.topicStats(topic)];
    const target = Math.min(position + op.delta, stats.nextOffset);
    model.requested = Math.max(model.requested, target);
    try {
      await this.wal.commitCursor(topic, cursor, target);
    } catch (error) {
      if ((error as { code?: string }).code !== 'STORAGE_FULL') throw error;
      totals.cursorRefused++;
      return;
    }
    model.acked = Math.max(model.acked, target);
  }

  /** Deletes a topic; its entries must never come back, whatever crashes follow. */
  private async deleteTopic(topicIndex: number): Promise<void> {
    const topic = TOPICS[topicIndex];
    await Promise.all([...this.inFlight]); // so no acknowledgement of the old incarnation lands in the new one
    if (!this.wal.hasTopic(topic)) return;
    this.faultBudget = 0; // a delete whose drop record fails has its own test (recovery-gaps.test.ts)
    await this.wal.deleteTopic(topic);
    for (const [seq, issued] of this.issued) if (issued.topic === topicIndex) this.deletedSeqs.add(seq);
    this.topics[topicIndex] = { durable: new Map(), ackedNow: new Map(), ackedSeqs: new Map(), cursors: new Map(), firstOffset: 0 };
    totals.deletes++;
  }

  /** Lets in-flight work of an abandoned instance fail or finish; it must settle (EIO) rather than hang. */
  private async drainOld(): Promise<void> {
    for (let turn = 0; turn < 2000 && this.inFlight.size > 0; turn++) await settleTurn();
    if (this.inFlight.size > 0) this.fail(`${this.inFlight.size} appends never settled after the crash (the engine hangs on I/O errors)`);
  }

  async crash(seed: number, settle: number): Promise<void> {
    for (let i = 0; i < settle; i++) await settleTurn();
    this.faultBudget = 0;
    const report = this.disk.crash(mulberry32(seed));
    this.generation++;
    totals.crashes++;
    totals.tornSectors += report.keptSectors > 0 && report.keptSectors < report.dirtySectors ? 1 : 0;
    this.log.push(`crash(${report.shape}: sectors ${report.keptSectors}/${report.dirtySectors}, dir ops ${report.keptDirOps}/${report.pendingDirOps})`);
    await this.drainOld();
    // The abandoned instance still "holds" the real LOCK file (same pid, so it looks alive); a power
    // cut would have ended that process. Remove the file as the reboot would have freed the lock.
    fs.rmSync(join(this.dir, 'LOCK'), { force: true });
    await this.open();
    await this.verify(report);
  }

  async restart(): Promise<void> {
    await Promise.all([...this.inFlight]);
    this.faultBudget = 0; // close persists every cursor; faults there are not what a clean restart checks
    const positions = await this.snapshotCursors();
    await this.wal.close();
    this.generation++;
    totals.restarts++;
    await this.open();
    await this.verify(null);
    for (const [key, position] of positions) {
      const [t, cursor] = key.split('/');
      const now = await this.wal.cursorPosition(t, cursor === '__default' ? undefined : cursor);
      if (now !== position) this.fail(`clean close moved ${key} from ${position} to ${now}`);
    }
  }

  private async snapshotCursors(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of this.wal.topics()) {
      const stats = await this.wal.topicStats(topic);
      for (const [c, p] of Object.entries(stats.cursors)) out.set(`${topic}/${c}`, p);
    }
    return out;
  }

  /** After a reopen: the whole log against the model, then the model reset to what was recovered. */
  async verify(report: CrashReport | null): Promise<void> {
    const context = report ? `after crash #${this.disk.crashCount} (${report.shape})` : 'after clean restart';
    for (let t = 0; t < TOPICS.length; t++) {
      const topic = TOPICS[t];
      const model = this.topics[t];
      let firstOffset = 0;
      let nextOffset = 0;
      let cursors: Record<string, number> = {};
      const entries: { offset: number; data: Buffer }[] = [];
      if (this.wal.hasTopic(topic)) {
        const stats = await this.wal.topicStats(topic);
        ({ firstOffset, nextOffset, cursors } = stats);
        for (let at = firstOffset; ; ) {
          const got = await this.wal.readFrom(topic, at, { maxEntries: 2000, maxBytes: 4 * 1024 * 1024 });
          if (got.length === 0) break;
          if (got[0].offset !== at) this.fail(`${context}: readFrom(${topic}, ${at}) started at ${got[0].offset}`);
          entries.push(...got);
          at = got[got.length - 1].offset + 1;
        }
        const end = entries.length > 0 ? entries[entries.length - 1].offset + 1 : firstOffset;
        if (end !== nextOffset) this.fail(`${context}: ${topic} reads end at ${end}, stats say nextOffset ${nextOffset}`);
      }
      totals.recoveredEntries += entries.length;
      this.checkEntries(t, entries, context);

      // Batches all or nothing, topic order = issue order.
      const byOffset = new Map<number, string>();
      let previousSeq = 0;
      for (let i = 0; i < entries.length; ) {
        const id = decodePayload(entries[i].data) as Exclude<ReturnType<typeof decodePayload>, string>;
        // A batch never spans blocks, so even the first retained entry starts one.
        if (id.index !== 0) this.fail(`${context}: ${topic}@${entries[i].offset} starts with batch entry ${id.index}/${id.count}`);
        if (id.seq <= previousSeq) this.fail(`${context}: ${topic}@${entries[i].offset} seq ${id.seq} after ${previousSeq}: out of issue order or duplicated`);
        previousSeq = id.seq;
        for (let k = 0; k < id.count; k++, i++) {
          const e = entries[i];
          const got = e ? decodePayload(e.data) : 'missing';
          if (typeof got === 'string' || got.seq !== id.seq || got.index !== k) {
            this.fail(`${context}: ${topic} batch ${id.seq} of ${id.count} is partial: entry ${k} is ${typeof got === 'string' ? got : payloadKey(got)}`);
          }
          byOffset.set(e.offset, payloadKey(got));
        }
      }

      // Acknowledged entries of the instance that just ended sit at their acknowledged offsets.
      const mustKeepAll = this.syncEach || report === null;
      for (const [offset, key] of model.ackedNow) {
        const there = byOffset.get(offset);
        if (there === undefined) {
          if (offset >= firstOffset && mustKeepAll) this.fail(`${context}: acknowledged ${topic}@${offset} (${key}) is lost`);
          if (offset >= firstOffset) totals.lostUnsynced++;
        } else if (there !== key) {
          this.fail(`${context}: acknowledged ${topic}@${offset} (${key}) now holds ${there}`);
        }
      }
      for (const [offset, key] of model.durable) {
        if (offset < firstOffset) continue;
        if (byOffset.get(offset) !== key) this.fail(`${context}: durable ${topic}@${offset} (${key}) is ${byOffset.get(offset) ?? 'lost'}`);
      }

      // Reclamation only below every cursor.
      if (firstOffset > model.firstOffset) {
        let bound = model.firstOffset;
        for (const c of model.cursors.values()) bound = Math.max(bound, c.requested);
        // Also catches engine bug 3 (fixed): a topic coming back with a hole at its start.
        if (firstOffset > bound) {
          // Also engine bug 6 (fixed): a topic whose first writes were all refused kept a first offset past 0.
          this.fail(`${context}: ${topic} first offset ${firstOffset} is past every cursor (${bound})`);
        }
      }
      for (const [name, position] of Object.entries(cursors)) {
        const c = model.cursors.get(name);
        const requested = Math.max(c?.requested ?? 0, model.firstOffset);
        if (position < firstOffset || position > nextOffset) this.fail(`${context}: cursor ${topic}/${name} at ${position} outside [${firstOffset}, ${nextOffset}]`);
        if (position > Math.max(requested, firstOffset)) this.fail(`${context}: cursor ${topic}/${name} at ${position}, never asked past ${requested}`);
      }
      for (const [name, c] of model.cursors) {
        const position = cursors[name];
        const floor = Math.min(c.acked, nextOffset);
        if (floor <= firstOffset) continue;
        if (position === undefined) this.fail(`${context}: cursor ${topic}/${name} acknowledged at ${c.acked} is gone`);
        // consistency.ts: "A crash replays fewer than N entries" (persisted once it moved N or more).
        const allowed = this.mode.consistency.kind === 'at-least-once' && report !== null ? this.mode.consistency.persistEvery - 1 : 0;
        if (floor - position > allowed) {
          this.fail(`${context}: cursor ${topic}/${name} came back at ${position}, acknowledged ${c.acked} (replay ${floor - position} > ${allowed})`);
        }
        if (this.syncEach && this.mode.consistency.kind === 'strictly-at-once' && position < c.acked) {
          this.fail(`${context}: cursor ${topic}/${name} came back at ${position} behind acknowledged ${c.acked} under SyncEach`);
        }
      }

      // Reset the model to the recovered state: everything recovered is durable now (open syncs it).
      model.durable = byOffset;
      model.ackedNow = new Map();
      model.ackedSeqs = new Map();
      model.firstOffset = firstOffset;
      for (const [name, c] of model.cursors) {
        const position = cursors[name];
        c.acked = position ?? 0;
        c.requested = Math.max(c.requested, position ?? 0);
      }
      for (const key of byOffset.values()) this.everPresent.add(Number(key.split(':')[0]));
    }
    for (const seq of this.issued.keys()) if (!this.everPresent.has(seq)) this.lostSeqs.add(seq);
  }

  async finish(): Promise<void> {
    await Promise.all([...this.inFlight]);
    if (this.problem) this.fail(this.problem);
    await this.restart();
    await this.wal.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  abandon(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
