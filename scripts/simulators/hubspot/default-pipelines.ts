/** The default deal pipeline of a new HubSpot portal. */

export interface PipelineStageSeed {
  id: string;
  label: string;
  probability: string;
  isClosed: boolean;
}

export interface PipelineSeed {
  id: string;
  label: string;
  stages: PipelineStageSeed[];
}

export const DEFAULT_PIPELINES: { deals: PipelineSeed[] } = {
  deals: [
    {
      id: 'default',
      label: 'Sales Pipeline',
      stages: [
        { id: 'appointmentscheduled', label: 'Appointment Scheduled', probability: '0.2', isClosed: false },
        { id: 'qualifiedtobuy', label: 'Qualified To Buy', probability: '0.4', isClosed: false },
        { id: 'presentationscheduled', label: 'Presentation Scheduled', probability: '0.6', isClosed: false },
        { id: 'decisionmakerboughtin', label: 'Decision Maker Bought-In', probability: '0.8', isClosed: false },
        { id: 'contractsent', label: 'Contract Sent', probability: '0.9', isClosed: false },
        { id: 'closedwon', label: 'Closed Won', probability: '1.0', isClosed: true },
        { id: 'closedlost', label: 'Closed Lost', probability: '0.0', isClosed: true },
      ],
    },
  ],
};
