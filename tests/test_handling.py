"""The handling package's own promises: one vocabulary of notice kinds."""

from __future__ import annotations

from handling.notices import RoutingMailer
from notifications.notices import OrganisationInfo
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer
from routing.ports import NoticeKind


def _mailer() -> RoutingMailer:
    identity = MailIdentity(from_address="complaints@example.org", from_name="投诉受理",
                            reply_to="complaints@example.org", message_id_domain="example.org")
    org = OrganisationInfo(name="上海生命绿洲公益服务中心", name_en="Life Oasis",
                           hotline_phone="021-5555-0100", resolve_working_days=15)
    return RoutingMailer(identity, TemplateRenderer(), org)


def test_every_notice_routing_asks_for_is_the_notification_of_that_name() -> None:
    senders = _mailer()._senders()
    assert set(senders) == set(NoticeKind)
    templates = set(TemplateRenderer().notices())
    assert {str(kind) for kind in NoticeKind} <= templates
    for kind, sender in senders.items():
        # The function that carries a kind is named after it: no second vocabulary.
        assert sender.__name__ == f"_{kind}", (kind, sender.__name__)
