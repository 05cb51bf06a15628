"""systemd units for the daemon and the console, written by ``complaintd install-units``.

Hardened: a dedicated user, the whole file system read-only (``ProtectSystem=strict``)
except the folders the service writes (its data folder, and the hotline drop folder and
Maildir folders the settings name), a private /tmp, no new privileges, no capabilities,
system calls limited to what a service needs. Logs go to the journal as JSON lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from complaintd.settings import MaildirMailbox, Settings

NAMES = ("complaintd.service", "complaintd-web.service")

_HARDENING = """\
User=$user
Group=$user
UMask=0077
WorkingDirectory=$data_dir
EnvironmentFile=-$env_file
Environment=COMPLAINTD_CONFIG=$config
Environment=COMPLAINTD_LOG_FORMAT=json
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$writable
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
CapabilityBoundingSet=
AmbientCapabilities=
DevicePolicy=closed
KeyringMode=private
# Not set: MemoryDenyWriteExecute (cffi callbacks of argon2 and re2 may need W+X pages).
"""

_DAEMON = """\
[Unit]
Description=complaintd: complaint mailbox and hotline service
# How to run it: docs/operations.md in the complaintd source.
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=$exec --config $config run
# SIGTERM lets the job in hand finish (complaintd.service); a long send round may take
# the send interval.
KillSignal=SIGTERM
TimeoutStopSec=180
Restart=on-failure
RestartSec=10
""" + _HARDENING + """
[Install]
WantedBy=multi-user.target
"""

_WEB = """\
[Unit]
Description=complaintd: the staff console
# How to run it: docs/operations.md in the complaintd source.
After=network-online.target postgresql.service complaintd.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=$exec --config $config web
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=on-failure
RestartSec=5
""" + _HARDENING + """
[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class UnitOptions:
    exec: Path
    config: Path
    data_dir: Path
    user: str = "complaintd"
    env_file: Path = Path("/etc/complaintd/complaintd.env")
    writable: tuple[Path, ...] = ()


def writable_paths(settings: Settings) -> tuple[Path, ...]:
    """What the service writes: the data folder (database, raw store, outbox files), the
    hotline drop folder and Maildir folders; nothing else."""
    paths = [settings.data_dir, settings.smtp.outbox_dir]
    if settings.hotline.drop_dir is not None:
        paths.append(settings.hotline.drop_dir)
    paths += [box.path for box in settings.mailbox if isinstance(box, MaildirMailbox)]
    return _outermost(p.resolve() for p in paths)


def _outermost(paths: Iterable[Path]) -> tuple[Path, ...]:
    """Without the paths inside another one (the outbox folder inside the data folder)."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return tuple(kept)


def render(options: UnitOptions) -> dict[str, str]:
    """The two unit files' text by name."""
    values = {"exec": _quoted(options.exec), "config": _quoted(options.config),
              "data_dir": _quoted(options.data_dir), "user": options.user,
              "env_file": _quoted(options.env_file),
              "writable": " ".join(_quoted(p) for p in options.writable or (options.data_dir,))}
    return {name: Template(text).substitute(values)
            for name, text in zip(NAMES, (_DAEMON, _WEB), strict=True)}


def _quoted(path: Path) -> str:
    text = str(path)
    if any(c in text for c in " \t\"'\\\n$%;"):
        raise ValueError(f"{text}: a path for a unit file must not hold spaces, quotes, "
                         f"'$', '%' or ';'")
    return text


def install(options: UnitOptions, directory: Path) -> list[Path]:
    """Write both units into ``directory`` (e.g. /etc/systemd/system), 0644."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(options).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        written.append(path)
    return written


# The paths of deploy/systemd/ (a virtualenv in /opt/complaintd, settings in /etc).
DEFAULT = UnitOptions(exec=Path("/opt/complaintd/bin/complaintd"),
                      config=Path("/etc/complaintd/complaintd.toml"),
                      data_dir=Path("/var/lib/complaintd"))
