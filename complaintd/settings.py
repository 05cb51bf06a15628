"""Settings: one TOML file, validated at start-up.

A bad value stops the service with the file, the key and the problem
(``complaintd.toml: smtp.port: Input should be a valid integer``). Secrets may come
from environment variables (``password_env``) instead of the file.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from casework.sealing import Sealer

Security = Literal["ssl", "starttls", "plain"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, key and problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Section):
    name: str = "上海生命绿洲公益服务中心"
    name_en: str = "Shanghai Life Oasis Public Welfare Service Center"
    hotline_phone: str = ""
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,8}$")] = "LO"
    # Language of staff-facing output (CLI, reports): Chinese first.
    language: Literal["zh", "en"] = "zh"
    # Language of mail to complainants: "auto" follows the complaint's own language.
    complainant_language: Literal["auto", "zh", "en", "bilingual"] = "auto"


class Storage(_Section):
    data_dir: Path = Path("var")
    database_url: str = ""


class Deadlines(_Section):
    acknowledge_working_days: Annotated[int, Field(ge=1, le=30)] = 1
    resolve_working_days: Annotated[int, Field(ge=1, le=365)] = 15
    retention_years: Annotated[int, Field(ge=1, le=30)] = 3


class Calendar(_Section):
    fallback: Literal["weekends", "holidays-package"] = "weekends"
    # Parsed and checked by casework.calendar.years_from_config (dates or "a..b" ranges).
    years: dict[str, dict[str, list[str | date]]] = {}


class Schedule(_Section):
    poll_seconds: Annotated[float, Field(gt=0, le=86400)] = 60
    send_seconds: Annotated[float, Field(gt=0, le=86400)] = 30
    sweep_seconds: Annotated[float, Field(gt=0, le=86400)] = 600
    hotline_seconds: Annotated[float, Field(gt=0, le=86400)] = 60
    reconcile_seconds: Annotated[float, Field(gt=0, le=7 * 86400)] = 86400


class _Secret(_Section):
    password: str = ""
    password_env: str = ""

    def secret(self) -> str:
        if self.password_env:
            return os.environ.get(self.password_env, "")
        return self.password


class ImapMailbox(_Secret):
    kind: Literal["imap"]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 993
    security: Security = "ssl"
    username: str
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 50
    timeout_seconds: Annotated[float, Field(gt=0)] = 60
    # Sign-in: the password (or the provider's authorization code), an OAuth token from a
    # command or file (XOAUTH2 / OAUTHBEARER), or Microsoft 365 app-only through msal.
    auth: Literal["password", "xoauth2", "oauthbearer", "m365"] = "password"
    token_command: str = ""
    token_file: Path | None = None
    tenant_id: str = ""
    client_id: str = ""
    # First run on a mailbox with history: from this UID, or from this date (IMAP SINCE).
    start_uid: Annotated[int, Field(ge=0)] = 0
    start_date: date | None = None
    max_message_bytes: Annotated[int, Field(gt=0)] = 50 * 1024 * 1024
    max_attachment_bytes: Annotated[int, Field(gt=0)] = 30 * 1024 * 1024
    # After the commit: move to processed_folder, or leave in place with done_flag set.
    after_commit: Literal["move", "flag"] = "move"
    done_flag: str = "$ComplaintdDone"
    idle: bool = True
    idle_seconds: Annotated[float, Field(gt=0, le=1740)] = 300
    ca_file: Path | None = None


class MaildirMailbox(_Section):
    kind: Literal["maildir"]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
    path: Path


Mailbox = Annotated[ImapMailbox | MaildirMailbox, Field(discriminator="kind")]


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


OptionalPath = Annotated[Path | None, BeforeValidator(_empty_is_none)]


class Hotline(_Section):
    drop_dir: OptionalPath = None
    min_age_seconds: Annotated[float, Field(ge=0)] = 10
    # Instant pick-up (watchdog) besides the periodic scan; a site's own column headings
    # per field (tried before the built-in ones); one sheet of a workbook (empty: all).
    watch: bool = True
    columns: dict[str, list[str]] = {}
    sheet: str = ""
    report_languages: Annotated[list[Literal["zh", "en"]], Field(min_length=1)] = ["zh"]
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 500
    # The daily list of due follow-up calls, mailed to hotline staff at this time (HH:MM).
    callback_list_to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = []
    callback_list_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:30"

    @model_validator(mode="after")
    def _known_column_fields(self) -> Hotline:
        from intake.hotline.columns import FIELDS

        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"columns: unknown fields {', '.join(unknown)}; "
                             f"known: {', '.join(FIELDS)}")
        return self


class Smtp(_Secret):
    transport: Literal["file", "smtp"] = "file"
    outbox_dir: Path = Path("sent-mail")
    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 465
    security: Security = "ssl"
    username: str = ""
    from_address: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = "complaints@example.org"
    from_name: str = "投诉受理中心"
    reply_to: str = ""
    message_id_domain: str = ""
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 50
    timeout_seconds: Annotated[float, Field(gt=0)] = 60
    retry_base_seconds: Annotated[float, Field(gt=0)] = 60
    retry_max_seconds: Annotated[float, Field(gt=0)] = 3600
    give_up_hours: Annotated[float, Field(gt=0)] = 72


class Intake(_Section):
    """Mail intake policy shared by every mailbox."""

    # Backscatter (issue 12): anyone can put any address in From, so automatic answers to
    # outsiders are capped. Acknowledgements to one sender per day (user+tag@ counts as
    # user@; one per case is always the most) and to one mail domain per hour; refusal
    # notices (mail too large, command refused) to one sender per day; all of these
    # together per hour. A withheld answer is recorded on the case (or the quarantine row).
    acknowledgements_per_sender_per_day: Annotated[int, Field(ge=1, le=1000)] = 5
    acknowledgements_per_domain_per_hour: Annotated[int, Field(ge=1, le=100000)] = 30
    refusals_per_sender_per_day: Annotated[int, Field(ge=1, le=1000)] = 1
    auto_replies_per_hour: Annotated[int, Field(ge=1, le=1000000)] = 300
    # Processes that parse a backlog's next batch while the daemon writes the current one
    # (0: parse in the daemon's own process). A single new mail is always parsed in-process.
    parse_workers: Annotated[int, Field(ge=0, le=8)] = 1
    # The authserv-ids our own receiving servers write into Authentication-Results (the
    # part before the first ";"). Only those headers count; when set, a staff command or
    # an authority's answer needs a DMARC pass, or a DKIM pass aligned with the From domain.
    trusted_authserv_ids: list[Annotated[str, Field(min_length=1, max_length=255)]] = []
    # A mail whose taking-in was cut short this many times (the process died or was killed
    # while hung on it) is quarantined with its bytes instead of being parsed again.
    poison_after_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    # A parse worker ends the parse of one mail after this many seconds and reads the mail
    # degraded (its raw text, the case flagged for staff).
    parse_seconds: Annotated[float, Field(gt=0, le=3600)] = 30
    # Attachments kept as files per mail, by count and by total size; the rest stay in the
    # raw mail only, listed on the case as not kept, and the case is flagged for staff.
    max_attachments: Annotated[int, Field(ge=1, le=1000)] = 100
    max_attachments_total_bytes: Annotated[int, Field(ge=1)] = 100 * 1024 * 1024

    @model_validator(mode="after")
    def _caps_fit(self) -> Intake:
        """A part cannot be allowed more than the whole: a per-domain hourly cap above the
        global one would never be reached (a sign of a typo)."""
        part, whole = self.acknowledgements_per_domain_per_hour, self.auto_replies_per_hour
        if part > whole:
            raise ValueError(f"intake.acknowledgements_per_domain_per_hour ({part}) is more "
                             f"than intake.auto_replies_per_hour ({whole})")
        return self


class Templates(_Section):
    override_dir: OptionalPath = None


class Routing(_Section):
    """The routing rules file (categories, staff, authorities, sanctions; see
    config/routing.toml). Empty: every case goes to the triage queue."""

    rules_file: OptionalPath = None
    # Without a rules file: the addresses told of every new case in the triage queue
    # (otherwise nobody would know of it). With rules, the triage supervisor is told.
    triage_to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = []


class Notices(_Section):
    """Outbound notices: languages for staff and authorities, and the sending pace."""

    staff_language: Literal["zh", "en", "bilingual"] = "zh"
    authority_language: Literal["zh", "en", "bilingual"] = "zh"
    # Messages a minute per sender process (0: no limit); the relay's limit, with room.
    rate_per_minute: Annotated[float, Field(ge=0, le=100000)] = 0
    # How long a sender holds the rows it claimed before another may take them over.
    lease_minutes: Annotated[float, Field(gt=0, le=1440)] = 30


class Operator(_Section):
    """Who runs the installation: alerts no staff member can act on (next year's holidays)."""

    alert_to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = []


class ReplyTokens(_Section):
    """The key that signs the reply token of every mail inviting an answer
    (``routing.threads``): without it nobody could tell our threads from forged ones."""

    thread_key: str = ""
    # Read when ``thread_key`` is empty (keeps the key out of the settings file).
    thread_key_env: str = "COMPLAINTD_THREAD_KEY"
    # Demo and tests only: with no key given, one is made with ``secrets`` and kept in
    # ``<data_dir>/thread.key`` (0600). A production installation sets the key itself.
    generate_thread_key: bool = False
    # Keys of before a rotation, still accepted when a reply's token is checked (mail
    # already sent keeps working); new mail is always signed with ``thread_key``. Read
    # from ``previous_thread_keys_env`` (comma-separated) when the list is empty.
    previous_thread_keys: list[str] = []
    previous_thread_keys_env: str = "COMPLAINTD_PREVIOUS_THREAD_KEYS"
    # The token rides in the Reply-To plus-address (complaints+ct-…@): turn off when the
    # intake address's server refuses plus-addresses (subject tag and Message-ID remain).
    token_in_reply_to: bool = True


class Privacy(_Section):
    """Personal-information duties (docs/privacy.md): retention and encryption at rest."""

    # Years an ended case of these categories keeps personal data; others keep
    # [deadlines] retention_years. The purge runs daily at purge_time when enabled.
    retention_by_category: dict[str, Annotated[int, Field(ge=1, le=30)]] = {}
    purge: bool = False
    purge_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "03:30"
    # Encryption at rest of the raw store (mails, attachments, call logs): AES-256-GCM with
    # the keys of key_file, else of the environment variable keys_env ("id:base64" entries,
    # the current first; `complaintd privacy new-key` makes one).
    encrypt_store: bool = False
    key_file: OptionalPath = None
    keys_env: str = "COMPLAINTD_STORE_KEYS"


class Web(_Section):
    """The staff console (``complaintd web``, or inside ``complaintd run`` when enabled)."""

    enabled: bool = False
    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    # The address staff open (links in mail: the one-time sign-in link); empty: from bind/port.
    public_base_url: Annotated[str, Field(pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")] = ""
    # The environment variable holding the secret that signs cookies and one-time links.
    secret_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] = "COMPLAINTD_WEB_SECRET"
    # Secure cookies (HTTPS only); turn off only for a console reached over plain HTTP.
    secure_cookies: bool = True
    # Forwarded headers (X-Forwarded-For/-Proto) are believed only from these addresses.
    trusted_proxies: list[str] = []
    session_idle_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 120
    session_max_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 12
    sign_in_link_hours: Annotated[int, Field(ge=1, le=24 * 14)] = 72

    def secret(self) -> str:
        return os.environ.get(self.secret_env, "")

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.bind in {"0.0.0.0", "::", ""} else self.bind
        return f"http://{host}:{self.port}"


class Public(_Section):
    """The public side (issue 15, docs/web.md): the complaint form, the published
    commitments and the partner API, served with the console by ``complaintd web``; and the
    answers to complainants: progress by mail and on the web, the survey and feedback forms
    (links are served at ``[web] public_base_url``)."""

    enabled: bool = True
    # The reporting mailbox the public pages name; empty: [smtp] reply_to, else from_address.
    mailbox: str = ""
    # Complaints sent through the form from one address in an hour (a honeypot, no CAPTCHA).
    complaints_per_address_per_hour: Annotated[int, Field(ge=1, le=10000)] = 5
    # Calls of the partner API with one key in an hour.
    api_calls_per_key_per_hour: Annotated[int, Field(ge=1, le=100000)] = 120
    # How long a complaint form stays valid after it was opened.
    form_hours: Annotated[int, Field(ge=1, le=24 * 7)] = 24
    # Print the progress page's address in mail (the code works by mail query regardless).
    pages: bool = True
    # How long a link sent by mail works: the survey form (from the outcome mail) and the
    # progress page (from the progress answer).
    survey_link_days: Annotated[int, Field(ge=1, le=365)] = 30
    # Progress answers by mail per case a day (each also counts in intake.auto_replies).
    progress_answers_per_case_per_day: Annotated[int, Field(ge=1, le=100)] = 3
    # Wrong look-ups on the progress page an hour, per client address and per reference;
    # past either, every look-up is refused (right codes too) until the hour has passed.
    attempts_per_address_per_hour: Annotated[int, Field(ge=1, le=10000)] = 20
    attempts_per_reference_per_hour: Annotated[int, Field(ge=1, le=1000)] = 5
    # Feedback forms (意见函) and survey answers accepted per client address an hour.
    forms_per_address_per_hour: Annotated[int, Field(ge=1, le=10000)] = 10


WEB_SECRET_MIN = 32


def check_web_secret(settings: Settings, *, source: str = "<settings>") -> str:
    """The console's secret from the environment, or a ConfigError naming the variable."""
    name = settings.web.secret_env
    secret = settings.web.secret()
    if not secret:
        raise ConfigError(f"{source}: web.secret_env: environment variable {name} is not set "
                          f"(the staff console signs cookies with it; at least "
                          f"{WEB_SECRET_MIN} random characters)")
    if len(secret) < WEB_SECRET_MIN:
        raise ConfigError(f"{source}: web.secret_env: environment variable {name} is too short "
                          f"(at least {WEB_SECRET_MIN} characters)")
    return secret


class Logging(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "json": one JSON object a line (journald, log shippers); env COMPLAINTD_LOG_FORMAT wins.
    format: Literal["logfmt", "json"] = "logfmt"


class Ops(_Section):
    """Operating it (complaintd.ops): health thresholds, metrics, who may read them."""

    # The daemon's Prometheus endpoint (0: none; the console serves /metrics as well).
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    metrics_bind: str = "127.0.0.1"
    # /health and /metrics of the console: from loopback only, or with this bearer token.
    status_token_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] = (
        "COMPLAINTD_STATUS_TOKEN")
    # Health fails when: a mailbox has had no good poll for this long, the oldest unsent
    # mail is this old, or the data folder's disk has less than this free.
    mailbox_stale_minutes: Annotated[float, Field(gt=0)] = 30
    outbox_oldest_minutes: Annotated[float, Field(gt=0)] = 60
    disk_min_free_mb: Annotated[int, Field(ge=0)] = 1024

    def status_token(self) -> str:
        return os.environ.get(self.status_token_env, "")


class Reports(_Section):
    """The annual report's public edition (clause 二(三)) and the director's monthly summary:
    counts from 1 to ``small_count_threshold - 1`` are shown as "<threshold" (statistics
    offices use 10); rates only over at least ``min_denominator`` cases."""

    small_count_threshold: Annotated[int, Field(ge=2, le=1000)] = 10
    min_denominator: Annotated[int, Field(ge=1, le=100000)] = 20
    # Who gets the monthly summary; none: the job queues nothing.
    director_to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = []
    # The summary of last month goes out on this day of the month at this hour (Shanghai).
    monthly_day: Annotated[int, Field(ge=1, le=28)] = 1
    monthly_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"
    language: Literal["zh", "en", "bilingual"] = "zh"


class Settings(_Section):
    organisation: Organisation = Organisation()
    storage: Storage = Storage()
    deadlines: Deadlines = Deadlines()
    calendar: Calendar = Calendar()
    schedule: Schedule = Schedule()
    mailbox: list[Mailbox] = []
    hotline: Hotline = Hotline()
    intake: Intake = Intake()
    smtp: Smtp = Smtp()
    templates: Templates = Templates()
    notices: Notices = Notices()
    logging: Logging = Logging()
    routing: Routing = Routing()
    operator: Operator = Operator()
    security: ReplyTokens = ReplyTokens()
    privacy: Privacy = Privacy()
    web: Web = Web()
    public: Public = Public()
    reports: Reports = Reports()
    ops: Ops = Ops()

    @model_validator(mode="after")
    def _unique_mailbox_names(self) -> Settings:
        names = [m.name for m in self.mailbox]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"mailbox names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def data_dir(self) -> Path:
        return self.storage.data_dir

    @property
    def database_url(self) -> str:
        url = self.storage.database_url
        return url or f"sqlite:///{self.data_dir / 'complaintd.sqlite3'}"


def load_settings(path: Path) -> Settings:
    """Read, validate and anchor ``path``; raise ConfigError naming file, key and problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    settings = settings_from_dict(raw, source=str(path))
    settings = anchor_paths(settings, path.parent.resolve())
    check_secrets(settings, source=str(path))
    check_calendar(settings, source=str(path))
    check_routing(settings)
    check_thread_key(settings, source=str(path))
    return settings


def settings_from_dict(raw: dict[str, Any], *, source: str = "<settings>") -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"] if not _is_union_tag(part))
        lines.append(f"{source}: {key or '(top level)'}: {error['msg']}")
    return "\n".join(lines)


def _is_union_tag(part: object) -> bool:
    return part in {"imap", "maildir"}


def anchor_paths(settings: Settings, base: Path) -> Settings:
    """Relative paths in the file are relative to the file's folder, not to the cwd."""
    data_dir = _anchor(settings.storage.data_dir, base)
    mailboxes = [
        m.model_copy(update={"path": _anchor(m.path, base)}) if isinstance(m, MaildirMailbox) else m
        for m in settings.mailbox
    ]
    drop = settings.hotline.drop_dir
    override = settings.templates.override_dir
    return settings.model_copy(update={
        "storage": settings.storage.model_copy(update={"data_dir": data_dir}),
        "mailbox": mailboxes,
        "hotline": settings.hotline.model_copy(
            update={"drop_dir": _anchor(drop, base) if drop else None}),
        "smtp": settings.smtp.model_copy(
            update={"outbox_dir": _anchor(settings.smtp.outbox_dir, data_dir)}),
        "templates": settings.templates.model_copy(
            update={"override_dir": _anchor(override, base) if override else None}),
        "routing": settings.routing.model_copy(update={"rules_file": _anchor(
            settings.routing.rules_file, base) if settings.routing.rules_file else None}),
    })


def _anchor(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def check_secrets(settings: Settings, *, source: str) -> None:
    """A password named by ``password_env`` must be set: fail at start-up, not at 3 a.m."""
    problems = []
    for index, box in enumerate(settings.mailbox):
        if isinstance(box, ImapMailbox) and box.password_env and not box.secret():
            problems.append(f"mailbox.{index}.password_env: environment variable "
                            f"{box.password_env} is not set")
    smtp = settings.smtp
    if smtp.transport == "smtp" and smtp.password_env and not smtp.secret():
        problems.append(f"smtp.password_env: environment variable {smtp.password_env} is not set")
    if problems:
        raise ConfigError("\n".join(f"{source}: {p}" for p in problems))
    if settings.web.enabled:
        check_web_secret(settings, source=source)


def check_calendar(settings: Settings, *, source: str) -> None:
    """Holiday data from the file must parse, and a chosen fallback must be installed."""
    from casework.calendar import WorkCalendar, years_from_config

    try:
        WorkCalendar.build(extra=years_from_config(settings.calendar.years),
                           fallback=settings.calendar.fallback)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def check_routing(settings: Settings) -> None:
    """The routing rules file must load and be consistent (it names its own key on error)."""
    from routing.directory import RoutingConfigError, load_routing

    if settings.routing.rules_file is not None:
        try:
            load_routing(settings.routing.rules_file)
        except RoutingConfigError as exc:
            raise ConfigError(str(exc)) from None


_KEY_FILE = "thread.key"


def check_thread_key(settings: Settings, *, source: str) -> None:
    """With routing rules, mail invites answers: the key that signs them must be usable."""
    if settings.routing.rules_file is None or settings.security.generate_thread_key:
        return
    try:
        thread_key(settings)
        previous_thread_keys(settings)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def thread_key(settings: Settings) -> bytes:
    """The reply-token key: ``[security] thread_key``, else its environment variable, else
    (``generate_thread_key``, demo and tests) the data folder's generated key."""
    from casework.tokens import key_problem

    security = settings.security
    given = security.thread_key or os.environ.get(security.thread_key_env, "")
    if given:
        where = ("security.thread_key" if security.thread_key
                 else f"security.thread_key_env: environment variable {security.thread_key_env}")
        problem = key_problem(given)
        if problem is not None:
            raise ConfigError(f"{where}: {problem}")
        return given.strip().encode("utf-8")
    if security.generate_thread_key:
        return generated_key(settings.data_dir / _KEY_FILE)
    raise ConfigError(
        f"security.thread_key: 未设置回复码密钥（也未设置环境变量 {security.thread_key_env}）/ "
        f"not set (nor the environment variable {security.thread_key_env}); it signs the "
        f"reply codes that let staff and authorities answer by mail. Set at least 32 "
        f"characters, e.g. the output of python3 -c 'import secrets; print(secrets.token_hex(32))'")


def previous_thread_keys(settings: Settings) -> tuple[bytes, ...]:
    """The reply-token keys of before a rotation (verification only): ``[security]
    previous_thread_keys``, else its environment variable, comma-separated. Each must be
    as strong as the current key; a bad one stops the start naming its place."""
    from casework.tokens import key_problem

    security = settings.security
    if security.previous_thread_keys:
        given = list(security.previous_thread_keys)
        where = "security.previous_thread_keys"
    else:
        variable = os.environ.get(security.previous_thread_keys_env, "")
        given = [k for k in variable.split(",") if k.strip()]
        where = (f"security.previous_thread_keys_env: environment variable "
                 f"{security.previous_thread_keys_env}")
    for number, key in enumerate(given, start=1):
        problem = key_problem(key)
        if problem is not None:
            raise ConfigError(f"{where}: key {number}: {problem}")
    return tuple(k.strip().encode("utf-8") for k in given)


def generated_key(path: Path) -> bytes:
    """The key kept at ``path``, made with ``secrets`` the first time (0600, never replaced;
    written aside and linked into place, so a second process never reads half a key)."""
    import secrets

    from casework.tokens import key_problem

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        finally:
            aside.unlink()
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if key_problem(key) is not None:
        raise ConfigError(f"{path}: the generated thread key is damaged; remove the file to "
                          f"make a new one (reply codes already sent stop working)")
    return key.encode("ascii")


def store_sealer(settings: Settings) -> Sealer | None:
    """The raw store's keys when ``[privacy] encrypt_store`` is on (None when off);
    ConfigError naming the key when they are missing or malformed."""
    from casework.sealing import Sealer, SealError, parse_keys

    privacy = settings.privacy
    if not privacy.encrypt_store:
        return None
    if privacy.key_file is not None:
        source = f"privacy.key_file ({privacy.key_file})"
        try:
            text = privacy.key_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot be read: {exc}") from exc
    else:
        source = f"privacy.keys_env: environment variable {privacy.keys_env}"
        text = os.environ.get(privacy.keys_env, "")
        if not text.strip():
            raise ConfigError(
                f"{source}: 未设置（privacy.encrypt_store = true 需要密钥）/ not set "
                f"(encrypt_store needs the store keys; make one with `complaintd privacy "
                f"new-key`)")
    try:
        return Sealer(parse_keys(text, source=source))
    except SealError as exc:
        raise ConfigError(str(exc)) from exc
