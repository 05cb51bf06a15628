"""`complaintd templates list|preview` and the start-up check over every notice, with an
override folder as an organisation would use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintd.cli import main
from notifications.renderer import TemplateCheckError, TemplateRenderer
from notifications.samples import SAMPLE_CONTEXTS


def install(tmp_path: Path, override: Path | None = None) -> Path:
    config = tmp_path / "complaintd.toml"
    text = '[storage]\ndata_dir = "var"\n'
    if override is not None:
        text += f'\n[templates]\noverride_dir = "{override}"\n'
    config.write_text(text, encoding="utf-8")
    return config


def cli(config: Path, *args: str, lang: str = "zh") -> Result:
    # Wide enough that rich does not fold the cells being checked.
    return CliRunner().invoke(main, ["--config", str(config), "--lang", lang, *args],
                              env={"COLUMNS": "250"})


def test_list_names_every_notice_and_marks_overrides(tmp_path: Path) -> None:
    override = tmp_path / "templates"
    (override / "outcome").mkdir(parents=True)
    (override / "outcome" / "zh.text.j2").write_text("结果：{{ outcome }}", encoding="utf-8")
    config = install(tmp_path, override)

    result = cli(config, "templates", "list")

    assert result.exit_code == 0, result.output
    assert f"通知模板（{len(SAMPLE_CONTEXTS)} 种）" in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines()
             if line.count("│") >= 3}  # fmt: skip
    assert set(SAMPLE_CONTEXTS) <= set(lines)
    assert "自定义" in lines["outcome"] and "内置" in lines["assignment"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "Subject: 请一次性补充材料 [LO-2026-000123]"),
     ("en", "Subject: Please send the missing material, all in one go [LO-2026-000123]"),
     ("bilingual", "Subject: 请一次性补充材料 [LO-2026-000123] / Please send")],
)  # fmt: skip
def test_preview_renders_the_sample(tmp_path: Path, lang: str, expected: str) -> None:
    result = cli(install(tmp_path), "templates", "preview", "missing_material", "--lang", lang)

    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert "收费票据复印件" in result.output


def test_preview_shows_html_on_request_and_refuses_unknown_names(tmp_path: Path) -> None:
    config = install(tmp_path)
    html = cli(config, "templates", "preview", "outcome", "--html")
    assert html.exit_code == 0 and "<!DOCTYPE html>" in html.output

    unknown = cli(config, "templates", "preview", "nope", lang="en")
    assert unknown.exit_code == 1
    assert "No notice template nope" in unknown.output and "outcome" in unknown.output


def test_a_broken_override_of_any_notice_stops_config_check_naming_it(tmp_path: Path) -> None:
    override = tmp_path / "templates"
    (override / "authority_referral").mkdir(parents=True)
    (override / "authority_referral" / "en.content.html.j2").write_text(
        "<p>{{ complainant.nmae }}</p>{% if %}", encoding="utf-8")  # fmt: skip
    config = install(tmp_path, override)

    result = cli(config, "config", "check", lang="en")

    assert result.exit_code == 2
    assert "authority_referral/en" in result.output
    preview = cli(config, "templates", "preview", "authority_referral", "--lang", "en")
    assert preview.exit_code == 2 and "authority_referral/en" in preview.output


@pytest.mark.parametrize("notice", sorted(SAMPLE_CONTEXTS))
def test_every_notice_can_be_overridden(tmp_path: Path, notice: str) -> None:
    (tmp_path / notice).mkdir()
    (tmp_path / notice / "en.subject.j2").write_text("OVERRIDDEN {{ org.name_en }}")
    renderer = TemplateRenderer(tmp_path)

    mail = renderer.render(notice, "en", SAMPLE_CONTEXTS[notice]())

    assert mail.subject == "OVERRIDDEN Shanghai Life Oasis Public Welfare Service Center"
    assert renderer.source_of(notice, "en") == "override"
    assert renderer.source_of(notice, "zh") == "package"


def test_an_override_using_an_unknown_variable_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / "handler_reminder").mkdir()
    (tmp_path / "handler_reminder" / "zh.text.j2").write_text("{{ days_left }}")

    with pytest.raises(TemplateCheckError, match=r"handler_reminder/zh.*days_left"):
        TemplateRenderer(tmp_path).check_all()
