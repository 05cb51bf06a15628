"""Jinja2 templates for every notice, in Chinese, English and both.

A notice ``NAME`` in language ``LANG`` is three files under ``NAME/``: ``LANG.subject.j2``,
``LANG.text.j2`` and optionally ``LANG.html.j2`` (autoescaped). The organisation may copy
any of them into its override folder and edit it there (clause 四(二): the guides it
publishes are its own); the package's copy is the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
)
from markupsafe import Markup, escape

from casework.status import CHANNEL_LABELS, STATUS_LABELS
from notifications.samples import SAMPLE_CONTEXTS

LANGUAGES = ("zh", "en", "bilingual")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class TemplateCheckError(RuntimeError):
    """A template is missing or does not render; the message names it."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


class _Environment(Environment):
    """Templates' globals as one plain dict: Jinja's default (a ``ChainMap`` over the
    environment's globals) is walked twice for every template rendered, included or
    extended, which showed as a tenth of rendering a notice. The renderer adds
    filters, never globals, after it is made, so nothing is missed by copying."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class TemplateRenderer:
    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if override_dir is not None:
            if not override_dir.is_dir():
                raise TemplateCheckError(f"template override folder {override_dir} not found")
            loaders.append(FileSystemLoader(override_dir))
        loaders.append(PackageLoader("notifications", "templates"))
        self.env = _Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=_is_html,
            trim_blocks=True,
            lstrip_blocks=True,
            # The templates checked at start-up (check_all) are the ones used until the
            # next start; an override edited meanwhile is not half-taken without a check.
            # It also spares a stat of every template file for every mail (a quarter of
            # the rendering time).
            auto_reload=False,
            # A plain dict, not the default LRU of 400: ``extends`` and ``include`` look a
            # template up on every render, and the LRU's lock and reordering showed in
            # profiles; the notices' templates are a few hundred and never evicted anyway.
            cache_size=-1,
        )
        self._compiled: dict[tuple[str, str], tuple[Template, Template, Template | None]] = {}
        self.env.filters["zh_date"] = zh_date
        self.env.filters["en_date"] = en_date
        self.env.filters["nl2br"] = nl2br
        self.env.filters["zh_status"] = lambda value: STATUS_LABELS.get(value, (value, value))[0]
        self.env.filters["en_status"] = lambda value: STATUS_LABELS.get(value, (value, value))[1]
        self.env.filters["zh_channel"] = lambda value: CHANNEL_LABELS.get(value, (value, value))[0]
        self.env.filters["en_channel"] = lambda value: CHANNEL_LABELS.get(value, (value, value))[1]

    def render(self, name: str, lang: str, context: Mapping[str, Any]) -> RenderedMail:
        """Render notice ``name`` in ``lang`` ("zh", "en" or "bilingual")."""
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
        subject_template, text_template, html_template = self._templates(name, lang)
        subject = subject_template.render(context)
        text = text_template.render(context)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=text.rstrip() + "\n",
            html=html_template.render(context) if html_template is not None else None,
        )

    def _templates(self, name: str, lang: str) -> tuple[Template, Template, Template | None]:
        """The notice's compiled templates, looked up once: they do not change while
        the renderer lives (``auto_reload`` is off), and a batch renders the same few
        notices thousands of times (a missing HTML template is an exception each time)."""
        found = self._compiled.get((name, lang))
        if found is None:
            prefix = f"{name}/{lang}"
            found = (self.env.get_template(f"{prefix}.subject.j2"),
                     self.env.get_template(f"{prefix}.text.j2"),
                     self._optional(f"{prefix}.html.j2"))
            self._compiled[(name, lang)] = found
        return found

    def notices(self) -> list[str]:
        """Every notice that has templates (package or override folder), sorted."""
        return sorted(_notices(self.env.list_templates(extensions=["j2"])))

    def source_of(self, name: str, lang: str) -> str:
        """Where ``name``/``lang``'s text template comes from: "override" or "package"."""
        loader = self.env.loader
        assert isinstance(loader, ChoiceLoader)
        first = loader.loaders[0]
        if isinstance(first, FileSystemLoader):
            prefix = f"{name}/{lang}."
            if any(t.startswith(prefix) for t in first.list_templates()):
                return "override"
        return "package"

    def check_all(self) -> list[str]:
        """Render every notice in every language with sample data; return what was checked.

        Called at start-up, so a broken override stops the service with the template's
        name instead of failing later inside a case's transaction.
        """
        self._check_every_notice_has_samples()
        checked: list[str] = []
        for name, sample in SAMPLE_CONTEXTS.items():
            for lang in LANGUAGES:
                try:
                    self.render(name, lang, sample())
                except Exception as exc:
                    raise TemplateCheckError(
                        f"template {name}/{lang} does not render: {type(exc).__name__}: {exc}"
                    ) from exc
                checked.append(f"{name}/{lang}")
        return checked

    def _optional(self, template: str) -> Template | None:
        # Only the lookup is guarded: a missing file that an HTML template includes is
        # raised at render time and is an error, not "no HTML part".
        try:
            return self.env.get_template(template)
        except TemplateNotFound:
            return None

    def _check_every_notice_has_samples(self) -> None:
        for notice in _notices(self.env.list_templates(extensions=["j2"])):
            if notice not in SAMPLE_CONTEXTS:
                raise TemplateCheckError(
                    f"templates for {notice!r} have no sample data in notifications.contexts"
                )


def _notices(template_names: Iterable[str]) -> set[str]:
    # Folders starting with "_" hold shared pieces (layouts, includes), not notices.
    return {
        name.split("/", 1)[0] for name in template_names if "/" in name and not name.startswith("_")
    }


def _is_html(template_name: str | None) -> bool:
    return template_name is not None and template_name.endswith(".html.j2")


def zh_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def en_date(value: date) -> str:
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


def nl2br(value: str) -> Markup:
    """Multi-line text for HTML: each line escaped, joined by ``<br>``."""
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())
