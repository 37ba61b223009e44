"""The user guide cannot go stale: every picture it shows is one the browser journeys take, and every picture the
journeys take is shown somewhere in it. No database and no browser: this reads files only."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
E2E = ROOT / "tests" / "e2e"
ROLE_PAGES = {"operator.md": "接线员", "handler.md": "承办人", "producer.md": "编辑/导播", "supervisor.md": "督办",
              "admin.md": "管理员"}

IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s#]+)(?:#[^)]*)?\)")
SHOT_CALL = re.compile(r"(?<![\w.])screenshot\(")  # the fixture, not WebElement.screenshot
SHOT_NAME = re.compile(r"""(?<![\w.])screenshot\(\s*\w+\s*,\s*["']([^"']+)["']""")


def guide_pages() -> list[Path]:
    return sorted(GUIDE.glob("*.md"))


def referenced_images() -> dict[str, list[str]]:
    """image path (relative to docs/guide) -> the pages showing it."""
    found: dict[str, list[str]] = {}
    for page in guide_pages():
        for target in IMAGE.findall(page.read_text(encoding="utf-8")):
            found.setdefault(target, []).append(page.name)
    return found


def screenshots_taken() -> dict[str, str]:
    """screenshot name -> the test file taking it, read from the journeys' source."""
    names: dict[str, str] = {}
    for source in sorted(E2E.glob("test_*.py")):
        if source.name == Path(__file__).name:
            continue
        text = source.read_text(encoding="utf-8")
        calls = [m for m in SHOT_CALL.finditer(text) if not text[:m.start()].rstrip().endswith("def")]
        literal = SHOT_NAME.findall(text)
        # A name built at run time could not be checked against the guide: every call names its picture.
        assert len(literal) == len(calls), f"{source.name}: a screenshot(...) call without a literal name"
        for name in literal:
            assert name not in names, f"screenshot {name!r} taken by {names[name]} and {source.name}"
            names[name] = source.name
    return names


def test_the_guide_has_an_index_and_a_page_per_role():
    assert (GUIDE / "README.md").is_file()
    index = (GUIDE / "README.md").read_text(encoding="utf-8")
    for page, role in ROLE_PAGES.items():
        text = (GUIDE / page).read_text(encoding="utf-8")
        assert text.startswith(f"# {role}"), f"{page} should open with the role's name, {role}"
        assert f"({page})" in index, f"README.md does not link {page}"
        assert "(README.md)" in text, f"{page} has no way back to the index"


def test_every_link_between_the_pages_resolves():
    for page in guide_pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            assert (GUIDE / target).exists(), f"{page.name} links {target}, which is not there"


def test_every_picture_in_the_guide_exists():
    missing = {img: pages for img, pages in referenced_images().items() if not (GUIDE / img).is_file()}
    assert not missing, f"pictures shown but not in docs/guide: {missing}"
    for img in referenced_images():
        assert img.startswith("img/") and img.endswith(".png"), f"{img}: screenshots live in img/ as PNG"


def test_every_screenshot_the_journeys_take_is_in_the_guide():
    shown = {Path(img).stem for img in referenced_images()}
    taken = screenshots_taken()
    assert len(taken) >= 30, f"only {len(taken)} screenshots found in tests/e2e"
    unused = {name: test for name, test in taken.items() if name not in shown}
    assert not unused, f"screenshots taken but not shown in the guide: {unused}"


def test_every_picture_is_taken_by_a_journey():
    """A picture no test takes would never be updated: it would go stale with the next change of the page."""
    taken = screenshots_taken()
    shown = {Path(img).stem for img in referenced_images()}
    stray = sorted(p.name for p in (GUIDE / "img").glob("*.png") if p.stem not in taken)
    assert not stray, f"pictures in docs/guide/img that no journey takes: {stray}"
    assert shown <= set(taken), f"pictures shown that no journey takes: {sorted(shown - set(taken))}"


def test_the_project_readme_links_the_guide():
    assert "docs/guide/README.md" in (ROOT / "README.md").read_text(encoding="utf-8")
