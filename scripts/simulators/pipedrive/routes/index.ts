/** Every Pipedrive API route the simulator serves (search before `{id}` so it is not taken for an id). */

import { entityRoutes } from './entities.ts';
import { fieldRoutes } from './fields.ts';
import { mergeRoutes } from './merge.ts';
import { noteRoutes } from './notes.ts';
import { pipelineRoutes } from './pipelines.ts';
import type { PipedriveRoute } from './route.ts';
import { searchRoutes } from './search.ts';
import { userRoutes } from './users.ts';
import { webhookRoutes } from './webhooks.ts';

export const API_ROUTES: PipedriveRoute[] = [
  ...searchRoutes,
  ...entityRoutes,
  ...pipelineRoutes,
  ...noteRoutes,
  ...fieldRoutes,
  ...mergeRoutes,
  ...userRoutes,
  ...webhookRoutes,
];
