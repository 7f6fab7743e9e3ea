"""The Dockerfile and compose.yaml run what the Procfile, the Makefile and the README say, word for word: a
container deployment cannot drift from the tested one. (Parsed, not built: CI does not build images.)"""

import io
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parent.parent


def _procfile(process: str) -> str:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{process}:"))


def _makefile_recipe(target: str) -> list[str]:
    """The commands of a Makefile rule, with $(BIN) and $(PYTHON) as the Dockerfile spells them."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(
            line.strip().replace("$(BIN)", ".venv/bin").replace("$(PYTHON)", "python").replace("$(VENV)", ".venv")
        )
    return recipe


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO((ROOT / "Dockerfile").read_bytes()), env_replace=False)


def _stages(dockerfile) -> list[list[dict]]:
    stages = []
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages and instruction["instruction"] != "COMMENT":
            stages[-1].append(instruction)
    return stages


def _commands(stage, instruction="RUN") -> list[str]:
    """Each command of the stage's RUN lines (split at &&), its whitespace normalised."""
    found = []
    for item in stage:
        if item["instruction"] == instruction:
            found += [" ".join(part.split()) for part in item["value"].split("&&")]
    return found


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_the_image_is_python_3_12_slim_with_the_front_end_files_from_a_node_stage(dockerfile):
    assets, app = _stages(dockerfile)
    assert assets[0]["value"].startswith("node:") and assets[0]["value"].endswith(" AS assets")
    assert app[0]["value"] == "python:3.12-slim" and dockerfile.baseimage == "python:3.12-slim"
    # `make install`'s npm step, without the test-only packages (axe-core).
    [npm] = _commands(assets)
    make_npm = next(command for command in _makefile_recipe("node_modules/.installed") if command.startswith("npm"))
    assert set(shlex.split(make_npm)) <= set(shlex.split(npm)) and "--omit=dev" in npm
    copied = {
        item["value"].split()[-1] for item in app if item["instruction"] == "COPY" and "--from=assets" in item["value"]
    }
    vendored = {
        Path(source).relative_to(settings.BASE_DIR).as_posix()
        for _, source in (entry for entry in settings.STATICFILES_DIRS if isinstance(entry, tuple))
    }
    assert copied == vendored == {"node_modules/bootstrap/dist", "node_modules/chart.js/dist"}


def test_the_image_installs_exactly_what_make_install_does_from_the_hashed_lock(dockerfile):
    app = _stages(dockerfile)[-1]
    make_install = [
        c for c in _makefile_recipe("$(VENV)/.installed") if c.startswith(("python -m venv", ".venv/bin/pip"))
    ]
    assert make_install == [
        "python -m venv .venv",
        ".venv/bin/pip install --quiet --require-hashes -r requirements.lock",
        ".venv/bin/pip install --quiet --no-deps --no-build-isolation -e .",
    ]
    assert [c for c in _commands(app) if c.startswith(("python -m venv", ".venv/bin/pip"))] == make_install


def test_the_image_collects_the_static_files_as_the_readme_says_and_runs_as_a_user_that_is_not_root(dockerfile):
    app = _stages(dockerfile)[-1]
    readme = _readme_section("Deploying")
    collect = ".venv/bin/python manage.py collectstatic --noinput"
    assert collect in readme and "export DJANGO_SETTINGS_MODULE=hjp.settings.production" in readme
    [collecting] = [c for c in _commands(app) if "collectstatic" in c]
    assert collecting.startswith("DJANGO_SETTINGS_MODULE=hjp.settings.production ") and collecting.endswith(collect)
    users = [item["value"] for item in app if item["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")


def test_the_image_runs_the_procfiles_web_process(dockerfile):
    assert json.loads(dockerfile.cmd) == ["sh", "-c", _procfile("web")]


def test_compose_runs_web_worker_beat_postgresql_and_redis_with_the_procfiles_commands(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    assert "command" not in services["web"]  # the image's: the Procfile's web process
    assert services["web"]["build"] == "."
    for process in ("worker", "beat"):
        assert services[process]["command"] == ["sh", "-c", _procfile(process)]
    migrate = services["migrate"]["command"]
    assert migrate[:2] == ["sh", "-c"] and migrate[2].endswith(".venv/bin/python manage.py migrate --noinput")
    assert ".venv/bin/python manage.py migrate --noinput" in _readme_section("Deploying")
    for process in ("web", "worker", "beat"):
        assert services[process]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "/healthz/ready" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["db"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    # Every secret comes from the operator's .env, none has a default.
    environment = services["web"]["environment"]
    for secret in ("SECRET_KEY", "EVIDENCE_ENCRYPTION_KEYS"):
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", environment[secret])


def test_the_readme_tells_how_to_deploy_with_containers():
    section = _readme_section("Deploying with containers")
    assert "compose.yaml" in section and "docker compose up" in section and "Dockerfile" in section
