// Small DOM builder for panels that build their page by hand.
import { TEST_HIDDEN_REASON } from '../../src/core/track/format';

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** A toolkit button (<vscode-button>) with a data-action for tests. */
export function button(label: string, action: string, onClick: () => void, appearance = 'secondary'): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', appearance);
  b.setAttribute('data-action', action);
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/** The "Show test" checkbox of the Training and Compare panels, with the one-line reason test metrics are hidden while it is off. */
export function showTestToggle(showTest: boolean, onChange: (on: boolean) => void): HTMLElement {
  const box = h('input', { type: 'checkbox', id: 'show-test', 'data-action': 'show-test' });
  box.checked = showTest;
  box.addEventListener('change', () => onChange(box.checked));
  return h('p', { class: 'muted test-toggle' }, h('label', {}, box, ' Show test'), showTest ? '' : ` — ${TEST_HIDDEN_REASON}`);
}
