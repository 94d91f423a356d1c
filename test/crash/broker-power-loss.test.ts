/**
 * Power loss under the broker: an in-process broker (`startBroker`) on an engine whose files live on
 * the PowerLossDisk double, a producer and a consumer-group member on real loopback sockets, and the
 * plug pulled at random moments. Each cut drops or tears whatever was not fdatasync'd; a new engine and
 * broker then open the post-crash disk. Checked after every cut: every record the broker acknowledged
 * (`--fsync sync-each`) is readable at its offset and whole, and the group's cursor is not behind any
 * commit the broker acknowledged (strict consistency). CUTS: 4 (12 under WALRUS_SOAK=1).
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Walrus } from '../../src/engine/walrus.js';
import { FsyncSchedule, ReadConsistency } from '../../src/engine/consistency.js';
import { startBroker, type Broker } from '../../src/broker/index.js';
import { PowerLossDisk, mulberry32 } from '../support/power-loss-io.js';
import { decodePayload, encodePayload } from '../support/payload.js';
import { RawPeer } from '../support/raw-peer.js';

const SOAK = process.env.WALRUS_SOAK === '1';
const CUTS = Number(process.env.BROKER_POWER_CUTS ?? (SOAK ? 12 : 4));
const TOPIC = 'ledger';
const GROUP = 'audit';
const silent = pino({ level: 'silent' });
const work = fs.mkdtempSync(join(os.tmpdir(), 'walrus-broker-power-'));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function openBroker(disk: PowerLossDisk, dataDir: string): Promise<Broker> {
  const engine = await Walrus.open({
    dataDir,
    io: disk.afterCrash(),
    fsync: FsyncSchedule.SyncEach,
    consistency: ReadConsistency.StrictlyAtOnce,
    // 64 slots per segment: no segment is created mid-run, which keeps engine bug 1 (docs/reliability.md) out of this test.
    blockBytes: 16384,
    blocksPerSegment: 64,
    logger: silent,
  });
  return startBroker({ engine, host: '127.0.0.1', port: 0, logger: silent, shutdownGraceMs: 0 });
}

describe('power loss under a running broker (simulated disk)', () => {
  it(`keeps every acknowledged record and commit over ${CUTS} power cuts`, async () => {
    const seed = Number(process.env.WALRUS_KILL_SEED ?? Date.now() % 2 ** 31);
    const rng = mulberry32(seed);
    const dataDir = join(work, 'data');
    const disk = new PowerLossDisk({ syncTurns: 1 });
    /** offset → seq the broker acknowledged there. */
    const acked = new Map<number, number>();
    let commitAcked = 0;
    let seq = 0;
    let refused = 0;
    let delivered = 0;
    const reused: string[] = [];
    for (let cut = 0; cut <= CUTS; cut++) {
      const broker = await openBroker(disk, dataDir);
      const where = `after power cut ${cut} (WALRUS_KILL_SEED=${seed})`;
      const checker = await RawPeer.connect(broker.port, 'checker');

      // What survived: every acknowledged record, whole, at its offset; the group not behind its commits.
      const described = await checker.request({ op: 'describeTopic', topic: TOPIC });
      if (acked.size > 0) expect(described.ok, `${where}: topic gone`).toBe(true);
      if (described.ok === true) {
        const group = (described.groups as { group: string; committed: number }[]).find((g) => g.group === GROUP);
        if (commitAcked > 0) expect(group?.committed ?? -1, `${where}: group cursor`).toBeGreaterThanOrEqual(commitAcked);
        for (let at = described.firstOffset as number; at < (described.nextOffset as number); ) {
          const reply = await checker.request({ op: 'fetch', topic: TOPIC, offset: at, maxRecords: 2000 });
          expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
          for (const r of reply.records as { offset: number; value: Uint8Array }[]) {
            const id = decodePayload(r.value);
            if (typeof id === 'string') throw new Error(`${where}: corrupt record at ${r.offset}: ${id}`);
            const want = acked.get(r.offset);
            if (want !== undefined) expect(id.seq, `${where}: record at ${r.offset}`).toBe(want);
            at = r.offset + 1;
          }
        }
        for (const [offset, want] of acked) {
          if (offset < (described.firstOffset as number)) continue; // consumed by the group and reclaimed
          expect(offset, `${where}: acknowledged seq ${want} at ${offset} lost`).toBeLessThan(described.nextOffset as number);
        }
      }
      checker.close();
      if (cut === CUTS) {
        await broker.stop();
        break;
      }

      // Traffic until the plug is pulled.
      const producer = await RawPeer.connect(broker.port, 'producer');
      const consumer = await RawPeer.connect(broker.port, 'consumer');
      let running = true;
      const produce = (async () => {
        const window = new Set<Promise<void>>();
        while (running && producer.isOpen) {
          const mine = ++seq;
          const p = producer
            .request({ op: 'produce', topic: TOPIC, value: encodePayload({ stream: 1, seq: mine, index: 0, count: 1 }, 24 + Math.floor(rng() * 3000)) })
            .then(
              (reply) => {
                if (reply.ok === true) {
                  // An offset acknowledged twice means the first acknowledgement was lost.
                  if (acked.has(reply.offset as number)) reused.push(`${reply.offset}: seq ${acked.get(reply.offset as number)} then ${mine}`);
                  acked.set(reply.offset as number, mine);
                }
                else refused++;
              },
              () => {},
            );
          const tracked = p.finally(() => window.delete(tracked));
          window.add(tracked);
          if (window.size >= 8) await Promise.race(window);
        }
        await Promise.all(window);
      })();
      const consume = (async () => {
        while (running && consumer.isOpen) {
          const reply = await consumer.request({ op: 'fetch', topic: TOPIC, group: GROUP, maxRecords: 50, maxWaitMs: 50 }).catch(() => null);
          if (!reply || reply.ok !== true) continue;
          const records = reply.records as { offset: number }[];
          if (records.length === 0) continue;
          delivered += records.length;
          const commit = await consumer.request({ op: 'commit', topic: TOPIC, group: GROUP, offset: records[records.length - 1].offset + 1 }).catch(() => null);
          if (commit?.ok === true) commitAcked = Math.max(commitAcked, commit.committed as number);
        }
      })();
      await sleep(100 + Math.floor(rng() * 400));

      // Pull the plug, then let the dead generation's requests fail (EIO) and close everything.
      disk.crash(mulberry32(Math.floor(rng() * 2 ** 31)));
      running = false;
      await Promise.all([produce, consume]);
      producer.close();
      consumer.close();
      await broker.stop().catch(() => {}); // its engine's close fails on the dead disk, as it should
      // The dead engine's LOCK file is real; the power cut would have ended its process.
      fs.rmSync(join(dataDir, 'LOCK'), { force: true });
    }
    console.log(`broker-power-loss figures: ${JSON.stringify({ cuts: CUTS, produced: seq, acked: acked.size, refused, delivered, commitAcked })}`);
    expect(reused).toEqual([]);
    expect(acked.size).toBeGreaterThan(0);
  }, 120_000);
});
