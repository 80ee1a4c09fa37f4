/**
 * v1 fields: `/v1/personFields`, `/v1/organizationFields`, `/v1/dealFields`
 * (list with `start`/`limit`, get, create a custom field, delete one) and
 * `/v1/activityFields` (list only: activities have no custom fields).
 */

import { z } from 'zod';
import { badRequest, notFound } from '../errors.ts';
import { CUSTOM_FIELD_TYPES, type FieldEntity, fieldJson } from '../field-registry.ts';
import { idParam, integerQuery } from './params.ts';
import { ok, type PipedriveRoute, v1Cost } from './route.ts';

const PATHS: Record<FieldEntity, string> = {
  person: '/v1/personFields',
  organization: '/v1/organizationFields',
  deal: '/v1/dealFields',
  activity: '/v1/activityFields',
};

const createBody = z.object({
  name: z.string().trim().min(1),
  field_type: z.enum(CUSTOM_FIELD_TYPES),
  options: z.array(z.union([z.string().min(1), z.object({ label: z.string().min(1) })]))
    .transform((options) => options.map((option) => (typeof option === 'string' ? option : option.label)))
    .optional(),
  add_visible_flag: z.boolean().optional(),
});

function routesFor(entity: FieldEntity): PipedriveRoute[] {
  const base = PATHS[entity];
  const routes: PipedriveRoute[] = [
    {
      method: 'GET',
      pattern: base,
      api: 'v1',
      rateLimit: 'standard',
      cost: v1Cost('GET', false),
      handler(request, state) {
        const start = integerQuery(request.query, 'start') ?? 0;
        const limit = integerQuery(request.query, 'limit') ?? 100;
        if (start < 0 || limit < 1 || limit > 500) throw badRequest('start must be >= 0 and limit between 1 and 500');
        const fields = state.fields.list(entity);
        const more = start + limit < fields.length;
        return ok(fields.slice(start, start + limit).map(fieldJson), {
          additional_data: {
            pagination: {
              start,
              limit,
              more_items_in_collection: more,
              ...(more ? { next_start: start + limit } : {}),
            },
          },
        });
      },
    },
  ];
  if (entity === 'activity') return routes;
  routes.push(
    {
      method: 'GET',
      pattern: `${base}/{id}`,
      api: 'v1',
      rateLimit: 'standard',
      cost: v1Cost('GET', true),
      handler(request, state) {
        const field = state.fields.get(entity, idParam(request.params.id));
        if (!field) throw notFound('Field');
        return ok(fieldJson(field));
      },
    },
    {
      method: 'POST',
      pattern: base,
      api: 'v1',
      rateLimit: 'standard',
      cost: v1Cost('POST', true),
      handler(request, state) {
        const parsed = createBody.safeParse(request.body ?? {});
        if (!parsed.success) {
          throw badRequest(
            parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
          );
        }
        const field = state.fields.addCustom(entity, {
          name: parsed.data.name,
          fieldType: parsed.data.field_type,
          options: parsed.data.options,
          addVisible: parsed.data.add_visible_flag,
        }, state.users.me().id);
        return ok(fieldJson(field));
      },
    },
    {
      method: 'DELETE',
      pattern: `${base}/{id}`,
      api: 'v1',
      rateLimit: 'standard',
      cost: v1Cost('DELETE', true),
      handler(request, state) {
        const field = state.fields.remove(entity, idParam(request.params.id));
        for (const record of state.store.all(entity)) delete record.custom[field.key];
        return ok({ id: field.id });
      },
    },
  );
  return routes;
}

export const fieldRoutes: PipedriveRoute[] = (['person', 'organization', 'deal', 'activity'] as const).flatMap(
  routesFor,
);
