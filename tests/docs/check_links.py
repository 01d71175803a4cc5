#!/usr/bin/env python3
"""Fails when a relative link in the documentation leads nowhere.

    python3 tests/docs/check_links.py

Checks README.md, every Markdown file under docs/ and bench/README.md: each relative link
(`[text](path)`, `[text](path#anchor)`, `[text](#anchor)`) must name a file or directory of the
repository, and an anchor must be one that GitHub makes from a heading of the target Markdown file
(lower case, punctuation dropped, spaces as hyphens, -1, -2… for repeats). Links in code blocks and
inline code are not links; absolute URLs (https:, mailto:) are not checked.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LINK = re.compile(r"\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def documents():
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").rglob("*.md"))
    yield ROOT / "bench" / "README.md"


def prose(text):
    """The text without its fenced code blocks."""
    return FENCE.sub("", text)


def anchors(path):
    """The anchors GitHub makes for the headings of a Markdown file."""
    seen = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(path):
    text = prose(path.read_text(encoding="utf-8"))
    # Inline code outside a link's brackets is not a link: `[a](b)` written as code stays text.
    for line_number, line in enumerate(text.splitlines(), 1):
        for match in LINK.finditer(line):
            before = line[: match.start()]
            if len(INLINE_CODE.sub("", before).split("`")) % 2 == 0:
                continue  # inside an unclosed inline code span
            yield line_number, match.group(1)


def check(path):
    problems = []
    count = 0
    for line_number, target in links(path):
        count += 1
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # https:, mailto:
        where = f"{path.relative_to(ROOT)}:{line_number}: {target}"
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        try:
            resolved.relative_to(ROOT)
        except ValueError:
            problems.append(f"{where}: leads outside the repository")
            continue
        if not resolved.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor:
            if resolved.suffix != ".md" or resolved.is_dir():
                problems.append(f"{where}: an anchor into something that is not a Markdown file")
            elif anchor not in anchors(resolved):
                problems.append(f"{where}: no heading makes the anchor #{anchor}")
    return count, problems


def main():
    problems = []
    checked = 0
    total = 0
    for path in documents():
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT)}: missing")
            continue
        checked += 1
        count, found = check(path)
        total += count
        problems.extend(found)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check_links: {checked} files, {total} links, every relative one resolves")


if __name__ == "__main__":
    main()
