// Small DOM builder for panels that build their page by hand.
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
