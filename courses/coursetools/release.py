"""Release a tier: bump its version, open its changelog section, check who depends on it.

Each tier's ``pyproject.toml`` is the single source of its version (hatchling reads it)
and of its declared ranges on the tiers below; its ``CHANGELOG.md`` says what changed.
``nox -s release -- TIER PART`` (PART: major, minor or patch) shows, and with
``--apply`` writes:

* the new version in ``packages/tinytorch-TIER/pyproject.toml`` (``0.2.0`` + minor ->
  ``0.3.0``; a major or minor bump resets the parts after it);
* a changelog section ``## X.Y.Z — DATE`` on top of the previous ones, holding the
  entries of an ``## Unreleased`` section if there is one, else a placeholder line
  that the output says to fill in;

then checks, and says what needs doing (it changes nothing outside the tier):

* every dependant tier whose declared range excludes the new version (``tinytorch-arch``
  requires ``tinytorch-foundation>=0.2,<0.3``: a 0.3.0 release needs a range update in
  arch, and a release of arch, before the two can be installed together);
* the tier's own ranges on its lower tiers still admit the versions in the tree;
* every course file that pins the tier (it keeps building from the commit tagged with
  the old version until its pin moves);
* the tag to create, ``tinytorch-TIER-vX.Y.Z``, refusing a version whose tag exists.

It never commits or tags: the printed ``git`` commands are for the releaser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from coursetools.tiers import REPO_ROOT, Tier, normalize

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PARTS = ("major", "minor", "patch")
_VERSION_LINE = re.compile(r'^(version\s*=\s*")([^"]+)(")', re.MULTILINE)
_UNRELEASED = re.compile(r"^## +Unreleased[^\n]*\n", re.MULTILINE | re.IGNORECASE)


class ReleaseError(ValueError):
    """The release cannot go ahead as asked."""


@dataclass
class Plan:
    tier: Tier
    old: str
    new: str
    tag: str
    date: str
    edits: dict[Path, tuple[str, str]] = field(default_factory=dict)  # path -> (old, new)
    actions: list[str] = field(default_factory=list)  # what the releaser must still do
    notes: list[str] = field(default_factory=list)  # checks that passed

    def diff(self) -> str:
        out = []
        for path, (before, after) in self.edits.items():
            out += difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{path.name}",
                f"b/{path.name}",
            )
        return "".join(out)


def bump(version: str, part: str) -> str:
    """``0.2.0`` + ``minor`` -> ``0.3.0``; a pre-release or dev suffix is dropped."""
    if part not in PARTS:
        raise ReleaseError(f"unknown part {part!r}: choose {', '.join(PARTS)}")
    major, minor, patch = [*Version(version).release, 0, 0][:3]
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def suggested_range(version: str) -> str:
    """The usual range for a dependant: compatible releases of ``version`` (0.x: same minor)."""
    v = Version(version)
    if v.major == 0:
        return f">={v.major}.{v.minor},<{v.major}.{v.minor + 1}"
    return f">={v.major}.{v.minor},<{v.major + 1}"


def _with_version(pyproject: str, new: str) -> str:
    project = pyproject.find("[project]")
    match = _VERSION_LINE.search(pyproject, project if project >= 0 else 0)
    if match is None:
        raise ReleaseError('no version = "..." line in the [project] table')
    return pyproject[: match.start(2)] + new + pyproject[match.end(2) :]


def _with_section(changelog: str, new: str, date: str) -> tuple[str, bool]:
    """The changelog with a section for ``new``; and whether its entries are only a placeholder."""
    heading = f"## {new} — {date}\n"
    unreleased = _UNRELEASED.search(changelog)
    if unreleased:
        return changelog[: unreleased.start()] + heading + changelog[unreleased.end() :], False
    first = re.search(r"^## ", changelog, re.MULTILINE)
    at = first.start() if first else len(changelog.rstrip("\n")) + 1
    section = f"{heading}\n- (describe what changed in {new})\n\n"
    text = changelog if first else changelog.rstrip("\n") + "\n\n"
    return text[:at] + section + text[at:], True


def _existing_tags(root: Path) -> set[str]:
    result = subprocess.run(
        ["git", "-C", str(root), "tag", "--list", "tinytorch-*"], capture_output=True, text=True
    )
    return set(result.stdout.split()) if result.returncode == 0 else set()


def plan(tier_name: str, part: str, root: Path = REPO_ROOT, date: str | None = None) -> Plan:
    """Everything a release of ``tier_name`` would change and require; changes nothing."""
    packages = root / "packages"
    directory = packages / f"tinytorch-{tier_name}"
    if not (directory / "pyproject.toml").is_file():
        known = ", ".join(
            p.name.removeprefix("tinytorch-") for p in sorted(packages.glob("tinytorch-*"))
        )
        raise ReleaseError(f"no tier {tier_name!r} in {packages} (tiers: {known})")
    tier = Tier.load(directory)
    new = bump(tier.version, part)
    date = date or dt.date.today().isoformat()
    result = Plan(tier, tier.version, new, f"{tier.project}-v{new}", date)
    if result.tag in _existing_tags(root):
        raise ReleaseError(f"tag {result.tag} exists already: {tier.project} {new} is released")

    pyproject = directory / "pyproject.toml"
    before = pyproject.read_text(encoding="utf-8")
    result.edits[pyproject] = (before, _with_version(before, new))
    changelog = directory / "CHANGELOG.md"
    before = changelog.read_text(encoding="utf-8") if changelog.is_file() else "# Changelog\n"
    after, placeholder = _with_section(before, new, date)
    result.edits[changelog] = (before, after)
    if placeholder:
        result.actions.append(
            f"write the changes of {new} in {changelog} (it has no '## Unreleased' section; "
            "a placeholder line stands in)"
        )

    tiers = {
        t.project: t
        for t in (Tier.load(p.parent) for p in packages.glob("tinytorch-*/pyproject.toml"))
    }
    for other in sorted(tiers.values(), key=lambda t: t.project):
        for text in other.dependencies:
            requirement = Requirement(text)
            name = normalize(requirement.name)
            if other.project == tier.project and name in tiers:
                lower = tiers[name]
                if not requirement.specifier.contains(lower.version, prereleases=True):
                    result.actions.append(
                        f"{tier.project} requires {text}, but the tree holds {name} "
                        f"{lower.version}: fix the range before releasing"
                    )
            if name != tier.project:
                continue
            if requirement.specifier.contains(new, prereleases=True):
                result.notes.append(f"{other.project} requires {text}: admits {new}")
            else:
                result.actions.append(
                    f"{other.project} requires {text}, which excludes {new}: to use the new "
                    f"release, change it to {tier.project}{suggested_range(new)} in "
                    f"{other.root / 'pyproject.toml'} and release {other.name} too"
                )
    for course in sorted((root / "courses").glob("*.toml")):
        try:
            pinned = tomllib.loads(course.read_text(encoding="utf-8")).get("tiers", {})
        except tomllib.TOMLDecodeError:
            continue
        version = pinned.get(tier.name, {}).get("version") if isinstance(pinned, dict) else None
        if version:
            result.actions.append(
                f"{course.relative_to(root)} pins {tier.name} {version}: it will not build "
                f"from this tree until its pin moves to {new} (or build it from the commit "
                f"tagged {tier.project}-v{version})"
            )
    return result


def apply(release: Plan) -> None:
    for path, (_, after) in release.edits.items():
        path.write_text(after, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.release", description="Bump a tier's version (dry run)."
    )
    parser.add_argument("tier", help="foundation, arch or opt")
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--apply", action="store_true", help="write the changes (default: show)")
    parser.add_argument("--date", help="date of the changelog section (default: today)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        release = plan(args.tier, args.part, args.root, args.date)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    print(f"{release.tier.project}: {release.old} -> {release.new}\n")
    print(release.diff())
    for note in release.notes:
        print(f"ok      {note}")
    for action in release.actions:
        print(f"TODO    {action}")
    if args.apply:
        apply(release)
        print("\nwritten. After committing, tag the release:\n")
    else:
        print("\ndry run: nothing written (--apply writes). After applying and committing:\n")
    print(f"    git tag -a {release.tag} -m '{release.tier.project} {release.new}'")
    print(f"    git push origin {release.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
