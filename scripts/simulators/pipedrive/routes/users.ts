/** v1 users: the list (owners), one user, and `/v1/users/me`, the cheap credential check. */

import { notFound } from '../errors.ts';
import { userJson } from '../users.ts';
import { idParam } from './params.ts';
import { ok, type PipedriveRoute, v1Cost } from './route.ts';

export const userRoutes: PipedriveRoute[] = [
  {
    method: 'GET',
    pattern: '/v1/users',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('GET', false),
    handler: (_request, state) => ok(state.users.list().map((user) => userJson(user, state.users.me()))),
  },
  {
    method: 'GET',
    pattern: '/v1/users/me',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('GET', true),
    handler: (_request, state) => ok(userJson(state.users.me(), state.users.me(), state.company())),
  },
  {
    method: 'GET',
    pattern: '/v1/users/{id}',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('GET', true),
    handler(request, state) {
      const user = state.users.get(idParam(request.params.id));
      if (!user) throw notFound('User');
      return ok(userJson(user, state.users.me()));
    },
  },
];
