import { changeCounts, changeTally } from './change-counts.ts';
import { changesRecorded, hasCustodyToShow, type CustodySummary, type DumpSummary } from '../store/queries.ts';
import { readNotes } from './read-notes.ts';
import { isRedFlag, type DocumentCounts, type DocumentRecord } from '../store/documents-pass.ts';
import { REASONS } from '../verdict/reasons.ts';
import { pathShownBy, terminalSafe } from './terminal-safe.ts';
import { shownFrom, shownText } from './shown-from.ts';
import { conflictDifference, conflictSubject } from './coverage-note.ts';
import { labelQuoted, messageLabel } from './message-label.ts';
import { VERIFIED_MEANING } from './text.ts';
import { runStateNote, shownRunStatus } from './run-state-note.ts';

/**
 * Where a GFM extended autolink can start: an address's "@", a scheme's ":" (https://, mailto:),
 * the "." of "www.". Escaping them as entities is not enough: GitHub's cmark-gfm and comrak join
 * the text around an entity before they look for addresses, so `ceo&#64;bank&#46;example` still
 * became a mailto link there. An empty HTML comment is not text, so the renderer reads the text
 * on either side of it apart, and no link can span it; it renders as nothing.
 */
const AUTOLINK_START = /@|:(?=\S)|(?<=www)\./gi;
const LINK_BREAK = '<!-- -->';

/**
 * Text from a message, made inert in Markdown: no HTML, no links, no table breaks, no emphasis.
 * CI job pages render Markdown to HTML, so everything that could become markup is escaped.
 * Control and invisible characters are shown with the terminal report's `\xNN` and `\uNNNN`
 * escapes: blanked, they made a path the report names one that does not exist, and two names
 * that differ by a control character read the same (red team 10, finding 13).
 */
