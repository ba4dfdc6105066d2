import type { MessageRecord } from '../store/queries.ts';

/**
 * One exported message. Field names are a contract with users' scripts (docs/export.md):
 * fields are added, never renamed or removed.
 */
/** A finding as the export writes it (its evidence is in `leakcheck show` and the database). */
export interface ExportFinding {
  code: string;
  severity: string;
  text: string;
}

export interface ExportRow {
  path: string;
  index: number;
  sha256: string;
  message_id: string | null;
  from: string | null;
  /** the From address as read from the field as written (never from a decoded display name) */
  from_address: string | null;
  date: string | null;
  /** false when `date` was read from a Date with no readable zone, as UTC: it may be 14 h off */
  date_zone_known: boolean | null;
  subject: string | null;
  verdict: string;
  reasons: string[];
  repairs: string[];
  explanation: string;
  signatures: Array<{
    domain: string | null;
    selector: string | null;
    algorithm: string | null;
    key_bits: number | null;
    key_type: string | null;
    key_source: string | null;
    key_fingerprint: string | null;
    result: string;
    reason: string;
    aligned: boolean;
  }>;
  arc: { result: string; keys: ArcKeyRow[] };
  findings: ExportFinding[];
  /**
   * For a message found inside another file (a zip entry, a forwarded message): the path of what
   * holds it; null for a file of the dump. A file of the dump can be named as leakcheck names
   * such a message (`a.zip!b.eml`, `f.eml#attachment-1`): this tells the two apart (red team Z, Z-08).
   */
  container: string | null;
}

/** A key record that validated part of a passing ARC chain, named as a signature's key is. */
export interface ArcKeyRow {
  i: number;
  signer: 'seal' | 'ams';
  name: string | null;
  key_bits: number | null;
  key_type: string | null;
  key_source: string | null;
  key_fingerprint: string | null;
}

/** The keys stored with a chain's sets (sealKey, amsKey); rows stored before they were recorded have none. */
function arcKeyRows(instances: unknown[]): ArcKeyRow[] {
  const rows: ArcKeyRow[] = [];
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  for (const instance of instances as Array<Record<string, unknown>>) {
    for (const signer of ['seal', 'ams'] as const) {
      const key = instance[`${signer}Key`] as Record<string, unknown> | undefined;
      if (!key || typeof key !== 'object') continue;
      rows.push({
        i: Number(instance['i']),
        signer,
        name: text(key['name']),
        key_bits: typeof key['bits'] === 'number' ? key['bits'] : null,
        key_type: text(key['keyType']),
        key_source: text(key['source']),
        key_fingerprint: text(key['fingerprint']),
      });
    }
  }
  return rows;
}

export function toExportRow(m: MessageRecord): ExportRow {
  return {
    path: m.path,
    index: m.index,
    sha256: m.sha256,
    message_id: m.messageId,
    from: m.from,
    from_address: m.fromAddress,
    date: m.date,
    date_zone_known: m.dateZoneKnown,
    subject: m.subject,
    verdict: m.verdict,
    reasons: m.reasons,
    repairs: m.repairs,
    explanation: m.explanation,
    signatures: m.signatures.map((s) => ({
      domain: s.domain,
      selector: s.selector,
      algorithm: s.algorithm,
      key_bits: s.keyBits,
      key_type: s.keyType,
      key_source: s.keySource,
      key_fingerprint: s.keyFingerprint,
      result: s.outcome === 'pass' ? 'pass' : s.result === 'fail' || s.outcome === 'body-modified' ? 'fail' : s.result,
      reason: s.outcome,
      aligned: s.aligned,
    })),
    arc: { result: m.arc.result, keys: arcKeyRows(m.arc.instances) },
    findings: m.findings.map(exportFinding),
    container: m.container,
  };
}

export const exportFinding = (f: ExportFinding): ExportFinding => ({ code: f.code, severity: f.severity, text: f.text });

/** A message's findings the export reads with it; the rest are read and written a page at a time. */
export const EXPORT_FINDINGS_HELD = 1000;
