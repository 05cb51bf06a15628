"""notice kinds: the mails staff and authorities answer carry the notification's own name

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# routing's old word → the notification that carried it (routing.ports.NoticeKind)
RENAMED = {
    "referral_letter": "authority_referral",
    "referral_follow_up": "authority_follow_up",
    "material_complete": "assignment",
    "authority_replied": "assignment",
    "reminder": "handler_reminder",
    "escalation": "supervisor_escalation",
    "extension_approval": "supervisor_escalation",
    "digest": "supervisor_digest",
    "command_refused": "command_refusal",
}

_thread = sa.table("staff_thread", sa.column("kind", sa.String))


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(_thread.update().where(_thread.c.kind == old).values(kind=new))


def downgrade() -> None:
    # Several old words became one name; the authority letters are the ones read back.
    for old in ("referral_letter", "referral_follow_up"):
        op.execute(_thread.update().where(_thread.c.kind == RENAMED[old]).values(kind=old))
