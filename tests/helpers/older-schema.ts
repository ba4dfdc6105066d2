/**
 * SQL that takes a database of this leakcheck back to before schema 18, for the tests that build
 * an older database from a current one: `documents` a table again, as versions 5 to 17 had it,
 * and the attachments without what schemas 19 and 20 added. Run it before taking out what the migrations
 * up to 17 added.
 */
export const BEFORE_SCHEMA_18 = `
  CREATE TABLE documents_17 (file_id INTEGER PRIMARY KEY REFERENCES source_files(id) ON DELETE CASCADE, sha256 TEXT NOT NULL, size INTEGER,
    normalized_name TEXT, status TEXT NOT NULL, matches_json TEXT NOT NULL, name_conflicts_json TEXT NOT NULL);
  INSERT INTO documents_17 SELECT file_id, sha256, size, normalized_name, status, matches_json, name_conflicts_json FROM documents;
  DROP VIEW documents; DROP TABLE document_files; DROP TABLE document_matches; DROP TABLE document_name_conflicts;
  ALTER TABLE documents_17 RENAME TO documents;
  DROP TABLE attachment_other_names;
  DROP INDEX attachments_name_unsigned;
  ALTER TABLE attachments DROP COLUMN name_unsigned;
`;
