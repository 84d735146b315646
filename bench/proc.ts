/** Readings of other processes on this machine (Linux /proc), for the bench sections. */
import fs from 'node:fs';

/** CPU seconds (user + system) used so far, from a `stat` file of /proc. */
function statCpuSeconds(file: string): number {
  const fields = fs.readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds a process has used so far, all its threads. */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds the main thread of a Node process has used so far: the JavaScript, and on SQLite every statement.
 * The rest of the process's CPU is its other threads' (V8's garbage collection and compiles, libuv's pool, such
 * as WebCrypto), which a CPU profile of the main thread does not show.
 */
export function mainThreadCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

/** Peak resident set size of a process, in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Bytes a process has handed to write system calls so far (files and sockets alike). */
export function processWrittenBytes(pid: number): number {
  return Number(/^wchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

/** The whole machine's CPU time so far, busy and in all (every core), in clock ticks: the first line of /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const ticks = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, n) => sum + n, 0);
  // idle and iowait
  return { busy: total - ticks[3]! - ticks[4]!, total };
}
