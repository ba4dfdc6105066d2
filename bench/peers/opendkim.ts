import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { listFiles } from './list-files.ts';

/**
 * The OpenDKIM peer: the C verifier in its `-t` test mode, which runs the milter's verification on
 * message files and exits, without an MTA or a socket. The binary is in Debian's `opendkim` (the
 * daemon) package, not in `opendkim-tools`, whose opendkim-testmsg only asks live DNS. Keys come
 * from a `TestPublicKeys` file written from the bench's keys JSON, so nothing touches DNS.
 *
 * Run as `processes` concurrent lanes (one per core by default); each lane runs one `opendkim -t`
 * after another over batches taken from a shared queue, so a lane that drew the 10 MB messages does
 * not leave the other core idle at the end (and `-t` takes the whole list as one argument, which
 * caps a batch anyway). Every invocation runs under /usr/bin/time; the peer's peak RSS is the sum
 * over lanes of each lane's largest process, since the lanes run side by side.
 *
 * Standalone, for a look at what OpenDKIM says: `node bench/peers/opendkim.ts DIR KEYS.json [N]`.
 */

export interface OpenDkimInstall {
  binary: string;
  /** first line of `opendkim -V`, e.g. "OpenDKIM Filter v2.11.0" */
  version: string;
  /** the Debian package version when dpkg knows it, e.g. "2.11.0~beta2-8+deb12u1" */
  packageVersion: string | null;
  algorithms: string[];
}

export interface OpenDkimChecked {
  messages: number;
  passes: number;
  failed: number;
  unsigned: number;
  /** Ed25519-only messages when this build lacks ed25519-sha256: not its failure, not a pass */
  unsupported: number;
  /** failure reason as OpenDKIM words it → messages */
  failures: Record<string, number>;
  /** lines of OpenDKIM output that are none of the above (should stay 0) */
  other: number;
}

export interface OpenDkimRun {
  seconds: number;
  peakRssMb: number;
  /** the largest single opendkim process */
  perProcessPeakRssMb: number;
  processes: number;
  invocations: number;
  checked: OpenDkimChecked;
}

/** Where the daemon package puts it; not on a normal user's PATH. */
const CANDIDATES = ['/usr/sbin/opendkim', '/usr/bin/opendkim', '/usr/local/sbin/opendkim'];

/**
 * Linux refuses any single argument over MAX_ARG_STRLEN (32 pages, 128 KiB) with E2BIG, whatever
 * ARG_MAX says, and `-t` takes the whole list as one comma-separated argument.
 */
export const MAX_LIST_BYTES = 100_000;

/** The install to use, or why there is none (one line). */
export function findOpenDkim(): OpenDkimInstall | string {
  const binary = CANDIDATES.find((path) => existsSync(path));
  if (!binary) return 'opendkim not installed (Debian: apt-get install opendkim)';
  const v = spawnSync(binary, ['-V'], { encoding: 'utf8' });
  if (v.status !== 0) return `${binary} -V failed (${v.status}): ${(v.stderr || v.stdout).trim().split('\n')[0] ?? ''}`;
  const text = `${v.stdout}${v.stderr}`;
  const algorithms = /Supported signing algorithms:\n((?:\s+\S+\n)+)/.exec(text)?.[1]?.split('\n').map((a) => a.trim()).filter(Boolean) ?? [];
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'opendkim'], { encoding: 'utf8' });
  return {
    binary,
    version: text.split('\n')[0]!.replace(/^opendkim:\s*/, '').trim(),
    packageVersion: dpkg.status === 0 && dpkg.stdout ? dpkg.stdout.trim() : null,
    algorithms,
  };
}

/**
 * Writes the TestPublicKeys file and the configuration into `work`; returns the configuration.
 * TestPublicKeys holds one `name record` line per key. Like the dkimpy peer, only the first TXT
 * record of a name is used.
 */
export function writeOpenDkimConfig(keysFile: string, work: string): string {
  const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string[]>;
  const keysPath = join(work, 'opendkim-test-keys.txt');
  writeFileSync(keysPath, Object.entries(keys).map(([name, txt]) => `${name.toLowerCase()} ${txt[0] ?? ''}\n`).join(''));
  const conf = join(work, 'opendkim.conf');
  writeFileSync(
    conf,
    [
      'Mode v',
      `TestPublicKeys ${keysPath}`,
      // the other peers' floor (minkey / minBitLength 1024); also OpenDKIM's default
      'MinimumKeyBits 1024',
      'Syslog no',
      '',
    ].join('\n'),
  );
  return conf;
}

