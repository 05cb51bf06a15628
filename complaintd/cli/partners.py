"""``complaintd partners …``: API keys of partner organisations (the partner API,
``POST /api/v1/complaints``). A key is shown once, when it is made; only its SHA-256 is kept.
"""

from __future__ import annotations

from datetime import datetime

import click
from rich.markup import escape

from casework.clock import SHANGHAI
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import MESSAGES
from web.public import keys

MESSAGES.update({
    "partner_key_added": (
        "已为合作机构 {partner} 生成密钥（编号 {id}）。密钥只显示这一次，请通过安全渠道交给对方：",
        "Key {id} made for partner {partner}. It is shown this once only; hand it over "
        "through a safe channel:"),
    "partner_name_bad": ("合作机构名称只能用小写字母、数字和 -（最多 64 个字符）：{name}",
                         "A partner name is lower-case letters, digits and - (at most 64): "
                         "{name}"),
    "partner_key_unknown": ("没有编号为 {id} 的密钥。", "No key {id}."),
    "partner_key_revoked": ("密钥 {id}（{partner}）已停用。", "Key {id} ({partner}) revoked."),
    "partner_keys_none": ("还没有合作机构密钥。", "No partner keys yet."),
    "partner_key_row": ("{id}  {partner}  {prefix}…  {label}  创建 {created}  "
                        "最近使用 {used}  {state}",
                        "{id}  {partner}  {prefix}…  {label}  made {created}  last used {used}  "
                        "{state}"),
    "partner_key_live": ("有效", "live"),
    "partner_key_dead": ("已停用", "revoked"),
})


@click.group()
def partners() -> None:
    """合作机构 API 密钥 / partner organisations' API keys."""


@partners.command("add")
@click.argument("partner")
@click.option("--label", default="", help="说明，如联系人 / a note, e.g. the contact person")
@click.pass_obj
def add(obj: Context, partner: str, label: str) -> None:
    """生成新密钥（只显示一次）/ make a new key (shown once)."""
    app, t = obj.app()
    with app.session_factory.begin() as session:
        try:
            row, key = keys.add_key(session, partner, label, app.clock.now())
        except keys.PartnerKeyError:
            fail(t("partner_name_bad", name=partner))
            return
        key_id = row.id
    console.print(escape(t("partner_key_added", partner=partner, id=key_id)))
    click.echo(key)


@partners.command("list")
@click.pass_obj
def list_keys(obj: Context) -> None:
    """列出密钥（不显示密钥本身）/ list the keys (never the keys themselves)."""
    app, t = obj.app()
    with app.session_factory() as session:
        rows = keys.listing(session)
        if not rows:
            console.print(t("partner_keys_none"))
        for row in rows:
            console.print(escape(t(
                "partner_key_row", id=row.id, partner=row.partner, prefix=row.prefix,
                label=row.label or "—", created=_when(row.created_at),
                used=_when(row.last_used_at),
                state=t("partner_key_dead" if row.revoked_at else "partner_key_live"))))


@partners.command("revoke")
@click.argument("key_id", type=int)
@click.pass_obj
def revoke(obj: Context, key_id: int) -> None:
    """停用密钥 / revoke a key."""
    app, t = obj.app()
    with app.session_factory.begin() as session:
        try:
            row = keys.revoke(session, key_id, app.clock.now())
        except keys.PartnerKeyError:
            fail(t("partner_key_unknown", id=key_id))
            return
        partner = row.partner
    console.print(escape(t("partner_key_revoked", id=key_id, partner=partner)))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "—"
