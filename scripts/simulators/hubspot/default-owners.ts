/** The users (owners) a simulated portal starts with. */

export interface OwnerSeed {
  id: string;
  userId: number;
  email: string;
  firstName: string;
  lastName: string;
}

export const DEFAULT_OWNERS: OwnerSeed[] = [
  { id: '71000001', userId: 52000001, email: 'alex.morgan@example.com', firstName: 'Alex', lastName: 'Morgan' },
  { id: '71000002', userId: 52000002, email: 'priya.shah@example.com', firstName: 'Priya', lastName: 'Shah' },
  { id: '71000003', userId: 52000003, email: 'jonas.berg@example.com', firstName: 'Jonas', lastName: 'Berg' },
];
