import cliProgress from 'cli-progress';
import type { VerifyProgress } from '../pipeline/run-verify.ts';

export interface ProgressDisplay {
  update(progress: VerifyProgress): void;
  stop(): void;
}

/**
 * Progress for long runs, on stderr so that stdout stays machine-readable: a bar with files,
 * messages per second and ETA on a terminal (cli-progress); an occasional plain line otherwise,
 * so that CI logs show the run is alive without filling up.
 */
export function createProgress(options: { quiet: boolean; stream?: NodeJS.WriteStream; totalFiles: () => number | null }): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  const rate = (messages: number): string => (messages / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(0);
  // A terminal that says it cannot move the cursor (TERM=dumb: an editor's shell, some CI
  // consoles) gets the plain lines too: the bar's escape codes would be printed as text (red team Z, Z-13).
  if (!stream.isTTY || process.env['TERM'] === 'dumb') {
    let last = started;
    let latest: VerifyProgress | null = null;
    const line = (p: VerifyProgress): void => {
      const total = options.totalFiles();
      stream.write(`leakcheck: ${p.files}${total ? `/${total}` : ''} files, ${p.messages} messages, ${rate(p.messages)} msg/s\n`);
    };
    return {
      update(p) {
        latest = p;
        if (Date.now() - last < 10_000) return;
        last = Date.now();
        line(p);
      },
      stop() {
        if (latest && Date.now() - started >= 10_000) line(latest);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'verifying [{bar}] {value}/{total} files | {messages} messages | {rate} msg/s | ETA {eta_formatted}',
      etaBuffer: 200,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started_bar = false;
  return {
    update(p) {
      const total = options.totalFiles() ?? p.files;
      if (!started_bar) {
        bar.start(Math.max(total, p.files), p.files, { messages: p.messages, rate: rate(p.messages) });
        started_bar = true;
      }
      bar.setTotal(Math.max(total, p.files));
      bar.update(p.files, { messages: p.messages, rate: rate(p.messages) });
    },
    stop() {
      if (started_bar) bar.stop();
    },
  };
}
