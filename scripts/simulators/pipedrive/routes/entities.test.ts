// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveSimulator } from '../server.ts';
import { api, clientError, control, startSimulator, v2Client } from '../test-support.ts';

let sim: PipedriveSimulator;
let client: ReturnType<typeof v2Client>;

beforeAll(async () => {
  sim = await startSimulator();
  client = v2Client(sim);
});
afterAll(() => sim.close());
beforeEach(async () => {
  await control(sim, 'POST', '/reset');
});

async function createPersons(count: number, prefix = 'Person'): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 0; n < count; n++) {
    const response = await client.persons.addPerson({ AddPersonRequest: { name: `${prefix} ${n}` } });
    ids.push(response.data!.id!);
  }
  return ids;
}

describe('persons through the official v2 client', () => {
  it('creates, reads, updates and soft-deletes a person', async () => {
    // Times are whole seconds: a running clock could cross one more second between the create and the update.
    await control(sim, 'PUT', '/clock', { freezeAt: '2026-03-01T12:00:00.000Z' });
    const org = await client.organizations.addOrganization({ AddOrganizationRequest: { name: 'Acme' } });
    const created = await client.persons.addPerson({
      AddPersonRequest: {
        name: 'Ann Marie Archer',
        org_id: org.data!.id,
        emails: [{ value: 'ann@acme.test', primary: true, label: 'work' }, { value: 'ann@home.test', label: 'home' }],
        phones: [{ value: '+1 555 0100' }],
      },
    });
    expect(created.success).toBe(true);
    const person = created.data!;
    expect(person).toMatchObject({
      name: 'Ann Marie Archer',
      first_name: 'Ann',
      last_name: 'Marie Archer',
      org_id: org.data!.id,
      owner_id: sim.state.users.me().id,
      is_deleted: false,
      emails: [
        { value: 'ann@acme.test', primary: true, label: 'work' },
        { value: 'ann@home.test', primary: false, label: 'home' },
      ],
      phones: [{ value: '+1 555 0100', primary: true, label: 'work' }],
    });
    expect(person.add_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Object.keys(person.custom_fields!)).toHaveLength(2);
    expect(Object.values(person.custom_fields!)).toEqual([null, null]);

    const fetched = await client.persons.getPerson({ id: person.id! });
    expect(fetched.data).toEqual(person);

    await control(sim, 'PUT', '/clock', { advanceMs: 5_000 });
    const updated = await client.persons.updatePerson({
      id: person.id!,
      UpdatePersonRequest: { name: 'Ann Archer', org_id: null as unknown as number },
    });
    expect(updated.data).toMatchObject({ name: 'Ann Archer', first_name: 'Ann', last_name: 'Archer', org_id: null });
    expect(Date.parse(updated.data!.update_time!) - Date.parse(person.update_time!)).toBe(5_000);

    const deleted = await client.persons.deletePerson({ id: person.id! });
    expect(deleted.data).toEqual({ id: person.id });
    expect((await client.persons.getPerson({ id: person.id! })).data!.is_deleted).toBe(true);
    expect((await client.persons.getPersons()).data).toEqual([]);
    const again = await clientError(client.persons.deletePerson({ id: person.id! }));
    expect(again).toMatchObject({ success: false, error: 'Person not found', data: null });
  });

  it('leaves update_time alone when a write changes nothing', async () => {
    const [id] = await createPersons(1);
    const before = (await client.persons.getPerson({ id })).data!;
    await control(sim, 'PUT', '/clock', { advanceMs: 60_000 });
    const after = await client.persons.updatePerson({ id, UpdatePersonRequest: { name: before.name! } });
    expect(after.data!.update_time).toBe(before.update_time);
  });

  it('rejects unknown fields, missing names and references to nothing with 400', async () => {
    const unknown = await api(sim, 'POST', '/api/v2/persons', { name: 'X', email: 'x@example.com' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      success: false,
      error: 'Validation failed: unknown field email',
      error_info: expect.stringContaining('developers.pipedrive.com'),
      data: null,
      additional_data: null,
    });
    expect((await api(sim, 'POST', '/api/v2/persons', { emails: [{ value: 'a@b.c' }] })).status).toBe(400);
    const missingOrg = await clientError(client.persons.addPerson({ AddPersonRequest: { name: 'Y', org_id: 999 } }));
    expect(missingOrg.error).toContain('Organization 999 not found');
    expect((await api(sim, 'GET', '/api/v2/persons/abc')).status).toBe(400);
    expect((await api(sim, 'GET', '/api/v2/persons/12345')).status).toBe(404);
  });
});

