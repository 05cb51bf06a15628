"""The partner API (``POST /api/v1/complaints``): a partner organisation (a hospital's
social-work department filing on a patient's behalf) files a complaint as JSON.

A key per partner (``Authorization: Bearer cpk_…``; ``complaintd partners``); an
``Idempotency-Key`` header is required and is the submission's place in the ledger, so a
retry returns the first answer's reference (200, ``Idempotent-Replayed: true``) and the
same key with another body is refused (422). Every error is an RFC 9457 problem details
document. The complaint goes through the same web door and pipeline as the form.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from casework.inbound import guess_language
from casework.submissions import Filed, Submission, SubmittedFile
from web.public import keys, limits
from web.public.form import EMAIL, PHONE, TEXT_MAX
from web.public.site import PublicSite

PROBLEM = "tag:complaintd,2026:problem:"
IDEMPOTENCY_MAX = 255


class FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    content_base64: str


class ComplaintIn(BaseModel):
    """A complaint filed by a partner on a complainant's behalf."""

    model_config = ConfigDict(extra="forbid", strict=True)
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    category: str = Field(default="", max_length=64,
                          description="a category key of the published commitments, or empty")
    name: str = Field(default="", max_length=100)
    anonymous: bool = False
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=32)
    consent_health_data: bool = Field(
        default=False, description="the complainant's separate consent (PIPL art. 29) to "
                                   "share health information with a competent authority")
    language: Literal["zh", "en", ""] = ""
    attachments: list[FileIn] = Field(default=[], max_length=100)


class Filing(BaseModel):
    reference: str | None
    status: Literal["received", "held"]
    verification_code: str | None = None


class Problem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extra = extra

    def response(self, instance: str) -> Response:
        body = {"type": PROBLEM + self.slug, "title": self.title, "status": self.status,
                "detail": self.detail, "instance": instance, **self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers,
                            media_type="application/problem+json")


class PartnerApi:
    def __init__(self, site: PublicSite) -> None:
        self.site = site

    @property
    def max_body(self) -> int:
        return self.site.config.max_total_bytes * 4 // 3 + 256 * 1024

    async def complaints(self, request: Request) -> Response:
        try:
            return await self._complaints(request)
        except Problem as problem:
            return problem.response(request.url.path)

    async def _complaints(self, request: Request) -> Response:
        partner = await run_in_threadpool(self._partner, _bearer(request))
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Problem(415, "unsupported-media-type", "Unsupported Media Type",
                          "send the complaint as application/json")
        length = request.headers.get("content-length", "")
        if not length.isdigit():
            raise Problem(411, "length-required", "Length Required",
                          "a Content-Length header is required")
        if int(length) > self.max_body:
            raise Problem(413, "too-large", "Content Too Large",
                          f"the request is limited to {self.max_body} bytes")
        place = _idempotency_key(request)
        complaint = _complaint(await request.body(), self._categories())
        submission = self._submission(complaint)
        filed = await run_in_threadpool(self.site.file_complaint, submission,
                                        via=f"api:{partner}", place=place)
        return _answer(filed)

    def _partner(self, key: str) -> str:
        now = self.site.clock.now()
        with self.site.session_factory.begin() as db:
            row = keys.partner_of(db, key, now) if key else None
            if row is None:
                raise Problem(401, "unauthorized", "Unauthorized",
                              "a valid partner API key is required (Authorization: Bearer)",
                              {"WWW-Authenticate": 'Bearer realm="complaintd"'})
            whom = f"partner-key:{row.id}"
            if limits.over(db, "api", whom, now, self.site.config.api_calls_per_key_per_hour):
                raise Problem(429, "rate-limited", "Too Many Requests",
                              "this key's hourly limit is used up", {"Retry-After": "3600"})
            limits.hit(db, "api", whom, now)
            return row.partner

    def _categories(self) -> set[str]:
        desk = self.site.desk()
        return set(desk.config.categories) if desk is not None else set()

    def _submission(self, complaint: ComplaintIn) -> Submission:
        desk = self.site.desk()
        category = desk.config.categories.get(complaint.category) if desk else None
        files = _files(complaint.attachments, self.site)
        return Submission(
            text=complaint.text.strip(), category=complaint.category,
            subject=f"合作机构转来：{category.label_zh}" if category else "合作机构转来的投诉",
            name="" if complaint.anonymous else complaint.name.strip(),
            anonymous=complaint.anonymous, email=complaint.email.strip(),
            phone=complaint.phone.strip(), consent_health_data=complaint.consent_health_data,
            language=complaint.language or guess_language(complaint.text), files=files)


