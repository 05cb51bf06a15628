"""More than one extension when the board's routing file allows it (clause 八)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from casework.models import Extension
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.settings import load_settings
from tests.test_commands_cli import case_of, cli, setup


def _allow(tmp_path: Path, count: int) -> None:
    rules = tmp_path / "routing.toml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("extensions = { count = 1,",
                                  f"extensions = {{ count = {count},"), encoding="utf-8")


def test_two_extensions_when_the_routing_file_allows_two(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url)
    _allow(tmp_path, 2)
    cli(config, "handle", "accept", ref, "--as", "张伟")
    first_due = case_of(config).resolve_due
    for reason in ("等待录音", "等待医院答复"):
        cli(config, "handle", "extend", ref, "5", reason, "--as", "张伟")
        cli(config, "handle", "approve-extension", ref, "--as", "王芳")
    case = case_of(config)
    assert case.status is CaseStatus.EXTENDED
    assert first_due is not None and case.resolve_due is not None
    assert case.resolve_due > first_due
    third = cli(config, "handle", "extend", ref, "3", "再等等", "--as", "张伟", code=2)
    assert "2 extension" in third.output
    app = App.build(load_settings(config))
    with app.session_factory() as session:
        rows = session.scalars(select(Extension).order_by(Extension.id)).all()
        assert [(r.reason, r.approved_by) for r in rows] == [
            ("等待录音", "cli:wangfang"), ("等待医院答复", "cli:wangfang")]
        assert rows[1].old_due == rows[0].new_due and rows[1].new_due == case.resolve_due
    app.close()
