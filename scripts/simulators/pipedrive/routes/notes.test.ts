// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveSimulator } from '../server.ts';
import { api, clientError, control, startSimulator, v1Client, v2Client } from '../test-support.ts';

let sim: PipedriveSimulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(async () => {
  await control(sim, 'POST', '/reset');
});

describe('notes through the official v1 client', () => {
  it('creates, reads, updates and deletes a note attached to a deal and a person', async () => {
    const v2 = v2Client(sim);
    const person = (await v2.persons.addPerson({ AddPersonRequest: { name: 'Ann Archer' } })).data!;
    const deal = (await v2.deals.addDeal({ AddDealRequest: { title: 'Renewal', person_id: person.id } })).data!;
    const notes = v1Client(sim).notes;

    const created = await notes.addNote({
      AddNoteRequest: { content: 'Called <b>Ann</b>', deal_id: deal.id, person_id: person.id },
    } as any);
    expect(created.data).toMatchObject({
      content: 'Called <b>Ann</b>',
      deal_id: deal.id,
      person_id: person.id,
      deal: { title: 'Renewal' },
      person: { name: 'Ann Archer' },
      organization: null,
      active_flag: true,
      user_id: sim.state.users.me().id,
    });
    expect(created.data!.add_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

    await control(sim, 'PUT', '/clock', { advanceMs: 2_000 });
    const updated = await notes.updateNote(
      { id: created.data!.id!, NoteRequest: { content: 'Called Ann twice' } } as any,
    );
    expect(updated.data!.content).toBe('Called Ann twice');
    expect(updated.data!.update_time).not.toBe(created.data!.update_time);
    expect((await notes.getNote({ id: created.data!.id! })).data!.content).toBe('Called Ann twice');

    const deleted = await notes.deleteNote({ id: created.data!.id! });
    expect(deleted).toMatchObject({ success: true, data: true });
    const gone = await clientError(notes.getNote({ id: created.data!.id! }));
    expect(gone).toMatchObject({ success: false, error: 'Note not found' });
  });

  it('requires content and something to attach the note to', async () => {
    expect((await api(sim, 'POST', '/v1/notes', { content: 'orphan' })).status).toBe(400);
    expect((await api(sim, 'POST', '/v1/notes', { person_id: 1 })).status).toBe(400);
    const missingDeal = await api(sim, 'POST', '/v1/notes', { content: 'x', deal_id: 42 });
    expect(missingDeal.body.error).toContain('Deal 42 not found');
  });

  it('pages with start/limit and filters by what the note is attached to', async () => {
    await control(sim, 'POST', '/seed', { entity: 'persons', count: 3 });
    await control(sim, 'POST', '/seed', { entity: 'notes', count: 12 });
    const notes = v1Client(sim).notes;
    const first = await notes.getNotes({ start: 0, limit: 5 });
    expect(first.data).toHaveLength(5);
    expect(first.additional_data!.pagination).toEqual({
      start: 0,
      limit: 5,
      more_items_in_collection: true,
      next_start: 5,
    });
    const last = await notes.getNotes({ start: 10, limit: 5 });
    expect(last.data).toHaveLength(2);
    expect(last.additional_data!.pagination!.more_items_in_collection).toBe(false);

    const all = (await notes.getNotes({ limit: 500 })).data!;
    const personId = all[0].person_id!;
    const forPerson = await notes.getNotes({ person_id: personId });
    expect(forPerson.data!.map((note) => note.id)).toEqual(
      all.filter((note) => note.person_id === personId).map((note) => note.id),
    );
    const newestFirst = await api(sim, 'GET', '/v1/notes?sort=id%20DESC&limit=3');
    expect(newestFirst.body.data.map((note: any) => note.id)).toEqual([12, 11, 10]);
  });

  it('accepts form-encoded v1 bodies and the /api/v1 prefix', async () => {
    const person = (await v2Client(sim).persons.addPerson({ AddPersonRequest: { name: 'Form' } })).data!;
    const response = await fetch(`${sim.url}/api/v1/notes`, {
      method: 'POST',
      headers: { 'x-api-token': 'test-api-token', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ content: 'form note', person_id: String(person.id), pinned_to_person_flag: '1' }),
    });
    const body = await response.json();
    expect(response.status).toBe(200);
    expect(body.data).toMatchObject({ content: 'form note', person_id: person.id, pinned_to_person_flag: true });
  });
});
