/**
 * Runs the `walrus` CLI from source (through tsx, so a stale dist cannot hide a change) as a child
 * process, feeding stdin and collecting stdout, stderr and the exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = ['--import', 'tsx', 'src/cli/walrus.ts'];

/** What a finished CLI run left behind. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running CLI child; `done` settles when it exits. */
export interface CliRun {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  /** Stdout received so far. */
  stdoutSoFar(): string;
}

/** Starts `walrus ...args` with WALRUS_BROKER/WALRUS_TOKEN/WALRUS_TLS_CA cleared unless `env` sets them. */
export function startCli(args: readonly string[], options: { stdin?: string | Buffer; env?: Record<string, string> } = {}): CliRun {
  const child = spawn(process.execPath, [...ENTRY, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, WALRUS_BROKER: '', WALRUS_TOKEN: '', WALRUS_TLS_CA: '', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(options.stdin ?? '');
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, stdoutSoFar: () => stdout };
}

/** Runs `walrus ...args` to completion. */
export function runCli(args: readonly string[], options: { stdin?: string | Buffer; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Parses the stdout of a `--json` run: one document. */
export function json<T = any>(result: CliResult): T {
  return JSON.parse(result.stdout) as T;
}

/** Parses the stdout of `tail --json`: one JSON object per line. */
export function jsonLines<T = any>(result: CliResult): T[] {
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
