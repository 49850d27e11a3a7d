/**
 * The Adaptive Card version that introduced each element, property and enum value alertmux may send, pinned from
 * the Adaptive Cards schema sources (microsoft/AdaptiveCards `schemas/src`: a property without a `version` is 1.0)
 * and the schema explorer (https://adaptivecards.io/explorer/). Only what a notification card could plausibly use
 * is listed; anything else is unknown, and a test using it fails until it is added here with its source.
 */
type Since = Record<string, string>;

/** Properties every element has (`Element.json`, `BlockElement.json`). */
const ELEMENT: Since = { type: '1.0', id: '1.0', spacing: '1.0', separator: '1.0', height: '1.1', isVisible: '1.2', requires: '1.2', fallback: '1.2' };
/** Properties every action has (`actions/Action.json`). */
const ACTION: Since = { type: '1.0', id: '1.0', title: '1.0', iconUrl: '1.1', style: '1.2', fallback: '1.2', requires: '1.2', tooltip: '1.5', isEnabled: '1.5', mode: '1.5' };

/** Properties by element or action type, and of the card itself. */
export const PROPERTIES: Record<string, Since> = {
  AdaptiveCard: {
    type: '1.0',
    $schema: '1.0',
    version: '1.0',
    body: '1.0',
    actions: '1.0',
    fallbackText: '1.0',
    speak: '1.0',
    lang: '1.0',
    backgroundImage: '1.0',
    verticalContentAlignment: '1.1',
    selectAction: '1.1',
    minHeight: '1.2',
    refresh: '1.4',
    authentication: '1.4',
    rtl: '1.5',
  },
  TextBlock: {
    ...ELEMENT,
    text: '1.0',
    color: '1.0',
    horizontalAlignment: '1.0',
    isSubtle: '1.0',
    maxLines: '1.0',
    size: '1.0',
    weight: '1.0',
    wrap: '1.0',
    fontType: '1.2',
    style: '1.5',
  },
  FactSet: { ...ELEMENT, facts: '1.0' },
  Fact: { title: '1.0', value: '1.0' },
  Container: { ...ELEMENT, items: '1.0', selectAction: '1.1', style: '1.0', verticalContentAlignment: '1.1', bleed: '1.2', minHeight: '1.2', rtl: '1.5' },
  ActionSet: { ...ELEMENT, actions: '1.2' },
  Table: { ...ELEMENT, columns: '1.5', rows: '1.5' },
  'Action.OpenUrl': { ...ACTION, url: '1.0' },
};

/** Where an element type itself first appeared (a type missing here is unknown). */
export const ELEMENT_TYPES: Since = { TextBlock: '1.0', FactSet: '1.0', Container: '1.0', ActionSet: '1.2', Table: '1.5', 'Action.OpenUrl': '1.0' };

/** Enum values by property (or `Type.property`), with the version that introduced them (`schemas/src/enums`; Adaptive Cards enums are case-insensitive). */
export const ENUMS: Record<string, Since> = {
  color: { default: '1.0', dark: '1.0', light: '1.0', accent: '1.0', good: '1.0', warning: '1.0', attention: '1.0' },
  size: { default: '1.0', small: '1.0', medium: '1.0', large: '1.0', extralarge: '1.0' },
  weight: { default: '1.0', lighter: '1.0', bolder: '1.0' },
  fontType: { default: '1.2', monospace: '1.2' },
  'TextBlock.style': { default: '1.5', heading: '1.5' }, // TextBlockStyle: the whole enum is 1.5
};

/**
 * Teams' own extension of the card, outside the versioned schema:
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format (full-width cards).
 */
export const HOST_EXTENSIONS = new Set(['msteams']);

const newer = (a: string, b: string) => {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am > bm : an > bn;
};

/** Every element, property or enum value of `card` that its declared version does not have (empty when all is valid). */
export function versionProblems(card: Record<string, unknown>): string[] {
  const declared = String(card['version']);
  const problems: string[] = [];
  const check = (node: Record<string, unknown>, type: string, path: string) => {
    const known = PROPERTIES[type];
    if (!known) return void problems.push(`${path}: unknown type ${type}`);
    const since = ELEMENT_TYPES[type];
    if (since && newer(since, declared)) problems.push(`${path}: ${type} needs ${since}`);
    for (const [key, value] of Object.entries(node)) {
      if (type === 'AdaptiveCard' && HOST_EXTENSIONS.has(key)) continue;
      const version = known[key];
      if (!version) {
        problems.push(`${path}.${key}: not a property of ${type}`);
        continue;
      }
      if (newer(version, declared)) problems.push(`${path}.${key}: needs ${version}`);
      const values = ENUMS[`${type}.${key}`] ?? ENUMS[key];
      if (values && typeof value === 'string' && type !== 'AdaptiveCard') {
        const valueSince = values[value.toLowerCase()];
        if (!valueSince) problems.push(`${path}.${key}: unknown value ${value}`);
        else if (newer(valueSince, declared)) problems.push(`${path}.${key}: ${value} needs ${valueSince}`);
      }
    }
  };
  check(card, 'AdaptiveCard', 'card');
  const walk = (items: unknown, path: string) => {
    if (!Array.isArray(items)) return;
    items.forEach((item: Record<string, unknown>, i) => {
      const at = `${path}[${i}]`;
      check(item, String(item['type']), at);
      if (item['type'] === 'FactSet') (item['facts'] as Array<Record<string, unknown>>).forEach((f, j) => check(f, 'Fact', `${at}.facts[${j}]`));
      walk(item['items'], `${at}.items`);
      walk(item['actions'], `${at}.actions`);
    });
  };
  walk(card['body'], 'card.body');
  walk(card['actions'], 'card.actions');
  return problems;
}
