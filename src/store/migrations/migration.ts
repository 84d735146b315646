import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** A step of the schema: the same code for both stores, branching on `dialect` for the rare statement that differs. */
export interface Migration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}
