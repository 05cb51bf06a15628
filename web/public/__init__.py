"""The public side of the web app, apart from the staff console: no staff session is ever
read on it, and every attempt on it is rate-limited.

- the complaint form, the published commitments and the partner API (``web.public.routes``,
  built on ``site``; templates extend ``templates/public/base.html``, stylesheet
  ``public.css``, its own form token);
- the pages a complainant visits with a reference or a link (``web.public.visits``, built on
  ``visitor``): ``progress`` (reference + code → where a complaint stands), ``survey`` (the
  outcome mail's satisfaction form) and ``feedback`` (意见函); templates extend
  ``templates/public/visitor_base.html``, stylesheet ``visitor.css``.
"""
