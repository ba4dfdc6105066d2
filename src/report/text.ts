import { Chalk, type ChalkInstance } from 'chalk';
import type { DumpSummary } from '../store/queries.ts';
import { REASONS, type Verdict } from '../verdict/reasons.ts';
import { terminalSafe } from './terminal-safe.ts';

/** Colour only for a terminal that wants it: NO_COLOR (any value) and pipes get plain text. */
export function makeChalk(stream: NodeJS.WriteStream): ChalkInstance {
  const noColor = process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '';
  const forced = process.env['FORCE_COLOR'] !== undefined && process.env['FORCE_COLOR'] !== '0';
  return new Chalk({ level: noColor ? 0 : forced || stream.isTTY ? 1 : 0 });
}

const MEANING: Record<Verdict, string> = {
  verified: 'cryptographically proven: a valid signature with a strong key covers what the reader sees',
  unverifiable: 'no proof either way (unsigned, key gone, key too weak). Not the same as fake',
  suspicious: 'evidence of tampering or fabrication',
};

export function renderTextSummary(summary: DumpSummary, c: ChalkInstance): string {
  const colour: Record<Verdict, (s: string) => string> = { verified: c.green, unverifiable: c.yellow, suspicious: c.red.bold };
  const lines: string[] = [];
  lines.push(c.bold(`leakcheck: ${summary.messages} message(s) in ${summary.files.withMessages} file(s)`));
  if (summary.run) lines.push(c.dim(`dump: ${terminalSafe(summary.run.dumpRoot)}   run #${summary.run.id} ${summary.run.status}`));
  lines.push('');
  for (const verdict of ['verified', 'unverifiable', 'suspicious'] as const) {
    lines.push(`  ${colour[verdict](verdict.padEnd(13))} ${String(summary.verdicts[verdict]).padStart(7)}   ${c.dim(MEANING[verdict])}`);
  }
  const skipped = summary.files.skippedByReason.map((r) => `${r.count} ${r.reason}`).join(', ');
  lines.push(`  ${'not email'.padEnd(13)} ${String(summary.files.skipped).padStart(7)}   ${c.dim(skipped ? `files skipped: ${skipped}` : 'files skipped')}`);
  if (summary.files.errors) lines.push(`  ${c.red('read errors'.padEnd(13))} ${String(summary.files.errors).padStart(7)}   ${c.dim('files that could not be read completely')}`);
  if (summary.topReasons.length) {
    lines.push('', c.bold('Most frequent reasons'));
    for (const r of summary.topReasons.slice(0, 8)) {
      const text = (REASONS as Record<string, { text: string }>)[r.code]?.text ?? '';
      lines.push(`  ${String(r.count).padStart(7)}  ${r.code.padEnd(32)} ${c.dim(terminalSafe(text, 90))}`);
    }
  }
  if (summary.suspicious.length) {
    lines.push('', c.red.bold(`Suspicious messages (${summary.suspicious.length})`));
    for (const s of summary.suspicious.slice(0, 50)) {
      const where = s.index > 0 || /\.mbox$|mbox/i.test(s.path) ? `${s.path}#${s.index}` : s.path;
      lines.push(`  ${c.red('!')} ${terminalSafe(where, 80)}  ${c.dim(terminalSafe(s.subject, 60))}`);
      lines.push(`      ${s.reasons.join(', ')}: ${terminalSafe(s.explanation, 300)}`);
    }
    if (summary.suspicious.length > 50) lines.push(c.dim(`  … and ${summary.suspicious.length - 50} more: leakcheck export --verdict suspicious`));
  }
  lines.push('', c.dim('Unverifiable means "cannot be proven either way", not "fake".'));
  return `${lines.join('\n')}\n`;
}
