"""Operating complaintd: health, metrics, backup and restore, moving databases, units."""
