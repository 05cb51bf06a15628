"""The public side of the web app: the complaint form, the published commitments and the
partner API (``web.public.routes``), apart from the staff console: its own templates
(``web/templates/public``), words and stylesheet, no staff session, its own form token."""
