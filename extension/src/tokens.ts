import { Token } from '@lumino/coreutils';

/** The lakelet sidebar, for other extensions that want to refresh or reveal it. */
export interface ILakeletSidebar {
  /** Reload the topology (and the open tier's page). */
  refresh(): Promise<void>;
  /** Show the entries of the tier with this node id. */
  showTier(id: string): Promise<void>;
}

export const ILakeletSidebar = new Token<ILakeletSidebar>(
  'lakelet:ILakeletSidebar',
  'The lakelet storage sidebar: refresh it or open a tier.'
);
