"""Every table of complaintd in one ``MetaData`` (for Alembic and for tests)."""

from casework import models as _casework_models
from casework import tasks as _casework_tasks  # noqa: F401  (call_task)
from intake import tables as _intake_tables  # noqa: F401  (mailbox_state, intake_attempt)
from notifications import models as _notification_models
from privacy import models as _privacy_models  # noqa: F401  (privacy_action)
from web import models as _web_models  # noqa: F401  (staff accounts, sessions, saved views)
from web.public import models as _public_models  # noqa: F401  (partner keys, public hits)

metadata = _casework_models.Base.metadata

__all__ = ["_casework_models", "_notification_models", "metadata"]
