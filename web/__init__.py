"""The staff console: a server-rendered web application over ``casework.queries`` (what it
shows) and ``routing.commands.ACTIONS`` (what it does). ``web.app.build_console`` makes the
ASGI application from a ``web.context.Console``, which ``complaintd.app`` composes."""
