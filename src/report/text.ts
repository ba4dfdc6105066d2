import { Chalk, type ChalkInstance } from 'chalk';
import { changesRecorded, hasCustodyToShow, type CustodyChange, type CustodySummary, type DumpSummary } from '../store/queries.ts';
import { REASONS, type Verdict } from '../verdict/reasons.ts';
import { changeCounts } from './change-counts.ts';
import { readNotes } from './read-notes.ts';
import { shownText } from './shown-from.ts';
import { shownPath, terminalSafe, terminalSafeUncut } from './terminal-safe.ts';
import { labelQuoted, messageLabel } from './message-label.ts';
import { runStateNote, shownRunStatus } from './run-state-note.ts';

/** Colour only for a terminal that wants it: NO_COLOR (any value) and pipes get plain text. */
export function makeChalk(stream: NodeJS.WriteStream): ChalkInstance {
  const noColor = process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '';
  const forced = process.env['FORCE_COLOR'] !== undefined && process.env['FORCE_COLOR'] !== '0';
  // FORCE_COLOR, which CI systems set for their logs, colours stdout: never a file written with
  // --out, a report that would then hold escape codes (red team Z, Z-13)
  const toFile = stream !== (process.stdout as NodeJS.WriteStream) && !stream.isTTY;
  // (TERM=dumb: a terminal that shows escape codes as text)
  const colourTerminal = stream.isTTY === true && process.env['TERM'] !== 'dumb';
  return new Chalk({ level: noColor || toFile ? 0 : forced || colourTerminal ? 1 : 0 });
}

/**
 * What "verified" proves, in every summary: the From field and the whole body. It said the
 * signature "covers what the reader sees", which a verified message with an unsigned Subject or a
 * display name that reads as another address belies (red team K, K-07): its warnings say so.
 */
export const VERIFIED_MEANING =
  'cryptographically proven: a valid signature by the From domain, with a strong key, covers the From header and the whole body (a warning says what else it leaves unproven)';

const MEANING: Record<Verdict, string> = {
  verified: VERIFIED_MEANING,
  unverifiable: 'no proof either way (unsigned, key gone, key too weak, signed only by a third party). Not the same as fake',
  suspicious: 'evidence of tampering or fabrication',
};

