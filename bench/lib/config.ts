import assert from 'node:assert';

/** Longest run accepted for one case, in seconds; bounds every load loop in time. */
export const DURATION_S_MAX = 3600;
/** Most producer or consumer processes one case may spawn (2 vCPUs here; more only measures scheduling). */
export const THREADS_MAX = 64;
/** Largest payload accepted, in bytes (the broker's default frame cap is 16 MiB). */
export const PAYLOAD_BYTES_MAX = 8 * 1024 * 1024;
/** Smallest payload: the first 8 bytes carry the send time for end-to-end latency. */
export const PAYLOAD_BYTES_MIN = 8;
/** Most sends one producer keeps in flight. */
export const WINDOW_MAX = 65_536;

/** Knobs shared by every scenario, read from the environment once at start. */
export interface BenchConfig {
  /** Broker fsync mode: `sync-each`, `<n>ms` or `none` (FSYNC). */
  fsync: string;
  /** Producer (and consumer) process counts to run, ascending (THREADS: `4` or `1-8`). */
  threads: number[];
  /** Seconds each measured case runs (WALRUS_DURATION). */
  durationS: number;
  /** Sends in flight per producer process; our SDK auto-batches them (WALRUS_BATCH_SIZE). */
  window: number;
  /** Bytes per message (PAYLOAD). */
  payloadBytes: number;
  /** Existing broker to target instead of starting one (WALRUS_BROKER=host:port). */
  broker: { host: string; port: number } | undefined;
  /** PID of that existing broker, for CPU and RSS (WALRUS_BROKER_PID); optional. */
  brokerPid: number | undefined;
  /** Fixed total send rate in msgs/s for latency cases (RATE); 0 = as fast as acks allow. */
  rate: number;
  /** Messages written before a consume case drains them (WALRUS_PREFILL). */
  prefill: number;
  /** Record a `--cpu-prof` profile of the broker we start (WALRUS_PROFILE=1). */
  profile: boolean;
  /** How workers talk to our broker (WALRUS_CLIENT): `sdk` (src/client) or `raw` (protocol frames). */
  client: 'sdk' | 'raw';
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected an integer in [${min}, ${max}]`);
  }
  return value;
}

/** Parses `4` into [4] and `1-8` into [1, 2, 4, 8] (powers of two, plus the upper end). */
export function parseThreads(raw: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(raw.trim());
  if (range === null) {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > THREADS_MAX) {
      throw new Error(`THREADS=${raw}: expected a count or a range like 1-8 (at most ${THREADS_MAX})`);
    }
    return [value];
  }
  const low = Number(range[1]);
  const high = Number(range[2]);
  if (low < 1 || high < low || high > THREADS_MAX) throw new Error(`THREADS=${raw}: bad range`);
  const counts: number[] = [];
  for (let n = low; n < high; n *= 2) counts.push(n);
  counts.push(high);
  return counts;
}

/** `sync-each`, `none`, or `<n>ms` with 1 ≤ n ≤ 60,000. */
export function parseFsync(raw: string): string {
  if (raw === 'sync-each' || raw === 'none') return raw;
  const ms = /^(\d+)ms$/.exec(raw);
  if (ms !== null && Number(ms[1]) >= 1 && Number(ms[1]) <= 60_000) return raw;
  throw new Error(`FSYNC=${raw}: expected sync-each, <n>ms or none`);
}

function parseClient(raw: string | undefined): BenchConfig['client'] {
  if (raw === undefined || raw === '' || raw === 'sdk') return 'sdk';
  if (raw === 'raw') return 'raw';
  throw new Error(`WALRUS_CLIENT=${raw}: expected sdk or raw`);
}

function parseBroker(raw: string | undefined): BenchConfig['broker'] {
  if (raw === undefined || raw === '') return undefined;
  const match = /^([^:]+):(\d+)$/.exec(raw);
  if (match === null) throw new Error(`WALRUS_BROKER=${raw}: expected host:port`);
  const host = match[1] as string;
  // Loopback only: the benchmark is a load generator and must never aim at another machine.
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/.test(host)) {
    throw new Error(`WALRUS_BROKER=${raw}: only loopback addresses (127.0.0.0/8, localhost, ::1) are allowed`);
  }
  return { host: host.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** Reads every knob; `defaults` lets a scenario pick its own defaults (e.g. smoke: 2 s). */
export function readConfig(defaults: Partial<Pick<BenchConfig, 'durationS' | 'fsync' | 'prefill' | 'rate'>> & { threads?: string } = {}): BenchConfig {
  const config: BenchConfig = {
    fsync: parseFsync(process.env.FSYNC || defaults.fsync || 'sync-each'),
    threads: parseThreads(process.env.THREADS || defaults.threads || '1'),
    durationS: integer('WALRUS_DURATION', defaults.durationS ?? 10, 1, DURATION_S_MAX),
    window: integer('WALRUS_BATCH_SIZE', 256, 1, WINDOW_MAX),
    payloadBytes: integer('PAYLOAD', 1024, PAYLOAD_BYTES_MIN, PAYLOAD_BYTES_MAX),
    broker: parseBroker(process.env.WALRUS_BROKER),
    brokerPid: process.env.WALRUS_BROKER_PID ? integer('WALRUS_BROKER_PID', 0, 1, 2 ** 22) : undefined,
    rate: integer('RATE', defaults.rate ?? 0, 0, 10_000_000),
    prefill: integer('WALRUS_PREFILL', defaults.prefill ?? 200_000, 1, 100_000_000),
    profile: process.env.WALRUS_PROFILE === '1',
    client: parseClient(process.env.WALRUS_CLIENT),
  };
  assert(config.threads.length > 0);
  return config;
}