export function markdownSafe(text: string | null | undefined, max = 200): string {
  if (!text) return '';
  const cut = terminalSafe(text, max);
  // Inside a table cell only these can start markup; # + - . ! matter at a line start only.
  const escaped = cut.replace(/[\\`*_{}[\]()|<>~&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return escaped.replace(AUTOLINK_START, (ch) => `${LINK_BREAK}${ch}`);
}

/** A path of the dump in Markdown: escaped, look-alike spaces shown, quoted if it begins or ends with a blank (pathShownBy). */
const markdownPath = (path: string, max: number, quoted = false): string => pathShownBy(path, (text) => markdownSafe(text, max), (code) => `[U+${code}]`, quoted);

/** Documents with a name conflict that the Markdown summary lists; `leakcheck documents` lists them all. */
export const MARKDOWN_CONFLICTS = 200;

/** `documents`: their counts, and the first MARKDOWN_CONFLICTS of those with a name conflict. */
export function renderMarkdownSummary(summary: DumpSummary, documents?: { counts: DocumentCounts; conflicted: DocumentRecord[] }): string {
  const out: string[] = [];
  out.push('# leakcheck report', '');
  if (summary.run) out.push(`Run #${summary.run.id} (${shownRunStatus(summary.run.status, summary.runState)}), leakcheck ${markdownSafe(summary.run.toolVersion)}.`, '');
  const note = summary.runState && runStateNote(summary.runState, (host) => markdownSafe(host, 100));
  if (note) out.push(`> **Warning: ${note}.**`, '');
  const { partsNotRead, otherNotes } = readNotes(summary.files);
  const noted =
    (partsNotRead.count ? `; ${partsNotRead.count} archive${partsNotRead.count === 1 ? ' has' : 's have'} parts that were not read (${partsNotRead.which()})` : '') +
    (otherNotes.count ? `; ${otherNotes.count} file${otherNotes.count === 1 ? ' was' : 's were'} read whole with a note on how (${otherNotes.which()})` : '');
  out.push(`**${summary.messages} messages** in ${summary.files.withMessages} files; ${summary.files.skipped} files skipped as not email${summary.files.errors ? `; ${summary.files.errors} files could not be read completely` : ''}${noted}.`, '');
  out.push('| verdict | messages | meaning |', '|---|---:|---|');
  out.push(`| ✅ verified | ${summary.verdicts.verified} | ${VERIFIED_MEANING} |`);
  out.push(`| ❔ unverifiable | ${summary.verdicts.unverifiable} | no proof either way (unsigned, key gone, key too weak, signed only by a third party). **Not the same as fake.** |`);
  out.push(`| ⚠️ suspicious | ${summary.verdicts.suspicious} | evidence of tampering or fabrication |`, '');
  out.push(...custodyMarkdown(summary.custody));
  if (summary.files.unread.length) {
    out.push(`## Files not read completely (${summary.files.errors})`, '', 'Their emails, if they hold any, were not verified.', '', '| file | status | reason |', '|---|---|---|');
    for (const f of summary.files.unread) out.push(`| ${markdownPath(f.path, 120)} | ${f.status} | ${markdownSafe(`${f.reason}${f.detail ? `: ${f.detail}` : ''}`, 200)} |`);
    if (summary.files.errors > summary.files.unread.length) out.push('', `… and ${summary.files.errors - summary.files.unread.length} more: \`leakcheck manifest\` lists every file.`);
    out.push('');
  }
  if (otherNotes.files.length) {
    out.push(`## Files read with a note (${otherNotes.count})`, '', 'Their emails were read and verified; how they were read departs from what the file declares.', '', '| file | note |', '|---|---|');
    for (const f of otherNotes.files) out.push(`| ${markdownPath(f.path, 120)} | ${markdownSafe(`${f.reason}${f.detail ? `: ${f.detail}` : ''}`, 400)} |`);
    if (otherNotes.count > otherNotes.files.length) out.push('', `… and ${otherNotes.count - otherNotes.files.length} more: \`leakcheck manifest\` lists every file.`);
    out.push('');
  }
  if (summary.topReasons.length) {
    out.push('## Most frequent reasons', '', '| reason | messages | meaning |', '|---|---:|---|');
    for (const r of summary.topReasons.slice(0, 12)) {
      out.push(`| \`${r.code}\` | ${r.count} | ${((REASONS as Record<string, { text: string }>)[r.code]?.text ?? 'see docs/checks.md').replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  if (summary.suspicious.length) {
    out.push(`## Suspicious messages (${summary.suspicious.length})`, '', '| message | from | subject | reasons |', '|---|---|---|---|');
    for (const s of summary.suspicious.slice(0, 500)) {
      out.push(`| ${markdownPath(messageLabel(s), 120, labelQuoted(s))} | ${markdownSafe(shownFrom(s.from, s.fromAddress, 80), Infinity)} | ${markdownSafe(shownText(s.subject, 100), Infinity)} | ${s.reasons.map((r) => `\`${r}\``).join(' ')} |`);
    }
    if (summary.suspicious.length > 500) out.push('', `…and ${summary.suspicious.length - 500} more: \`leakcheck export --verdict suspicious\`.`);
    out.push('');
  }
  const warned = summary.verifiedWithWarnings;
  if (warned.total) {
    out.push(`## Verified, with warnings (${warned.total})`, '', 'Proven, but a warning says what the signature leaves unproven: read it before relying on the message.', '');
    out.push('| message | from | subject | warnings |', '|---|---|---|---|');
    for (const m of warned.messages) {
      // one warning a line of the cell; its text is the finding's, message text included, so made inert
      const warnings = m.warnings.map((w) => `\`${w.code}\` ${markdownSafe(w.text, 400)}`).join('<br>');
      out.push(`| ${markdownPath(messageLabel(m), 120, labelQuoted(m))} | ${markdownSafe(shownFrom(m.from, m.fromAddress, 80), Infinity)} | ${markdownSafe(shownText(m.subject, 100), Infinity)} | ${warnings} |`);
    }
    if (warned.total > warned.messages.length) out.push('', `…and ${warned.total - warned.messages.length} more: the \`findings\` column of \`leakcheck export --format csv --verdict verified\`.`);
    out.push('');
  }
  if (documents?.counts.total) {
    const { counts, conflicted } = documents;
    out.push('## Documents', '', `${counts.total} loose documents: **${counts['verified-by-email']} verified-by-email** (identical to an attachment a verified email covers), ${counts['seen-in-unverified-email']} seen only in unverified email, ${counts['no-email-match']} with no email match.`, '');
    if (conflicted.length) {
      out.push('| document | red flag |', '|---|---|');
      for (const d of conflicted.slice(0, MARKDOWN_CONFLICTS)) {
        const c = d.nameConflicts.find(isRedFlag)!;
        out.push(`| ${markdownPath(d.path, 120)} | ${markdownSafe(conflictSubject(c), Infinity)} (${markdownPath(c.message, 100, c.messageQuoted === true)}), ${markdownSafe(conflictDifference(c), Infinity)}: ${c.attachmentSize} bytes, sha256 \`${c.attachmentSha256.slice(0, 16)}\` there; ${d.size ?? '?'} bytes, \`${d.sha256.slice(0, 16)}\` here |`);
      }
      if (counts.withRedFlags > MARKDOWN_CONFLICTS) out.push('', `…and ${counts.withRedFlags - MARKDOWN_CONFLICTS} more: \`leakcheck documents\` lists every document and its red flags.`);
      out.push('');
    }
    if (counts.withGenericNameConflicts) {
      out.push(`${counts.withGenericNameConflicts} more share only a name mail programs give to unnamed parts (\`image001.png\`, \`ATT00001.htm\`) with an attachment of a verified email, with other content: expected, not red flags (\`leakcheck documents\` lists them).`, '');
    }
  }
  return `${out.join('\n')}\n`;
}

/** Files found different from an earlier run's record (`file_changes`), newest first. */
function custodyMarkdown(custody: CustodySummary): string[] {
  const run = custody.lastRun;
  if (!hasCustodyToShow(custody)) return [];
  const out = ['## Chain of custody', ''];
  if (run?.rehash) {
    out.push(
      `Run #${run.id} re-read every file (\`--rehash\`): ${run.confirmed} matched the sha256 on record; ${changeTally(run)}.`,
      '',
    );
  }
  const recorded = changesRecorded(custody);
  if (recorded) {
    out.push(`**${changeCounts(custody, (n, kind) => `${n} ${kind}s`)}** recorded across runs. A verdict is about the bytes analysed when it was given.`, '');
    out.push('| run | change | file | size | sha256 |', '|---:|---|---|---|---|');
    const hash = (reading: { sha256: string | null } | null): string => `\`${reading?.sha256?.slice(0, 16) ?? '?'}\``;
    for (const c of custody.recent) {
      // one reading for a file removed or added, the two for a file changed; for a file
      // unconfirmed, the reading on record and why none was made
      const unconfirmed = c.change === 'unconfirmed';
      const size = c.old && c.new && !unconfirmed ? `${c.old.size ?? '?'} → ${c.new.size ?? '?'}` : `${(c.old ?? c.new)?.size ?? '?'}`;
      const hashes = unconfirmed
        ? `${hash(c.old)}, not confirmed: could not be read (${markdownSafe(c.detail ?? '?', 120)})`
        : c.old && c.new ? `${hash(c.old)} → ${hash(c.new)}` : hash(c.old ?? c.new);
      out.push(`| ${c.runId} | ${c.change} | ${markdownPath(c.path, 120)} | ${size} | ${hashes} |`);
    }
    const more = recorded - custody.recent.length;
    if (more > 0) out.push('', `…and ${more} older: \`leakcheck custody\` lists them all.`);
    out.push('');
  }
  return out;
}