/** Contiguous batches of about `target` bytes, each list short enough for one argument. */
export function batchFiles(relPaths: string[], sizes: number[], target: number): string[][] {
  const out: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  let listBytes = 0;
  relPaths.forEach((path, i) => {
    const pathBytes = Buffer.byteLength(path) + 1;
    if (batch.length > 0 && (bytes >= target || listBytes + pathBytes > MAX_LIST_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
      listBytes = 0;
    }
    batch.push(path);
    bytes += sizes[i]!;
    listBytes += pathBytes;
  });
  if (batch.length > 0) out.push(batch);
  return out;
}

/** One line a message, as `opendkim -t` prints them (the format strings are in the binary). */
const SUCCEEDED = /^[^:]+: (.+): verification \(s=[^,]*, d=[^,]*, \d+-bit key\) succeeded$/;
const FAILED = /^[^:]+: (.+): verification \(s=\S* d=[^,]*, \d+-bit key, [^)]*\) failed: (.*)$/;
const FAILED_NO_SIGNATURE = /^[^:]+: (.+): verification failed: (.*)$/;
const NOT_SIGNED = /^[^:]+: (.+): message not signed$/;

export function parseOpenDkimOutput(stdout: string, messages: number, ed25519: boolean): OpenDkimChecked {
  const checked: OpenDkimChecked = { messages, passes: 0, failed: 0, unsigned: 0, unsupported: 0, failures: {}, other: 0 };
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    if (SUCCEEDED.test(line)) {
      checked.passes++;
      continue;
    }
    if (NOT_SIGNED.test(line)) {
      checked.unsigned++;
      continue;
    }
    const failed = FAILED.exec(line) ?? FAILED_NO_SIGNATURE.exec(line);
    if (failed) {
      const reason = failed[2]!;
      // A build without Ed25519 reports an ed25519-sha256 signature as a bad a= tag.
      if (!ed25519 && /signature algorithm invalid/i.test(reason)) checked.unsupported++;
      else {
        checked.failed++;
        checked.failures[reason] = (checked.failures[reason] ?? 0) + 1;
      }
      continue;
    }
    checked.other++;
  }
  return checked;
}

interface Invocation {
  peakRssMb: number;
  stdout: string;
}

function runBatch(binary: string, conf: string, dir: string, list: string[]): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    const hasTime = existsSync('/usr/bin/time');
    const args = ['-x', conf, '-t', list.join(',')];
    // cwd is the dump, so the list holds short relative paths
    const child = hasTime
      ? spawn('/usr/bin/time', ['-f', '__TIME__ %e %M', binary, ...args], { cwd: dir })
      : spawn(binary, args, { cwd: dir });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (status !== 0) {
        reject(new Error(`${binary} -x ${conf} -t <${list.length} files> failed (${status}): ${stderr.slice(-2000)}`));
        return;
      }
      const time = /__TIME__ ([\d.]+) (\d+)/.exec(stderr);
      resolve({ peakRssMb: time ? Number(time[2]) / 1024 : Number.NaN, stdout: Buffer.concat(out).toString('utf8') });
    });
  });
}

export async function runOpenDkim(install: OpenDkimInstall, dir: string, keysFile: string, work: string, processes = availableParallelism()): Promise<OpenDkimRun> {
  const conf = writeOpenDkimConfig(keysFile, work);
  const files = listFiles(dir);
  const relPaths = files.map((f) => relative(dir, f));
  // -t splits its argument on commas and has no escape for them.
  const withComma = relPaths.find((p) => p.includes(','));
  if (withComma) throw new Error(`opendkim -t cannot be given a file whose path holds a comma: ${withComma}`);
  const sizes = files.map((f) => statSync(f).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  // The lanes can end apart by up to one batch, and each batch pays ~10 ms of start-up: about 16
  // batches a lane keeps both small on large dumps, the 4 MB floor keeps start-up from dominating
  // small ones, and the cap gives every lane work even on a tiny dump.
  const target = Math.min(Math.max(4e6, Math.ceil(total / (processes * 16))), Math.ceil(total / processes));
  const queue = batchFiles(relPaths, sizes, Math.max(1, target));
  const invocations = queue.length;
  const lanePeaks = new Array<number>(processes).fill(0);
  const outputs: string[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    lanePeaks.map(async (_, lane) => {
      for (let list = queue.shift(); list; list = queue.shift()) {
        const r = await runBatch(install.binary, conf, dir, list);
        lanePeaks[lane] = Math.max(lanePeaks[lane]!, r.peakRssMb);
        outputs.push(r.stdout);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    seconds,
    peakRssMb: lanePeaks.reduce((a, b) => a + b, 0),
    perProcessPeakRssMb: Math.max(...lanePeaks),
    processes,
    invocations,
    checked: parseOpenDkimOutput(outputs.join(''), files.length, install.algorithms.includes('ed25519-sha256')),
  };
}

if (import.meta.main) {
  const [dir, keysFile, processes] = process.argv.slice(2);
  if (!dir || !keysFile) throw new Error('usage: opendkim.ts DIR KEYS.json [PROCESSES]');
  const install = findOpenDkim();
  if (typeof install === 'string') {
    process.stderr.write(`${install}\n`);
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'leakcheck-opendkim-'));
  try {
    const run = await runOpenDkim(install, dir, keysFile, work, processes ? Number(processes) : undefined);
    process.stdout.write(`${JSON.stringify({ version: install.version, ...run }, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
