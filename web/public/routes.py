"""The public side's routes, served with the console by ``complaintd web``: the complaint
form and the commitments under ``/public/``, the partner API under ``/api/v1/``. None of
them reads the staff session."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.public import openapi
from web.public.api import PartnerApi
from web.public.commitments import CommitmentsPage
from web.public.form import ComplaintForm
from web.public.site import PublicSite, environment


def public_routes(site: PublicSite) -> list[BaseRoute]:
    env = environment()
    form = ComplaintForm(site, env)
    api = PartnerApi(site)
    return [
        Route("/public/complain", form.show, methods=["GET"]),
        Route("/public/complain", form.send, methods=["POST"]),
        Route("/public/commitments", CommitmentsPage(site, env).show, methods=["GET"]),
        Route("/api/v1/complaints", api.complaints, methods=["POST"]),
        Route("/api/v1/openapi.json", openapi.endpoint(site.config.organisation_en or
                                                       site.config.organisation),
              methods=["GET"]),
    ]
