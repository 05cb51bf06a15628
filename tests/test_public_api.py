"""The partner API over HTTP on SQLite and PostgreSQL: keys made, listed and revoked by
``complaintd partners``; a wrong, missing or revoked key refused; an Idempotency-Key
honoured (a retry answers the first reference, another body under it is refused); every
error an RFC 9457 problem; the OpenAPI description served."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from starlette.testclient import TestClient

from casework.models import Attachment, Case, IngestedItem, Message
from complaintd.cli import main
from tests.fixtures.web import SECRET, Site

COMPLAINT = {"text": "我院患者反映：12月1日药品援助项目申请被拖延，工作人员态度粗暴。",
             "category": "assistance_project", "name": "钱七", "phone": "13900000000",
             "email": "qian@example.cn", "consent_health_data": True}


@pytest.fixture
def site(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url, web_extra="[public]\napi_calls_per_key_per_hour = 8")
    try:
        yield made
    finally:
        made.app.close()


def partners(site: Site, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(site.config), "--lang", "en",
                                       "partners", *args], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def new_key(site: Site, partner: str = "ruijin-social-work") -> str:
    found = re.search(r"^(cpk_\S+)$", partners(site, "add", partner, "--label", "王老师"), re.M)
    assert found is not None
    return found.group(1)


def post(client: TestClient, key: str | None, body: Any, *, idempotency: str | None = "k-1",
         content_type: str = "application/json") -> Any:
    headers = {"content-type": content_type}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    if idempotency is not None:
        headers["idempotency-key"] = idempotency
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/api/v1/complaints", content=content, headers=headers)


def problem(answer: Any, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"tag:complaintd,2026:problem:{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def cases(site: Site) -> int:
    with site.app.session_factory() as db:
        return db.scalar(select(func.count()).select_from(Case)) or 0


def test_a_partner_files_a_complaint_with_a_file_and_a_retry_answers_the_same(
        site: Site) -> None:
    key = new_key(site)
    client = site.client()
    body = {**COMPLAINT, "attachments": [{"filename": "申请表.pdf", "content_type":
                                          "application/pdf", "content_base64":
                                          base64.b64encode(b"%PDF-1.4 form").decode()}]}
    first = post(client, key, body, idempotency="visit-2025-12-02-001")
    assert first.status_code == 201, first.text
    reference = first.json()["reference"]
    again = post(client, key, body, idempotency="visit-2025-12-02-001")
    assert again.status_code == 200 and again.json()["reference"] == reference
    assert again.headers["idempotent-replayed"] == "true"
    assert cases(site) == 1
    with site.app.session_factory() as db:
        case = db.scalars(select(Case)).one()
        assert case.reference == reference and case.channel == "web"
        assert case.category == "assistance_project"
        assert case.complainant is not None and case.complainant.consent_health_data
        assert "ruijin-social-work" in (case.complainant.consent_recorded_by or "")
        origins = [e.details.get("origin") for e in case.events]
        assert "web api:ruijin-social-work" in origins  # who filed it, on the timeline
        (file,) = db.scalars(select(Attachment).join(Message)).all()
        assert site.app.raw_store.get(file.sha256) == b"%PDF-1.4 form"
        (item,) = db.scalars(select(IngestedItem)).all()
        assert item.folder == "api:ruijin-social-work" and item.uid == "visit-2025-12-02-001"


def test_the_same_idempotency_key_with_another_body_is_refused(site: Site) -> None:
    key = new_key(site)
    client = site.client()
    assert post(client, key, COMPLAINT).status_code == 201
    problem(post(client, key, {**COMPLAINT, "text": "另一件事。"}), 422,
            "idempotency-key-reused")
    other = new_key(site, "huashan-social-work")  # another partner's own key space
    assert post(client, other, COMPLAINT).status_code == 201
    assert cases(site) == 2


def test_a_missing_wrong_or_revoked_key_is_refused(site: Site) -> None:
    key = new_key(site)
    client = site.client()
    for sent in (None, "cpk_" + "x" * 43, key[:-1], "not-a-key"):
        answer = post(client, sent, COMPLAINT)
        problem(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"].startswith("Bearer")
    listing = partners(site, "list")
    assert "ruijin-social-work" in listing and "live" in listing and key not in listing
    key_id = re.search(r"^(\d+)\s+ruijin", listing, re.M)
    assert key_id is not None
    partners(site, "revoke", key_id.group(1))
    assert "revoked" in partners(site, "list")
    problem(post(client, key, COMPLAINT), 401, "unauthorized")
    assert cases(site) == 0
    with site.app.session_factory() as db:
        stored = db.scalars(select(IngestedItem)).all()
        assert stored == []


@pytest.mark.parametrize("change, status, slug, pointer", [
    ({"text": ""}, 422, "invalid-complaint", "/text"),
    ({"category": "nonsense"}, 422, "invalid-complaint", "/category"),
    ({"email": "", "phone": ""}, 422, "invalid-complaint", "/email"),
    ({"anonymous": "yes"}, 422, "invalid-complaint", "/anonymous"),
    ({"surprise": 1}, 422, "invalid-complaint", "/surprise"),
    ({"attachments": [{"filename": "a", "content_base64": "***"}]}, 422, "invalid-complaint",
     "/attachments/0/content_base64"),
])
def test_invalid_fields_are_problems_that_point_at_the_field(
        site: Site, change: dict[str, Any], status: int, slug: str, pointer: str) -> None:
    key = new_key(site)
    body = problem(post(site.client(), key, {**COMPLAINT, **change}), status, slug)
    assert pointer in [e["pointer"] for e in body["errors"]]
    assert cases(site) == 0


def test_protocol_errors_are_problems(site: Site) -> None:
    key = new_key(site)
    client = site.client()
    problem(post(client, key, COMPLAINT, idempotency=None), 400, "idempotency-key-required")
    problem(post(client, key, b"{not json"), 400, "malformed-json")
    problem(post(client, key, b"[]"), 422, "invalid-complaint")
    problem(post(client, key, COMPLAINT, content_type="text/plain"), 415,
            "unsupported-media-type")
    answer = client.post("/api/v1/complaints", content=b"{}", headers={
        "authorization": f"Bearer {key}", "content-type": "application/json",
        "idempotency-key": "big", "content-length": str(10 ** 10)})
    problem(answer, 413, "too-large")
    for _ in range(3):  # 8 calls an hour: 5 above, and 3 more
        post(client, key, COMPLAINT, idempotency=None)
    answer = post(client, key, COMPLAINT)
    problem(answer, 429, "rate-limited")
    assert answer.headers["retry-after"] == "3600"
    assert cases(site) == 0


def test_the_openapi_description_names_the_operation_its_schema_and_problems(
        site: Site) -> None:
    answer = site.client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"].startswith("3.1")
    post_op = doc["paths"]["/api/v1/complaints"]["post"]
    assert {"201", "200", "401", "422", "429"} <= set(post_op["responses"])
    assert post_op["parameters"][0]["name"] == "Idempotency-Key"
    complaint = doc["components"]["schemas"]["Complaint"]
    assert {"text", "category", "consent_health_data", "attachments"} <= set(
        complaint["properties"])
    assert complaint["required"] == ["text"]
    assert doc["components"]["securitySchemes"]["partnerKey"]["scheme"] == "bearer"
    assert "FileIn" in doc["components"]["schemas"]