describe('listing', () => {
  it('pages with cursor and limit; next_cursor is null on the last page', async () => {
    const ids = await createPersons(25);
    const seen: number[] = [];
    const cursors: Array<string | null | undefined> = [];
    let cursor: string | undefined;
    do {
      const page = await client.persons.getPersons({ limit: 10, cursor });
      seen.push(...page.data!.map((person) => person.id!));
      cursor = page.additional_data?.next_cursor ?? undefined;
      cursors.push(page.additional_data?.next_cursor);
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(cursors).toHaveLength(3);
    expect(cursors[2]).toBeNull();
    expect(JSON.parse(Buffer.from(cursors[0]!, 'base64url').toString())).toEqual({
      field: 'id',
      fieldValue: ids[10],
      sortDirection: 'asc',
      id: ids[10],
    });
  });

  it('defaults to 100 per page, allows 500 and rejects more', async () => {
    await control(sim, 'POST', '/seed', { entity: 'persons', count: 120 });
    const first = await client.persons.getPersons();
    expect(first.data).toHaveLength(100);
    expect(first.additional_data!.next_cursor).toEqual(expect.any(String));
    expect((await client.persons.getPersons({ limit: 500 })).data).toHaveLength(120);
    expect((await api(sim, 'GET', '/api/v2/persons?limit=501')).status).toBe(400);
  });

  it('keeps its place when records are added between pages (keyset cursor)', async () => {
    const ids = await createPersons(6);
    const first = await client.persons.getPersons({ limit: 3, sort_by: 'id', sort_direction: 'desc' });
    expect(first.data!.map((person) => person.id)).toEqual([ids[5], ids[4], ids[3]]);
    await createPersons(2, 'Late');
    const second = await client.persons.getPersons({
      limit: 3,
      sort_by: 'id',
      sort_direction: 'desc',
      cursor: first.additional_data!.next_cursor!,
    });
    expect(second.data!.map((person) => person.id)).toEqual([ids[2], ids[1], ids[0]]);
    const mismatched = await api(sim, 'GET', `/api/v2/persons?cursor=${first.additional_data!.next_cursor}`);
    expect(mismatched.status).toBe(400);
  });

  it('filters by updated_since (inclusive) and updated_until (exclusive), sorted by update_time', async () => {
    await control(sim, 'PUT', '/clock', { freezeAt: '2025-03-01T10:00:00.000Z' });
    const [a, b] = await createPersons(2);
    await control(sim, 'PUT', '/clock', { advanceMs: 60_000 });
    const [c] = await createPersons(1);
    await control(sim, 'PUT', '/clock', { advanceMs: 60_000 });
    await client.persons.updatePerson({ id: a, UpdatePersonRequest: { name: 'A changed' } });

    const since = await client.persons.getPersons({ updated_since: '2025-03-01T10:01:00Z', sort_by: 'update_time' });
    expect(since.data!.map((person) => person.id)).toEqual([c, a]);
    const until = await client.persons.getPersons({
      updated_since: '2025-03-01T10:00:00Z',
      updated_until: '2025-03-01T10:01:00Z',
    });
    expect(until.data!.map((person) => person.id)).toEqual([b]);
    expect((await api(sim, 'GET', '/api/v2/persons?updated_since=yesterday')).status).toBe(400);
    await control(sim, 'PUT', '/clock', { freezeAt: null });
  });

  it('returns only the given ids (at most 100)', async () => {
    const ids = await createPersons(5);
    const some = await client.persons.getPersons({ ids: `${ids[3]},${ids[1]}` });
    expect(some.data!.map((person) => person.id)).toEqual([ids[1], ids[3]]);
    const tooMany = Array.from({ length: 101 }, (_, n) => n + 1).join(',');
    expect((await api(sim, 'GET', `/api/v2/persons?ids=${tooMany}`)).status).toBe(400);
  });

  it('selects custom fields with custom_fields and filters by owner and organization', async () => {
    await control(sim, 'POST', '/seed', { entity: 'organizations', count: 2 });
    await control(sim, 'POST', '/seed', { entity: 'persons', count: 10 });
    const fields = (await control(sim, 'GET', '/fields')).body;
    const sourceKey = fields.person.source;
    const page = await client.persons.getPersons({ custom_fields: sourceKey, org_id: 1 });
    expect(page.data!.length).toBeGreaterThan(0);
    for (const person of page.data!) {
      expect(Object.keys(person.custom_fields!)).toEqual([sourceKey]);
      expect(person.org_id).toBe(1);
    }
    const owner = sim.state.users.list()[1].id;
    const owned = await client.persons.getPersons({ owner_id: owner });
    expect(owned.data!.every((person) => person.owner_id === owner)).toBe(true);
  });
});

describe('deals', () => {
  it('derives the pipeline from the stage, stamps status times and soft-deletes to status "deleted"', async () => {
    const created = await client.deals.addDeal({ AddDealRequest: { title: 'Renewal', value: 1200, stage_id: 7 } });
    const deal = created.data!;
    expect(deal).toMatchObject({
      title: 'Renewal',
      value: 1200,
      currency: 'USD',
      stage_id: 7,
      pipeline_id: 2,
      status: 'open',
      won_time: null,
      is_deleted: false,
      origin: 'API',
    });
    const moved = await client.deals.updateDeal({ id: deal.id!, UpdateDealRequest: { stage_id: 8, status: 'won' } });
    expect(moved.data!.stage_change_time).toEqual(expect.any(String));
    expect(moved.data!.won_time).toBe(moved.data!.close_time);
    expect((await api(sim, 'PATCH', `/api/v2/deals/${deal.id}`, { stage_id: 2, pipeline_id: 2 })).status).toBe(400);
    expect((await clientError(client.deals.addDeal({ AddDealRequest: {} as any }))).error).toContain('title');

    await client.deals.deleteDeal({ id: deal.id! });
    expect((await client.deals.getDeals()).data).toEqual([]);
    const deleted = await client.deals.getDeals({ status: 'deleted' });
    expect(deleted.data!.map((item) => [item.id, item.status, item.is_deleted])).toEqual([[deal.id, 'deleted', true]]);
  });

  it('filters by pipeline, stage, person and status', async () => {
    await control(sim, 'POST', '/seed', { entity: 'persons', count: 3 });
    await control(sim, 'POST', '/seed', { entity: 'deals', count: 30 });
    const all = (await client.deals.getDeals({ limit: 500 })).data!;
    const stage = all[0].stage_id!;
    const byStage = (await client.deals.getDeals({ stage_id: stage })).data!;
    expect(byStage.map((deal) => deal.id)).toEqual(
      all.filter((deal) => deal.stage_id === stage).map((deal) => deal.id),
    );
    const won = (await client.deals.getDeals({ status: 'won' })).data!;
    expect(won.every((deal) => deal.status === 'won' && deal.won_time !== null)).toBe(true);
    expect((await client.deals.getDeals({ pipeline_id: 2 })).data).toEqual([]);
  });
});

describe('activities', () => {
  it('creates an activity linked to a person and deal, normalises times and tracks done', async () => {
    const [personId] = await createPersons(1);
    const deal = await client.deals.addDeal({ AddDealRequest: { title: 'D', person_id: personId } });
    const created = await client.activities.addActivity({
      AddActivityRequest: {
        type: 'call',
        due_date: '2025-05-02',
        due_time: '09:30',
        person_id: personId,
        deal_id: deal.data!.id,
      },
    });
    expect(created.data).toMatchObject({
      subject: 'Call',
      type: 'call',
      due_time: '09:30:00',
      done: false,
      marked_as_done_time: null,
      participants: [{ person_id: personId, primary: true }],
    });
    // The client names the update body AddActivityRequest.
    const done = await client.activities.updateActivity({ id: created.data!.id!, AddActivityRequest: { done: true } });
    expect(done.data!.marked_as_done_time).toEqual(expect.any(String));
    const list = await client.activities.getActivities({ done: true, person_id: personId });
    expect(list.data!.map((activity) => activity.id)).toEqual([created.data!.id]);
    expect((await api(sim, 'POST', '/api/v2/activities', { type: 'séance' })).status).toBe(400);
  });
});

describe('pipelines and stages', () => {
  it('lists pipelines and their stages with integer ids', async () => {
    const pipelines = await client.pipelines.getPipelines();
    expect(pipelines.data!.map((pipeline) => [pipeline.id, pipeline.name])).toEqual([
      [1, 'Sales pipeline'],
      [2, 'Partnerships'],
    ]);
    const stages = await client.stages.getStages({ pipeline_id: 1, sort_by: 'order_nr', sort_direction: 'desc' });
    expect(stages.data!.map((stage) => stage.id)).toEqual([5, 4, 3, 2, 1]);
    expect((await client.stages.getStage({ id: 3 })).data).toMatchObject({ name: 'Demo Scheduled', pipeline_id: 1 });
  });
});

describe('search', () => {
  it('finds persons by name, email or custom field value, best match first', async () => {
    const fields = (await control(sim, 'GET', '/fields')).body;
    await client.persons.addPerson({
      AddPersonRequest: { name: 'Grace Hopper', emails: [{ value: 'grace@navy.test' }] },
    });
    await client.persons.addPerson({
      AddPersonRequest: { name: 'Hopper Fan', custom_fields: { [fields.person.source]: 'navy referral' } } as any,
    });
    const byName = await api(sim, 'GET', '/api/v2/persons/search?term=hopper');
    expect(byName.body.data.items.map((hit: any) => [hit.item.name, hit.result_score])).toEqual([
      ['Hopper Fan', 0.8],
      ['Grace Hopper', 0.5],
    ]);
    const byEmail = await api(sim, 'GET', '/api/v2/persons/search?term=grace@navy.test&fields=email&exact_match=true');
    expect(byEmail.body.data.items.map((hit: any) => hit.item.emails)).toEqual([['grace@navy.test']]);
    const byCustom = await api(sim, 'GET', '/api/v2/persons/search?term=navy&fields=custom_fields');
    expect(byCustom.body.data.items.map((hit: any) => hit.item.name)).toEqual(['Hopper Fan']);
    expect((await api(sim, 'GET', '/api/v2/persons/search?term=h')).status).toBe(400);
  });
});
