import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = ['README.md', 'ARCHITECTURE.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');

/** Relative Markdown link targets of a page, without their #fragment (code blocks and spans left out). */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith('#'))
    .map((href) => href.split('#')[0] ?? '');
}

describe('links of README.md, ARCHITECTURE.md and docs/', () => {
  it('point at files that exist', () => {
    const broken = PAGES.flatMap((page) => relativeLinks(read(page)).filter((href) => !existsSync(join(ROOT, dirname(page), href))).map((href) => `${page}: ${href}`));
    expect(broken).to.deep.equal([]);
  });

  it('README links the architecture page', () => {
    expect(read('README.md')).to.contain('](ARCHITECTURE.md)');
  });
});

describe('ARCHITECTURE.md', () => {
  const text = read('ARCHITECTURE.md');

  it('names only source and test paths that exist', () => {
    const paths = [...text.matchAll(/`((?:src|test|bench|scripts)\/[\w./-]*)`/g)].map((m) => m[1] ?? '');
    expect(paths.length).to.be.greaterThan(20);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).to.deep.equal([]);
  });

  it('places every folder of src/ (a new folder needs its place in the map and in the import rule)', () => {
    const folders = readdirSync(join(ROOT, 'src')).filter((f) => statSync(join(ROOT, 'src', f)).isDirectory());
    const lint = readFileSync(join(ROOT, 'eslint.config.js'), 'utf8');
    for (const folder of folders) {
      expect(text, folder).to.match(new RegExp(`\\b${folder}/`));
      expect(lint, `eslint.config.js layers: ${folder}`).to.match(new RegExp(`^\\s+${folder}: `, 'm'));
    }
  });
});
