/**
 * The lakelet JupyterLab extension: a left-sidebar panel showing the configured
 * lake (tiers, usage, entries), refreshed while notebook kernels run.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { LakeletClient } from './api';
import { installDoubleClickOpen } from './dblclick';
import { kernelHome, findProducerCell } from './kernel';
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
    installDoubleClickOpen(document); // double-click opens a folder in the notebook browsers
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
      // the probe below makes the kernel go busy -> idle; those transitions must not trigger
      // another refresh (which would probe again, forever)
      let probing = 0;
      panel.lakeSource = async () => {
        const notebook = tracker.currentWidget;
        if (!notebook) {
          return { home: null, label: "Server's lake (no notebook open)" };
        }
        probing += 1;
        let home: string | null;
        try {
          home = await kernelHome(notebook.sessionContext.session?.kernel ?? null);
        } finally {
          probing -= 1;
        }
        if (home === null) {
          return { home: null, label: `Server's lake (the kernel of ${notebook.title.label} did not answer)` };
        }
        return { home, label: `Lake of the kernel of ${notebook.title.label}` };
      };
      panel.jumpToProducer = (kind: string, name: string) => {
        const notebook = tracker.currentWidget as NotebookPanel | null;
        if (!notebook) {
          return false;
        }
        const cells = notebook.content.widgets.map(cell => ({
          id: cell.model.id,
          source: cell.model.sharedModel.getSource()
        }));
        const index = findProducerCell(cells, kind, name);
        if (index < 0) {
          return false;
        }
        const content = notebook.content;
        content.activeCellIndex = index;
        const cell = content.widgets[index];
        void content.scrollToItem(index, 'center');
        cell.node.classList.add('jp-Lakelet-flash');
        setTimeout(() => cell.node.classList.remove('jp-Lakelet-flash'), 2000);
        app.shell.activateById(notebook.id);
        return true;
      };
      tracker.currentChanged.connect(() => {
        if (panel.isVisible) {
          void panel.refresh();
        }
      });
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
        context.statusChanged.connect((_, status) => {
          if (probing === 0) {
            refresher.update(id, status);
          }
        });
        notebook.disposed.connect(() => refresher.remove(id));
      });
      panel.disposed.connect(() => refresher.dispose());
    }
    return panel;
  }
};

export default plugin;
