"""Settings: a bad value stops start-up with the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaintd.settings import ConfigError, ImapMailbox, MaildirMailbox, load_settings

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "complaintd.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["complaintd.example.toml", "demo.toml"])
def test_shipped_configs_load(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTD_IMAP_PASSWORD", "secret")
    monkeypatch.setenv("COMPLAINTD_SMTP_PASSWORD", "secret")
    settings = load_settings(ROOT / "config" / name)
    assert settings.organisation.reference_prefix == "LO"
    assert settings.data_dir.is_absolute()


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = write(tmp_path, '[[mailbox]]\nkind = "maildir"\nname = "m"\npath = "mail"\n')
    settings = load_settings(path)
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'complaintd.sqlite3'}"
    box = settings.mailbox[0]
    assert isinstance(box, MaildirMailbox) and box.path == tmp_path / "mail"
    assert settings.smtp.outbox_dir == tmp_path / "var" / "sent-mail"


@pytest.mark.parametrize(("text", "expected"), [
    ("[smtp]\nport = \"x\"\n", "smtp.port: Input should be a valid integer"),
    ("[smtp]\nport = 70000\n", "smtp.port: Input should be less than or equal to 65535"),
    ("[deadlines]\nresolve_working_days = 0\n", "deadlines.resolve_working_days"),
    ("[organisation]\nreference_prefix = \"lo-1\"\n", "organisation.reference_prefix"),
    ("[smtp]\ntransprot = \"smtp\"\n", "smtp.transprot: Extra inputs are not permitted"),
    ("[[mailbox]]\nkind = \"imap\"\nname = \"a\"\nusername = \"u\"\n",
     "mailbox.0.host: Field required"),
    ("[[mailbox]]\nkind = \"pop3\"\nname = \"a\"\n", "mailbox.0"),
    ("[[mailbox]]\nkind = \"maildir\"\nname = \"a\"\npath = \"x\"\n"
     "[[mailbox]]\nkind = \"maildir\"\nname = \"a\"\npath = \"y\"\n", "repeated: a"),
    ("[organisation\nname = 1\n", "not valid TOML"),
])
def test_bad_values_name_file_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_missing_password_environment_variable(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    path = write(tmp_path, '[[mailbox]]\nkind = "imap"\nname = "r"\nhost = "h"\n'
                           'username = "u"\npassword_env = "NO_SUCH_PASSWORD_VAR"\n')
    with pytest.raises(ConfigError, match=r"mailbox\.0\.password_env: .*NO_SUCH_PASSWORD_VAR"):
        load_settings(path)
    monkeypatch.setenv("NO_SUCH_PASSWORD_VAR", "s3cret")
    box = load_settings(path).mailbox[0]
    assert isinstance(box, ImapMailbox) and box.secret() == "s3cret"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")
