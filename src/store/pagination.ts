/**
 * Cursor pagination, the same for every list: newest first by id (ids are time-ordered ULIDs), `limit` rows,
 * and an opaque `next_cursor` to pass back as `starting_after`.
 */
import { appError } from '../errors.js';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The id a cursor stands for; a cursor that was not made by `encodeCursor` is the client's mistake. */
export function decodeCursor(cursor: string | undefined, paramName = 'starting_after'): string | null {
  if (cursor === undefined || cursor === '') return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]+_[0-9A-Z]{26}$/.test(id)) {
    throw appError('form_param_format_invalid', { paramName, longMessage: `${paramName} is not a cursor returned by this API` });
  }
  return id;
}

/** Turns `limit + 1` fetched rows into a page. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  return { data: page.map(map), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null };
}
