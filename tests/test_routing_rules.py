"""Routing rules as plain values: segmentation, scoring, explanation, config validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.conflicts import named_staff
from routing.directory import RoutingConfigError, load_routing
from routing.feedback import parse_level
from routing.rules import Facts, match
from routing.segment import SegmentedText

RULES = Path(__file__).resolve().parents[1] / "config" / "routing.toml"


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_routing(RULES)


@pytest.mark.parametrize(("text", "keyword", "found"), [
    ("他是研究生命科学的", "研究生", False),   # substring, not a word
    ("结婚的和尚未结婚的", "和尚", False),
    ("我们的研究生来帮忙", "研究生", True),
    ("药品援助项目的申请", "药品援助", True),   # two words in a row
    ("a prudent approach", "rude", False),
    ("The staff were RUDE to me", "rude", True),
    ("two leaks were found", "leak", True),     # plural
])
def test_keywords_match_whole_words_only(text: str, keyword: str, found: bool) -> None:
    assert SegmentedText(text).contains(keyword) is found


def test_best_score_wins_and_explains_itself(config) -> None:  # type: ignore[no-untyped-def]
    facts = Facts("投诉", "工作人员态度恶劣骂人，还泄露了我的病历", "email")
    hit, candidates = match(config, facts)
    assert hit is not None and hit.category == "staff_conduct"
    assert {h.category for h in candidates} == {"staff_conduct", "privacy"}
    assert hit.explain() == "matched rule staff_conduct on words 态度, 骂人"


def test_first_match_mode_takes_the_first_rule_written(config) -> None:  # type: ignore[no-untyped-def]
    first = config.model_copy(update={"clock": config.clock.model_copy(update={"match": "first"})})
    hit, _ = match(first, Facts("投诉", "项目组泄露了我的病历，态度恶劣骂人还争吵", "email"))
    assert hit is not None and hit.category == "staff_conduct"
    hit, _ = match(config, Facts("投诉", "项目组泄露了我的病历和隐私，态度差", "email"))
    assert hit is not None and hit.category == "privacy"  # best: 3 words against 1


def test_explicit_hotline_category_decides(config) -> None:  # type: ignore[no-untyped-def]
    hit, _ = match(config, Facts("来电", "态度很差", "hotline", category_hint="募捐与财务"))
    assert hit is not None and hit.category == "fundraising"
    assert "explicit category" in hit.explain()


def test_sender_domain_counts_and_nothing_matched_is_none(config) -> None:  # type: ignore[no-untyped-def]
    domains = config.categories["fundraising"].model_copy(update={"sender_domains": ["mzj.gov.cn"]})
    cats = {**config.categories, "fundraising": domains}
    with_domain = config.model_copy(update={"categories": cats})
    hit, _ = match(with_domain, Facts("来函", "请核实", "email", sender_email="a@mzj.gov.cn"))
    assert hit is not None and hit.category == "fundraising" and "sender domain" in hit.explain()
    assert match(config, Facts("你好", "明天天气怎么样", "email")) == (None, [])


def test_staff_names_and_aliases_are_found(config) -> None:  # type: ignore[no-untyped-def]
    assert named_staff(config, "那位张老师和王主任都不管") == {"zhangwei": "张老师",
                                                          "wangfang": "王主任"}
    assert named_staff(config, "Mr Zhang Wei was rude") == {"zhangwei": "Zhang Wei"}
    assert named_staff(config, "Zhang Weiwei called") == {}


@pytest.mark.parametrize(("text", "level"), [
    ("非常不满意", 1), ("非常满意！", 5), ("基本满意吧", 3), ("不满意", 2), ("满意", 4),
    ("我给 2 分", 2), ("5", 5), ("Very satisfied, thanks", 5),
    ("\n> 请回复 1–5\n", None), ("谢谢", None),
    ("谢谢\n发件人: 投诉受理中心\n请选择：非常满意、满意、基本满意", None),
])
def test_survey_answers_are_parsed(text: str, level: int | None) -> None:
    assert parse_level(text) == level


def test_bad_routing_file_names_the_key(tmp_path: Path) -> None:
    text = RULES.read_text(encoding="utf-8").replace('department = "projects"\nmaterial',
                                                     'department = "nowhere"\nmaterial', 1)
    bad = tmp_path / "routing.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RoutingConfigError, match="unknown department nowhere"):
        load_routing(bad)
    bad.write_text("triage_supervisor = 1", encoding="utf-8")
    with pytest.raises(RoutingConfigError, match="top"):
        load_routing(bad)
