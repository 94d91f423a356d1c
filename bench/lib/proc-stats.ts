import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times (`getconf CLK_TCK`; 100 on every Linux we run). */
const CLOCK_TICKS_PER_S = 100;
/** Page size for the RSS field of /proc/<pid>/stat (`getconf PAGESIZE`). */
const PAGE_BYTES = 4096;
/** How often the sampler reads /proc; RSS peaks between samples are missed. */
export const SAMPLE_INTERVAL_MS = 250;

interface ProcSample {
  cpuTicks: number;
  rssBytes: number;
}

/** utime+stime and RSS of `pid` from /proc/<pid>/stat; undefined once the process is gone. */
function readProcStat(pid: number): ProcSample | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces; every field we need comes after its ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  const rssPages = Number(fields[21]); // field 24
  return { cpuTicks: utime + stime, rssBytes: rssPages * PAGE_BYTES };
}

/** CPU (percent of one core, so 150 = 1.5 cores) and peak RSS of a process over a window. */
export interface ProcUsage {
  cpuPercent: number;
  rssPeakBytes: number;
}

/**
 * Samples a process (the broker or a peer server) from `start()` to `stop()`. Works on any PID
 * on this machine, so peers and our broker are measured the same way.
 */
export class ProcSampler {
  private readonly pid: number;
  private first: ProcSample | undefined;
  private firstMs = 0;
  private last: ProcSample | undefined;
  private lastMs = 0;
  private rssPeakBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(pid: number) {
    this.pid = pid;
  }

  start(): void {
    this.first = readProcStat(this.pid);
    this.firstMs = performance.now();
    this.rssPeakBytes = this.first?.rssBytes ?? 0;
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): ProcUsage | undefined {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    if (this.first === undefined || this.last === undefined) return undefined;
    const elapsedS = (this.lastMs - this.firstMs) / 1000;
    const cpuS = (this.last.cpuTicks - this.first.cpuTicks) / CLOCK_TICKS_PER_S;
    return { cpuPercent: elapsedS > 0 ? (cpuS / elapsedS) * 100 : 0, rssPeakBytes: this.rssPeakBytes };
  }

  private sample(): void {
    const sample = readProcStat(this.pid);
    if (sample === undefined) return;
    this.last = sample;
    this.lastMs = performance.now();
    if (sample.rssBytes > this.rssPeakBytes) this.rssPeakBytes = sample.rssBytes;
  }
}
