// Searches the whole database for strings that must not be there (an erased
// person, a planted secret): every text, character varying, json, jsonb and
// array column of every table in every schema, case-insensitively. Returns
// the columns holding one, as schema.table.column.
import type postgres from 'postgres';

export async function columnsHolding(sql: postgres.Sql, needles: string[]): Promise<string[]> {
  const tables = await sql<{ table_schema: string; table_name: string; columns: string[] }[]>`
    select c.table_schema, c.table_name, array_agg(c.column_name::text order by c.ordinal_position) as columns
      from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
       and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')
     group by 1, 2`;
  const lowered = needles.map((n) => n.toLowerCase());
  const hits: string[] = [];
  for (const { table_schema, table_name, columns } of tables) {
    const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
    const [row] = await sql.unsafe<Record<string, boolean>[]>(
      `select ${columns.map((c, i) => `bool_or(exists (select from unnest($1::text[]) n where strpos(lower(${ident(c)}::text), n) > 0)) as c${i}`).join(', ')}
         from ${ident(table_schema)}.${ident(table_name)}`,
      [lowered],
    );
    columns.forEach((c, i) => {
      if (row[`c${i}`]) hits.push(`${table_schema}.${table_name}.${c}`);
    });
  }
  return hits.sort();
}
