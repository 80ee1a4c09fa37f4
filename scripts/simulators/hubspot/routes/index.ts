/** Every HubSpot API route the simulator serves. */

import type { RouteDefinition } from './route.ts';
import { accountInfoRoutes } from './account-info.ts';
import { associationRoutes } from './associations.ts';
import { batchRoutes } from './batch.ts';
import { oauthRoutes } from './oauth.ts';
import { objectRoutes } from './objects.ts';
import { ownerRoutes } from './owners.ts';
import { pipelineRoutes } from './pipelines.ts';
import { propertyRoutes } from './properties.ts';
import { searchRoutes } from './search.ts';
import { webhooksApiRoutes } from './webhooks-api.ts';

export const API_ROUTES: RouteDefinition[] = [
  ...searchRoutes,
  ...batchRoutes,
  ...objectRoutes,
  ...associationRoutes,
  ...propertyRoutes,
  ...ownerRoutes,
  ...pipelineRoutes,
  ...accountInfoRoutes,
  ...webhooksApiRoutes,
  ...oauthRoutes,
];
