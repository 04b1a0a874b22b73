#!/usr/bin/env python3
"""Fails when a relative link in README.md or docs/*.md does not resolve to a file, or names an anchor that the
target page has no heading for. Links to other sites are not fetched. Run from anywhere: paths are taken from the
repository root (this script's parent directory)."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    s = re.sub(r'`', '', heading.strip().lower())
    s = re.sub(r'[^\w\- ]', '', s)
    return s.replace(' ', '-')


def prose(text):
    """The text outside fenced code blocks and inline code, where links are links."""
    out, fenced = [], False
    for line in text.split('\n'):
        if line.lstrip().startswith('```'):
            fenced = not fenced
            continue
        if not fenced:
            out.append(re.sub(r'`[^`]*`', '', line))
    return out


def anchors(page):
    seen, result = {}, set()
    for line in prose(page.read_text(encoding='utf-8')):
        m = re.match(r'#{1,6}\s+(.*)', line)
        if m:
            a = slug(m.group(1))
            n = seen.get(a, 0)
            seen[a] = n + 1
            result.add(a if n == 0 else f'{a}-{n}')
    return result


def main():
    pages = [ROOT / 'README.md'] + sorted((ROOT / 'docs').glob('*.md'))
    broken = []
    for page in pages:
        for line in prose(page.read_text(encoding="utf-8")):
            for target in LINK.findall(line):
                if re.match(r'[a-z][a-z0-9+.-]*:', target):
                    continue  # another site (https:, mailto:): not checked here
                path, _, anchor = target.partition('#')
                file = page if path == '' else (page.parent / path).resolve()
                where = f'{page.relative_to(ROOT)}: {target}'
                if not file.exists():
                    broken.append(f'{where} (no such file)')
                elif anchor and file.suffix == '.md' and anchor not in anchors(file):
                    broken.append(f'{where} (no heading for #{anchor})')
    for b in broken:
        print(f'broken link: {b}', file=sys.stderr)
    print(f'check-links: {len(pages)} pages, {len(broken)} broken links')
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
