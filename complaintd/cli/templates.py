"""Staff commands for the notice templates: which exist, and what each will look like."""

from __future__ import annotations

import click
from rich.table import Table

from complaintd.cli.context import Context, console, fail
from notifications.renderer import LANGUAGES, TemplateCheckError
from notifications.samples import SAMPLE_CONTEXTS


@click.group()
def templates() -> None:
    """通知模板 / notice templates."""


@templates.command("list")
@click.pass_obj
def list_templates(obj: Context) -> None:
    """列出所有通知模板及其来源 / list every notice template and where it comes from."""
    app, t = obj.app()
    renderer = app.renderer
    names = renderer.notices()
    table = Table(title=t("templates_title", n=len(names)))
    for key in ("col_notice", "col_languages", "col_source"):
        table.add_column(t(key))
    for name in names:
        sources = {renderer.source_of(name, lang) for lang in LANGUAGES}
        source = t("source_override") if "override" in sources else t("source_package")
        table.add_row(name, ", ".join(LANGUAGES), source)
    console.print(table)
    app.close()


@templates.command("preview")
@click.argument("name")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="zh",
              show_default=True, help="邮件语言 / language of the mail")
@click.option("--html", "show_html", is_flag=True, help="显示 HTML 部分 / show the HTML part")
@click.pass_obj
def preview(obj: Context, name: str, language: str, show_html: bool) -> None:
    """用示例数据显示通知 / render a notice with sample data."""
    app, t = obj.app()
    if name not in SAMPLE_CONTEXTS:
        fail(t("template_unknown", name=name, names=", ".join(sorted(SAMPLE_CONTEXTS))), code=1)
    try:
        mail = app.renderer.render(name, language, SAMPLE_CONTEXTS[name]())
    except Exception as exc:  # an override that does not render: say which and why
        fail(t("config_error", detail=TemplateCheckError(
            f"template {name}/{language} does not render: {type(exc).__name__}: {exc}")))
        raise AssertionError("unreachable") from exc
    # Plain output (no rich markup): the text is the organisation's, brackets included.
    click.echo(f"Subject: {mail.subject}\n")
    click.echo(mail.text)
    if show_html and mail.html is not None:
        click.echo(mail.html)
    app.close()
