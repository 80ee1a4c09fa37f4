/** The portal's users, which `hubspot_owner_id` values must name. */

import { DEFAULT_OWNERS } from './default-owners.ts';

export interface Owner {
  id: string;
  userId: number;
  email: string;
  firstName: string;
  lastName: string;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
}

export class OwnerDirectory {
  private owners: Owner[] = [];
  private nextId = 71_000_100;

  constructor(private readonly now: () => number) {
    this.reset();
  }

  reset(): void {
    const at = this.now();
    this.owners = DEFAULT_OWNERS.map((seed) => ({ ...seed, createdAt: at, updatedAt: at, archived: false }));
    this.nextId = 71_000_100;
  }

  list(archived = false): Owner[] {
    return this.owners.filter((owner) => owner.archived === archived);
  }

  get(id: string): Owner | undefined {
    return this.owners.find((owner) => owner.id === id);
  }

  exists(id: string): boolean {
    return this.owners.some((owner) => owner.id === id && !owner.archived);
  }

  add(input: { email: string; firstName?: string; lastName?: string }): Owner {
    const at = this.now();
    const id = String(this.nextId++);
    const owner: Owner = {
      id,
      userId: 52_000_000 + Number(id.slice(-4)),
      email: input.email,
      firstName: input.firstName ?? '',
      lastName: input.lastName ?? '',
      createdAt: at,
      updatedAt: at,
      archived: false,
    };
    this.owners.push(owner);
    return owner;
  }
}

export function ownerJson(owner: Owner): Record<string, unknown> {
  return {
    id: owner.id,
    email: owner.email,
    type: 'PERSON',
    firstName: owner.firstName,
    lastName: owner.lastName,
    userId: owner.userId,
    userIdIncludingInactive: owner.userId,
    createdAt: new Date(owner.createdAt).toISOString(),
    updatedAt: new Date(owner.updatedAt).toISOString(),
    archived: owner.archived,
    teams: [],
  };
}
