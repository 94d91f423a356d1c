/**
 * The systems under test, started and stopped the same way: our broker (or an existing one named by
 * WALRUS_BROKER), Redis with AOF `always` / `everysec`, and NATS JetStream. Each states what an ack
 * means, because a throughput figure without its durability is meaningless.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK_HOST } from '../lib/free-port.js';
import { OUT_DIR } from '../lib/report.js';
import { SERVER_START_MS_MAX, spawnServer, withTempDir } from '../lib/spawned-server.js';
import { startNats } from '../peers/nats-server.js';
import { RedisFsync, startRedis } from '../peers/redis-server.js';
import { TargetKind, type TargetSpec } from '../targets/types.js';
import type { BenchConfig } from '../lib/config.js';

/** A running system: where to send load, which PID to sample, and how to stop it. */
export interface SystemUnderTest {
  /** e.g. `walrus sync-each`, `redis always`, `jetstream`. */
  label: string;
  kind: TargetKind;
  host: string;
  port: number;
  pid: number | undefined;
  /** What a produce ack means. */
  produceDurability: string;
  /** What a consume commit / ack means. */
  consumeDurability: string;
  stop(): Promise<void>;
}

/** A target spec for one case on `system`; topic names are unique per case. */
export function targetOf(system: SystemUnderTest, topic: string): TargetSpec {
  return { kind: system.kind, host: system.host, port: system.port, topic, group: 'bench' };
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BROKER_CLI = join(REPO_ROOT, 'dist/broker/cli.js');
/** Where the broker's `--cpu-prof` profiles go (WALRUS_PROFILE=1). */
export const BROKER_PROFILE_DIR = join(OUT_DIR, 'profiles');

/**
 * What an ack means for each broker fsync mode. Commits: the daemon's default consistency is
 * `strict`, under which the engine fdatasyncs every cursor write before the commit's reply, whatever
 * the fsync mode (src/engine/write-pipeline.ts `cycle`).
 */
export function walrusDurability(fsync: string): { produce: string; consume: string } {
  const consume = 'commit fdatasync’d before its reply (strict consistency, every fsync mode)';
  if (fsync === 'sync-each') return { produce: 'on disk: ack after fdatasync (group commit)', consume };
  if (fsync === 'none') return { produce: 'in page cache: never fsync’d by the broker', consume };
  return { produce: `in page cache: fdatasync every ${fsync} (≤ ${fsync} lost on power loss)`, consume };
}

/** Finds the bound port in the broker's JSON log lines (`"port": N` anywhere in a line). */
function portFromLog(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const found = findPort(record);
      if (found !== undefined) return found;
    } catch {
      // A partial line: wait for more output.
    }
  }
  return undefined;
}

function findPort(value: unknown, depth = 0): number | undefined {
  if (depth > 3 || value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'port' && typeof inner === 'number' && inner > 0) return inner;
    const nested = findPort(inner, depth + 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/**
 * Our broker with `fsync`: the one at WALRUS_BROKER if set (never stopped by us), otherwise a fresh
 * daemon from dist/ on a free loopback port and a temp data dir, stopped by its PID (SIGTERM).
 */
export async function startWalrus(fsync: string, config: BenchConfig): Promise<SystemUnderTest> {
  const durability = walrusDurability(fsync);
  const kind = config.client === 'raw' ? TargetKind.WalrusRaw : TargetKind.Walrus;
  const via = config.client === 'raw' ? ' (raw frames)' : '';
  if (config.broker !== undefined) {
    return {
      label: `walrus ${fsync}${via} (external)`,
      kind,
      host: config.broker.host,
      port: config.broker.port,
      pid: config.brokerPid,
      produceDurability: `${durability.produce} — as FSYNC says; the external broker's own flag decides`,
      consumeDurability: durability.consume,
      stop: async () => undefined,
    };
  }
  if (!existsSync(BROKER_CLI)) throw new Error(`${BROKER_CLI} is missing: run \`make build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'walrus-bench-broker-'));
  const nodeArgs: string[] = [];
  if (config.profile) {
    mkdirSync(BROKER_PROFILE_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', BROKER_PROFILE_DIR, '--cpu-prof-name', `broker-${fsync}-${Date.now()}.cpuprofile`);
  }
  const args = [
    ...nodeArgs, BROKER_CLI, '--host', LOOPBACK_HOST, '--port', '0', '--data-dir', dataDir, '--fsync', fsync, '--log-level', 'info',
  ];
  // The daemon reads WALRUS_* variables as flag fallbacks (yargs env prefix); the benchmark's own
  // knobs share that prefix, so none of them may reach it. Flags say everything it needs.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('WALRUS_')) env[key] = value;
  const server = await withTempDir(dataDir, spawnServer(`walrus-broker (${fsync})`, process.execPath, args, 0, async (output) => {
    const deadline = Date.now() + SERVER_START_MS_MAX;
    while (Date.now() < deadline) {
      const port = portFromLog(output());
      if (port !== undefined) return port;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no JSON log line with the bound port');
  }, env));
  return {
    label: `walrus ${fsync}${via}`,
    kind,
    host: server.host,
    port: server.port,
    pid: server.pid,
    produceDurability: durability.produce,
    consumeDurability: durability.consume,
    stop: () => server.stop(),
  };
}

/** Redis with AOF and the given `appendfsync`. */
export async function startRedisSystem(fsync: RedisFsync): Promise<SystemUnderTest> {
  const server = await startRedis(fsync);
  const always = fsync === RedisFsync.Always;
  return {
    label: `redis ${fsync}`,
    kind: TargetKind.Redis,
    host: server.host,
    port: server.port,
    pid: server.pid,
    produceDurability: always
      ? 'on disk: AOF fdatasync before the reply (group commit per event-loop turn)'
      : 'in page cache: AOF fdatasync once a second (≤ 1 s lost on power loss)',
    consumeDurability: always ? 'XACK in the AOF, fdatasync’d before the reply' : 'XACK in the AOF, fdatasync once a second',
    stop: server.stop,
  };
}

/** NATS JetStream 2.9 with file storage. */
export async function startJetStream(): Promise<SystemUnderTest> {
  const server = await startNats();
  return {
    label: 'jetstream',
    kind: TargetKind.JetStream,
    host: server.host,
    port: server.port,
    pid: server.pid,
    produceDurability: 'in page cache: file store written, not fsync’d (2.9 syncs every 2 min)',
    consumeDurability: 'ack written to the file store, not fsync’d',
    stop: server.stop,
  };
}
