// What both CRM drivers of the simulation share: a user's action on a record
// another side may have deleted meanwhile (the simulator answers 404).

/** Runs `action`; a 404 from the simulator's control API yields `ifGone` instead of an error. */
export async function unlessGone(action, ifGone) {
  try {
    return await action();
  } catch (error) {
    if (/→ 404/.test(String(error?.message))) return ifGone;
    throw error;
  }
}
