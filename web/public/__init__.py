"""The public pages (issue 15): no staff session is ever read on them, their templates
extend ``templates/public/``'s own base, and every attempt on them is rate-limited.

``visitor`` is the request plumbing; ``progress`` (reference + code → where a complaint
stands), ``survey`` (the outcome mail's satisfaction form) and ``feedback`` (意见函) are
the pages."""
