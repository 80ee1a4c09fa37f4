/**
 * The company's users: owners of records, authors of notes and the user
 * behind the API tokens (the first user, an admin).
 */

import { v1Time } from './timestamps.ts';

export interface SimUser {
  id: number;
  name: string;
  email: string;
  isAdmin: boolean;
  createdAt: number;
}

export interface CompanyInfo {
  companyId: number;
  companyName: string;
  companyDomain: string;
}

const DEFAULT_USERS: Array<Omit<SimUser, 'createdAt'>> = [
  { id: 22_000_001, name: 'Alex Morgan', email: 'alex.morgan@example.com', isAdmin: true },
  { id: 22_000_002, name: 'Priya Shah', email: 'priya.shah@example.com', isAdmin: false },
  { id: 22_000_003, name: 'Jonas Berg', email: 'jonas.berg@example.com', isAdmin: false },
];

export class UserDirectory {
  private users: SimUser[] = [];
  private nextId = 22_000_100;

  constructor(private readonly now: () => number) {
    this.reset();
  }

  reset(): void {
    const at = this.now();
    this.users = DEFAULT_USERS.map((user) => ({ ...user, createdAt: at }));
    this.nextId = 22_000_100;
  }

  list(): SimUser[] {
    return [...this.users];
  }

  get(id: number): SimUser | undefined {
    return this.users.find((user) => user.id === id);
  }

  /** The user the API tokens belong to. */
  me(): SimUser {
    return this.users[0];
  }

  add(input: { name: string; email: string; isAdmin?: boolean }): SimUser {
    const user: SimUser = {
      id: this.nextId++,
      name: input.name,
      email: input.email,
      isAdmin: input.isAdmin ?? false,
      createdAt: this.now(),
    };
    this.users.push(user);
    return user;
  }
}

/** A user as `GET /v1/users` lists it; `/v1/users/me` adds the company. */
export function userJson(user: SimUser, me: SimUser, company?: CompanyInfo): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: user.id,
    name: user.name,
    default_currency: 'USD',
    locale: 'en_US',
    lang: 1,
    email: user.email,
    phone: null,
    activated: true,
    last_login: v1Time(user.createdAt),
    created: v1Time(user.createdAt),
    modified: null,
    has_created_company: user.id === me.id,
    access: [{ app: 'sales', admin: user.isAdmin, permission_set_id: user.isAdmin ? 'sales-admin' : 'sales-regular' }],
    active_flag: true,
    timezone_name: 'Europe/Berlin',
    timezone_offset: '+01:00',
    role_id: 1,
    icon_url: null,
    is_you: user.id === me.id,
    is_deleted: false,
  };
  if (company) {
    Object.assign(json, {
      company_id: company.companyId,
      company_name: company.companyName,
      company_domain: company.companyDomain,
      company_country: 'DE',
      company_industry: 'software',
      language: { language_code: 'en', country_code: 'US' },
    });
  }
  return json;
}
