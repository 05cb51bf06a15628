"""The CLI twins of the mail commands, on a real database and a Maildir (file transport)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case, Violation
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.settings import load_settings

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"


def setup(tmp_path: Path, db_url: str,
          text: str = "12月2日接线员态度粗暴，和我争吵。") -> tuple[Path, str]:
    (tmp_path / "mail" / "new").mkdir(parents=True)
    (tmp_path / "routing.toml").write_text(ROUTING.read_text(encoding="utf-8"), "utf-8")
    config = tmp_path / "complaintd.toml"
    config.write_text(f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[[mailbox]]
kind = "maildir"
name = "local"
path = "mail"
[smtp]
transport = "file"
[routing]
rules_file = "routing.toml"
""", encoding="utf-8")
    msg = EmailMessage()
    msg["From"] = "patient@example.cn"
    msg["Subject"] = "投诉"
    msg["Message-ID"] = "<cli-1@example.cn>"
    msg.set_content(text, charset="utf-8")
    (tmp_path / "mail" / "new" / "1.M1.host").write_bytes(bytes(msg))
    app = App.build(load_settings(config), FixedClock(datetime(2025, 12, 2, 9, tzinfo=SHANGHAI)))
    upgrade(app.engine)
    app.run_once()
    with app.session_factory() as session:
        reference = session.scalars(select(Case.reference)).one()
    app.close()
    return config, reference


def cli(config: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", *args],
                                env={"COLUMNS": "250"})
    assert result.exit_code == code, result.output + repr(result.exception)
    return result


def case_of(config: Path) -> Case:
    app = App.build(load_settings(config))
    with app.session_factory() as session:
        case = session.scalars(select(Case)).one()
        assert case.assignments is not None  # loaded before the session closes
        session.expunge(case)
    app.close()
    return case


def test_handler_commands_from_the_cli(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url)
    refused = cli(config, "handle", "accept", ref, "--as", "陈静", code=2)
    assert "not the handler, deputy or supervisor" in refused.output
    cli(config, "handle", "accept", ref, "--as", "张伟")
    cli(config, "handle", "extend", ref, "5", "等待录音", "--as", "zhangwei")
    assert case_of(config).status is CaseStatus.INVESTIGATING  # waits for approval
    cli(config, "handle", "approve-extension", ref, "--as", "张伟", code=2)
    cli(config, "handle", "approve-extension", ref, "--as", "王芳")
    assert case_of(config).status is CaseStatus.EXTENDED
    again = cli(config, "handle", "extend", ref, "3", "再等等", "--as", "王芳", code=2)
    assert "has had its 1 extension(s)" in again.output  # [clock] extensions.count
    cli(config, "handle", "resolve", ref, "属实", "--outcome", "已责令道歉。",
        "--violation", "rudeness", "--staff", "李娜", "--compensation", "50", "--as", "张伟")
    assert case_of(config).status is CaseStatus.RESOLVED
    listing = cli(config, "violations", "list")
    assert "诫勉教育并责令赔礼道歉" in listing.output and "50.00" in listing.output
    app = App.build(load_settings(config))
    with app.session_factory() as session:
        (violation,) = session.scalars(select(Violation))
        assert (violation.staff, violation.clause, violation.source) == ("lina", "七(一)",
                                                                         "finding")
    app.close()


def test_recategorise_runs_routing_again(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url)
    cli(config, "cases", "recategorise", ref, "assistance_project", "--as", "张伟", code=2)
    cli(config, "cases", "recategorise", ref, "assistance_project", "--as", "王芳")
    case = case_of(config)
    assert case.category == "assistance_project" and case.department == "projects"
    shown = cli(config, "cases", "show", ref)
    assert "recategorised" in shown.output
    handler = case.assignments[-1].handler
    other = "刘洋" if handler == "chenjing" else "陈静"
    cli(config, "handle", "reassign", ref, other, "--as", "赵磊")
    assert case_of(config).assignments[-1].handler in {"chenjing", "liuyang"} - {handler}
    unknown = cli(config, "handle", "reassign", ref, "无名氏", "--as", "赵磊", code=2)
    assert "no staff member" in unknown.output
    # The new category needs material the complaint lacks: no clock runs, nothing to extend.
    assert case_of(config).status is CaseStatus.AWAITING_MATERIAL
    waiting = cli(config, "handle", "extend", ref, "3", "等材料", "--as", "赵磊", code=2)
    assert "waits for material" in waiting.output


def test_reassigning_to_a_named_person_is_refused(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url, text="12月2日李娜态度粗暴，和我争吵。")
    result = cli(config, "handle", "reassign", ref, "李娜", "--as", "王芳", code=2)
    assert "named in this complaint" in result.output


def test_cases_show_prints_a_complainants_brackets_as_written(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url, text="[bold]请核实[/bold] 12月2日接线员态度粗暴。")
    shown = cli(config, "cases", "show", ref)
    assert "[bold]请核实[/bold]" in shown.output  # not swallowed as Rich markup


def test_cases_show_prints_the_timeline_in_words(tmp_path: Path, db_url: str) -> None:
    """The timeline reads as the console's does: Chinese by default, English on request,
    the event's key kept beside its words."""
    config, ref = setup(tmp_path, db_url)
    cli(config, "handle", "accept", ref, "--as", "王芳")
    chinese = CliRunner().invoke(main, ["--config", str(config), "--lang", "zh", "cases", "show",
                                        ref], env={"COLUMNS": "250"})
    assert chinese.exit_code == 0, chinese.output
    assert "受理" in chinese.output and "分派" in chinese.output and "收到" in chinese.output
    english = cli(config, "cases", "show", ref)
    timeline = english.output.split("Timeline of")[1]
    assert "accepted" in timeline and "assigned" in timeline
    assert "分派" not in timeline and "受理" not in timeline
