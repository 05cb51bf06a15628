"""The notice templates: content the policy requires, escaping, overrides, start-up check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from notifications.contexts import OrganisationInfo, acknowledgement_context
from notifications.renderer import TemplateCheckError, TemplateRenderer
from notifications.samples import SAMPLE_CONTEXTS

ORG = OrganisationInfo(
    name="上海生命绿洲公益服务中心",
    name_en="Shanghai Life Oasis Public Welfare Service Center",
    hotline_phone="021-6123 4567",
    resolve_working_days=15,
)


def ack_context(name: str | None = "李雷") -> dict[str, object]:
    return acknowledgement_context(
        reference="LO-2026-000042",
        complainant_name=name,
        received_on=date(2026, 4, 29),
        resolve_due=date(2026, 5, 22),
        working_days=15,
        reply_address="tousu@lifeoasis.example",
        org=ORG,
    )


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def test_chinese_acknowledgement_states_what_clause_2_2_requires(
    renderer: TemplateRenderer,
) -> None:
    mail = renderer.render("acknowledgement", "zh", ack_context())

    assert mail.subject == "您的投诉已受理 [LO-2026-000042]"
    assert mail.text.startswith("李雷，您好：")
    assert "受理编号：LO-2026-000042" in mail.text
    assert "收到日期：2026年4月29日" in mail.text
    assert "15个工作日，不晚于2026年5月22日办结" in mail.text
    assert "办理程序" in mail.text and "行政机关" in mail.text
    assert "一次性告知" in mail.text
    assert "回复本邮件（tousu@lifeoasis.example）" in mail.text
    assert "主题中的受理编号 [LO-2026-000042]" in mail.text
    assert "投诉热线 021-6123 4567" in mail.text
    assert "Reference" not in mail.text  # no English in the Chinese form


def test_english_acknowledgement(renderer: TemplateRenderer) -> None:
    mail = renderer.render("acknowledgement", "en", ack_context())

    assert mail.subject == "Your complaint has been received [LO-2026-000042]"
    assert mail.text.startswith("Dear 李雷,")
    assert "Reference number: LO-2026-000042" in mail.text
    assert "Date received:    29 April 2026" in mail.text
    assert "15 working days; we will finish by 22 May 2026" in mail.text
    assert "keep the reference [LO-2026-000042] in the" in mail.text
    assert "hotline 021-6123 4567" in mail.text
    assert "受理" not in mail.text


def test_bilingual_acknowledgement_is_chinese_then_english(renderer: TemplateRenderer) -> None:
    mail = renderer.render("acknowledgement", "bilingual", ack_context())

    assert "您的投诉已受理" in mail.subject and "Your complaint" in mail.subject
    assert "[LO-2026-000042]" in mail.subject
    chinese = mail.text.index("受理编号：LO-2026-000042")
    english = mail.text.index("Reference number: LO-2026-000042")
    assert chinese < english
    assert mail.text.count("021-6123 4567") == 2
    assert mail.html is not None
    assert mail.html.index("2026年5月22日") < mail.html.index("22 May 2026")


def test_anonymous_greeting_names_nobody(renderer: TemplateRenderer) -> None:
    assert renderer.render("acknowledgement", "zh", ack_context(None)).text.startswith("您好：")
    english = renderer.render("acknowledgement", "en", ack_context(None))
    assert english.text.startswith("Dear Sir or Madam,")


def test_html_part_is_escaped_and_text_part_is_not(renderer: TemplateRenderer) -> None:
    mail = renderer.render("acknowledgement", "zh", ack_context('<b>"王"</b>&'))

    assert mail.html is not None
    assert "&lt;b&gt;&#34;王&#34;&lt;/b&gt;&amp;" in mail.html
    assert "<b>" not in mail.html
    assert mail.text.startswith('<b>"王"</b>&，您好：')


def test_missing_value_is_an_error_not_a_blank(renderer: TemplateRenderer) -> None:
    context = ack_context()
    del context["resolve_due"]
    with pytest.raises(UndefinedError, match="resolve_due"):
        renderer.render("acknowledgement", "zh", context)


def test_unknown_language_is_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(ValueError, match="fr"):
        renderer.render("acknowledgement", "fr", ack_context())


def test_check_all_renders_every_notice_in_every_language(renderer: TemplateRenderer) -> None:
    checked = renderer.check_all()

    assert len(checked) == len(SAMPLE_CONTEXTS) * 3
    for notice in SAMPLE_CONTEXTS:
        assert [c for c in checked if c.startswith(f"{notice}/")] == [
            f"{notice}/zh",
            f"{notice}/en",
            f"{notice}/bilingual",
        ]
    assert renderer.notices() == sorted(SAMPLE_CONTEXTS)


def test_override_folder_wins_and_the_rest_falls_back(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement").mkdir()
    (tmp_path / "acknowledgement" / "zh.subject.j2").write_text(
        "【{{ org.name }}】已受理 [{{ reference }}]", encoding="utf-8"
    )
    renderer = TemplateRenderer(tmp_path)

    mail = renderer.render("acknowledgement", "zh", ack_context())

    assert mail.subject == "【上海生命绿洲公益服务中心】已受理 [LO-2026-000042]"
    assert "受理编号：LO-2026-000042" in mail.text  # the package's body
    # The bilingual form includes the Chinese parts, so it picks up overrides of them too.
    (tmp_path / "acknowledgement" / "zh.text.j2").write_text("自定义 {{ reference }}")
    bilingual = TemplateRenderer(tmp_path).render("acknowledgement", "bilingual", ack_context())
    assert bilingual.text.startswith("自定义 LO-2026-000042")


def test_check_all_names_a_broken_override(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement").mkdir()
    (tmp_path / "acknowledgement" / "en.text.j2").write_text("Dear {{ complainant_nmae }}")

    with pytest.raises(TemplateCheckError, match=r"acknowledgement/en.*complainant_nmae"):
        TemplateRenderer(tmp_path).check_all()


def test_check_all_refuses_a_notice_without_sample_data(tmp_path: Path) -> None:
    (tmp_path / "made_up").mkdir()
    (tmp_path / "made_up" / "zh.subject.j2").write_text("结果 {{ reference }}")

    with pytest.raises(TemplateCheckError, match="'made_up'"):
        TemplateRenderer(tmp_path).check_all()


def test_missing_override_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateCheckError, match="not found"):
        TemplateRenderer(tmp_path / "nowhere")
