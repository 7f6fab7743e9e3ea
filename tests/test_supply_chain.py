"""Reproducible installs: requirements.lock pins every dependency pyproject.toml names, each with PyPI's hashes, and
the environment the tests run in holds exactly the locked versions (`make install` installs from the lock)."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<rest>.*)$")


def locked() -> dict[str, tuple[str, list[str]]]:
    """The lock file's entries: canonical name -> (version, its hashes)."""
    entries, current = {}, None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match["name"])
            entries[current] = (match["version"], [])
            line = match["rest"]
        elif not line.startswith((" ", "\t")):
            current = None
        if current:
            entries[current][1].extend(re.findall(r"--hash=(sha256:[0-9a-f]{64})", line))
    return entries


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [
        Requirement(text) for text in [*project["dependencies"], *(item for group in extras.values() for item in group)]
    ]


def test_the_lock_pins_every_dependency_of_the_project_with_hashes():
    entries = locked()
    requirements = project_requirements()
    assert len(requirements) > 20  # the parse found the project's dependencies, not an empty list
    missing = [str(req) for req in requirements if canonicalize_name(req.name) not in entries]
    assert not missing, f"not in requirements.lock (run make lock): {missing}"
    outside = [
        f"{req} (locked {entries[canonicalize_name(req.name)][0]})"
        for req in requirements
        if not req.specifier.contains(entries[canonicalize_name(req.name)][0], prereleases=True)
    ]
    assert not outside, f"requirements.lock pins versions pyproject.toml refuses (run make lock): {outside}"


def test_every_locked_package_carries_a_sha256_hash():
    entries = locked()
    assert {"django", "gunicorn", "pip", "setuptools"} <= entries.keys()
    assert not [name for name, (_, hashes) in entries.items() if not hashes]


def test_the_tests_run_on_exactly_the_locked_versions():
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    differ = {
        name: f"locked {version}, installed {installed.get(name, 'nothing')}"
        for name, (version, _) in locked().items()
        if installed.get(name) != version
    }
    assert not differ, f"make install installs from requirements.lock: {differ}"
