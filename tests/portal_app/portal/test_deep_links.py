"""A session's ``flow_data``: the step its link opens and what follows the flow."""

from __future__ import annotations

from portal_app.portal import deep_links
from tests.portal_app.portal.helpers import Shop, UowFactory, session_for
from tests.portal_app.portal.helpers import shop as shop  # noqa: F401  (fixture)


def test_flow_paths_and_completion(shop: Shop, make_uow: UowFactory) -> None:
    plain = session_for(shop, make_uow)
    assert deep_links.flow_path(plain) == "/portal"
    assert deep_links.completion(plain, ["subscription_cancel"], shop.sub.id).type == \
        "portal_homepage"

    cancel = session_for(shop, make_uow, flow_data={
        "type": "subscription_cancel", "subscription_cancel": {"subscription": shop.sub.id},
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "https://acme.test/bye"}}})
    assert deep_links.flow_path(cancel) == f"/portal/subscriptions/{shop.sub.id}/cancel"
    assert deep_links.completion(cancel, ["subscription_cancel"], shop.sub.id) == \
        deep_links.Completion("redirect", url="https://acme.test/bye")
    assert deep_links.completion(cancel, ["subscription_pause"], shop.sub.id).type == \
        "portal_homepage"

    hosted = session_for(shop, make_uow, flow_data={
        "type": "subscription_pause", "subscription_pause": {"subscription": shop.sub.id},
        "after_completion": {"type": "hosted_confirmation",
                             "hosted_confirmation": {"custom_message": "See you soon"}}})
    assert deep_links.flow_path(hosted) == f"/portal/subscriptions/{shop.sub.id}/pause"
    assert deep_links.completion(hosted, ["subscription_pause"], shop.sub.id) == \
        deep_links.Completion("hosted_confirmation", message="See you soon")
