import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK_HOST } from './free-port.js';

/** Longest wait for a server to accept TCP connections after it was spawned. */
export const SERVER_START_MS_MAX = 15_000;
/** Longest wait for a server to exit after SIGTERM before it gets SIGKILL. */
export const SERVER_STOP_MS_MAX = 10_000;

/** A server process this benchmark started; `stop()` ends it by its PID. */
export interface SpawnedServer {
  name: string;
  host: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Everything the server wrote to stdout and stderr (kept to the last 64 KiB). */
  output(): string;
  stop(): Promise<void>;
}

const OUTPUT_BYTES_MAX = 64 * 1024;

/** Spawns `command args`, keeps its output, and returns once `ready` resolves (or throws with the output). */
export async function spawnServer(
  name: string,
  command: string,
  args: string[],
  port: number,
  ready: (output: () => string) => Promise<number>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SpawnedServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let text = '';
  const append = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    if (text.length > OUTPUT_BYTES_MAX) text = text.slice(-OUTPUT_BYTES_MAX);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
  if (child.pid === undefined) await spawnFailed;
  const pid = child.pid as number;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, 'SIGTERM');
    const timer = sleep(SERVER_STOP_MS_MAX).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timer])) === 'timeout') {
      process.kill(pid, 'SIGKILL');
      await exited;
    }
  };

  try {
    const boundPort = await Promise.race([
      ready(() => text),
      spawnFailed,
      exited.then((code) => {
        throw new Error(`${name} exited with ${code} before it was ready:\n${text}`);
      }),
      sleep(SERVER_START_MS_MAX).then(() => {
        throw new Error(`${name} not ready after ${SERVER_START_MS_MAX} ms:\n${text}`);
      }),
    ]);
    return { name, host: LOOPBACK_HOST, port: boundPort, pid, child, output: () => text, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Ties a server's temp directory to its life: removed if the server fails to start, and by `stop()`
 * after the process has ended.
 */
export async function withTempDir(dir: string, starting: Promise<SpawnedServer>): Promise<SpawnedServer> {
  let server: SpawnedServer;
  try {
    server = await starting;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = server.stop;
  return {
    ...server,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once a TCP connection to host:port succeeds; polls every 50 ms for at most `waitMs`. */
export async function waitForPort(port: number, host = LOOPBACK_HOST, waitMs = SERVER_START_MS_MAX): Promise<number> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return port;
    await sleep(50);
  }
  throw new Error(`nothing accepted connections on ${host}:${port} within ${waitMs} ms`);
}
