// /functions/v1/gdpr (service role only): data subject requests about a person.
//   POST /gdpr/erasures  {contact_id | tenant_id + email, requested_by}  → 202 the erasures started
//   GET  /gdpr/erasures/<id>                                             → the tombstone and each CRM's status
//   GET  /gdpr/export?contact_id=<uuid> | ?tenant_id=<uuid>&email=<e>    → everything held about the person
// A person found by email may be several contacts of the tenant: each is
// erased or exported. The work is SQL (privacy.erase_contact,
// privacy.export_contact); CRMs are reached through the outbound queue.
import { z } from 'zod';
import { roleOf } from '../auth.ts';
import type { Sql } from '../db.ts';
import { errorResponse, jsonResponse, methodNotAllowed } from '../http.ts';

const personSchema = z.union([
  z.object({ contact_id: z.uuid() }).strict(),
  z.object({ tenant_id: z.uuid(), email: z.string().min(3).max(320) }).strict(),
], { error: 'name the person by contact_id, or by tenant_id and email' });

const eraseSchema = z.object({
  requested_by: z.string().trim().min(1).max(200),
  contact_id: z.uuid().optional(),
  tenant_id: z.uuid().optional(),
  email: z.string().min(3).max(320).optional(),
}).strict();

type Person = z.infer<typeof personSchema>;

async function contactIdsOf(sql: Sql, person: Person): Promise<string[]> {
  if ('contact_id' in person) {
    const rows = await sql`select id from crm.contacts where id = ${person.contact_id}`;
    return rows.map((r) => r.id as string);
  }
  const rows = await sql`select id from crm.contacts where tenant_id = ${person.tenant_id} and lower(email) = lower(${person.email}) order by created_at`;
  return rows.map((r) => r.id as string);
}

async function erasureStatus(sql: Sql, erasureIds: string[]) {
  return await sql`
    select e.id as erasure_id, e.tenant_id, e.local_id as contact_id, e.requested_by, e.requested_at, e.completed_at,
           coalesce((select jsonb_agg(jsonb_build_object('connection_id', t.connection_id, 'provider', c.provider,
                                                         'status', t.status, 'error', t.error) order by c.created_at)
                       from privacy.erasure_targets t join sync.connections c on c.id = t.connection_id
                      where t.erasure_id = e.id), '[]') as crms
      from privacy.erasures e where e.id = any (${erasureIds}::uuid[]) order by e.requested_at`;
}

export function createGdprHandler(sql: Sql) {
  return async (req: Request): Promise<Response> => {
    if (roleOf(req.headers.get('authorization')) !== 'service_role') {
      return errorResponse(403, 'forbidden', 'GDPR requests are made with the service role key');
    }
    const url = new URL(req.url);
    const [, resource, id] = url.pathname.split('/').filter(Boolean);
    try {
      if (req.method === 'POST' && resource === 'erasures' && !id) {
        let body: unknown;
        try {
          body = await req.json();
        } catch {
          return errorResponse(400, 'invalid_json', 'the body must be JSON: {"contact_id": "<uuid>", "requested_by": "..."}');
        }
        const parsed = eraseSchema.safeParse(body);
        if (!parsed.success) return errorResponse(400, 'invalid_request', 'invalid erasure request', parsed.error.issues);
        const { requested_by, ...who } = parsed.data;
        const person = personSchema.safeParse(who);
        if (!person.success) return errorResponse(400, 'invalid_request', 'name the person by contact_id, or by tenant_id and email');
        const contactIds = await contactIdsOf(sql, person.data);
        if (contactIds.length === 0) return errorResponse(404, 'not_found', 'no contact matches; nothing to erase');
        const erasureIds = await sql.begin(async (tx) => {
          const ids: string[] = [];
          for (const contactId of contactIds) {
            const [row] = await tx`select privacy.erase_contact(${contactId}, ${requested_by}) as id`;
            ids.push(row.id as string);
          }
          return ids;
        });
        return jsonResponse(202, { erasures: await erasureStatus(sql, erasureIds) });
      }
      if (req.method === 'GET' && resource === 'erasures' && id) {
        if (!z.uuid().safeParse(id).success) return errorResponse(400, 'invalid_request', 'erasure id must be a uuid');
        const [erasure] = await erasureStatus(sql, [id]);
        return erasure ? jsonResponse(200, erasure) : errorResponse(404, 'not_found', `erasure ${id} does not exist`);
      }
      if (req.method === 'GET' && resource === 'export' && !id) {
        const person = personSchema.safeParse(Object.fromEntries(url.searchParams));
        if (!person.success) return errorResponse(400, 'invalid_request', 'name the person by ?contact_id=, or by ?tenant_id=&email=');
        const contactIds = await contactIdsOf(sql, person.data);
        if (contactIds.length === 0) return errorResponse(404, 'not_found', 'no contact matches; nothing is held');
        const rows = await sql`select privacy.export_contact(id) as export from unnest(${contactIds}::uuid[]) id`;
        return jsonResponse(200, { exports: rows.map((r) => r.export) });
      }
      return methodNotAllowed(['POST /gdpr/erasures', 'GET /gdpr/erasures/<id>', 'GET /gdpr/export']);
    } catch (error) {
      const pg = error as { code?: string; message?: string };
      if (pg.code === 'P0002') return errorResponse(404, 'not_found', String(pg.message));
      if (pg.code === '22023') return errorResponse(400, 'invalid_request', String(pg.message));
      console.error(`gdpr: ${pg.code ?? ''} ${pg.message ?? String(error)}`);
      return errorResponse(500, 'internal', 'the GDPR request failed; nothing was changed');
    }
  };
}
