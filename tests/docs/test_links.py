"""Every relative link in README.md and docs/*.md resolves inside the repository.

A link to a Markdown file's `#anchor` must name one of its headings, spelled as
GitHub spells heading anchors. Links to other sites are not followed (no network).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, - for spaces."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {anchor(m) for m in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    return LINK.findall(text)


def test_the_docs_exist():
    """The README links these guides; they must all be there."""
    names = {p.name for p in DOCS}
    for name in ("tiers.md", "real-clusters.md", "statistics.md", "lab.md",
                 "journals.md", "gamedays.md", "safety.md", "benchmarks.md",
                 "troubleshooting.md"):  # fmt: skip
        assert name in names


def test_anchor_spelling():
    """Backticks, colons, parentheses and dots go; spaces become hyphens."""
    assert anchor("`meshdrill lab explain`: where will requests go?") == (
        "meshdrill-lab-explain-where-will-requests-go"
    )
    assert anchor("Exec into client pods (the guides' `kubectl exec ... curl`)") == (
        "exec-into-client-pods-the-guides-kubectl-exec--curl"
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve_inside_the_repository(doc: Path):
    """Each relative link names an existing file under the root (and its heading)."""
    problems = []
    for target in links(doc):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif (
            fragment and resolved.suffix == ".md" and fragment not in anchors(resolved)
        ):
            problems.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert not problems, f"{doc.name}: " + "; ".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_references_outside_the_repository(doc: Path):
    """No path into the team's shared folder or to documents that are not here."""
    text = doc.read_text(encoding="utf-8")
    for banned in ("../shared", "/work/", "seeds", "DESIGN", "PLAN.md", "design card"):
        assert banned not in text, f"{doc.name} mentions {banned!r}"


def test_readme_discovers_the_distribution():
    """`chaos discover` takes the distribution's name, without installing anything."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "chaos discover meshdrill --no-install" in readme
    assert "discover chaosext" not in readme
