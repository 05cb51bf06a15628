"""The systemd units: what ``complaintd install-units`` writes, accepted by systemd's own
checker, hardened, writable only where the service writes; deploy/systemd is the same."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaintd.cli import main
from complaintd.ops import units

ROOT = Path(__file__).resolve().parents[1]
HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
    "ProtectHome": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
    "User": "complaintd", "UMask": "0077", "RestrictSUIDSGID": "yes",
}


def settings_file(tmp_path: Path) -> Path:
    (tmp_path / "drop").mkdir()
    config = tmp_path / "complaintd.toml"
    config.write_text("""
[storage]
data_dir = "var"
[[mailbox]]
kind = "maildir"
name = "local"
path = "mail"
[hotline]
drop_dir = "drop"
""", encoding="utf-8")
    return config


def service_section(path: Path) -> dict[str, list[str]]:
    """The [Service] keys, each with every value given (SystemCallFilter comes twice)."""
    values: dict[str, list[str]] = {}
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    parser.read_string(path.read_text(encoding="utf-8"))  # it is an INI file at all
    assert parser.has_section("Install") and parser.has_section("Unit")
    return values


def test_install_units_writes_hardened_units_for_the_settings(tmp_path: Path) -> None:
    config = settings_file(tmp_path)
    out = tmp_path / "units"
    result = CliRunner().invoke(main, ["--lang", "en", "--config", str(config),
                                       "install-units", "--dir", str(out),
                                       "--exec", sys.executable])
    assert result.exit_code == 0, result.output
    assert "Written:" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(units.NAMES)
    for name, command in (("complaintd.service", "run"), ("complaintd-web.service", "web")):
        keys = service_section(out / name)
        for key, value in HARDENING.items():
            assert keys[key] == [value], (name, key)
        assert keys["ExecStart"] == [f"{sys.executable} --config {config} {command}"]
        # Only the data folder, the drop folder and the Maildir: nothing else is writable.
        assert sorted(keys["ReadWritePaths"][0].split()) == sorted(
            str((tmp_path / d).resolve()) for d in ("var", "drop", "mail"))
        assert "COMPLAINTD_LOG_FORMAT=json" in keys["Environment"]
        assert (out / name).stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    options = units.UnitOptions(exec=Path(sys.executable), config=tmp_path / "c.toml",
                                data_dir=tmp_path, user="root")
    written = units.install(options, tmp_path / "units")
    done = subprocess.run(["systemd-analyze", "verify", *map(str, written)],
                          capture_output=True, text=True, check=False)
    # verify exits 0 even for an unknown key; its warnings are what tell.
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_a_path_systemd_would_split_is_refused(tmp_path: Path) -> None:
    options = units.UnitOptions(exec=Path(sys.executable), config=Path("/etc/my config.toml"),
                                data_dir=tmp_path)
    with pytest.raises(ValueError, match="must not hold spaces"):
        units.render(options)


def test_deploy_folder_holds_what_the_command_writes_for_the_default_paths() -> None:
    for name, text in units.render(units.DEFAULT).items():
        assert (ROOT / "deploy" / "systemd" / name).read_text(encoding="utf-8") == text
