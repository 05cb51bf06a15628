"""Every table of complaintd in one ``MetaData`` (for Alembic and for tests)."""

from casework import models as _casework_models
from notifications import models as _notification_models

metadata = _casework_models.Base.metadata

__all__ = ["_casework_models", "_notification_models", "metadata"]
