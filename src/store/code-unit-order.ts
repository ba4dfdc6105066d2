/**
 * Orders strings by their UTF-16 code units, as JSON text and SQLite's BINARY collation compare
 * them: never by the machine's locale. `localeCompare` sorted "aarhus" after "bergen" under
 * LC_ALL=da_DK, so two machines wrote different manifests of the same database (red team 11,
 * finding 05). For a sort whose output is part of what leakcheck records or reports.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
