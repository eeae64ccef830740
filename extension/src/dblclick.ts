/**
 * Double-click to open in the lakelet browsers (ipywidgets): a `<select>` cannot report a
 * double-click to the kernel, so one listener on the document turns a double-click on an
 * option of a `.lakelet-dblclick-open` list into a click on its browser's
 * `.lakelet-open-button`. The kernel receives the selection first (the first click), then the
 * button's click, in order, and opens the selected folder.
 */

/** The open button of the browser holding `target`, if `target` is an option of a double-click list. */
export function openButtonFor(target: EventTarget | null): HTMLButtonElement | null {
  if (!(target instanceof Element)) {
    return null;
  }
  const list = target.closest('.lakelet-dblclick-open');
  if (!list) {
    return null;
  }
  const browser = list.closest('.lakelet-browser');
  const button = browser?.querySelector('.lakelet-open-button button, button.lakelet-open-button');
  return button instanceof HTMLButtonElement ? button : null;
}

/** Install the listener on `doc`; returns a function removing it. */
export function installDoubleClickOpen(doc: Document): () => void {
  const listener = (event: Event): void => {
    const button = openButtonFor(event.target);
    if (button && !button.disabled) {
      button.click();
    }
  };
  doc.addEventListener('dblclick', listener);
  return () => doc.removeEventListener('dblclick', listener);
}
