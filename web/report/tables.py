"""The report's tables, built once from ``casework.figures.Figures`` and shown by every
surface: the annual report (HTML), the workbook and CSV, the console's report page.

A table is its cells by key (so the disclosure rule can hide a cell and every cell that
would give it away), the rows that lay them out, and the groups of cells that add up to a
total. The internal edition has every table with names and references; the public one
leaves out what names a person (staff, case references, free-text extension reasons).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from casework.figures import (
    NOT_ASKED,
    SOLVED_ANSWERS,
    Figures,
    OnTime,
    ViolationRow,
    middle,
    percentile,
)
from casework.status import CHANNEL_LABELS, STATUS_LABELS

Kind = Literal["count", "share", "rate", "stat", "money", "text"]
# internal: the board's, with names; supervisor: the supervising body's figures, every count
# but no names or free text; public: the website's, under the disclosure rule.
Edition = Literal["internal", "supervisor", "public"]

# (Simplified Chinese, English)
WORDS: dict[str, tuple[str, str]] = {
    "cases": ("案件数", "Cases"), "share": ("占比", "Share"), "total": ("合计", "Total"),
    "month": ("月份", "Month"), "channel": ("渠道", "Channel"), "category": ("类别", "Category"),
    "department": ("部门", "Department"), "status": ("当前状态", "Status now"),
    "on_time": ("按时", "On time"), "late": ("超时", "Late"),
    "late_ours": ("超时（本机构）", "Late (ours)"),
    "held": ("超时（行政机关未按时答复）", "Late (held by an authority)"),
    "pending": ("未到期", "Not yet due"), "no_deadline": ("未计时", "No deadline"),
    "rate_on_time": ("按时率", "On-time rate"),
    "median": ("中位数（工作日）", "Median (working days)"),
    "p90": ("第90百分位（工作日）", "90th percentile (working days)"),
    "days": ("办结用时（工作日）", "Working days to resolution"),
    "reason": ("延期理由", "Reason for the extension"),
    "extended_cases": ("延期案件", "Cases extended"),
    "authority": ("行政机关", "Authority"), "referred": ("移送", "Referred"),
    "answered": ("已答复", "Answered"), "answer_median": ("答复用时中位数（工作日）",
                                                          "Median answer (working days)"),
    "overdue_answers": ("逾期答复", "Answers overdue"),
    "level": ("满意度", "Satisfaction"), "answers": ("回复数", "Answers"),
    "mean": ("平均分（5分制）", "Mean (of 5)"),
    "reopened": ("重开案件", "Reopened cases"),
    "clause": ("条款", "Clause"), "violation": ("违诺类别", "Violation"),
    "tier": ("处理等级", "Sanction tier"), "action": ("处理情况", "Action taken"),
    "applied": ("已落实", "carried out"), "not_applied": ("待落实", "not yet carried out"),
    "violations": ("违诺数", "Violations"), "staff": ("责任人", "Staff member"),
    "reference": ("案件编号", "Case"), "owed": ("应赔偿（元）", "Compensation owed (CNY)"),
    "paid": ("已赔偿（元）", "Compensation paid (CNY)"), "source": ("来源", "Source"),
    "this_year": ("本年", "This year"), "last_year": ("上年", "Last year"),
    "figure": ("指标", "Figure"), "uncategorised": ("未分类", "Uncategorised"),
    "none": ("无", "none"),
    "solved": ("问题是否解决", "Problem solved?"), "solved_rate": ("已解决占比", "Solved"),
    "share_answered": ("占作答", "Share of those answering"),
    "solved_compared": ("问题已解决（占作答）", "Problem solved (of those answering)"),
    "answered_solved": ("作答合计", "Answered the question"),
    "not_asked": ("未问及（邮件回复）", "Not asked (answered by mail)"),
    "survey_answers": ("回访合计", "Survey answers"),
    "activity": ("活动或服务", "Event or service"),
    "forms": ("意见函份数", "Feedback forms"),
    "forms_last_year": ("上年份数", "Forms last year"),
    "mean_last_year": ("上年平均分", "Mean last year"),
    "other_activities": ("其他活动（每项不足{n}份，合并）",
                         "Other events (fewer than {n} forms each, pooled)"),
    "activity_forms": ("活动意见函（份）", "Activity feedback forms"),
    "activity_mean": ("活动意见函平均分", "Activity feedback mean (of 5)"),
}
SOLVED = {"yes": ("已解决", "solved"), "partly": ("部分解决", "partly solved"),
          "no": ("未解决", "not solved")}
LEVELS = {5: ("非常满意", "very satisfied"), 4: ("满意", "satisfied"), 3: ("一般", "neutral"),
          2: ("不满意", "dissatisfied"), 1: ("非常不满意", "very dissatisfied")}
# What the figures mean (docs/reports.md says it at length): on every report and workbook.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("统计对象为本期（北京时间）收到的案件；合并入其他案件的重复投诉只计一次。",
     "Cases are those received in the period (Shanghai time); a duplicate merged into "
     "another case counts once."),
    ("“按时”指在期限当日或之前完成（回执：首次受理或告知补材料；办结：首次办结）。"
     "期限按上海工作日计算，法定节假日及调休上班日以国务院通知为准。",
     "“On time”: done on or before the due day (acknowledgement: first acknowledged or asked "
     "for material; resolution: first resolved). Deadlines count Shanghai working days, "
     "holidays and make-up working days as the State Council announces them."),
    ("待补材料期间不计时：材料齐全之日起算办结期限（第四条第（四）项）。",
     "While a case waits for missing material its clock does not run: the deadline is set "
     "when the material is complete (clause 四(四))."),
    ("经批准延期（第四条第（六）项）的案件，以延期后的期限判断是否按时。",
     "An approved extension (clause 四(六)) moves the deadline; the case is judged against "
     "the new one."),
    ("未办结且已过期限的在办案件计为超时；未到期限的计为“未到期”；撤回、不予受理或未设期限的"
     "不计入按时率。",
     "An open case past its deadline counts as late, one not yet due as “not yet due”; "
     "withdrawn, rejected and cases without a deadline are left out of the rate."),
    ("“行政机关未按时答复”：期限前已移送、行政机关在期限后答复或尚未答复（第三条第（五）项）；"
     "仍计入超时，单列。",
     "“Held by an authority”: referred by the deadline and answered after it or not yet "
     "(clause 三(五)); still late, shown apart."),
    ("重开的案件计入“重开案件”；再次办结不重复计数，按时与否以首次办结为准。",
     "A reopened case counts among “reopened cases”; resolved again it is not counted again: "
     "its first resolution decides “on time”."),
    ("满意度以每案最后一次回复为准。违诺按登记时间计入当年（第七条）。",
     "Satisfaction: each case's latest answer. Violations count in the year they were "
     "recorded (clause 七)."),
    ("“问题是否解决”取自同一回复（网页回访单独询问：已解决、部分解决、未解决）；邮件回复只给"
     "满意度，计为“未问及”。已解决占比以作答者为分母。",
     "“Problem solved?” comes from the same answer (asked apart on the web survey: solved, "
     "partly, not solved); an answer by mail gives a level only and counts as “not asked”. "
     "The share solved is of those who answered the question."),
    ("活动意见函（第五条第（三）项）按收到时间计入当年，不与案件关联，只在不按部门、类别筛选时"
     "统计；意见内容不列入报告。公开版和报主管单位版中，不足小数字门槛的活动合并为“其他活动”。",
     "Activity feedback forms (clause 五(三)) count in the year they were received; they belong "
     "to no case and are counted only when no department or category is chosen. Their "
     "comments are in no report. The public and supervising body's editions pool the events "
     "named on fewer forms than the small-number threshold as “other events”."),
)
DAY_BUCKETS = ((0, 5), (6, 10), (11, 15), (16, 20), (21, 30), (31, None))


@dataclass
class Cell:
    value: int | float | Decimal | str | None
    kind: Kind = "count"
    n: int = 0  # share, rate, stat: how many cases it is of; money: how many entries
    of: tuple[str, ...] = ()  # share, rate: the counts it would give away
    hidden: bool = False


@dataclass
class Row:
    label: str
    keys: list[str | None]
    total: bool = False


@dataclass
class Table:
    key: str
    title: str
    head: list[str]
    rows: list[Row] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    groups: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    note: str = ""

    def add(self, key: str, cell: Cell) -> str:
        self.cells[key] = cell
        return key

    def values(self, row: Row) -> list[Cell | None]:
        return [self.cells[k] if k is not None else None for k in row.keys]

    def text_columns(self) -> set[int]:
        """The columns (0: the labels) that hold text, so their headings align with it."""
        first = next((row for row in self.rows if not row.total), None)
        cells = self.values(first) if first is not None else []
        return {0} | {i + 1 for i, cell in enumerate(cells)
                      if cell is not None and cell.kind == "text"}


@dataclass(frozen=True)
class Names:
    """Words for the keys of the routing file; ``lang`` picks zh or en everywhere."""

    lang: str
    category: Callable[[str], str] = str
    department: Callable[[str], str] = str
    authority: Callable[[str], str] = str
    staff: Callable[[str], str] = str
    violation: Callable[[str], str] = str

    def w(self, key: str) -> str:
        zh, en = WORDS[key]
        return en if self.lang == "en" else zh

    def pick(self, pair: tuple[str, str]) -> str:
        return pair[1] if self.lang == "en" else pair[0]

    def channel(self, key: str) -> str:
        return self.pick(CHANNEL_LABELS.get(key, (key, key)))

    def status(self, key: str) -> str:
        return self.pick(STATUS_LABELS.get(key, (key, key)))

    def category_of(self, key: str) -> str:
        return self.category(key) if key else self.w("uncategorised")

    def department_of(self, key: str) -> str:
        return self.department(key) if key else self.w("none")


TITLES: dict[str, tuple[str, str]] = {
    "summary": ("总览", "Summary"), "by_month": ("按月受理", "Cases by month"),
    "by_channel": ("按渠道", "Cases by channel"), "by_category": ("按类别", "Cases by category"),
    "by_department": ("按部门", "Cases by department"),
    "by_status": ("当前状态", "Cases by status now"),
    "acknowledgement": ("按时受理（回执）", "Acknowledgement on time"),
    "resolution": ("按时办结", "Resolution on time"),
    "resolution_days": ("办结用时分布", "Working days to resolution"),
    "extensions": ("延期及理由", "Extensions and their reasons"),
    "referrals": ("移送行政机关", "Referrals to authorities"),
    "satisfaction": ("满意度（按等级）", "Satisfaction by level"),
    "satisfaction_by_category": ("满意度（按类别）", "Satisfaction by category"),
    "violations_by_clause": ("违诺（按条款）", "Violations by clause"),
    "violations_by_tier": ("违诺（按处理等级）", "Violations by sanction tier"),
    "violations_by_department": ("违诺（按部门）", "Violations by department"),
    "violations": ("违诺处理公示", "Violations and the action taken"),
    "violation_register": ("违诺登记（内部）", "Violation register (internal)"),
    "compensation": ("赔偿", "Compensation"),
    "comparison": ("与上年比较", "Compared with last year"),
    "solved": ("问题是否解决", "Problem solved?"),
    "solved_by_category": ("问题是否解决（按类别）", "Problem solved, by category"),
    "activities": ("活动意见函（按活动）", "Activity feedback, by event"),
}


def build(figures: Figures, names: Names, edition: Edition, *,
          threshold: int = 10) -> list[Table]:
    """Every table of the report, in the order the report shows them. ``threshold``: the
    fewest forms an event needs to be named outside the internal edition (the names are
    typed by visitors)."""
    public = edition != "internal"  # no names, no references, no free text
    levels = _counts("satisfaction", names, names.w("level"),
                     [(names.pick(LEVELS[lv]), n)
                      for lv, n in figures.satisfaction_levels().items()])
    satisfaction = _satisfaction_by_category(figures, names)
    # The same answers three times: the totals by level, by category, by "solved" answer.
    for i, lv in enumerate(LEVELS):
        _same_cell(satisfaction, f"t_{lv}", levels, f"n{i}")
    _same_cell(satisfaction, "t", levels, "total")
    solved = solved_by_category(figures, names, satisfaction)
    tables = [
        _summary(figures, names),
        _counts("by_month", names, names.w("month"),
                [(f"{m}月" if names.lang == "zh" else _MONTHS_EN[m - 1], n)
                 for m, n in figures.by_month.items()]),
        _counts("by_channel", names, names.w("channel"),
                [(names.channel(k), n) for k, n in figures.by_channel.items()]),
        _counts("by_category", names, names.w("category"),
                [(names.category_of(k), n) for k, n in figures.by_category.items()]),
        _counts("by_department", names, names.w("department"),
                [(names.department_of(k), n) for k, n in figures.by_department.items()]),
        _counts("by_status", names, names.w("status"),
                [(names.status(k), n) for k, n in figures.by_status.items()]),
        on_time_table("acknowledgement", figures.acknowledgement, figures.total, names),
        on_time_table("resolution", figures.resolution, figures.total, names),
        _resolution_days(figures, names),
        _extensions(figures, names, public),
        _referrals(figures, names),
        levels,
        satisfaction,
        solved_table(solved, names),
        solved,
        *_activities(figures, names, threshold if public else None),
        _violation_counts("violations_by_clause", figures.violations, names, names.w("clause"),
                          lambda v: v.clause),
        _violation_counts("violations_by_tier", figures.violations, names, names.w("tier"),
                          lambda v: v.tier),
        _violation_counts("violations_by_department", figures.violations, names,
                          names.w("department"), lambda v: names.department_of(v.department)),
        _violations_public(figures.violations, names),
        _compensation(figures.violations, names),
    ]
    if not public:
        tables.append(_register(figures.violations, names))
    if figures.previous is not None:
        tables.append(_comparison(figures, figures.previous, names))
    return tables


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def _table(key: str, names: Names, head: list[str]) -> Table:
    return Table(key=key, title=names.pick(TITLES[key]), head=head)


def _counts(key: str, names: Names, label: str, items: list[tuple[str, int]]) -> Table:
    """Label | count | share of the total, and the total row."""
    table = _table(key, names, [label, names.w("cases"), names.w("share")])
    total = sum(n for _, n in items)
    total_key = table.add("total", Cell(total))
    parts = []
    for i, (name, n) in enumerate(items):
        count = table.add(f"n{i}", Cell(n))
        share = table.add(f"s{i}", Cell(n / total if total else None, "share", total,
                                        (count, total_key)))
        table.rows.append(Row(name, [count, share]))
        parts.append(count)
    table.rows.append(Row(names.w("total"), [total_key, None], total=True))
    table.groups.append((tuple(parts), total_key))
    return table


def _summary(figures: Figures, names: Names) -> Table:
    table = _table("summary", names, [names.w("figure"), ""])
    rows = [("cases", figures.total), ("reopened", figures.reopened),
            ("extended_cases", figures.extended_cases), ("violations", len(figures.violations))]
    for key, n in rows:
        table.rows.append(Row(names.w(key), [table.add(key, Cell(n))]))
    return table


def on_time_table(key: str, on_time: OnTime, total: int, names: Names) -> Table:
    """On time, late (ours and held by an authority), not yet due, no deadline: the cases
    of the year; the rate is of those decided (on time + late)."""
    table = _table(key, names, ["", names.w("cases")])
    c = {name: table.add(name, Cell(value)) for name, value in (
        ("on_time", on_time.on_time), ("late", on_time.late),
        ("late_ours", on_time.late - on_time.held), ("held", on_time.held),
        ("pending", on_time.pending), ("no_deadline", on_time.no_deadline),
        ("total", total))}
    rate = table.add("rate", Cell(on_time.on_time / on_time.decided if on_time.decided else None,
                                  "rate", on_time.decided, (c["on_time"], c["late"])))
    lines = ["on_time", "late", "late_ours", "held", "pending", "no_deadline"]
    table.rows += [Row(("　" if k in ("late_ours", "held") else "") + names.w(k), [c[k]])
                   for k in lines]
    table.rows.append(Row(names.w("total"), [c["total"]], total=True))
    table.rows.append(Row(names.w("rate_on_time"), [rate]))
    table.groups += [((c["on_time"], c["late"], c["pending"], c["no_deadline"]), c["total"]),
                     ((c["late_ours"], c["held"]), c["late"])]
    return table


def _resolution_days(figures: Figures, names: Names) -> Table:
    days = figures.resolution_days
    items = []
    for low, high in DAY_BUCKETS:
        label = f"{low}–{high}" if high is not None else f"≥{low}"
        items.append((label, sum(1 for d in days if d >= low and (high is None or d <= high))))
    table = _counts("resolution_days", names, names.w("days"), items)
    for key, value in (("median", middle(days)), ("p90", percentile(days, 0.9))):
        table.rows.append(Row(names.w(key), [table.add(key, Cell(value, "stat", len(days))),
                                             None]))
    return table


def _extensions(figures: Figures, names: Names, public: bool) -> Table:
    if public:  # the reasons are staff's free text: they may name a person
        return _counts("extensions", names, names.w("extended_cases"),
                       [(names.w("extended_cases"), figures.extended_cases)])
    return _counts("extensions", names, names.w("reason"),
                   list(figures.extension_reasons.items()))


def _referrals(figures: Figures, names: Names) -> Table:
    table = _table("referrals", names, [names.w("authority"), names.w("referred"),
                                        names.w("answered"), names.w("answer_median"),
                                        names.w("overdue_answers")])
    sums = {"referred": [], "answered": [], "overdue": []}  # type: dict[str, list[str]]
    for i, (key, row) in enumerate(figures.referrals.items()):
        keys = [table.add(f"r{i}", Cell(row.referred)), table.add(f"a{i}", Cell(row.answered)),
                table.add(f"m{i}", Cell(middle(row.answer_days), "stat", len(row.answer_days))),
                table.add(f"o{i}", Cell(row.overdue))]
        sums["referred"].append(keys[0])
        sums["answered"].append(keys[1])
        sums["overdue"].append(keys[3])
        table.rows.append(Row(names.authority(key), list(keys)))
    totals = []
    for name, parts in sums.items():
        total = table.add(f"t_{name}", Cell(sum(_int(table.cells[k]) for k in parts)))
        table.groups.append((tuple(parts), total))
        totals.append(total)
    table.rows.append(Row(names.w("total"), [totals[0], totals[1], None, totals[2]], total=True))
    return table


def _satisfaction_by_category(figures: Figures, names: Names) -> Table:
    """Category × level: every row and every column adds up to a total shown."""
    levels = list(LEVELS)
    table = _table("satisfaction_by_category", names,
                   [names.w("category"), *(names.pick(LEVELS[lv]) for lv in levels),
                    names.w("total"), names.w("mean")])
    columns: dict[int, list[str]] = {lv: [] for lv in levels}
    row_totals = []
    for i, (category, by_level) in enumerate(figures.satisfaction.items()):
        keys = [table.add(f"c{i}_{lv}", Cell(by_level.get(lv, 0))) for lv in levels]
        for lv, key in zip(levels, keys, strict=True):
            columns[lv].append(key)
        n = sum(by_level.values())
        total = table.add(f"c{i}_t", Cell(n))
        mean = sum(lv * k for lv, k in by_level.items()) / n if n else None
        # The mean with the counts beside it would give a hidden count away: it hides with them.
        mean_cell = Cell(mean, "stat", n, (*keys, total))
        table.rows.append(Row(names.category_of(category),
                              [*keys, total, table.add(f"c{i}_m", mean_cell)]))
        table.groups.append((tuple(keys), total))
        row_totals.append(total)
    column_totals = []
    for lv in levels:
        key = table.add(f"t_{lv}", Cell(sum(_int(table.cells[k]) for k in columns[lv])))
        table.groups.append((tuple(columns[lv]), key))
        column_totals.append(key)
    grand = table.add("t", Cell(sum(_int(table.cells[k]) for k in row_totals)))
    table.groups += [(tuple(row_totals), grand), (tuple(column_totals), grand)]
    table.rows.append(Row(names.w("total"), [*column_totals, grand, None], total=True))
    return table


def solved_table(by_category: Table, names: Names) -> Table:
    """Solved, partly, not solved with their shares of those who answered the question;
    then those not asked (answers by mail) and every survey answer: the total row of the
    table by category, the same cells (so the rule hides them alike in both)."""
    table = _table("solved", names, [names.w("solved"), names.w("answers"),
                                     names.w("share_answered")])
    answered = table.add("answered", by_category.cells["t_answered"])
    parts = []
    for answer in SOLVED_ANSWERS:
        count = table.add(answer, by_category.cells[f"t_{answer}"])
        share = table.add(f"s_{answer}", Cell(
            _ratio(_int(table.cells[count]), table.cells[answered]), "share",
            _int(table.cells[answered]), (count, answered)))
        table.rows.append(Row(names.pick(SOLVED[answer]), [count, share]))
        parts.append(count)
    not_asked = table.add(NOT_ASKED, by_category.cells[f"t_{NOT_ASKED}"])
    everyone = table.add("total", by_category.cells["t_answers"])
    table.rows += [Row(names.w("answered_solved"), [answered, None], total=True),
                   Row(names.w("not_asked"), [not_asked, None]),
                   Row(names.w("survey_answers"), [everyone, None], total=True)]
    table.groups += [(tuple(parts), answered), ((answered, not_asked), everyone)]
    return table


SOLVED_COLUMNS = (*SOLVED_ANSWERS, "answered", NOT_ASKED, "answers")


def solved_by_category(figures: Figures, names: Names, satisfaction: Table) -> Table:
    """Category × answer: solved, partly, not solved, their total, not asked (by mail) and
    every answer; the share solved of those who answered. Every row and column adds up to
    a total; a category's answers and the grand total are ``satisfaction``'s cells (the
    same answers), so the difference never gives a hidden count away."""
    table = _table("solved_by_category", names, [
        names.w("category"), *(names.pick(SOLVED[a]) for a in SOLVED_ANSWERS),
        names.w("answered_solved"), names.w("not_asked"), names.w("answers"),
        names.w("solved_rate")])
    columns: dict[str, list[str]] = {c: [] for c in SOLVED_COLUMNS}
    for i, (category, by_answer) in enumerate(figures.solved.items()):
        counts = {a: by_answer.get(a, 0) for a in (*SOLVED_ANSWERS, NOT_ASKED)}
        counts["answered"] = sum(counts[a] for a in SOLVED_ANSWERS)
        counts["answers"] = counts["answered"] + counts[NOT_ASKED]
        keys = {c: table.add(f"c{i}_{c}", Cell(counts[c])) for c in SOLVED_COLUMNS}
        _same_cell(table, keys["answers"], satisfaction, f"c{i}_t")
        for column, key in keys.items():
            columns[column].append(key)
        rate = table.add(f"c{i}_r", Cell(_ratio(counts["yes"], table.cells[keys["answered"]]),
                                         "rate", counts["answered"],
                                         (keys["yes"], keys["answered"])))
        table.rows.append(Row(names.category_of(category), [*keys.values(), rate]))
        _answer_groups(table, keys)
    totals = {c: table.add(f"t_{c}", Cell(sum(_int(table.cells[k]) for k in columns[c])))
              for c in SOLVED_COLUMNS}
    _same_cell(table, totals["answers"], satisfaction, "t")
    for column, parts in columns.items():
        table.groups.append((tuple(parts), totals[column]))
    _answer_groups(table, totals)
    rate = table.add("r", Cell(_ratio(_int(table.cells[totals["yes"]]),
                                      table.cells[totals["answered"]]), "rate",
                               _int(table.cells[totals["answered"]]),
                               (totals["yes"], totals["answered"])))
    table.rows.append(Row(names.w("total"), [*totals.values(), rate], total=True))
    return table


def _answer_groups(table: Table, keys: dict[str, str]) -> None:
    table.groups += [(tuple(keys[a] for a in SOLVED_ANSWERS), keys["answered"]),
                     ((keys["answered"], keys[NOT_ASKED]), keys["answers"])]


def _same_cell(table: Table, key: str, source: Table, source_key: str) -> None:
    """``table``'s cell ``key`` becomes ``source``'s (the same figure in two tables): hidden
    in one, it is hidden in the other (``disclosure.suppress_all``)."""
    shared = source.cells.get(source_key)
    if shared is not None and shared.value == table.cells[key].value:
        table.cells[key] = shared


def _activities(figures: Figures, names: Names, threshold: int | None) -> list[Table]:
    """Per event: forms by level, their total and mean, and last year's total and mean
    when last year had forms. Organisation-wide: none when a department or category is
    chosen. ``threshold`` (outside the internal edition): events on fewer forms this year
    are pooled, as their names are what a visitor typed."""
    if figures.scope.department is not None or figures.scope.category is not None:
        return []
    before = figures.previous.activities if figures.previous is not None else {}
    levels = list(LEVELS)
    head = [names.w("activity"), *(names.pick(LEVELS[lv]) for lv in levels),
            names.w("forms"), names.w("mean")]
    if before:
        head += [names.w("forms_last_year"), names.w("mean_last_year")]
    table = _table("activities", names, head)
    groups: dict[str, list[str]] = {key: [] for key in [*map(str, levels), "t", "b"]}
    for i, (label, now, then) in enumerate(_activity_rows(figures.activities, before,
                                                          names, threshold)):
        keys = _level_cells(table, f"a{i}", now, groups)
        if before:
            keys += _level_cells(table, f"b{i}", then, groups, detail=False)
        table.rows.append(Row(label, keys))
    totals = _level_cells(table, "t", figures.activity_levels(), None)
    if before:
        totals += _level_cells(table, "bt", _sum_levels(before.values()), None, detail=False)
    for name, parts in groups.items():
        if not parts:
            continue
        total_key = "t_t" if name == "t" else "bt_t" if name == "b" else f"t_{name}"
        table.groups.append((tuple(parts), total_key))
    table.rows.append(Row(names.w("total"), totals, total=True))
    return [table]


def _activity_rows(now: dict[str, dict[int, int]], before: dict[str, dict[int, int]],
                   names: Names, threshold: int | None
                   ) -> list[tuple[str, dict[int, int], dict[int, int]]]:
    every = [*now, *(a for a in before if a not in now)]
    named = every if threshold is None else [
        a for a in now if sum(now[a].values()) >= threshold]
    rows = [(a, now.get(a, {}), before.get(a, {})) for a in named]
    pooled = [a for a in every if a not in named]
    if pooled:
        label = names.w("other_activities").replace("{n}", str(threshold))
        rows.append((label, _sum_levels(now.get(a, {}) for a in pooled),
                     _sum_levels(before.get(a, {}) for a in pooled)))
    return rows


def _level_cells(table: Table, prefix: str, by_level: dict[int, int],
                 groups: dict[str, list[str]] | None, *, detail: bool = True) -> list[str | None]:
    """The level counts (``detail``), their total and mean; each added to its column's
    group (``groups``; None: this is the total row)."""
    keys: list[str | None] = []
    parts = []
    if detail:
        for lv in LEVELS:
            parts.append(table.add(f"{prefix}_{lv}", Cell(by_level.get(lv, 0))))
            if groups is not None:
                groups[str(lv)].append(parts[-1])
        keys += parts
    n = sum(by_level.values())
    total = table.add(f"{prefix}_t", Cell(n))
    if groups is not None:
        groups["t" if detail else "b"].append(total)
    if detail:
        table.groups.append((tuple(parts), total))
    mean = sum(lv * k for lv, k in by_level.items()) / n if n else None
    # The mean beside hidden counts would give them away: it hides with them.
    keys += [total, table.add(f"{prefix}_m", Cell(mean, "stat", n, (*parts, total)))]
    return keys


def _sum_levels(rows: Iterable[dict[int, int]]) -> dict[int, int]:
    summed: dict[int, int] = {}
    for by_level in rows:
        for lv, n in by_level.items():
            summed[lv] = summed.get(lv, 0) + n
    return summed


def _ratio(part: int, whole: Cell) -> float | None:
    return part / whole.value if isinstance(whole.value, int) and whole.value else None


def _violation_counts(key: str, rows: tuple[ViolationRow, ...], names: Names, label: str,
                      by: Callable[[ViolationRow], str]) -> Table:
    counted: dict[str, int] = {}
    for row in rows:
        counted[by(row)] = counted.get(by(row), 0) + 1
    return _counts(key, names, label, sorted(counted.items()))


def _violations_public(rows: tuple[ViolationRow, ...], names: Names) -> Table:
    """The disclosure clause 七 promises: clause, violation, tier and action, no names."""
    table = _table("violations", names, [names.w("clause"), names.w("violation"),
                                         names.w("tier"), names.w("action"),
                                         names.w("violations")])
    counted: dict[tuple[str, str, str, str], int] = {}
    for v in rows:
        action = names.w("applied" if v.sanction_applied else "not_applied")
        line = (v.clause, names.violation(v.category), v.tier, action)
        counted[line] = counted.get(line, 0) + 1
    parts = []
    for i, (line, n) in enumerate(sorted(counted.items())):
        parts.append(table.add(f"n{i}", Cell(n)))
        table.rows.append(Row(line[0], [
            table.add(f"v{i}", Cell(line[1], "text")), table.add(f"t{i}", Cell(line[2], "text")),
            table.add(f"a{i}", Cell(line[3], "text")), parts[-1]]))
    total = table.add("total", Cell(len(rows)))
    table.groups.append((tuple(parts), total))
    table.rows.append(Row(names.w("total"), [None, None, None, total], total=True))
    return table


def _compensation(rows: tuple[ViolationRow, ...], names: Names) -> Table:
    table = _table("compensation", names, ["", ""])
    owed = [v.compensation for v in rows if v.compensation > 0]
    paid = [v.paid for v in rows if v.paid > 0]
    table.rows.append(Row(names.w("owed"), [table.add("owed", Cell(sum(owed, Decimal(0)),
                                                                   "money", len(owed)))]))
    table.rows.append(Row(names.w("paid"), [table.add("paid", Cell(sum(paid, Decimal(0)),
                                                                   "money", len(paid)))]))
    return table


def _register(rows: tuple[ViolationRow, ...], names: Names) -> Table:
    table = _table("violation_register", names, [
        names.w("reference"), names.w("clause"), names.w("violation"), names.w("tier"),
        names.w("department"), names.w("staff"), names.w("owed"), names.w("paid"),
        names.w("action")])
    for i, v in enumerate(rows):
        values: list[str | Decimal] = [
            v.clause, names.violation(v.category), v.tier, names.department_of(v.department),
            names.staff(v.staff),
            v.compensation, v.paid, names.w("applied" if v.sanction_applied else "not_applied")]
        keys: list[str | None] = [table.add(f"{i}_{j}", Cell(value, "text"))
                                  for j, value in enumerate(values)]
        table.rows.append(Row(v.reference, keys))
    return table


def _comparison(now: Figures, before: Figures, names: Names) -> Table:
    table = _table("comparison", names, [names.w("figure"), names.w("this_year"),
                                         names.w("last_year")])
    picks: tuple[tuple[str, Callable[[Figures], int]], ...] = (
        ("cases", lambda f: f.total), ("reopened", lambda f: f.reopened),
        ("violations", lambda f: len(f.violations)))
    for key, pick in picks:
        table.rows.append(Row(names.w(key), [table.add(f"{key}_now", Cell(pick(now))),
                                             table.add(f"{key}_before", Cell(pick(before)))]))
    for key in ("acknowledgement", "resolution"):
        cells: list[str | None] = []
        for when, f in (("now", now), ("before", before)):
            result: OnTime = getattr(f, key)
            on_time = table.add(f"{key}_{when}_on", Cell(result.on_time))
            late = table.add(f"{key}_{when}_late", Cell(result.late))
            cells.append(table.add(f"{key}_{when}", Cell(
                result.on_time / result.decided if result.decided else None, "rate",
                result.decided, (on_time, late))))
        table.rows.append(Row(f"{names.pick(TITLES[key])}（{names.w('rate_on_time')}）"
                              if names.lang == "zh" else
                              f"{names.pick(TITLES[key])} ({names.w('rate_on_time')})", cells))
    _compare_feedback(table, now, before, names)
    return table


def _compare_feedback(table: Table, now: Figures, before: Figures, names: Names) -> None:
    """The share solved (as in each year's own table) and the activity forms, their count
    and mean (organisation-wide: left out when a department or category is chosen)."""
    solved: list[str | None] = []
    for when, f in (("now", now), ("before", before)):
        answers = f.solved_answers()
        yes = table.add(f"solved_{when}_yes", Cell(answers["yes"]))
        n = sum(answers[a] for a in SOLVED_ANSWERS)
        answered = table.add(f"solved_{when}_n", Cell(n))
        solved.append(table.add(f"solved_{when}", Cell(answers["yes"] / n if n else None,
                                                       "rate", n, (yes, answered))))
    table.rows.append(Row(names.w("solved_compared"), solved))
    if now.scope.department is not None or now.scope.category is not None:
        return
    counts: list[str | None] = []
    means: list[str | None] = []
    for when, f in (("now", now), ("before", before)):
        levels = f.activity_levels()
        n = sum(levels.values())
        parts = tuple(table.add(f"forms_{when}_{lv}", Cell(k)) for lv, k in levels.items())
        count = table.add(f"forms_{when}", Cell(n))
        table.groups.append((parts, count))
        counts.append(count)
        means.append(table.add(f"forms_{when}_m", Cell(
            sum(lv * k for lv, k in levels.items()) / n if n else None, "stat", n,
            (*parts, count))))
    table.rows += [Row(names.w("activity_forms"), counts), Row(names.w("activity_mean"), means)]


def _int(cell: Cell) -> int:
    return cell.value if isinstance(cell.value, int) else 0