def _bearer(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "").strip().strip('"')
    if not key or len(key) > IDEMPOTENCY_MAX or not key.isascii() or not key.isprintable():
        raise Problem(400, "idempotency-key-required", "Bad Request",
                      f"an Idempotency-Key header (1 to {IDEMPOTENCY_MAX} printable ASCII "
                      "characters) is required; send the same key when you retry")
    return key


def _complaint(body: bytes, categories: set[str]) -> ComplaintIn:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "malformed-json", "Bad Request",
                      "the body is not valid JSON") from None
    try:
        complaint = ComplaintIn.model_validate(data)
    except ValidationError as exc:
        raise Problem(422, "invalid-complaint", "Unprocessable Content",
                      "the complaint has invalid fields", errors=[
                          {"pointer": "/" + "/".join(str(p) for p in e["loc"]),
                           "detail": e["msg"]} for e in exc.errors()]) from None
    wrong = _wrong_fields(complaint, categories)
    if wrong:
        raise Problem(422, "invalid-complaint", "Unprocessable Content",
                      "the complaint has invalid fields", errors=wrong)
    return complaint


def _wrong_fields(complaint: ComplaintIn, categories: set[str]) -> list[dict[str, str]]:
    wrong = []
    if not complaint.text.strip():
        wrong.append({"pointer": "/text", "detail": "the complaint's text is empty"})
    if complaint.category and complaint.category not in categories:
        wrong.append({"pointer": "/category", "detail": "not a published category"})
    if not complaint.anonymous and not (complaint.email or complaint.phone):
        wrong.append({"pointer": "/email", "detail": "an email or a phone is needed "
                                                    "unless the complaint is anonymous"})
    if complaint.email and not EMAIL.match(complaint.email.strip()):
        wrong.append({"pointer": "/email", "detail": "not an email address"})
    if complaint.phone and not PHONE.match(complaint.phone.strip()):
        wrong.append({"pointer": "/phone", "detail": "not a phone number"})
    return wrong


def _files(attachments: list[FileIn], site: PublicSite) -> tuple[SubmittedFile, ...]:
    config = site.config
    if len(attachments) > config.max_files:
        raise Problem(422, "too-many-attachments", "Unprocessable Content",
                      f"at most {config.max_files} attachments")
    files = []
    for index, item in enumerate(attachments):
        try:
            data = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise Problem(422, "invalid-complaint", "Unprocessable Content",
                          "an attachment is not valid base64", errors=[
                              {"pointer": f"/attachments/{index}/content_base64",
                               "detail": "not base64"}]) from None
        if len(data) > config.max_file_bytes:
            raise Problem(413, "attachment-too-large", "Content Too Large",
                          f"attachment {index} is larger than {config.max_file_bytes} bytes")
        name = item.filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "file"
        files.append(SubmittedFile(name, item.content_type, data))
    if sum(len(f.data) for f in files) > config.max_total_bytes:
        raise Problem(413, "attachments-too-large", "Content Too Large",
                      f"the attachments are larger than {config.max_total_bytes} bytes in all")
    return tuple(files)


def _answer(filed: Filed) -> Response:
    if filed.kind == "changed":
        raise Problem(422, "idempotency-key-reused", "Unprocessable Content",
                      "this Idempotency-Key was used for another complaint")
    if filed.kind == "held":
        body = Filing(reference=None, status="held")
        return JSONResponse(body.model_dump(), status_code=202)
    # The code only on the answer that opened the case: a replay cannot read it back.
    body = Filing(reference=filed.reference, status="received", verification_code=filed.code)
    if filed.kind == "again":
        return JSONResponse(body.model_dump(), status_code=200,
                            headers={"Idempotent-Replayed": "true"})
    return JSONResponse(body.model_dump(), status_code=201)
