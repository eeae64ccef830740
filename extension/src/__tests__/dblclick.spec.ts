import { installDoubleClickOpen, openButtonFor } from '../dblclick';

function browser(): { option: HTMLOptionElement; button: HTMLButtonElement; clicks: () => number } {
  document.body.innerHTML = `
    <div class="lakelet-browser">
      <div class="lakelet-dblclick-open"><select size="4"><option>data/</option></select></div>
      <button class="lakelet-open-button">open ▸</button>
    </div>
    <div class="other"><select size="2"><option>x</option></select></div>`;
  const button = document.querySelector('button') as HTMLButtonElement;
  let n = 0;
  button.addEventListener('click', () => (n += 1));
  return { option: document.querySelector('option') as HTMLOptionElement, button, clicks: () => n };
}

describe('double-click to open', () => {
  it('clicks the open button of the browser holding the option', () => {
    const { option, clicks } = browser();
    const remove = installDoubleClickOpen(document);
    option.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    expect(clicks()).toBe(1);
    remove();
    option.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    expect(clicks()).toBe(1);
  });

  it('ignores other lists and disabled buttons', () => {
    const { button, clicks } = browser();
    const remove = installDoubleClickOpen(document);
    expect(openButtonFor(document.querySelector('.other option'))).toBeNull();
    document.querySelector('.other option')!.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    button.disabled = true;
    document.querySelector('option')!.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    expect(clicks()).toBe(0);
    remove();
  });
});
