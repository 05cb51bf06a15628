"""``complaintd handle …``: the CLI twins of the handlers' mail commands (#受理 …), one for
every action the table in ``routing.commands`` declares for this group."""

from __future__ import annotations

import click

from complaintd.cli.actions import ActionGroup


@click.group(cls=ActionGroup)
def handle() -> None:
    """承办人指令（与邮件指令相同）/ handler commands (the twins of the mail commands)."""
