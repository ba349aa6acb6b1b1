"""The container wiring: docker-compose.yml and the Dockerfile agree with each other and with pyproject.toml.

No Docker engine runs the suite, so these read the files and check what a broken deployment would get wrong:
host names, credentials, start order, health checks and the commands each container runs.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "livecommerce"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of NAME=value."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(arg) for arg in cmd]


def conditions(service: dict[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition}; the short list form only waits for a start, so it maps to that."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Volumes as {target: source}, from the short `source:target[:mode]` form or the long mapping form."""
    result = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            result[volume["target"]] = volume.get("source", "")
        else:
            source, target, *_ = str(volume).split(":")
            result[target] = source
    return result


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart", "no") == "no"


def dockerfile_instruction(name: str) -> str | None:
    """The last NAME instruction of the Dockerfile (the one that takes effect), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = None
    for line in text.splitlines():
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == name:
            found = rest.strip()
    return found


def exec_form(instruction: str) -> list[str]:
    """CMD/ENTRYPOINT arguments: the JSON exec form, or the shell form split as the shell would."""
    if instruction.startswith("["):
        return json.loads(instruction)
    return shlex.split(instruction)


def test_the_scaled_shape_has_its_five_services(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "redis", "migrate", "app", "media"} <= services.keys()
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_migrate_app_and_media_run_the_same_image(services: dict[str, dict[str, Any]]) -> None:
    app = services["app"]
    assert app.get("build") is not None or app.get("image") is not None
    for name in ("migrate", "media"):
        assert app.get("build") == services[name].get("build"), name
        assert app.get("image") == services[name].get("image"), name


def test_app_and_media_start_after_healthy_stores_and_a_successful_migration(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("app", "media"):
        assert conditions(services[name]) == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        }, name


def test_migrate_runs_db_upgrade_once_after_postgres_is_healthy(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert command(migrate) == [SCRIPT, "db", "upgrade"]
    assert migrate.get("restart") == "no"  # quoted in YAML: a bare `no` would parse as False
    assert conditions(migrate)["postgres"] == "service_healthy"


def test_app_serves_on_all_interfaces_with_two_workers(services: dict[str, dict[str, Any]]) -> None:
    args = command(services["app"])
    assert args[:2] == [SCRIPT, "serve"]
    options = dict(zip(args[2::2], args[3::2], strict=True))
    assert options == {"--host": "0.0.0.0", "--port": "8000", "--workers": "2"}  # noqa: S104
    assert "8000:8000" in [str(port) for port in services["app"]["ports"]]


def test_database_url_points_at_the_postgres_service_and_its_credentials(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = environment(services["postgres"])
    for name in ("app", "migrate", "media"):
        url = urlsplit(environment(services[name])["DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg", name
        assert url.hostname == "postgres", name
        assert url.hostname in services
        assert url.port in (None, 5432), name
        assert url.username == postgres["POSTGRES_USER"], name
        assert url.password == postgres["POSTGRES_PASSWORD"], name
        assert url.path.lstrip("/") == postgres["POSTGRES_DB"], name


def test_redis_url_points_at_the_redis_service(services: dict[str, dict[str, Any]]) -> None:
    for name in ("app", "media"):  # the media node publishes room status changes on the same bus
        url = urlsplit(environment(services[name])["REDIS_URL"])
        assert url.scheme == "redis", name
        assert url.hostname == "redis", name
        assert url.hostname in services
        assert url.port in (None, 6379), name


def test_workers_share_a_required_secret_key(services: dict[str, dict[str, Any]]) -> None:
    for name in ("app", "migrate", "media"):
        key = environment(services[name])["LIVECOMMERCE_SECRET_KEY"]
        # `:?` makes compose refuse to start without the key rather than let each worker invent one.
        assert key.startswith("${LIVECOMMERCE_SECRET_KEY:?"), name


def test_media_data_lives_on_a_named_volume(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    app = services["app"]
    data_dir = environment(app)["LIVECOMMERCE_DATA_DIR"]
    assert mounts(app).get(data_dir) in (compose.get("volumes") or {})
    assert mounts(services["postgres"]).get("/var/lib/postgresql/data") in (compose.get("volumes") or {})


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    long_running = {name for name, service in services.items() if not is_one_shot(service)}
    assert {"postgres", "redis", "app", "media"} <= long_running
    for name in long_running:
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name


def test_health_checks_probe_the_right_thing(services: dict[str, dict[str, Any]]) -> None:
    def probe(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "pg_isready" in probe("postgres")
    assert "redis-cli ping" in probe("redis")
    assert "http://127.0.0.1:8000/readyz" in probe("app")
    assert "http://127.0.0.1:8001/readyz" in probe("media")


def test_media_runs_one_node_process_that_app_workers_redirect_to(services: dict[str, dict[str, Any]]) -> None:
    media, app = services["media"], services["app"]
    args = command(media)
    assert args[:2] == [SCRIPT, "media"]
    options = dict(zip(args[2::2], args[3::2], strict=True))
    assert options == {"--host": "0.0.0.0", "--port": "8001"}  # noqa: S104
    assert "--workers" not in args  # a broadcast lives in one process's memory
    assert "8001:8001" in [str(port) for port in media["ports"]]
    node_url = environment(media)["LIVECOMMERCE_MEDIA_NODE_URL"]
    # The app redirects to exactly the URL the node records for its rooms, and the node is not in front of itself.
    assert environment(app)["LIVECOMMERCE_MEDIA_NODES"] == node_url
    assert "LIVECOMMERCE_MEDIA_NODE_URL" not in environment(app)
    assert node_url.endswith(":8001}") or urlsplit(node_url).port == 8001


def test_the_media_command_exists_with_the_options_compose_passes() -> None:
    result = CliRunner().invoke(main, ["media", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output


def test_the_image_runs_the_console_script_pyproject_defines() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert SCRIPT in scripts
    entrypoint = dockerfile_instruction("ENTRYPOINT")
    cmd = dockerfile_instruction("CMD")
    assert cmd is not None
    args = (exec_form(entrypoint) if entrypoint else []) + exec_form(cmd)
    assert args[:2] == [SCRIPT, "serve"]
    assert args[args.index("--workers") + 1] == "2"
    assert args[args.index("--port") + 1] == "8000"


def test_the_image_exposes_and_checks_the_served_port() -> None:
    assert dockerfile_instruction("EXPOSE") == "8000 8001"  # the app, and the media process serve starts
    healthcheck = dockerfile_instruction("HEALTHCHECK")
    assert healthcheck is not None
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert dockerfile_instruction("USER") not in (None, "root", "0")
