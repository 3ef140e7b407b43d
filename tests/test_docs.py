"""The README and the pages under docs/: short enough to read, every link resolves, and what they
say about the code is what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mnistbench.plugin import hookspecs
from tests.conftest import REPO

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
MAX_README_LINES = 250
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def local_links() -> list[tuple[str, str]]:
    """(page, target) for every link from the README or a docs page to a file of this repo."""
    found = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if not re.match(r"[a-z]+:", target):
                found.append((str(page.relative_to(REPO)), target))
    return found


def test_the_readme_reads_in_five_minutes():
    lines = README.read_text().count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines, over {MAX_README_LINES}"


def test_the_readme_links_every_docs_page():
    linked = {target for page, target in local_links() if page == "README.md"}
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"docs/{page.name}" in linked, f"README.md does not link docs/{page.name}"


def test_the_links_are_found():
    assert len(local_links()) >= 10


@pytest.mark.parametrize(
    ("page", "target"), local_links(), ids=[f"{p}->{t}" for p, t in local_links()]
)
def test_a_link_resolves(page, target):
    path, _, anchor = target.partition("#")
    file = (REPO / page).parent / path if path else REPO / page
    assert file.exists(), f"{page} links {target}: no such file"
    if anchor:
        assert anchor in anchors(file), f"{page} links {target}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_speaks_of_the_product_not_of_where_it_was_made(page):
    text = page.read_text()
    for phrase in ("/work/", "../shared", "this session", "scratch"):
        assert phrase not in text, f"{page.name} says {phrase!r}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_seed_means_a_random_seed_only(page):
    """The notebooks the variants come from are source notebooks, never 'seed notebooks'."""
    text = page.read_text().lower()
    for phrase in ("seed notebook", "the seed's", "seed bug"):
        assert phrase not in text, f"{page.name} says {phrase!r}"


def test_plugins_md_states_the_hook_version_the_registry_loads():
    docs = (REPO / "docs" / "plugins.md").read_text()
    stated = set(re.findall(r"MNISTBENCH_HOOK_VERSION = (\d+)", docs))
    assert stated == {str(hookspecs.HOOK_VERSION)}


def test_plugins_md_names_every_shipped_backend():
    docs = (REPO / "docs" / "plugins.md").read_text()
    for folder in sorted((REPO / "plugins").glob("mnistbench-*")):
        if "mnistbench.backends" in (folder / "pyproject.toml").read_text():
            assert f"plugins/{folder.name}" in docs, f"docs/plugins.md does not name {folder.name}"
