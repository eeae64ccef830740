/**
 * The lakelet JupyterLab extension: a left-sidebar panel showing the configured
 * lake (tiers, usage, entries), refreshed while notebook kernels run.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { LakeletClient } from './api';
import { LakeletPanel } from './panel';
import { BusyIdleRefresher } from './refresh';
import { ILakeletSidebar } from './tokens';

export { ILakeletSidebar } from './tokens';

const COMMAND_REFRESH = 'lakelet:refresh';
const COMMAND_OPEN = 'lakelet:open';

const plugin: JupyterFrontEndPlugin<ILakeletSidebar> = {
  id: 'lakelet:sidebar',
  description: 'A sidebar showing the tiers of the lakelet lake and their entries.',
  autoStart: true,
  provides: ILakeletSidebar,
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): ILakeletSidebar => {
    const panel = new LakeletPanel(new LakeletClient(app.serviceManager.serverSettings));
    app.shell.add(panel, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    app.commands.addCommand(COMMAND_REFRESH, {
      label: 'Lakelet: Refresh Storage Sidebar',
      execute: () => panel.refresh()
    });
    app.commands.addCommand(COMMAND_OPEN, {
      label: 'Lakelet: Show Storage Sidebar',
      execute: () => app.shell.activateById(panel.id)
    });
    if (palette) {
      palette.addItem({ command: COMMAND_REFRESH, category: 'Lakelet' });
      palette.addItem({ command: COMMAND_OPEN, category: 'Lakelet' });
    }

    if (tracker) {
      const refresher = new BusyIdleRefresher({
        refresh: () => {
          if (panel.isVisible) {
            void panel.refresh();
          }
        }
      });
      tracker.widgetAdded.connect((_, notebook) => {
        const context = notebook.sessionContext;
        const id = notebook.id;
        context.statusChanged.connect((_, status) => refresher.update(id, status));
        notebook.disposed.connect(() => refresher.remove(id));
      });
      panel.disposed.connect(() => refresher.dispose());
    }
    return panel;
  }
};

export default plugin;