export function renderTextSummary(summary: DumpSummary, c: ChalkInstance): string {
  const colour: Record<Verdict, (s: string) => string> = { verified: c.green, unverifiable: c.yellow, suspicious: c.red.bold };
  const lines: string[] = [];
  lines.push(c.bold(`leakcheck: ${summary.messages} message(s) in ${summary.files.withMessages} file(s)`));
  if (summary.run) lines.push(c.dim(`dump: ${terminalSafe(summary.run.dumpRoot)}   run #${summary.run.id} ${shownRunStatus(summary.run.status, summary.runState)}`));
  const note = summary.runState && runStateNote(summary.runState);
  if (note) lines.push(c.red.bold(note));
  lines.push('');
  for (const verdict of ['verified', 'unverifiable', 'suspicious'] as const) {
    lines.push(`  ${colour[verdict](verdict.padEnd(13))} ${String(summary.verdicts[verdict]).padStart(7)}   ${c.dim(MEANING[verdict])}`);
  }
  const skipped = summary.files.skippedByReason.map((r) => `${r.count} ${r.reason}`).join(', ');
  lines.push(`  ${'not email'.padEnd(13)} ${String(summary.files.skipped).padStart(7)}   ${c.dim(skipped ? `files skipped: ${skipped}` : 'files skipped')}`);
  const { partsNotRead, otherNotes } = readNotes(summary.files);
  if (partsNotRead.count) {
    lines.push(`  ${c.yellow('not all read'.padEnd(13))} ${String(partsNotRead.count).padStart(7)}   ${c.dim(`archives with parts not read (${partsNotRead.which()}): see their rows in \`leakcheck manifest\``)}`);
  }
  if (otherNotes.count) {
    lines.push(`  ${c.yellow('read, noted'.padEnd(13))} ${String(otherNotes.count).padStart(7)}   ${c.dim(`files read whole, with a note on how (${otherNotes.which()}):`)}`);
    for (const f of otherNotes.files.slice(0, UNREAD_SHOWN)) lines.push(`      ${shownPath(f.path, 80)}  ${c.dim(terminalSafe(`${f.reason}${f.detail ? `: ${f.detail}` : ''}`, 300))}`);
    if (otherNotes.count > UNREAD_SHOWN) lines.push(c.dim(`      … and ${otherNotes.count - UNREAD_SHOWN} more: leakcheck manifest lists every file`));
  }
  if (summary.files.errors) {
    const why = summary.files.errorsByReason.map((r) => `${r.count} ${r.reason}`).join(', ');
    lines.push(`  ${c.red('read errors'.padEnd(13))} ${String(summary.files.errors).padStart(7)}   ${c.dim(`files that could not be read completely, so not verified: ${why}`)}`);
    for (const f of summary.files.unread.slice(0, UNREAD_SHOWN)) {
      lines.push(`      ${shownPath(f.path, 80)}  ${c.dim(terminalSafe(`${f.reason}${f.detail ? `: ${f.detail}` : ''}`, 120))}`);
    }
    if (summary.files.errors > UNREAD_SHOWN) lines.push(c.dim(`      … and ${summary.files.errors - UNREAD_SHOWN} more: leakcheck manifest lists every file`));
  }
  lines.push(...custodyLines(summary.custody, c));
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
      // (padding counted, as in every report: a run of blanks or invisible characters cut the rest from view)
      lines.push(`  ${c.red('!')} ${shownPath(messageLabel(s), 80, labelQuoted(s))}  ${c.dim(shownText(s.subject, 60, terminalSafeUncut))}`);
      lines.push(`      ${s.reasons.join(', ')}: ${terminalSafe(s.explanation, 300)}`);
    }
    if (summary.suspicious.length > 50) lines.push(c.dim(`  … and ${summary.suspicious.length - 50} more: leakcheck export --verdict suspicious`));
  }
  lines.push(...verifiedWithWarningsLines(summary.verifiedWithWarnings, c));
  lines.push('', c.dim('Unverifiable means "cannot be proven either way", not "fake".'));
  return `${lines.join('\n')}\n`;
}

/** How many verified messages with warnings the terminal lists, and how many warnings of each. */
const WARNED_SHOWN = 50;
const WARNINGS_SHOWN = 3;

/** Verified messages whose findings qualify the proof: the reader must see the caveat beside the verdict. */
function verifiedWithWarningsLines(warned: DumpSummary['verifiedWithWarnings'], c: ChalkInstance): string[] {
  if (!warned.total) return [];
  const lines = ['', c.yellow.bold(`Verified, with warnings (${warned.total})`), c.dim('  proven, but a warning says what the signature leaves unproven: read it before relying on the message')];
  for (const m of warned.messages.slice(0, WARNED_SHOWN)) {
    lines.push(`  ${c.yellow('~')} ${shownPath(messageLabel(m), 80, labelQuoted(m))}  ${c.dim(shownText(m.subject, 60, terminalSafeUncut))}`);
    for (const w of m.warnings.slice(0, WARNINGS_SHOWN)) lines.push(`      ${terminalSafe(w.code, 64)}: ${terminalSafe(w.text, 300)}`);
    if (m.warnings.length > WARNINGS_SHOWN) lines.push(c.dim(`      … and ${m.warnings.length - WARNINGS_SHOWN} more: leakcheck show`));
  }
  const more = warned.total - Math.min(warned.messages.length, WARNED_SHOWN);
  if (more > 0) lines.push(c.dim(`  … and ${more} more: leakcheck export --verdict verified (the findings column)`));
  return lines;
}

/** How many of the files not read completely the terminal lists (the reports list more). */
const UNREAD_SHOWN = 20;

/** How many of the latest changes the terminal lists (the JSON summary and the reports list more). */
const CHANGES_SHOWN = 10;

/**
 * The evidence found different from what an earlier run recorded. Said up front: a verdict is
 * about the bytes analysed, and a reader must know if those are no longer the bytes on disk.
 */
function custodyLines(custody: CustodySummary, c: ChalkInstance): string[] {
  const lines: string[] = [];
  const run = custody.lastRun;
  if (!hasCustodyToShow(custody)) return lines;
  lines.push('', c.bold('Chain of custody'));
  if (run?.rehash) {
    const found = run.changed + run.removed;
    lines.push(
      `  run #${run.id} re-read every file (--rehash): ${run.confirmed} matched the sha256 on record` +
        (found ? `, ${c.red(`${run.changed} changed, ${run.removed} removed`)}` : ', none changed or removed') +
        (run.added ? `; ${c.red(`${run.added} added`)}` : '') +
        (run.unconfirmed ? `; ${c.red(`${run.unconfirmed} could not be read (unconfirmed)`)}` : ''),
    );
  }
  const recorded = changesRecorded(custody);
  if (recorded) {
    lines.push(`  ${c.red(changeCounts(custody))} recorded across runs, newest first:`);
    for (const change of custody.recent.slice(0, CHANGES_SHOWN)) lines.push(`    ${describeChange(change)}`);
    const more = recorded - Math.min(custody.recent.length, CHANGES_SHOWN);
    if (more > 0) lines.push(c.dim(`    … and ${more} more: leakcheck custody`));
  }
  return lines;
}

const shortHash = (sha256: string | null): string => (sha256 ? `${sha256.slice(0, 12)}…` : '?');

export function describeChange(change: CustodyChange): string {
  const where = `${change.change.padEnd(8)} ${shownPath(change.path, 80)}  (run #${change.runId})`;
  if (change.change === 'unconfirmed') {
    // (the size and mtime as recorded, or unknown: not even lstat could look at it)
    const seen = change.new?.size === null || change.new?.size === undefined ? 'size unknown' : `${change.new.size} bytes, same size and mtime`;
    return `${where}  ${seen}, could not be read (${terminalSafe(change.detail ?? 'no reason recorded', 80)}): sha256 ${shortHash(change.old?.sha256 ?? null)} not confirmed, its analysis kept`;
  }
  if (!change.new) return `${where}  was ${change.old?.size ?? '?'} bytes, sha256 ${shortHash(change.old?.sha256 ?? null)}`;
  if (!change.old) return `${where}  ${change.new.size ?? '?'} bytes, sha256 ${shortHash(change.new.sha256)}, not in the dump when a walk of it completed`;
  const size = change.old.size === change.new.size ? `${change.new.size ?? '?'} bytes, same size` : `${change.old.size ?? '?'} → ${change.new.size ?? '?'} bytes`;
  return `${where}  ${size}, sha256 ${shortHash(change.old.sha256)} → ${shortHash(change.new.sha256)}`;
}
