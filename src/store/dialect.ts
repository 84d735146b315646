/** The databases the store runs on: SQLite (embedded, the default) or PostgreSQL (scale-out). */
export type Dialect = 'sqlite' | 'postgres';
